"""``lightlane tables [--metrics vea,vesa] [--format tex,csv,md] [--runs all|main|baseline]`` (SPEC §15)."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

from ..exceptions import MetadataError
from ..metadata import METRICS
from ..report.tables.formats import FORMATS, write_workspace_tables
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Write the result tables of every pipeline (current processing, this package version)."""

    metrics: Optional[str] = field(default=None, metadata={"help": "comma list (default: each pipeline's test metrics)"})
    format: str = field(default=",".join(FORMATS), metadata={"help": "comma list of tex, csv, md"})
    runs: Literal["all", "main", "baseline"] = field(default="all", metadata={"help": "which runs to summarise"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    formats = [f.strip() for f in options.format.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise MetadataError(f"--format: expected a comma list of {', '.join(FORMATS)}, got {options.format!r}")
    metrics = None
    if options.metrics is not None:
        metrics = sorted({m.strip() for m in options.metrics.split(",") if m.strip()})
        bad = sorted(set(metrics) - set(METRICS))
        if bad or not metrics:
            raise MetadataError(f"--metrics: unknown metric(s) {', '.join(bad) or '(none)'}; choose from {', '.join(METRICS)}")
    with workspace.lock():
        tables = write_workspace_tables(workspace, metrics, formats, options.runs)
    for metric, (written, empty) in tables.items():
        for path in written:
            say(f"wrote {workspace.relative(path)}")
        for group in empty:
            say(f"{metric}: no results for group {group}; no table written")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane tables", description=Options.__doc__ or "")
