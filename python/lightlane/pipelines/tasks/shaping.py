"""Deterministic tasks: cut, prune or fix the events without drawing random numbers."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from ...events.event_list import EventList
from ...events.reading import HRC_TIME_TAG_FIX
from ...events.selection import select_events
from ...exceptions import DataError, LightlaneWarning, MetadataError
from ...metadata import ProcessingParameters
from .frames import event_times


__all__ = ["copy", "prunecolumns", "trange", "wrange", "select", "chandrashift"]


def copy(events: EventList) -> EventList:
    """Identity: the same events and GTIs (a new dataset id is given when written).

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventList

    Examples
    --------
    >>> copy(event_set).events.equals(event_set.events)  # doctest: +SKIP
    True
    """
    return events.with_events(events.events.clone())


def prunecolumns(events: EventList) -> EventList:
    """Drop raw passthrough columns, keeping only :data:`KNOWN_COLUMNS`.

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventList

    Examples
    --------
    >>> prunecolumns(event_set).passthrough_columns  # doctest: +SKIP
    ()
    """
    return events.with_events(events.events.drop(list(events.passthrough_columns)))


def trange(events: EventList, start_s: float, stop_s: float, relative: bool = True) -> EventList:
    """Keep ``start_s ≤ t − t_ref < stop_s``; intersect the GTIs with that window.

    Parameters
    ----------
    events
        The input; never modified.
    start_s, stop_s
        Window bounds [s], ``start_s < stop_s``.
    relative
        If true, ``t_ref`` is the input's tstart (first GTI start), else 0 (absolute MET).
        Times stay absolute either way.

    Returns
    -------
    EventList

    Raises
    ------
    MetadataError
        ``start_s ≥ stop_s``.
    DataError
        The window does not overlap any GTI.

    Examples
    --------
    >>> first_hour = trange(event_set, 0.0, 3600.0)  # doctest: +SKIP
    """
    if not start_s < stop_s:
        raise MetadataError(f"trange: field 'stop_s': expected number > start_s ({start_s!r}), got {stop_s!r}")
    t_ref = events.tstart_s if relative else 0.0
    offset = event_times(events) - t_ref
    keep = (offset >= start_s) & (offset < stop_s)
    lo, hi = t_ref + start_s, t_ref + stop_s
    gti = np.column_stack([np.maximum(events.gti[:, 0], lo), np.minimum(events.gti[:, 1], hi)])
    gti = gti[gti[:, 1] > gti[:, 0]]
    if len(gti) == 0:
        raise DataError(f"trange: window [{lo!r}, {hi!r}) s does not overlap any good time interval "
                        f"([{events.tstart_s!r}, {events.tstop_s!r}] s)")
    return events.with_events(events.events.filter(pl.Series(keep)), gti)


def wrange(events: EventList, min_nm: float, max_nm: float) -> EventList:
    """Keep ``min_nm ≤ λ ≤ max_nm`` (SPEC §1: the band's last bin is closed).

    Parameters
    ----------
    events
        The input; never modified.
    min_nm, max_nm
        The wavelength range [nm], ``0 < min_nm < max_nm``.

    Returns
    -------
    EventList

    Raises
    ------
    MetadataError
        An empty or non-positive range.

    Examples
    --------
    >>> soft = wrange(event_set, 0.5, 1.0)  # doctest: +SKIP
    """
    if not 0 < min_nm < max_nm:
        raise MetadataError(f"wrange: expected 0 < min_nm < max_nm, got [{min_nm!r}, {max_nm!r}]")
    wavelength = events.events["wavelength_nm"].to_numpy()
    keep = (wavelength >= min_nm) & (wavelength <= max_nm)
    return events.with_events(events.events.filter(pl.Series(keep)))


def select(events: EventList, processing: ProcessingParameters) -> EventList:
    """Apply the processing selection of SPEC §10.1: crop, mask (sky only), band.

    Parameters
    ----------
    events
        The input; never modified.
    processing
        Supplies crop, mask and band.

    Returns
    -------
    EventList
        The selected events with the input's columns (no bin column is added).

    Raises
    ------
    DataError
        Crop or mask requested on sky data without x/y.

    Examples
    --------
    >>> selected = select(event_set, processing)  # doctest: +SKIP
    """
    source = events.source_id or "events"
    selected = select_events(events.events, processing, events.coordinates, source).drop("wbin")
    return events.with_events(selected)


def chandrashift(events: EventList) -> EventList:
    """HRC time-tag fix: stable sort by time, t′ᵢ = tᵢ₊₁ for i < n − 1, drop the last event.

    Every other attribute of event i stays with event i.

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventList
        n − 1 events (none if the input has none), sorted by time.

    Warns
    -----
    LightlaneWarning
        The instrument is not HRC, or the fix is already in the times (read-time fix
        of SPEC §6.1 rev 2, or an earlier ``chandrashift``): then nothing changes.

    Examples
    --------
    >>> shifted = chandrashift(hrc_events)  # doctest: +SKIP
    """
    if events.time_tag_fix is not None:
        warnings.warn(f"chandrashift: the HRC time-tag fix ({events.time_tag_fix}) is already applied to these "
                      "times; nothing changed", LightlaneWarning, stacklevel=2)
        return events.with_events(events.events)
    if "HRC" not in events.instrument.upper():
        warnings.warn(f"chandrashift: instrument {events.instrument!r} is not HRC; the HRC time-tag fix is "
                      "applied anyway", LightlaneWarning, stacklevel=2)
    frame = events.events.sort("time", maintain_order=True)
    if frame.height == 0:
        return events.with_events(frame)
    times = frame["time"].to_numpy()
    shifted = frame.head(frame.height - 1).with_columns(pl.Series("time", times[1:], dtype=frame["time"].dtype))
    return events.with_events(shifted, time_tag_fix=HRC_TIME_TAG_FIX)
