"""``lightlane clean [--cache] [--generated] [--results] [--all] [--dry-run]``."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..clean import CleanPlan, apply_clean, plan_clean
from ..store.workspace import Workspace
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
    _report(workspace, plan, dry_run=options.dry_run)
    return 0


def _report(workspace: Workspace, plan: CleanPlan, *, dry_run: bool) -> None:
    """One line per change, in the order :func:`apply_clean` makes them; a dry run lists exactly these."""
    remove, reset, mark = ("would remove", "would reset", "would mark") if dry_run else ("removed", "reset", "marked")
    for dataset_id in plan.datasets:
        say(f"{mark} dataset {dataset_id} deleted in the catalog (row kept)")
    for pipeline_id in plan.pipelines:
        say(f"{reset} outputs of pipeline {pipeline_id}")
    for path in plan.files:
        say(f"{remove} {workspace.relative(path)}")
    for folder in plan.folders:
        say(f"{remove} {workspace.relative(folder)}/")
    for path in plan.kept:
        say(f"kept {workspace.relative(path)}: a dataset's event_file refers to it")
    if plan.empty:
        say("nothing to clean")


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane clean", description=Options.__doc__ or "")
