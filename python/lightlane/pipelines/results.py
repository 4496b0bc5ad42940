"""The ``test_results`` rows of one run and B's null summaries (SPEC §11.2–§11.7, §9).

Pure functions of two chunk tables and the baseline set: they are computed on
whichever process runs the unit and recomputed from cached chunk tables by
``run --retest`` and the leave-one-out pass of a baseline.
"""

from __future__ import annotations

import math
from dataclasses import replace
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from .. import stats
from ..exceptions import DataError
from ..metadata import ProcessingParameters
from ..stats.null_summaries import NullSummary
from ..store.catalog import TEST_RESULT_COLUMNS

__all__ = ["SIGNED_METRICS", "result_rows", "p3_row", "stored_p3_estimate", "pending_rows", "null_summaries"]

#: Metrics whose sign carries meaning (SPEC §10.5): P1d and P1e apply to them only.
SIGNED_METRICS: frozenset[str] = frozenset({"ev", "evs", "fel", "feg", "vea", "vesa", "nxs"})

_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in TEST_RESULT_COLUMNS)


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _column(table: pl.DataFrame, metric: str) -> np.ndarray:
    return table[metric].to_numpy().astype(np.float64, copy=False)


def result_rows(
    run_id: str,
    processing: ProcessingParameters,
    a_table: pl.DataFrame,
    b_table: pl.DataFrame,
    summaries: Mapping[str, Sequence[NullSummary]],
    *,
    n_a: int | None,
    n_b: int | None,
    own_b: Mapping[str, NullSummary] | None = None,
) -> list[dict[str, Any]]:
    """The ``test_results`` rows of one run, one per test metric (SPEC §11.2–§11.7).

    Parameters
    ----------
    run_id
        The run.
    processing
        The processing (test metrics, p0, α, ci_level, top_fraction, band; bootstrap_resamples
        is ignored, the bootstrap being exact).
    a_table, b_table
        A's and B's chunk tables.
    summaries
        metric → the baseline set's null summaries (excluding this run). An empty
        set leaves P1a and the calibrated columns NULL, with a note.
    n_a, n_b
        Selected event counts of A and B (stored as ``n_a``/``n_b``).
    own_b
        A baseline run's own null summaries of this B (:func:`null_summaries`), so that B's
        summary and P2 fit are not computed twice.

    Returns
    -------
    list of dict
        Keys ``run_id``, ``metric`` and every column of
        :data:`lightlane.store.catalog.TEST_RESULT_COLUMNS` (missing ones None).
    """
    p0 = processing.tail_fraction
    alpha = processing.significance_level
    centres = processing.band.centres_nm()
    columns = {metric: (_column(a_table, metric), _column(b_table, metric)) for metric in processing.test_metrics}
    finite = {metric: (_finite(a_all), _finite(b_all)) for metric, (a_all, b_all) in columns.items()}
    testable = [metric for metric, (a, b) in finite.items() if a.size and b.size]
    # every metric's exact bootstrap in one call, parallel over metrics
    intervals = dict(zip(testable, stats.bootstrap_intervals([finite[m] for m in testable], 1.0 - alpha)))
    rows = []
    for metric in processing.test_metrics:
        signed = metric in SIGNED_METRICS
        (a_all, b_all), (a, b) = columns[metric], finite[metric]
        notes: list[str] = []
        if a.size < a_all.size or b.size < b_all.size:
            notes.append(f"{a_all.size - a.size} A and {b_all.size - b.size} B chunks with non-finite "
                         f"{metric} ignored")
        if a.size == 0 or b.size == 0:
            row: dict[str, Any] = {"notes": "; ".join(notes + ["A or B has no finite value; all tests UNDEFINED"])}
            for name in _COLUMN_NAMES:
                if name.endswith("verdict") or name.endswith("verdict_calibrated"):
                    row.setdefault(name, stats.UNDEFINED)
        else:
            head: dict[str, Any] = {"notes": notes}
            known = (own_b or {}).get(metric)
            b_slope = None
            if known is not None and known.p2_slope is not None:  # an UNDEFINED slope is refitted for its reason
                b_slope = (stats.top_count(b_table.height, processing.top_fraction), known.p2_slope, known.p2_se, None)
            parts: list[Mapping[str, Any]] = [
                head,
                stats.p1b_p1c(a, b, alpha, intervals[metric]),
                stats.p1d(a, b, signed),
                stats.p1e(a, b, signed),
                stats.p2(a_table, b_table, metric, processing.top_fraction, centres, alpha, b_slope=b_slope),
            ]
            merged_p2 = stats.merge_results(parts[-1])
            reference = known or NullSummary.from_values(
                metric, b, p0, (merged_p2.get("p2_slope_b"), merged_p2.get("p2_se_b")))
            head["p1a_q_run"] = reference.q  # B's own tail quantile
            baseline_set = list(summaries.get(metric, ()))
            if baseline_set:
                calibrated = stats.calibrated_columns(
                    a, baseline_set, p0=p0, alpha=alpha, signed=signed,
                    p2_slope_a=merged_p2.get("p2_slope_a"), reference=reference)
                naive = stats.p1a(a, calibrated["p1a_threshold"], p0, alpha, processing.ci_level)
                parts += [naive, calibrated]
            else:
                parts.append({"baseline_runs": 0, "notes": ["no baseline runs: P1a and calibrated p-values not computed"]})
            row = stats.merge_results(*parts)
        out = {"run_id": run_id, "metric": metric}
        out.update({name: row.get(name) for name in _COLUMN_NAMES})
        out["n_a"] = None if n_a is None else int(n_a)
        out["n_b"] = None if n_b is None else int(n_b)
        rows.append({k: _plain(v) for k, v in out.items()})
    return rows


def p3_row(
    run_id: str,
    processing: ProcessingParameters,
    estimate: tuple[float, float, float] | None,
    summaries: Mapping[str, Sequence[NullSummary]] | None,
    *,
    n_a: int | None,
    n_b: int | None,
    undefined: str | None = None,
) -> dict[str, Any]:
    """The run's one P3 row (metric ``p3``, SPEC §11.9).

    ``estimate`` is A's (S_max − 2, ŝ, ĉ), None when P3 could not be computed (``undefined``
    says why) or the run predates P3; ``summaries`` the baseline set (None: not calibrated
    yet, as in a baseline run's pending row).
    """
    row: dict[str, Any] = {"run_id": run_id, "metric": stats.P3_METRIC, **dict.fromkeys(_COLUMN_NAMES)}
    row.update(n_a=None if n_a is None else int(n_a), n_b=None if n_b is None else int(n_b))
    if estimate is None:
        why = undefined or "the run was computed before P3 existed; run it again"
        row.update(p3_verdict_calibrated=stats.UNDEFINED, notes=f"P3: {why}")
        return row
    row.update(p3_stat=float(estimate[0]), p3_slope=float(estimate[1]), p3_intercept=float(estimate[2]))
    if summaries:
        row.update(stats.p3_calibrated(row["p3_stat"], stats.p3_null_values(summaries),
                                       processing.significance_level))
    elif summaries is not None:
        row.update(baseline_runs=0, notes="no baseline runs: P3 not calibrated")
    return {k: _plain(v) for k, v in row.items()}


def stored_p3_estimate(rows: Sequence[Mapping[str, Any]]) -> tuple[float, float, float] | None:
    """A's P3 estimate kept in a run's stored rows (a retest recalibrates it, SPEC §11.9)."""
    for row in rows:
        if row["metric"] == stats.P3_METRIC and row["p3_stat"] is not None:
            return float(row["p3_stat"]), float(row["p3_slope"]), float(row["p3_intercept"])
    return None


def pending_rows(run_id: str, processing: ProcessingParameters, *, n_a: int, n_b: int) -> list[dict[str, Any]]:
    """The ``test_results`` rows of a baseline run before its tests exist: the metrics and event counts only.

    A baseline run's tests use the baseline set without the run itself (SPEC §9), so they are
    computed once the set is complete (:func:`lightlane.pipelines.baselines.recompute_baseline_tests`),
    which reads ``n_a``/``n_b`` back from these rows.
    """
    rows = []
    for metric in processing.test_metrics:
        row: dict[str, Any] = {"run_id": run_id, "metric": metric, **dict.fromkeys(_COLUMN_NAMES)}
        row.update(n_a=int(n_a), n_b=int(n_b))
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    """Numpy scalars → Python scalars; NaN → None (SQLite NULL)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def null_summaries(processing: ProcessingParameters, b_table: pl.DataFrame,
                   p3: float | None = None) -> dict[str, NullSummary]:
    """B's per-metric null summaries, with B's own P2 slope and P3 statistic (SPEC §9, §11.1, §11.9)."""
    centres = processing.band.centres_nm()
    out = {}
    for metric in processing.test_metrics:
        values = _finite(_column(b_table, metric))
        if values.size == 0:
            raise DataError(f"baseline B has no finite {metric} value; no null summary")
        _, slope, se, _reason = stats.p2_slope(b_table, metric, processing.top_fraction, centres)
        summary = NullSummary.from_values(metric, values, processing.tail_fraction, (slope, se))
        out[metric] = replace(summary, p3=None if p3 is None else float(p3))
    return out
