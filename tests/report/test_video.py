"""`lightlane video` (SPEC §16, §21 property 25): a readable mp4 of the right shape, flat memory,
clear one-line errors that leave nothing behind."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from lightlane import Workspace, _core
from lightlane.cli import main as cli_main
from lightlane.datasets.onboard import onboard_file
from lightlane.demo import build_demo
from lightlane.report.video import FrameRenderer, VideoOptions, plan_video


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.at(tmp_path_factory.mktemp("video") / "ws")
    ws.init()
    with ws.lock():
        build_demo(ws)
    return ws


@pytest.fixture
def with_raw(demo_ws: Workspace, make_events) -> Workspace:
    """demo_ws plus a raw (non-synthetic) dataset ``raw1`` over 0–1000 s."""
    if not (demo_ws.root / "meta" / "datasets" / "raw1.json").exists():
        onboard_file(demo_ws, make_events(), "raw1")
    return demo_ws


def _videos(ws: Workspace) -> list[str]:
    folder = ws.root / "results" / "videos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _decode(path: Path) -> tuple[dict, list[np.ndarray]]:
    """Header and RGB frames of a video, decoded by the bundled ffmpeg."""
    with warnings.catch_warnings():
        # imageio-ffmpeg leaves its pipe objects to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        reader = imageio_ffmpeg.read_frames(str(path))
        header = next(reader)
        frames = [np.frombuffer(frame, np.uint8) for frame in reader]
        reader.close()
        del reader
        gc.collect()
    return header, frames


def test_ten_frames_are_readable_with_the_right_count_and_size(demo_ws: Workspace, capsys) -> None:
    code = cli_main(["--workspace", str(demo_ws.root), "--quiet", "video", "demo_lane", "--processing", "quick",
                     "--fps", "5", "--duration", "2", "--span", "10", "60", "--size", "320x240", "--seed", "7"])
    assert code == 0, capsys.readouterr().err
    path = demo_ws.root / "results" / "videos" / "demo_lane_quick_10-60.mp4"
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 10 and seconds == pytest.approx(2.0, abs=0.01)
    header, decoded = _decode(path)
    assert header["size"] == (320, 240) and header["codec"] == "h264" and "yuv420p" in header["pix_fmt"]
    assert len(decoded) == 10 and all(f.size == 320 * 240 * 3 for f in decoded)
    assert not np.array_equal(decoded[0], decoded[-1])  # the picture moves
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["seed"] == 7 and sidecar["frames"] == 10 and sidecar["options"]["span_s"] == [10.0, 60.0]
    assert sidecar["options"]["size_px"] == [320, 240] and sidecar["generation"] == "demo_lane"
    assert not [p for p in path.parent.iterdir() if ".tmp-" in p.name]


def test_flash_points_are_lattice_points_inside_the_circle_and_reproducible(demo_ws: Workspace) -> None:
    plan = plan_video(demo_ws, "demo_lane", "quick", options=VideoOptions(seed=11, span_s=(0.0, 50.0)))
    again = plan_video(demo_ws, "demo_lane", "quick", options=VideoOptions(seed=11, span_s=(0.0, 50.0)))
    np.testing.assert_array_equal(plan.flash_x, again.flash_x)
    tau = plan.event_time_s - plan.tstart_s
    px, py = _core.path_positions(plan.path, plan.receiving_radius, tau)
    found = np.isfinite(plan.flash_x)
    assert found.any() and (~found).any()
    dx, dy = plan.flash_x[found] - px[found], plan.flash_y[found] - py[found]
    assert np.all(dx * dx + dy * dy < plan.receiving_radius**2)
    # on the lattice g·(i + j/2, j·√3/2): j and i integral
    j = plan.flash_y[found] / (plan.spacing * np.sqrt(3) / 2)
    i = plan.flash_x[found] / plan.spacing - j / 2
    assert np.allclose(j, np.round(j), atol=1e-9) and np.allclose(i, np.round(i), atol=1e-9)
    # a photon flashes only where the path holds a lattice point: N(t) > 0 at its time
    n = plan.trace_count[np.searchsorted(plan.trace_time_s, plan.event_time_s, side="right") - 1]
    np.testing.assert_array_equal(found, n > 0)


def test_frames_draw_the_camera_view(demo_ws: Workspace) -> None:
    plan = plan_video(demo_ws, "demo_lane", "quick", options=VideoOptions(seed=1, size_px=(640, 360), style="discs"))
    renderer = FrameRenderer(plan)
    first = renderer.frame(plan.span_s[0] + 5.0).copy()
    second = renderer.frame(plan.span_s[0] + 6.0)
    assert first.shape == (360, 640, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(("arguments", "code", "needle"), [
    (["demo_real", "--processing", "quick"], 3, "no lattice"),
    (["raw1", "--processing", "quick"], 5, "--generation"),
    (["nope", "--processing", "quick"], 3, "nope"),
    (["demo_lane", "--processing", "quick", "--size", "1281x720"], 3, "--size"),
    (["demo_lane", "--processing", "quick", "--size", "big"], 3, "--size"),
    (["demo_lane", "--processing", "quick", "--size", "1000x1000"], 3, "--size"),
    (["demo_lane", "--processing", "quick", "--seed", "-1"], 3, "--seed"),
    (["demo_lane", "--processing", "quick", "--span", "0", "1e9"], 3, "--span"),
    (["demo_lane", "--processing", "quick", "--span", "50", "10"], 3, "--span"),
    (["demo_lane", "--processing", "quick", "--fps", "0"], 3, "--fps"),
    (["demo_lane", "--processing", "quick", "--duration", "-1"], 3, "--duration"),
    (["demo_lane", "--processing", "quick", "--view", "0"], 3, "--view"),
    (["demo_lane", "--processing", "quick", "--flash", "-0.1"], 3, "--flash"),
])
def test_bad_input_is_one_clear_line_and_writes_nothing(with_raw: Workspace, capsys, arguments, code, needle) -> None:
    demo_ws = with_raw
    before = _videos(demo_ws)
    assert cli_main(["--workspace", str(demo_ws.root), "--quiet", "video", *arguments, "--fps", "1", "--duration", "1"]
                    if "--fps" not in arguments and "--duration" not in arguments
                    else ["--workspace", str(demo_ws.root), "--quiet", "video", *arguments]) == code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err and err.startswith("lightlane video: error:")
    assert _videos(demo_ws) == before


def test_a_raw_dataset_renders_with_an_explicit_generation(with_raw: Workspace) -> None:
    demo_ws = with_raw
    plan = plan_video(demo_ws, "raw1", "quick", "demo_lane", VideoOptions(seed=2, span_s=(0.0, 100.0)))
    assert plan.generation == "demo_lane" and plan.event_time_s.size > 0


_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from lightlane import Workspace
    from lightlane.report.video import VideoOptions, plan_video, render_video
    ws = Workspace.at(sys.argv[1])
    frames = int(sys.argv[2])
    plan = plan_video(ws, "demo_lane", "quick", options=VideoOptions(fps=frames, duration_s=1.0, size_px=(320, 240), seed=1))
    # Reading the dataset peaks higher than rendering; reset VmHWM so it measures the frames only.
    Path("/proc/self/clear_refs").write_text("5")
    render_video(plan, sys.argv[3])
    status = Path("/proc/self/status").read_text().splitlines()
    print(next(line.split()[1] for line in status if line.startswith("VmHWM")))  # kB
""")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to reset VmHWM")
def test_memory_stays_flat_as_frames_grow(demo_ws: Workspace, tmp_path: Path) -> None:
    peaks = {}
    for frames in (24, 240):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(demo_ws.root), str(frames), str(tmp_path / f"{frames}.mp4")],
                             capture_output=True, text=True, check=True, timeout=120)
        peaks[frames] = int(out.stdout.split()[-1]) / 1024
        assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / f"{frames}.mp4"))[0] == frames
    # Keeping the 216 extra 320×240 RGB frames would cost 216 × 230 KB ≈ 50 MB (measured: +29 MB of
    # peak, part of it landing in pages freed after reading the data); streaming measures +0.3 MB.
    # 12 MB sits between the two with room for allocator noise.
    assert peaks[240] - peaks[24] < 12.0, peaks
