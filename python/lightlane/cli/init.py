"""``lightlane init``: create the workspace layout, catalog and default metadata."""

# No `from __future__ import annotations` in CLI option modules: argparse-dataclass
# reads the field types at runtime (and needs typing.Optional, not `X | None`).


from collections.abc import Sequence
from dataclasses import dataclass

from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Create a workspace (existing files are kept unless --force)."""

    force: bool = False


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    with workspace.lock():
        written = workspace.init(force=options.force)
    say(f"workspace ready: {workspace.root}")
    for path in written:
        say(f"  wrote {workspace.relative(path)}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane init", description=Options.__doc__ or "")
