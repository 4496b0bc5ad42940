"""Shared CLI plumbing: global options, option parsing and checking, error → exit code mapping.

Every failure of a command ends in one line ``<prog>: error: ...`` and an exit
code (SPEC §18, §21 property 30). The convention for options:

* argparse's own problems (unknown option, missing value, ``--runs abc``) and the
  dispatcher's global options (``--threads`` 1…256) are usage errors, exit 2;
* a value that parses but is out of range (``--runs 0``, ``--seed -1``, a NaN
  float, an empty name) is a :class:`MetadataError` ``--opt: expected …, got …``,
  exit 3, raised by :func:`check_options` before the command touches anything —
  like every other validation error (an unknown id, a bad JSON file);
* an environment failure (``OSError``: disk full, read-only file, missing file;
  a catalog SQLite cannot write) names the path, exit 4.

Anything else is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

import contextvars
import dataclasses
import gc
import logging
import math
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from argparse_dataclass import ArgumentParser

from ..exceptions import (
    CacheMissError,
    DataError,
    DownloadError,
    LightlaneError,
    MetadataError,
    PrerequisiteError,
)
from ..metadata.schema import Check
from ..metadata.values import MAX_SEED
from ..store.catalog import storage_error
from ..store.workspace import Workspace

__all__ = [
    "GlobalOptions", "current", "use_globals", "reset_globals", "run_command", "exit_code_for", "error_line", "say",
    "check_options", "OneLineParser", "COUNT", "COUNT_OR_NONE", "JOBS", "SEED", "INDEX", "MAX_COUNT", "MAX_JOBS",
    "own_process", "freeze_imports",
]

log = logging.getLogger("lightlane")

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_METADATA, EXIT_DATA, EXIT_PREREQUISITE = 0, 1, 2, 3, 4, 5

#: Largest count option (runs, trials, ...): far beyond any real use, small enough to plan in memory.
MAX_COUNT = 1_000_000
#: Largest --jobs and --threads: worker processes and threads are real OS resources.
MAX_JOBS = 256


def _integer_in(low: int, high: int) -> Check:
    return Check(lambda v: low <= v <= high, f"an integer in [{low}, {high}]")


#: Field metadata ``"check"`` values, tested by :func:`check_options` after parsing.
COUNT = _integer_in(1, MAX_COUNT)
COUNT_OR_NONE = _integer_in(0, MAX_COUNT)  # 0 means "none"
INDEX = _integer_in(0, MAX_COUNT - 1)
JOBS = _integer_in(1, MAX_JOBS)
SEED = Check(lambda v: 0 <= v <= MAX_SEED, "an integer in [0, 2^63 − 1]")

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


def reset_globals(token: contextvars.Token[GlobalOptions]) -> None:
    """Restore the global options that :func:`use_globals` replaced."""
    _GLOBALS.reset(token)


def exit_code_for(error: BaseException) -> int:
    """SPEC §18 exit codes."""
    if isinstance(error, MetadataError):
        return EXIT_METADATA
    if isinstance(error, (DataError, DownloadError, OSError)):
        return EXIT_DATA
    if isinstance(error, (PrerequisiteError, CacheMissError)):
        return EXIT_PREREQUISITE
    if isinstance(error, LightlaneError):
        return EXIT_METADATA
    return EXIT_UNEXPECTED


def error_line(error: BaseException) -> str:
    """The message of an expected error, on one line; an ``OSError`` leads with its file.

    Parameters
    ----------
    error
        A lightlane error or an ``OSError``.

    Returns
    -------
    str
        The message without line breaks (server text and paths may hold some).

    Examples
    --------
    >>> import errno
    >>> error_line(OSError(errno.ENOSPC, "No space left on device", "ws/meta/x.json"))
    'ws/meta/x.json: No space left on device'
    """
    if isinstance(error, OSError) and not isinstance(error, LightlaneError) and error.filename is not None:
        where = f"{error.filename} → {error.filename2}" if error.filename2 is not None else f"{error.filename}"
        text = f"{where}: {error.strerror or error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())  # messages quoting server text or paths stay on one line


class OneLineParser(ArgumentParser):
    """argparse reports a usage error as one line (SPEC §21 property 30); ``--help`` is unchanged."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _option_name(item: dataclasses.Field[Any]) -> str:
    """``--opt`` as typed, or a positional argument's metavar (``PIPELINE``), as in ``--help``."""
    names = item.metadata.get("args") or [f"--{item.name.replace('_', '-')}"]
    if names[0].startswith("-"):
        return names[0]
    metavar = item.metadata.get("metavar")
    return metavar if isinstance(metavar, str) else names[0].upper()


def check_options(options: Any) -> None:
    """Check an options dataclass after parsing, before the command touches anything.

    A field's ``metadata["check"]`` (a :class:`~lightlane.metadata.schema.Check`) is tested on
    its value (each item of a list); every float must be finite; a string option given
    explicitly must not be empty.

    Parameters
    ----------
    options
        A parsed options dataclass.

    Raises
    ------
    MetadataError
        ``--opt: expected …, got …`` for the first bad value.

    Examples
    --------
    >>> @dataclass(frozen=True)
    ... class Example:
    ...     runs: int = dataclasses.field(default=1, metadata={"check": COUNT})
    >>> check_options(Example(runs=0))
    Traceback (most recent call last):
    ...
    lightlane.exceptions.MetadataError: --runs: expected an integer in [1, 1000000], got 0
    """
    for item in dataclasses.fields(options):
        value = getattr(options, item.name)
        values = value if isinstance(value, (list, tuple)) else [value]
        check: Check | None = item.metadata.get("check")
        for one in values:
            if one is None:
                continue
            problem = None
            if isinstance(one, float) and not math.isfinite(one):
                problem = "a finite number"
            elif isinstance(one, str) and not one.strip() and one != item.default:
                problem = "a non-empty value"
            elif check is not None and not check.test(one):
                problem = check.words
            if problem is not None:
                raise MetadataError(f"{_option_name(item)}: expected {problem}, got {one!r}")


#: Whether the CLI owns this process (the console script, ``python -m lightlane``) rather than
#: being called in someone else's (tests, notebooks): see :func:`freeze_imports`.
_owns_process = False


def own_process() -> None:
    """Mark this process as the CLI's own (its console entry point, before the command runs)."""
    global _owns_process
    _owns_process = True


def freeze_imports() -> None:
    """Keep what exists now out of the cyclic garbage collector, in a process the CLI owns.

    A command calls it once its libraries are loaded: the 100 000-odd modules, classes and
    functions they make live until the process ends, and each full collection would otherwise
    pass over all of them again. With the freeze at exit (:func:`lightlane.cli.run`) it makes a
    1.2 M-event ``run --no-plots`` 0.24 s (12 %) faster (``benches/bench.py gc``). Objects made
    later are collected as usual. In a process the CLI does not own nothing is done, so no
    caller's garbage is kept.
    """
    if _owns_process:
        gc.freeze()


def say(message: str) -> None:
    """Print a result line unless --quiet."""
    if not current().quiet:
        print(message)


def _fail(prog: str, error: BaseException) -> int:
    print(f"{prog}: error: {error_line(error)}", file=sys.stderr)
    return exit_code_for(error)


def run_command(
    options_class: type[Opts],
    argv: Sequence[str],
    execute: Callable[[Opts, GlobalOptions], int | None],
    prog: str,
    description: str = "",
) -> int:
    """Parse and check ``argv`` into ``options_class`` and run ``execute``.

    This is the one place where errors become one line on stderr and an exit code:
    lightlane errors by class, ``OSError`` and a catalog that cannot be written as
    environment failures (4), Ctrl-C as 130. Any other exception is a bug: its
    traceback is printed (exit 1).
    """
    parser = OneLineParser(options_class, prog=prog, description=description)
    try:
        options = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        check_options(options)
        return execute(options, current()) or EXIT_OK
    except (LightlaneError, OSError) as exc:
        return _fail(prog, exc)
    except sqlite3.Error as exc:
        converted = storage_error(exc, current().ws.catalog_path)  # raised outside a Catalog: the likely file
        if converted is not None:
            return _fail(prog, converted)
        traceback.print_exc()  # an SQL mistake is a bug
        return EXIT_UNEXPECTED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: show everything so it can be reported
        traceback.print_exc()
        return EXIT_UNEXPECTED
    except BaseException as exc:  # a Rust panic (pyo3's PanicException) is a bug too; exits are not
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        traceback.print_exc()
        return EXIT_UNEXPECTED
