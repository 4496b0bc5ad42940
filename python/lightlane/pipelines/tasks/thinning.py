"""Seeded thinning tasks: keep a uniform subset of the events (per bin, or overall)."""

from __future__ import annotations

import math

import numpy as np

from ... import _core
from ...events.event_list import EventList
from ...events.selection import wavelength_bins
from ...exceptions import DataError, MetadataError
from ...metadata import Band

from .frames import event_times, take_rows
from .seeds import (
    OP_DOWNSAMPLE,
    OP_FLATTEN,
    OP_TTHINNING,
    OP_TTHINNING_OFFSET,
    sub_seed,
)

__all__ = ["flatten", "tthinning", "downsample"]

_MAX_LISTED = 20


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def _covered_before(x: np.ndarray, gti: np.ndarray) -> np.ndarray:
    """|GTIs ∩ (−∞, x)| for each x [s]: the cumulative good time."""
    lengths = gti[:, 1] - gti[:, 0]
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    k = np.searchsorted(gti[:, 0], x, side="right") - 1
    inside = np.clip(x - gti[np.maximum(k, 0), 0], 0.0, lengths[np.maximum(k, 0)])
    return np.where(k >= 0, cumulative[np.maximum(k, 0)] + inside, 0.0)


def _bin_label(band: Band, index: int) -> str:
    edges = band.edges_nm()
    closing = "]" if index == band.bins - 1 else ")"
    return f"{index} [{edges[index]:.6g}, {edges[index + 1]:.6g}{closing} nm"


def flatten(events: EventList, band: Band, seed: int, min_per_bin: int = 1) -> EventList:
    """Equalise the band's bin counts: per bin a seeded subset of size n_min = min_w count_w.

    Events outside the band are dropped. Bin w keeps a uniform subset without
    replacement of its events, drawn from stream (key(seed, TASK, 1), TASK, w).

    Parameters
    ----------
    events
        The input; never modified.
    band
        The band whose bins are equalised (the processing band in a pipeline).
    seed
        The task seed.
    min_per_bin
        Smallest acceptable n_min (≥ 1).

    Returns
    -------
    EventList
        bins·n_min events in the input's order.

    Raises
    ------
    DataError
        n_min < min_per_bin; the message names every bin below it.

    Examples
    --------
    >>> flat = flatten(event_set, processing.band, seed=1)  # doctest: +SKIP
    """
    bins = wavelength_bins(events.events["wavelength_nm"].to_numpy(), band)
    counts = np.bincount(bins[bins >= 0], minlength=band.bins)
    n_min = int(counts.min())
    if n_min < min_per_bin:
        short = np.flatnonzero(counts < min_per_bin)
        listed = "; ".join(f"{_bin_label(band, int(w))}: {int(counts[w])}" for w in short[:_MAX_LISTED])
        more = f" and {len(short) - _MAX_LISTED} more" if len(short) > _MAX_LISTED else ""
        what = "are empty" if min_per_bin == 1 else f"have fewer than min_per_bin = {min_per_bin} events"
        raise DataError(f"flatten: {len(short)} wavelength bin(s) {what}: {listed}{more}")
    keep = np.full(band.bins, n_min, dtype=np.int64)
    indices = _core.grouped_subset(bins.astype(np.int64), keep, sub_seed(seed, OP_FLATTEN))
    return events.with_events(take_rows(events.events, indices))


def tthinning(events: EventList, width_s: float, seed: int, min_exposure: float = 0.99) -> EventList:
    """Cap every time bin at round(c̄) events, c̄ = mean count of the fully exposed bins.

    Edges are e_j = tstart − o + jΔ with the offset o = uΔ, u the first uniform of stream
    (seed, TASK, 2); J = ⌊(tstop − e₀)/Δ⌋ + 1 bins. A bin is fully exposed when its GTI
    coverage is ≥ ``min_exposure`` (SPEC §10.2). Every bin with more than c̄ events keeps
    a uniform subset of round(c̄) (half up) of them, from stream
    (key(seed, TASK, 3), TASK, j).

    Parameters
    ----------
    events
        The input; never modified.
    width_s
        Bin width Δ [s] (the median of the width set in a pipeline).
    seed
        The task seed.
    min_exposure
        Exposure fraction that makes a bin fully exposed, in (0, 1].

    Returns
    -------
    EventList
        The thinned events in the input's order.

    Raises
    ------
    MetadataError
        A non-positive width.
    DataError
        No time bin is fully exposed.

    Examples
    --------
    >>> flat_curve = tthinning(event_set, 100.0, seed=1)  # doctest: +SKIP
    """
    if not (math.isfinite(width_s) and width_s > 0):
        raise MetadataError(f"tthinning: field 'width_s': expected number > 0, got {width_s!r}")
    tstart, tstop = events.tstart_s, events.tstop_s
    offset = float(_core.uniforms(seed, _core.DOMAIN_TASK, [OP_TTHINNING_OFFSET], 1)[0]) * width_s
    first_edge = tstart - offset
    n_bins = int(math.floor((tstop - first_edge) / width_s)) + 1
    edges = first_edge + np.arange(n_bins + 1) * width_s
    exposure = np.diff(_covered_before(edges, events.gti)) / width_s
    full = exposure >= min_exposure
    if not full.any():
        raise DataError(f"tthinning: no time bin of width {width_s!r} s is fully exposed "
                        f"(min_exposure {min_exposure!r})")
    index = np.clip(np.floor((event_times(events) - first_edge) / width_s), 0, n_bins - 1).astype(np.int64)
    counts = np.bincount(index, minlength=n_bins)
    mean = float(counts[full].mean())
    keep = np.where(counts > mean, _round_half_up(mean), counts).astype(np.int64)
    indices = _core.grouped_subset(index, keep, sub_seed(seed, OP_TTHINNING))
    return events.with_events(take_rows(events.events, indices))


def downsample(events: EventList, seed: int, count: int | None = None,
               fraction: float | None = None) -> EventList:
    """A uniform subset without replacement of ``count`` or round(fraction·n) events.

    Drawn from the one stream (key(seed, TASK, 4), TASK).

    Parameters
    ----------
    events
        The input; never modified.
    seed
        The task seed.
    count
        Number of events to keep (≤ n).
    fraction
        Fraction to keep, in (0, 1]; rounded half up. Exactly one of count/fraction.

    Returns
    -------
    EventList
        The kept events in the input's order.

    Raises
    ------
    MetadataError
        Both or neither of count/fraction, or a value out of range.
    DataError
        ``count`` exceeds the number of events.

    Examples
    --------
    >>> half = downsample(event_set, seed=1, fraction=0.5)  # doctest: +SKIP
    """
    if (count is None) == (fraction is None):
        raise MetadataError("downsample: exactly one of 'count' and 'fraction' is required")
    n = events.count
    if count is not None:
        if count < 0:
            raise MetadataError(f"downsample: field 'count': expected integer ≥ 0, got {count!r}")
        if count > n:
            raise DataError(f"downsample: cannot keep {count} of {n} events without replacement")
        m = int(count)
    else:
        assert fraction is not None
        if not 0 < fraction <= 1:
            raise MetadataError(f"downsample: field 'fraction': expected number in (0, 1], got {fraction!r}")
        m = min(n, _round_half_up(fraction * n))
    indices = _core.subset_indices(n, m, sub_seed(seed, OP_DOWNSAMPLE))
    return events.with_events(take_rows(events.events, indices))
