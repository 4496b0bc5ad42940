"""``lightlane init``: create the workspace layout, catalog and default metadata."""

# No `from __future__ import annotations` in CLI option modules: argparse-dataclass
# reads the field types at runtime (and needs typing.Optional, not `X | None`).


import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..store.workspace import LOCK_NAME, Workspace
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Create a workspace (existing files are kept unless --force)."""

    force: bool = False


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    new = [p for p in (workspace.root, *workspace.root.parents) if not p.exists()]
    try:
        with workspace.lock():
            written = workspace.init(force=options.force)
    except BaseException:
        _remove_new_folders(workspace, new)
        raise
    say(f"workspace ready: {workspace.root}")
    for path in written:
        say(f"  wrote {workspace.relative(path)}")
    return 0


def _remove_new_folders(workspace: Workspace, new: list[Path]) -> None:
    """A failed init leaves no trace: the lock file and the folders the lock created go again
    (init itself removes what it made inside)."""
    if workspace.root in new:
        with contextlib.suppress(OSError):
            (workspace.root / LOCK_NAME).unlink()
    for folder in new:  # innermost first; never a folder someone else filled meanwhile
        with contextlib.suppress(OSError):
            folder.rmdir()


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane init", description=Options.__doc__ or "")
