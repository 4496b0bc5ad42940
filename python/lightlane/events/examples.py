"""Chandra-like example event files, built from the lightlane RNG contract.

Used by ``quickstart`` (no network, no user data), the tests and the benchmarks.
Photons are homogeneous in time over [tstart, tstop] (so the GTI gap removes
some), with ACIS PI channels drawn from a lanesheet-style spectrum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from .. import _core
from ..metadata import Spectrum
from ..store.atomic import atomic_path
from .calibrations import HC_KEV_NM, Calibration

__all__ = ["ExampleObservation", "write_chandra_like"]


@dataclass(frozen=True)
class ExampleObservation:
    """Shape of an example ACIS observation (times in MET seconds)."""

    n_events: int = 20_000
    tstart_s: float = 3.0e8
    duration_s: float = 20_000.0
    gap_s: tuple[float, float] = (9_000.0, 10_000.0)
    spectrum: Spectrum = Spectrum(A=40.0, lambda0_nm=0.38, sigma=0.6, C=2.0)
    obs_id: str = "99999"
    seed: int = 0


def _channel_weights(spectrum: Spectrum, calibration: Calibration) -> tuple[np.ndarray, np.ndarray]:
    first, last = calibration.channel_range()
    channels = np.arange(first, last + 1, dtype=np.int64)
    lo, hi = calibration.channel_interval_kev(channels)
    lo = np.maximum(lo, 1e-3)
    # counts per channel ∝ f(λ)·|Δλ| over the channel's wavelength interval
    lam_hi, lam_lo = HC_KEV_NM / lo, HC_KEV_NM / hi
    centre = 0.5 * (lam_lo + lam_hi)
    weights = spectrum.flux(centre) * (lam_hi - lam_lo)
    # The spectrum's floor C would otherwise put most photons at the very long wavelengths
    # of the lowest channels; X-ray detectors see little there, so keep ~0.05–2 nm.
    weights[(centre < 0.05) | (centre > 2.0)] = 0.0
    return channels, weights / weights.sum()


def write_chandra_like(path: str | os.PathLike[str], observation: ExampleObservation = ExampleObservation()) -> Path:
    """Write an ACIS-like evt2 file (EVENTS with TIME, PI, X, Y, CCD_ID; two GTIs)."""
    obs = observation
    n = obs.n_events
    times = obs.tstart_s + obs.duration_s * np.sort(_core.uniforms(obs.seed, _core.DOMAIN_GENERATE, [0], n))
    calibration = Calibration("chandra-acis")
    channels, weights = _channel_weights(obs.spectrum, calibration)
    cdf = np.cumsum(weights)
    pick = np.searchsorted(cdf, _core.uniforms(obs.seed, _core.DOMAIN_GENERATE, [1], n) * cdf[-1], side="right")
    pi = channels[np.minimum(pick, len(channels) - 1)].astype(np.int32)
    x = 4096.5 + 20.0 * (_core.uniforms(obs.seed, _core.DOMAIN_GENERATE, [2], n) - 0.5)
    y = 4096.5 + 20.0 * (_core.uniforms(obs.seed, _core.DOMAIN_GENERATE, [3], n) - 0.5)
    gap_start, gap_stop = obs.gap_s
    gti = np.array([[obs.tstart_s, obs.tstart_s + gap_start],
                    [obs.tstart_s + gap_stop, obs.tstart_s + obs.duration_s]])
    header = fits.Header()
    for key, value in {
        "TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "OBS_ID": obs.obs_id, "OBJECT": "lightlane example",
        "MJDREF": 50814.0, "TIMESYS": "TT", "TIMEUNIT": "s", "TIMEZERO": 0.0,
        "TSTART": obs.tstart_s, "TSTOP": obs.tstart_s + obs.duration_s,
    }.items():
        header[key] = value
    events = fits.BinTableHDU.from_columns([
        fits.Column(name="time", format="D", unit="s", array=times),
        fits.Column(name="ccd_id", format="I", array=np.full(n, 7, dtype=np.int16)),
        fits.Column(name="x", format="E", unit="pixel", array=x.astype(np.float32)),
        fits.Column(name="y", format="E", unit="pixel", array=y.astype(np.float32)),
        fits.Column(name="pi", format="J", array=pi),
    ], header=header.copy(), name="EVENTS")
    gti_hdu = fits.BinTableHDU.from_columns([
        fits.Column(name="START", format="D", unit="s", array=gti[:, 0]),
        fits.Column(name="STOP", format="D", unit="s", array=gti[:, 1]),
    ], header=header.copy(), name="GTI")
    path = Path(path)
    with atomic_path(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(header=header.copy()), events, gti_hdu]).writeto(tmp)
    return path
