"""Statistical test P2 of SPEC §11.6: hardening of the most variable chunks (power-law slopes).

Pure functions on numpy arrays and chunk tables; :func:`p2` returns a dict of the §11.7
columns it fills plus ``"notes"`` (see :func:`lightlane.stats.verdicts.merge_results`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from scipy.special import ndtr

from ..memo import remembered
from .quantiles import ceil_index
from .verdicts import CONFIRMED, CONTRAINDICATED, NOT_SIGNIFICANT, SIGNIFICANT, SILENT, TREND, UNDEFINED

__all__ = [
    "fit_power_law",
    "top_chunks",
    "top_counts",
    "top_count",
    "P2Fit",
    "p2_fit",
    "p2_slope",
    "p2",
]

_T = TypeVar("_T")

#: P2 fit: relative tolerance of the Newton iteration and its iteration cap.
_P2_TOL = 1e-10
_P2_MAX_ITER = 200


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
    coef = np.array([math.log(c.mean()), 0.0])

    def loglik(beta_: np.ndarray) -> float:
        eta = beta_[0] + beta_[1] * x
        return float(np.sum(c * eta - np.exp(eta)))

    def fisher_at(beta_: np.ndarray) -> tuple[np.ndarray, float, float, float, float]:
        # mu and X'WX of the design [1, x], as plain sums: no BLAS or LAPACK kernel, whose choice
        # (by CPU) would change the last digits of the fit from one machine to another.
        mu = np.exp(beta_[0] + beta_[1] * x)
        f00, f01, f11 = float(np.sum(mu)), float(np.sum(x * mu)), float(np.sum(x * x * mu))
        return mu, f00, f01, f11, f00 * f11 - f01 * f01

    current = loglik(coef)
    for _ in range(_P2_MAX_ITER):
        mu, f00, f01, f11, det = fisher_at(coef)
        if not (math.isfinite(det) and det > 0.0):  # the counts pile up in one bin: b runs off
            break
        s0, s1 = float(np.sum(c - mu)), float(np.sum(x * (c - mu)))
        step = np.array([(f11 * s0 - f01 * s1) / det, (f00 * s1 - f01 * s0) / det])
        scale = 1.0
        while scale > 1e-8:
            trial = coef + scale * step
            value = loglik(trial)
            if np.isfinite(value) and value >= current - 1e-12 * abs(current):
                break
            scale /= 2.0
        coef, current = trial, value
        if np.all(np.abs(scale * step) <= _P2_TOL * (1.0 + np.abs(coef))):
            _, f00, _, _, det = fisher_at(coef)
            se_b = float(math.sqrt(f00 / det))  # [(X'WX)⁻¹]_bb
            return float(math.exp(coef[0])), float(coef[1]), se_b
    raise ValueError("the P2 power-law fit did not converge")


def _column(table: Any, name: str) -> np.ndarray:
    return np.asarray(table[name]).ravel()


def top_count(m: int, top_fraction: float) -> int:
    """k = ⌈top_fraction·m⌉ (at most m): how many top chunks P2 keeps of m."""
    return min(ceil_index(top_fraction * m), m)


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
    return _kept(table, ("top", metric, top_fraction), lambda: _rank(table, metric, top_fraction))


def _rank(table: Any, metric: str, top_fraction: float) -> np.ndarray:
    values = _column(table, metric).astype(np.float64)
    chunk = _column(table, "chunk").astype(np.int64)
    m = values.size
    k = top_count(m, top_fraction)
    ranked = np.where(np.isfinite(values), values, -np.inf)
    if 0 < k < m:  # only the values ≥ the k-th largest can rank in the top k: sort those alone
        candidates = np.flatnonzero(ranked >= np.partition(ranked, m - k)[m - k])
        rows = candidates[np.lexsort((chunk[candidates], -ranked[candidates]))][:k]
    else:
        rows = np.lexsort((chunk, -ranked))[:k]
    rows.flags.writeable = False
    return rows


#: The last results of this process by chunk table and question: a run ranks and fits each table by
#: each test metric for its P2 test and again for its figures (timescales, concentration).
_KEPT: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_KEPT_MAX = 32


def _kept(table: Any, question: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
    """``compute()``, or what it gave for the same ``question`` on the same chunk table object (kept
    alive with its result, so no other table can take its id meanwhile).

    A chunk table is never changed once made; a mapping of columns (a dict) may be, so its
    results are not kept.
    """
    if isinstance(table, Mapping):
        return compute()
    return remembered(_KEPT, (id(table), *question), lambda: (table, compute()), _KEPT_MAX)[1]


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
    centres = np.asarray(wavelength_centres, dtype=np.float64)
    data = None if w_data is None else np.asarray(w_data, dtype=np.int64).tobytes()
    return _kept(table, ("fit", metric, top_fraction, centres.tobytes(), data),
                 lambda: _fit(table, metric, top_fraction, centres, w_data))


def _fit(table: Any, metric: str, top_fraction: float, all_centres: np.ndarray, w_data: Any | None) -> P2Fit:
    k, bins, counts = top_counts(table, metric, top_fraction, w_data)
    bins.flags.writeable = counts.flags.writeable = False  # a kept fit is shared
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
    b_slope: tuple[int, float | None, float | None, str | None] | None = None,
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
    b_slope
        B's :func:`p2_slope` when already known (a baseline run's stored null summary), else fitted here.

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
    k_b, b_b, se_b, why_b = b_slope or p2_slope(b_table, metric, top_fraction, wavelength_centres, w_data_b)
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
    p_z = float(2.0 * ndtr(-abs(z)))  # two-sided normal p-value
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
