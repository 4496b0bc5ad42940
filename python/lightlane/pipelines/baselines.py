"""Baselines of a pipeline (SPEC §9, §11.1): topping them up, leave-one-out tests, retests.

Baseline runs are ordinary run units (:mod:`.runs`, :mod:`.recording`) with indices 1, 2, …;
this module decides which are missing, schedules them together, and recomputes
every baseline run's tests against the other runs once the set has changed.
The caller holds the workspace lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from ..exceptions import CacheMissError, DataError, PrerequisiteError
from ..metadata import ProcessingParameters
from ..scale import Execution
from ..stats.null_summaries import P3_METRIC, NullSummary, leave_one_out, load_baseline_runs
from ..store import cache
from ..store.catalog import Catalog
from ..store.workspace import Workspace
from ..version import CODE_VERSION
from .definitions import load_pipeline
from .recording import run_plans, stored_outcome, unfinished_attempt, write_pages
from .results import p3_row, result_rows, stored_p3_estimate
from .runs import RunOutcome, plan_run

__all__ = ["NO_RANDOM_TASK_MESSAGE", "recompute_baseline_tests", "retest_run", "ensure_baselines", "ensure_baseline"]

#: The error of a baseline whose B replicates are all identical (SPEC §9).
NO_RANDOM_TASK_MESSAGE = "B has no random task; calibration impossible"


def _cached_table(digest: str | None, workspace: Workspace, what: str) -> pl.DataFrame:
    if digest is None:
        raise CacheMissError(f"{what}: no chunk-table key recorded")
    table = cache.load(cache.CacheKey("chunks", {}, digest), workspace.root / "cache")
    if table is None:
        raise CacheMissError(f"{what}: chunk table {digest[:12]}… is not in the cache (cleaned?); "
                             f"re-run the baseline")
    return table


def _retest_rows(workspace: Workspace, processing: ProcessingParameters, run: Mapping[str, Any],
                 stored: Sequence[Mapping[str, Any]], summaries: Mapping[str, Sequence[NullSummary]],
                 own_b: Mapping[str, NullSummary] | None = None) -> list[dict[str, Any]]:
    """One run's tests again from its cached chunk tables and its ``stored`` rows (sizes, A's P3).
    ``own_b``: a baseline run's own null summaries of its B (see :func:`result_rows`)."""
    run_id = str(run["run_id"])
    a_table = _cached_table(run["a_chunks_key"], workspace, f"run {run_id} A")
    b_table = _cached_table(run["b_chunks_key"], workspace, f"run {run_id} B")
    n_a, n_b = (stored[0]["n_a"], stored[0]["n_b"]) if stored else (None, None)
    estimate = stored_p3_estimate(stored)  # A's P3 is kept; only its calibration changes
    rows = result_rows(run_id, processing, a_table, b_table, summaries, n_a=n_a, n_b=n_b, own_b=own_b)
    rows.append(p3_row(run_id, processing, estimate, summaries, n_a=n_a, n_b=n_b))
    return rows


def _replace_rows(catalog: Catalog, run_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
    with catalog.transaction() as cursor:
        catalog.delete_test_results(cursor, run_id)
        for row in rows:
            catalog.insert_test_result(cursor, row)


def recompute_baseline_tests(workspace: Workspace, pipeline_id: str) -> list[list[dict[str, Any]]]:
    """Recompute the tests of every baseline run with leave-one-out thresholds (SPEC §9, §11.1).

    For each done baseline run of the pipeline (current processing hash and package
    version), its A and B chunk tables are read from the cache and the tests are
    computed against the baseline set *excluding the run itself*; its
    ``test_results`` rows are replaced (one transaction per run). The runs are tested two
    at a time in threads (the sorting and the Rust kernels release the GIL); only this
    thread writes the catalog, in run order.

    Returns
    -------
    list
        The new rows of each baseline run, in run-index order.

    Raises
    ------
    CacheMissError
        A baseline run's chunk table was cleaned from the cache.
    """
    pipeline = load_pipeline(workspace, pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    p_hash = processing.processing_hash()
    results = []
    with Catalog.open(workspace.catalog_path) as catalog:
        every = load_baseline_runs(catalog, pipeline.id, p_hash)
        runs = [dict(run) for run in catalog.baseline_runs(pipeline.id, p_hash, CODE_VERSION)]
        stored = {run["run_id"]: [dict(r) for r in catalog.test_result_rows(run["run_id"])] for run in runs}

        def retest(run: Mapping[str, Any]) -> list[dict[str, Any]]:
            run_id = str(run["run_id"])
            return _retest_rows(workspace, processing, run, stored[run_id], leave_one_out(every, run_id),
                                every.get(run_id))

        with ThreadPoolExecutor(max_workers=2) as pool:
            for run, rows in zip(runs, pool.map(retest, runs)):
                _replace_rows(catalog, str(run["run_id"]), rows)
                results.append(rows)
    return results


def retest_run(workspace: Workspace, pipeline_id: str) -> RunOutcome:
    """``run --retest``: the main run's tests from its cached chunk tables and the current baseline.

    Raises
    ------
    PrerequisiteError
        No done main run for the current processing and version, or no baseline.
    CacheMissError
        The run's chunk tables were cleaned from the cache.
    """
    plan = plan_run(workspace, pipeline_id, plots=False)
    pipeline = load_pipeline(workspace, pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    with Catalog.open(workspace.catalog_path) as catalog:
        run = catalog.done_run_row(plan.run_id)
        if run is None:
            raise PrerequisiteError(f"pipeline '{pipeline_id}' has no finished main run for processing "
                                    f"'{processing.id}' to retest; run `lightlane run {pipeline_id}` first")
        stored = [dict(r) for r in catalog.test_result_rows(plan.run_id)]
        _replace_rows(catalog, plan.run_id, _retest_rows(workspace, processing, run, stored, plan.summaries))
        outcome = stored_outcome(catalog, plan.run_id)
    if workspace.run_folder(plan.pipeline_id, plan.run_id).is_dir():
        write_pages(workspace, [plan.run_id])  # the page shows the new verdicts
    return outcome


def _check_random_b(workspace: Workspace, pipeline_id: str, processing_hash: str) -> None:
    with Catalog.open(workspace.catalog_path) as catalog:
        hashes = [r["b_events_hash"] for r in catalog.baseline_runs(pipeline_id, processing_hash, CODE_VERSION)]
    if len(hashes) >= 2 and len(set(hashes)) == 1:
        raise DataError(f"pipeline {pipeline_id!r}: {NO_RANDOM_TASK_MESSAGE}")


def ensure_baselines(
    workspace: Workspace,
    pipeline_ids: Sequence[str],
    runs: int,
    execution: Execution = Execution(),
    *,
    keep_data: bool = False,
    plots: bool = False,
    progress: bool = False,
) -> list[RunOutcome]:
    """Top the baselines of pipelines up to ``runs`` runs each (SPEC §9); resumable.

    Baseline indices 1…``runs`` already done for a pipeline, its processing hash and
    the package version are skipped (unless an attempt left staged files, see
    :func:`lightlane.pipelines.recording.unfinished_attempt`); the others are independent units (Dask when
    ``execution`` says so). Then every baseline run's tests are recomputed with
    leave-one-out thresholds (:func:`recompute_baseline_tests`).

    Returns
    -------
    list of RunOutcome
        The runs executed by this call (empty when the baselines were complete).

    Raises
    ------
    DataError
        "B has no random task; calibration impossible" when the B outputs of all
        baseline runs (at least 2) of a pipeline have the same events_hash. Checked as
        each run is recorded, so few runs are spent.
    """
    if isinstance(runs, bool) or int(runs) < 1:
        raise ValueError(f"baseline runs must be ≥ 1, got {runs!r}")
    plans = []
    hashes = {}
    for pipeline_id in pipeline_ids:
        pipeline = load_pipeline(workspace, pipeline_id)
        processing = workspace.load(ProcessingParameters, pipeline.processing)
        hashes[pipeline.id] = p_hash = processing.processing_hash()
        _check_random_b(workspace, pipeline.id, p_hash)
        with Catalog.open(workspace.catalog_path) as catalog:
            rows = catalog.baseline_runs(pipeline.id, p_hash, CODE_VERSION)
            # runs made before P3 have no P3 row: they are run again (same seed, same other results)
            with_p3 = catalog.runs_with_result([str(r["run_id"]) for r in rows], P3_METRIC)
            done = {int(r["run_index"]) for r in rows
                    if not unfinished_attempt(workspace, pipeline.id, r["run_id"]) and r["run_id"] in with_p3}
        plans += [plan_run(workspace, pipeline.id, run_index=i, kind="baseline", keep_data=keep_data, plots=plots)
                  for i in range(1, int(runs) + 1) if i not in done]
    label = f"baseline {pipeline_ids[0]}" if len(pipeline_ids) == 1 else "baseline runs"
    outcomes = run_plans(workspace, plans, execution, progress=label if progress else None,
                         after=lambda plan: _check_random_b(workspace, plan.pipeline_id, hashes[plan.pipeline_id]))
    for pipeline_id in pipeline_ids:
        if _loo_stale(workspace, pipeline_id, hashes[pipeline_id]):
            recompute_baseline_tests(workspace, pipeline_id)
    if plots:
        _rewrite_baseline_pages(workspace, pipeline_ids, hashes)
    return outcomes


def _rewrite_baseline_pages(workspace: Workspace, pipeline_ids: Sequence[str], hashes: Mapping[str, str]) -> None:
    """The pages of every baseline run with a run folder: their tests changed with the leave-one-out pass."""
    with Catalog.open(workspace.catalog_path) as catalog:
        run_ids = [str(r["run_id"]) for p in pipeline_ids for r in catalog.baseline_runs(p, hashes[p], CODE_VERSION)
                   if workspace.run_folder(p, str(r["run_id"])).is_dir()]
    write_pages(workspace, run_ids)


def _loo_stale(workspace: Workspace, pipeline_id: str, processing_hash: str) -> bool:
    """Whether some baseline run's tests were not made against the other R − 1 runs (new runs, or a
    command interrupted before the recomputation)."""
    with Catalog.open(workspace.catalog_path) as catalog:
        runs = catalog.baseline_runs(pipeline_id, processing_hash, CODE_VERSION)
        ids = [r["run_id"] for r in runs]
        if not ids:
            return False
        stale = catalog.count_stale_results(ids, len(ids) - 1)
    return stale > 0


def ensure_baseline(workspace: Workspace, pipeline_id: str, runs: int, *, keep_data: bool = False,
                    progress: bool = False, execution: Execution = Execution(), plots: bool = False) -> list[RunOutcome]:
    """:func:`ensure_baselines` for one pipeline."""
    return ensure_baselines(workspace, [pipeline_id], runs, execution, keep_data=keep_data, plots=plots,
                            progress=progress)
