"""``lightlane clean [--cache] [--generated] [--results] [--all] [--dry-run]``."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..clean import apply_clean, plan_clean
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Remove recomputable files (default: the cache). Raw data are never touched."""

    cache: bool = field(default=False, metadata={"help": "cache/ (chunk tables, spectrum fits); the default"})
    generated: bool = field(default=False, metadata={"help": "derived and synthetic datasets, their files and resolved generations"})
    results: bool = field(default=False, metadata={"help": "everything under results/"})
    all: bool = field(default=False, metadata={"help": "cache, generated and results"})
    dry_run: bool = field(default=False, metadata={"help": "only list what would be removed"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    cache = options.cache or options.all or not (options.generated or options.results)
    with workspace.lock():
        plan = plan_clean(workspace, cache=cache, generated=options.generated or options.all,
                          results=options.results or options.all)
        if not options.dry_run:
            apply_clean(workspace, plan)
    verb = "would remove" if options.dry_run else "removed"
    for path in plan.paths:
        say(f"{verb} {workspace.relative(path)}")
    for dataset_id in plan.datasets:
        say(f"{verb} dataset {dataset_id} (catalog row kept, marked deleted)")
    for pipeline_id in plan.pipelines:
        say(f"{'would reset' if options.dry_run else 'reset'} outputs of pipeline {pipeline_id}")
    if not (plan.paths or plan.datasets or plan.pipelines):
        say("nothing to clean")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane clean", description=Options.__doc__ or "")
