"""Result tables (SPEC §15): ``test_results`` summarised per pipeline and verdict.

The stored per-run test results (§11.7) are joined with their runs (§4.4),
restricted to one package version and to each pipeline's current processing
hash, and summarised in five tables (p1a, p1bc, p1d, p1e, p2). Each table
has one section per metric and pipeline role group (positive_control,
negative_control, test; :class:`TableSection`); within a section, the rows
are the (pipeline, headline verdict) groups: each gives the medians of its
runs' values and ``runs``, the number of runs. One file per table and format
holds every section (:mod:`.formats`).

The table frames hold numbers at full precision; composite cells (an
interval, an ``A/B`` pair, a value ``± se``) are ``List(Float64)`` cells of
length 2. The writers format them: LaTeX and Markdown with 3 significant
digits (p-values ``%.2e``), CSV at full precision (shortest round-trip
``repr`` of each float).

Headline verdicts (§11.8: "the table headline is the calibrated verdict where
one exists"):

====== ============================================== ==========================
table  grouping (headline) verdict                    other verdict columns
====== ============================================== ==========================
p1a    p1a_verdict_calibrated, else p1a_verdict       verdict (naive): the mode
p1bc   p1b_verdict_calibrated, else p1b_verdict       P1c verdict: the mode of
                                                      the P1c headline verdict
p1d    p1d_verdict (descriptive, no calibration)      —
p1e    p1e_verdict_calibrated, else p1e_verdict       —
p2     p2_verdict_calibrated, else p2a_verdict (P2a)  P2b: the mode of
                                                      p2b_verdict
====== ============================================== ==========================

The mode is the most frequent value among the group's runs (ties: the
alphabetically first).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from ...stats.verdicts import P3_METRIC
from ...store.catalog import TEST_RESULT_COLUMNS, Catalog
from ...version import CODE_VERSION

__all__ = [
    "GROUPS",
    "TABLES",
    "TABLE_COLUMNS",
    "COLUMN_KINDS",
    "CellKind",
    "RunSelection",
    "load_results",
    "headline_verdict",
    "headline_expr",
    "build_tables",
    "empty_groups",
    "TableSection",
    "build_sections",
    "missing_sections",
]

GROUPS: tuple[str, ...] = ("positive_control", "negative_control", "test")
"""Pipeline role groups (§5.5), in output order."""

TABLES: tuple[str, ...] = ("p1a", "p1bc", "p1d", "p1e", "p2", "p3")
"""Table names (§15), in output order; ``p3`` summarises the runs' one P3 row (metric ``p3``, §11.9)."""

RunSelection = Literal["all", "main", "baseline"]

_RUN_KINDS: dict[str, tuple[str, ...]] = {
    "all": ("pipeline", "baseline"),
    "main": ("pipeline",),
    "baseline": ("baseline",),
}

# Column kinds: how a cell is stored in the frame and formatted by the writers.
#   text: string; int: integer; num: float (3 significant digits); p: p-value (%.2e);
#   interval: [lo, hi]; pair: A/B; pm: value ± se (composites are List(Float64) of length 2).
CellKind = Literal["text", "int", "num", "p", "interval", "pair", "pm"]

_SPECS: dict[str, tuple[tuple[str, CellKind], ...]] = {
    "p1a": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("median p_cal", "p"),
        ("median p_binom", "p"),
        ("median threshold q̄", "num"),
        ("median exceedances", "num"),
        ("expected (m·p0)", "num"),
        ("median enrichment", "num"),
        ("verdict (calibrated)", "text"),
        ("verdict (naive)", "text"),
    ),
    "p1bc": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("mean A", "num"),
        ("mean B", "num"),
        ("Δ_mean interval", "interval"),
        ("P1b verdict", "text"),
        ("median A", "num"),
        ("median B", "num"),
        ("MW p", "p"),
        ("P1c verdict", "text"),
    ),
    "p1d": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("neg peak A/B", "pair"),
        ("pos peak A/B", "pair"),
        ("r_neg", "num"),
        ("r_pos", "num"),
        ("verdict", "text"),
    ),
    "p1e": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("neg/pos A", "num"),
        ("neg/pos B", "num"),
        ("p_cal", "p"),
        ("verdict", "text"),
    ),
    "p2": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("slope A ± se", "pm"),
        ("slope B ± se", "pm"),
        ("p_z", "p"),
        ("p_cal", "p"),
        ("P2a", "text"),
        ("P2b", "text"),
    ),
    "p3": (
        ("pipeline", "text"),
        ("runs", "int"),
        ("median S_max − 2", "num"),
        ("median ŝ (1/nm)", "num"),
        ("median ĉ (ln Hz)", "num"),
        ("median p_cal", "p"),
        ("verdict (calibrated)", "text"),
    ),
}

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(name for name, _ in spec) for table, spec in _SPECS.items()}
"""The exact column names of each table (§15), in order."""

COLUMN_KINDS: dict[str, dict[str, CellKind]] = {table: dict(spec) for table, spec in _SPECS.items()}
"""Each table's column → cell kind."""

# Naive verdict column paired with each calibrated verdict (§11.7).
_VERDICT_COLUMNS: dict[str, tuple[str | None, str]] = {
    "p1a": ("p1a_verdict_calibrated", "p1a_verdict"),
    "p1b": ("p1b_verdict_calibrated", "p1b_verdict"),
    "p1c": ("p1c_verdict_calibrated", "p1c_verdict"),
    "p1d": (None, "p1d_verdict"),
    "p1e": ("p1e_verdict_calibrated", "p1e_verdict"),
    "p2": ("p2_verdict_calibrated", "p2a_verdict"),
    "p2a": ("p2_verdict_calibrated", "p2a_verdict"),
    "p2b": (None, "p2b_verdict"),
    "p3": (None, "p3_verdict_calibrated"),  # P3 has only a calibrated verdict
}

_SQL_TYPES = {"REAL": pl.Float64, "INTEGER": pl.Int64, "TEXT": pl.Utf8}

_META_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.Utf8,
    "run_kind": pl.Utf8,
    "pipeline_id": pl.Utf8,
    "processing_hash": pl.Utf8,
    "run_index": pl.Int64,
    "metric": pl.Utf8,
}


# --------------------------------------------------------------------------------------------
# Loading


def load_results(
    connection: Catalog | sqlite3.Connection,
    pipelines: Mapping[str, tuple[str, str]],
    metrics: Iterable[str] | None = None,
    runs: RunSelection = "all",
    code_version: str | None = None,
) -> pl.DataFrame:
    """Read ``test_results`` joined with ``runs`` for the given pipelines.

    Parameters
    ----------
    connection
        The open :class:`~lightlane.store.catalog.Catalog` (or its ``connection``).
    pipelines
        Pipeline id → ``(role, processing_hash)``: the pipeline's role (§5.5) and
        the hash of its current processing. Only results of runs with that
        hash are kept; pipelines not listed are ignored.
    metrics
        Metric names to keep; ``None`` keeps every metric.
    runs
        ``"main"`` (run kind ``pipeline``), ``"baseline"`` (kind ``baseline``)
        or ``"all"`` (both).
    code_version
        Package version whose results are kept (``test_results.code_version``);
        ``None`` means the running package's version.

    Returns
    -------
    polars.DataFrame
        One row per (run, metric) with the columns ``run_id``, ``run_kind``
        (``"main"`` or ``"baseline"``), ``pipeline_id``, ``processing_hash``,
        ``run_index``, ``metric``, every column of §11.7, ``code_version`` and
        ``role``; sorted by pipeline, metric, run kind and run index. Only runs
        with status ``done`` are included.

    Raises
    ------
    ValueError
        If ``runs`` is not one of ``"all"``, ``"main"``, ``"baseline"``, or a
        role is not a known group.
    """
    if runs not in _RUN_KINDS:
        raise ValueError(f"runs must be one of 'all', 'main', 'baseline', not {runs!r}")
    for pipeline_id, (role, _hash) in pipelines.items():
        if role not in GROUPS:
            raise ValueError(f"pipeline {pipeline_id!r}: unknown role {role!r} (expected one of {', '.join(GROUPS)})")
    version = CODE_VERSION if code_version is None else code_version
    schema: dict[str, pl.DataType] = dict(_META_SCHEMA)
    schema.update({name: _SQL_TYPES[kind] for name, kind in TEST_RESULT_COLUMNS})
    schema["code_version"] = pl.Utf8

    kinds = _RUN_KINDS[runs]
    ids = sorted(pipelines)
    metric_list = None if metrics is None else sorted(set(metrics))
    rows: list[tuple[Any, ...]] = []
    if ids and (metric_list is None or metric_list):
        found = Catalog.wrap(connection).results_with_runs(version, kinds, ids, metric_list)
        rows = [tuple(row) for row in found]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    wanted = pl.DataFrame(
        {
            "pipeline_id": ids,
            "processing_hash": [pipelines[i][1] for i in ids],
            "role": [pipelines[i][0] for i in ids],
        },
        schema={"pipeline_id": pl.Utf8, "processing_hash": pl.Utf8, "role": pl.Utf8},
    )
    frame = frame.join(wanted, on=["pipeline_id", "processing_hash"], how="inner")
    return frame.sort(["pipeline_id", "metric", "run_kind", "run_index", "run_id"], descending=[False, False, True, False, False])


# --------------------------------------------------------------------------------------------
# Verdicts


def headline_verdict(row: Mapping[str, Any], test: str = "p1a") -> str | None:
    """The headline verdict of one result row: calibrated where one exists, else naive.

    Parameters
    ----------
    row
        A ``test_results`` row as a mapping (a dict, ``sqlite3.Row`` or a polars
        row from ``iter_rows(named=True)``).
    test
        ``p1a``, ``p1b``, ``p1c``, ``p1d``, ``p1e``, ``p2`` (= ``p2a``: the
        calibrated P2 verdict, else P2a) or ``p2b``.

    Returns
    -------
    str or None
        The verdict string (§11.8), or ``None`` if neither is stored.
    """
    calibrated, naive = _verdict_columns(test)
    if calibrated is not None:
        value = _get(row, calibrated)
        if value not in (None, ""):
            return str(value)
    value = _get(row, naive)
    return None if value in (None, "") else str(value)


def headline_expr(test: str = "p1a") -> pl.Expr:
    """Polars expression of :func:`headline_verdict` over a results frame."""
    calibrated, naive = _verdict_columns(test)
    naive_expr = pl.col(naive).cast(pl.Utf8)
    if calibrated is None:
        return naive_expr
    cal = pl.col(calibrated).cast(pl.Utf8)
    return pl.when(cal.is_not_null() & (cal != "")).then(cal).otherwise(naive_expr)


def _verdict_columns(test: str) -> tuple[str | None, str]:
    try:
        return _VERDICT_COLUMNS[test]
    except KeyError:
        raise ValueError(f"unknown test {test!r} (expected one of {', '.join(_VERDICT_COLUMNS)})") from None


def _get(row: Mapping[str, Any], key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


# --------------------------------------------------------------------------------------------
# Building


def _median(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).median()


def _pair(first: str, second: str) -> pl.Expr:
    return pl.concat_list([_median(first), _median(second)])


def _mode(expr: pl.Expr) -> pl.Expr:
    """Most frequent non-null value (ties: alphabetically first)."""
    return expr.drop_nulls().mode().sort().first()


def _table_aggregations(table: str) -> tuple[pl.Expr, list[pl.Expr]]:
    """(headline verdict expression, aggregations) of one table."""
    if table == "p1a":
        return headline_expr("p1a"), [
            _median("p1a_p_calibrated").alias("median p_cal"),
            _median("p1a_p_binomial").alias("median p_binom"),
            _median("p1a_threshold").alias("median threshold q̄"),
            _median("p1a_exceedances").alias("median exceedances"),
            _median("p1a_expected").alias("expected (m·p0)"),
            _median("p1a_enrichment").alias("median enrichment"),
            _mode(pl.col("p1a_verdict")).alias("verdict (naive)"),
        ]
    if table == "p1bc":
        return headline_expr("p1b"), [
            _median("p1b_mean_a").alias("mean A"),
            _median("p1b_mean_b").alias("mean B"),
            _pair("p1b_ci_low", "p1b_ci_high").alias("Δ_mean interval"),
            _median("p1c_median_a").alias("median A"),
            _median("p1c_median_b").alias("median B"),
            _median("p1c_p_mw_greater").alias("MW p"),
            _mode(pl.col("_p1c_headline")).alias("P1c verdict"),
        ]
    if table == "p1d":
        return headline_expr("p1d"), [
            _pair("p1d_neg_a", "p1d_neg_b").alias("neg peak A/B"),
            _pair("p1d_pos_a", "p1d_pos_b").alias("pos peak A/B"),
            _median("p1d_ratio_neg").alias("r_neg"),
            _median("p1d_ratio_pos").alias("r_pos"),
        ]
    if table == "p1e":
        return headline_expr("p1e"), [
            _median("p1e_ratio_a").alias("neg/pos A"),
            _median("p1e_ratio_b").alias("neg/pos B"),
            _median("p1e_p_calibrated").alias("p_cal"),
        ]
    if table == "p2":
        return headline_expr("p2"), [
            _pair("p2_slope_a", "p2_se_a").alias("slope A ± se"),
            _pair("p2_slope_b", "p2_se_b").alias("slope B ± se"),
            _median("p2_p_z").alias("p_z"),
            _median("p2_p_calibrated").alias("p_cal"),
            _mode(pl.col("p2b_verdict")).alias("P2b"),
        ]
    if table == "p3":
        return headline_expr("p3"), [
            _median("p3_stat").alias("median S_max − 2"),
            _median("p3_slope").alias("median ŝ (1/nm)"),
            _median("p3_intercept").alias("median ĉ (ln Hz)"),
            _median("p3_p_calibrated").alias("median p_cal"),
        ]
    raise ValueError(f"unknown table {table!r} (expected one of {', '.join(TABLES)})")


_HEADLINE_NAME = {"p1a": "verdict (calibrated)", "p1bc": "P1b verdict", "p1d": "verdict", "p1e": "verdict", "p2": "P2a",
                  "p3": "verdict (calibrated)"}


def _build_one(rows: pl.DataFrame, table: str) -> pl.DataFrame:
    headline, aggregations = _table_aggregations(table)
    verdict = _HEADLINE_NAME[table]
    grouped = (
        rows.with_columns(headline.alias("_verdict"), headline_expr("p1c").alias("_p1c_headline"))
        .group_by(["pipeline_id", "_verdict"])
        .agg(pl.len().cast(pl.Int64).alias("runs"), *aggregations)
        .sort(["pipeline_id", "_verdict"], nulls_last=True)
        .rename({"pipeline_id": "pipeline", "_verdict": verdict})
    )
    columns = []
    for name, kind in _SPECS[table]:
        expr = pl.col(name)
        if kind in ("interval", "pair", "pm"):
            expr = expr.cast(pl.List(pl.Float64))
        elif kind in ("num", "p"):
            expr = expr.cast(pl.Float64)
        elif kind == "int":
            expr = expr.cast(pl.Int64)
        else:
            expr = expr.cast(pl.Utf8)
        columns.append(expr)
    return grouped.select(columns)


def build_tables(results: pl.DataFrame, metric: str) -> dict[tuple[str, str], pl.DataFrame]:
    """Summarise one metric's results into the five tables per role group.

    Parameters
    ----------
    results
        A frame from :func:`load_results` (needs ``pipeline_id``, ``role``,
        ``metric`` and the §11.7 columns).
    metric
        The metric whose rows are summarised.

    Returns
    -------
    dict
        ``(table, group)`` → frame with exactly the columns of
        :data:`TABLE_COLUMNS` ``[table]``: one row per (pipeline, headline
        verdict) with ``runs`` and the medians over those runs, sorted by
        pipeline id, then verdict. Groups without rows have no entry. Keys
        are ordered by group (:data:`GROUPS`), then table (:data:`TABLES`).
    """
    selected = results.filter(pl.col("metric") == metric)
    kinds = ("p3",) if metric == P3_METRIC else TABLES[:-1]  # the P3 row fills only the p3 table
    tables: dict[tuple[str, str], pl.DataFrame] = {}
    for group in GROUPS:
        rows = selected.filter(pl.col("role") == group)
        if rows.height == 0:
            continue
        for table in kinds:
            tables[(table, group)] = _build_one(rows, table)
    return tables


def empty_groups(tables: Mapping[tuple[str, str], pl.DataFrame]) -> list[str]:
    """Role groups (in :data:`GROUPS` order) with no table in ``tables``."""
    present = {group for (_table, group), frame in tables.items() if frame.height > 0}
    return [group for group in GROUPS if group not in present]




@dataclass(frozen=True)
class TableSection:
    """The rows of one table for one metric and one role group (a section of the table's file)."""

    metric: str
    group: str
    frame: pl.DataFrame


def build_sections(results: pl.DataFrame, metrics: Sequence[str]) -> dict[str, tuple[TableSection, ...]]:
    """Every table's sections: one per metric (in ``metrics`` order) and role group (:data:`GROUPS` order).

    Parameters
    ----------
    results
        A frame from :func:`load_results`.
    metrics
        The metrics to summarise.

    Returns
    -------
    dict
        table (in :data:`TABLES` order) → its non-empty sections; a table without any
        section has no entry.
    """
    found: dict[str, list[TableSection]] = {table: [] for table in TABLES}
    for metric in metrics:
        tables = build_tables(results, metric)
        for group in GROUPS:
            for table in TABLES:
                frame = tables.get((table, group))
                if frame is not None and frame.height > 0:
                    found[table].append(TableSection(metric, group, frame))
    return {table: tuple(sections) for table, sections in found.items() if sections}


def missing_sections(sections: Mapping[str, Sequence[TableSection]], metrics: Sequence[str]) -> list[tuple[str, str]]:
    """(metric, group) pairs without results (no section in any table), in metric then group order."""
    present = {(s.metric, s.group) for table in sections.values() for s in table}
    return [(metric, group) for metric in metrics for group in GROUPS if (metric, group) not in present]
