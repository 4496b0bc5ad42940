"""``lightlane baseline PIPELINE --runs N [--keep-data]`` (SPEC §18): resumable null runs."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..runs import ensure_baseline
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Top a pipeline's baseline up to N runs with new run seeds (finished runs are kept)."""

    pipeline: str = field(metadata={"args": ["pipeline"], "help": "pipeline id"})
    runs: int = field(metadata={"help": "baseline runs wanted in total"})
    keep_data: bool = field(default=False, metadata={"help": "keep the event files of the baseline runs"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        new = ensure_baseline(workspace, options.pipeline, options.runs, keep_data=options.keep_data,
                              progress=not globals_.quiet)
    say(f"{options.pipeline}: {len(new)} new baseline run(s); {options.runs} wanted in total")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane baseline", description=Options.__doc__ or "")
