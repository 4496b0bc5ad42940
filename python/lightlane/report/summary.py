"""The verdict summary printed after runs (SPEC §11.1: calibrated verdicts lead)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..stats.verdicts import P3_METRIC

__all__ = ["SUMMARY_COLUMNS", "verdict_summary"]

#: (header, column, kind): calibrated P1a first, then the other calibrated verdicts, naive last.
SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("P1a (cal.)", "p1a_verdict_calibrated", "verdict"),
    ("p_cal", "p1a_p_calibrated", "p"),
    ("P1b (cal.)", "p1b_verdict_calibrated", "verdict"),
    ("P1c (cal.)", "p1c_verdict_calibrated", "verdict"),
    ("P1e (cal.)", "p1e_verdict_calibrated", "verdict"),
    ("P2 (cal.)", "p2_verdict_calibrated", "verdict"),
    ("P1d", "p1d_verdict", "verdict"),
    ("P1a naive", "p1a_verdict", "verdict"),
    ("R", "baseline_runs", "int"),
)


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "p":
        return f"{float(value):.3g}"
    if kind == "int":
        return str(int(value))
    return str(value)


def verdict_summary(runs: Iterable[tuple[str, str, Sequence[Mapping[str, Any]]]],
                    metrics: Sequence[str] | None = None) -> str:
    """A plain-text table: one line per (pipeline, metric) of each run.

    Parameters
    ----------
    runs
        (pipeline id, run id, test rows) per run.
    metrics
        Only these metrics (default: every metric in the rows).
    """
    header = ["pipeline", "metric", *(h for h, _, _ in SUMMARY_COLUMNS)]
    lines: list[list[str]] = []
    p3_lines: list[str] = []
    for pipeline_id, _run_id, rows in runs:
        for row in sorted(rows, key=lambda r: str(r["metric"])):
            if row["metric"] == P3_METRIC:
                p3_lines.append(_p3_line(pipeline_id, row))
                continue
            if metrics is not None and row["metric"] not in metrics:
                continue
            lines.append([pipeline_id, str(row["metric"]),
                          *(_cell(row.get(column), kind) for _, column, kind in SUMMARY_COLUMNS)])
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    text = ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in [header, *lines]]
    return "\n".join([text[0], rule, *text[1:], *p3_lines])


def _p3_line(pipeline_id: str, row: Mapping[str, Any]) -> str:
    """P3 is one test per run (SPEC §11.9): a line of its own under the per-metric table."""
    if row.get("p3_stat") is None:
        return f"{pipeline_id}  P3 (cal.): {row.get('p3_verdict_calibrated') or '–'}  ({row.get('notes') or 'no value'})"
    return (f"{pipeline_id}  P3 (cal.): {row.get('p3_verdict_calibrated') or '–'}  S_max−2 = {row['p3_stat']:.3g}, "
            f"slope ŝ = {row['p3_slope']:.3g} /nm, p_cal = {_cell(row.get('p3_p_calibrated'), 'p')}, "
            f"R = {_cell(row.get('baseline_runs'), 'int')}")
