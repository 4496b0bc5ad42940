"""Statistical tests P1a–P1e of SPEC §11.2–§11.5.

Pure functions on numpy arrays. Each test returns a dict whose keys are the
§11.7 column names it fills (see :data:`lightlane.store.catalog.TEST_RESULT_COLUMNS`)
plus ``"notes"``, a list of reasons for UNDEFINED verdicts (empty when there
are none); see :func:`lightlane.stats.verdicts.merge_results`.

The naive p-values (binomial, Mann–Whitney) treat the chunks as independent
and are anti-conservative (SPEC §11.1); the calibrated ones come from
:func:`lightlane.stats.verdicts.calibrated_p`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from ..memo import remembered
from .quantiles import finite_part, finite_values
from .verdicts import (
    ANOMALOUS,
    CONFIRMED,
    CONTRAINDICATED,
    NOT_APPLICABLE,
    NOT_SIGNIFICANT,
    PARTIAL,
    SIGNIFICANT,
    SILENT,
    STRONGLY_CONFIRMED,
    TREND,
    UNDEFINED,
)

__all__ = [
    "p1a",
    "clopper_pearson",
    "BootstrapIntervals",
    "bootstrap_quantiles",
    "bootstrap_intervals",
    "mann_whitney",
    "p1b_p1c",
    "P1D_BINS",
    "p1d_edges",
    "p1d_histograms",
    "p1d",
    "p1d_zone",
    "p1e",
    "neg_pos_ratio",
]

#: The P1d bin width is (hi − lo)/P1D_BINS (SPEC §11.4).
P1D_BINS = 100
# Pooled quantiles bounding the P1d bins (SPEC §11.4).
_P1D_QUANTILES = (0.001, 0.999)
#: P1d zone limits (SPEC §11.4): L below, S inside [0.95, 1.05], H above.
_ZONE_LOW, _ZONE_HIGH = 0.95, 1.05


# --------------------------------------------------------------------------- P1a


def _binom_sf(k: float, n: int, p: float) -> float:
    """The binomial survival function, through the ufunc scipy.stats.binom.sf calls (without importing
    scipy.stats, half a second per command)."""
    try:
        from scipy.special._ufuncs import _binom_sf as binom_sf
    except ImportError:  # pragma: no cover - a SciPy that moved it
        from scipy.stats import binom

        return float(binom.sf(k, n, p))
    return float(binom_sf(k, n, p))

def clopper_pearson(x: int, m: int, level: float) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval for a binomial rate.

    Parameters
    ----------
    x, m
        Successes and trials, 0 ≤ x ≤ m, m ≥ 1.
    level
        Confidence level, e.g. 0.95.

    Returns
    -------
    (low, high)
        ``Beta(x, m − x + 1)`` quantile at (1 − level)/2 and ``Beta(x + 1, m − x)``
        quantile at (1 + level)/2; low = 0 for x = 0 and high = 1 for x = m.
    """
    if not 0 <= x <= m or m < 1:
        raise ValueError(f"need 0 ≤ x ≤ m and m ≥ 1, got x={x}, m={m}")
    tail = (1.0 - level) / 2.0
    from scipy.special import betaincinv  # here: the figure workers use this module's p1d_edges only

    low = 0.0 if x == 0 else float(betaincinv(x, m - x + 1, tail))  # the Beta quantile, as beta.ppf
    high = 1.0 if x == m else float(betaincinv(x + 1, m - x, 1.0 - tail))
    return low, high


def p1a(test_values: Any, threshold: float, p0: float, alpha: float, ci_level: float) -> dict[str, Any]:
    """P1a, tail exceedance (SPEC §11.2), naive part.

    Parameters
    ----------
    test_values
        A's metric values T (m of them, finite).
    threshold
        q̄, the mean of the baseline runs' (1 − p0) quantiles.
    p0
        tail_fraction.
    alpha
        significance_level.
    ci_level
        Level of the Clopper–Pearson interval.

    Returns
    -------
    dict
        ``p1a_threshold``, ``p1a_exceedances`` (x = #{T ≥ q̄}), ``p1a_expected``
        (m·p0), ``p1a_rate`` (p̂ = x/m), ``p1a_enrichment`` (p̂/p0),
        ``p1a_p_binomial`` (P(Bin(m, p0) ≥ x), exact), ``p1a_ci_low``,
        ``p1a_ci_high``, ``p1a_verdict`` (SIGNIFICANT iff p_binom < α) and
        ``notes``. The calibrated fields need the baseline tails and are filled
        by the caller with :func:`calibrated_p`.
    """
    values = finite_values(test_values, "test_values")
    m = int(values.size)
    x = int(np.count_nonzero(values >= threshold))
    rate = x / m
    p_binom = 1.0 if x == 0 else _binom_sf(float(x - 1), m, p0)
    low, high = clopper_pearson(x, m, ci_level)
    return {
        "p1a_threshold": float(threshold),
        "p1a_exceedances": x,
        "p1a_expected": m * p0,
        "p1a_rate": rate,
        "p1a_enrichment": rate / p0,
        "p1a_p_binomial": p_binom,
        "p1a_ci_low": low,
        "p1a_ci_high": high,
        "p1a_verdict": SIGNIFICANT if p_binom < alpha else NOT_SIGNIFICANT,
        "notes": [],
    }


# ----------------------------------------------------------------------- P1b/P1c


@dataclass(frozen=True)
class BootstrapIntervals:
    """Exact bootstrap percentile intervals of Δ_mean and Δ_med (SPEC §11.3 rev 2)."""

    mean_low: float
    mean_high: float
    median_low: float
    median_high: float


def bootstrap_quantiles(
    samples: Sequence[tuple[Any, Any]], probabilities: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Exact (ideal) bootstrap percentiles of mean(A*) − mean(B*) and median(A*) − median(B*).

    The ideal bootstrap resamples A and B independently with replacement,
    infinitely often; its percentiles are computed without random draws (SPEC
    §11.3 rev 2), in Rust, in parallel over the pairs, identical for any thread
    count and independent of any seed.

    * Median: the bootstrap median of a sample of size n is discrete on the
      sample's values (odd n) or on the means of pairs of values (even n), with
      masses from binomial tails; Δ_med is the difference of A's and B's
      independent distributions (atoms of mass ≤ 1e-15 dropped). Its percentile
      at p is the lower quantile inf{t : P(Δ_med ≤ t) ≥ p}, which is what
      ``numpy.quantile`` of Monte-Carlo resamples converges to.
    * Mean: a Cornish–Fisher percentile from Δ_mean's exact cumulants (mean
      difference; variance m₂/n from the plug-in (1/n) variance; third and
      fourth cumulants of each sample scaled by 1/n² and 1/n³), kept inside
      [min A − max B, max A − min B].

    Parameters
    ----------
    samples
        (A, B) pairs of 1-D arrays of finite values (one pair per metric).
    probabilities
        Percentile levels, each in (0, 1).

    Returns
    -------
    list of (mean_quantiles, median_quantiles)
        Per pair, two float64 arrays aligned with ``probabilities``.

    Raises
    ------
    ValueError
        When a sample is empty or holds a non-finite value.
    MetadataError
        When a probability lies outside (0, 1).

    Examples
    --------
    >>> (mean_q, median_q), = bootstrap_quantiles([([1.0, 2.0, 3.0], [0.0, 1.0])], [0.025, 0.975])
    >>> float(median_q[0]), float(median_q[1])
    (0.0, 3.0)
    """
    arrays = [
        (np.ascontiguousarray(finite_values(a, "a")), np.ascontiguousarray(finite_values(b, "b")))
        for a, b in samples
    ]
    out = _core.exact_bootstrap_quantiles(arrays, [float(p) for p in probabilities])
    return [(np.asarray(mean), np.asarray(median)) for mean, median in out]


def bootstrap_intervals(samples: Sequence[tuple[Any, Any]], level: float) -> list[BootstrapIntervals]:
    """Exact bootstrap percentile intervals at ``level`` for each (A, B) pair.

    The interval runs from the (1 − level)/2 to the (1 + level)/2 percentile of
    :func:`bootstrap_quantiles` (the lower quantile for medians, Cornish–Fisher
    for means).

    Parameters
    ----------
    samples
        (A, B) pairs of 1-D arrays of finite values.
    level
        Interval level in (0, 1); P1b/P1c use 1 − significance_level.

    Returns
    -------
    list of BootstrapIntervals
        One per pair, in order.

    Examples
    --------
    >>> [interval] = bootstrap_intervals([([1.0, 2.0, 3.0], [0.0, 1.0])], 0.95)
    >>> interval.median_low, interval.median_high
    (0.0, 3.0)
    """
    tail = (1.0 - level) / 2.0
    return [
        BootstrapIntervals(float(mean[0]), float(mean[1]), float(median[0]), float(median[1]))
        for mean, median in bootstrap_quantiles(samples, [tail, 1.0 - tail])
    ]


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    return sorted_values[starts], np.diff(np.append(starts, sorted_values.size)).astype(np.float64)


def _tie_sum(sorted_a: np.ndarray, sorted_b: np.ndarray) -> float:
    """Σ(t³ − t) over the distinct values of the pooled sample, t their pooled counts."""
    values_a, t_a = _runs(sorted_a)
    values_b, t_b = _runs(sorted_b)
    total = float(np.sum(t_a**3 - t_a)) + float(np.sum(t_b**3 - t_b))
    if values_a.size and values_b.size:  # a value in both samples is one pooled run of t_a + t_b
        at = np.searchsorted(values_b, values_a).clip(max=values_b.size - 1)
        shared = values_b[at] == values_a
        ta, tb = t_a[shared], t_b[at[shared]]
        total += float(np.sum((ta + tb) ** 3 - ta**3 - tb**3))
    return total


def mann_whitney(a: Any, b: Any) -> tuple[float, float]:
    """One-sided Mann–Whitney U p-values (A greater, A less).

    Normal approximation with the tie correction and without a continuity
    correction: U_A = R_A − m(m + 1)/2 (R_A the sum of A's mid-ranks in the
    pooled sample), E[U] = mn/2, Var[U] = mn/12·((N + 1) − Σ(t³ − t)/(N(N − 1))),
    z = (U_A − E[U])/√Var[U]; p(greater) = 1 − Φ(z), p(less) = Φ(z). Equal to
    ``scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False)``.
    When every pooled value is equal (Var[U] = 0) both p-values are 1.
    """
    a = np.sort(finite_values(a, "a"))
    b = np.sort(finite_values(b, "b"))
    m, n = a.size, b.size
    total = m + n
    # U_A = Σ_i #{b < a_i} + ½·#{b = a_i}, which is A's pooled rank sum − m(m + 1)/2, without ranking
    # the pooled sample: two sorts of the halves and two bisections instead of a sort of the whole.
    u_a = float(np.sum(np.searchsorted(b, a, side="left") + np.searchsorted(b, a, side="right"))) / 2.0
    tie_term = _tie_sum(a, b) / (total * (total - 1)) if total > 1 else 0.0
    variance = m * n / 12.0 * ((total + 1) - tie_term)
    if not variance > 0.0:
        return 1.0, 1.0
    z = (u_a - m * n / 2.0) / math.sqrt(variance)
    from scipy.special import ndtr

    return float(ndtr(-z)), float(ndtr(z))  # the normal survival and distribution functions


def p1b_p1c(a: Any, b: Any, alpha: float, intervals: BootstrapIntervals | None = None) -> dict[str, Any]:
    """P1b (mean) and P1c (median), naive part (SPEC §11.3).

    Parameters
    ----------
    a, b
        A's values T and B's null values (finite).
    alpha
        significance_level; the bootstrap percentile intervals have level 1 − α.
    intervals
        The exact bootstrap intervals of (a, b) at level 1 − α, when already
        computed (:func:`bootstrap_intervals` does all metrics of a run in one
        parallel call); computed here otherwise.

    Returns
    -------
    dict
        ``p1b_mean_a``, ``p1b_mean_b``, ``p1b_ci_low``, ``p1b_ci_high`` (interval
        of Δ_mean), ``p1b_verdict``; ``p1c_median_a``, ``p1c_median_b``,
        ``p1c_ci_low``, ``p1c_ci_high`` (interval of Δ_med),
        ``p1c_p_mw_greater``, ``p1c_p_mw_less``, ``p1c_verdict``; ``notes``.
        P1b is CONFIRMED iff the Δ_mean interval lies entirely above 0,
        CONTRAINDICATED iff entirely below, else NOT_SIGNIFICANT. P1c is
        CONFIRMED iff Δ_med > 0 and p(greater) < α, CONTRAINDICATED iff
        Δ_med < 0 and p(less) < α, else NOT_SIGNIFICANT.

    Examples
    --------
    >>> row = p1b_p1c(np.arange(100.0) + 60.0, np.arange(100.0), alpha=0.01)
    >>> row["p1b_verdict"], row["p1c_verdict"]
    ('CONFIRMED', 'CONFIRMED')
    """
    a = finite_values(a, "a")
    b = finite_values(b, "b")
    if intervals is None:
        [intervals] = bootstrap_intervals([(a, b)], 1.0 - alpha)
    mean_low, mean_high = intervals.mean_low, intervals.mean_high
    med_low, med_high = intervals.median_low, intervals.median_high
    p_greater, p_less = mann_whitney(a, b)
    median_a, median_b = float(np.median(a)), float(np.median(b))
    delta_median = median_a - median_b

    if mean_low > 0.0:
        p1b_verdict = CONFIRMED
    elif mean_high < 0.0:
        p1b_verdict = CONTRAINDICATED
    else:
        p1b_verdict = NOT_SIGNIFICANT
    if delta_median > 0.0 and p_greater < alpha:
        p1c_verdict = CONFIRMED
    elif delta_median < 0.0 and p_less < alpha:
        p1c_verdict = CONTRAINDICATED
    else:
        p1c_verdict = NOT_SIGNIFICANT
    return {
        "p1b_mean_a": float(np.mean(a)),
        "p1b_mean_b": float(np.mean(b)),
        "p1b_ci_low": mean_low,
        "p1b_ci_high": mean_high,
        "p1b_verdict": p1b_verdict,
        "p1c_median_a": median_a,
        "p1c_median_b": median_b,
        "p1c_ci_low": med_low,
        "p1c_ci_high": med_high,
        "p1c_p_mw_greater": p_greater,
        "p1c_p_mw_less": p_less,
        "p1c_verdict": p1c_verdict,
        "notes": [],
    }


# --------------------------------------------------------------------------- P1d


def p1d_edges(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """The P1d histogram edges of SPEC §11.4 for the pooled values of A and B.

    lo and hi are the pooled 0.1 % and 99.9 % quantiles, h = (hi − lo)/100,
    and the edges are the consecutive multiples j·h from the largest one
    ≤ lo to the smallest one ≥ hi, so [lo, hi] is covered and 0 is an edge
    whenever the range straddles it.

    Parameters
    ----------
    a, b
        One metric's values for A and for B; either may be empty or None.
        Non-finite values (null metrics) are ignored.

    Returns
    -------
    np.ndarray
        Increasing edges, 101 to 102 of them (100 bins plus at most one
        partial bin at each end). When lo == hi (all pooled values nearly
        equal) there is no scale to take h from, and a single bin centred
        on the value is returned: half-width |value|/2, or 0.5 for 0.

    Raises
    ------
    ValueError
        When neither dataset has a finite value.
    """
    pooled = np.concatenate([finite_part(a), finite_part(b)])
    if pooled.size == 0:
        raise ValueError("p1d_edges needs at least one finite value in a or b")
    lo, hi = (float(q) for q in np.quantile(pooled, _P1D_QUANTILES))
    if not hi > lo:
        half = abs(lo) / 2 if lo != 0 else 0.5
        return np.array([lo - half, lo + half])
    h = (hi - lo) / P1D_BINS
    # Integer multiples: j = 0 gives exactly 0.0, so the split between
    # negative and positive values is a true edge, as P1d needs. floor/ceil
    # round outwards, so [lo, hi] is always covered.
    first, last = math.floor(lo / h), math.ceil(hi / h)
    return np.arange(first, last + 1, dtype=np.float64) * h


def p1d_histograms(a: np.ndarray | None, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The P1d edges (:func:`p1d_edges`) and A's and B's counts on them, as ``numpy.histogram`` counts
    (values outside the edges ignored, the last bin closed; non-finite values ignored).

    What P1d compares and what ``metric_hist.png`` draws: a run counts its values where they
    are and sends its drawing process a hundred counts per side instead of every chunk's value.
    The last few results are kept with the values they came from, so the figure of a run reuses
    its test's counts (the returned arrays are shared, hence read-only).

    Raises
    ------
    ValueError
        When neither dataset has a finite value.
    """
    a, b = finite_part(a), finite_part(b)
    # Looked up by the sizes and end values, answered only when all the values are equal.
    key = (a.size, b.size, *_ends(a), *_ends(b))
    kept_a, kept_b, counted = remembered(_KEPT_HISTOGRAMS, key, lambda: (a, b, _count(a, b)), _KEPT_HISTOGRAMS_MAX)
    if kept_a is a or (np.array_equal(kept_a, a) and np.array_equal(kept_b, b)):
        return counted
    return _count(a, b)  # the same ends, other values: counted, not kept


def _ends(values: np.ndarray) -> tuple[float, ...]:
    return (float(values[0]), float(values[-1])) if values.size else ()


def _count(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = p1d_edges(a, b)
    result = edges, np.histogram(a, bins=edges)[0], np.histogram(b, bins=edges)[0]
    for array in result:
        array.flags.writeable = False
    return result


#: (A's values, B's values, their P1d histograms) by sizes and end values: enough for one run's test metrics.
_KEPT_HISTOGRAMS: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
_KEPT_HISTOGRAMS_MAX = 8


def p1d_zone(ratio: float) -> str:
    """The P1d zone of a peak ratio: "L" (< 0.95), "S" ([0.95, 1.05]) or "H" (> 1.05)."""
    if ratio < _ZONE_LOW:
        return "L"
    if ratio > _ZONE_HIGH:
        return "H"
    return "S"


def _p1d_undefined(reason: str, counts: Sequence[int | None] = (None, None, None, None)) -> dict[str, Any]:
    neg_a, neg_b, pos_a, pos_b = counts
    return {
        "p1d_neg_a": neg_a,
        "p1d_neg_b": neg_b,
        "p1d_pos_a": pos_a,
        "p1d_pos_b": pos_b,
        "p1d_ratio_neg": None,
        "p1d_ratio_pos": None,
        "p1d_verdict": UNDEFINED,
        "notes": [f"P1d: {reason}"],
    }


def p1d(a: Any, b: Any, signed: bool) -> dict[str, Any]:
    """P1d, shifted peaks (SPEC §11.4); descriptive, no p-value.

    Both datasets are histogrammed on :func:`p1d_edges` (pooled
    0.1 %/99.9 % quantiles, bin width h = (hi − lo)/100 on the multiples of h,
    so 0 is an edge; values outside the edges are ignored, the last bin is
    closed as in ``numpy.histogram``). neg = the largest count among bins with
    upper edge ≤ 0, pos = the largest among bins with lower edge ≥ 0.

    Parameters
    ----------
    a, b
        A's and B's values of one metric; non-finite values are ignored.
    signed
        Whether the metric is signed (SPEC §10.5); unsigned → NOT_APPLICABLE.

    Returns
    -------
    dict
        ``p1d_neg_a``, ``p1d_neg_b``, ``p1d_pos_a``, ``p1d_pos_b``,
        ``p1d_ratio_neg`` (negA/negB), ``p1d_ratio_pos`` (posA/posB),
        ``p1d_verdict`` and ``notes``. UNDEFINED (reason in notes) when lo ≥ 0,
        negB = 0 or posB = 0. Zones (r_neg, r_pos): (L, H) → STRONGLY_CONFIRMED
        if r_neg ≤ 0.8 and r_pos ≥ 1.2 else CONFIRMED; (L, S), (S, H) → PARTIAL;
        (S, S) → SILENT; (H, L), (H, S), (S, L) → CONTRAINDICATED; (L, L),
        (H, H) → ANOMALOUS.
    """
    if not signed:
        result = _p1d_undefined("")
        result.update(p1d_verdict=NOT_APPLICABLE, notes=[])
        return result

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return _p1d_undefined("A or B has no finite value")
    lo = float(np.quantile(np.concatenate([a, b]), 0.001))
    if lo >= 0.0:
        return _p1d_undefined(f"the pooled 0.1 % quantile {lo:.6g} is ≥ 0 (no negative peak)")
    edges, counts_a, counts_b = p1d_histograms(a, b)
    below = edges[1:] <= 0.0
    above = edges[:-1] >= 0.0

    def peaks(counts: np.ndarray) -> tuple[int, int]:
        neg = int(counts[below].max()) if below.any() else 0
        pos = int(counts[above].max()) if above.any() else 0
        return neg, pos

    (neg_a, pos_a), (neg_b, pos_b) = peaks(counts_a), peaks(counts_b)
    counts = (neg_a, neg_b, pos_a, pos_b)
    if neg_b == 0:
        return _p1d_undefined("B has no value in a bin below 0 (negB = 0)", counts)
    if pos_b == 0:
        return _p1d_undefined("B has no value in a bin above 0 (posB = 0)", counts)
    r_neg, r_pos = neg_a / neg_b, pos_a / pos_b
    zones = (p1d_zone(r_neg), p1d_zone(r_pos))
    if zones == ("L", "H"):
        verdict = STRONGLY_CONFIRMED if r_neg <= 0.8 and r_pos >= 1.2 else CONFIRMED
    elif zones in {("L", "S"), ("S", "H")}:
        verdict = PARTIAL
    elif zones == ("S", "S"):
        verdict = SILENT
    elif zones in {("H", "L"), ("H", "S"), ("S", "L")}:
        verdict = CONTRAINDICATED
    else:  # (L, L) or (H, H)
        verdict = ANOMALOUS
    return {
        "p1d_neg_a": neg_a,
        "p1d_neg_b": neg_b,
        "p1d_pos_a": pos_a,
        "p1d_pos_b": pos_b,
        "p1d_ratio_neg": r_neg,
        "p1d_ratio_pos": r_pos,
        "p1d_verdict": verdict,
        "notes": [],
    }


# --------------------------------------------------------------------------- P1e


def neg_pos_ratio(values: Any) -> float | None:
    """neg/pos = #{v < 0}/#{v > 0} (exact zeros and non-finite values ignored); None if #{v > 0} = 0."""
    array = np.asarray(values, dtype=np.float64).ravel()
    neg, pos = int(np.count_nonzero(array < 0)), int(np.count_nonzero(array > 0))
    return None if pos == 0 else neg / pos


def p1e(a: Any, b: Any, signed: bool) -> dict[str, Any]:
    """P1e, negative/positive mass ratio (SPEC §11.5), naive part.

    Parameters
    ----------
    a, b
        A's and B's values of one metric (exact zeros and non-finite values ignored).
    signed
        Whether the metric is signed; unsigned → NOT_APPLICABLE.

    Returns
    -------
    dict
        ``p1e_ratio_a`` (ρ_A), ``p1e_ratio_b`` (ρ_B), ``p1e_verdict``, ``notes``.
        UNDEFINED when A or B has no positive value or B no negative value.
        ρ_A ≤ 0.5ρ_B → STRONGLY_CONFIRMED; < 0.8ρ_B → CONFIRMED; < ρ_B → TREND;
        = ρ_B → SILENT; > ρ_B → CONTRAINDICATED. The comparisons are made
        exactly on the integer counts (cross-multiplied), not on rounded ratios.
    """
    if not signed:
        return {"p1e_ratio_a": None, "p1e_ratio_b": None, "p1e_verdict": NOT_APPLICABLE, "notes": []}
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    neg_a, pos_a = int(np.count_nonzero(a < 0)), int(np.count_nonzero(a > 0))
    neg_b, pos_b = int(np.count_nonzero(b < 0)), int(np.count_nonzero(b > 0))
    ratio_a = neg_a / pos_a if pos_a else None
    ratio_b = neg_b / pos_b if pos_b else None
    reasons = []
    if pos_a == 0:
        reasons.append("P1e: A has no positive value (zero denominator)")
    if pos_b == 0:
        reasons.append("P1e: B has no positive value (zero denominator)")
    if neg_b == 0:
        reasons.append("P1e: B has no negative value")
    if reasons:
        return {"p1e_ratio_a": ratio_a, "p1e_ratio_b": ratio_b, "p1e_verdict": UNDEFINED, "notes": reasons}
    # ρ_A vs c·ρ_B  ⇔  neg_a·pos_b vs c·neg_b·pos_a (both denominators > 0)
    lhs, rhs = neg_a * pos_b, neg_b * pos_a
    if 2 * lhs <= rhs:
        verdict = STRONGLY_CONFIRMED
    elif 5 * lhs < 4 * rhs:
        verdict = CONFIRMED
    elif lhs < rhs:
        verdict = TREND
    elif lhs == rhs:
        verdict = SILENT
    else:
        verdict = CONTRAINDICATED
    return {"p1e_ratio_a": ratio_a, "p1e_ratio_b": ratio_b, "p1e_verdict": verdict, "notes": []}
