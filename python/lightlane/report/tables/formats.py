"""Result tables as text and files (SPEC §15): LaTeX, CSV and Markdown, written atomically.

One file per table and format, ``results/tables/<table>.{tex,csv,md}``, holds every
section (metric × role group) of that table: LaTeX as one booktabs table with a
heading row per section, Markdown as one pipe table per section under a heading, CSV
as one table with leading ``metric`` and ``group`` columns. LaTeX and Markdown show
numbers with 3 significant digits (p-values ``%.2e``); CSV keeps full precision
(shortest round-trip ``repr`` of each float). What the tables hold is built in
:mod:`.content`.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ...metadata import Pipeline, ProcessingParameters
from ...stats.verdicts import P3_METRIC
from ...store.atomic import write_text
from ...store.catalog import Catalog
from .content import (
    COLUMN_KINDS,
    TABLE_COLUMNS,
    TABLES,
    CellKind,
    TableSection,
    build_sections,
    load_results,
    missing_sections,
)

__all__ = [
    "FORMATS",
    "TABLE_TITLES",
    "WrittenTables",
    "write_tables",
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

TABLE_TITLES: dict[str, str] = {
    "p1a": "P1a tail exceedance",
    "p1bc": "P1b/P1c mean and median",
    "p1d": "P1d shifted peaks",
    "p1e": "P1e negative/positive mass ratio",
    "p2": "P2 hardening",
    "p3": "P3 lanesheet spectral-timing test",
}
"""What each table shows (captions, headings, the workspace page)."""


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


def _group_words(group: str) -> str:
    return group.replace("_", " ")


def _check_sections(table: str, sections: Sequence[TableSection]) -> list[CellKind]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r} (expected one of {', '.join(TABLES)})")
    kinds = [COLUMN_KINDS[table][name] for name in TABLE_COLUMNS[table]]
    for section in sections:
        _kinds_of(section.frame, table)
    return kinds


def table_to_latex(table: str, sections: Sequence[TableSection]) -> str:
    """One standalone booktabs ``table`` fragment holding every section, with caption and label.

    The label is ``tab:<table>``; each section opens with a heading row naming its metric and
    group. Numbers have 3 significant digits, p-values ``%.2e``, text cells (pipeline ids,
    verdicts) are escaped, and missing values show as ``--``.
    """
    kinds = _check_sections(table, sections)
    columns = TABLE_COLUMNS[table]
    align = "".join("l" if kind == "text" else "r" for kind in kinds)
    header = " & ".join(_TEX_HEADERS.get(name, latex_escape(name)) for name in columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{TABLE_TITLES[table]}, per metric and pipeline group.}}",
        rf"\label{{tab:{table}}}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        header + r" \\",
    ]
    for section in sections:
        lines.append(r"\midrule")
        lines.append(rf"\multicolumn{{{len(columns)}}}{{l}}{{\emph{{metric \texttt{{{latex_escape(section.metric)}}}, "
                     rf"{latex_escape(_group_words(section.group))} pipelines}}}} \\")
        for row in section.frame.iter_rows():
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


def table_to_csv(table: str, sections: Sequence[TableSection]) -> str:
    """CSV text at full precision: ``metric``, ``group``, then the table's exact column names."""
    kinds = _check_sections(table, sections)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "group", *TABLE_COLUMNS[table]])
    for section in sections:
        for row in section.frame.iter_rows():
            writer.writerow([section.metric, section.group,
                             *(_csv_cell(value, kind) for value, kind in zip(row, kinds))])
    return buffer.getvalue()


def table_to_markdown(table: str, sections: Sequence[TableSection]) -> str:
    """A title, then per section a ``## <metric> · <group>`` heading and a pipe table
    (numbers as in LaTeX, missing values ``—``)."""
    kinds = _check_sections(table, sections)

    def cell(text: str) -> str:
        return text.replace("|", r"\|")

    lines = [f"# {TABLE_TITLES[table]}"]
    for section in sections:
        lines += [
            "",
            f"## {section.metric} · {_group_words(section.group)} pipelines",
            "",
            "| " + " | ".join(cell(name) for name in TABLE_COLUMNS[table]) + " |",
            "|" + "|".join("---" if kind == "text" else "---:" for kind in kinds) + "|",
        ]
        for row in section.frame.iter_rows():
            lines.append("| " + " | ".join(cell(_display(v, k) or "—") for v, k in zip(row, kinds)) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Writing

_WRITERS = {"tex": table_to_latex, "csv": table_to_csv, "md": table_to_markdown}


def write_tables(
    sections: Mapping[str, Sequence[TableSection]],
    folder: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write each table as ``<folder>/<table>.{tex,csv,md}``, every section in one file, atomically.

    Parameters
    ----------
    sections
        table → its sections, as from :func:`~lightlane.report.tables.content.build_sections`.
    folder
        ``results/tables`` of the workspace.
    formats
        Any of ``"tex"``, ``"csv"``, ``"md"``.

    Returns
    -------
    list of pathlib.Path
        The written files, in table then format order. A table without a section
        writes no file.

    Raises
    ------
    ValueError
        On an unknown format or table (nothing is written).
    """
    folder = Path(folder)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown table format(s) {', '.join(map(repr, unknown))} (expected tex, csv, md)")
    texts = []
    for table, table_sections in sections.items():
        if not table_sections:
            continue
        for fmt in dict.fromkeys(formats):
            texts.append((folder / f"{table}.{fmt}", _WRITERS[fmt](table, table_sections)))
    for target, text in texts:
        write_text(target, text)
    return [target for target, _ in texts]


@dataclass(frozen=True)
class WrittenTables:
    """What :func:`write_workspace_tables` wrote: the files, and the (metric, group) pairs without results."""

    paths: tuple[Path, ...]
    missing: tuple[tuple[str, str], ...]
    metrics: tuple[str, ...]


def write_workspace_tables(
    workspace: Any,
    metrics: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    runs: Literal["all", "main", "baseline"] = "all",
) -> WrittenTables:
    """Every pipeline's tables as ``results/tables/<table>.<format>`` (the ``tables`` command; caller holds the lock).

    Parameters
    ----------
    workspace
        A :class:`lightlane.store.workspace.Workspace`.
    metrics
        The metrics to tabulate (default: every pipeline's test metrics).
    formats
        Any of ``"tex"``, ``"csv"``, ``"md"``.
    runs
        As :func:`~lightlane.report.tables.content.load_results`.

    Returns
    -------
    WrittenTables
    """
    pipelines, wanted = {}, set()
    for pipeline_id in workspace.ids(Pipeline):
        pipeline = workspace.load(Pipeline, pipeline_id)
        processing = workspace.load(ProcessingParameters, pipeline.processing)
        pipelines[pipeline_id] = (pipeline.role, processing.processing_hash())
        wanted.update(processing.test_metrics)
    chosen = sorted(wanted if metrics is None else set(metrics)) + [P3_METRIC]  # P3: one row per run
    with Catalog.open(workspace.catalog_path) as catalog:
        results = load_results(catalog, pipelines, chosen, runs)
    sections = build_sections(results, chosen)
    paths = write_tables(sections, workspace.root / "results" / "tables", formats)
    return WrittenTables(tuple(paths), tuple(missing_sections(sections, chosen)), tuple(chosen))
