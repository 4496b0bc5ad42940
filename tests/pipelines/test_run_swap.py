"""A repeated main run is staged, then swapped in when recorded (SPEC §4.1, §21.29).

Until the new run is recorded the previous run's catalog rows, A/B files, dataset JSONs and
figures stay exactly as they were; an attempt interrupted at any point is completed by a
retry that gives what an uninterrupted repeat gives in a twin workspace, with no staging
names left behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightlane import Workspace
from lightlane.exceptions import DataError
from lightlane.metadata import ProcessingParameters
from lightlane.pipelines import RunPlan, execute_run, execute_runs, recording, run_folder, runs, sweep_staging
from lightlane.pipelines.baselines import ensure_baseline
from lightlane.report.drawing import run_jobs
from lightlane.store.catalog import Catalog, recording_command
from lightlane.store.hashing import file_sha256

from ..helpers import build_event_file, make_small_pipeline

PIPELINE = "src_null"
#: The command line every repeat records (the CLI's, without --workspace): the run page shows it.
COMMAND = "lightlane --quiet run src_null --seed 7"
TABLES = ("runs", "test_results", "null_summaries", "datasets")
TIMES = ("started_at", "finished_at", "created_at")


class Killed(BaseException):
    """Stands in for SIGKILL: handlers that catch ``Exception`` do not see it."""


# ----------------------------------------------------------------------------- workspace states


def _files(root: Path) -> dict[str, bytes]:
    """Every file a user sees (cache, catalog and lock excluded) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != "cache"
            and not p.name.startswith("lightlane.sqlite") and p.name != ".lock"}


def _rows(root: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(root / "lightlane.sqlite") as connection:
        connection.row_factory = sqlite3.Row
        return {t: [dict(r) for r in connection.execute(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in TABLES}


def _state(root: Path) -> tuple[dict[str, bytes], dict[str, list[dict[str, Any]]]]:
    return _files(root), _rows(root)


def _normalised(root: Path) -> tuple[dict[str, bytes], dict[str, list[dict[str, Any]]]]:
    """The state without wall-clock times (JSON ``created_at``, catalog timestamps)."""
    files = {}
    for name, data in _files(root).items():
        if name.endswith(".json"):
            document = json.loads(data)
            document.pop("created_at", None)
            data = json.dumps(document, sort_keys=True).encode()
        files[name] = data
    rows = {t: [{k: v for k, v in r.items() if k not in TIMES} for r in rs] for t, rs in _rows(root).items()}
    return files, rows


def _leftovers(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if ".staging-" in p.name or ".tmp-" in p.name]


def _without_leftovers(state: tuple[dict[str, bytes], Any]) -> tuple[dict[str, bytes], Any]:
    files, rows = state
    return {k: v for k, v in files.items() if ".staging-" not in k}, rows


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with 2 baseline runs and a main run (one test metric keeps the figures few)."""
    root = tmp_path_factory.mktemp("swap")
    workspace = Workspace.at(root / "ws")
    workspace.init()
    make_small_pipeline(workspace, lambda **kw: build_event_file(root / "events.fits", **kw))
    small = workspace.load(ProcessingParameters, "small")
    workspace.save(dataclasses.replace(small, test_metrics=("vea",)))
    ensure_baseline(workspace, PIPELINE, 2)
    execute_run(workspace, PIPELINE)
    return workspace.root


def _copy(base: Path, folder: Path) -> Workspace:
    shutil.copytree(base, folder / "ws", symlinks=True)
    return Workspace.at(folder / "ws")


@pytest.fixture(scope="module")
def twin(base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The normalised state after an uninterrupted repeat with seed 7."""
    workspace = _copy(base, tmp_path_factory.mktemp("twin"))
    with recording_command(COMMAND):
        execute_run(workspace, PIPELINE, seed=7)
    assert not _leftovers(workspace.root)
    return _normalised(workspace.root)


@pytest.fixture
def ws(base: Path, tmp_path: Path) -> Workspace:
    return _copy(base, tmp_path)


# ----------------------------------------------------------------------------- injected failures


def _fail_in_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """After A and B are staged, before any figure."""
    monkeypatch.setattr(runs, "result_rows", _raiser(DataError("injected: compute")))


def _fail_in_plotting(monkeypatch: pytest.MonkeyPatch) -> None:
    """After several figures are in the staging folder."""
    monkeypatch.setattr(run_jobs, "plot_timescales", _raiser(DataError("injected: plotting")))


def _before_commit(error: BaseException) -> Callable[[pytest.MonkeyPatch], None]:
    """Inside the recording transaction: the last insert before COMMIT (the only test metric's row)."""
    def inject(monkeypatch: pytest.MonkeyPatch) -> None:
        insert = Catalog.insert

        def failing(self: Catalog, cursor: Any, table: str, row: Any, **kwargs: Any) -> None:
            if table == "test_results":
                raise error
            insert(self, cursor, table, row, **kwargs)

        monkeypatch.setattr(Catalog, "insert", failing)
    return inject


def _raiser(error: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error
    return fail


def _after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded, nothing installed yet."""
    monkeypatch.setattr(recording, "install_staged", _raiser(Killed()))


def _mid_file_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded, the first staged file installed."""
    def partial(staged: Any) -> None:
        os.replace(*staged[0])
        raise Killed()
    monkeypatch.setattr(recording, "install_staged", partial)


def _mid_folder_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded, files installed, the old figure folder renamed aside, the new one not yet in."""
    def partial(staging: Path, folder: Path) -> None:
        os.replace(folder, folder.with_name(f"{staging.name}-old"))
        raise Killed()
    monkeypatch.setattr(recording, "_swap_folder", partial)


BEFORE_COMMIT = {
    "compute": (_fail_in_compute, DataError),
    "plotting": (_fail_in_plotting, DataError),
    "before-commit": (_before_commit(DataError("injected: commit")), DataError),
}
AFTER_COMMIT = {"after-commit": _after_commit, "mid-file-swap": _mid_file_swap, "mid-folder-swap": _mid_folder_swap}


def _retry_matches_twin(workspace: Workspace, twin: tuple[Any, Any]) -> None:
    """A retry (as `run --all` does it: a done run with this seed is skipped unless unfinished) gives the twin."""
    with recording_command(COMMAND):
        (outcome,) = execute_runs(workspace, [PIPELINE], seed=7, skip_current=True)
    assert outcome.seed == 7 and outcome.plots
    assert all(Path(p).parent == run_folder(workspace, PIPELINE, outcome.run_id) for p in outcome.plots)
    assert not _leftovers(workspace.root)
    assert _normalised(workspace.root) == twin


# ----------------------------------------------------------------------------- tests


def test_sweep_removes_only_this_runs_staging(tmp_path: Path) -> None:
    workspace = Workspace.at(tmp_path / "ws")
    workspace.init()
    plan = RunPlan(root=str(workspace.root), pipeline_id="p", kind="pipeline", run_index=0,
                   run_id="p-pipeline-0-0a1b2c3d", seed=1, processing_hash="0" * 64, keep=True, plots=True)
    assert plan.staging.startswith(f"staging-{plan.run_id}-")
    mine = [workspace.root / "data/derived/p_a.fits.staging-p-pipeline-0-0a1b2c3d-01234567",
            workspace.root / "meta/pipelines/p.json.staging-p-pipeline-0-0a1b2c3d-89abcdef"]
    others = [workspace.root / "data/derived/q_a.fits.staging-q-pipeline-0-0a1b2c3d-01234567",
              workspace.root / "data/derived/p_a.fits",
              workspace.root / "data/derived/p_a.fits.staging-p-pipeline-0-0a1b2c3d-nothex00"]
    folder = run_folder(workspace, "p", plan.run_id)
    folders = [folder.with_name(f"{folder.name}.staging-{plan.run_id}-00ff00ff"),
               folder.with_name(f"{folder.name}.staging-{plan.run_id}-00ff00ff-old")]
    for path in mine + others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in folders:
        (path / "fig.png").parent.mkdir(parents=True)
        (path / "fig.png").write_bytes(b"png")
    assert sorted(sweep_staging(workspace, plan)) == sorted(mine + folders)
    assert all(p.exists() for p in others) and not any(p.exists() for p in mine + folders)


@pytest.mark.slow
@pytest.mark.parametrize("point", sorted(BEFORE_COMMIT))
def test_failure_before_recording_keeps_the_previous_run(ws: Workspace, twin: Any, monkeypatch: pytest.MonkeyPatch,
                                                         point: str) -> None:
    before = _state(ws.root)
    inject, error = BEFORE_COMMIT[point]
    inject(monkeypatch)
    with pytest.raises(error, match="injected"):
        execute_runs(ws, [PIPELINE], seed=7)
    monkeypatch.undo()
    assert _state(ws.root) == before  # rows (status done, old seed), A/B, JSONs and figures untouched
    assert not _leftovers(ws.root)
    _retry_matches_twin(ws, twin)


@pytest.mark.slow
def test_killed_before_recording_keeps_the_previous_run(ws: Workspace, twin: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = _state(ws.root)
    _before_commit(Killed())(monkeypatch)
    with pytest.raises(Killed):
        execute_runs(ws, [PIPELINE], seed=7)
    monkeypatch.undo()
    assert _leftovers(ws.root)  # a kill runs no cleanup: the staged attempt stays on disk…
    assert _without_leftovers(_state(ws.root)) == before  # …beside the untouched previous run
    _retry_matches_twin(ws, twin)


@pytest.mark.slow
@pytest.mark.parametrize("point", sorted(AFTER_COMMIT))
def test_killed_after_recording_is_completed_by_a_retry(ws: Workspace, twin: Any, monkeypatch: pytest.MonkeyPatch,
                                                        point: str) -> None:
    old_a = (ws.root / "data/derived/src_null_a.fits").read_bytes()
    AFTER_COMMIT[point](monkeypatch)
    with pytest.raises(Killed):
        execute_runs(ws, [PIPELINE], seed=7)
    monkeypatch.undo()
    (run,) = _rows(ws.root)["runs"][-1:]
    assert run["kind"] == "pipeline" and run["status"] == "done" and run["seed"] == 7  # recorded
    assert _normalised(ws.root)[1] == twin[1]
    assert _leftovers(ws.root)  # the unfinished swap is visible, so the retry does not skip the run
    if point == "after-commit":
        assert (ws.root / "data/derived/src_null_a.fits").read_bytes() == old_a
    _retry_matches_twin(ws, twin)


@pytest.mark.slow
def test_baseline_run_recorded_but_not_swapped_in_is_redone(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """`baseline` skips done runs, except one whose kept files never reached their place."""
    monkeypatch.setattr(recording, "install_staged", _raiser(Killed()))
    with pytest.raises(Killed):
        ensure_baseline(ws, PIPELINE, 3, keep_data=True)
    monkeypatch.undo()
    kept = ws.root / "data/derived/src_null_a_r3.fits"
    assert not kept.exists() and _leftovers(ws.root)
    assert [o.run_index for o in ensure_baseline(ws, PIPELINE, 3, keep_data=True)] == [3]
    (row,) = [r for r in _rows(ws.root)["datasets"] if r["id"] == "src_null_a_r3"]
    assert kept.is_file() and file_sha256(kept) == row["file_sha256"]
    assert not _leftovers(ws.root)
    assert ensure_baseline(ws, PIPELINE, 3, keep_data=True) == []  # done and complete: skipped


@pytest.mark.slow
def test_sigkill_at_random_moments_then_retry(ws: Workspace, twin: Any) -> None:
    from lightlane.cli import main

    args = ["--workspace", str(ws.root), "--quiet", "run", PIPELINE, "--seed", "7"]
    rng = np.random.default_rng(29)
    for delay in rng.uniform(2.0, 6.0, size=2):  # import (~2 s) through compute, plots and recording
        process = subprocess.Popen([sys.executable, "-m", "lightlane", *args],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(delay))
        process.kill()
        process.wait()
    assert main(args) == 0
    assert not _leftovers(ws.root)
    assert _normalised(ws.root) == twin
