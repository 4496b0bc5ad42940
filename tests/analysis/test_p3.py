"""P3, the lanesheet spectral-timing statistic (SPEC §11.9 steps 1–4; §21 properties 2 and 32).

The kernel is checked against an independent numpy implementation written here: light curves by
``numpy.histogram`` with exposure from the GTIs, Leahy powers from ``numpy.fft.rfft``, the
log-frequency re-binning by ``numpy.bincount`` and the stack by a loop over every cell.
"""

from __future__ import annotations

import numpy as np
import pytest

from lightlane import _core, analysis
from lightlane.exceptions import DataError, LightlaneError, MetadataError
from lightlane.metadata import Band


def _leahy(time: np.ndarray, wbin: np.ndarray, rows: int, gti: np.ndarray, dt: float):
    """(N, powers of the used rows, used rows, N_j) computed with numpy."""
    t0, t1 = gti[0, 0], gti[-1, 1]
    n = int(np.floor((t1 - t0) / dt))
    edges = t0 + np.arange(n + 1) * dt
    overlap = np.minimum(gti[:, 1:], edges[1:]) - np.maximum(gti[:, :1], edges[:-1])
    exposure = np.minimum(np.clip(overlap, 0.0, None).sum(axis=0) / dt, 1.0)
    exposed = exposure > 0
    inside = (time >= t0) & (time < edges[-1])
    powers, used, events = [], [], []
    for j in range(rows):
        t = time[inside & (wbin == j)]
        events.append(t.size)
        if t.size:
            x = np.zeros(n)
            x[exposed] = np.histogram(t, edges)[0][exposed] / exposure[exposed]
            x[exposed] -= x[exposed].mean()
            powers.append(2.0 * np.abs(np.fft.rfft(x)[1:n // 2 + 1]) ** 2 / t.size)
            used.append(j)
    return n, np.array(powers), np.array(used), np.array(events)


def _rebin(powers: np.ndarray, n: int, dt: float, span: float, steps: int):
    """(ln f_min, Δ, R): step means, an empty step taking the power nearest its centre in ln f."""
    start = np.log(4.0 / span)
    step = (np.log(1.0 / (2.0 * dt)) - start) / steps
    u = (np.log(np.arange(1, n // 2 + 1) / (n * dt)) - start) / step
    keep = np.flatnonzero(u >= 0)
    g = np.minimum(np.floor(u[keep]).astype(int), steps - 1)
    count = np.bincount(g, minlength=steps)
    nearest = keep[np.argmin(np.abs(u[keep][None, :] - (np.arange(steps) + 0.5)[:, None]), axis=1)]
    sums = np.array([np.bincount(g, weights=p[keep], minlength=steps) for p in powers])
    return start, step, np.where(count > 0, sums / np.maximum(count, 1), powers[:, nearest])


def _stack(rebinned: np.ndarray, centres: np.ndarray, slopes: np.ndarray, step: float):
    """(k_lo, S): the mean over rows of R_j[k + d_ij], NaN where a row leaves the grid."""
    rows, steps = rebinned.shape
    x = slopes[:, None] * centres[None, :] / step
    d = np.trunc(x + np.copysign(0.5, x)).astype(int)  # half away from zero, like Rust's f64::round
    k_lo, k_hi = (-d.min(axis=1)).min(), (steps - 1 - d.max(axis=1)).max()
    image = np.full((slopes.size, k_hi - k_lo + 1), np.nan)
    for i in range(slopes.size):
        for k in range(k_lo, k_hi + 1):
            at = k + d[i]
            if np.all((at >= 0) & (at < steps)):
                image[i, k - k_lo] = rebinned[np.arange(rows), at].mean()
    return k_lo, image


def _events(rates, gti: np.ndarray, seed: int, rate_max: float):
    """Poisson events (thinning) of rows with rate functions ``rates[j](t)`` ≤ rate_max, inside the GTIs."""
    rng = np.random.default_rng(seed)
    t0, t1 = gti[0, 0], gti[-1, 1]
    times, bins = [], []
    for j, rate in enumerate(rates):
        t = rng.uniform(t0, t1, rng.poisson(rate_max * (t1 - t0)))
        t = t[rng.uniform(0.0, rate_max, t.size) < rate(t)]
        t = t[((t[:, None] >= gti[:, 0]) & (t[:, None] < gti[:, 1])).any(axis=1)]
        times.append(t)
        bins.append(np.full(t.size, j, dtype=np.uint16))
    time, wbin = np.concatenate(times), np.concatenate(bins)
    order = np.argsort(time, kind="stable")
    return time[order], wbin[order]


def _spec(band: Band, gti: np.ndarray, dt: float, **settings) -> _core.P3Spec:
    spec: _core.P3Spec = {
        "n_wbins": band.bins, "centres_nm": band.centres_nm(), "gti_start_s": np.ascontiguousarray(gti[:, 0]),
        "gti_stop_s": np.ascontiguousarray(gti[:, 1]), "dt_s": dt, "log_bins": 512, "slope_min": -1.0,
        "slope_max": 4.0, "slope_count": 251,
    }
    spec.update(settings)  # type: ignore[typeddict-item]
    return spec


SMALL_GTI = np.array([[1000.0, 1300.6], [1310.25, 1515.3]])  # a gap and two partially exposed bins


def _small():
    band = Band(0.1, 1.0, 9)
    rates = [lambda t, j=j: 0.5 + 0.4 * np.cos(0.05 * (j + 1) * t) for j in range(8)] + [lambda t: 0.0 * t]
    time, wbin = _events(rates, SMALL_GTI, 1, 1.0)
    wbin[::11] = 0xFFFF  # unselected events are skipped
    return band, time, wbin


@pytest.mark.parametrize("dt", [1.0, 1.25])
def test_periodograms_equal_numpy_leahy_powers(dt: float) -> None:
    band, time, wbin = _small()
    out = _core.p3_periodograms(time, wbin, _spec(band, SMALL_GTI, dt))
    n, powers, used, events = _leahy(time, wbin, band.bins, SMALL_GTI, dt)
    assert out["n_time_bins"] == n and n % 2 == (1 if dt == 1.0 else 0)
    assert list(out["used"]) == list(used) == list(range(8))  # row 8 has no events
    np.testing.assert_array_equal(out["events"], events)
    np.testing.assert_allclose(out["powers"], powers, rtol=1e-10, atol=0)


def test_rebinning_and_stacking_equal_a_direct_numpy_loop() -> None:
    band, time, wbin = _small()
    result = analysis.p3_statistic(time, wbin, band, SMALL_GTI, 1.0, log_bins=32, slope_max=5.0, slope_count=7)
    n, powers, used, _ = _leahy(time, wbin, band.bins, SMALL_GTI, 1.0)
    span = SMALL_GTI[-1, 1] - SMALL_GTI[0, 0]
    start, step, rebinned = _rebin(powers, n, 1.0, span, 32)
    assert (result.log_f_start, result.log_f_step) == pytest.approx((start, step), rel=1e-15)
    np.testing.assert_allclose(result.rebinned, rebinned, rtol=1e-10, atol=0)
    slopes = np.linspace(-1.0, 5.0, 7)
    k_lo, image = _stack(rebinned, band.centres_nm()[used], slopes, step)
    assert np.isnan(image).any() and np.isfinite(image).any()
    np.testing.assert_array_equal(result.slopes, slopes)
    assert result.intercepts_ln_hz.size == image.shape[1]
    np.testing.assert_allclose(result.intercepts_ln_hz, start + (k_lo + np.arange(image.shape[1]) + 0.5) * step,
                               rtol=1e-14)
    np.testing.assert_allclose(result.image, image, rtol=1e-10, atol=0)  # NaN cells must coincide
    i, m = np.unravel_index(np.nanargmax(image), image.shape)
    assert (result.slope_index, result.intercept_index - k_lo) == (i, m)
    assert result.stat == pytest.approx(np.nanmax(image) - 2.0, rel=1e-12)
    assert result.slope == slopes[i] and result.intercept_ln_hz == result.intercepts_ln_hz[m]
    np.testing.assert_array_equal(result.used, used)
    np.testing.assert_allclose(result.log_f_centres, start + (np.arange(32) + 0.5) * step, rtol=1e-14)


BAND = Band(0.1, 1.0, 20)
GTI = np.array([[0.0, 2500.0], [2600.0, 6000.0]])


def _signal(slope: float, seed: int):
    """Row j modulated at f_j = 0.01 Hz·exp(slope·λ_j), 0.5 counts/s on average."""
    frequencies = 0.01 * np.exp(slope * BAND.centres_nm())
    rates = [lambda t, f=f: 0.5 + 0.4 * np.cos(2 * np.pi * f * t) for f in frequencies]
    return _events(rates, GTI, seed, 0.9)


def test_a_slope_of_two_is_recovered_and_poisson_noise_stays_small() -> None:
    """Property 32 in miniature. Null: each low log step holds one χ²₂ Leahy power (sd 2), so a
    cell there has sd 2/√20 ≈ 0.45 and the maximum over ~10⁵ correlated cells lies a few sd above
    the mean: S_max ≈ 2 (1.8–3.0 over 60 seeds); the signal gives S_max in the hundreds."""
    time, wbin = _signal(2.0, 3)
    signal = analysis.p3_statistic(time, wbin, BAND, GTI, 1.0)
    assert signal.slope == pytest.approx(2.0, rel=0.1)
    assert signal.intercept_ln_hz == pytest.approx(np.log(0.01), abs=3 * signal.log_f_step)
    assert signal.stat > 50.0
    time, wbin = _events([lambda t: 0.5 + 0.0 * t] * BAND.bins, GTI, 4, 0.5)
    null = analysis.p3_statistic(time, wbin, BAND, GTI, 1.0)
    assert null.stat < 4.0
    # The mean of R is Σ_jk W_k·P_jk/(rows·G) with W_k the weight of frequency k summed over the
    # steps (re-binning the identity gives them); null powers are independent with variance 4,
    # so its error is 2·√(rows·Σ W_k²)/(rows·G) (z-scores of 100 seeds: sd 1.06, max 3.2).
    rows, steps = null.rebinned.shape
    weights = _rebin(np.eye(null.n_time_bins // 2), null.n_time_bins, 1.0, 6000.0, steps)[2].sum(axis=1)
    error = 2.0 * np.sqrt(rows * np.sum(weights**2)) / (rows * steps)
    assert abs(null.rebinned.mean() - 2.0) < 4.0 * error


def test_thread_count_does_not_change_the_result() -> None:
    """SPEC §21 property 2 for P3: byte-identical with 1, 2 and 8 threads."""
    time, wbin = _signal(1.2, 5)
    try:
        runs = []
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            runs.append(analysis.p3_statistic(time, wbin, BAND, GTI, 0.8))
    finally:
        _core.set_threads(None)
    for run in runs[1:]:
        for name in ("stat", "slope", "intercept_ln_hz", "slopes", "intercepts_ln_hz", "image", "rebinned", "used",
                     "events"):
            assert np.asarray(getattr(run, name)).tobytes() == np.asarray(getattr(runs[0], name)).tobytes(), name


def test_bad_input_raises_the_package_errors() -> None:
    band, time, wbin = _small()
    for dt in (0.0, -1.0, float("nan")):
        with pytest.raises(MetadataError, match="dt_s must be finite and > 0"):
            analysis.p3_statistic(time, wbin, band, SMALL_GTI, dt)
    with pytest.raises(DataError, match=r"GTI span .* is too short for dt_s = 40: 12 time bins, at least 16"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI, 40.0)
    with pytest.raises(MetadataError, match="log_bins must be in 2"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI, 1.0, log_bins=1)
    with pytest.raises(MetadataError, match="slope_count must be a non-negative integer"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI, 1.0, slope_count=-3)
    with pytest.raises(MetadataError, match="slope_min ≤ slope_max"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI, 1.0, slope_min=5.0)
    with pytest.raises(DataError, match="sorted non-decreasing"):
        analysis.p3_statistic(time[::-1], wbin, band, SMALL_GTI, 1.0)
    with pytest.raises(DataError, match="sorted and disjoint"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI[::-1], 1.0)
    with pytest.raises(DataError, match="no wavelength bin has a selected event"):
        analysis.p3_statistic(time, np.full_like(wbin, 0xFFFF), band, SMALL_GTI, 1.0)
    with pytest.raises(LightlaneError, match="gti must have shape"):
        analysis.p3_statistic(time, wbin, band, SMALL_GTI.ravel(), 1.0)
