"""``lightlane tables [--metrics vea,vesa] [--format tex,csv,md] [--runs all|main|baseline]`` (SPEC §15).

One file per table and format, ``results/tables/<table>.<format>``, with a section per metric and
pipeline group; ``results/index.html`` is written again so that it links them (SPEC §14.1).
"""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Optional

from ..exceptions import MetadataError
from ..metadata import METRICS
from ..report.html import write_workspace_page
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
        page = write_workspace_page(workspace)
    for path in tables.paths:
        say(f"wrote {workspace.relative(path)}")
    missing: dict[str, list[str]] = {}
    for metric, group in tables.missing:
        missing.setdefault(group, []).append(metric)
    for group, metrics_without in missing.items():
        say(f"no results for group {group} ({', '.join(metrics_without)}); no section for it")
    if not tables.paths:
        say(f"no results for {', '.join(tables.metrics) or 'any metric'}; no table written")
    say(f"report: {page}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane tables", description=Options.__doc__ or "")
