"""Drawing workers (SPEC §14 rev 2): forked before the data exists, all-or-nothing PNGs, errors carried back."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lightlane.exceptions import LightlaneWarning
from lightlane.report.drawing import new_figure
from lightlane.report.staging import WORKER_NICENESS, DrawingWorkers, FigureSet

#: The workers call this module's draw_batch (imported by name in the forked process).
ENTRY = f"{__name__}:draw_batch"


def draw_batch(unit: Sequence[str], folder: Path, figures: FigureSet, state: dict[str, Any]) -> None:
    """Each job is a file name ("PID": the process, "N": this worker's unit count so far); "fail" raises
    after the unit's earlier PNGs were rendered; "sleep" waits a tenth of a second; "mark:PATH" creates the
    file PATH and "await:PATH" waits (up to 20 s) until it exists, so tests can order workers without timing."""
    fig, ax = new_figure(3.0, 2.0)
    ax.plot([0, 1], [0, 1])
    state["units"] = state.get("units", 0) + 1
    for name in unit:
        if name == "fail":
            raise ValueError(f"bad data in {os.getpid()}")
        if name == "sleep":
            time.sleep(0.1)
            continue
        if name.startswith("mark:"):
            Path(name.removeprefix("mark:")).touch()
            continue
        if name.startswith("await:"):
            deadline = time.monotonic() + 20.0
            while not Path(name.removeprefix("await:")).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            continue
        figures.add(fig, folder / name.replace("PID", str(os.getpid())).replace("N", str(state["units"])))


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_workers_draw_the_units_in_other_processes(tmp_path: Path) -> None:
    workers = DrawingWorkers(ENTRY, workers=2)
    assert workers.forked
    # The first unit waits for the second one: only another worker can draw it.
    second_drawn = tmp_path / "c-drawn"
    workers.submit([[f"await:{second_drawn}", "a-PID.png", "b-PID.png"], ["c-PID.png", f"mark:{second_drawn}"]],
                   tmp_path / "png", 72)
    with FigureSet(72) as figures:
        workers.join(figures)
    names = files(tmp_path / "png")
    assert len(names) == 3 and len(figures.paths) == 3
    pids = {name.split("-")[1].split(".")[0] for name in names}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two workers, neither of them this process
    assert len({(tmp_path / "png" / name).read_bytes() for name in names}) == 1  # the same figure, the same bytes


@pytest.mark.parametrize("failing", [0, 1])
def test_a_failing_worker_leaves_no_file_and_its_error_is_raised_here(tmp_path: Path, failing: int) -> None:
    before = tmp_path / "old.png"
    before.write_bytes(b"previous")
    units = [["a.png", "b.png"], ["c.png", "d.png"]]
    units[failing].append("fail")
    workers = DrawingWorkers(ENTRY, workers=2)
    workers.submit(units, tmp_path, 72)
    with pytest.raises(ValueError, match="bad data") as raised:
        with FigureSet(72) as figures:
            workers.join(figures)
    assert "raised in a drawing process" in "\n".join(getattr(raised.value, "__notes__", []))
    assert files(tmp_path) == ["old.png"] and before.read_bytes() == b"previous"  # no PNG, no temporary file


def test_cancel_before_and_after_submitting_leaves_nothing(tmp_path: Path) -> None:
    DrawingWorkers(ENTRY, workers=2).cancel()  # never sent anything: stopped at once
    workers = DrawingWorkers(ENTRY, workers=2)
    workers.submit([["a.png"], ["b.png"]], tmp_path, 72)
    workers.cancel()  # drawn, then deleted
    assert files(tmp_path) == []


def test_an_entry_that_cannot_be_imported_is_reported_at_join(tmp_path: Path) -> None:
    workers = DrawingWorkers("lightlane.no_such_module:draw", workers=2)
    workers.submit([["a.png"]], tmp_path, 72)
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        workers.join(FigureSet(72))
    assert files(tmp_path) == []


def test_without_fork_the_units_are_drawn_here_at_join(tmp_path: Path) -> None:
    workers = DrawingWorkers(ENTRY, workers=2, parallel=False)
    assert not workers.forked
    workers.submit([["a-PID.png"], ["b-PID.png"]], tmp_path, 72)
    assert files(tmp_path) == []
    with FigureSet(72) as figures:
        workers.join(figures)
    assert files(tmp_path) == [f"a-{os.getpid()}.png", f"b-{os.getpid()}.png"]


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        DrawingWorkers(ENTRY, workers=0)
    workers = DrawingWorkers(ENTRY, workers=1, parallel=False)
    with pytest.raises(ValueError, match="dpi"):
        workers.submit([["a.png"]], tmp_path, 0)


def draw_with_warning(unit: Sequence[str], folder: Path, figures: FigureSet, state: dict[str, Any]) -> None:
    warnings.warn(f"careful with {unit[0]}", LightlaneWarning, stacklevel=1)
    draw_batch(unit, folder, figures, state)


@pytest.mark.parametrize("parallel", [True, False])
def test_units_are_drawn_as_they_are_queued_and_joined_once(tmp_path: Path, parallel: bool) -> None:
    workers = DrawingWorkers(ENTRY, workers=2, parallel=parallel)
    workers.submit([["a-PID-N.png"], ["b-PID-N.png"]], tmp_path, 72)
    workers.submit([["c-PID-N.png"]], tmp_path, 72)
    workers.submit([[], ["d-PID-N.png"]], tmp_path, 72)  # an empty unit is nobody's
    with FigureSet(72) as figures:
        workers.join(figures)
    names = files(tmp_path)
    assert [name[0] for name in names] == ["a", "b", "c", "d"] and len(figures.paths) == 4
    # Each worker keeps its state from one unit to the next: its own units are numbered 1, 2, ...
    # (without fork, this process is the one worker).
    counts: dict[str, list[int]] = {}
    for name in names:
        pid, number = name.removesuffix(".png").split("-")[1:]
        counts.setdefault(pid, []).append(int(number))
    for numbers in counts.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    if not parallel:
        assert list(counts) == [str(os.getpid())] and counts[str(os.getpid())] == [1, 2, 3, 4]


def test_a_free_worker_takes_the_next_unit(tmp_path: Path) -> None:
    workers = DrawingWorkers(ENTRY, workers=2)
    # One worker is held in its unit until the last quick unit is drawn: the other must take every unit
    # queued after it (a worker that kept some of them would wait out the 20 s and draw them itself).
    last_drawn = tmp_path / "quick3-drawn"
    quick = [[f"quick{i}-PID.png"] for i in range(3)] + [["quick3-PID.png", f"mark:{last_drawn}"]]
    workers.submit([[f"await:{last_drawn}", "slow-PID.png"], *quick], tmp_path / "png", 72)
    with FigureSet(72) as figures:
        workers.join(figures)
    owner = {name.split("-")[0]: name.split("-")[1] for name in files(tmp_path / "png")}
    assert len(owner) == 5 and {owner[f"quick{i}"] for i in range(4)} == {owner["quick0"]} != {owner["slow"]}


def test_a_free_worker_takes_the_dearest_unit_queued(tmp_path: Path) -> None:
    workers = DrawingWorkers(ENTRY, workers=1)
    workers.submit([["sleep", "first-N.png"]], tmp_path, 72, costs=[9.0])  # the rest waits for the worker
    workers.submit([["cheap-N.png"], ["dear-N.png"], ["dearer-N.png"], ["also-cheap-N.png"]], tmp_path, 72,
                   costs=[1.0, 2.0, 3.0, 1.0])
    with pytest.raises(ValueError, match="2 costs for 1 units"):
        workers.submit([["x.png"]], tmp_path, 72, costs=[1.0, 2.0])
    with FigureSet(72) as figures:
        workers.join(figures)
    # N: the worker's count of units drawn so far.
    assert sorted(files(tmp_path)) == sorted(["first-1.png", "dearer-2.png", "dear-3.png", "cheap-4.png",
                                              "also-cheap-5.png"])


def test_a_failure_stops_the_queue_and_removes_every_png(tmp_path: Path) -> None:
    workers = DrawingWorkers(ENTRY, workers=2)
    workers.submit([["a.png", "fail"], ["sleep", "b.png"]], tmp_path, 72)
    big = [f"x{i}.png" for i in range(3)] + ["padding" * 200_000]  # more than a pipe holds, never drawn
    workers.submit([big, ["c.png"]], tmp_path, 72)
    with pytest.raises(ValueError, match="bad data"):
        workers.join(FigureSet(72))
    assert files(tmp_path) == []  # the other worker's PNGs are removed too


def test_warnings_raised_while_drawing_are_raised_again_at_join(tmp_path: Path) -> None:
    with warnings.catch_warnings():  # the workers keep the filters in force when they were forked
        warnings.simplefilter("always", LightlaneWarning)
        workers = DrawingWorkers(f"{__name__}:draw_with_warning", workers=2)
    workers.submit([["a.png"], ["b.png"]], tmp_path, 72)
    with pytest.warns(LightlaneWarning) as caught, FigureSet(72) as figures:
        workers.join(figures)
    assert sorted(str(w.message) for w in caught) == ["careful with a.png", "careful with b.png"]
    assert files(tmp_path) == ["a.png", "b.png"]


#: Set by prepare_once in the first worker, before it forks the others.
PREPARED: int | None = None


def prepare_once() -> dict[str, Any]:
    global PREPARED
    PREPARED = os.getpid()
    return {"prepared by": PREPARED, "drawn here": 0}


def draw_prepared(unit: Sequence[str], folder: Path, figures: FigureSet, state: dict[str, Any]) -> None:
    state["drawn here"] += 1  # each worker's own copy of the state
    names = [name.replace("PREPARED", str(PREPARED)).replace("STATE", f"{state['prepared by']}_{state['drawn here']}")
             .replace("NICE", str(os.getpriority(os.PRIO_PROCESS, 0))) for name in unit]
    draw_batch(names, folder, figures, state)


def test_the_first_worker_prepares_once_and_the_others_inherit_it(tmp_path: Path) -> None:
    workers = DrawingWorkers(f"{__name__}:draw_prepared", prepare=f"{__name__}:prepare_once", workers=2)
    b_drawn = tmp_path / "b-drawn"  # a waits for b: one unit for each worker
    workers.submit([[f"await:{b_drawn}", "a-PID-PREPARED-STATE-NICE.png"],
                    ["b-PID-PREPARED-STATE-NICE.png", f"mark:{b_drawn}"]], tmp_path / "png", 72)
    with FigureSet(72) as figures:
        workers.join(figures)
    (a, b) = (name.removesuffix(".png").split("-")[1:] for name in files(tmp_path / "png"))
    assert a[0] != b[0] and a[1] == b[1] and a[1] in (a[0], b[0])  # the first worker's, once
    assert a[2] == b[2] == f"{a[1]}_1"  # its state, a copy in each worker
    assert PREPARED is None  # not in this process
    # Drawing yields the CPU to the run.
    assert int(a[3]) == int(b[3]) == min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS, 19)
