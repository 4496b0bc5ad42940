"""Pipeline runs and baselines (SPEC §9, §11.1, §11.7, §21.19): lightlane.pipelines."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from lightlane import Workspace
from lightlane.exceptions import DataError, PrerequisiteError
from lightlane.metadata import DatasetMeta, Pipeline
from lightlane.pipelines import RunOutcome, execute_run, run_seed
from lightlane.pipelines.baselines import ensure_baseline
from lightlane.stats import VERDICTS
from lightlane.store.catalog import TEST_RESULT_COLUMNS

from ..helpers import catalog_rows, snapshot


def _rows(workspace: Workspace, query: str, *args) -> list[sqlite3.Row]:
    with sqlite3.connect(workspace.catalog_path) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(query, args).fetchall()


def test_run_seed_depends_on_index(workspace: Workspace, small_pipeline) -> None:
    pipeline = small_pipeline(workspace)
    assert run_seed(pipeline, 0) == run_seed(pipeline, 0) != run_seed(pipeline, 1)
    assert run_seed(dataclasses.replace(pipeline, seed=4), 0) != run_seed(pipeline, 0)


@pytest.mark.slow
def test_baseline_resume_main_run_and_determinism(workspace: Workspace, small_pipeline) -> None:
    small_pipeline(workspace)

    # (1) no baseline: PrerequisiteError quoting the command, nothing written
    with pytest.raises(PrerequisiteError) as info:
        execute_run(workspace, "src_null")
    message = str(info.value)
    assert "pipeline 'src_null' has no baseline runs for processing 'small'" in message
    assert "`lightlane baseline src_null --runs 100`" in message and "`run --ensure-baseline 100`" in message
    assert _rows(workspace, "SELECT * FROM test_results") == []
    assert _rows(workspace, "SELECT * FROM runs") == []

    # (2) three baseline runs, then resume to four
    outcomes = ensure_baseline(workspace, "src_null", 3)
    assert [o.run_index for o in outcomes] == [1, 2, 3]
    assert all(isinstance(o, RunOutcome) and o.a_dataset is None and o.b_dataset is None for o in outcomes)
    runs = _rows(workspace, "SELECT * FROM runs WHERE kind = 'baseline' ORDER BY run_index")
    assert [r["status"] for r in runs] == ["done"] * 3
    assert len({r["b_events_hash"] for r in runs}) == 3
    assert len(_rows(workspace, "SELECT * FROM null_summaries")) == 3 * 3
    assert len(_rows(workspace, "SELECT * FROM test_results")) == 3 * (3 + 1)  # 3 metrics and P3
    assert not workspace.exists(DatasetMeta, "src_null_a_r1")

    more = ensure_baseline(workspace, "src_null", 4)
    assert [o.run_index for o in more] == [4]
    runs = _rows(workspace, "SELECT * FROM runs WHERE kind = 'baseline' ORDER BY run_index")
    assert [r["run_index"] for r in runs] == [1, 2, 3, 4]
    assert len(_rows(workspace, "SELECT * FROM null_summaries")) == 4 * 3
    assert ensure_baseline(workspace, "src_null", 4) == []
    # leave-one-out: every baseline run is tested against the other 3
    baseline_rows = _rows(workspace, "SELECT * FROM test_results")
    assert len(baseline_rows) == 4 * (3 + 1) and {r["baseline_runs"] for r in baseline_rows} == {3}

    # (3) the main run
    outcome = execute_run(workspace, "src_null")
    assert outcome.kind == "pipeline" and outcome.a_dataset == "src_null_a" and outcome.b_dataset == "src_null_b"
    assert workspace.exists(DatasetMeta, "src_null_a") and workspace.exists(DatasetMeta, "src_null_b")
    run = _rows(workspace, "SELECT * FROM runs WHERE run_id = ?", outcome.run_id)[0]
    assert run["status"] == "done" and run["a_chunks_key"] and run["b_events_hash"] == outcome.b_events_hash
    assert '"width_set_s": [10.0, 20.0, 30.0]' in run["resolved_json"]
    rows = _rows(workspace, "SELECT * FROM test_results WHERE run_id = ? ORDER BY metric", outcome.run_id)
    assert [r["metric"] for r in rows] == ["ev", "oec", "p3", "vea"]
    (p3,) = [r for r in rows if r["metric"] == "p3"]  # P3: one row per run (SPEC §11.9)
    assert p3["baseline_runs"] == 4 and p3["p3_stat"] is not None and p3["p3_verdict_calibrated"] == "INCONCLUSIVE"
    rows = [r for r in rows if r["metric"] != "p3"]
    names = [name for name, _ in TEST_RESULT_COLUMNS if not name.startswith("p3_")]
    for row in rows:
        assert set(names) <= set(row.keys())
        assert row["baseline_runs"] == 4 and row["p1a_p_calibrated"] is not None
        assert row["p1a_p_calibrated"] >= 1 / 5
        for name in names:
            if "verdict" in name:
                assert row[name] in VERDICTS, (name, row[name])
        # 1/(R+1) = 0.2 ≥ α = 0.05
        assert row["p1a_verdict_calibrated"] == "INCONCLUSIVE"
    by_metric = {r["metric"]: r for r in rows}
    assert by_metric["oec"]["p1d_verdict"] == "NOT_APPLICABLE" and by_metric["oec"]["p1e_verdict"] == "NOT_APPLICABLE"
    pipeline = workspace.load(Pipeline, "src_null")
    assert pipeline.outputs is not None and pipeline.outputs.a == "src_null_a"

    # (5) determinism: the same index and seed give identical rows
    again = execute_run(workspace, "src_null")
    assert again.rows == outcome.rows and again.a_events_hash == outcome.a_events_hash
    assert len(_rows(workspace, "SELECT * FROM test_results WHERE run_id = ?", outcome.run_id)) == 3 + 1
    other = execute_run(workspace, "src_null", seed=outcome.seed + 1)
    assert other.seed == outcome.seed + 1 and other.b_events_hash != outcome.b_events_hash


def test_b_without_random_task_fails(workspace: Workspace, small_pipeline) -> None:
    small_pipeline(workspace, a_tasks=("select",), b_input="source", b_tasks=("select",), pipeline_id="nornd")
    with pytest.raises(DataError, match="B has no random task; calibration impossible"):
        ensure_baseline(workspace, "nornd", 3)


def test_baseline_tests_use_leave_one_out_thresholds(workspace: Workspace, small_pipeline) -> None:
    small_pipeline(workspace)
    ensure_baseline(workspace, "src_null", 3)
    q = {(r["run_id"], r["metric"]): r["q"] for r in _rows(workspace, "SELECT run_id, metric, q FROM null_summaries")}
    run_ids = sorted({run_id for run_id, _ in q})
    s_r = {r["run_id"]: r["p3"] for r in _rows(workspace, "SELECT run_id, p3 FROM null_summaries")}
    assert len(s_r) == 3 and all(value is not None for value in s_r.values())
    for row in _rows(workspace, "SELECT * FROM test_results"):
        if row["metric"] == "p3":  # P3 (SPEC §11.9): A's S ranked among the other runs' S_r
            others = [s_r[run_id] for run_id in run_ids if run_id != row["run_id"]]
            assert row["baseline_runs"] == 2 and row["p3_stat"] is not None
            assert row["p3_p_calibrated"] == (1 + sum(o >= row["p3_stat"] for o in others)) / 3
            continue
        others = [q[(run_id, row["metric"])] for run_id in run_ids if run_id != row["run_id"]]
        assert row["p1a_threshold"] == pytest.approx(float(np.mean(others)), rel=1e-12)
        assert row["baseline_runs"] == 2 and row["p1a_q_run"] == q[(row["run_id"], row["metric"])]


def test_failed_run_is_recorded_and_reraised(workspace: Workspace, small_pipeline, monkeypatch) -> None:
    import lightlane.pipelines.runs as runs

    small_pipeline(workspace)

    def broken(*args, **kwargs):
        raise DataError("boom")

    monkeypatch.setattr(runs, "null_summaries", broken)
    with pytest.raises(DataError, match="boom"):
        execute_run(workspace, "src_null", run_index=1, kind="baseline")
    (run,) = _rows(workspace, "SELECT * FROM runs")
    assert run["status"] == "failed" and "boom" in run["error"] and run["finished_at"]
    assert _rows(workspace, "SELECT * FROM test_results") == []
    monkeypatch.undo()
    # a failed index is not "done": ensure_baseline runs it again
    assert [o.run_index for o in ensure_baseline(workspace, "src_null", 2)] == [1, 2]
    assert [r["status"] for r in _rows(workspace, "SELECT * FROM runs ORDER BY run_index")] == ["done", "done"]


@pytest.mark.slow
def test_run_and_baseline_commands(workspace: Workspace, small_pipeline, capsys) -> None:
    from lightlane.cli import main

    small_pipeline(workspace)
    root = str(workspace.root)
    assert main(["--workspace", root, "run", "src_null"]) == 5
    assert "lightlane baseline src_null --runs 100" in capsys.readouterr().err
    assert main(["--workspace", root, "--quiet", "baseline", "src_null", "--runs", "2"]) == 0
    assert main(["--workspace", root, "run", "src_null", "--ensure-baseline", "3"]) == 0
    out = capsys.readouterr().out
    assert "src_null: run" in out and "A = src_null_a" in out
    assert all(metric in out for metric in ("ev", "vea", "oec"))
    done = _rows(workspace, "SELECT kind, COUNT(*) AS n FROM runs WHERE status = 'done' GROUP BY kind")
    assert {row["kind"]: row["n"] for row in done} == {"baseline": 3, "pipeline": 1}


@pytest.mark.slow
def test_a_run_draws_its_figures_without_loading_matplotlib(workspace: Workspace, small_pipeline) -> None:
    """The figures are drawn by forked workers (SPEC §14 rev 2): the run's own process never imports matplotlib."""
    small_pipeline(workspace)
    script = ("import sys, lightlane.cli, lightlane.report.figure_jobs as jobs\n"
              "started, start = [], jobs.drawing_workers\n"
              "jobs.drawing_workers = lambda **options: started.append(options) or start(**options)\n"
              f"code = lightlane.cli.main(['--workspace', {str(workspace.root)!r}, '--quiet', 'run', 'src_null', "
              "'--ensure-baseline', '2'])\n"
              "print(code, 'matplotlib' in sys.modules, len(started))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    # One pair of workers, started by the command before its imports and taken by the run.
    assert done.stdout.split() == ["0", "False", "1"], done.stderr
    (folder,) = (workspace.root / "results" / "pipelines" / "src_null").glob("run-*")
    names = sorted(path.name for path in folder.iterdir())
    assert {"heatmap_a.png", "metric_hist.png", "timescales_b.png", "index.html"} <= set(names)
    assert not [name for name in names if ".tmp" in name or "staged" in name]


def test_tables_command_after_runs(workspace: Workspace, small_pipeline, capsys) -> None:
    from lightlane.cli import main

    small_pipeline(workspace)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "run", "src_null", "--ensure-baseline", "2"]) == 0
    assert main(["--workspace", root, "tables", "--metrics", "vea", "--format", "tex,md"]) == 0
    out = capsys.readouterr().out
    folder = workspace.root / "results" / "tables"
    # one file per table and format, no folder per metric or file per group
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.{f}" for t in ("p1a", "p1bc", "p1d", "p1e", "p2", "p3")
                                                             for f in ("tex", "md"))
    assert "no results for group test (vea, p3)" in out and "no results for group positive_control (vea, p3)" in out
    tex = (folder / "p1a.tex").read_text()
    assert "\\toprule" in tex and "src\\_null" in tex and "negative control pipelines" in tex
    # the workspace page links the tables
    page = (workspace.root / "results" / "index.html").read_text()
    assert 'href="tables/p1a.tex"' in page and 'href="tables/p2.md"' in page and "tables/p1a.csv" not in page
    assert f"report: {workspace.root / 'results' / 'index.html'}" in out
    assert main(["--workspace", root, "tables", "--metrics", "bogus"]) == 3
    assert main(["--workspace", root, "tables", "--format", "pdf"]) == 3


def _edit_json(workspace: Workspace, kind: str, document_id: str, **changes) -> None:
    path = workspace.root / "meta" / kind / f"{document_id}.json"
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def _state(workspace: Workspace) -> tuple:
    tables = ("runs", "test_results", "null_summaries", "datasets")
    return snapshot(workspace.root), {t: catalog_rows(workspace, t) for t in tables}


@pytest.mark.parametrize(("changes", "exit_code", "message"), [
    ({"source": {"dataset": "nowhere"}}, 3, "field 'source.dataset': no dataset 'nowhere'"),
    ({"b_tasks": [{"task": "poissonize", "window_s": 5}]}, 3, "window_s"),
    ({"a_tasks": ["select", {"task": "flatten", "min_per_bin": -1}]}, 3, "min_per_bin"),
    ({"a_tasks": ["select", "shuffle"]}, 3, "shuffle"),
])
def test_bad_pipeline_fails_run_and_writes_nothing(workspace: Workspace, small_pipeline, capsys, changes,
                                                   exit_code, message) -> None:
    from lightlane.cli import main

    small_pipeline(workspace)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "baseline", "src_null", "--runs", "2"]) == 0
    _edit_json(workspace, "pipelines", "src_null", **changes)
    before = _state(workspace)
    capsys.readouterr()
    assert main(["--workspace", root, "run", "src_null", "--ensure-baseline", "3"]) == exit_code
    err = capsys.readouterr().err
    assert "meta/pipelines/src_null.json" in err and message in err
    assert _state(workspace) == before


def test_processing_changed_since_the_baseline(workspace: Workspace, small_pipeline, capsys) -> None:
    from lightlane.cli import main

    small_pipeline(workspace)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "baseline", "src_null", "--runs", "2"]) == 0
    _edit_json(workspace, "processing", "small", chunk_count=600)
    before = _state(workspace)
    capsys.readouterr()
    assert main(["--workspace", root, "run", "src_null"]) == 5
    err = capsys.readouterr().err
    assert "lightlane baseline src_null --runs 100" in err
    assert "Processing 'small' changed since the baseline: its 2 baseline run(s)" in err
    assert _state(workspace) == before


def test_baselines_made_before_p3_are_refused_then_topped_up(workspace: Workspace, small_pipeline) -> None:
    """SPEC §11.9: baseline runs without P3's S_r (made before P3) make `run` fail with the command that
    tops them up; `baseline` runs exactly those again, and their other results stay as they were."""
    small_pipeline(workspace)
    ensure_baseline(workspace, "src_null", 3)
    kept = _rows(workspace, "SELECT * FROM test_results WHERE metric != 'p3' ORDER BY run_id, metric")
    with sqlite3.connect(workspace.catalog_path) as connection:  # what a pre-P3 catalog holds
        connection.execute("DELETE FROM test_results WHERE metric = 'p3'")
        connection.execute("UPDATE null_summaries SET p3 = NULL")
    with pytest.raises(PrerequisiteError, match=r"3 of its 3 baseline runs were made before the P3 test.*"
                                                r"`lightlane baseline src_null --runs 3`"):
        execute_run(workspace, "src_null")
    assert _rows(workspace, "SELECT * FROM runs WHERE kind = 'pipeline'") == []  # nothing written
    again = ensure_baseline(workspace, "src_null", 3)
    assert len(again) == 3
    assert _rows(workspace, "SELECT * FROM test_results WHERE metric != 'p3' ORDER BY run_id, metric") == kept
    assert all(r["p3"] is not None for r in _rows(workspace, "SELECT p3 FROM null_summaries"))
    outcome = execute_run(workspace, "src_null")
    (p3,) = [row for row in outcome.rows if row["metric"] == "p3"]
    assert p3["baseline_runs"] == 3 and p3["p3_verdict_calibrated"] in VERDICTS
