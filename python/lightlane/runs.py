"""Pipeline runs and baseline runs (SPEC §9, §11, §4.4).

A *run* executes a pipeline's A and B task chains with one run seed, analyses
both outputs with the same processing and analysis seed = run seed (common
random numbers, SPEC §9), computes the tests of SPEC §11 for every test metric
of the processing and records everything in the catalog.

Run ids
-------
``<pipeline>-<kind>-<run_index>-<tag>`` where ``kind`` is ``pipeline`` (the
main run, index 0) or ``baseline`` (indices 1, 2, …) and ``tag`` is the first
8 hex digits of SHA-256(processing_hash + ":" + code_version). A run of the
same pipeline, index, processing hash and package version therefore replaces
its previous row (and its test results / null summaries); runs made under
another processing or version keep their own rows.

Catalog writes
--------------
A ``runs`` row with status ``running`` is written when the work starts (one
transaction). When the run has finished, ONE transaction writes the final
``runs`` row (status ``done``), its ``test_results`` rows (one per test
metric) and, for a baseline run, its ``null_summaries`` rows. When the run
fails after it started, the row is set to status ``failed`` with the error
text and the exception is re-raised. A main run whose baseline set is empty
fails with :class:`~lightlane.exceptions.PrerequisiteError` *before* it
starts: nothing is written.

The caller holds the workspace lock (as for
:func:`lightlane.derived.write_task_output`); this module never takes it.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from . import _core, baselines, cache, stats
from .analysis import Analysis, analyze_events
from .baselines import NullSummary
from .binning import width_set
from .catalog import TEST_RESULT_COLUMNS, Catalog, utc_now
from .chunks import METRICS
from .derived import in_memory_events_hash, write_task_output
from .exceptions import CacheMissError, DataError, LightlaneWarning
from .metadata import Pipeline, ProcessingParameters
from .pipelines import load_pipeline, task_json
from .tasks import EventSet, apply_chain
from .metadata.values import MAX_SEED
from .version import CODE_VERSION
from .workspace import Workspace

__all__ = [
    "RUN_DOMAIN",
    "SIGNED_METRICS",
    "NO_RANDOM_TASK_MESSAGE",
    "RunOutcome",
    "run_seed",
    "run_id_for",
    "execute_run",
    "result_rows",
    "recompute_baseline_tests",
    "ensure_baseline",
]

#: RNG domain of run seeds (SPEC §9: key(pipeline.seed, RUN, run_index)).
RUN_DOMAIN = 10

#: Metrics whose sign carries meaning (SPEC §10.5): P1d and P1e apply to them only.
SIGNED_METRICS: frozenset[str] = frozenset({"ev", "evs", "fel", "feg", "vea", "vesa", "nxs"})

#: The error of a baseline whose B replicates are all identical (SPEC §9).
NO_RANDOM_TASK_MESSAGE = "B has no random task; calibration impossible"

_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in TEST_RESULT_COLUMNS)


@dataclass(frozen=True)
class RunOutcome:
    """What one finished run produced.

    Attributes
    ----------
    run_id
        The catalog key of the run (see the module docstring).
    kind
        ``"pipeline"`` (main run) or ``"baseline"``.
    run_index
        0 for the main run, ≥ 1 for baseline runs.
    seed
        The run seed (= analysis seed).
    a_dataset, b_dataset
        Ids of the written A and B datasets, None when not kept.
    a_events_hash, b_events_hash
        events_hash of the A and B outputs.
    rows
        The ``test_results`` rows, one dict per test metric (keys: ``run_id``,
        ``metric`` and every §11.7 column).
    null_summaries
        metric → B's :class:`~lightlane.baselines.NullSummary` (baseline runs; empty
        for a main run).
    """

    run_id: str
    kind: str
    run_index: int
    seed: int
    a_dataset: str | None
    b_dataset: str | None
    a_events_hash: str
    b_events_hash: str
    rows: tuple[dict[str, Any], ...] = ()
    null_summaries: Mapping[str, NullSummary] = field(default_factory=dict)


# ----------------------------------------------------------------------------- seeds and ids


def run_seed(pipeline: Pipeline, run_index: int) -> int:
    """The run seed ``key(pipeline.seed, RUN, run_index)`` (SPEC §9).

    Parameters
    ----------
    pipeline
        The pipeline (its ``seed``).
    run_index
        0 for the main run, 1, 2, … for baseline runs.

    Returns
    -------
    int
        A seed in [0, 2⁶³ − 1]: ``key(...)`` is a u64, but SPEC §1 requires every
        seed to be ≤ 2⁶³ − 1 (and the analysis rejects larger ones), so the top
        bit is cleared: ``key(pipeline.seed, RUN, run_index) & (2⁶³ − 1)``.
    """
    if isinstance(run_index, bool) or int(run_index) < 0:
        raise ValueError(f"run index must be an integer ≥ 0, got {run_index!r}")
    return int(_core.key(int(pipeline.seed), RUN_DOMAIN, [int(run_index)])) & MAX_SEED


def run_id_for(pipeline_id: str, kind: str, run_index: int, processing_hash: str,
               code_version: str = CODE_VERSION) -> str:
    """The run id ``<pipeline>-<kind>-<index>-<tag>`` (tag: processing hash and version).

    Parameters
    ----------
    pipeline_id, kind, run_index
        What the run is.
    processing_hash
        :meth:`ProcessingParameters.processing_hash` of the processing in effect.
    code_version
        The package version.

    Returns
    -------
    str
    """
    tag = hashlib.sha256(f"{processing_hash}:{code_version}".encode()).hexdigest()[:8]
    return f"{pipeline_id}-{kind}-{int(run_index)}-{tag}"


# ----------------------------------------------------------------------------- tests


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _column(table: pl.DataFrame, metric: str) -> np.ndarray:
    return table[metric].to_numpy().astype(np.float64, copy=False)


def result_rows(
    run_id: str,
    processing: ProcessingParameters,
    a_table: pl.DataFrame,
    b_table: pl.DataFrame,
    analysis_seed: int,
    summaries: Mapping[str, Sequence[NullSummary]],
    *,
    n_a: int | None,
    n_b: int | None,
) -> list[dict[str, Any]]:
    """The ``test_results`` rows of one run, one per test metric (SPEC §11.2–§11.7).

    Parameters
    ----------
    run_id
        The run.
    processing
        The processing (test metrics, p0, α, ci_level, bootstrap_resamples, top_fraction, band).
    a_table, b_table
        A's and B's chunk tables.
    analysis_seed
        The analysis seed (bootstrap stream).
    summaries
        metric → the baseline set's null summaries (excluding this run). An empty
        set leaves P1a and the calibrated columns NULL, with a note.
    n_a, n_b
        Selected event counts of A and B (stored as ``n_a``/``n_b``).

    Returns
    -------
    list of dict
        Keys ``run_id``, ``metric`` and every column of
        :data:`lightlane.catalog.TEST_RESULT_COLUMNS` (missing ones None).
    """
    p0 = processing.tail_fraction
    alpha = processing.significance_level
    centres = processing.band.centres_nm()
    rows = []
    for metric in processing.test_metrics:
        signed = metric in SIGNED_METRICS
        a_all, b_all = _column(a_table, metric), _column(b_table, metric)
        a, b = _finite(a_all), _finite(b_all)
        notes: list[str] = []
        if a.size < a_all.size or b.size < b_all.size:
            notes.append(f"{a_all.size - a.size} A and {b_all.size - b.size} B chunks with non-finite "
                         f"{metric} ignored")
        if a.size == 0 or b.size == 0:
            row: dict[str, Any] = {"notes": "; ".join(notes + ["A or B has no finite value; all tests UNDEFINED"])}
            for name in _COLUMN_NAMES:
                if name.endswith("verdict") or name.endswith("verdict_calibrated"):
                    row.setdefault(name, stats.UNDEFINED)
        else:
            own = NullSummary.from_values(metric, b, p0)
            parts: list[Mapping[str, Any]] = [
                {"notes": notes, "p1a_q_run": own.q},
                stats.p1b_p1c(a, b, alpha, processing.bootstrap_resamples, analysis_seed, METRICS.index(metric)),
                stats.p1d(a, b, signed),
                stats.p1e(a, b, signed),
                stats.p2(a_table, b_table, metric, processing.top_fraction, centres, alpha),
            ]
            merged_p2 = stats.merge_results(parts[-1])
            reference = NullSummary.from_values(
                metric, b, p0, (merged_p2.get("p2_slope_b"), merged_p2.get("p2_se_b")))
            baseline_set = list(summaries.get(metric, ()))
            if baseline_set:
                calibrated = baselines.calibrated_columns(
                    a, baseline_set, p0=p0, alpha=alpha, signed=signed,
                    p2_slope_a=merged_p2.get("p2_slope_a"), reference=reference)
                naive = stats.p1a(a, calibrated["p1a_threshold"], p0, alpha, processing.ci_level)
                parts += [naive, calibrated]
            else:
                parts.append({"baseline_runs": 0, "notes": ["no baseline runs: P1a and calibrated p-values not computed"]})
            row = stats.merge_results(*parts)
        out = {"run_id": run_id, "metric": metric}
        out.update({name: row.get(name) for name in _COLUMN_NAMES})
        out["n_a"] = None if n_a is None else int(n_a)
        out["n_b"] = None if n_b is None else int(n_b)
        rows.append({k: _plain(v) for k, v in out.items()})
    return rows


def _plain(value: Any) -> Any:
    """Numpy scalars → Python scalars; NaN → None (SQLite NULL)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _null_summaries(processing: ProcessingParameters, b_table: pl.DataFrame) -> dict[str, NullSummary]:
    """B's per-metric null summaries, with B's own P2 slope (SPEC §9, §11.1)."""
    centres = processing.band.centres_nm()
    out = {}
    for metric in processing.test_metrics:
        values = _finite(_column(b_table, metric))
        if values.size == 0:
            raise DataError(f"baseline B has no finite {metric} value; no null summary")
        _, slope, se, _reason = stats.p2_slope(b_table, metric, processing.top_fraction, centres)
        out[metric] = NullSummary.from_values(metric, values, processing.tail_fraction, (slope, se))
    return out


# ----------------------------------------------------------------------------- catalog helpers


def _write_final(catalog: Catalog, run_row: dict[str, Any], rows: Sequence[Mapping[str, Any]],
                 summaries: Mapping[str, NullSummary] | None) -> None:
    run_id = run_row["run_id"]
    with catalog.transaction() as cursor:
        cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
        cursor.execute("DELETE FROM null_summaries WHERE run_id = ?", (run_id,))
        catalog.insert(cursor, "runs", run_row, replace=True)
        for row in rows:
            catalog.insert(cursor, "test_results", row)
        if summaries:
            baselines.store_null_summaries(catalog, cursor, run_id, summaries)


def _mark_running(catalog: Catalog, run_row: dict[str, Any]) -> None:
    run_id = run_row["run_id"]
    with catalog.transaction() as cursor:
        cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
        cursor.execute("DELETE FROM null_summaries WHERE run_id = ?", (run_id,))
        catalog.insert(cursor, "runs", run_row, replace=True)


def _mark_failed(catalog: Catalog, run_id: str, error: BaseException) -> None:
    with catalog.transaction() as cursor:
        cursor.execute("UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE run_id = ?",
                       (f"{type(error).__name__}: {error}", utc_now(), run_id))


# ----------------------------------------------------------------------------- execution


def _analyse(events: EventSet, processing: ProcessingParameters, seed: int, dataset_id: str,
             workspace: Workspace, events_hash: str) -> Analysis:
    # EventSet carries events, gti, tstart_s and tstop_s; the hash is passed explicitly.
    return analyze_events(events, processing, seed, dataset_id=dataset_id,  # type: ignore[arg-type]
                          coordinates=events.coordinates, cache_root=workspace.root / "cache",
                          events_hash=events_hash)


def execute_run(
    workspace: Workspace,
    pipeline_id: str,
    *,
    run_index: int = 0,
    kind: Literal["pipeline", "baseline"] = "pipeline",
    seed: int | None = None,
    keep_data: bool | None = None,
) -> RunOutcome:
    """Execute one run of a pipeline and record it (SPEC §9).

    Parameters
    ----------
    workspace
        An initialised workspace (the caller holds its lock).
    pipeline_id
        The pipeline.
    run_index
        0 for the main run; ≥ 1 for baseline runs.
    kind
        ``"pipeline"`` (main run: A and B are written, tests need a baseline) or
        ``"baseline"`` (B's null summaries are stored).
    seed
        Overrides the run seed ``key(pipeline.seed, RUN, run_index)`` (recorded).
    keep_data
        Write A and B as datasets. Default: True for a main run, False for a
        baseline run (ids ``<pipeline>_<side>`` / ``<pipeline>_<side>_r<index>``).

    Returns
    -------
    RunOutcome

    Raises
    ------
    PrerequisiteError
        A main run whose baseline set is empty (SPEC §11.1 message); nothing is written.
    DataError, MetadataError
        From the chains, the analysis or the tests (the run is recorded as failed).
    """
    if kind not in ("pipeline", "baseline"):
        raise ValueError(f"run kind must be 'pipeline' or 'baseline', got {kind!r}")
    if kind == "pipeline" and run_index != 0:
        raise ValueError("the main run has index 0")
    if kind == "baseline" and run_index < 1:
        raise ValueError("baseline runs have indices 1, 2, …")
    keep = (kind == "pipeline") if keep_data is None else bool(keep_data)
    pipeline = load_pipeline(workspace, pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    p_hash = processing.processing_hash()
    rseed = run_seed(pipeline, run_index) if seed is None else int(seed)
    if not 0 <= rseed <= MAX_SEED:
        raise ValueError(f"run seed must be in [0, 2^63 − 1], got {rseed!r}")
    run_id = run_id_for(pipeline.id, kind, run_index, p_hash)

    with Catalog.open(workspace.catalog_path) as catalog:
        summaries = baselines.load_baseline_set(catalog, pipeline.id, p_hash, exclude_run_id=run_id)
        if kind == "pipeline":
            R = max((len(v) for v in summaries.values()), default=0)
            baselines.require_baseline(R, pipeline.id, processing.id, p_hash)
        started = utc_now()
        base_row: dict[str, Any] = {
            "run_id": run_id, "kind": kind, "pipeline_id": pipeline.id, "processing_id": processing.id,
            "processing_hash": p_hash, "run_index": int(run_index), "seed": int(rseed),
            "status": "running", "started_at": started,
        }
        _mark_running(catalog, base_row)
        try:
            outcome, final_row, rows, nulls = _execute(workspace, pipeline, processing, rseed, run_index, kind,
                                                       keep, run_id, summaries)
            final_row = {**base_row, **final_row, "status": "done", "finished_at": utc_now()}
            _write_final(catalog, final_row, rows, nulls)
        except BaseException as error:
            try:
                _mark_failed(catalog, run_id, error)
            finally:
                raise
    return outcome


def _execute(workspace: Workspace, pipeline: Pipeline, processing: ProcessingParameters, rseed: int,
             run_index: int, kind: str, keep: bool, run_id: str,
             summaries: Mapping[str, Sequence[NullSummary]]):
    widths = width_set(processing)
    source_generation = pipeline.source.generation
    if pipeline.source.dataset is not None:
        source = EventSet.from_dataset(workspace, pipeline.source.dataset)
    else:
        source = EventSet.empty()
    a_events = apply_chain(pipeline.a_tasks, source, processing, rseed, 0, width_set=widths,
                           workspace=workspace, source_generation=source_generation,
                           where=f"pipeline {pipeline.id!r} a_tasks")
    b_input = a_events if pipeline.b_input == "a" else source
    b_events = apply_chain(pipeline.b_tasks, b_input, processing, rseed, 1, width_set=widths,
                           workspace=workspace, source_generation=source_generation,
                           where=f"pipeline {pipeline.id!r} b_tasks")
    if b_events.count and abs(a_events.count - b_events.count) / b_events.count > 0.01:
        warnings.warn(f"pipeline {pipeline.id!r} run {run_index}: A has {a_events.count} events, B has "
                      f"{b_events.count} (more than 1 % apart)", LightlaneWarning, stacklevel=3)
    a_hash, b_hash = in_memory_events_hash(a_events), in_memory_events_hash(b_events)
    a_id = b_id = None
    generated: list[str] = []
    if keep:
        metas = []
        for side, events in (("a", a_events), ("b", b_events)):
            meta = write_task_output(workspace, events, pipeline_id=pipeline.id, side=side,
                                     processing=processing, run_seed=rseed, run_index=run_index,
                                     parent_id=pipeline.source.dataset)
            metas.append(meta)
            if meta.synthetic:
                generated.append(meta.id)
        a_id, b_id = metas[0].id, metas[1].id
    a_name = a_id or f"{pipeline.id}_a_r{run_index}"
    b_name = b_id or f"{pipeline.id}_b_r{run_index}"
    a_analysis = _analyse(a_events, processing, rseed, a_name, workspace, a_hash)
    b_analysis = _analyse(b_events, processing, rseed, b_name, workspace, b_hash)

    rows = result_rows(run_id, processing, a_analysis.chunks, b_analysis.chunks, rseed, summaries,
                     n_a=a_analysis.n_selected, n_b=b_analysis.n_selected)
    nulls = _null_summaries(processing, b_analysis.chunks) if kind == "baseline" else {}

    resolved = {
        "width_set_s": [float(w) for w in widths],
        "a_tasks": task_json(a_events.tasks),
        "b_tasks": task_json(b_events.tasks),
        "b_input": pipeline.b_input,
        "analysis_seed": str(rseed),
        "generations": {"a": _generation_id(a_events), "b": _generation_id(b_events)},
    }
    final_row = {
        "a_dataset": a_id, "b_dataset": b_id, "a_events_hash": a_hash, "b_events_hash": b_hash,
        "a_chunks_key": a_analysis.chunks_key, "b_chunks_key": b_analysis.chunks_key,
        "resolved_json": json.dumps(resolved, sort_keys=True), "error": None,
    }
    if kind == "pipeline" and a_id is not None and b_id is not None:
        _record_outputs(workspace, pipeline, run_id, a_id, b_id, generated)
    outcome = RunOutcome(run_id=run_id, kind=kind, run_index=int(run_index), seed=int(rseed), a_dataset=a_id,
                         b_dataset=b_id, a_events_hash=a_hash, b_events_hash=b_hash, rows=tuple(rows),
                         null_summaries=dict(nulls))
    return outcome, final_row, rows, nulls


def _generation_id(events: EventSet) -> str | None:
    generation = events.generation
    return None if generation is None else getattr(generation, "id", None)


def _record_outputs(workspace: Workspace, pipeline: Pipeline, run_id: str, a_id: str, b_id: str,
                    generated: Sequence[str]) -> None:
    """Record ``outputs`` in the pipeline JSON (SPEC §5.5)."""
    import dataclasses

    from .metadata.pipeline import Outputs

    outputs = Outputs(run_id=run_id, a=a_id, b=b_id, generated=tuple(generated))
    workspace.save(dataclasses.replace(pipeline, outputs=outputs))


# ----------------------------------------------------------------------------- baselines


def _baseline_runs(connection: sqlite3.Connection, pipeline_id: str, processing_hash: str) -> list[sqlite3.Row]:
    cursor = connection.execute(
        "SELECT * FROM runs WHERE kind = 'baseline' AND status = 'done' AND pipeline_id = ? "
        "AND processing_hash = ? AND code_version = ? ORDER BY run_index, run_id",
        (pipeline_id, processing_hash, CODE_VERSION))
    cursor.row_factory = sqlite3.Row
    return cursor.fetchall()


def _cached_table(digest: str | None, workspace: Workspace, what: str) -> pl.DataFrame:
    if digest is None:
        raise CacheMissError(f"{what}: no chunk-table key recorded")
    table = cache.load(cache.CacheKey("chunks", {}, digest), workspace.root / "cache")
    if table is None:
        raise CacheMissError(f"{what}: chunk table {digest[:12]}… is not in the cache (cleaned?); "
                             f"re-run the baseline")
    return table


def recompute_baseline_tests(workspace: Workspace, pipeline_id: str) -> list[list[dict[str, Any]]]:
    """Recompute the tests of every baseline run with leave-one-out thresholds (SPEC §9, §11.1).

    For each done baseline run of the pipeline (current processing hash and
    package version), its A and B chunk tables are read from the cache and the
    tests are computed against the baseline set *excluding the run itself*; its
    ``test_results`` rows are replaced (one transaction per run).

    Parameters
    ----------
    workspace
        The workspace (the caller holds its lock).
    pipeline_id
        The pipeline.

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
        for run in _baseline_runs(catalog.connection, pipeline.id, p_hash):
            run_id = run["run_id"]
            a_table = _cached_table(run["a_chunks_key"], workspace, f"baseline run {run_id} A")
            b_table = _cached_table(run["b_chunks_key"], workspace, f"baseline run {run_id} B")
            summaries = baselines.load_baseline_set(catalog, pipeline.id, p_hash, exclude_run_id=run_id)
            old = {r["metric"]: (r["n_a"], r["n_b"]) for r in catalog.connection.execute(
                "SELECT metric, n_a, n_b FROM test_results WHERE run_id = ?", (run_id,)).fetchall()}
            n_a, n_b = next(iter(old.values()), (None, None))
            seed = int(run["seed"])
            rows = result_rows(run_id, processing, a_table, b_table, seed, summaries, n_a=n_a, n_b=n_b)
            with catalog.transaction() as cursor:
                cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
                for row in rows:
                    catalog.insert(cursor, "test_results", row)
            results.append(rows)
    return results


def _check_random_b(workspace: Workspace, pipeline_id: str, processing_hash: str) -> None:
    with Catalog.open(workspace.catalog_path) as catalog:
        hashes = [r["b_events_hash"] for r in _baseline_runs(catalog.connection, pipeline_id, processing_hash)]
    if len(hashes) >= 2 and len(set(hashes)) == 1:
        raise DataError(f"pipeline {pipeline_id!r}: {NO_RANDOM_TASK_MESSAGE}")


def ensure_baseline(
    workspace: Workspace,
    pipeline_id: str,
    runs: int,
    *,
    keep_data: bool = False,
    progress: bool = False,
) -> list[RunOutcome]:
    """Top the baseline of a pipeline up to ``runs`` runs (SPEC §9); resumable.

    Baseline indices 1…``runs`` that are already done for this pipeline,
    processing hash and package version are skipped; the others are executed
    in order. Then every baseline run's tests are recomputed with
    leave-one-out thresholds (:func:`recompute_baseline_tests`).

    Parameters
    ----------
    workspace
        The workspace (the caller holds its lock).
    pipeline_id
        The pipeline.
    runs
        The number of baseline runs wanted (N ≥ 1).
    keep_data
        Write the baseline A and B event files (``<pipeline>_<side>_r<index>``).
    progress
        Show a tqdm progress bar (stderr, TTY only).

    Returns
    -------
    list of RunOutcome
        The runs executed by this call (empty when the baseline was complete).

    Raises
    ------
    DataError
        "B has no random task; calibration impossible" when the B outputs of
        all baseline runs (at least 2) have the same events_hash. The check is
        made as soon as 2 runs exist, so at most 2 runs are spent.
    """
    if isinstance(runs, bool) or int(runs) < 1:
        raise ValueError(f"baseline runs must be ≥ 1, got {runs!r}")
    pipeline = load_pipeline(workspace, pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    p_hash = processing.processing_hash()
    with Catalog.open(workspace.catalog_path) as catalog:
        done = {int(r["run_index"]) for r in _baseline_runs(catalog.connection, pipeline.id, p_hash)}
    missing = [i for i in range(1, int(runs) + 1) if i not in done]
    iterator: Any = missing
    if progress and missing:
        import sys

        from tqdm import tqdm

        iterator = tqdm(missing, desc=f"baseline {pipeline.id}", disable=not sys.stderr.isatty(), file=sys.stderr)
    outcomes = []
    _check_random_b(workspace, pipeline.id, p_hash)
    for index in iterator:
        outcomes.append(execute_run(workspace, pipeline.id, run_index=index, kind="baseline", keep_data=keep_data))
        _check_random_b(workspace, pipeline.id, p_hash)
    recompute_baseline_tests(workspace, pipeline.id)
    return outcomes
