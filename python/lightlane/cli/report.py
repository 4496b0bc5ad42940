"""``lightlane report [RUN_ID...] [--all]`` (SPEC §14.1, §18): the HTML pages, from the catalog and results."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..exceptions import MetadataError
from ..report.html import write_report
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Write the HTML report again from the catalog and the result files (nothing is recomputed): the pages of
    the named runs, or of every pipeline's latest main run, then results/index.html."""

    run_ids: str = field(default=None, metadata={"args": ["run_ids"], "nargs": "*", "type": str, "metavar": "RUN_ID",
                                                 "help": "runs whose pages to write (default: each pipeline's latest "
                                                         "main run)"})
    all: bool = field(default=False, metadata={"help": "the pages of every done main and baseline run that has a "
                                                       "run folder"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    named = list(options.run_ids or [])
    if options.all and named:
        raise MetadataError("name the runs, or give --all (not both)")
    with workspace.lock():
        pages = write_report(workspace, named or None, all_runs=options.all)
    for path in pages[:-1]:
        say(f"wrote {workspace.relative(path)}")
    say(f"report: {pages[-1]}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane report", description=Options.__doc__ or "")
