"""The ``lightlane`` command line (SPEC §18).

The dispatcher parses the global options, then hands the remaining arguments
to the subcommand's own ``main(argv) -> int``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import shlex
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from .. import _core
from ..lazy import keep_public_names
from ..store.catalog import recording_command
from .common import EXIT_USAGE, MAX_JOBS, GlobalOptions, own_process, reset_globals, use_globals

__all__ = ["main", "run", "recorded_command", "COMMANDS"]

#: subcommand → (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("lightlane.cli.init", "create a workspace with the embedded defaults"),
    "onboard": ("lightlane.cli.onboard", "validate, copy and register a raw event file"),
    "download": ("lightlane.cli.download", "fetch an archive staging directory and onboard its evt2 files"),
    "generate": ("lightlane.cli.generate", "generate a synthetic lanesheet dataset from a generation"),
    "replicate": ("lightlane.cli.replicate", "generate a mimic of a dataset (its spectrum, time span and GTIs)"),
    "search": ("lightlane.cli.search", "search generation parameters that mimic a target (resumable study)"),
    "sensitivity": ("lightlane.cli.sensitivity", "power of the tests on mimics of a target as a lanesheet parameter varies"),
    "analyze": ("lightlane.cli.analyze", "analyse one dataset: binning, chunk metrics, spectrum, plots"),
    "pipeline": ("lightlane.cli.pipeline", "create pipelines: `pipeline create ...`, `pipeline default ...`"),
    "run": ("lightlane.cli.run", "run pipelines: A and B, analyses, calibrated tests"),
    "baseline": ("lightlane.cli.baseline", "top a pipeline's baseline up to N null runs (resumable)"),
    "tables": ("lightlane.cli.tables", "result tables (LaTeX, CSV, Markdown) of every pipeline"),
    "clean": ("lightlane.cli.clean", "remove recomputable files (cache, generated data, results); never raw data"),
    "quickstart": ("lightlane.cli.quickstart", "self-contained demo on the embedded defaults"),
    "video": ("lightlane.cli.video", "render a lanesheet video: scrolling lattice, photon flashes, light curve"),
    "report": ("lightlane.cli.report", "write the HTML pages of runs and the workspace from the catalog"),
}


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (SPEC §21 property 30)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _threads(text: str) -> int:
    """``--threads``: the Rust pool spawns that many OS threads, so it is bounded."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {MAX_JOBS}], got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lightlane",
        description="Wavelength-resolved flux variability of X-ray event lists.",
        epilog="commands:\n" + "\n".join(f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\n`lightlane COMMAND --help` shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workspace", default=".", metavar="DIR", help="workspace folder (default: current)")
    parser.add_argument("--threads", type=_threads, default=None, metavar="N",
                        help=f"Rust threads, 1…{MAX_JOBS} (results never depend on it)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summaries")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _one_line_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> str:
    return f"lightlane: warning: {message}\n"


def recorded_command(parsed: argparse.Namespace) -> str:
    """The command line recorded with the runs a command makes: as run inside the workspace.

    ``--workspace`` is left out (the catalog that records it *is* the workspace, and a copied
    workspace keeps its provenance); the other global options are kept as given.

    Examples
    --------
    >>> recorded_command(_parser().parse_args(["--workspace", "/data/obs", "--threads", "2", "run", "m82 x"]))
    "lightlane --threads 2 run 'm82 x'"
    """
    words = ["lightlane"]
    if parsed.threads is not None:
        words += ["--threads", str(parsed.threads)]
    if parsed.log_level != "WARNING":
        words += ["--log-level", parsed.log_level]
    if parsed.quiet:
        words.append("--quiet")
    return shlex.join([*words, parsed.command, *parsed.arguments])


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lightlane [global options] COMMAND [options]``; return the exit code."""
    try:
        parsed = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(level=parsed.log_level, format="%(levelname)s %(name)s: %(message)s")
    warnings.formatwarning = _one_line_warning
    _core.set_threads(parsed.threads)
    options = GlobalOptions(parsed.workspace, parsed.threads, parsed.log_level, parsed.quiet)
    token = use_globals(options)
    try:
        module = importlib.import_module(COMMANDS[parsed.command][0])
        with recording_command(recorded_command(parsed)):
            return int(module.main(parsed.arguments))
    finally:
        reset_globals(token)


def run() -> None:
    """Console-script entry point (and ``python -m lightlane``)."""
    own_process()
    code = main()
    # The command is done and the process ends: nothing it made needs the cyclic garbage collector,
    # whose passes over every object at interpreter exit are most of what `benches/bench.py gc` saves.
    gc.freeze()
    sys.exit(code)


keep_public_names(__name__)  # `lightlane.cli.run` stays this function once the `run` command's module has loaded
