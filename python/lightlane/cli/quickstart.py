"""``lightlane quickstart [DIR]``: the self-contained demo on the embedded defaults (SPEC §18).

No network and no user data: a workspace with processing ``quick``, a real-like
dataset (``demo_real``, homogeneous Poisson with a GTI gap) and a lanesheet
dataset (``demo_lane``); a positive and a negative control, each calibrated on
20 baseline runs; their plots, the tables, the HTML report (its path is printed)
and a verdict summary. Re-running it resumes: finished baseline and main runs are kept.
"""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..scale import Execution
from ..store.workspace import Workspace
from .common import JOBS, GlobalOptions, freeze_imports, run_command, say
from .scale_options import JOBS_HELP, SCHEDULER_HELP

#: Baseline runs per pipeline: with α = 0.05 the smallest calibrated p, 1/21, can be significant.
QUICKSTART_BASELINE_RUNS = 20
#: The metrics the summary shows (all are in the tables).
SUMMARY_METRICS = ("vea", "vesa")


@dataclass(frozen=True)
class Options:
    """Build a demo workspace in DIR (default ./lightlane-quickstart): a lanesheet positive control and a
    Poisson negative control, calibrated on 20 baseline runs each, with plots, tables, the HTML report
    (results/index.html) and a verdict summary."""

    directory: str = field(
        default="lightlane-quickstart", metadata={"args": ["directory"], "nargs": "?", "type": str, "metavar": "DIR"}
    )
    jobs: int = field(default=1, metadata={"help": JOBS_HELP, "check": JOBS})
    scheduler: Optional[str] = field(default=None, metadata={"help": SCHEDULER_HELP})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: the demo loads polars, astropy, scipy and matplotlib (and Dask with --jobs),
    # which `lightlane quickstart --help` does not need (SPEC §20).
    from ..demo import build_demo
    from ..pipelines.baselines import ensure_baselines
    from ..pipelines.recording import execute_runs
    from ..pipelines.runs import run_folder
    from ..report.html import write_report
    from ..report.summary import verdict_summary
    from ..report.tables.formats import write_workspace_tables

    freeze_imports()
    workspace = Workspace.at(Path(globals_.workspace) / options.directory)
    execution = Execution.from_options(options.jobs, options.scheduler, globals_.threads)
    progress = not globals_.quiet
    with workspace.lock():
        workspace.init()
        demo = build_demo(workspace, progress=progress)
        pipelines = list(demo.pipelines)
        ensure_baselines(workspace, pipelines, QUICKSTART_BASELINE_RUNS, execution, progress=progress)
        outcomes = execute_runs(workspace, pipelines, execution, skip_current=True, progress=progress)
        tables = write_workspace_tables(workspace, formats=("tex", "csv", "md"))
        pages = write_report(workspace, [o.run_id for o in outcomes])  # after the tables: the page links them
    say(f"workspace: {workspace.root}")
    for dataset in demo.datasets:
        say(f"  dataset {dataset}: {workspace.root / 'meta' / 'datasets' / (dataset + '.json')}")
    for pipeline_id, outcome in zip(pipelines, outcomes):
        say(f"  plots of {pipeline_id}: {run_folder(workspace, pipeline_id, outcome.run_id)}")
        if outcome.plots:
            say(f"    {', '.join(Path(plot).name for plot in outcome.plots)}")
    say(f"  tables: {workspace.root / 'results' / 'tables'} ({len(tables.paths)} files)")
    say("")
    say(verdict_summary(((p, o.run_id, o.rows) for p, o in zip(pipelines, outcomes)), metrics=SUMMARY_METRICS))
    say("")
    say(f"{demo.positive_pipeline} is the positive control (lanesheet photons vs a Poissonized copy: expect "
        f"SIGNIFICANT); {demo.negative_pipeline} the negative control (Poisson photons: expect no detection).")
    say("")
    say(f"report: {pages[-1]}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane quickstart", description=Options.__doc__ or "")
