"""The exact bootstrap of P1b/P1c (SPEC §11.3 rev 2; §21 properties 2 and 31).

Property 31: the exact percentiles of Δ_med and Δ_mean agree with a 10⁵-resample
Monte-Carlo bootstrap (numpy, here) within its Monte-Carlo error.

How "within its Monte-Carlo error" is made precise. With R resamples, the
Monte-Carlo percentile at level q (``numpy.quantile``, type 7) lies between two
order statistics of ranks near R·q. For the true bootstrap CDF F and its lower
quantile Q, #{d < Q(q − δ)} is binomial with success probability < q − δ, so the
Monte-Carlo percentile falls below Q(q − δ) only if that count exceeds its mean by
δ/se standard deviations, se = √(q(1 − q)/R); symmetrically above Q(q + δ). With
δ = 5·se each inequality fails with probability ≈ 3·10⁻⁷, so the assertion

    exact Q(q − 5·se) ≤ Monte-Carlo percentile at q ≤ exact Q(q + 5·se)

is a test at a family-wise false-alarm rate below 10⁻⁴ over all cases. It holds
for discrete distributions (medians: atoms) and continuous ones alike, and it is
sharp: a percentile off by more than 5 Monte-Carlo standard errors fails it.

The mean's percentile is a Cornish–Fisher expansion, an approximation; the same
inequality then also bounds its error (it must stay inside ±5·se in probability,
≈ ±0.08 standard deviations of Δ_mean at q = 0.005). One allowance: for integer
data the ideal bootstrap of Δ_mean lives on the lattice (1/lcm(m, n))·ℤ, and a
continuous expansion can miss a lattice percentile by up to one step, so that step
widens the mean's bounds (it matters only for the 6-vs-5 case, step 1/30; the
other integer case has step 1/120 400). The cases cover odd and even
n, ties (integer data; a 5- and 6-value sample), small n (5–31) and moderate n
(250–500). Measured when written (the largest |F_MC(exact percentile) − q| over the four
levels, in se): medians 0–1.4 se in every case; means 0.6–2.2 se, and 4.4 se for the
6-vs-5 lattice (0.04 standard deviations of Δ_mean, inside its one-step allowance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lightlane import _core, stats

RESAMPLES = 100_000
LEVELS = (0.005, 0.025, 0.975, 0.995)


def _monte_carlo(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """R resamples of mean(A*) − mean(B*) and median(A*) − median(B*), in blocks of ≤ 2·10⁶ draws."""
    rng = np.random.default_rng(seed)
    mean_d, median_d = np.empty(RESAMPLES), np.empty(RESAMPLES)
    block = max(1, 2_000_000 // max(a.size, b.size))
    for first in range(0, RESAMPLES, block):
        k = min(block, RESAMPLES - first)
        ra = a[rng.integers(0, a.size, (k, a.size))]
        rb = b[rng.integers(0, b.size, (k, b.size))]
        mean_d[first:first + k] = ra.mean(axis=1) - rb.mean(axis=1)
        median_d[first:first + k] = np.median(ra, axis=1) - np.median(rb, axis=1)
    return mean_d, median_d


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20_260_112)
    return {
        "odd 7 vs odd 9, normal": (rng.normal(0.0, 1.0, 7), rng.normal(0.0, 1.0, 9)),
        "even 10 vs even 12, normal": (rng.normal(0.0, 1.0, 10), rng.normal(0.0, 1.0, 12)),
        "even 6 vs odd 5, ties": (np.array([1.0, 1.0, 2.0, 3.0, 3.0, 5.0]), np.array([0.0, 1.0, 1.0, 2.0, 4.0])),
        "even 20 vs odd 31, exponential": (rng.exponential(1.0, 20), rng.exponential(1.0, 31)),
        "odd 301 vs even 400, integers (ties)": (
            rng.binomial(40, 0.5, 301).astype(np.float64), rng.binomial(40, 0.52, 400).astype(np.float64)),
        "even 500 vs even 400, exponential": (rng.exponential(1.0, 500), rng.exponential(1.0, 400)),
        "odd 401 vs odd 251, lognormal": (rng.lognormal(0.0, 1.0, 401), rng.lognormal(0.0, 1.0, 251)),
        "odd 301 vs even 300, rounded (partial ties)": (
            np.round(rng.normal(0.0, 1.0, 301), 1), np.round(rng.normal(0.1, 1.0, 300), 1)),
    }


CASES = _cases()


@pytest.mark.parametrize("case", list(CASES))
def test_exact_bootstrap_agrees_with_a_monte_carlo_bootstrap(case: str) -> None:
    a, b = CASES[case]
    mean_d, median_d = _monte_carlo(a, b, seed=sum(map(ord, case)))
    integers = bool(np.all(a == np.round(a)) and np.all(b == np.round(b)))
    lattice = {"mean": 1.0 / math.lcm(a.size, b.size) if integers else 0.0, "median": 0.0}
    for level in LEVELS:
        se = math.sqrt(level * (1.0 - level) / RESAMPLES)
        [(mean_q, median_q)] = stats.bootstrap_quantiles([(a, b)], [level - 5 * se, level, level + 5 * se])
        for name, exact, draws in (("mean", mean_q, mean_d), ("median", median_q, median_d)):
            monte_carlo = float(np.quantile(draws, level))
            # where the exact percentile sits in the Monte-Carlo distribution, in standard errors
            below, at_or_below = float(np.mean(draws < exact[1])), float(np.mean(draws <= exact[1]))
            off = 0.0 if below <= level <= at_or_below else min(abs(level - below), abs(level - at_or_below)) / se
            assert exact[0] - lattice[name] <= monte_carlo <= exact[2] + lattice[name], (
                f"{case}, {name} at {level}: exact {exact[1]!r} (q ± 5 se: {exact[0]!r} … {exact[2]!r}), "
                f"Monte Carlo {monte_carlo!r}; F_MC(exact) is {off:.1f} se from {level}")


def test_exact_median_percentiles_sit_on_atoms() -> None:
    """Δ_med's percentiles are differences of possible bootstrap medians (values, or means of
    two values for even n): the lower quantile of a discrete distribution."""
    a = np.array([0.0, 1.0, 5.0, 9.0, 10.0])  # odd: atoms are the values
    b = np.array([0.0, 2.0, 3.0, 8.0])  # even: atoms are means of pairs
    medians_a = set(a)
    medians_b = {(x + y) / 2 for x in b for y in b}
    [(_, median_q)] = stats.bootstrap_quantiles([(a, b)], [0.01, 0.2, 0.5, 0.8, 0.99])
    differences = {x - y for x in medians_a for y in medians_b}
    assert all(q in differences for q in median_q)
    assert list(median_q) == sorted(median_q)


def test_exact_bootstrap_is_thread_invariant_and_needs_no_seed() -> None:
    """SPEC §21 property 2 for the bootstrap: byte-identical with 1, 2 and 8 threads. There is
    no seed; the medians do not even depend on the order of the values."""
    rng = np.random.default_rng(1)
    samples = [(rng.normal(0.2, 1.0, 3001), rng.normal(0.0, 1.5, 2000)),
               (rng.poisson(4.0, 1000).astype(float), rng.poisson(4.2, 1001).astype(float)),
               (rng.exponential(1.0, 20_000), rng.exponential(1.0, 19_999))]
    try:
        runs = []
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            runs.append(stats.bootstrap_quantiles(samples, [0.005, 0.025, 0.975, 0.995]))
    finally:
        _core.set_threads(None)
    for run in runs[1:]:
        for (mean, median), (mean0, median0) in zip(run, runs[0]):
            assert mean.tobytes() == mean0.tobytes() and median.tobytes() == median0.tobytes()
    shuffled = [(rng.permutation(a), rng.permutation(b)) for a, b in samples]
    for (_, median), (_, median0) in zip(stats.bootstrap_quantiles(shuffled, [0.005, 0.025, 0.975, 0.995]),
                                          runs[0]):
        assert median.tobytes() == median0.tobytes()


def test_bootstrap_interval_covers_the_true_difference_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(2024)
    replicates, level, truth = 200, 0.9, 0.3
    samples = [(rng.normal(truth, 1.0, 300), rng.normal(0.0, 2.0, 250)) for _ in range(replicates)]
    intervals = stats.bootstrap_intervals(samples, level)
    covered = sum(i.mean_low <= truth <= i.mean_high for i in intervals)
    tolerance = 3 * math.sqrt(level * (1 - level) / replicates)
    assert abs(covered / replicates - level) <= tolerance


def test_bootstrap_rejects_bad_input() -> None:
    from lightlane.exceptions import MetadataError

    with pytest.raises(ValueError, match="empty"):
        stats.bootstrap_quantiles([(np.array([]), np.array([1.0]))], [0.5])
    with pytest.raises(ValueError, match="non-finite"):
        stats.bootstrap_quantiles([(np.array([1.0, np.nan]), np.array([1.0]))], [0.5])
    with pytest.raises(MetadataError, match="probabilities"):
        stats.bootstrap_quantiles([(np.array([1.0]), np.array([1.0]))], [1.0])
