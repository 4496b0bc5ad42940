"""Pipeline runs and baselines (SPEC §9, §11.1, §11.7, §21.19): lightlane.runs."""

from __future__ import annotations

import dataclasses
import sqlite3

import numpy as np
import pytest

from lightlane import Workspace
from lightlane.catalog import TEST_RESULT_COLUMNS
from lightlane.exceptions import DataError, PrerequisiteError
from lightlane.metadata import Band, DatasetMeta, ListWidths, Pipeline, ProcessingParameters
from lightlane.onboard import onboard_file
from lightlane.pipelines import create_pipeline
from lightlane.runs import RunOutcome, ensure_baseline, execute_run, run_seed
from lightlane.stats import VERDICTS

N = 3000
DURATION = 3000.0


def _setup(workspace: Workspace, make_events, *, b_tasks=("poissonize",), b_input="a", a_tasks=("select", "flatten"),
           pipeline_id: str = "src_null") -> Pipeline:
    if not workspace.exists(DatasetMeta, "src"):
        rng = np.random.default_rng(1)
        times = np.sort(rng.uniform(0.0, DURATION, N))
        columns = {"PI": ("J", (1 + 1.239841984 / rng.uniform(0.09, 1.05, N) / 0.0146).astype(np.int32))}
        path = make_events(times=times, columns=columns, gtis=[(0.0, DURATION)], header={"TSTOP": DURATION})
        onboard_file(workspace, path, "src")
        default = workspace.load(ProcessingParameters, "default")
        small = dataclasses.replace(
            default, id="small", band=Band(min_nm=0.1, max_nm=1.0, bins=10),
            time_bins=ListWidths(widths_s=(10.0, 20.0, 30.0)), chunk_count=500, bootstrap_resamples=100,
            significance_level=0.05, tail_fraction=0.01, top_fraction=0.05,
            test_metrics=("ev", "vea", "oec"),
        )
        workspace.save(small)
    return create_pipeline(workspace, {
        "id": pipeline_id, "role": "negative_control", "source": {"dataset": "src"}, "processing": "small",
        "a_tasks": list(a_tasks), "b_input": b_input, "b_tasks": list(b_tasks), "seed": 3,
    })


def _rows(workspace: Workspace, query: str, *args) -> list[sqlite3.Row]:
    with sqlite3.connect(workspace.catalog_path) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(query, args).fetchall()


def test_run_seed_depends_on_index(workspace: Workspace, make_events) -> None:
    pipeline = _setup(workspace, make_events)
    assert run_seed(pipeline, 0) == run_seed(pipeline, 0) != run_seed(pipeline, 1)
    assert run_seed(dataclasses.replace(pipeline, seed=4), 0) != run_seed(pipeline, 0)


def test_baseline_resume_main_run_and_determinism(workspace: Workspace, make_events) -> None:
    _setup(workspace, make_events)

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
    assert len(_rows(workspace, "SELECT * FROM test_results")) == 3 * 3
    assert not workspace.exists(DatasetMeta, "src_null_a_r1")

    more = ensure_baseline(workspace, "src_null", 4)
    assert [o.run_index for o in more] == [4]
    runs = _rows(workspace, "SELECT * FROM runs WHERE kind = 'baseline' ORDER BY run_index")
    assert [r["run_index"] for r in runs] == [1, 2, 3, 4]
    assert len(_rows(workspace, "SELECT * FROM null_summaries")) == 4 * 3
    assert ensure_baseline(workspace, "src_null", 4) == []
    # leave-one-out: every baseline run is tested against the other 3
    baseline_rows = _rows(workspace, "SELECT * FROM test_results")
    assert len(baseline_rows) == 4 * 3 and {r["baseline_runs"] for r in baseline_rows} == {3}

    # (3) the main run
    outcome = execute_run(workspace, "src_null")
    assert outcome.kind == "pipeline" and outcome.a_dataset == "src_null_a" and outcome.b_dataset == "src_null_b"
    assert workspace.exists(DatasetMeta, "src_null_a") and workspace.exists(DatasetMeta, "src_null_b")
    run = _rows(workspace, "SELECT * FROM runs WHERE run_id = ?", outcome.run_id)[0]
    assert run["status"] == "done" and run["a_chunks_key"] and run["b_events_hash"] == outcome.b_events_hash
    assert '"width_set_s": [10.0, 20.0, 30.0]' in run["resolved_json"]
    rows = _rows(workspace, "SELECT * FROM test_results WHERE run_id = ? ORDER BY metric", outcome.run_id)
    assert [r["metric"] for r in rows] == ["ev", "oec", "vea"]
    names = [name for name, _ in TEST_RESULT_COLUMNS]
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
    assert len(_rows(workspace, "SELECT * FROM test_results WHERE run_id = ?", outcome.run_id)) == 3
    other = execute_run(workspace, "src_null", seed=outcome.seed + 1)
    assert other.seed == outcome.seed + 1 and other.b_events_hash != outcome.b_events_hash


def test_b_without_random_task_fails(workspace: Workspace, make_events) -> None:
    _setup(workspace, make_events, a_tasks=("select",), b_input="source", b_tasks=("select",), pipeline_id="nornd")
    with pytest.raises(DataError, match="B has no random task; calibration impossible"):
        ensure_baseline(workspace, "nornd", 3)


def test_baseline_tests_use_leave_one_out_thresholds(workspace: Workspace, make_events) -> None:
    _setup(workspace, make_events)
    ensure_baseline(workspace, "src_null", 3)
    q = {(r["run_id"], r["metric"]): r["q"] for r in _rows(workspace, "SELECT run_id, metric, q FROM null_summaries")}
    run_ids = sorted({run_id for run_id, _ in q})
    for row in _rows(workspace, "SELECT * FROM test_results"):
        others = [q[(run_id, row["metric"])] for run_id in run_ids if run_id != row["run_id"]]
        assert row["p1a_threshold"] == pytest.approx(float(np.mean(others)), rel=1e-12)
        assert row["baseline_runs"] == 2 and row["p1a_q_run"] == q[(row["run_id"], row["metric"])]


def test_failed_run_is_recorded_and_reraised(workspace: Workspace, make_events, monkeypatch) -> None:
    import lightlane.runs as runs

    _setup(workspace, make_events)

    def broken(*args, **kwargs):
        raise DataError("boom")

    monkeypatch.setattr(runs, "result_rows", broken)
    with pytest.raises(DataError, match="boom"):
        execute_run(workspace, "src_null", run_index=1, kind="baseline")
    (run,) = _rows(workspace, "SELECT * FROM runs")
    assert run["status"] == "failed" and "boom" in run["error"] and run["finished_at"]
    assert _rows(workspace, "SELECT * FROM test_results") == []
    monkeypatch.undo()
    # a failed index is not "done": ensure_baseline runs it again
    assert [o.run_index for o in ensure_baseline(workspace, "src_null", 2)] == [1, 2]
    assert [r["status"] for r in _rows(workspace, "SELECT * FROM runs ORDER BY run_index")] == ["done", "done"]


def test_run_and_baseline_commands(workspace: Workspace, make_events, capsys) -> None:
    from lightlane.cli import main

    _setup(workspace, make_events)
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


def test_tables_command_after_runs(workspace: Workspace, make_events, capsys) -> None:
    from lightlane.cli import main

    _setup(workspace, make_events)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "run", "src_null", "--ensure-baseline", "2"]) == 0
    assert main(["--workspace", root, "tables", "--metrics", "vea", "--format", "tex,md"]) == 0
    out = capsys.readouterr().out
    folder = workspace.root / "results" / "tables" / "vea"
    assert (folder / "p1a_negative_control.tex").is_file() and (folder / "p2_negative_control.md").is_file()
    assert not list(folder.glob("*.csv"))
    assert "no results for group test" in out
    tex = (folder / "p1a_negative_control.tex").read_text()
    assert "\\toprule" in tex and "src\\_null" in tex
    assert main(["--workspace", root, "tables", "--metrics", "bogus"]) == 3
    assert main(["--workspace", root, "tables", "--format", "pdf"]) == 3
