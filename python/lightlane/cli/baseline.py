"""``lightlane baseline PIPELINE --runs N [--jobs J] [--keep-data] [--plots]`` (SPEC §18): resumable null runs."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..scale import Execution
from .common import COUNT, JOBS, GlobalOptions, freeze_imports, run_command, say
from .scale_options import JOBS_HELP, SCHEDULER_HELP


@dataclass(frozen=True)
class Options:
    """Top a pipeline's baseline up to N runs with new run seeds (finished runs are kept)."""

    pipeline: str = field(metadata={"args": ["pipeline"], "help": "pipeline id"})
    runs: int = field(metadata={"help": "baseline runs wanted in total", "check": COUNT})
    keep_data: bool = field(default=False, metadata={"help": "keep the event files of the baseline runs"})
    plots: bool = field(default=False, metadata={"help": "draw the run figures and write the HTML page of every "
                                                         "baseline run"})
    jobs: int = field(default=1, metadata={"help": JOBS_HELP, "check": JOBS})
    scheduler: Optional[str] = field(default=None, metadata={"help": SCHEDULER_HELP})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    from ..pipelines.baselines import ensure_baseline  # here: runs load polars, astropy and scipy; --help does not
    from ..report.html import workspace_page_path

    freeze_imports()
    workspace = globals_.ws
    workspace.require_initialised()
    execution = Execution.from_options(options.jobs, options.scheduler, globals_.threads)
    with workspace.lock():
        new = ensure_baseline(workspace, options.pipeline, options.runs, keep_data=options.keep_data,
                              plots=options.plots, execution=execution, progress=not globals_.quiet)
    say(f"{options.pipeline}: {len(new)} new baseline run(s); {options.runs} wanted in total")
    if options.plots and workspace_page_path(workspace).is_file():
        say(f"report: {workspace_page_path(workspace)}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane baseline", description=Options.__doc__ or "")
