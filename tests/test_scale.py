"""Scale-out on Dask (SPEC §19): same catalog for any --jobs, resumable baselines, client-only catalog writes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from lightlane import Workspace
from lightlane.cli import main
from lightlane.exceptions import LightlaneWarning, MetadataError
from lightlane.scale import Execution, run_units

# Columns that legitimately differ between two executions of the same work.
_CLOCK = {"started_at", "finished_at", "created_at"}


def _table(root: Path, table: str, order: str, where: str = "1") -> list[dict]:
    with sqlite3.connect(root / "lightlane.sqlite") as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}").fetchall()
    return [{k: row[k] for k in row.keys() if k not in _CLOCK} for row in rows]


def _square(x: int) -> int:
    if x == 3:
        warnings.warn("three is odd", LightlaneWarning)
    return x * x


def _explode(x: int) -> int:
    if x == 2:
        raise ValueError("unit 2 failed")
    if x > 2:  # later units take a while, so the error reaches the client before they could all finish
        time.sleep(0.1)
    return x


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_units_records_every_result_in_the_client(jobs: int) -> None:
    recorded: list[tuple[int, int]] = []
    with pytest.warns(LightlaneWarning, match="three is odd"):
        results = run_units(range(6), _square, lambda u, r: recorded.append((u, r)), Execution(jobs=jobs))
    assert results == [0, 1, 4, 9, 16, 25]
    assert sorted(recorded) == [(u, u * u) for u in range(6)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_unit_is_reported_and_stops_new_units(jobs: int) -> None:
    recorded, failed = [], []
    with pytest.raises(ValueError, match="unit 2 failed"):
        run_units(range(40), _explode, lambda u, r: recorded.append(u), Execution(jobs=jobs),
                  fail=lambda u, e: failed.append(u))
    assert failed == [2]
    assert len(recorded) < 39  # nothing new is started after the error (at most the window in flight)


def test_execution_rejects_bad_jobs() -> None:
    with pytest.raises(MetadataError, match="--jobs"):
        Execution(jobs=0)


def _two_pipelines(workspace: Workspace, small_pipeline) -> None:
    small_pipeline(workspace, pipeline_id="src_null")
    small_pipeline(workspace, pipeline_id="src_lc", b_tasks=("lcpreserve",))


@pytest.mark.slow
def test_run_all_jobs_2_equals_jobs_1(tmp_path: Path, small_pipeline, capsys) -> None:
    roots = []
    for jobs in (1, 2):
        workspace = Workspace.at(tmp_path / f"ws{jobs}")
        workspace.init()
        _two_pipelines(workspace, small_pipeline)
        argv = ["--workspace", str(workspace.root), "run", "--all", "--ensure-baseline", "3", "--jobs", str(jobs)]
        assert main(argv) == 0, capsys.readouterr().err
        roots.append(workspace.root)
    out = capsys.readouterr().out
    assert "P1a (cal.)" in out and "src_lc" in out and "src_null" in out
    for table, order, where in (("runs", "run_id", "1"), ("test_results", "run_id, metric", "1"),
                                ("null_summaries", "run_id, metric", "1"), ("datasets", "id", "kind != 'raw'")):
        one, two = _table(roots[0], table, order, where), _table(roots[1], table, order, where)
        assert one and one == two, table
    assert len(_table(roots[1], "runs", "run_id")) == 2 * (3 + 1)
    # the main runs drew their figures in results/pipelines/<p>/run-<id>/
    assert list((roots[1] / "results" / "pipelines" / "src_null").glob("run-*/spectrum_a_vs_b.png"))


def test_run_all_skips_finished_runs_and_retest_keeps_them(workspace: Workspace, small_pipeline, capsys) -> None:
    _two_pipelines(workspace, small_pipeline)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "run", "--all", "--ensure-baseline", "2", "--no-plots"]) == 0
    before = _table(workspace.root, "test_results", "run_id, metric")
    stamps = _table_with_clock(workspace.root)
    assert main(["--workspace", root, "--quiet", "run", "--all"]) == 0
    assert _table_with_clock(workspace.root) == stamps  # nothing re-ran
    assert main(["--workspace", root, "run", "--retest", "src_null"]) == 0
    assert "src_null" in capsys.readouterr().out
    assert _table(workspace.root, "test_results", "run_id, metric") == before
    assert main(["--workspace", root, "run", "--all", "src_null"]) == 3
    assert main(["--workspace", root, "run", "--retest", "--seed", "4", "src_null"]) == 3


def _table_with_clock(root: Path) -> list[tuple]:
    with sqlite3.connect(root / "lightlane.sqlite") as connection:
        return connection.execute("SELECT run_id, started_at, finished_at FROM runs ORDER BY run_id").fetchall()


def _done_baselines(root: Path) -> int:
    try:
        with sqlite3.connect(f"file:{root / 'lightlane.sqlite'}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT COUNT(*) FROM runs WHERE kind = 'baseline' AND status = 'done'"
                                      ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_killed_baseline_resumes_without_duplicates_or_losses(tmp_path: Path, small_pipeline) -> None:
    runs = 10
    killed, reference = Workspace.at(tmp_path / "killed"), Workspace.at(tmp_path / "reference")
    for workspace in (killed, reference):
        workspace.init()
        small_pipeline(workspace)

    command = [sys.executable, "-m", "lightlane", "--workspace", str(killed.root), "--quiet",
               "baseline", "src_null", "--runs", str(runs)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + 120
    while _done_baselines(killed.root) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_at_kill = _done_baselines(killed.root)
    assert 3 <= done_at_kill < runs, "the baseline must be killed midway for this test to mean anything"

    assert main(["--workspace", str(killed.root), "--quiet", "baseline", "src_null", "--runs", str(runs)]) == 0
    assert main(["--workspace", str(reference.root), "--quiet", "baseline", "src_null", "--runs", str(runs)]) == 0
    rows = _table(killed.root, "runs", "run_index")
    assert [r["run_index"] for r in rows] == list(range(1, runs + 1))
    assert {r["status"] for r in rows} == {"done"}
    for table, order in (("runs", "run_id"), ("test_results", "run_id, metric"), ("null_summaries", "run_id, metric")):
        assert _table(killed.root, table, order) == _table(reference.root, table, order), table


def test_existing_scheduler_via_option_and_environment(tmp_path: Path, small_pipeline, monkeypatch) -> None:
    from distributed import LocalCluster

    inline, remote = Workspace.at(tmp_path / "inline"), Workspace.at(tmp_path / "remote")
    for workspace in (inline, remote):
        workspace.init()
        small_pipeline(workspace)
    assert main(["--workspace", str(inline.root), "--quiet", "baseline", "src_null", "--runs", "3"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    try:
        argv = ["--workspace", str(remote.root), "--quiet", "baseline", "src_null"]
        assert main([*argv, "--runs", "2", "--scheduler", cluster.scheduler_address]) == 0
        monkeypatch.setenv("LIGHTLANE_DASK_SCHEDULER", cluster.scheduler_address)
        assert Execution.from_options(1, None, None).scheduler == cluster.scheduler_address
        assert main([*argv, "--runs", "3"]) == 0
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster.close()
    for table, order in (("runs", "run_id"), ("test_results", "run_id, metric"), ("null_summaries", "run_id, metric")):
        assert _table(inline.root, table, order) == _table(remote.root, table, order), table
