"""``lightlane run (PIPELINE... | --all) [--seed S] [--ensure-baseline N] [--retest] [--no-plots] [--jobs J]``."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..exceptions import MetadataError
from ..metadata import Pipeline
from ..scale import Execution
from .common import COUNT_OR_NONE, JOBS, SEED, GlobalOptions, freeze_imports, run_command, say
from .scale_options import JOBS_HELP, SCHEDULER_HELP


@dataclass(frozen=True)
class Options:
    """Run pipelines: build A and B, analyse both, run every test against the baseline."""

    pipelines: str = field(default=None, metadata={"args": ["pipelines"], "nargs": "*", "type": str,
                                                   "help": "pipeline ids"})
    all: bool = field(default=False, metadata={"help": "every pipeline of the workspace (finished runs are skipped)"})
    seed: Optional[int] = field(default=None, metadata={"help": "override the run seed (recorded)", "check": SEED})
    ensure_baseline: int = field(default=0, metadata={"help": "first top the baselines up to N runs (0: none)",
                                                      "check": COUNT_OR_NONE})
    retest: bool = field(default=False, metadata={"help": "recompute the tests from cached chunk tables (no new run)"})
    no_plots: bool = field(default=False, metadata={"help": "draw no figures"})
    jobs: int = field(default=1, metadata={"help": JOBS_HELP, "check": JOBS})
    scheduler: Optional[str] = field(default=None, metadata={"help": SCHEDULER_HELP})


def _pipelines(options: Options, globals_: GlobalOptions) -> list[str]:
    named = list(options.pipelines or [])
    if options.all == bool(named):
        raise MetadataError("name the pipelines to run, or give --all (not both)")
    if options.all:
        ids = globals_.ws.ids(Pipeline)
        if not ids:
            raise MetadataError("--all: the workspace has no pipelines (create them with `lightlane pipeline`)")
        return ids
    return named


def _execute(options: Options, globals_: GlobalOptions) -> int:
    execution = Execution.from_options(options.jobs, options.scheduler, globals_.threads)
    draws_here = execution.inline and not (options.no_plots or options.retest)
    if not draws_here:
        return _run(options, globals_, execution)
    # Before the imports of _run: the drawing workers fork from a process that is still small and
    # load matplotlib on the idle core while this one loads polars and astropy (SPEC §14 rev 2).
    from ..report.figure_jobs import cancel_early, start_early

    start_early()
    try:
        return _run(options, globals_, execution)
    finally:
        cancel_early()  # when no run took them


def _run(options: Options, globals_: GlobalOptions, execution: Execution) -> int:
    # Here, not at the top: runs load polars, astropy, scipy and matplotlib (and Dask with --jobs),
    # which `lightlane run --help` does not need (SPEC §20).
    from ..pipelines.baselines import ensure_baselines, retest_run
    from ..pipelines.recording import execute_runs
    from ..pipelines.runs import run_folder
    from ..report.html import PAGE_NAME, workspace_page_path
    from ..report.summary import verdict_summary

    freeze_imports()
    workspace = globals_.ws
    workspace.require_initialised()
    if options.retest and (options.ensure_baseline or options.seed is not None):
        raise MetadataError("--retest recomputes stored runs: it takes neither --seed nor --ensure-baseline")
    with workspace.lock():
        pipeline_ids = _pipelines(options, globals_)
        if options.retest:
            outcomes = [retest_run(workspace, p) for p in pipeline_ids]
        else:
            if options.ensure_baseline:
                ensure_baselines(workspace, pipeline_ids, options.ensure_baseline, execution,
                                 progress=not globals_.quiet)
            outcomes = execute_runs(workspace, pipeline_ids, execution, seed=options.seed,
                                    plots=not options.no_plots, skip_current=options.all,
                                    progress=not globals_.quiet)
    pages = False
    for pipeline_id, outcome in zip(pipeline_ids, outcomes):
        say(f"{pipeline_id}: run {outcome.run_id} (seed {outcome.seed}), A = {outcome.a_dataset}, "
            f"B = {outcome.b_dataset}")
        page = run_folder(workspace, pipeline_id, outcome.run_id) / PAGE_NAME
        if outcome.plots:
            say(f"  plots: {page.parent}")
        if page.is_file():  # written with the figures, or again by --retest
            say(f"  page: {page}")
            pages = True
    say("")
    say(verdict_summary((p, o.run_id, o.rows) for p, o in zip(pipeline_ids, outcomes)))
    if pages and workspace_page_path(workspace).is_file():
        say("")
        say(f"report: {workspace_page_path(workspace)}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane run", description=Options.__doc__ or "")
