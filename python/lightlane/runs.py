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

Plan, compute, record (SPEC §19)
--------------------------------
The client makes a :class:`RunPlan` (run id, seed, the baseline set read from
the catalog); :func:`compute_run` turns it into a :class:`ComputedRun` anywhere
— inline or on a Dask worker — writing only the run's own files (event files,
cache, plots); the client then records it. A ``runs`` row with status
``running`` is written when a unit starts (one transaction). When it has
finished, ONE transaction writes the datasets' catalog rows, the final ``runs``
row (status ``done``), its ``test_results`` rows (one per test metric) and, for
a baseline run, its ``null_summaries`` rows. A failed run is set to status
``failed`` with the error text and the exception is re-raised. A main run whose
baseline set is empty fails with :class:`~lightlane.exceptions.PrerequisiteError`
*before* anything starts: nothing is written.

The caller holds the workspace lock (as for
:func:`lightlane.derived.write_task_output`); this module never takes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sqlite3
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from . import _core, baselines, cache, stats
from .analysis import Analysis, analyze_events
from .baselines import NullSummary
from .binning import width_set
from .catalog import TEST_RESULT_COLUMNS, Catalog, utc_now
from .chunks import METRICS
from .derived import TaskOutput, in_memory_events_hash, record_task_output, stage_task_output
from .exceptions import CacheMissError, DataError, LightlaneWarning, PrerequisiteError
from .metadata import Pipeline, ProcessingParameters
from .metadata.pipeline import Outputs
from .metadata.values import MAX_SEED
from .pipelines import load_pipeline, task_json
from .scale import Execution, run_units
from .tasks import EventSet, apply_chain
from .version import CODE_VERSION
from .workspace import Workspace

__all__ = [
    "RUN_DOMAIN",
    "SIGNED_METRICS",
    "NO_RANDOM_TASK_MESSAGE",
    "RunOutcome",
    "RunPlan",
    "ComputedRun",
    "run_seed",
    "run_id_for",
    "run_folder",
    "plan_run",
    "compute_run",
    "execute_run",
    "execute_runs",
    "stored_outcome",
    "retest_run",
    "result_rows",
    "recompute_baseline_tests",
    "ensure_baselines",
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
    plots
        Paths of the figures drawn (SPEC §14).
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
    plots: tuple[str, ...] = ()


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


# ----------------------------------------------------------------------------- plans and results


@dataclass(frozen=True)
class RunPlan:
    """Everything a worker needs to compute one run; made by the client (picklable).

    The baseline set is read by the client when the plan is made, so the result
    does not depend on when or where the unit runs. Baseline runs carry an empty
    set: their tests are recomputed with leave-one-out thresholds once the
    baseline is complete (:func:`recompute_baseline_tests`).
    """

    root: str
    pipeline_id: str
    kind: Literal["pipeline", "baseline"]
    run_index: int
    run_id: str
    seed: int
    processing_hash: str
    keep: bool
    plots: bool
    summaries: Mapping[str, tuple[NullSummary, ...]] = field(default_factory=dict)

    def running_row(self, processing_id: str) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "kind": self.kind, "pipeline_id": self.pipeline_id,
            "processing_id": processing_id, "processing_hash": self.processing_hash,
            "run_index": int(self.run_index), "seed": int(self.seed), "status": "running",
            "started_at": utc_now(),
        }


@dataclass(frozen=True)
class ComputedRun:
    """What a worker returns: the outcome, the catalog rows to write and the files it wrote."""

    outcome: RunOutcome
    run_fields: dict[str, Any]
    datasets: tuple[TaskOutput, ...]
    outputs: Outputs | None
    plots: tuple[str, ...]


def plan_run(
    workspace: Workspace,
    pipeline_id: str,
    *,
    run_index: int = 0,
    kind: Literal["pipeline", "baseline"] = "pipeline",
    seed: int | None = None,
    keep_data: bool | None = None,
    plots: bool | None = None,
) -> RunPlan:
    """The plan of one run (see :func:`execute_run` for the parameters).

    Raises
    ------
    PrerequisiteError
        A main run whose baseline set is empty (SPEC §11.1); nothing is written.
    """
    if kind not in ("pipeline", "baseline"):
        raise ValueError(f"run kind must be 'pipeline' or 'baseline', got {kind!r}")
    if kind == "pipeline" and run_index != 0:
        raise ValueError("the main run has index 0")
    if kind == "baseline" and run_index < 1:
        raise ValueError("baseline runs have indices 1, 2, …")
    pipeline = load_pipeline(workspace, pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    p_hash = processing.processing_hash()
    rseed = run_seed(pipeline, run_index) if seed is None else int(seed)
    if not 0 <= rseed <= MAX_SEED:
        raise ValueError(f"run seed must be in [0, 2^63 − 1], got {rseed!r}")
    run_id = run_id_for(pipeline.id, kind, run_index, p_hash)
    summaries: dict[str, list[NullSummary]] = {}
    if kind == "pipeline":
        with Catalog.open(workspace.catalog_path) as catalog:
            summaries = baselines.load_baseline_set(catalog, pipeline.id, p_hash, exclude_run_id=run_id)
            if not summaries:
                _require_baseline(catalog, pipeline, processing, p_hash)
    keep = (kind == "pipeline") if keep_data is None else bool(keep_data)
    draw = (kind == "pipeline") if plots is None else bool(plots)
    return RunPlan(root=str(workspace.root), pipeline_id=pipeline.id, kind=kind, run_index=int(run_index),
                   run_id=run_id, seed=rseed, processing_hash=p_hash, keep=keep, plots=draw,
                   summaries={m: tuple(v) for m, v in summaries.items()})


def _require_baseline(catalog: Catalog, pipeline: Pipeline, processing: ProcessingParameters, p_hash: str) -> None:
    """The SPEC §11.1 error, saying so when the baseline was made under another processing."""
    try:
        baselines.require_baseline(0, pipeline.id, processing.id, p_hash)
    except PrerequisiteError as error:
        other = catalog.connection.execute(
            "SELECT processing_hash, COUNT(*) FROM runs WHERE kind = 'baseline' AND status = 'done' "
            "AND pipeline_id = ? AND processing_hash != ? GROUP BY processing_hash ORDER BY 2 DESC",
            (pipeline.id, p_hash)).fetchone()
        if other is None:
            raise
        raise PrerequisiteError(
            f"{error}. Processing '{processing.id}' changed since the baseline: its {other[1]} baseline run(s) "
            f"were made with processing hash {other[0][:8]}") from None


def compute_run(plan: RunPlan) -> ComputedRun:
    """Compute one run without writing the catalog (runs inline or on a Dask worker, SPEC §19).

    Writes only the run's own files: A and B event files when kept, chunk tables in the
    cache and the plots of SPEC §14.
    """
    workspace = Workspace.at(plan.root)
    pipeline = load_pipeline(workspace, plan.pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    if processing.processing_hash() != plan.processing_hash:
        raise DataError(f"processing '{processing.id}' changed while the run was scheduled; run it again")
    widths = width_set(processing)
    source_generation = pipeline.source.generation
    source = (EventSet.from_dataset(workspace, pipeline.source.dataset) if pipeline.source.dataset is not None
              else EventSet.empty())
    a_events = apply_chain(pipeline.a_tasks, source, processing, plan.seed, 0, width_set=widths,
                           workspace=workspace, source_generation=source_generation,
                           where=f"pipeline {pipeline.id!r} a_tasks")
    b_input = a_events if pipeline.b_input == "a" else source
    b_events = apply_chain(pipeline.b_tasks, b_input, processing, plan.seed, 1, width_set=widths,
                           workspace=workspace, source_generation=source_generation,
                           where=f"pipeline {pipeline.id!r} b_tasks")
    if b_events.count and abs(a_events.count - b_events.count) / b_events.count > 0.01:
        warnings.warn(f"pipeline {pipeline.id!r} run {plan.run_index}: A has {a_events.count} events, B has "
                      f"{b_events.count} (more than 1 % apart)", LightlaneWarning, stacklevel=2)
    a_hash, b_hash = in_memory_events_hash(a_events), in_memory_events_hash(b_events)
    written: list[TaskOutput] = []
    if plan.keep:
        for side, events in (("a", a_events), ("b", b_events)):
            written.append(stage_task_output(workspace, events, pipeline_id=pipeline.id, side=side,
                                             processing=processing, run_seed=plan.seed, run_index=plan.run_index,
                                             parent_id=pipeline.source.dataset))
    a_id, b_id = (written[0].meta.id, written[1].meta.id) if written else (None, None)
    a_analysis = _analyse(a_events, processing, plan.seed, a_id or f"{pipeline.id}_a_r{plan.run_index}",
                          workspace, a_hash)
    b_analysis = _analyse(b_events, processing, plan.seed, b_id or f"{pipeline.id}_b_r{plan.run_index}",
                          workspace, b_hash)
    rows = result_rows(plan.run_id, processing, a_analysis.chunks, b_analysis.chunks, plan.seed, plan.summaries,
                       n_a=a_analysis.n_selected, n_b=b_analysis.n_selected)
    nulls = _null_summaries(processing, b_analysis.chunks) if plan.kind == "baseline" else {}
    plots = _draw(workspace, pipeline, plan, a_events, b_events, a_analysis, b_analysis, rows) if plan.plots else ()

    resolved = {
        "width_set_s": [float(w) for w in widths],
        "a_tasks": task_json(a_events.tasks),
        "b_tasks": task_json(b_events.tasks),
        "b_input": pipeline.b_input,
        "analysis_seed": str(plan.seed),
        "generations": {"a": _generation_id(a_events), "b": _generation_id(b_events)},
    }
    run_fields = {
        "a_dataset": a_id, "b_dataset": b_id, "a_events_hash": a_hash, "b_events_hash": b_hash,
        "a_chunks_key": a_analysis.chunks_key, "b_chunks_key": b_analysis.chunks_key,
        "resolved_json": json.dumps(resolved, sort_keys=True), "error": None,
    }
    outputs = None
    if plan.kind == "pipeline" and a_id is not None and b_id is not None:
        generated = tuple(o.meta.id for o in written if o.meta.synthetic)
        outputs = Outputs(run_id=plan.run_id, a=a_id, b=b_id, generated=generated)
    outcome = RunOutcome(run_id=plan.run_id, kind=plan.kind, run_index=plan.run_index, seed=plan.seed,
                         a_dataset=a_id, b_dataset=b_id, a_events_hash=a_hash, b_events_hash=b_hash,
                         rows=tuple(rows), null_summaries=dict(nulls), plots=plots)
    return ComputedRun(outcome, run_fields, tuple(written), outputs, plots)


def run_folder(workspace: Workspace, pipeline_id: str, run_id: str) -> Path:
    """``results/pipelines/<pipeline>/run-<run_id>/`` (SPEC §14)."""
    return workspace.root / "results" / "pipelines" / pipeline_id / f"run-{run_id}"


def _draw(workspace: Workspace, pipeline: Pipeline, plan: RunPlan, a_events: EventSet, b_events: EventSet,
          a: Analysis, b: Analysis, rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The SPEC §14 run figures; lanecount for the synthetic datasets among A, B and the source."""
    from .metadata import DatasetMeta, GenerationParameters
    from .run_figures import save_run_plots

    synthetic: list[tuple[str, GenerationParameters]] = []
    for name, events in ((a.dataset_id, a_events), (b.dataset_id, b_events)):
        if events.generation is not None:
            synthetic.append((name, events.generation))
    source = pipeline.source.dataset
    if not synthetic and source is not None:
        meta = workspace.load(DatasetMeta, source)
        if meta.synthetic and meta.generation_id and workspace.exists(GenerationParameters, meta.generation_id):
            synthetic.append((source, workspace.load(GenerationParameters, meta.generation_id)))
    paths = save_run_plots(run_folder(workspace, pipeline.id, plan.run_id), run_id=plan.run_id, a=a, b=b,
                           rows=rows, synthetic=synthetic)
    return tuple(str(p) for p in paths)


def _analyse(events: EventSet, processing: ProcessingParameters, seed: int, dataset_id: str,
             workspace: Workspace, events_hash: str) -> Analysis:
    # EventSet carries events, gti, tstart_s and tstop_s; the hash is passed explicitly.
    return analyze_events(events, processing, seed, dataset_id=dataset_id,  # type: ignore[arg-type]
                          coordinates=events.coordinates, cache_root=workspace.root / "cache",
                          events_hash=events_hash)


def _generation_id(events: EventSet) -> str | None:
    generation = events.generation
    return None if generation is None else getattr(generation, "id", None)


# ----------------------------------------------------------------------------- client side: the catalog


class _Recorder:
    """The client's catalog writes for run units: running, done (one transaction), failed."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._processing_ids: dict[str, str] = {}

    def _processing_id(self, pipeline_id: str) -> str:
        if pipeline_id not in self._processing_ids:
            self._processing_ids[pipeline_id] = load_pipeline(self.workspace, pipeline_id).processing
        return self._processing_ids[pipeline_id]

    def start(self, plan: RunPlan) -> None:
        row = plan.running_row(self._processing_id(plan.pipeline_id))
        with Catalog.open(self.workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            _clear_results(cursor, plan.run_id)
            catalog.insert(cursor, "runs", row, replace=True)

    def done(self, plan: RunPlan, computed: ComputedRun) -> None:
        row = {**plan.running_row(self._processing_id(plan.pipeline_id)), **computed.run_fields,
               "status": "done", "finished_at": utc_now()}
        with Catalog.open(self.workspace.catalog_path) as catalog:
            started = catalog.connection.execute("SELECT started_at FROM runs WHERE run_id = ?",
                                                 (plan.run_id,)).fetchone()
            if started is not None:
                row["started_at"] = started[0]
            with catalog.transaction() as cursor:
                for output in computed.datasets:
                    record_task_output(catalog, cursor, output)
                _clear_results(cursor, plan.run_id)
                catalog.insert(cursor, "runs", row, replace=True)
                for result in computed.outcome.rows:
                    catalog.insert(cursor, "test_results", result)
                if computed.outcome.null_summaries:
                    baselines.store_null_summaries(catalog, cursor, plan.run_id, computed.outcome.null_summaries)
        if computed.outputs is not None:
            pipeline = load_pipeline(self.workspace, plan.pipeline_id)
            self.workspace.save(dataclasses.replace(pipeline, outputs=computed.outputs))

    def fail(self, plan: RunPlan, error: BaseException) -> None:
        with Catalog.open(self.workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            cursor.execute("UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE run_id = ?",
                           (f"{type(error).__name__}: {error}", utc_now(), plan.run_id))


def _clear_results(cursor: sqlite3.Cursor, run_id: str) -> None:
    cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
    cursor.execute("DELETE FROM null_summaries WHERE run_id = ?", (run_id,))


def _run_plans(workspace: Workspace, plans: Sequence[RunPlan], execution: Execution, *,
               progress: str | None = None, after: Any = None) -> list[RunOutcome]:
    recorder = _Recorder(workspace)

    def record(plan: RunPlan, computed: ComputedRun) -> None:
        recorder.done(plan, computed)
        if after is not None:
            after(plan)

    computed = run_units(plans, compute_run, record, execution, start=recorder.start, fail=recorder.fail,
                         progress=progress)
    return [c.outcome for c in computed]


def execute_run(
    workspace: Workspace,
    pipeline_id: str,
    *,
    run_index: int = 0,
    kind: Literal["pipeline", "baseline"] = "pipeline",
    seed: int | None = None,
    keep_data: bool | None = None,
    plots: bool | None = None,
) -> RunOutcome:
    """Execute one run of a pipeline in this process and record it (SPEC §9).

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
    plots
        Draw the SPEC §14 run figures. Default: True for a main run only.

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
    plan = plan_run(workspace, pipeline_id, run_index=run_index, kind=kind, seed=seed, keep_data=keep_data,
                    plots=plots)
    return _run_plans(workspace, [plan], Execution())[0]


def _current_main_run(catalog: Catalog, plan: RunPlan) -> bool:
    """True when the plan's main run is done with this seed and the same baseline set size."""
    row = catalog.connection.execute("SELECT status, seed FROM runs WHERE run_id = ?", (plan.run_id,)).fetchone()
    if row is None or row[0] != "done" or int(row[1]) != plan.seed:
        return False
    used = catalog.connection.execute("SELECT MAX(baseline_runs) FROM test_results WHERE run_id = ?",
                                      (plan.run_id,)).fetchone()[0]
    wanted = max((len(v) for v in plan.summaries.values()), default=0)
    return used is not None and int(used) == wanted


def execute_runs(
    workspace: Workspace,
    pipeline_ids: Sequence[str],
    execution: Execution = Execution(),
    *,
    seed: int | None = None,
    plots: bool = True,
    skip_current: bool = False,
    progress: bool = False,
) -> list[RunOutcome]:
    """The main runs of several pipelines, as independent units (``run``, ``run --all``; SPEC §19).

    Every plan is made (and every baseline checked) before any run starts, so a missing
    baseline fails the command with nothing written. With ``skip_current`` a pipeline
    whose main run is already done with the same seed and baseline set is skipped
    (``run --all`` resumes); its stored outcome is returned instead.
    """
    plans = [plan_run(workspace, p, seed=seed, plots=plots) for p in pipeline_ids]
    done: dict[str, RunOutcome] = {}
    if skip_current:
        with Catalog.open(workspace.catalog_path) as catalog:
            done = {p.run_id: stored_outcome(catalog, p.run_id) for p in plans if _current_main_run(catalog, p)}
    todo = [p for p in plans if p.run_id not in done]
    outcomes = _run_plans(workspace, todo, execution, progress="runs" if progress and len(todo) > 1 else None)
    fresh = {o.run_id: o for o in outcomes}
    return [done.get(p.run_id) or fresh[p.run_id] for p in plans]


def stored_outcome(catalog: Catalog, run_id: str) -> RunOutcome:
    """A finished run as recorded in the catalog (rows without null summaries)."""
    run = catalog.connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if run is None:
        raise DataError(f"run {run_id!r} is not in the catalog")
    cursor = catalog.connection.execute("SELECT * FROM test_results WHERE run_id = ? ORDER BY metric", (run_id,))
    rows = tuple(dict(r) for r in cursor.fetchall())
    return RunOutcome(run_id=run_id, kind=run["kind"], run_index=int(run["run_index"]), seed=int(run["seed"]),
                      a_dataset=run["a_dataset"], b_dataset=run["b_dataset"], a_events_hash=run["a_events_hash"],
                      b_events_hash=run["b_events_hash"], rows=rows)


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


def _retest(catalog: Catalog, workspace: Workspace, processing: ProcessingParameters, run: sqlite3.Row,
            summaries: Mapping[str, Sequence[NullSummary]]) -> list[dict[str, Any]]:
    """Recompute one run's tests from its cached chunk tables; replace its rows (one transaction)."""
    run_id = run["run_id"]
    a_table = _cached_table(run["a_chunks_key"], workspace, f"run {run_id} A")
    b_table = _cached_table(run["b_chunks_key"], workspace, f"run {run_id} B")
    old = catalog.connection.execute("SELECT n_a, n_b FROM test_results WHERE run_id = ? LIMIT 1",
                                     (run_id,)).fetchone()
    n_a, n_b = (old[0], old[1]) if old is not None else (None, None)
    rows = result_rows(run_id, processing, a_table, b_table, int(run["seed"]), summaries, n_a=n_a, n_b=n_b)
    with catalog.transaction() as cursor:
        cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))
        for row in rows:
            catalog.insert(cursor, "test_results", row)
    return rows


def recompute_baseline_tests(workspace: Workspace, pipeline_id: str) -> list[list[dict[str, Any]]]:
    """Recompute the tests of every baseline run with leave-one-out thresholds (SPEC §9, §11.1).

    For each done baseline run of the pipeline (current processing hash and package
    version), its A and B chunk tables are read from the cache and the tests are
    computed against the baseline set *excluding the run itself*; its
    ``test_results`` rows are replaced (one transaction per run).

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
            summaries = baselines.load_baseline_set(catalog, pipeline.id, p_hash, exclude_run_id=run["run_id"])
            results.append(_retest(catalog, workspace, processing, run, summaries))
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
        run = catalog.connection.execute("SELECT * FROM runs WHERE run_id = ? AND status = 'done'",
                                         (plan.run_id,)).fetchone()
        if run is None:
            raise PrerequisiteError(f"pipeline '{pipeline_id}' has no finished main run for processing "
                                    f"'{processing.id}' to retest; run `lightlane run {pipeline_id}` first")
        _retest(catalog, workspace, processing, run, plan.summaries)
        return stored_outcome(catalog, plan.run_id)


def _check_random_b(workspace: Workspace, pipeline_id: str, processing_hash: str) -> None:
    with Catalog.open(workspace.catalog_path) as catalog:
        hashes = [r["b_events_hash"] for r in _baseline_runs(catalog.connection, pipeline_id, processing_hash)]
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
    the package version are skipped; the others are independent units (Dask when
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
            done = {int(r["run_index"]) for r in _baseline_runs(catalog.connection, pipeline.id, p_hash)}
        plans += [plan_run(workspace, pipeline.id, run_index=i, kind="baseline", keep_data=keep_data, plots=plots)
                  for i in range(1, int(runs) + 1) if i not in done]
    label = f"baseline {pipeline_ids[0]}" if len(pipeline_ids) == 1 else "baseline runs"
    outcomes = _run_plans(workspace, plans, execution, progress=label if progress else None,
                          after=lambda plan: _check_random_b(workspace, plan.pipeline_id, hashes[plan.pipeline_id]))
    for pipeline_id in pipeline_ids:
        if _loo_stale(workspace, pipeline_id, hashes[pipeline_id]):
            recompute_baseline_tests(workspace, pipeline_id)
    return outcomes


def _loo_stale(workspace: Workspace, pipeline_id: str, processing_hash: str) -> bool:
    """Whether some baseline run's tests were not made against the other R − 1 runs (new runs, or a
    command interrupted before the recomputation)."""
    with Catalog.open(workspace.catalog_path) as catalog:
        runs = _baseline_runs(catalog.connection, pipeline_id, processing_hash)
        ids = [r["run_id"] for r in runs]
        if not ids:
            return False
        marks = ", ".join("?" for _ in ids)
        stale = catalog.connection.execute(
            f"SELECT COUNT(*) FROM test_results WHERE run_id IN ({marks}) "
            f"AND (baseline_runs IS NULL OR baseline_runs != ?)", (*ids, len(ids) - 1)).fetchone()[0]
    return stale > 0


def ensure_baseline(workspace: Workspace, pipeline_id: str, runs: int, *, keep_data: bool = False,
                    progress: bool = False, execution: Execution = Execution(), plots: bool = False) -> list[RunOutcome]:
    """:func:`ensure_baselines` for one pipeline."""
    return ensure_baselines(workspace, [pipeline_id], runs, execution, keep_data=keep_data, plots=plots,
                            progress=progress)
