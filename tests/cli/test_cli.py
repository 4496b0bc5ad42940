"""The command line: dispatcher, exit codes, one-line errors (SPEC §18)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lightlane import Workspace
from lightlane.cli import main
from lightlane.metadata import DatasetMeta

from ..helpers import snapshot


def test_python_dash_m_help() -> None:
    result = subprocess.run([sys.executable, "-m", "lightlane", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "onboard" in result.stdout and "quickstart" in result.stdout


def test_console_script_is_installed() -> None:
    import shutil

    script = shutil.which("lightlane")
    assert script is not None
    result = subprocess.run([script, "init", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--force" in result.stdout


def test_unknown_command_is_usage_error(capsys) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_init_and_onboard(tmp_path, make_events, capsys) -> None:
    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "init"]) == 0
    assert main(["--workspace", str(ws), "--threads", "2", "onboard", str(make_events()), "--id", "obs1"]) == 0
    out = capsys.readouterr().out
    assert "onboarded obs1: 200 events" in out
    assert Workspace.at(ws).load(DatasetMeta, "obs1").event_count == 200


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["onboard", "{events}", "--id", "UPPER"], 3, "invalid dataset id 'UPPER'"),
        (["onboard", "/does/not/exist.fits", "--id", "x"], 4, "/does/not/exist.fits: file not found"),
        (["onboard", "{events}"], 2, "required: --id"),
        (["onboard", "{events}", "--id", "x", "--calibration", "rosat"], 3, "unknown calibration 'rosat'"),
        (["onboard", "{events}", "--id", "x", "--calibration-params", "{oops"], 3, "--calibration-params: invalid JSON"),
        (["onboard", "{bad}", "--id", "x"], 4, "non-finite time"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code(tmp_path, make_events, capsys, args, code, pattern) -> None:
    import numpy as np

    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "--quiet", "init"]) == 0
    events = make_events()
    bad = make_events(times=np.array([1.0, np.nan]), columns={"PI": ("J", np.array([3, 4], dtype=np.int32))})
    before = snapshot(ws)
    capsys.readouterr()
    argv = [a.replace("{events}", str(events)).replace("{bad}", str(bad)) for a in args]
    assert main(["--workspace", str(ws), *argv]) == code
    err = capsys.readouterr().err.strip()
    assert pattern in err
    if code != 2:
        assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert snapshot(ws) == before


def test_commands_need_an_initialised_workspace(tmp_path, make_events, capsys) -> None:
    assert main(["--workspace", str(tmp_path / "none"), "onboard", str(make_events()), "--id", "x"]) == 5
    assert "init" in capsys.readouterr().err


def test_threads_must_be_positive(capsys) -> None:
    assert main(["--threads", "0", "init"]) == 2


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("pip install")]
    assert commands == ["pip install . && lightlane quickstart",
                        'pip install ".[test]" && python -m pytest && cargo test --locked']
    assert f"'{commands[1]}'" in (root / ".ci" / "run").read_text()


def test_only_a_process_the_cli_owns_keeps_its_imports_out_of_the_garbage_collector() -> None:
    """``freeze_imports`` acts for the console script (``own_process``), never inside a caller's process."""
    code = ("import gc\n"
            "from lightlane.cli import common\n"
            "common.freeze_imports()\n"
            "print(gc.get_freeze_count())\n"
            "common.own_process()\n"
            "common.freeze_imports()\n"
            "print(gc.get_freeze_count())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, after = (int(line) for line in done.stdout.split())
    assert before == 0 and after > 1000
