"""Result tables as text and files (SPEC §15): LaTeX, CSV and Markdown, written atomically.

LaTeX and Markdown show numbers with 3 significant digits (p-values ``%.2e``); CSV
keeps full precision (shortest round-trip ``repr`` of each float). What the tables
hold is built in :mod:`.content`.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ...metadata import Pipeline, ProcessingParameters
from ...store.atomic import write_text
from ...store.catalog import Catalog
from .content import COLUMN_KINDS, GROUPS, TABLE_COLUMNS, TABLES, CellKind, build_tables, empty_groups, load_results

__all__ = [
    "FORMATS",
    "write_tables",
    "write_metric_tables",
    "write_workspace_tables",
    "table_to_latex",
    "table_to_csv",
    "table_to_markdown",
    "latex_escape",
    "format_sig3",
    "format_p",
]

FORMATS: tuple[str, ...] = ("tex", "csv", "md")
"""Supported output formats."""

# LaTeX headers (the plain names contain Unicode and underscores).
_TEX_HEADERS: dict[str, str] = {
    "median p_cal": r"median $p_\mathrm{cal}$",
    "median p_binom": r"median $p_\mathrm{binom}$",
    "median threshold q̄": r"median threshold $\bar{q}$",
    "expected (m·p0)": r"expected ($m p_0$)",
    "Δ_mean interval": r"$\Delta_\mathrm{mean}$ interval",
    "MW p": r"MW $p$",
    "r_neg": r"$r_\mathrm{neg}$",
    "r_pos": r"$r_\mathrm{pos}$",
    "p_cal": r"$p_\mathrm{cal}$",
    "p_z": r"$p_z$",
    "slope A ± se": r"slope A $\pm$ se",
    "slope B ± se": r"slope B $\pm$ se",
}

_TITLES: dict[str, str] = {
    "p1a": "P1a tail exceedance",
    "p1bc": "P1b/P1c mean and median",
    "p1d": "P1d shifted peaks",
    "p1e": "P1e negative/positive mass ratio",
    "p2": "P2 hardening",
}


# --------------------------------------------------------------------------------------------
# Formatting

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape the LaTeX special characters ``\\ & % $ # _ { } ~ ^`` in ``text``."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_sig3(value: float | None) -> str:
    """A number with 3 significant digits.

    Fixed notation for 10⁻³ ≤ |x| < 10⁶ (``0.0123``, ``12.3``, ``1230``),
    otherwise scientific (``1.23e-05``). Missing values give ``""``.
    """
    if _is_missing(value):
        return ""
    x = float(value)  # type: ignore[arg-type]
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    rounded = float(f"{x:.3g}")
    exponent = math.floor(math.log10(abs(rounded)))
    if -3 <= exponent < 6:
        return f"{rounded:.{max(0, 2 - exponent)}f}"
    return f"{x:.2e}"


def format_p(value: float | None) -> str:
    """A p-value as ``%.2e``; missing values give ``""``."""
    return "" if _is_missing(value) else f"{float(value):.2e}"  # type: ignore[arg-type]


def _display(value: Any, kind: CellKind) -> str:
    """A cell for LaTeX/Markdown (before escaping); ``""`` when missing."""
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "int":
        return "" if value is None else str(int(value))
    if kind == "p":
        return format_p(value)
    if kind == "num":
        return format_sig3(value)
    first, second = (None, None) if value is None else (list(value) + [None, None])[:2]
    if _is_missing(first) and _is_missing(second):
        return ""
    a, b = format_sig3(first) or "—", format_sig3(second) or "—"
    if kind == "interval":
        return f"[{a}, {b}]"
    if kind == "pair":
        return f"{a}/{b}"
    return f"{a} ± {b}"


def _full(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_cell(value: Any, kind: CellKind) -> str:
    """A cell for CSV at full precision (shortest round-trip float repr)."""
    if kind in ("text", "int", "num", "p"):
        return _full(value)
    first, second = (None, None) if value is None else (list(value) + [None, None])[:2]
    if _is_missing(first) and _is_missing(second):
        return ""
    a, b = _full(first), _full(second)
    if kind == "interval":
        return f"[{a}, {b}]"
    if kind == "pair":
        return f"{a}/{b}"
    return f"{a} ± {b}"


def _kinds_of(frame: pl.DataFrame, table: str) -> list[CellKind]:
    kinds = COLUMN_KINDS.get(table)
    if kinds is None or tuple(frame.columns) != TABLE_COLUMNS[table]:
        raise ValueError(f"frame columns {frame.columns} do not match table {table!r}")
    return [kinds[name] for name in frame.columns]


def table_to_latex(frame: pl.DataFrame, table: str, group: str, metric: str) -> str:
    """A standalone booktabs ``table`` fragment with caption and label.

    The label is ``tab:<metric>-<table>-<group>``; numbers have 3 significant
    digits, p-values ``%.2e``, text cells (pipeline ids, verdicts) are
    escaped, and missing values show as ``--``.
    """
    kinds = _kinds_of(frame, table)
    align = "".join("l" if kind == "text" else "r" for kind in kinds)
    header = " & ".join(_TEX_HEADERS.get(name, latex_escape(name)) for name in frame.columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{_TITLES[table]}: metric \texttt{{{latex_escape(metric)}}}, "
        rf"{latex_escape(group.replace('_', ' '))} pipelines.}}",
        rf"\label{{tab:{metric}-{table}-{group}}}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        header + r" \\",
        r"\midrule",
    ]
    for row in frame.iter_rows():
        cells = []
        for value, kind in zip(row, kinds):
            text = _display(value, kind)
            if not text:
                cells.append("--")
                continue
            text = latex_escape(text)
            text = text.replace("±", r"$\pm$").replace("—", "--")
            cells.append(text)
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def table_to_csv(frame: pl.DataFrame, table: str) -> str:
    """CSV text at full precision, with the exact column names as header."""
    kinds = _kinds_of(frame, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, kinds)])
    return buffer.getvalue()


def table_to_markdown(frame: pl.DataFrame, table: str) -> str:
    """A Markdown pipe table (numbers as in LaTeX, missing values ``—``)."""
    kinds = _kinds_of(frame, table)

    def cell(text: str) -> str:
        return text.replace("|", r"\|")

    lines = [
        "| " + " | ".join(cell(name) for name in frame.columns) + " |",
        "|" + "|".join("---" if kind == "text" else "---:" for kind in kinds) + "|",
    ]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(cell(_display(v, k) or "—") for v, k in zip(row, kinds)) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Writing


def write_tables(
    tables: Mapping[tuple[str, str], pl.DataFrame],
    folder: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    metric: str | None = None,
) -> list[Path]:
    """Write each table as ``<folder>/<table>_<group>.{tex,csv,md}``, atomically.

    Parameters
    ----------
    tables
        ``(table, group)`` → frame, as from :func:`build_tables`.
    folder
        The metric's table folder, ``results/tables/<metric>``.
    formats
        Any of ``"tex"``, ``"csv"``, ``"md"``.
    metric
        Metric name for the LaTeX caption and label; defaults to
        ``folder``'s name.

    Returns
    -------
    list of pathlib.Path
        The written files, in table then format order. Empty frames are
        skipped (no file); use :func:`empty_groups` to report empty groups.

    Raises
    ------
    ValueError
        On an unknown format, table or group.
    """
    folder = Path(folder)
    metric = folder.name if metric is None else metric
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown table format(s) {', '.join(map(repr, unknown))} (expected tex, csv, md)")
    written: list[Path] = []
    for (table, group), frame in tables.items():
        if table not in TABLES or group not in GROUPS:
            raise ValueError(f"unknown table/group {(table, group)!r}")
        if frame.height == 0:
            continue
        for fmt in dict.fromkeys(formats):
            if fmt == "tex":
                text = table_to_latex(frame, table, group, metric)
            elif fmt == "csv":
                text = table_to_csv(frame, table)
            else:
                text = table_to_markdown(frame, table)
            target = folder / f"{table}_{group}.{fmt}"
            write_text(target, text)
            written.append(target)
    return written


def write_metric_tables(
    results: pl.DataFrame,
    metric: str,
    tables_root: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
) -> tuple[list[Path], list[str]]:
    """Build and write one metric's tables under ``<tables_root>/<metric>/``.

    Parameters
    ----------
    results
        A frame from :func:`load_results`.
    metric
        The metric to tabulate.
    tables_root
        ``results/tables`` of the workspace.
    formats
        Any of ``"tex"``, ``"csv"``, ``"md"``.

    Returns
    -------
    tuple
        ``(written paths, empty groups)``: the groups without any result
        rows, for which no file was written.
    """
    tables = build_tables(results, metric)
    paths = write_tables(tables, Path(tables_root) / metric, formats, metric=metric)
    return paths, empty_groups(tables)


def write_workspace_tables(
    workspace: Any,
    metrics: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    runs: Literal["all", "main", "baseline"] = "all",
) -> dict[str, tuple[list[Path], list[str]]]:
    """Every pipeline's tables under ``results/tables/`` (the ``tables`` command; caller holds the lock).

    Parameters
    ----------
    workspace
        A :class:`lightlane.store.workspace.Workspace`.
    metrics
        The metrics to tabulate (default: every pipeline's test metrics).
    formats, runs
        As :func:`write_metric_tables` / :func:`load_results`.

    Returns
    -------
    dict
        metric → (written paths, empty groups).
    """
    pipelines, wanted = {}, set()
    for pipeline_id in workspace.ids(Pipeline):
        pipeline = workspace.load(Pipeline, pipeline_id)
        processing = workspace.load(ProcessingParameters, pipeline.processing)
        pipelines[pipeline_id] = (pipeline.role, processing.processing_hash())
        wanted.update(processing.test_metrics)
    chosen = sorted(wanted if metrics is None else set(metrics))
    with Catalog.open(workspace.catalog_path) as catalog:
        results = load_results(catalog, pipelines, chosen, runs)
    root = workspace.root / "results" / "tables"
    return {metric: write_metric_tables(results, metric, root, formats) for metric in chosen}
