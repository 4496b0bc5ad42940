"""Recording pipeline runs in the client and executing them (SPEC §9, §4.1, §19, §21.29).

The client writes the catalog: a ``runs`` row with status ``running`` when a unit
starts (unless the run id already has a ``done`` row), then ONE transaction with the
datasets' rows, the final ``runs`` row, the ``test_results`` and (baseline runs) the
``null_summaries`` rows, then the swap of the staged files into place; a failed run is
set to ``failed``. :func:`execute_run` and :func:`execute_runs` plan runs
(:mod:`.runs`), compute them inline or on Dask (:mod:`lightlane.scale`) and record
them. See :mod:`.runs` for run ids, plans and staging names. The caller holds the
workspace lock.

The recording transaction also stores the command line being run (``run_commands``,
when the CLI set one with :func:`lightlane.store.catalog.recording_command`). A run
that drew its figures gets its HTML page once its folder is in place, and the
workspace page is written again (SPEC §14.1, :func:`write_pages`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ..exceptions import DataError
from ..metadata import Pipeline, save_document
from ..metadata.pipeline import Outputs
from ..scale import Execution, run_units
from ..stats.null_summaries import store_null_summaries
from ..store.catalog import Catalog, command_line, utc_now
from ..store.workspace import Workspace
from .definitions import load_pipeline
from .outputs import (
    install_staged,
    record_task_output,
    staged_name,
)
from .runs import ComputedRun, RunOutcome, RunPlan, compute_run, plan_run, run_folder

__all__ = ["execute_run", "execute_runs", "stored_outcome", "sweep_staging", "unfinished_attempt", "run_plans",
           "write_pages"]


class _Recorder:
    """The client's catalog writes for run units: running, done (one transaction, then the swap), failed."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._processing_ids: dict[str, str] = {}
        self._started: dict[str, str] = {}
        self.command = command_line()  # read in the caller's context: recording may run in another thread

    def _processing_id(self, pipeline_id: str) -> str:
        if pipeline_id not in self._processing_ids:
            self._processing_ids[pipeline_id] = load_pipeline(self.workspace, pipeline_id).processing
        return self._processing_ids[pipeline_id]

    def start(self, plan: RunPlan) -> None:
        row = plan.running_row(self._processing_id(plan.pipeline_id))
        self._started[plan.run_id] = row["started_at"]
        with Catalog.open(self.workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            if catalog.run_status(cursor, plan.run_id) == "done":
                return  # a repeat: the previous run stays valid until this one is recorded (SPEC §4.1)
            catalog.clear_results(cursor, plan.run_id)
            catalog.replace_run(cursor, row)

    def done(self, plan: RunPlan, computed: ComputedRun) -> None:
        row = {**plan.running_row(self._processing_id(plan.pipeline_id)), **computed.run_fields,
               "status": "done", "finished_at": utc_now()}
        row["started_at"] = self._started.get(plan.run_id, row["started_at"])
        staged = [pair for output in computed.datasets for pair in output.staged]
        try:
            if computed.outputs is not None:
                staged.append(self._stage_outputs(plan, computed.outputs))
            self._commit(plan, computed, row)
        except Exception:
            # Rolled back: drop this attempt. (An interrupt keeps its staged files: they tell the
            # next run that this attempt may have been recorded without being swapped in.)
            sweep_staging(self.workspace, plan)
            raise
        # Recorded: install the files, the figure folder last (its staging name marks an unfinished swap).
        install_staged(staged)
        if computed.figures is not None:
            _swap_folder(Path(computed.figures), run_folder(self.workspace, plan.pipeline_id, plan.run_id))

    def _stage_outputs(self, plan: RunPlan, outputs: Outputs) -> tuple[Path, Path]:
        """The pipeline JSON with the run's ``outputs``, staged like the event files."""
        pipeline = load_pipeline(self.workspace, plan.pipeline_id)
        target = self.workspace.meta_path(Pipeline, pipeline.id)
        staging = staged_name(target, plan.staging)
        save_document(dataclasses.replace(pipeline, outputs=outputs), staging)
        return staging, target

    def _commit(self, plan: RunPlan, computed: ComputedRun, row: dict[str, Any]) -> None:
        """The recording transaction: datasets, the runs row, test results and null summaries."""
        with Catalog.open(self.workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            for output in computed.datasets:
                record_task_output(catalog, cursor, output)
            catalog.clear_results(cursor, plan.run_id)
            catalog.replace_run(cursor, row)
            if self.command is not None:
                catalog.record_run_command(cursor, plan.run_id, self.command)
            for result in computed.outcome.rows:
                catalog.insert_test_result(cursor, result)
            if computed.outcome.null_summaries:
                store_null_summaries(catalog, cursor, plan.run_id, computed.outcome.null_summaries)

    def fail(self, plan: RunPlan, error: BaseException) -> None:
        sweep_staging(self.workspace, plan)
        with Catalog.open(self.workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            # A repeated run's done row stays: its results are still the valid ones.
            catalog.mark_run_failed(cursor, plan.run_id, f"{type(error).__name__}: {error}", utc_now())


def _swap_folder(staging: Path, folder: Path) -> None:
    """Put ``staging`` at ``folder``: the old folder renamed aside, the new one in, the old one deleted."""
    aside = folder.with_name(f"{staging.name}-old")
    if folder.exists():
        os.replace(folder, aside)
    os.replace(staging, folder)
    shutil.rmtree(aside, ignore_errors=True)


#: Folders (relative to the workspace root) that can hold a run's staged files.
_STAGED_FILE_FOLDERS = ("data/derived", "data/synthetic", "meta/datasets", "meta/generation", "meta/pipelines")


def _staging_leftovers(workspace: Workspace, pipeline_id: str, run_id: str) -> list[Path]:
    """Staged files and folders of any attempt of the run still on disk."""
    name = re.compile(rf"\.staging-{re.escape(run_id)}-[0-9a-f]{{8}}(-old)?$")
    folders = [workspace.root / f for f in _STAGED_FILE_FOLDERS]
    folders.append(run_folder(workspace, pipeline_id, run_id).parent)
    return sorted(path for folder in folders if folder.is_dir()
                  for path in folder.glob(f"*.staging-{run_id}-*") if name.search(path.name))


def unfinished_attempt(workspace: Workspace, pipeline_id: str, run_id: str) -> bool:
    """Whether an attempt of the run left staged files: it may be recorded without being swapped in,
    so a run marked done is redone rather than skipped."""
    return bool(_staging_leftovers(workspace, pipeline_id, run_id))


def sweep_staging(workspace: Workspace, plan: RunPlan) -> list[Path]:
    """Delete what unfinished attempts of the plan's run left under staging names (SPEC §4.1).

    Called before a run starts (the caller holds the workspace lock, so none of them is
    in progress) and when an attempt fails before it was recorded.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = _staging_leftovers(workspace, plan.pipeline_id, plan.run_id)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def run_plans(workspace: Workspace, plans: Sequence[RunPlan], execution: Execution, *,
              progress: str | None = None, after: Any = None) -> list[RunOutcome]:
    """Compute ``plans`` as independent units and record each as it finishes (``after(plan)`` follows)."""
    recorder = _Recorder(workspace)
    for plan in plans:
        sweep_staging(workspace, plan)

    def record(plan: RunPlan, computed: ComputedRun) -> None:
        recorder.done(plan, computed)
        if computed.figures is not None:
            write_pages(workspace, [plan.run_id])
        if after is not None:
            after(plan)

    computed = run_units(plans, compute_run, record, execution, start=recorder.start, fail=recorder.fail,
                         progress=progress)
    return [c.outcome for c in computed]


def write_pages(workspace: Workspace, run_ids: Sequence[str]) -> list[Path]:
    """The HTML pages of these recorded runs, then the workspace page (SPEC §14.1); nothing is recomputed.

    Returns
    -------
    list of Path
        The pages written, ``results/index.html`` last.
    """
    from ..report.html import write_report  # jinja2 (and the report package) load only when pages are written

    return write_report(workspace, run_ids)


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
    return run_plans(workspace, [plan], Execution())[0]


def _current_main_run(catalog: Catalog, workspace: Workspace, plan: RunPlan) -> bool:
    """True when the plan's main run is done with this seed and the same baseline set size, and
    no attempt of it left staged files (an interrupted swap: the run is redone)."""
    if unfinished_attempt(workspace, plan.pipeline_id, plan.run_id):
        return False
    row = catalog.run_row(plan.run_id)
    if row is None or row["status"] != "done" or int(row["seed"]) != plan.seed:
        return False
    used = catalog.max_baseline_runs(plan.run_id)
    wanted = max((len(v) for v in plan.summaries.values()), default=0)
    return used is not None and used == wanted


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
            done = {p.run_id: stored_outcome(catalog, p.run_id) for p in plans
                    if _current_main_run(catalog, workspace, p)}
    todo = [p for p in plans if p.run_id not in done]
    outcomes = run_plans(workspace, todo, execution, progress="runs" if progress and len(todo) > 1 else None)
    fresh = {o.run_id: o for o in outcomes}
    return [done.get(p.run_id) or fresh[p.run_id] for p in plans]


def stored_outcome(catalog: Catalog, run_id: str) -> RunOutcome:
    """A finished run as recorded in the catalog (rows without null summaries)."""
    run = catalog.run_row(run_id)
    if run is None:
        raise DataError(f"run {run_id!r} is not in the catalog")
    rows = tuple(dict(r) for r in catalog.test_result_rows(run_id))
    return RunOutcome(run_id=run_id, kind=run["kind"], run_index=int(run["run_index"]), seed=int(run["seed"]),
                      a_dataset=run["a_dataset"], b_dataset=run["b_dataset"], a_events_hash=run["a_events_hash"],
                      b_events_hash=run["b_events_hash"], rows=rows)
