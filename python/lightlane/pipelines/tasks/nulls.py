"""Seeded null tasks: keep every event but randomise its time or its spectral attributes."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from ... import _core
from ...events.event_list import EventList
from ...exceptions import MetadataError

from .frames import take_rows
from .seeds import OP_LCPRESERVE, OP_POISSONIZE, sub_seed

__all__ = ["SPECTRAL_COLUMNS", "poissonize", "lcpreserve"]

#: The attributes ``lcpreserve`` permutes (wavelength, energy, channel, generation bin).
SPECTRAL_COLUMNS: tuple[str, ...] = ("wavelength_nm", "energy_kev", "pi", "pha", "bin")


def _gti_columns(gti: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(gti[:, 0]), np.ascontiguousarray(gti[:, 1])


def poissonize(events: EventList, seed: int) -> EventList:
    """Homogeneous null: new times uniform over the GTI union, length-weighted.

    Event i's new time is draw i of the block streams (key(seed, TASK, 5), TASK, i / 65 536)
    mapped through the cumulative GTI lengths. Wavelengths, channels, positions and every
    other column stay with their event; the result is stably re-sorted by time.

    Parameters
    ----------
    events
        The input; never modified.
    seed
        The task seed.

    Returns
    -------
    EventList
        The same number of events, sorted by time.

    Raises
    ------
    DataError
        Events but no GTI of positive length.

    Examples
    --------
    >>> null = poissonize(event_set, seed=1)  # doctest: +SKIP
    """
    starts, stops = _gti_columns(events.gti)
    times = _core.uniform_times_in_gtis(starts, stops, events.count, sub_seed(seed, OP_POISSONIZE))
    dtype = events.events["time"].dtype
    frame = events.events.with_columns(pl.Series("time", times, dtype=dtype))
    order = np.argsort(times, kind="stable")
    return events.with_events(take_rows(frame, order))


def lcpreserve(events: EventList, window_s: float, seed: int) -> EventList:
    """Light-curve-preserving null: permute spectral attributes inside time windows.

    Windows are [tstart + kW, tstart + (k+1)W). Inside each, the columns of
    :data:`SPECTRAL_COLUMNS` that exist are permuted together among the window's events
    (Fisher–Yates from stream (key(seed, TASK, 6), TASK, k)); times, positions and every
    other column stay. The light curve at any binning and the spectrum are unchanged.

    Parameters
    ----------
    events
        The input; never modified.
    window_s
        Window length W [s] (the median of the width set in a pipeline).
    seed
        The task seed.

    Returns
    -------
    EventList
        The events stably sorted by time, with permuted spectral attributes.

    Raises
    ------
    MetadataError
        A non-positive window.

    Examples
    --------
    >>> null = lcpreserve(event_set, 100.0, seed=1)  # doctest: +SKIP
    """
    if not (math.isfinite(window_s) and window_s > 0):
        raise MetadataError(f"lcpreserve: field 'window_s': expected number > 0, got {window_s!r}")
    frame = events.events.sort("time", maintain_order=True)
    if frame.height == 0:
        return events.with_events(frame)
    times = np.ascontiguousarray(frame["time"].to_numpy(), dtype=np.float64)
    source = _core.window_permutation(times, events.tstart_s, window_s, sub_seed(seed, OP_LCPRESERVE))
    spectral = [c for c in SPECTRAL_COLUMNS if c in frame.columns]
    permuted = take_rows(frame.select(spectral), source)
    return events.with_events(frame.with_columns(permuted.get_columns()))
