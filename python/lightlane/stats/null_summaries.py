"""Baseline runs, null summaries and calibrated p-values (SPEC §4.4, §9, §11.1–§11.6).

A *baseline run* re-executes a pipeline's A and B chains with a new run seed
and stores, per metric, a :class:`NullSummary` of B's values in the
``null_summaries`` table. The *baseline set* of a run is every baseline run
(kind ``'baseline'``, status ``'done'``) of the same pipeline, processing hash
and package version, excluding the run itself (:func:`load_baseline_set`).

From the set come the P1a threshold q̄ and the leave-one-out thresholds q̄₋ᵣ
(:func:`thresholds`), the null exceedance counts S_r counted from the stored
tails (:func:`p1a_null_counts`), and the calibrated p-values and verdicts of
P1a, P1b, P1c, P1e and P2 (:func:`calibrated_columns`).

Predicted directions (SPEC §11.1: a calibrated SIGNIFICANT needs p_cal < α
*and* the effect in the predicted direction). The predicted effect of each
test is the one its naive CONFIRMED/TREND verdicts describe (§11.2–§11.6,
§11.8); the reference "B" statistic is the run's own B when given
(``reference``), else the mean of the baseline runs' statistics:

* P1a: enrichment > 1, i.e. x > m·p0 (more exceedances than expected);
* P1b: mean(A) > mean(B)      (Δ_mean > 0);
* P1c: median(A) > median(B)  (Δ_med > 0);
* P1e: ρ_A < ρ_B              (the TREND-or-better side of §11.5);
* P2:  b_A < 0 and b_A < b_B  (hardening: the TREND/CONFIRMED condition of P2b).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import DataError, PrerequisiteError
from ..store.catalog import Catalog
from ..version import CODE_VERSION
from .p1 import neg_pos_ratio
from .quantiles import higher_quantile
from .verdicts import INCONCLUSIVE, NOT_APPLICABLE, P3_METRIC, UNDEFINED, calibrated_p, calibrated_verdict

__all__ = [
    "NullSummary",
    "tail_length",
    "tail_values",
    "store_null_summaries",
    "load_baseline_set",
    "load_baseline_runs",
    "leave_one_out",
    "P3_METRIC",
    "p3_null_values",
    "p3_calibrated",
    "thresholds",
    "require_baseline",
    "baseline_missing_message",
    "p1a_null_counts",
    "calibrated_columns",
]

_TAIL_DTYPE = np.dtype("<f8")


def _ceil_count(x: float) -> int:
    """⌈x⌉ ignoring floating-point noise (10·0.001·1000 = 10.000000000000002 → 10)."""
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return int(nearest)
    return int(math.ceil(x))


def tail_length(n: int, p0: float) -> int:
    """The minimum number of values a null summary's tail keeps: ⌈10·p0·n⌉, at most n (SPEC §4.4).

    Ties at the cut extend the stored tail past this length (:func:`tail_values`).

    Parameters
    ----------
    n
        Number of B values.
    p0
        tail_fraction, in (0, 1).

    Returns
    -------
    int
        ``min(⌈10·p0·n⌉, n)``.
    """
    if not 0.0 < p0 < 1.0:
        raise ValueError(f"tail fraction p0 = {p0} is outside (0, 1)")
    if n < 0:
        raise ValueError(f"n = {n} is negative")
    return min(_ceil_count(10.0 * p0 * n), n)


def tail_values(values: Any, p0: float) -> np.ndarray:
    """The stored tail: the ⌈10·p0·n⌉ largest values plus every value tied with the smallest of them.

    Sorted descending. Keeping the ties makes S_r = #{B_r ≥ t} exact for every t ≥ tail_min,
    t = tail_min included; a tail cut inside a run of ties undercounts there, which is
    anti-conservative (discrete metrics tie often). Without ties at the cut it is exactly
    the ⌈10·p0·n⌉ largest values.
    """
    ascending = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = int(ascending.size)
    if n == 0:
        return np.empty(0, dtype=np.float64)
    cut = ascending[n - tail_length(n, p0)]
    start = int(np.searchsorted(ascending, cut, side="left"))
    return ascending[start:][::-1].copy()


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, eq=False)
class NullSummary:
    """One baseline run's summary of B's values of one metric (a ``null_summaries`` row).

    Attributes
    ----------
    metric
        Metric name.
    n
        Number of B values.
    q
        q_r, the (1 − p0) quantile of B by the "higher" rule (SPEC §11.1).
    mean, median
        Mean and median of B.
    neg_pos_ratio
        #{v < 0}/#{v > 0} of B (None when B has no positive value).
    p2_slope, p2_se
        B's P2 slope b and se(b) (None when UNDEFINED).
    tail
        The ⌈10·p0·n⌉ largest values of B and every value tied with the smallest of them,
        sorted descending (read-only float64; see :func:`tail_values`). Rows written
        before ties were kept hold exactly ⌈10·p0·n⌉ values and load unchanged.
    tail_min
        The smallest value of the tail.
    p3
        P3's statistic S_r of B (SPEC §11.9; the same in every metric row of a run), None in
        rows recorded before P3.
    """

    metric: str
    n: int
    q: float
    mean: float
    median: float
    neg_pos_ratio: float | None
    p2_slope: float | None
    p2_se: float | None
    tail: np.ndarray
    tail_min: float
    p3: float | None = None

    def __post_init__(self) -> None:
        tail = np.array(self.tail, dtype=np.float64).ravel()
        if tail.size and np.any(np.diff(tail) > 0):
            raise ValueError(f"null summary of {self.metric!r}: the tail is not sorted descending")
        tail.flags.writeable = False
        object.__setattr__(self, "tail", tail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NullSummary):
            return NotImplemented
        scalars = ("metric", "n", "q", "mean", "median", "neg_pos_ratio", "p2_slope", "p2_se", "tail_min", "p3")
        return all(getattr(self, name) == getattr(other, name) for name in scalars) and bool(
            np.array_equal(self.tail, other.tail)
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_values(
        cls, metric: str, values: Any, p0: float, p2: tuple[float | None, float | None] | None = None
    ) -> NullSummary:
        """Summarise B's values of one metric.

        Parameters
        ----------
        metric
            Metric name.
        values
            B's metric values (1-D, finite, non-empty).
        p0
            tail_fraction; q is the (1 − p0) "higher" quantile and the tail keeps
            the ⌈10·p0·n⌉ largest values, extended by the ties at its minimum.
        p2
            ``(b, se)`` of B's P2 fit (see :func:`lightlane.stats.p2_slope`), or
            None when it is not available / UNDEFINED.

        Returns
        -------
        NullSummary
        """
        array = np.asarray(values, dtype=np.float64).ravel()
        if array.size == 0:
            raise ValueError(f"null summary of {metric!r}: no values")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"null summary of {metric!r}: non-finite values")
        n = int(array.size)
        q = higher_quantile(array, 1.0 - p0)
        tail = tail_values(array, p0)
        b, se = (None, None) if p2 is None else p2
        return cls(
            metric=metric,
            n=n,
            q=float(q),
            mean=float(np.mean(array)),
            median=float(np.median(array)),
            neg_pos_ratio=_optional_float(neg_pos_ratio(array)),
            p2_slope=_optional_float(b),
            p2_se=_optional_float(se),
            tail=tail,
            tail_min=float(tail[-1]),
        )

    def to_row(self, run_id: str) -> dict[str, Any]:
        """The ``null_summaries`` row (without ``code_version``); the tail as little-endian float64 bytes."""
        return {
            "run_id": run_id,
            "metric": self.metric,
            "n": int(self.n),
            "q": float(self.q),
            "mean": float(self.mean),
            "median": float(self.median),
            "neg_pos_ratio": self.neg_pos_ratio,
            "p2_slope": self.p2_slope,
            "p2_se": self.p2_se,
            "tail": self.tail.astype(_TAIL_DTYPE).tobytes(),
            "tail_min": float(self.tail_min),
            "p3": self.p3,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | sqlite3.Row) -> NullSummary:
        """Rebuild a summary from a ``null_summaries`` row (mapping or :class:`sqlite3.Row`)."""
        blob = row["tail"]
        tail = np.frombuffer(bytes(blob) if blob is not None else b"", dtype=_TAIL_DTYPE).astype(np.float64)
        return cls(
            metric=str(row["metric"]),
            n=int(row["n"]),
            q=float(row["q"]),
            mean=float(row["mean"]),
            median=float(row["median"]),
            neg_pos_ratio=_optional_float(row["neg_pos_ratio"]),
            p2_slope=_optional_float(row["p2_slope"]),
            p2_se=_optional_float(row["p2_se"]),
            tail=tail,
            tail_min=float(row["tail_min"]),
            p3=_optional_float(row["p3"]) if "p3" in row.keys() else None,
        )


# ------------------------------------------------------------------ catalog I/O


def store_null_summaries(
    catalog: Any, cursor: sqlite3.Cursor, run_id: str, summaries: Iterable[NullSummary] | Mapping[str, NullSummary]
) -> None:
    """Write one baseline run's null summaries (one row per metric, replacing older rows).

    Parameters
    ----------
    catalog
        The :class:`lightlane.store.catalog.Catalog` (its ``replace_null_summary`` fills ``code_version``).
    cursor
        A cursor inside ``catalog.transaction()``.
    run_id
        The baseline run.
    summaries
        NullSummary objects, or a mapping metric → NullSummary.
    """
    items = summaries.values() if isinstance(summaries, Mapping) else summaries
    for summary in items:
        catalog.replace_null_summary(cursor, summary.to_row(run_id))


def load_baseline_runs(
    connection: Any, pipeline_id: str, processing_hash: str, code_version: str = CODE_VERSION
) -> dict[str, dict[str, NullSummary]]:
    """Every baseline run's null summaries: run_id → metric → NullSummary, runs by ``run_index``.

    Read once by the leave-one-out pass, which takes each run's set from it
    (:func:`leave_one_out`) and its own summaries for its retest.
    """
    runs: dict[str, dict[str, NullSummary]] = {}
    for row in Catalog.wrap(connection).baseline_null_summaries(pipeline_id, processing_hash, code_version):
        runs.setdefault(str(row["run_id"]), {})[str(row["metric"])] = NullSummary.from_row(row)
    return runs


def leave_one_out(runs: Mapping[str, Mapping[str, NullSummary]],
                  exclude_run_id: str | None = None) -> dict[str, list[NullSummary]]:
    """metric → the summaries of every run of ``runs`` but ``exclude_run_id``, in run order."""
    result: dict[str, list[NullSummary]] = {}
    for run_id, summaries in runs.items():
        if run_id != exclude_run_id:
            for metric, summary in summaries.items():
                result.setdefault(metric, []).append(summary)
    return result


def load_baseline_set(
    connection: Any,
    pipeline_id: str,
    processing_hash: str,
    code_version: str = CODE_VERSION,
    exclude_run_id: str | None = None,
) -> dict[str, list[NullSummary]]:
    """The baseline set's null summaries, per metric (SPEC §11.1).

    Parameters
    ----------
    connection
        A Catalog, or its :class:`sqlite3.Connection` (wrapped: the query is the Catalog's).
    pipeline_id, processing_hash
        The run's pipeline and processing hash.
    code_version
        The package version the baseline runs must have been made with.
    exclude_run_id
        The run itself (leave-one-out when it is a baseline run).

    Returns
    -------
    dict
        metric → list of NullSummary, one per baseline run (kind ``'baseline'``,
        status ``'done'``) having that metric, ordered by ``run_index`` (then
        ``run_id``). Empty when there is no baseline run.
    """
    return leave_one_out(load_baseline_runs(connection, pipeline_id, processing_hash, code_version), exclude_run_id)


# ------------------------------------------------------------------- thresholds


def baseline_missing_message(pipeline_id: str, processing_id: str, processing_hash: str) -> str:
    """The exact R = 0 message of SPEC §11.1."""
    return (
        f"pipeline '{pipeline_id}' has no baseline runs for processing '{processing_id}' "
        f"(hash {processing_hash[:8]}); create them with `lightlane baseline {pipeline_id} --runs 100`, "
        f"or use `run --ensure-baseline 100`"
    )


def require_baseline(R: int, pipeline_id: str, processing_id: str, processing_hash: str) -> None:
    """Raise :class:`PrerequisiteError` when the baseline set is empty (R = 0; no fallback).

    Parameters
    ----------
    R
        Size of the baseline set.
    pipeline_id, processing_id, processing_hash
        Named in the message (the hash by its first 8 hex digits).
    """
    if R <= 0:
        raise PrerequisiteError(baseline_missing_message(pipeline_id, processing_id, processing_hash))


def thresholds(summaries: Sequence[NullSummary]) -> tuple[float, np.ndarray]:
    """P1a thresholds from the baseline set (SPEC §11.1).

    Parameters
    ----------
    summaries
        The R ≥ 1 baseline runs' summaries of one metric.

    Returns
    -------
    (q_bar, leave_one_out)
        q̄ = mean of q_r; ``leave_one_out[r]`` = q̄₋ᵣ, the mean of the other
        runs' q (NaN for every r when R = 1: no other run).
    """
    q = np.array([s.q for s in summaries], dtype=np.float64)
    if q.size == 0:
        raise ValueError("thresholds need at least one baseline run (R ≥ 1)")
    q_bar = float(np.mean(q))
    if q.size == 1:
        return q_bar, np.full(1, np.nan)
    loo = np.array([float(np.mean(np.delete(q, r))) for r in range(q.size)], dtype=np.float64)
    return q_bar, loo


def p1a_null_counts(summaries: Sequence[NullSummary], leave_one_out: Any) -> np.ndarray:
    """S_r = #{values of B_r ≥ q̄₋ᵣ}, counted from each stored tail (SPEC §11.2).

    Parameters
    ----------
    summaries
        The baseline runs' summaries of one metric.
    leave_one_out
        q̄₋ᵣ per run (from :func:`thresholds`).

    Returns
    -------
    numpy.ndarray
        int64 counts, one per run. Exact for every q̄₋ᵣ ≥ tail_min because a tail
        holds all the values tied with its minimum (:func:`tail_values`); a row
        written before that rule undercounts when q̄₋ᵣ == tail_min and its ties
        went past the cut.

    Raises
    ------
    DataError
        When q̄₋ᵣ < tail_min for some r (values below the tail would be
        needed), or q̄₋ᵣ is not finite (R = 1).
    """
    loo = np.asarray(leave_one_out, dtype=np.float64).ravel()
    if loo.size != len(summaries):
        raise ValueError(f"{loo.size} thresholds for {len(summaries)} baseline runs")
    counts = np.empty(loo.size, dtype=np.int64)
    for r, (summary, threshold) in enumerate(zip(summaries, loo)):
        if not math.isfinite(threshold):
            raise DataError(
                f"null summaries of {summary.metric!r}: leave-one-out threshold of baseline run {r} is undefined "
                f"(R = {len(summaries)}; at least 2 baseline runs are needed)"
            )
        if threshold < summary.tail_min:
            raise DataError(
                f"null summaries of {summary.metric!r}: the stored tail of baseline run {r} does not cover the "
                f"threshold (q̄₋ᵣ = {threshold!r} < tail_min = {summary.tail_min!r}); recreate the baseline runs"
            )
        counts[r] = int(np.count_nonzero(summary.tail >= threshold))
    return counts


# ------------------------------------------------------------------- calibrated


def _reference(own: float | None, baseline: Sequence[float | None]) -> float | None:
    """The run's own B statistic, else the mean of the baseline runs' defined ones."""
    if own is not None:
        return own
    defined = [v for v in baseline if v is not None]
    return float(np.mean(defined)) if defined else None


def _calibrate(
    name: str,
    s_a: float | None,
    s_r: Sequence[float | None],
    extreme: str,
    alpha: float,
    direction_ok: bool,
    notes: list[str],
) -> tuple[float | None, str]:
    """p_cal and verdict of one test; undefined S_r are dropped (R shrinks, noted)."""
    if s_a is None or not math.isfinite(s_a):
        notes.append(f"{name} calibrated: A's statistic is undefined")
        return None, UNDEFINED
    defined = [float(v) for v in s_r if v is not None and math.isfinite(v)]
    if len(defined) < len(s_r):
        notes.append(
            f"{name} calibrated: {len(s_r) - len(defined)} of {len(s_r)} baseline runs have no statistic; "
            f"R = {len(defined)} used"
        )
    if not defined:
        return None, UNDEFINED
    p_cal = calibrated_p(s_a, defined, extreme)
    return p_cal, calibrated_verdict(p_cal, len(defined), alpha, direction_ok)


def calibrated_columns(
    a_values: Any,
    summaries: Sequence[NullSummary],
    *,
    p0: float,
    alpha: float,
    signed: bool,
    p2_slope_a: float | None = None,
    reference: NullSummary | None = None,
) -> dict[str, Any]:
    """Calibrated p-values and verdicts of P1a, P1b, P1c, P1e and P2 for one metric.

    Parameters
    ----------
    a_values
        A's metric values T (the whole dataset, m chunks).
    summaries
        The baseline set's null summaries of this metric (R ≥ 1; see
        :func:`load_baseline_set`, :func:`require_baseline`).
    p0
        tail_fraction (P1a's predicted direction is x > m·p0).
    alpha
        significance_level.
    signed
        Whether the metric is signed (P1e is NOT_APPLICABLE otherwise).
    p2_slope_a
        A's P2 slope b_A (None when UNDEFINED).
    reference
        The run's own B summary: the reference of the predicted direction
        (mean, median, ρ_B, b_B). Without it, the mean of the baseline runs'
        statistics is used.

    Returns
    -------
    dict
        ``baseline_runs`` (R), ``p1a_threshold`` (q̄), ``p1a_p_calibrated``,
        ``p1a_verdict_calibrated``, ``p1b_…``, ``p1c_…``, ``p1e_…``,
        ``p2_p_calibrated``, ``p2_verdict_calibrated`` and ``notes`` (list).
        Extremes: P1a S_r ≥ x with S_r = #{B_r ≥ q̄₋ᵣ} from the tails; P1b/P1c
        S_r ≥ S_A; P1e ρ_r ≤ ρ_A; P2 b_r ≤ b_A. Verdicts come from
        :func:`lightlane.stats.calibrated_verdict`: INCONCLUSIVE when
        1/(R+1) ≥ α, SIGNIFICANT when p_cal < α in the predicted direction,
        else NOT_SIGNIFICANT; UNDEFINED (with a note) when A's or every
        baseline statistic is undefined.

    Raises
    ------
    PrerequisiteError
        When ``summaries`` is empty (call :func:`require_baseline` first for
        the full message).
    DataError
        When a stored tail does not cover its leave-one-out threshold.
    """
    R = len(summaries)
    if R == 0:
        raise PrerequisiteError("no baseline runs (R = 0): calibrated p-values need a baseline; run `lightlane baseline`")
    values = np.asarray(a_values, dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("A's values must be non-empty and finite")
    m = int(values.size)
    notes: list[str] = []
    out: dict[str, Any] = {"baseline_runs": R}

    # P1a: x = #{T ≥ q̄}; S_r = #{B_r ≥ q̄₋ᵣ} from the tails; extreme S_r ≥ x.
    q_bar, loo = thresholds(summaries)
    x = int(np.count_nonzero(values >= q_bar))
    out["p1a_threshold"] = q_bar
    if R >= 2:
        s_r = p1a_null_counts(summaries, loo)
        p, v = _calibrate("P1a", float(x), [float(s) for s in s_r], "ge", alpha, x > m * p0, notes)
    else:
        notes.append("P1a calibrated: a leave-one-out threshold needs R ≥ 2 baseline runs")
        p, v = None, (INCONCLUSIVE if 1.0 / (R + 1) >= alpha else UNDEFINED)
    out["p1a_p_calibrated"], out["p1a_verdict_calibrated"] = p, v

    # P1b / P1c: S = mean / median; extreme S_r ≥ S_A; predicted S_A > S_B.
    for test, attr, s_a in (("p1b", "mean", float(np.mean(values))), ("p1c", "median", float(np.median(values)))):
        baseline = [getattr(s, attr) for s in summaries]
        ref = _reference(None if reference is None else getattr(reference, attr), baseline)
        ok = ref is not None and s_a > ref
        p, v = _calibrate(test.upper(), s_a, baseline, "ge", alpha, ok, notes)
        out[f"{test}_p_calibrated"], out[f"{test}_verdict_calibrated"] = p, v

    # P1e: S = neg/pos; extreme ρ_r ≤ ρ_A; predicted ρ_A < ρ_B.
    if signed:
        rho_a = neg_pos_ratio(values)
        baseline = [s.neg_pos_ratio for s in summaries]
        ref = _reference(None if reference is None else reference.neg_pos_ratio, baseline)
        ok = rho_a is not None and ref is not None and rho_a < ref
        p, v = _calibrate("P1e", rho_a, baseline, "le", alpha, ok, notes)
    else:
        p, v = None, NOT_APPLICABLE
    out["p1e_p_calibrated"], out["p1e_verdict_calibrated"] = p, v

    # P2: S = b; extreme b_r ≤ b_A; predicted b_A < 0 and b_A < b_B (hardening).
    baseline = [s.p2_slope for s in summaries]
    ref = _reference(None if reference is None else reference.p2_slope, baseline)
    ok = p2_slope_a is not None and ref is not None and p2_slope_a < 0 and p2_slope_a < ref
    p, v = _calibrate("P2", p2_slope_a, baseline, "le", alpha, ok, notes)
    out["p2_p_calibrated"], out["p2_verdict_calibrated"] = p, v

    out["notes"] = notes
    return out


# ------------------------------------------------------------------------ P3


def p3_null_values(summaries: Mapping[str, Sequence[NullSummary]]) -> list[float | None]:
    """S_r of every run of a baseline set (metric → summaries), None where a run predates P3.

    S_r is stored in each metric row of a run, so any one metric's list gives every run.
    """
    for listed in summaries.values():
        return [summary.p3 for summary in listed]
    return []


def p3_calibrated(stat_a: float, null_values: Sequence[float | None], alpha: float) -> dict[str, Any]:
    """P3's calibrated p-value and verdict (SPEC §11.9): p_cal = (1 + #{S_r ≥ S_A})/(R + 1).

    A None S_r (P3 could not be computed on that run's B) is left out of R, with a note;
    runs made before P3 are refused earlier (:func:`lightlane.pipelines.runs.plan_run`).
    """
    s_r = [float(value) for value in null_values if value is not None]
    notes = [f"P3: {len(null_values) - len(s_r)} baseline runs without S_r left out"] if len(s_r) < len(null_values) else []
    if not s_r:
        return {"baseline_runs": 0, "p3_verdict_calibrated": UNDEFINED,
                "notes": "; ".join(notes + ["P3: no baseline statistic to calibrate against"])}
    p_cal = calibrated_p(stat_a, s_r, "ge")
    return {"baseline_runs": len(s_r), "p3_p_calibrated": p_cal, "notes": "; ".join(notes) or None,
            "p3_verdict_calibrated": calibrated_verdict(p_cal, len(s_r), alpha, True)}
