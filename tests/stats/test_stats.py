"""Statistical tests of SPEC §11 (validation property 18; the bootstrap of P1b/P1c is in test_bootstrap.py)."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sst

from lightlane import stats
from lightlane.stats import (
    ANOMALOUS,
    CONFIRMED,
    CONTRAINDICATED,
    INCONCLUSIVE,
    NOT_APPLICABLE,
    NOT_SIGNIFICANT,
    PARTIAL,
    SIGNIFICANT,
    SILENT,
    STRONGLY_CONFIRMED,
    TREND,
    UNDEFINED,
)
from lightlane.stats.p1 import p1d_histograms
from lightlane.store.catalog import TEST_RESULT_COLUMNS

COLUMNS = {name for name, _ in TEST_RESULT_COLUMNS}


def _keys_are_columns(result: dict) -> None:
    assert set(result) - {"notes"} <= COLUMNS
    assert isinstance(result["notes"], list)


# ----------------------------------------------------------------- P1a


@pytest.mark.parametrize("m, p0, x", [(200, 0.01, 0), (200, 0.01, 2), (200, 0.01, 7), (150, 0.2, 45), (50, 0.3, 50)])
def test_p1a_binomial_and_clopper_pearson_equal_scipy_and_brute_force(m, p0, x):
    values = np.concatenate([np.full(x, 5.0), np.linspace(-1.0, 0.9, m - x)])
    result = stats.p1a(values, threshold=1.0, p0=p0, alpha=0.01, ci_level=0.95)
    _keys_are_columns(result)
    assert result["p1a_exceedances"] == x
    assert result["p1a_expected"] == pytest.approx(m * p0)
    assert result["p1a_rate"] == x / m
    assert result["p1a_enrichment"] == pytest.approx(x / m / p0)
    # direct scipy and an exact rational sum of the binomial pmf
    direct = sst.binom.sf(x - 1, m, p0)
    p = Fraction(p0)
    brute = sum(math.comb(m, j) * p**j * (1 - p) ** (m - j) for j in range(x, m + 1))
    assert result["p1a_p_binomial"] == pytest.approx(direct, rel=1e-12, abs=1e-300)
    assert result["p1a_p_binomial"] == pytest.approx(float(brute), rel=1e-9)
    assert result["p1a_verdict"] == (SIGNIFICANT if direct < 0.01 else NOT_SIGNIFICANT)
    low = 0.0 if x == 0 else sst.beta.ppf(0.025, x, m - x + 1)
    high = 1.0 if x == m else sst.beta.ppf(0.975, x + 1, m - x)
    assert result["p1a_ci_low"] == pytest.approx(low, rel=1e-12, abs=1e-15)
    assert result["p1a_ci_high"] == pytest.approx(high, rel=1e-12, abs=1e-15)
    ci = sst.binomtest(x, m).proportion_ci(confidence_level=0.95, method="exact")
    assert (result["p1a_ci_low"], result["p1a_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
    # the defining property of the exact interval
    if 0 < x < m:
        assert sst.binom.sf(x - 1, m, result["p1a_ci_low"]) == pytest.approx(0.025, rel=1e-8)
        assert sst.binom.cdf(x, m, result["p1a_ci_high"]) == pytest.approx(0.025, rel=1e-8)


def test_p1a_counts_values_equal_to_the_threshold_and_flags_significance():
    values = np.array([1.0] * 10 + [0.0] * 990)
    result = stats.p1a(values, threshold=1.0, p0=0.001, alpha=0.01, ci_level=0.9)
    assert result["p1a_exceedances"] == 10
    assert result["p1a_verdict"] == SIGNIFICANT
    assert stats.p1a(values, 1.5, 0.001, 0.01, 0.9)["p1a_verdict"] == NOT_SIGNIFICANT


# ----------------------------------------------------------- quantile


def test_higher_quantile_examples():
    values = np.arange(1.0, 11.0)[::-1]  # unsorted input
    assert stats.higher_quantile(values, 0.0) == 1.0
    assert stats.higher_quantile(values, 0.5) == 6.0  # ⌈4.5⌉ = 5
    assert stats.higher_quantile(values, 1.0) == 10.0
    assert stats.higher_quantile([3.0], 0.7) == 3.0
    # (n − 1)(1 − p0) = 999 despite 1 − 0.001 not being exact in binary
    assert stats.higher_quantile(np.arange(1001.0), 1 - 0.001) == 999.0
    assert stats.higher_quantile(np.arange(11.0), 0.9) == 9.0
    rng = np.random.default_rng(5)
    for n in (2, 17, 1000):
        data = rng.normal(size=n)
        for q in (0.1, 0.37, 0.95, 0.999):
            assert stats.higher_quantile(data, q) == np.quantile(data, q, method="higher")


# ------------------------------------------------------------ P1b/P1c


def test_mann_whitney_equals_scipy_with_ties():
    rng = np.random.default_rng(3)
    a, b = rng.poisson(3.3, 400).astype(float), rng.poisson(3.0, 300).astype(float)
    greater, less = stats.mann_whitney(a, b)
    for alternative, ours in (("greater", greater), ("less", less)):
        ref = sst.mannwhitneyu(a, b, alternative=alternative, method="asymptotic", use_continuity=False)
        assert ours == pytest.approx(ref.pvalue, rel=1e-10)
    assert stats.mann_whitney(np.ones(5), np.ones(4)) == (1.0, 1.0)


def test_p1b_p1c_verdicts():
    rng = np.random.default_rng(4)
    base = rng.normal(0.0, 1.0, 2000)
    up = stats.p1b_p1c(base + 0.5, base[::-1].copy(), alpha=0.01)
    _keys_are_columns(up)
    assert up["p1b_verdict"] == CONFIRMED and up["p1c_verdict"] == CONFIRMED
    assert up["p1b_ci_low"] > 0 and up["p1c_ci_low"] > 0
    assert up["p1b_mean_a"] - up["p1b_mean_b"] == pytest.approx(0.5)
    down = stats.p1b_p1c(base - 0.5, base, alpha=0.01)
    assert down["p1b_verdict"] == CONTRAINDICATED and down["p1c_verdict"] == CONTRAINDICATED
    assert down["p1c_p_mw_less"] < 0.01 < down["p1c_p_mw_greater"]
    same = stats.p1b_p1c(base, rng.permutation(base), alpha=0.01)
    assert same["p1b_verdict"] == NOT_SIGNIFICANT and same["p1c_verdict"] == NOT_SIGNIFICANT
    # the intervals are the exact bootstrap percentile intervals at level 1 − α, however obtained
    [interval] = stats.bootstrap_intervals([(base + 0.5, base[::-1].copy())], 0.99)
    tail = (1.0 - 0.99) / 2.0
    [(mean_q, median_q)] = stats.bootstrap_quantiles([(base + 0.5, base[::-1].copy())], [tail, 1.0 - tail])
    assert (up["p1b_ci_low"], up["p1b_ci_high"]) == (interval.mean_low, interval.mean_high) == tuple(mean_q)
    assert (up["p1c_ci_low"], up["p1c_ci_high"]) == (interval.median_low, interval.median_high) == tuple(median_q)
    assert stats.p1b_p1c(base + 0.5, base[::-1].copy(), alpha=0.01, intervals=interval) == up
    # P1b follows the interval it is given: entirely above, entirely below, straddling 0
    for low, high, verdict in ((0.1, 0.2, CONFIRMED), (-0.2, -0.1, CONTRAINDICATED), (-0.1, 0.1, NOT_SIGNIFICANT)):
        given = stats.BootstrapIntervals(low, high, low, high)
        assert stats.p1b_p1c(base, base, alpha=0.01, intervals=given)["p1b_verdict"] == verdict


# ----------------------------------------------------------------- P1d


def _peaks(neg: int, pos: int) -> np.ndarray:
    """Anchors at ±1 fix lo = −1, hi = 1 (h = 0.02); the peaks sit inside the bins [−0.52, −0.50) and [0.50, 0.52)."""
    return np.concatenate([np.full(10, -1.0), np.full(10, 1.0), np.full(neg, -0.51), np.full(pos, 0.51)])


B_PEAKS = _peaks(100, 100)


@pytest.mark.parametrize(
    "neg_a, pos_a, verdict",
    [
        (70, 130, STRONGLY_CONFIRMED),  # (L, H), strong
        (80, 120, STRONGLY_CONFIRMED),  # boundaries 0.8 and 1.2 included
        (90, 110, CONFIRMED),  # (L, H)
        (81, 130, CONFIRMED),  # (L, H), r_neg just above 0.8
        (90, 100, PARTIAL),  # (L, S)
        (100, 110, PARTIAL),  # (S, H)
        (100, 100, SILENT),  # (S, S)
        (95, 105, SILENT),  # zone S is closed at 0.95 and 1.05
        (110, 90, CONTRAINDICATED),  # (H, L)
        (110, 100, CONTRAINDICATED),  # (H, S)
        (100, 90, CONTRAINDICATED),  # (S, L)
        (90, 90, ANOMALOUS),  # (L, L)
        (110, 110, ANOMALOUS),  # (H, H)
    ],
)
def test_p1d_cascade(neg_a, pos_a, verdict):
    result = stats.p1d(_peaks(neg_a, pos_a), B_PEAKS, signed=True)
    _keys_are_columns(result)
    assert (result["p1d_neg_a"], result["p1d_pos_a"]) == (neg_a, pos_a)
    assert (result["p1d_neg_b"], result["p1d_pos_b"]) == (100, 100)
    assert result["p1d_ratio_neg"] == neg_a / 100 and result["p1d_ratio_pos"] == pos_a / 100
    assert result["p1d_verdict"] == verdict
    assert result["notes"] == []


def test_p1d_histograms_count_the_finite_values_on_the_p1d_edges():
    rng = np.random.default_rng(5)
    a = np.concatenate([rng.normal(size=3000), [np.nan, -np.inf, 50.0]])  # 50: beyond the 99.9 % quantile
    b = rng.normal(0.3, 1.2, size=2000)
    edges, counts_a, counts_b = p1d_histograms(a, b)
    finite_a = a[np.isfinite(a)]
    np.testing.assert_array_equal(edges, stats.p1d_edges(finite_a, b))
    np.testing.assert_array_equal(counts_a, np.histogram(finite_a, bins=edges)[0])
    np.testing.assert_array_equal(counts_b, np.histogram(b, bins=edges)[0])
    assert counts_a.sum() < finite_a.size and counts_b.sum() < b.size  # the extreme 0.1 % fall outside
    _, none_of_a, b_alone = p1d_histograms(None, b)  # one side may have no value at all
    assert none_of_a.sum() == 0 and b_alone.sum() > 0
    with pytest.raises(ValueError, match="finite"):
        p1d_histograms(np.full(3, np.nan), None)
    # A run's figure asks again with the same values (other arrays): the test's counts, not a recount.
    again = p1d_histograms(a.copy(), b.copy())
    assert again[1] is counts_a and again[2] is counts_b
    with pytest.raises(ValueError, match="read-only"):
        counts_a[0] += 1  # shared with the test that counted them: nobody may change them
    changed = b.copy()
    changed[1000] = 10.0  # the same ends, another value inside
    recounted = p1d_histograms(a, changed)
    assert recounted[2] is not counts_b
    np.testing.assert_array_equal(recounted[2], np.histogram(changed, bins=recounted[0])[0])


def test_p1d_zones():
    assert [stats.p1d_zone(r) for r in (0.9499, 0.95, 1.0, 1.05, 1.0501)] == ["L", "S", "S", "S", "H"]


def test_p1d_undefined_and_not_applicable():
    positive = np.concatenate([np.full(100, 0.51), np.full(10, 1.0)])
    lo_nonneg = stats.p1d(positive, positive + 0.1, signed=True)
    assert lo_nonneg["p1d_verdict"] == UNDEFINED and "≥ 0" in lo_nonneg["notes"][0]
    no_neg_b = stats.p1d(_peaks(100, 100), positive, signed=True)
    assert no_neg_b["p1d_verdict"] == UNDEFINED and "negB = 0" in no_neg_b["notes"][0]
    no_pos_b = stats.p1d(_peaks(100, 100), -positive, signed=True)
    assert no_pos_b["p1d_verdict"] == UNDEFINED and "posB = 0" in no_pos_b["notes"][0]
    unsigned = stats.p1d(_peaks(70, 130), B_PEAKS, signed=False)
    assert unsigned["p1d_verdict"] == NOT_APPLICABLE and unsigned["notes"] == []
    _keys_are_columns(unsigned)


# ----------------------------------------------------------------- P1e


def _signs(neg: int, pos: int, zeros: int = 7) -> np.ndarray:
    return np.concatenate([-np.linspace(0.1, 2.0, neg), np.zeros(zeros), np.linspace(0.1, 3.0, pos)])


@pytest.mark.parametrize(
    "neg_a, verdict",
    [
        (30, STRONGLY_CONFIRMED),
        (50, STRONGLY_CONFIRMED),  # ρ_A = 0.5ρ_B exactly
        (51, CONFIRMED),
        (79, CONFIRMED),
        (80, TREND),  # ρ_A = 0.8ρ_B is not < 0.8ρ_B
        (99, TREND),
        (100, SILENT),
        (101, CONTRAINDICATED),
    ],
)
def test_p1e_cascade(neg_a, verdict):
    result = stats.p1e(_signs(neg_a, 100), _signs(200, 200, zeros=50), signed=True)
    _keys_are_columns(result)
    assert result["p1e_ratio_a"] == neg_a / 100 and result["p1e_ratio_b"] == 1.0
    assert result["p1e_verdict"] == verdict


def test_p1e_undefined_and_not_applicable():
    b = _signs(100, 100)
    no_pos_a = stats.p1e(_signs(10, 0), b, signed=True)
    assert no_pos_a["p1e_verdict"] == UNDEFINED and "A has no positive" in no_pos_a["notes"][0]
    no_pos_b = stats.p1e(b, _signs(10, 0), signed=True)
    assert no_pos_b["p1e_verdict"] == UNDEFINED and "B has no positive" in no_pos_b["notes"][0]
    no_neg_b = stats.p1e(b, _signs(0, 10), signed=True)
    assert no_neg_b["p1e_verdict"] == UNDEFINED and "B has no negative" in no_neg_b["notes"][0]
    assert stats.p1e(b, b, signed=False)["p1e_verdict"] == NOT_APPLICABLE
    assert stats.neg_pos_ratio([-1.0, 0.0, 2.0, 3.0]) == 0.5


# ------------------------------------------------------------------ P2


CENTRES = np.linspace(0.15, 0.95, 25)
LAMBDA_REF = math.exp(np.mean(np.log(CENTRES)))


def test_p2_fit_recovers_a_known_slope_and_its_se():
    rng = np.random.default_rng(7)
    true_a, true_b = 40.0, -1.3
    rate = true_a * (CENTRES / LAMBDA_REF) ** true_b
    slopes, ses = [], []
    for _ in range(200):
        a, b, se = stats.fit_power_law(rng.poisson(rate), CENTRES)
        slopes.append(b)
        ses.append(se)
    slopes, ses = np.array(slopes), np.array(ses)
    assert np.mean(np.abs(slopes - true_b) <= 2 * ses) >= 0.93
    assert abs(np.mean(ses) / np.std(slopes, ddof=1) - 1) <= 0.15


def test_p2_fit_solves_the_score_equations():
    counts = np.array([5, 9, 0, 14, 22, 30, 41])
    centres = np.array([0.2, 0.3, 0.35, 0.5, 0.6, 0.8, 0.9])
    a, b, se = stats.fit_power_law(counts, centres)
    x = np.log(centres) - np.mean(np.log(centres))
    mu = a * np.exp(b * x)
    assert np.sum(counts - mu) == pytest.approx(0, abs=1e-8)
    assert np.sum(x * (counts - mu)) == pytest.approx(0, abs=1e-8)
    info = np.array([[mu.sum(), (x * mu).sum()], [(x * mu).sum(), (x * x * mu).sum()]])
    assert se == pytest.approx(math.sqrt(np.linalg.inv(info)[1, 1]), rel=1e-12)
    with pytest.raises(ValueError):
        stats.fit_power_law([0, 0, 9], [0.2, 0.5, 0.9])  # b → +∞: no convergence


def _table(top_counts_per_bin: np.ndarray, rng: np.random.Generator, n_bins: int | None = None) -> dict:
    """A chunk table whose top half (metric 1 + noise) has the given counts per wbin; the rest has metric −1."""
    n_bins = len(top_counts_per_bin) if n_bins is None else n_bins
    top = np.repeat(np.arange(len(top_counts_per_bin)), top_counts_per_bin)
    k = top.size
    wbin = np.concatenate([top, rng.integers(0, n_bins, k)])
    metric = np.concatenate([1.0 + rng.random(k), np.full(k, -1.0)])
    order = rng.permutation(2 * k)
    return {"chunk": np.arange(2 * k, dtype=np.uint32), "wbin": wbin[order].astype(np.uint16), "metric": metric[order]}


def _power_counts(b: float, total: float = 4000.0) -> np.ndarray:
    shape = (CENTRES / LAMBDA_REF) ** b
    return np.round(total * shape / shape.sum()).astype(int)


@pytest.mark.parametrize(
    "b_a, b_b, p2a, p2b",
    [
        (-1.0, 0.0, SIGNIFICANT, CONFIRMED),
        (-0.02, 0.0, NOT_SIGNIFICANT, TREND),
        (1.0, 0.0, SIGNIFICANT, CONTRAINDICATED),
        (0.0, 0.0, NOT_SIGNIFICANT, SILENT),
        (0.05, 0.0, NOT_SIGNIFICANT, SILENT),
    ],
)
def test_p2_verdicts(b_a, b_b, p2a, p2b):
    rng = np.random.default_rng(8)
    counts_a, counts_b = _power_counts(b_a), _power_counts(b_b)
    result = stats.p2(_table(counts_a, rng), _table(counts_b, rng), "metric", 0.5, CENTRES, alpha=0.01)
    _keys_are_columns(result)
    assert result["p2_k_a"] == counts_a.sum() and result["p2_k_b"] == counts_b.sum()
    _, slope_a, se_a = stats.fit_power_law(counts_a, CENTRES)
    _, slope_b, se_b = stats.fit_power_law(counts_b, CENTRES)
    assert result["p2_slope_a"] == slope_a and result["p2_se_a"] == se_a
    assert result["p2_slope_b"] == slope_b and result["p2_se_b"] == se_b
    z = (slope_a - slope_b) / math.hypot(se_a, se_b)
    assert result["p2_z"] == pytest.approx(z)
    assert result["p2_p_z"] == pytest.approx(2 * sst.norm.sf(abs(z)))
    assert (result["p2a_verdict"], result["p2b_verdict"]) == (p2a, p2b)


def test_p2_top_chunks_break_ties_by_lower_chunk_and_use_w_data():
    table = {
        "chunk": np.array([5, 1, 3, 0, 2, 4]),
        "wbin": np.array([2, 0, 1, 7, 1, 2]),
        "metric": np.array([1.0, 1.0, 1.0, 1.0, 0.5, np.nan]),
    }
    k, bins, counts = stats.top_counts(table, "metric", 0.5, w_data=[0, 1, 2, 7, 9])
    assert k == 3  # ⌈0.5·6⌉; chunks 0, 1, 3 among the four tied at 1.0
    assert bins.tolist() == [0, 1, 2, 7, 9]
    assert counts.tolist() == [1, 1, 0, 1, 0]


def test_p2_undefined():
    rng = np.random.default_rng(9)
    good = _table(_power_counts(0.0), rng)
    few_bins = _table(np.array([30, 40]), rng)
    result = stats.p2(good, few_bins, "metric", 0.5, CENTRES, alpha=0.01)
    assert result["p2a_verdict"] == UNDEFINED and result["p2b_verdict"] == UNDEFINED
    assert result["p2_slope_a"] is not None and result["p2_slope_b"] is None
    assert "fewer than 3" in result["notes"][0]
    small_k = stats.p2(good, good, "metric", 9 / (2 * _power_counts(0.0).sum()), CENTRES, alpha=0.01)
    assert small_k["p2_k_a"] == 9 and small_k["p2a_verdict"] == UNDEFINED
    assert len(small_k["notes"]) == 2 and "k = 9 < 10" in small_k["notes"][0]


# ------------------------------------------------------------ calibrated


def test_calibrated_p_counts_ties_as_extreme():
    s_r = np.arange(20.0)  # R = 20
    assert stats.calibrated_p(100.0, s_r, "ge") == 1 / 21
    assert stats.calibrated_p(19.0, s_r, "ge") == 2 / 21
    assert stats.calibrated_p(-5.0, s_r, "ge") == 1.0
    assert stats.calibrated_p(-5.0, s_r, "le") == 1 / 21
    assert stats.calibrated_p(0.0, list(s_r), "le") == 2 / 21
    with pytest.raises(ValueError):
        stats.calibrated_p(1.0, [], "ge")
    with pytest.raises(ValueError):
        stats.calibrated_p(1.0, s_r, "gt")


def test_calibrated_verdict_and_inconclusive():
    best = stats.calibrated_p(100.0, np.arange(20.0), "ge")
    assert stats.calibrated_verdict(best, 20, 0.05, True) == SIGNIFICANT
    assert stats.calibrated_verdict(best, 20, 0.05, False) == NOT_SIGNIFICANT
    assert stats.calibrated_verdict(3 / 21, 20, 0.05, True) == NOT_SIGNIFICANT
    assert stats.calibrated_verdict(best, 20, 0.01, True) == INCONCLUSIVE
    assert stats.calibrated_verdict(1 / 100, 99, 0.01, True) == INCONCLUSIVE  # 1/(R+1) = α
    assert stats.calibrated_verdict(1 / 101, 100, 0.01, True) == SIGNIFICANT


def test_merge_results_joins_notes_and_verdicts_are_the_vocabulary():
    row = stats.merge_results(
        stats.p1d(_peaks(1, 1), np.full(5, 1.0), signed=True), stats.p1e([1.0], [1.0], signed=False)
    )
    assert set(row) <= COLUMNS and row["notes"].startswith("P1d:")
    assert stats.merge_results(stats.p1e([1.0], [1.0], signed=False))["notes"] is None
    assert len(set(stats.VERDICTS)) == 12 and all(v == v.upper() for v in stats.VERDICTS)


@pytest.mark.skipif(platform.machine() != "x86_64" or "avx2" not in Path("/proc/cpuinfo").read_text(),
                    reason="OpenBLAS kernels are chosen by name here on x86-64 with AVX2 only")
def test_p2_fit_is_the_same_whichever_blas_kernel_the_cpu_gets():
    """The fit uses no BLAS: its digits do not depend on the kernel OpenBLAS picks for a CPU
    (numpy's matrix products and solves gave other last digits on AMD Zen than on Intel)."""
    code = ("import numpy as np; from lightlane.stats import fit_power_law\n"
            "rng = np.random.default_rng(3); centres = np.linspace(0.105, 0.995, 100)\n"
            "print([fit_power_law(rng.poisson(10 * (centres / 0.4) ** b), centres) for b in (-1.0, 0.0, 0.7)])")
    outputs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "OPENBLAS_CORETYPE": core},
                              capture_output=True, text=True, check=True).stdout
               for core in ("Prescott", "Haswell")}
    assert len(outputs) == 1, outputs


def test_p2_rankings_and_fits_of_a_chunk_table_are_computed_once():
    """A run asks for the same rankings and fits for its P2 test and for its figures: the same table object
    gets the same (read-only) results; an equal copy or a dict of columns gets them computed again, equal."""
    import polars as pl

    rng = np.random.default_rng(4)
    centres = CENTRES
    table = pl.DataFrame(_table(_power_counts(-0.5), rng))
    rows = stats.top_chunks(table, "metric", 0.5)
    fit = stats.p2_fit(table, "metric", 0.5, centres)
    assert stats.top_chunks(table, "metric", 0.5) is rows and stats.p2_fit(table, "metric", 0.5, centres) is fit
    assert not rows.flags.writeable and not fit.counts.flags.writeable
    copy = table.clone()
    again = stats.p2_fit(copy, "metric", 0.5, centres)
    assert again is not fit and (again.b, again.se_b) == (fit.b, fit.se_b)
    np.testing.assert_array_equal(stats.top_chunks(copy, "metric", 0.5), rows)
    columns = {name: table[name].to_numpy() for name in table.columns}
    assert stats.top_chunks(columns, "metric", 0.5) is not stats.top_chunks(columns, "metric", 0.5)
    assert stats.p2_fit(table, "metric", 0.4, centres) is not fit  # another question
