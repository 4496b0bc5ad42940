"""Apparent-spectrum fit (SPEC §12, §21 property 20).

Synthetic data use numpy's generator with fixed seeds (allowed in tests only):
per-bin Poisson counts with mean T·w·f(λ_w) — exactly the fitted model — with
each bin's events spread uniformly inside the bin. Tolerances come from the
standard errors the fit reports.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from lightlane.events.spectrum_fit import (
    PARAMETER_NAMES,
    SpectrumFit,
    _poisson_objective,
    _wls_objective,
    fit_binned_spectrum,
    fit_spectrum,
)
from lightlane.exceptions import DataError, LightlaneWarning
from lightlane.metadata import ApparentSpectrum, Band, Spectrum

BAND = Band(min_nm=0.1, max_nm=1.0, bins=100)
TRUTH = Spectrum(A=40.0, lambda0_nm=0.38, sigma=0.6, C=2.0)
EXPOSURE_S = 24_000.0


def as_vector(spectrum: Spectrum) -> np.ndarray:
    return np.array([spectrum.A, spectrum.lambda0_nm, spectrum.sigma, spectrum.C])


def se_vector(fit: SpectrumFit) -> np.ndarray:
    return np.array([fit.se[name] for name in PARAMETER_NAMES])


def draw_counts(spectrum: Spectrum, exposure_s: float, seed: int, band: Band = BAND) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(exposure_s * band.width_nm * spectrum.flux(band.centres_nm()))


def spread_in_bins(counts: np.ndarray, seed: int, band: Band = BAND) -> np.ndarray:
    """Events uniform within each bin, kept strictly below the bin's upper edge."""
    rng = np.random.default_rng(seed)
    edges = band.edges_nm()
    lo = np.repeat(edges[:-1], counts)
    hi = np.repeat(edges[1:], counts)
    lam = lo + rng.random(lo.size) * (hi - lo)
    return np.minimum(lam, np.nextafter(hi, -np.inf))


def draw_events(spectrum: Spectrum, exposure_s: float, seed: int, band: Band = BAND) -> tuple[np.ndarray, np.ndarray]:
    counts = draw_counts(spectrum, exposure_s, seed, band)
    return spread_in_bins(counts, seed + 1_000_003, band), counts


# ----------------------------------------------------------------- recovery


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recovers_isotropic_spectrum_within_three_se(seed: int) -> None:
    lam, counts = draw_events(TRUTH, EXPOSURE_S, seed)
    fit = fit_spectrum(lam, BAND, EXPOSURE_S)

    np.testing.assert_array_equal(fit.counts, counts)
    se = se_vector(fit)
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    deviation = np.abs(as_vector(fit.spectrum) - as_vector(TRUTH))
    assert np.all(deviation <= 3 * se), dict(zip(PARAMETER_NAMES, deviation / se))
    assert fit.at_bounds == ()
    assert not fit.flat_warning
    assert fit.method == "poisson"
    assert fit.n_events == int(counts.sum())
    # 96 dof: the deviance/dof of a correct model is 1 ± √(2/96) ≈ 1 ± 0.14.
    assert abs(fit.deviance_per_dof - 1.0) < 5 * math.sqrt(2 / 96)
    assert fit.r2 > 0.99


def test_standard_errors_are_calibrated_across_replicates() -> None:
    exposure_s = 2_400.0
    replicates = 200
    estimates = np.empty((replicates, 4))
    errors = np.empty((replicates, 4))
    for i in range(replicates):
        lam, _ = draw_events(TRUTH, exposure_s, 10_000 + i)
        fit = fit_spectrum(lam, BAND, exposure_s)
        estimates[i] = as_vector(fit.spectrum)
        errors[i] = se_vector(fit)

    truth = as_vector(TRUTH)
    coverage = np.mean(np.abs(estimates - truth) < 2 * errors, axis=0)
    # Nominal 95.4 %; with 200 replicates the binomial sd is 1.5 %, so 0.88 is ≈ 5 sd below.
    assert np.all(coverage >= 0.88), dict(zip(PARAMETER_NAMES, coverage))
    spread = estimates.std(axis=0, ddof=1)
    # The sample sd of 200 estimates is itself uncertain by ≈ 5 %.
    ratio = errors.mean(axis=0) / spread
    assert np.all(np.abs(ratio - 1.0) < 0.2), dict(zip(PARAMETER_NAMES, ratio))


def test_fit_is_a_minimum_of_the_objective() -> None:
    lam, counts = draw_events(TRUTH, 2_400.0, 7)
    fit = fit_spectrum(lam, BAND, 2_400.0)
    theta = as_vector(fit.spectrum)
    k = counts.astype(float)
    tw = np.full(BAND.bins, 2_400.0 * BAND.width_nm)
    value, grad, hess = _poisson_objective(theta, k, tw, BAND.centres_nm())
    assert hess is not None
    se = se_vector(fit)
    # The gradient moves the objective by far less than 10⁻⁶ over one se.
    assert np.all(np.abs(grad * se) < 1e-6)
    for i in range(4):
        for sign in (-1.0, 1.0):
            moved = theta.copy()
            moved[i] += sign * 0.1 * se[i]
            assert _poisson_objective(moved, k, tw, BAND.centres_nm(), hessian=False)[0] > value
    # Observed information and the reported standard errors agree.
    np.testing.assert_allclose(np.sqrt(np.diag(np.linalg.inv(hess))), se, rtol=1e-8)


# ------------------------------------------------------------------ flat


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flat_spectrum_raises_the_flat_warning(seed: int) -> None:
    flat = Spectrum(A=0.0, lambda0_nm=0.38, sigma=0.6, C=5.0)
    lam, _ = draw_events(flat, EXPOSURE_S, seed)
    with pytest.warns(LightlaneWarning) as record:
        fit = fit_spectrum(lam, BAND, EXPOSURE_S)
    messages = [str(w.message) for w in record]
    assert "spectrum is nearly flat; λ0 and σ are poorly constrained" in messages
    assert fit.flat_warning
    assert fit.to_apparent_spectrum().flat_warning
    assert abs(fit.spectrum.C - 5.0) <= 3 * fit.se["C"]


def test_exactly_flat_counts_put_a_on_its_bound() -> None:
    counts = np.full(BAND.bins, 50)
    lam = spread_in_bins(counts, 3)
    with pytest.warns(LightlaneWarning) as record:
        fit = fit_spectrum(lam, BAND, 100.0)
    messages = [str(w.message) for w in record]
    assert any("nearly flat" in m for m in messages)
    assert any("A at a bound" in m for m in messages)
    assert fit.at_bounds == ("A",)
    assert fit.spectrum.A == 0.0
    assert fit.spectrum.C == pytest.approx(50 / (100.0 * BAND.width_nm), rel=1e-9)
    # With A = 0 the data say nothing about λ0 and σ: singular Hessian.
    assert math.isnan(fit.se["lambda0_nm"]) and math.isnan(fit.se["sigma"])
    assert math.isfinite(fit.se["C"])
    assert math.isnan(fit.r2)  # identical y_w: R² is undefined
    assert fit.deviance_per_dof == pytest.approx(0.0, abs=1e-9)


# ------------------------------------------------------ analytic derivatives

POINTS = [
    np.array([40.0, 0.38, 0.6, 2.0]),
    np.array([10.0, 0.6, 0.2, 5.0]),
    np.array([100.0, 0.25, 0.05, 0.5]),
    np.array([3.0, 0.9, 0.45, 30.0]),
]


def central_difference(fun, theta: np.ndarray) -> np.ndarray:
    """Jacobian of ``fun`` by central differences with per-parameter steps."""
    steps = 1e-6 * np.maximum(np.abs(theta), 1e-3)
    columns = []
    for i, h in enumerate(steps):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        columns.append((np.asarray(fun(up)) - np.asarray(fun(down))) / (2 * h))
    return np.stack(columns, axis=-1)


@pytest.fixture(scope="module")
def binned() -> dict[str, np.ndarray]:
    exposure_s = 2_400.0
    counts = draw_counts(TRUTH, exposure_s, 11).astype(float)
    tw = np.full(BAND.bins, exposure_s * BAND.width_nm)
    y = counts / tw
    return {"k": counts, "tw": tw, "y": y, "y_err": np.maximum(np.sqrt(counts), 1.0) / tw, "lam": BAND.centres_nm()}


@pytest.mark.parametrize("theta", POINTS, ids=range(len(POINTS)))
def test_poisson_gradient_and_hessian_match_finite_differences(binned, theta: np.ndarray) -> None:
    def objective(t: np.ndarray, hessian: bool = True):
        return _poisson_objective(t, binned["k"], binned["tw"], binned["lam"], hessian=hessian)

    _, grad, hess = objective(theta)
    numeric_grad = central_difference(lambda t: objective(t, False)[0], theta)
    numeric_hess = central_difference(lambda t: objective(t, False)[1], theta)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-5, atol=1e-6 * np.abs(grad).max())
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


@pytest.mark.parametrize("theta", POINTS, ids=range(len(POINTS)))
def test_wls_gradient_and_hessian_match_finite_differences(binned, theta: np.ndarray) -> None:
    def objective(t: np.ndarray, hessian: bool = True):
        return _wls_objective(t, binned["y"], binned["y_err"], binned["lam"], hessian=hessian)

    _, grad, hess = objective(theta)
    numeric_grad = central_difference(lambda t: objective(t, False)[0], theta)
    numeric_hess = central_difference(lambda t: objective(t, False)[1], theta)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-5, atol=1e-6 * np.abs(grad).max())
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


def test_poisson_objective_is_the_negative_log_likelihood_plus_a_constant(binned) -> None:
    k, tw, lam = binned["k"], binned["tw"], binned["lam"]

    def nll(theta: np.ndarray) -> float:
        mu = tw * Spectrum(*theta).flux(lam)
        return float(np.sum(mu - k * np.log(mu)))

    offsets = [_poisson_objective(t, k, tw, lam, hessian=False)[0] - nll(t) for t in POINTS]
    np.testing.assert_allclose(offsets, offsets[0], rtol=1e-12, atol=1e-7)


# -------------------------------------------------------------------- wls


@pytest.mark.parametrize("seed", [0, 1])
def test_wls_agrees_with_poisson_on_high_count_data(seed: int) -> None:
    lam, _ = draw_events(TRUTH, EXPOSURE_S, seed)
    poisson = fit_spectrum(lam, BAND, EXPOSURE_S)
    wls = fit_spectrum(lam, BAND, EXPOSURE_S, method="wls")
    assert wls.method == "wls"
    se = se_vector(poisson)
    # Both estimators are efficient to first order at ≥ 50 counts per bin;
    # their difference is much smaller than the statistical error.
    assert np.all(np.abs(as_vector(wls.spectrum) - as_vector(poisson.spectrum)) < se)
    np.testing.assert_allclose(se_vector(wls), se, rtol=0.1)
    assert wls.r2 == pytest.approx(poisson.r2, abs=1e-3)
    assert np.all(np.abs(as_vector(wls.spectrum) - as_vector(TRUTH)) <= 3 * se_vector(wls))


def test_unknown_method_is_rejected() -> None:
    lam, _ = draw_events(TRUTH, 240.0, 0)
    with pytest.raises(ValueError, match="method"):
        fit_spectrum(lam, BAND, 240.0, method="chi2")  # type: ignore[arg-type]


# ----------------------------------------------------------------- errors


def test_no_events_in_band_is_a_data_error() -> None:
    outside = np.array([0.01, 0.05, 1.5, 2.0, 99.0])
    with pytest.raises(DataError, match="no events in the band"):
        fit_spectrum(outside, BAND, 1000.0)
    with pytest.raises(DataError, match="no events"):
        fit_spectrum(np.array([]), BAND, 1000.0)


@pytest.mark.parametrize("exposure_s", [0.0, -5.0, math.nan, math.inf])
def test_bad_exposure_is_a_data_error(exposure_s: float) -> None:
    lam, _ = draw_events(TRUTH, 240.0, 0)
    with pytest.raises(DataError, match="exposure"):
        fit_spectrum(lam, BAND, exposure_s)


def test_fewer_than_five_bins_with_counts_is_a_data_error() -> None:
    lam = np.repeat(BAND.centres_nm()[[3, 20, 50, 90]], 100)
    with pytest.raises(DataError, match="only 4 of 100"):
        fit_spectrum(lam, BAND, 1000.0)


# ---------------------------------------------------------------- binning


def test_binning_equals_numpy_histogram() -> None:
    rng = np.random.default_rng(5)
    edges = BAND.edges_nm()
    lam = np.concatenate(
        [
            rng.uniform(0.05, 1.05, 20_000),  # some below and above the band
            edges,  # every edge, including min_nm and max_nm exactly
            [BAND.max_nm] * 7,
            [math.nan, math.inf, -math.inf],
        ]
    )
    with warnings.catch_warnings():
        # Whether or not this arbitrary spectrum is "flat" is irrelevant here.
        warnings.simplefilter("ignore", LightlaneWarning)
        fit = fit_spectrum(lam, BAND, 1000.0)
    expected, _ = np.histogram(lam, bins=edges)
    np.testing.assert_array_equal(fit.counts, expected)
    assert fit.n_events == int(expected.sum())
    in_last = np.count_nonzero((lam >= edges[-2]) & (lam <= edges[-1]))
    assert fit.counts[-1] == in_last  # the last bin is closed: max_nm counts


def test_reported_quantities_follow_their_definitions() -> None:
    exposure_s = 2_400.0
    lam, counts = draw_events(TRUTH, exposure_s, 21)
    fit = fit_spectrum(lam, BAND, exposure_s)
    tw = exposure_s * BAND.width_nm
    np.testing.assert_allclose(fit.flux_density, counts / tw, rtol=1e-12)
    np.testing.assert_allclose(fit.flux_density_err, np.maximum(np.sqrt(counts), 1.0) / tw, rtol=1e-12)

    y, s = fit.flux_density, fit.flux_density_err
    y_hat = fit.spectrum.flux(BAND.centres_nm())
    w = 1 / s**2
    y_bar = np.sum(w * y) / np.sum(w)
    r2 = 1 - np.sum(((y - y_hat) / s) ** 2) / np.sum(((y - y_bar) / s) ** 2)
    assert fit.r2 == pytest.approx(r2, rel=1e-10)
    mu = tw * y_hat
    k = counts.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_log = np.where(k > 0, k * np.log(k / mu), 0.0)
    deviance = 2 * np.sum(k_log - (k - mu))
    assert fit.deviance_per_dof == pytest.approx(deviance / (BAND.bins - 4), rel=1e-9)


def test_result_is_frozen_and_converts_to_apparent_spectrum() -> None:
    lam, _ = draw_events(TRUTH, 2_400.0, 4)
    fit = fit_spectrum(lam, BAND, 2_400.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.r2 = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        fit.counts[0] = 1
    apparent = fit.to_apparent_spectrum()
    assert apparent == ApparentSpectrum(
        band=BAND, spectrum=fit.spectrum, r2=fit.r2, flat_warning=False, n_events=fit.n_events, exposure_s=2_400.0
    )
    again = fit_spectrum(lam, BAND, 2_400.0)
    assert again.spectrum == fit.spectrum and again.se == fit.se


def test_a_second_fit_of_the_same_counts_is_the_first_one_with_its_warnings_again() -> None:
    """A run fits each dataset's spectrum for its figure and again when it writes the dataset: the second fit
    is the first (same object), and says again what the first said."""
    counts = np.full(BAND.bins, 50)
    with pytest.warns(LightlaneWarning) as first_said:
        first = fit_binned_spectrum(counts, BAND, 100.0)
    with pytest.warns(LightlaneWarning) as second_said:
        second = fit_binned_spectrum(counts.astype(np.int32), BAND, 100.0)
    assert second is first
    assert [str(w.message) for w in second_said] == [str(w.message) for w in first_said] != []
    with pytest.warns(LightlaneWarning):
        other = fit_binned_spectrum(counts, BAND, 200.0)  # another exposure: another fit
    assert other is not first and other.spectrum.C == pytest.approx(first.spectrum.C / 2, rel=1e-9)
