"""Statistical tests of SPEC §11: P1a–P1e, P2 and calibrated p-values.

Pure functions on numpy arrays. Each test returns a dict whose keys are the
§11.7 column names it fills (see :data:`lightlane.catalog.TEST_RESULT_COLUMNS`)
plus ``"notes"``, a list of reasons for UNDEFINED verdicts (empty when there
are none); :func:`merge_results` combines several such dicts into one row with
the notes joined by ``"; "``.

The naive p-values (binomial, Mann–Whitney, z) treat the chunks as independent
and are anti-conservative (SPEC §11.1); :func:`calibrated_p` and
:func:`calibrated_verdict` give the honest, baseline-calibrated ones.

Verdicts are the exact strings of SPEC §11.8 (module constants below).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import beta, binom, norm, rankdata

from . import _core

__all__ = [
    "SIGNIFICANT",
    "NOT_SIGNIFICANT",
    "INCONCLUSIVE",
    "STRONGLY_CONFIRMED",
    "CONFIRMED",
    "TREND",
    "PARTIAL",
    "SILENT",
    "CONTRAINDICATED",
    "ANOMALOUS",
    "NOT_APPLICABLE",
    "UNDEFINED",
    "VERDICTS",
    "higher_quantile",
    "p1a",
    "clopper_pearson",
    "bootstrap_differences",
    "percentile_interval",
    "mann_whitney",
    "p1b_p1c",
    "p1d",
    "p1d_zone",
    "p1e",
    "neg_pos_ratio",
    "fit_power_law",
    "top_chunks",
    "top_counts",
    "P2Fit",
    "p2_fit",
    "p2_slope",
    "p2",
    "calibrated_p",
    "calibrated_verdict",
    "merge_results",
]

SIGNIFICANT = "SIGNIFICANT"
NOT_SIGNIFICANT = "NOT_SIGNIFICANT"
INCONCLUSIVE = "INCONCLUSIVE"
STRONGLY_CONFIRMED = "STRONGLY_CONFIRMED"
CONFIRMED = "CONFIRMED"
TREND = "TREND"
PARTIAL = "PARTIAL"
SILENT = "SILENT"
CONTRAINDICATED = "CONTRAINDICATED"
ANOMALOUS = "ANOMALOUS"
NOT_APPLICABLE = "NOT_APPLICABLE"
UNDEFINED = "UNDEFINED"

#: The fixed verdict vocabulary of SPEC §11.8.
VERDICTS: tuple[str, ...] = (
    SIGNIFICANT,
    NOT_SIGNIFICANT,
    INCONCLUSIVE,
    STRONGLY_CONFIRMED,
    CONFIRMED,
    TREND,
    PARTIAL,
    SILENT,
    CONTRAINDICATED,
    ANOMALOUS,
    NOT_APPLICABLE,
    UNDEFINED,
)

#: P1d zone limits (SPEC §11.4): L below, S inside [0.95, 1.05], H above.
_ZONE_LOW, _ZONE_HIGH = 0.95, 1.05
#: P2 fit: relative tolerance of the Newton iteration and its iteration cap.
_P2_TOL = 1e-10
_P2_MAX_ITER = 200


def _values(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 copy-free view of ``values``; non-finite or empty input raises."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values")
    return array


def _ceil_index(x: float) -> int:
    """⌈x⌉ that ignores floating-point noise: 999.0000000000001 → 999, not 1000."""
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return int(nearest)
    return int(math.ceil(x))


def higher_quantile(values: Any, q: float) -> float:
    """The q quantile by the "higher" rule of SPEC §11.1.

    Parameters
    ----------
    values
        1-D array of finite values (not modified).
    q
        Quantile level in [0, 1].

    Returns
    -------
    float
        ``sorted(values)[⌈(n − 1)·q⌉]`` (0-based). ``(n − 1)·q`` within 1e-9
        (relative) of an integer counts as that integer, so 1 − 0.001 with
        n = 1001 selects index 999 despite rounding of 0.999.
    """
    array = _values(values, "values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level {q} is outside [0, 1]")
    index = min(_ceil_index((array.size - 1) * q), array.size - 1)
    return float(np.partition(array, index)[index])


# --------------------------------------------------------------------------- P1a


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
    low = 0.0 if x == 0 else float(beta.ppf(tail, x, m - x + 1))
    high = 1.0 if x == m else float(beta.ppf(1.0 - tail, x + 1, m - x))
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
    values = _values(test_values, "test_values")
    m = int(values.size)
    x = int(np.count_nonzero(values >= threshold))
    rate = x / m
    p_binom = 1.0 if x == 0 else float(binom.sf(x - 1, m, p0))
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


def bootstrap_differences(
    a: Any, b: Any, resamples: int, seed: int, metric_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap distributions of mean(A*) − mean(B*) and median(A*) − median(B*).

    Resample r draws from ``stream(seed, BOOTSTRAP, [metric_index, r])`` (SPEC §1,
    §11.3), first len(a) indices into A, then len(b) into B, with replacement.
    Computed in Rust, in parallel, identical for any thread count.

    Returns
    -------
    (mean_diffs, median_diffs)
        Two float64 arrays of length ``resamples``, in resample order.
    """
    a = np.ascontiguousarray(_values(a, "a"))
    b = np.ascontiguousarray(_values(b, "b"))
    return _core.bootstrap_differences(a, b, int(resamples), int(seed), int(metric_index))


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of a bootstrap distribution.

    The interval is ``numpy.quantile(samples, [(1 − level)/2, (1 + level)/2])``
    with numpy's default ("linear", type 7) interpolation.
    """
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(samples, dtype=np.float64), [tail, 1.0 - tail])
    return float(low), float(high)


def mann_whitney(a: Any, b: Any) -> tuple[float, float]:
    """One-sided Mann–Whitney U p-values (A greater, A less).

    Normal approximation with the tie correction and without a continuity
    correction: U_A = R_A − m(m + 1)/2 (R_A the sum of A's mid-ranks in the
    pooled sample), E[U] = mn/2, Var[U] = mn/12·((N + 1) − Σ(t³ − t)/(N(N − 1))),
    z = (U_A − E[U])/√Var[U]; p(greater) = 1 − Φ(z), p(less) = Φ(z). Equal to
    ``scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False)``.
    When every pooled value is equal (Var[U] = 0) both p-values are 1.
    """
    a = _values(a, "a")
    b = _values(b, "b")
    m, n = a.size, b.size
    total = m + n
    pooled = np.concatenate([a, b])
    ranks = rankdata(pooled)
    u_a = float(ranks[:m].sum()) - m * (m + 1) / 2.0
    _, ties = np.unique(pooled, return_counts=True)
    ties = ties.astype(np.float64)
    tie_term = float(np.sum(ties**3 - ties)) / (total * (total - 1)) if total > 1 else 0.0
    variance = m * n / 12.0 * ((total + 1) - tie_term)
    if not variance > 0.0:
        return 1.0, 1.0
    z = (u_a - m * n / 2.0) / math.sqrt(variance)
    return float(norm.sf(z)), float(norm.cdf(z))


def p1b_p1c(a: Any, b: Any, alpha: float, resamples: int, seed: int, metric_index: int) -> dict[str, Any]:
    """P1b (mean) and P1c (median), naive part (SPEC §11.3).

    Parameters
    ----------
    a, b
        A's values T and B's null values (finite).
    alpha
        significance_level; the bootstrap percentile intervals have level 1 − α.
    resamples
        bootstrap_resamples.
    seed
        The analysis seed.
    metric_index
        The metric's index (part of the bootstrap stream key).

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
    """
    a = _values(a, "a")
    b = _values(b, "b")
    mean_diffs, median_diffs = bootstrap_differences(a, b, resamples, seed, metric_index)
    mean_low, mean_high = percentile_interval(mean_diffs, 1.0 - alpha)
    med_low, med_high = percentile_interval(median_diffs, 1.0 - alpha)
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

    Both datasets are histogrammed on :func:`lightlane.plots.p1d_edges` (pooled
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
    from .plots.analysis import p1d_edges

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return _p1d_undefined("A or B has no finite value")
    lo = float(np.quantile(np.concatenate([a, b]), 0.001))
    if lo >= 0.0:
        return _p1d_undefined(f"the pooled 0.1 % quantile {lo:.6g} is ≥ 0 (no negative peak)")
    edges = p1d_edges(a, b)
    below = edges[1:] <= 0.0
    above = edges[:-1] >= 0.0

    def peaks(values: np.ndarray) -> tuple[int, int]:
        counts = np.histogram(values, bins=edges)[0]
        neg = int(counts[below].max()) if below.any() else 0
        pos = int(counts[above].max()) if above.any() else 0
        return neg, pos

    (neg_a, pos_a), (neg_b, pos_b) = peaks(a), peaks(b)
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


# ---------------------------------------------------------------------------- P2


def fit_power_law(counts: Any, centres: Any) -> tuple[float, float, float]:
    """Maximum-likelihood fit of c_j ~ Poisson(a·(λ_j/λ_ref)^b) (SPEC §11.6).

    A log-link Poisson GLM with design [1, log(λ_j/λ_ref)], λ_ref the geometric
    mean of ``centres``, fitted by Newton's method (= IRLS for the canonical
    link) from a = mean(c), b = 0, with step halving whenever the
    log-likelihood would decrease. It stops when every coefficient's step is
    ≤ 1e-10·(1 + |coefficient|).

    Parameters
    ----------
    counts
        c_j ≥ 0, one per wavelength bin (zeros included).
    centres
        λ_j > 0, the bins' centre wavelengths (nm).

    Returns
    -------
    (a, b, se_b)
        se_b = √[(X'WX)⁻¹]_bb, the inverse Fisher information at the fit.

    Raises
    ------
    ValueError
        Fewer than 2 bins, no counts, or no convergence (e.g. all counts in
        the outermost bin, where the MLE of b is infinite).
    """
    c = np.asarray(counts, dtype=np.float64).ravel()
    lam = np.asarray(centres, dtype=np.float64).ravel()
    if c.size != lam.size or c.size < 2:
        raise ValueError("fit_power_law needs ≥ 2 bins and one centre per count")
    if not np.all(lam > 0) or not np.all(c >= 0) or c.sum() <= 0:
        raise ValueError("fit_power_law needs positive centres and a positive total count")
    x = np.log(lam) - np.mean(np.log(lam))
    design = np.column_stack([np.ones_like(x), x])
    coef = np.array([math.log(c.mean()), 0.0])

    def loglik(beta_: np.ndarray) -> float:
        eta = design @ beta_
        return float(np.sum(c * eta - np.exp(eta)))

    current = loglik(coef)
    for _ in range(_P2_MAX_ITER):
        mu = np.exp(design @ coef)
        fisher = design.T @ (design * mu[:, None])
        step = np.linalg.solve(fisher, design.T @ (c - mu))
        scale = 1.0
        while scale > 1e-8:
            trial = coef + scale * step
            value = loglik(trial)
            if np.isfinite(value) and value >= current - 1e-12 * abs(current):
                break
            scale /= 2.0
        coef, current = trial, value
        if np.all(np.abs(scale * step) <= _P2_TOL * (1.0 + np.abs(coef))):
            mu = np.exp(design @ coef)
            fisher = design.T @ (design * mu[:, None])
            se_b = float(math.sqrt(np.linalg.inv(fisher)[1, 1]))
            return float(math.exp(coef[0])), float(coef[1]), se_b
    raise ValueError("the P2 power-law fit did not converge")


def _column(table: Any, name: str) -> np.ndarray:
    return np.asarray(table[name]).ravel()


def top_chunks(table: Any, metric: str, top_fraction: float) -> np.ndarray:
    """Row positions of the k = ⌈top_fraction·m⌉ top chunks by ``metric`` (SPEC §11.6).

    The one place the P2 ranking is defined, so that the test and the run
    figures (concentration, timescales) always look at the same chunks.

    Parameters
    ----------
    table
        A chunk table (polars DataFrame or any mapping of column → array) with
        columns ``chunk`` and ``metric``.
    metric
        The metric column ranking the chunks (non-finite values rank last).
    top_fraction
        The fraction of chunks kept.

    Returns
    -------
    np.ndarray
        k row positions, best first; ties broken by the lower ``chunk`` index.
    """
    values = _column(table, metric).astype(np.float64)
    chunk = _column(table, "chunk").astype(np.int64)
    m = values.size
    k = min(_ceil_index(top_fraction * m), m)
    ranked = np.where(np.isfinite(values), values, -np.inf)
    return np.lexsort((chunk, -ranked))[:k]


def top_counts(
    table: Any, metric: str, top_fraction: float, w_data: Any | None = None
) -> tuple[int, np.ndarray, np.ndarray]:
    """Counts of the top chunks per wavelength bin (SPEC §11.6).

    Parameters
    ----------
    table
        A chunk table (polars DataFrame or any mapping of column → array) with
        columns ``chunk``, ``wbin`` and ``metric``.
    metric
        The metric column ranking the chunks (non-finite values rank last).
    top_fraction
        k = ⌈top_fraction·m⌉ chunks with the largest values are kept, ties
        broken by the lower ``chunk`` index.
    w_data
        The dataset's W_data (wavelength-bin indices); default: the distinct
        ``wbin`` values of the table.

    Returns
    -------
    (k, bins, counts)
        bins = sorted W_data; counts[j] = number of top chunks in bins[j].
    """
    order = top_chunks(table, metric, top_fraction)
    k = int(order.size)
    wbin = _column(table, "wbin").astype(np.int64)
    bins = np.unique(wbin) if w_data is None else np.unique(np.asarray(w_data, dtype=np.int64))
    top = wbin[order]
    top = top[np.isin(top, bins)]
    counts = np.bincount(np.searchsorted(bins, top), minlength=bins.size).astype(np.int64)
    return k, bins, counts


@dataclass(frozen=True, eq=False)
class P2Fit:
    """One dataset's P2 top-chunk counts and power-law fit (SPEC §11.6).

    Attributes
    ----------
    k
        Number of top chunks.
    bins
        Sorted W_data (wavelength-bin indices).
    counts
        Top chunks per bin of ``bins``.
    lambda_ref_nm
        Geometric mean of the centres of ``bins`` (None without bins).
    a, b, se_b
        The fit c = a·(λ/λ_ref)^b and se(b); all None when UNDEFINED.
    reason
        Why the fit is UNDEFINED, else None.
    """

    k: int
    bins: np.ndarray
    counts: np.ndarray
    lambda_ref_nm: float | None
    a: float | None
    b: float | None
    se_b: float | None
    reason: str | None


def p2_fit(
    table: Any, metric: str, top_fraction: float, wavelength_centres: Any, w_data: Any | None = None
) -> P2Fit:
    """One dataset's P2 counts and fit, with the amplitude a that plots need.

    Same selection and UNDEFINED rules as :func:`p2_slope` (fewer than 3 bins,
    k < 10, or no convergence), which is built on it.

    Returns
    -------
    P2Fit
    """
    k, bins, counts = top_counts(table, metric, top_fraction, w_data)
    all_centres = np.asarray(wavelength_centres, dtype=np.float64)
    in_band = bins.size > 0 and bins.max() < all_centres.size
    ref = float(np.exp(np.mean(np.log(all_centres[bins])))) if in_band else None

    def undefined(reason: str) -> P2Fit:
        return P2Fit(k, bins, counts, ref, None, None, None, reason)

    if bins.size < 3:
        return undefined(f"fewer than 3 wavelength bins ({bins.size})")
    if k < 10:
        return undefined(f"k = {k} < 10 top chunks")
    try:
        a, slope, se = fit_power_law(counts, all_centres[bins])
    except ValueError as err:
        return undefined(str(err))
    return P2Fit(k, bins, counts, ref, a, slope, se, None)


def p2_slope(
    table: Any, metric: str, top_fraction: float, wavelength_centres: Any, w_data: Any | None = None
) -> tuple[int, float | None, float | None, str | None]:
    """One dataset's P2 slope b and se(b) (also what a baseline run stores).

    Returns
    -------
    (k, b, se_b, reason)
        b and se_b are None with a reason when the slope is UNDEFINED
        (fewer than 3 bins, k < 10, or no convergence).
    """
    fit = p2_fit(table, metric, top_fraction, wavelength_centres, w_data)
    return fit.k, fit.b, fit.se_b, fit.reason


def p2(
    a_table: Any,
    b_table: Any,
    metric: str,
    top_fraction: float,
    wavelength_centres: Any,
    alpha: float,
    w_data_a: Any | None = None,
    w_data_b: Any | None = None,
) -> dict[str, Any]:
    """P2, hardening (SPEC §11.6), naive part.

    Parameters
    ----------
    a_table, b_table
        A's and B's chunk tables (columns ``chunk``, ``wbin``, ``metric``).
    metric
        The metric ranking the chunks.
    top_fraction
        k = ⌈top_fraction·m⌉ top chunks per dataset.
    wavelength_centres
        Centre wavelength (nm) of every band bin, indexed by ``wbin``.
    alpha
        significance_level.
    w_data_a, w_data_b
        Each dataset's W_data; default: the distinct ``wbin`` values of its table.

    Returns
    -------
    dict
        ``p2_k_a``, ``p2_k_b``, ``p2_slope_a``, ``p2_se_a``, ``p2_slope_b``,
        ``p2_se_b``, ``p2_z`` = (b_A − b_B)/√(se_A² + se_B²), ``p2_p_z``
        (two-sided), ``p2a_verdict`` (SIGNIFICANT iff p_z < α), ``p2b_verdict``
        (CONFIRMED iff b_A < 0, b_A < b_B and p_z < α; TREND iff b_A < 0 and
        b_A < b_B; CONTRAINDICATED iff b_A > b_B and p_z < α; else SILENT),
        ``notes``. Both verdicts are UNDEFINED when either slope is.
    """
    k_a, b_a, se_a, why_a = p2_slope(a_table, metric, top_fraction, wavelength_centres, w_data_a)
    k_b, b_b, se_b, why_b = p2_slope(b_table, metric, top_fraction, wavelength_centres, w_data_b)
    result: dict[str, Any] = {
        "p2_k_a": k_a,
        "p2_k_b": k_b,
        "p2_slope_a": b_a,
        "p2_se_a": se_a,
        "p2_slope_b": b_b,
        "p2_se_b": se_b,
        "p2_z": None,
        "p2_p_z": None,
        "p2a_verdict": UNDEFINED,
        "p2b_verdict": UNDEFINED,
        "notes": [],
    }
    if why_a or why_b:
        result["notes"] = [f"P2 ({name}): {why}" for name, why in (("A", why_a), ("B", why_b)) if why]
        return result
    assert b_a is not None and b_b is not None and se_a is not None and se_b is not None
    z = (b_a - b_b) / math.sqrt(se_a**2 + se_b**2)
    p_z = float(2.0 * norm.sf(abs(z)))
    significant = p_z < alpha
    if b_a < 0 and b_a < b_b and significant:
        p2b = CONFIRMED
    elif b_a < 0 and b_a < b_b:
        p2b = TREND
    elif b_a > b_b and significant:
        p2b = CONTRAINDICATED
    else:
        p2b = SILENT
    result.update(
        p2_z=float(z),
        p2_p_z=p_z,
        p2a_verdict=SIGNIFICANT if significant else NOT_SIGNIFICANT,
        p2b_verdict=p2b,
    )
    return result


# -------------------------------------------------------------------- calibrated


def calibrated_p(s_a: float, s_r: Iterable[float], extreme: str) -> float:
    """Calibrated p-value (SPEC §11.1): (1 + #{r : S_r at least as extreme as S_A})/(R + 1).

    Parameters
    ----------
    s_a
        A's whole-dataset statistic.
    s_r
        The R baseline runs' statistics (R ≥ 1, all finite).
    extreme
        ``"ge"``: S_r ≥ S_A is at least as extreme (P1a, P1b, P1c);
        ``"le"``: S_r ≤ S_A (P1e, P2).
    """
    values = np.asarray(list(s_r) if not isinstance(s_r, np.ndarray) else s_r, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("calibrated_p needs at least one baseline run (R ≥ 1)")
    if not np.all(np.isfinite(values)) or not math.isfinite(s_a):
        raise ValueError("calibrated_p needs finite statistics")
    if extreme == "ge":
        hits = int(np.count_nonzero(values >= s_a))
    elif extreme == "le":
        hits = int(np.count_nonzero(values <= s_a))
    else:
        raise ValueError(f"extreme must be 'ge' or 'le', not {extreme!r}")
    return (1 + hits) / (values.size + 1)


def calibrated_verdict(p_cal: float, R: int, alpha: float, predicted_direction_ok: bool) -> str:
    """Calibrated verdict (SPEC §11.1, §11.8).

    INCONCLUSIVE iff 1/(R + 1) ≥ α (the smallest reachable p_cal cannot go
    below α); else SIGNIFICANT iff p_cal < α and the effect is in the predicted
    direction; else NOT_SIGNIFICANT.
    """
    if 1.0 / (R + 1) >= alpha:
        return INCONCLUSIVE
    return SIGNIFICANT if p_cal < alpha and predicted_direction_ok else NOT_SIGNIFICANT


def merge_results(*results: Mapping[str, Any]) -> dict[str, Any]:
    """Merge test dicts into one row; their ``notes`` lists become one ``"; "``-joined string (or None)."""
    row: dict[str, Any] = {}
    notes: list[str] = []
    for result in results:
        for key, value in result.items():
            if key == "notes":
                notes.extend(value or [])
            else:
                row[key] = value
    row["notes"] = "; ".join(notes) if notes else None
    return row
