"""Pipeline runs (SPEC §9, §11, §4.4, §19): plan, compute anywhere, record in the client.

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
``running`` is written when a unit starts (one transaction), unless the run id
already has a ``done`` row: a repeated run leaves it, its rows and its files as
they were until the new run is recorded. When it has finished, ONE transaction
writes the datasets' catalog rows, the final ``runs`` row (status ``done``), its
``test_results`` rows (one per test metric) and, for a baseline run, its
``null_summaries`` rows. A failed run is set to status ``failed`` (a ``done``
row is kept) with the error text and the exception is re-raised. A main run
whose baseline set is empty fails with
:class:`~lightlane.exceptions.PrerequisiteError` *before* anything starts:
nothing is written.

Stage, record, swap (SPEC §4.1, §21.29)
---------------------------------------
A run writes its A/B event files, their dataset JSONs (and generations) and the
pipeline JSON under staging names ``<name>.staging-<run_id>-<rand>`` next to
their targets, and its figures into the sibling folder
``run-<run_id>.staging-<run_id>-<rand>``. After the recording transaction has
committed, the files are renamed into place one by one and the figure folder
last (old folder renamed aside, new one in, old one deleted). Any staging name
of a run left on disk therefore means an attempt that did not finish: the next
run of that id deletes them before it starts (:func:`sweep_staging`), and
``run --all`` does not count such a run as current, so it is redone — runs are
deterministic, so the retry gives what an uninterrupted run gives.

This module plans and computes runs; :mod:`.recording` records them in the client
(running, done, failed; the swap) and executes them inline or on Dask. The tests of
a run are :mod:`.results`; baselines (topping up, leave-one-out recomputation,
``--retest``) are :mod:`.baselines`. The caller holds the workspace lock (as for
:func:`lightlane.pipelines.outputs.write_task_output`); these modules never take it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import _core
from ..analysis.binning import width_set
from ..analysis.dataset_analysis import Analysis, analyze_events
from ..datasets.registered import read_dataset
from ..events import EventList
from ..exceptions import DataError, LightlaneWarning, PrerequisiteError
from ..metadata import DatasetMeta, GenerationParameters, Pipeline, ProcessingParameters
from ..metadata.pipeline import Outputs
from ..metadata.values import MAX_SEED
from ..report.framing import DPI as FIGURE_DPI
from ..report.run_figures import RunFigures, data_figure_jobs, spectrum_figure_job, test_figure_jobs
from ..stats.null_summaries import P3_METRIC, NullSummary, load_baseline_set, require_baseline
from ..store.catalog import Catalog, utc_now
from ..store.workspace import Workspace
from ..version import CODE_VERSION
from .definitions import load_pipeline, task_json
from .outputs import (
    TaskOutput,
    planned_output_id,
    stage_task_output,
    staged_name,
)
from .results import null_summaries, p3_row, pending_rows, result_rows
from .tasks import apply_chain

__all__ = [
    "RunOutcome",
    "RunPlan",
    "ComputedRun",
    "run_seed",
    "run_id_for",
    "run_folder",
    "plan_run",
    "compute_run",
]


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
        metric → B's :class:`~lightlane.stats.NullSummary` (baseline runs; empty
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
    return int(_core.key(int(pipeline.seed), _core.DOMAIN_RUN, [int(run_index)])) & MAX_SEED


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


# ----------------------------------------------------------------------------- plans and results


@dataclass(frozen=True)
class RunPlan:
    """Everything a worker needs to compute one run; made by the client (picklable).

    The baseline set is read by the client when the plan is made, so the result
    does not depend on when or where the unit runs. Baseline runs carry an empty
    set: their tests are recomputed with leave-one-out thresholds once the
    baseline is complete (:func:`lightlane.pipelines.baselines.recompute_baseline_tests`).
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
    #: Suffix of this attempt's staging names, ``staging-<run_id>-<8 hex>`` (module docstring); drawn when empty.
    staging: str = ""

    def __post_init__(self) -> None:
        if not self.staging:
            object.__setattr__(self, "staging", f"staging-{self.run_id}-{secrets.token_hex(4)}")

    def running_row(self, processing_id: str) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "kind": self.kind, "pipeline_id": self.pipeline_id,
            "processing_id": processing_id, "processing_hash": self.processing_hash,
            "run_index": int(self.run_index), "seed": int(self.seed), "status": "running",
            "started_at": utc_now(),
        }


@dataclass(frozen=True)
class ComputedRun:
    """What a worker returns: the outcome, the catalog rows to write and the files it staged.

    ``datasets`` carry their staged files; ``figures`` is the staging figure folder (None
    without plots); ``plots`` are the figures' final paths.
    """

    outcome: RunOutcome
    run_fields: dict[str, Any]
    datasets: tuple[TaskOutput, ...]
    outputs: Outputs | None
    plots: tuple[str, ...]
    figures: str | None = None


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
            summaries = load_baseline_set(catalog, pipeline.id, p_hash, exclude_run_id=run_id)
            if not summaries:
                _require_baseline(catalog, pipeline, processing, p_hash)
            _require_p3_baseline(catalog, pipeline.id, p_hash)
    keep = (kind == "pipeline") if keep_data is None else bool(keep_data)
    draw = (kind == "pipeline") if plots is None else bool(plots)
    return RunPlan(root=str(workspace.root), pipeline_id=pipeline.id, kind=kind, run_index=int(run_index),
                   run_id=run_id, seed=rseed, processing_hash=p_hash, keep=keep, plots=draw,
                   summaries={m: tuple(v) for m, v in summaries.items()})


def _require_p3_baseline(catalog: Catalog, pipeline_id: str, processing_hash: str) -> None:
    """Baseline runs made before P3 have no P3 row nor S_r (SPEC §11.9); ``baseline`` runs them again."""
    ids = [str(r["run_id"]) for r in catalog.baseline_runs(pipeline_id, processing_hash, CODE_VERSION)]
    missing = len(ids) - len(catalog.runs_with_result(ids, P3_METRIC))
    if missing:
        raise PrerequisiteError(
            f"pipeline '{pipeline_id}': {missing} of its {len(ids)} baseline runs were made before the P3 test and "
            f"have no P3 null statistic; top them up with `lightlane baseline {pipeline_id} --runs {len(ids)}`")


def _require_baseline(catalog: Catalog, pipeline: Pipeline, processing: ProcessingParameters, p_hash: str) -> None:
    """The SPEC §11.1 error, saying so when the baseline was made under another processing."""
    try:
        require_baseline(0, pipeline.id, processing.id, p_hash)
    except PrerequisiteError as error:
        other = catalog.baseline_elsewhere(pipeline.id, p_hash)
        if other is None:
            raise
        raise PrerequisiteError(
            f"{error}. Processing '{processing.id}' changed since the baseline: its {other[1]} baseline run(s) "
            f"were made with processing hash {other[0][:8]}") from None


def compute_run(plan: RunPlan) -> ComputedRun:
    """Compute one run without writing the catalog (runs inline or on a Dask worker, SPEC §19).

    Writes only the run's own files: A and B event files when kept and the plots of SPEC §14,
    both under staging names (installed when the run is recorded), and chunk tables in the cache.
    """
    workspace = Workspace.at(plan.root)
    pipeline = load_pipeline(workspace, plan.pipeline_id)
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    if processing.processing_hash() != plan.processing_hash:
        raise DataError(f"processing '{processing.id}' changed while the run was scheduled; run it again")
    # The drawing workers (forked now, before any thread starts, or by `lightlane run` before its imports)
    # load matplotlib on the other core while this process reads and analyses; they draw the figures of
    # the data while it computes the tests, and the rest while it writes A and B (SPEC §14 rev 2).
    figures = RunFigures(_staging_folder(workspace, plan), FIGURE_DPI) if plan.plots else None
    try:
        built = _build_and_analyse(workspace, pipeline, processing, plan)
        a_events, b_events, a_analysis, b_analysis = built.a_events, built.b_events, built.a, built.b
        p3_result = _p3_row(plan, processing, built)
        if figures is not None:
            figures.draw(data_figure_jobs(
                run_id=plan.run_id, a=a_analysis, b=b_analysis, metrics=processing.test_metrics, p3_row=p3_result,
                synthetic=_synthetic(workspace, pipeline, a_analysis, b_analysis, a_events, b_events)))
        rows, nulls = _test_rows(plan, processing, built)
        if figures is not None:
            figures.draw(test_figure_jobs(run_id=plan.run_id, a=a_analysis, b=b_analysis, rows=rows))
            figures.draw([spectrum_figure_job(run_id=plan.run_id, a=a_analysis, b=b_analysis)])
        rows.append(p3_result)
        written = _stage_outputs(workspace, pipeline, processing, plan, built) if plan.keep else []
    except BaseException:
        if figures is not None:
            figures.cancel()
        raise
    a_id, b_id = (written[0].meta.id, written[1].meta.id) if written else (None, None)
    a_hash, b_hash = built.a_hash, built.b_hash
    plots: tuple[str, ...] = ()
    if figures is not None:
        from ..report.html import load_templates  # jinja2 loads only for runs that write pages

        load_templates()  # while the workers finish: the run's page is written next
        final = run_folder(workspace, pipeline.id, plan.run_id)
        plots = tuple(str(final / p.name) for p in figures.finish())

    resolved = {
        "width_set_s": [float(w) for w in width_set(processing)],
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
    return ComputedRun(outcome, run_fields, tuple(written), outputs, plots,
                       None if figures is None else str(figures.folder))


@dataclass(frozen=True)
class _Built:
    """A run's A and B: their events, events hashes and analyses."""

    a_events: EventList
    b_events: EventList
    a_hash: str
    b_hash: str
    a: Analysis
    b: Analysis


def _build_and_analyse(workspace: Workspace, pipeline: Pipeline, processing: ProcessingParameters,
                       plan: RunPlan) -> _Built:
    """A and B built, hashed and analysed (B's P3 only in a baseline run: it is S_r)."""
    widths = width_set(processing)
    source_generation = pipeline.source.generation
    source = (read_dataset(workspace, pipeline.source.dataset) if pipeline.source.dataset is not None
              else EventList.empty())
    a_events = apply_chain(pipeline.a_tasks, source, processing, plan.seed, 0, width_set=widths,
                           workspace=workspace, source_generation=source_generation,
                           where=f"pipeline {pipeline.id!r} a_tasks")
    b_input = a_events if pipeline.b_input == "a" else source
    a_label = _label(workspace, pipeline, plan, a_events, "a")
    # A is hashed and analysed (SHA-256 and the Rust core run without the GIL) while B is built; the
    # results are those of doing one after the other.
    with ThreadPoolExecutor(max_workers=1) as pool:
        a_work = pool.submit(_hash_and_analyse, a_events, processing, plan.seed, a_label, workspace, p3=True)
        b_events = apply_chain(pipeline.b_tasks, b_input, processing, plan.seed, 1, width_set=widths,
                               workspace=workspace, source_generation=source_generation,
                               where=f"pipeline {pipeline.id!r} b_tasks")
        b_hash = b_events.events_hash()
        a_hash, a_analysis = a_work.result()
    if b_events.count and abs(a_events.count - b_events.count) / b_events.count > 0.01:
        warnings.warn(f"pipeline {pipeline.id!r} run {plan.run_index}: A has {a_events.count} events, B has "
                      f"{b_events.count} (more than 1 % apart)", LightlaneWarning, stacklevel=3)
    b_analysis = _analyse(b_events, processing, plan.seed, _label(workspace, pipeline, plan, b_events, "b"),
                          workspace, b_hash, p3=plan.kind == "baseline")
    return _Built(a_events, b_events, a_hash, b_hash, a_analysis, b_analysis)


def _sizes(built: _Built) -> dict[str, int]:
    return {"n_a": built.a.n_selected, "n_b": built.b.n_selected}


def _p3_row(plan: RunPlan, processing: ProcessingParameters, built: _Built) -> dict[str, Any]:
    """The run's P3 row: A's statistic, calibrated against the baseline set (a baseline run's later)."""
    p3 = built.a.p3
    return p3_row(plan.run_id, processing, (p3.stat, p3.slope, p3.intercept_ln_hz) if p3 else None,
                  None if plan.kind == "baseline" else plan.summaries, undefined=built.a.p3_undefined,
                  **_sizes(built))


def _test_rows(plan: RunPlan, processing: ProcessingParameters, built: _Built
               ) -> tuple[list[dict[str, Any]], dict[str, NullSummary]]:
    """The run's test rows (one per test metric) and, for a baseline run, B's null summaries."""
    baseline = plan.kind == "baseline"
    b = built.b
    nulls = null_summaries(processing, b.chunks, b.p3.stat if b.p3 else None) if baseline else {}
    if baseline and not plan.plots:
        # Its tests need the complete baseline set (leave-one-out), so recompute_baseline_tests computes them.
        return pending_rows(plan.run_id, processing, **_sizes(built)), nulls
    return result_rows(plan.run_id, processing, built.a.chunks, b.chunks, plan.summaries, own_b=nulls,
                       **_sizes(built)), nulls


def _stage_outputs(workspace: Workspace, pipeline: Pipeline, processing: ProcessingParameters, plan: RunPlan,
                   built: _Built) -> list[TaskOutput]:
    """A and B written under staging names, with the ids the analyses were labelled with."""
    written = []
    for side, events, analysis in (("a", built.a_events, built.a), ("b", built.b_events, built.b)):
        output = stage_task_output(workspace, events, pipeline_id=pipeline.id, side=side, processing=processing,
                                   run_seed=plan.seed, run_index=plan.run_index, parent_id=pipeline.source.dataset,
                                   staging=plan.staging)
        written.append(output)
        if output.meta.id != analysis.dataset_id:  # planned_output_id is how staging names it
            raise DataError(f"pipeline {pipeline.id!r}: {side.upper()} was written as {output.meta.id!r}, "
                            f"not {analysis.dataset_id!r} as planned; run it again")
    return written


def _label(workspace: Workspace, pipeline: Pipeline, plan: RunPlan, events: EventList, side: Literal["a", "b"]) -> str:
    """The dataset id of a kept A or B (as staging will name it), else a run-local label."""
    if plan.keep:
        return planned_output_id(workspace, events, pipeline_id=pipeline.id, side=side, run_index=plan.run_index)
    return f"{pipeline.id}_{side}_r{plan.run_index}"


def _synthetic(workspace: Workspace, pipeline: Pipeline, a: Analysis, b: Analysis, a_events: EventList,
               b_events: EventList) -> list[tuple[str, GenerationParameters]]:
    """The synthetic datasets among A, B and the source, each with its generation (a lanecount figure each)."""
    synthetic: list[tuple[str, GenerationParameters]] = []
    for name, events in ((a.dataset_id, a_events), (b.dataset_id, b_events)):
        if events.generation is not None:
            synthetic.append((name, events.generation))
    source = pipeline.source.dataset
    if not synthetic and source is not None:
        meta = workspace.load(DatasetMeta, source)
        if meta.synthetic and meta.generation_id and workspace.exists(GenerationParameters, meta.generation_id):
            synthetic.append((source, workspace.load(GenerationParameters, meta.generation_id)))
    return synthetic


def run_folder(workspace: Workspace, pipeline_id: str, run_id: str) -> Path:
    """``results/pipelines/<pipeline>/run-<run_id>/`` (SPEC §14)."""
    return workspace.run_folder(pipeline_id, run_id)


def _staging_folder(workspace: Workspace, plan: RunPlan) -> Path:
    """The sibling folder the figures of this attempt are drawn into (SPEC §4.1)."""
    return staged_name(run_folder(workspace, plan.pipeline_id, plan.run_id), plan.staging)


def _hash_and_analyse(events: EventList, processing: ProcessingParameters, seed: int, dataset_id: str,
                      workspace: Workspace, *, p3: bool) -> tuple[str, Analysis]:
    events_hash = events.events_hash()
    return events_hash, _analyse(events, processing, seed, dataset_id, workspace, events_hash, p3=p3)


def _analyse(events: EventList, processing: ProcessingParameters, seed: int, dataset_id: str,
             workspace: Workspace, events_hash: str, *, p3: bool) -> Analysis:
    return analyze_events(events, processing, seed, dataset_id=dataset_id, cache_root=workspace.root / "cache",
                          events_hash=events_hash, p3=p3)


def _generation_id(events: EventList) -> str | None:
    generation = events.generation
    return None if generation is None else getattr(generation, "id", None)
