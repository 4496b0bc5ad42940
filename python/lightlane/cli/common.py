"""Shared CLI plumbing: global options, option parsing, error → exit code mapping."""

from __future__ import annotations

import contextvars
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from argparse_dataclass import ArgumentParser

from ..exceptions import (
    CacheMissError,
    DataError,
    DownloadError,
    LightlaneError,
    MetadataError,
    PrerequisiteError,
)
from ..workspace import Workspace

__all__ = ["GlobalOptions", "current", "use_globals", "run_command", "exit_code_for", "say"]

log = logging.getLogger("lightlane")

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_METADATA, EXIT_DATA, EXIT_PREREQUISITE = 0, 1, 2, 3, 4, 5

Opts = TypeVar("Opts")


@dataclass(frozen=True)
class GlobalOptions:
    """Options given before the subcommand."""

    workspace: str = "."
    threads: int | None = None
    log_level: str = "WARNING"
    quiet: bool = False

    @property
    def ws(self) -> Workspace:
        return Workspace.at(self.workspace)


_GLOBALS: contextvars.ContextVar[GlobalOptions] = contextvars.ContextVar("lightlane_globals", default=GlobalOptions())


def current() -> GlobalOptions:
    """The global options of the command being run."""
    return _GLOBALS.get()


def use_globals(options: GlobalOptions) -> contextvars.Token[GlobalOptions]:
    return _GLOBALS.set(options)


def exit_code_for(error: BaseException) -> int:
    """SPEC §18 exit codes."""
    if isinstance(error, MetadataError):
        return EXIT_METADATA
    if isinstance(error, (DataError, DownloadError)):
        return EXIT_DATA
    if isinstance(error, (PrerequisiteError, CacheMissError)):
        return EXIT_PREREQUISITE
    if isinstance(error, LightlaneError):
        return EXIT_METADATA
    return EXIT_UNEXPECTED


def say(message: str) -> None:
    """Print a result line unless --quiet."""
    if not current().quiet:
        print(message)


def run_command(
    options_class: type[Opts],
    argv: Sequence[str],
    execute: Callable[[Opts, GlobalOptions], int | None],
    prog: str,
    description: str = "",
) -> int:
    """Parse ``argv`` into ``options_class`` and run ``execute``; errors become one line and an exit code."""
    parser = ArgumentParser(options_class, prog=prog, description=description)
    try:
        options = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return execute(options, current()) or EXIT_OK
    except LightlaneError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: show everything so it can be reported
        traceback.print_exc()
        return EXIT_UNEXPECTED
