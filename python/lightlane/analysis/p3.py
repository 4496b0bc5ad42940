"""The statistic of test P3 (SPEC §11.9 steps 1–4): the lanesheet spectral-timing stack of one dataset.

The lanesheet model puts the power of every wavelength bin's light curve on parallel straight lines
in the plane (λ, ln f). P3 stacks the bins' Leahy periodograms along lines of slope s and takes the
largest mean power. The numeric work (periodograms, log-frequency re-binning, stacking) runs in
Rust (``_core.p3_statistic``; see ``rust/p3/mod.rs`` for the exact conventions); this module
normalises the inputs and wraps the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .. import _core
from ..events.selection import UNSELECTED
from ..exceptions import DataError, MetadataError
from ..events.event_list import EventList
from ..metadata import Band, ProcessingParameters

__all__ = ["P3Result", "p3_dt", "p3_statistic"]


@dataclass(frozen=True, eq=False)
class P3Result:
    """S(s, c) of one dataset and its maximum (SPEC §11.9 steps 1–4).

    Attributes
    ----------
    stat
        S_max = max S(s, c) − 2 over the finite cells (2 is the Poisson Leahy mean).
    slope, intercept_ln_hz
        The argmax ŝ [ln Hz per nm] (an estimate of −lucretius) and ĉ [ln Hz], the line's
        ln f at λ = 0; ties go to the lowest slope, then the lowest intercept.
    slope_index, intercept_index
        ŝ = ``slopes[slope_index]``; ĉ = ``log_f_start + (intercept_index + 0.5)·log_f_step``.
    slopes, intercepts_ln_hz
        The image's axes: s_i (``numpy.linspace``) and c_k for k = k_lo…k_hi.
    image
        S(s_i, c_k), shape (slopes, intercepts); NaN where a used row's shifted step falls off
        the log-frequency grid.
    rebinned
        R_j, the used rows' periodograms on the log grid, shape (used rows, G).
    used
        The wavelength bins with at least one selected event in the time grid (rows of
        ``rebinned``); bins without events have no Leahy normalisation and are left out.
    events
        N_j, selected events inside the time grid, per wavelength bin of the band.
    centres_nm
        λ_j of every band bin.
    log_f_start, log_f_step
        ln f_min and Δ: log step g covers [log_f_start + g·Δ, log_f_start + (g + 1)·Δ).
    n_time_bins, dt_s
        N light-curve bins of width dt from the first GTI start.
    """

    stat: float
    slope: float
    intercept_ln_hz: float
    slope_index: int
    intercept_index: int
    slopes: npt.NDArray[np.float64]
    intercepts_ln_hz: npt.NDArray[np.float64]
    image: npt.NDArray[np.float64]
    rebinned: npt.NDArray[np.float64]
    used: npt.NDArray[np.int64]
    events: npt.NDArray[np.uint64]
    centres_nm: npt.NDArray[np.float64]
    log_f_start: float
    log_f_step: float
    n_time_bins: int
    dt_s: float

    @property
    def log_f_centres(self) -> npt.NDArray[np.float64]:
        """ln f at the centre of each log step (the abscissa of ``rebinned``)."""
        steps = self.rebinned.shape[1]
        return self.log_f_start + (np.arange(steps, dtype=np.float64) + 0.5) * self.log_f_step


def _wavelength_bins(wbin: npt.ArrayLike, bins: int, size: int) -> np.ndarray:
    """``wbin`` as contiguous uint16 (UNSELECTED kept: the core skips those events)."""
    values = np.asarray(wbin)
    if values.shape != (size,):
        raise DataError(f"p3: wbin must have one entry per event ({size}), got shape {values.shape}")
    if values.dtype != np.uint16:
        if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0
                            or (values.max() >= bins and values.max() != UNSELECTED)):
            raise DataError(f"p3: wbin must hold integer wavelength bins in 0…{bins - 1}")
        values = values.astype(np.uint16)
    return np.ascontiguousarray(values)


def _count(name: str, value: object) -> int:
    """A non-negative integer setting (the core checks its range)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise MetadataError(f"p3: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def p3_statistic(
    time_s: npt.ArrayLike,
    wbin: npt.ArrayLike,
    band: Band,
    gti: npt.ArrayLike,
    dt_s: float,
    *,
    log_bins: int = 512,
    slope_min: float = -1.0,
    slope_max: float = 4.0,
    slope_count: int = 251,
) -> P3Result:
    """The P3 statistic of one dataset's selected events (SPEC §11.9 steps 1–4).

    Per band bin: the light curve at resolution ``dt_s`` from the first GTI start to the last GTI
    stop (⌊span/dt⌋ bins; events in the incomplete last bin are dropped), exposure-corrected,
    mean-subtracted over its exposed bins with gaps left at 0, and its Leahy periodogram. The
    periodograms are averaged onto ``log_bins`` equal steps in ln f from 4/span to the Nyquist
    frequency (an empty step takes the power of the Fourier frequency nearest its centre), then
    stacked along lines ln f = c + s·λ for every slope s.

    Parameters
    ----------
    time_s
        Event times [s], sorted ascending.
    wbin
        Each event's band bin (``events.selection.selected_bins``); ``UNSELECTED`` events are skipped.
    band
        The analysed band; its bin centres are the λ_j.
    gti
        Sorted, disjoint GTIs [s], shape (n, 2).
    dt_s
        Light-curve resolution [s] (``p3_dt_s``).
    log_bins, slope_min, slope_max, slope_count
        G, and the slope grid ``numpy.linspace(slope_min, slope_max, slope_count)`` [ln Hz per nm].

    Returns
    -------
    P3Result
        The statistic, its argmax and the image.

    Raises
    ------
    MetadataError
        Settings out of range (dt ≤ 0, G < 2, slope_min > slope_max, ...).
    DataError
        Unsorted times or GTIs, a GTI span shorter than 16·dt, no event in any band bin, or no
        slope keeping every bin on the log-frequency grid.

    Examples
    --------
    >>> import numpy as np
    >>> from lightlane.metadata import Band
    >>> rng = np.random.default_rng(0)
    >>> time = np.sort(rng.uniform(0.0, 2000.0, 20_000))
    >>> wbin = rng.integers(0, 10, time.size).astype(np.uint16)
    >>> result = p3_statistic(time, wbin, Band(0.1, 1.0, 10), np.array([[0.0, 2000.0]]), 1.0)
    >>> result.image.shape == (251, result.intercepts_ln_hz.size), result.rebinned.shape
    (True, (10, 512))
    """
    time = np.ascontiguousarray(time_s, dtype=np.float64)
    if time.ndim != 1:
        raise DataError(f"p3: time_s must be 1-D, got shape {time.shape}")
    bins = _wavelength_bins(wbin, band.bins, time.size)
    intervals = np.asarray(gti, dtype=np.float64)
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise DataError(f"p3: gti must have shape (n, 2), got {intervals.shape}")
    centres = band.centres_nm()
    spec: _core.P3Spec = {
        "n_wbins": band.bins,
        "centres_nm": np.ascontiguousarray(centres),
        "gti_start_s": np.ascontiguousarray(intervals[:, 0]),
        "gti_stop_s": np.ascontiguousarray(intervals[:, 1]),
        "dt_s": float(dt_s),
        "log_bins": _count("log_bins", log_bins),
        "slope_min": float(slope_min),
        "slope_max": float(slope_max),
        "slope_count": _count("slope_count", slope_count),
    }
    out = _core.p3_statistic(time, bins, spec)
    return P3Result(
        stat=out["stat"], slope=out["slope"], intercept_ln_hz=out["intercept_ln_hz"],
        slope_index=out["slope_index"], intercept_index=out["intercept_index"], slopes=out["slopes"],
        intercepts_ln_hz=out["intercepts_ln_hz"], image=out["image"], rebinned=out["rebinned"], used=out["used"],
        events=out["events"], centres_nm=centres, log_f_start=out["log_f_start"], log_f_step=out["log_f_step"],
        n_time_bins=out["n_time_bins"], dt_s=out["dt_s"],
    )


def p3_dt(processing: ProcessingParameters, events: EventList) -> float:
    """P3's light-curve resolution: ``p3_dt_s``, else max(1 s, the frame time TIMEDEL when the file gives one)."""
    if processing.p3_dt_s is not None:
        return float(processing.p3_dt_s)
    try:
        frame = float(events.header.get("TIMEDEL", math.nan))
    except (TypeError, ValueError):
        frame = math.nan
    return max(1.0, frame) if math.isfinite(frame) and frame > 0 else 1.0
