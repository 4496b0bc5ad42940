"""Tasks: pure, seeded transformations events → events (SPEC §8).

A task never mutates its input: every function here returns a new :class:`EventSet`
whose frame is a new polars DataFrame and whose GTI array is a new read-only array.
Times are MET seconds, wavelengths nm, energies keV.

Randomness follows SPEC §1. A task's seed is ``key(run_seed, TASK, side, position)``
(:func:`task_seed`); each random operation of a task draws from its own sub-stream
``key(task_seed, TASK, op)`` with a fixed ``op`` constant, split by the Rust core into
fixed units (blocks of 65 536 events, wavelength or time bins, time windows), so the
output is identical for any thread count.

Every :class:`EventSet` keeps one invariant: ``wavelength_nm`` (and ``energy_kev``)
hold what the analysis uses. Data read from files already satisfy it (channels are
dithered on read); ``generate`` dithers the smeared channels of its photons itself.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from . import _core
from .calibrations import get_calibration
from .exceptions import DataError, LightlaneWarning, MetadataError
from .ingest import EventList
from .metadata import (
    Band,
    DatasetMeta,
    GenerationParameters,
    GenerationTime,
    ProcessingParameters,
    TaskSpec,
)
from .metadata.values import MAX_SEED
from .selection import select_events, wavelength_bins
from .simulate import generation_band, simulate
from .spectrum_fit import fit_spectrum
from .workspace import Workspace

__all__ = [
    "KNOWN_COLUMNS", "SPECTRAL_COLUMNS", "TASK_DOMAIN", "TASK_FUNCTIONS",
    "EventSet", "TaskContext", "task_seed", "apply_task", "apply_chain",
    "copy", "prunecolumns", "trange", "wrange", "select", "chandrashift", "flatten", "tthinning",
    "downsample", "poissonize", "lcpreserve", "generate",
]

#: The TASK domain of SPEC §1.
TASK_DOMAIN = 3
#: Columns that carry meaning for lightlane; every other column is raw passthrough.
KNOWN_COLUMNS: tuple[str, ...] = ("time", "wavelength_nm", "energy_kev", "pi", "pha", "x", "y", "bin", "lanecount")
#: The attributes ``lcpreserve`` permutes (wavelength, energy, channel, generation bin).
SPECTRAL_COLUMNS: tuple[str, ...] = ("wavelength_nm", "energy_kev", "pi", "pha", "bin")

# Sub-stream ids: key(task_seed, TASK, [op]). Changing one changes that task's output.
_OP_FLATTEN = 1
_OP_TTHINNING_OFFSET = 2
_OP_TTHINNING = 3
_OP_DOWNSAMPLE = 4
_OP_POISSONIZE = 5
_OP_LCPRESERVE = 6
_OP_GENERATE_DITHER = 7
_MAX_U64 = 2**64 - 1
_MAX_LISTED = 20


def _sub_seed(seed: int, op: int) -> int:
    return _core.key(seed, TASK_DOMAIN, [op])


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def _checked_u64(seed: object, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _MAX_U64:
        raise MetadataError(f"{what}: expected an integer seed in [0, 2^64 − 1], got {seed!r}")
    return int(seed)


def task_seed(run_seed: int, side: int, position: int) -> int:
    """The seed of one task of a chain: ``key(run_seed, TASK, side, position)`` (SPEC §9).

    Parameters
    ----------
    run_seed
        The run seed.
    side
        0 for the A chain, 1 for the B chain.
    position
        0-based position of the task in its chain.

    Returns
    -------
    int
        A seed in [0, 2⁶⁴ − 1].

    Examples
    --------
    >>> task_seed(7, 1, 0) == task_seed(7, 1, 0) != task_seed(7, 0, 0)
    True
    """
    return _core.key(_checked_u64(run_seed, "run seed"), TASK_DOMAIN, [int(side), int(position)])


# ---------------------------------------------------------------------------------------------
# Data carried between tasks
# ---------------------------------------------------------------------------------------------


def _frozen_gti(gti: object) -> np.ndarray:
    array = np.array(gti, dtype=np.float64).reshape(-1, 2)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class EventSet:
    """Events flowing through a task chain, with the dataset facts later steps need.

    Immutable in practice: tasks build new instances and never write into
    ``events`` (a polars DataFrame) or ``gti`` (a read-only copy made on construction).

    Attributes
    ----------
    events
        One row per event: ``time`` [s, MET], ``wavelength_nm``, ``energy_kev`` and,
        when present, ``pi``/``pha``, ``x``, ``y``, ``bin``, ``lanecount`` and raw
        passthrough columns. ``wavelength_nm`` is what the analysis uses.
    gti
        Good time intervals, an n×2 array of sorted, disjoint [start, stop) [s, MET].
        Empty (0×2) only for the empty input of a generation source.
    mission, instrument
        TELESCOP / INSTRUME ("LIGHTLANE" / "LANESHEET" after ``generate``).
    coordinates
        "sky" or "synthetic"; crop and mask apply only to "sky".
    header
        Header keywords of the source file (a copy; MJDREF, OBS_ID, OBJECT, …).
    mjdref
        MJD of MET 0, or None when unknown.
    source_id
        The dataset the chain started from, if any (provenance: parent_id).
    generation
        The resolved generation (SPEC §7.6) of the last ``generate`` task, else None.
    tasks
        The tasks applied so far, in order (filled by :func:`apply_task`).
    """

    events: pl.DataFrame
    gti: np.ndarray
    mission: str = ""
    instrument: str = ""
    coordinates: Literal["sky", "synthetic"] = "sky"
    header: Mapping[str, Any] = field(default_factory=dict)
    mjdref: float | None = None
    source_id: str | None = None
    generation: GenerationParameters | None = None
    tasks: tuple[TaskSpec, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.events, pl.DataFrame):
            raise TypeError(f"EventSet.events must be a polars DataFrame, got {type(self.events).__name__}")
        missing = [c for c in ("time", "wavelength_nm") if c not in self.events.columns]
        if missing:
            raise DataError(f"event table: missing column(s) {', '.join(map(repr, missing))}")
        object.__setattr__(self, "gti", _frozen_gti(self.gti))
        object.__setattr__(self, "header", dict(self.header))
        object.__setattr__(self, "tasks", tuple(self.tasks))

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_event_list(cls, events: EventList, *, coordinates: Literal["sky", "synthetic"] = "sky",
                        source_id: str | None = None) -> EventSet:
        """Wrap an :class:`~lightlane.ingest.EventList` (its frame is shared, never written)."""
        return cls(events=events.events, gti=events.gti, mission=events.mission, instrument=events.instrument,
                   coordinates=coordinates, header=events.header, mjdref=events.mjdref, source_id=source_id)

    @classmethod
    def from_dataset(cls, workspace: Workspace, dataset_id: str, *, require_xy: bool = False) -> EventSet:
        """Read a registered dataset (SPEC §5.2) with its coordinates and MJDREF."""
        from .datasets import read_dataset

        meta = workspace.load(DatasetMeta, dataset_id)
        events = read_dataset(workspace, dataset_id, require_xy=require_xy)
        base = cls.from_event_list(events, coordinates=meta.coordinates, source_id=dataset_id)
        mission, instrument = meta.mission or base.mission, meta.instrument or base.instrument
        mjdref = meta.time.mjdref if meta.time.mjdref is not None else base.mjdref
        return dataclasses.replace(base, mission=mission, instrument=instrument, mjdref=mjdref)

    @classmethod
    def empty(cls) -> EventSet:
        """The empty input of a chain whose source is a generation (SPEC §9)."""
        frame = pl.DataFrame({"time": np.zeros(0), "wavelength_nm": np.zeros(0), "energy_kev": np.zeros(0)})
        return cls(events=frame, gti=np.zeros((0, 2)), coordinates="synthetic")

    # -- derived facts -----------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self.events.height

    @property
    def exposure_s(self) -> float:
        """Σ GTI lengths [s]."""
        return float(np.sum(self.gti[:, 1] - self.gti[:, 0]))

    @property
    def tstart_s(self) -> float:
        """First GTI start [s, MET]."""
        self._require_gtis()
        return float(self.gti[0, 0])

    @property
    def tstop_s(self) -> float:
        """Last GTI stop [s, MET]."""
        self._require_gtis()
        return float(self.gti[-1, 1])

    @property
    def passthrough_columns(self) -> tuple[str, ...]:
        """Raw columns that lightlane does not interpret."""
        return tuple(c for c in self.events.columns if c not in KNOWN_COLUMNS)

    def _require_gtis(self) -> None:
        if len(self.gti) == 0:
            raise DataError("event set has no good time intervals (empty input of a generation source)")

    def with_events(self, events: pl.DataFrame, gti: np.ndarray | None = None, **changes: Any) -> EventSet:
        """A copy with new events (and optionally GTIs or other fields)."""
        return dataclasses.replace(self, events=events, gti=self.gti if gti is None else gti, **changes)


def _as_event_set(events: EventSet | EventList) -> EventSet:
    if isinstance(events, EventSet):
        return events
    if isinstance(events, EventList):
        return EventSet.from_event_list(events)
    raise TypeError(f"expected an EventSet or EventList, got {type(events).__name__}")


@dataclass(frozen=True, eq=False)
class TaskContext:
    """What a task may use besides its input and arguments.

    Attributes
    ----------
    processing
        The processing parameters of the pipeline (band, selection, min_exposure).
    seed
        The task seed, ``key(run_seed, TASK, side, position)`` (:func:`task_seed`),
        in [0, 2⁶⁴ − 1].
    width_set
        The time-bin width set of the processing [s]; its median is the default
        ``tthinning`` width and ``lcpreserve`` window. May be empty if no task needs it.
    workspace
        Needed by ``generate`` to load its generation; None otherwise.
    source_generation
        The generation id of a generation source: ``generate``'s default generation.
    where
        A prefix for error messages, e.g. ``"pipeline p: a_tasks[1]"``.
    """

    processing: ProcessingParameters
    seed: int
    width_set: np.ndarray = field(default_factory=lambda: np.zeros(0))
    workspace: Workspace | None = None
    source_generation: str | None = None
    where: str = "task"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", _checked_u64(self.seed, f"{self.where}: task seed"))
        widths = np.array(self.width_set, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(widths) & (widths > 0)):
            raise MetadataError(f"{self.where}: the width set must hold positive finite widths [s]")
        widths.setflags(write=False)
        object.__setattr__(self, "width_set", widths)

    def median_width_s(self) -> float:
        """The median of the width set [s] (default tthinning width / lcpreserve window)."""
        if len(self.width_set) == 0:
            raise MetadataError(f"{self.where}: no width set given, so there is no default width")
        return float(np.median(self.width_set))


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _take(frame: pl.DataFrame, indices: np.ndarray) -> pl.DataFrame:
    return frame[np.asarray(indices, dtype=np.int64)]


def _times(events: EventSet) -> np.ndarray:
    return np.ascontiguousarray(events.events["time"].to_numpy(), dtype=np.float64)


def _gti_columns(gti: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(gti[:, 0]), np.ascontiguousarray(gti[:, 1])


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


# ---------------------------------------------------------------------------------------------
# The tasks
# ---------------------------------------------------------------------------------------------


def copy(events: EventSet | EventList) -> EventSet:
    """Identity: the same events and GTIs (a new dataset id is given when written).

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventSet

    Examples
    --------
    >>> copy(event_set).events.equals(event_set.events)  # doctest: +SKIP
    True
    """
    events = _as_event_set(events)
    return events.with_events(events.events.clone())


def prunecolumns(events: EventSet | EventList) -> EventSet:
    """Drop raw passthrough columns, keeping only :data:`KNOWN_COLUMNS`.

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventSet

    Examples
    --------
    >>> prunecolumns(event_set).passthrough_columns  # doctest: +SKIP
    ()
    """
    events = _as_event_set(events)
    return events.with_events(events.events.drop(list(events.passthrough_columns)))


def trange(events: EventSet | EventList, start_s: float, stop_s: float, relative: bool = True) -> EventSet:
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
    EventSet

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
    events = _as_event_set(events)
    if not start_s < stop_s:
        raise MetadataError(f"trange: field 'stop_s': expected number > start_s ({start_s!r}), got {stop_s!r}")
    t_ref = events.tstart_s if relative else 0.0
    offset = _times(events) - t_ref
    keep = (offset >= start_s) & (offset < stop_s)
    lo, hi = t_ref + start_s, t_ref + stop_s
    gti = np.column_stack([np.maximum(events.gti[:, 0], lo), np.minimum(events.gti[:, 1], hi)])
    gti = gti[gti[:, 1] > gti[:, 0]]
    if len(gti) == 0:
        raise DataError(f"trange: window [{lo!r}, {hi!r}) s does not overlap any good time interval "
                        f"([{events.tstart_s!r}, {events.tstop_s!r}] s)")
    return events.with_events(events.events.filter(pl.Series(keep)), gti)


def wrange(events: EventSet | EventList, min_nm: float, max_nm: float) -> EventSet:
    """Keep ``min_nm ≤ λ ≤ max_nm`` (SPEC §1: the band's last bin is closed).

    Parameters
    ----------
    events
        The input; never modified.
    min_nm, max_nm
        The wavelength range [nm], ``0 < min_nm < max_nm``.

    Returns
    -------
    EventSet

    Raises
    ------
    MetadataError
        An empty or non-positive range.

    Examples
    --------
    >>> soft = wrange(event_set, 0.5, 1.0)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    if not 0 < min_nm < max_nm:
        raise MetadataError(f"wrange: expected 0 < min_nm < max_nm, got [{min_nm!r}, {max_nm!r}]")
    wavelength = events.events["wavelength_nm"].to_numpy()
    keep = (wavelength >= min_nm) & (wavelength <= max_nm)
    return events.with_events(events.events.filter(pl.Series(keep)))


def select(events: EventSet | EventList, processing: ProcessingParameters) -> EventSet:
    """Apply the processing selection of SPEC §10.1: crop, mask (sky only), band.

    Parameters
    ----------
    events
        The input; never modified.
    processing
        Supplies crop, mask and band.

    Returns
    -------
    EventSet
        The selected events with the input's columns (no bin column is added).

    Raises
    ------
    DataError
        Crop or mask requested on sky data without x/y.

    Examples
    --------
    >>> selected = select(event_set, processing)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    source = events.source_id or "events"
    selected = select_events(events.events, processing, events.coordinates, source).drop("wbin")
    return events.with_events(selected)


def chandrashift(events: EventSet | EventList) -> EventSet:
    """HRC time-tag fix: stable sort by time, t′ᵢ = tᵢ₊₁ for i < n − 1, drop the last event.

    Every other attribute of event i stays with event i.

    Parameters
    ----------
    events
        The input; never modified.

    Returns
    -------
    EventSet
        n − 1 events (none if the input has none), sorted by time.

    Warns
    -----
    LightlaneWarning
        The instrument is not HRC.

    Examples
    --------
    >>> shifted = chandrashift(hrc_events)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    if "HRC" not in events.instrument.upper():
        warnings.warn(f"chandrashift: instrument {events.instrument!r} is not HRC; the HRC time-tag fix is "
                      "applied anyway", LightlaneWarning, stacklevel=2)
    frame = events.events.sort("time", maintain_order=True)
    if frame.height == 0:
        return events.with_events(frame)
    times = frame["time"].to_numpy()
    shifted = frame.head(frame.height - 1).with_columns(pl.Series("time", times[1:], dtype=frame["time"].dtype))
    return events.with_events(shifted)


def flatten(events: EventSet | EventList, band: Band, seed: int, min_per_bin: int = 1) -> EventSet:
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
    EventSet
        bins·n_min events in the input's order.

    Raises
    ------
    DataError
        n_min < min_per_bin; the message names every bin below it.

    Examples
    --------
    >>> flat = flatten(event_set, processing.band, seed=1)  # doctest: +SKIP
    """
    events = _as_event_set(events)
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
    indices = _core.grouped_subset(bins.astype(np.int64), keep, _sub_seed(seed, _OP_FLATTEN))
    return events.with_events(_take(events.events, indices))


def tthinning(events: EventSet | EventList, width_s: float, seed: int, min_exposure: float = 0.99) -> EventSet:
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
    EventSet
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
    events = _as_event_set(events)
    if not (math.isfinite(width_s) and width_s > 0):
        raise MetadataError(f"tthinning: field 'width_s': expected number > 0, got {width_s!r}")
    tstart, tstop = events.tstart_s, events.tstop_s
    offset = float(_core.uniforms(seed, TASK_DOMAIN, [_OP_TTHINNING_OFFSET], 1)[0]) * width_s
    first_edge = tstart - offset
    n_bins = int(math.floor((tstop - first_edge) / width_s)) + 1
    edges = first_edge + np.arange(n_bins + 1) * width_s
    exposure = np.diff(_covered_before(edges, events.gti)) / width_s
    full = exposure >= min_exposure
    if not full.any():
        raise DataError(f"tthinning: no time bin of width {width_s!r} s is fully exposed "
                        f"(min_exposure {min_exposure!r})")
    index = np.clip(np.floor((_times(events) - first_edge) / width_s), 0, n_bins - 1).astype(np.int64)
    counts = np.bincount(index, minlength=n_bins)
    mean = float(counts[full].mean())
    keep = np.where(counts > mean, _round_half_up(mean), counts).astype(np.int64)
    indices = _core.grouped_subset(index, keep, _sub_seed(seed, _OP_TTHINNING))
    return events.with_events(_take(events.events, indices))


def downsample(events: EventSet | EventList, seed: int, count: int | None = None,
               fraction: float | None = None) -> EventSet:
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
    EventSet
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
    events = _as_event_set(events)
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
    indices = _core.subset_indices(n, m, _sub_seed(seed, _OP_DOWNSAMPLE))
    return events.with_events(_take(events.events, indices))


def poissonize(events: EventSet | EventList, seed: int) -> EventSet:
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
    EventSet
        The same number of events, sorted by time.

    Raises
    ------
    DataError
        Events but no GTI of positive length.

    Examples
    --------
    >>> null = poissonize(event_set, seed=1)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    starts, stops = _gti_columns(events.gti)
    times = _core.uniform_times_in_gtis(starts, stops, events.count, _sub_seed(seed, _OP_POISSONIZE))
    dtype = events.events["time"].dtype
    frame = events.events.with_columns(pl.Series("time", times, dtype=dtype))
    order = np.argsort(times, kind="stable")
    return events.with_events(_take(frame, order))


def lcpreserve(events: EventSet | EventList, window_s: float, seed: int) -> EventSet:
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
    EventSet
        The events stably sorted by time, with permuted spectral attributes.

    Raises
    ------
    MetadataError
        A non-positive window.

    Examples
    --------
    >>> null = lcpreserve(event_set, 100.0, seed=1)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    if not (math.isfinite(window_s) and window_s > 0):
        raise MetadataError(f"lcpreserve: field 'window_s': expected number > 0, got {window_s!r}")
    frame = events.events.sort("time", maintain_order=True)
    if frame.height == 0:
        return events.with_events(frame)
    times = np.ascontiguousarray(frame["time"].to_numpy(), dtype=np.float64)
    source = _core.window_permutation(times, events.tstart_s, window_s, _sub_seed(seed, _OP_LCPRESERVE))
    spectral = [c for c in SPECTRAL_COLUMNS if c in frame.columns]
    permuted = _take(frame.select(spectral), source)
    return events.with_events(frame.with_columns(permuted.get_columns()))


def generate(
    events: EventSet | EventList,
    context: TaskContext,
    generation: str | None = None,
    spectrum_from: Literal["input", "generation"] | None = None,
    time_from: Literal["input", "generation"] | None = None,
) -> EventSet:
    """Replace the events by lanesheet photons (SPEC §7) of a resolved generation.

    The resolved generation is the named one with: spectrum = the apparent-spectrum fit
    (§12) of the input's selected events on the processing band if ``spectrum_from`` is
    "input"; tstart/tstop/GTIs = the input's if ``time_from`` is "input"; band = the
    generation band or else the processing band; seed = the task seed (its low 63 bits,
    the seed range of SPEC §1). Both choices default to "input" when the input has
    events, else "generation". With smearing, the photons' channels are dithered into
    ``wavelength_nm``/``energy_kev`` (stream (key(seed, TASK, 7), DITHER, 0, block)), so
    later tasks and the analysis see the instrument's wavelengths; ``bin`` and
    ``lanecount`` keep the generation's truth.

    Parameters
    ----------
    events
        The input (its events are ignored except for the "input" choices); never modified.
    context
        Supplies the processing, the task seed, the workspace and the default generation.
    generation
        Generation id; defaults to ``context.source_generation``.
    spectrum_from, time_from
        "input" or "generation"; see above.

    Returns
    -------
    EventSet
        Synthetic events (coordinates "synthetic"), with the resolved generation in
        ``generation``.

    Raises
    ------
    MetadataError
        No generation id, no workspace, an unknown generation or an incompatible band.
    DataError
        An "input" choice with an input that has no events (spectrum) or no GTIs (time),
        or an input spectrum that cannot be fitted.

    Examples
    --------
    >>> mimic = generate(event_set, context, generation="sparse")  # doctest: +SKIP
    """
    events = _as_event_set(events)
    where = f"{context.where}: generate"
    generation_id = generation or context.source_generation
    if generation_id is None:
        raise MetadataError(f"{where}: argument 'generation' is required unless the source is a generation")
    if context.workspace is None:
        raise MetadataError(f"{where}: a workspace is needed to load generation {generation_id!r}")
    has_events = events.count > 0
    spectrum_from = spectrum_from or ("input" if has_events else "generation")
    time_from = time_from or ("input" if has_events else "generation")
    processing = context.processing
    template = context.workspace.load(GenerationParameters, generation_id)
    changes: dict[str, Any] = {"band": generation_band(template, processing), "seed": context.seed & MAX_SEED}
    if spectrum_from == "input":
        if not has_events:
            raise DataError(f"{where}: spectrum_from 'input' but the input has no events")
        selected = select_events(events.events, processing, events.coordinates, events.source_id or "events")
        fit = fit_spectrum(selected["wavelength_nm"].to_numpy(), processing.band, events.exposure_s)
        changes["spectrum"] = fit.spectrum
    if time_from == "input":
        if len(events.gti) == 0:
            raise DataError(f"{where}: time_from 'input' but the input has no good time intervals")
        gtis = tuple((float(a), float(b)) for a, b in events.gti)
        changes["time"] = GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis)
    resolved = dataclasses.replace(template, **changes)
    photons = simulate(resolved, processing)
    if "pi" in photons.columns:
        calibration = get_calibration(resolved.instrument.calibration)
        energy, wavelength = calibration.dither(photons["pi"].to_numpy(), _sub_seed(context.seed, _OP_GENERATE_DITHER), 0)
        photons = photons.with_columns(pl.Series("wavelength_nm", wavelength), pl.Series("energy_kev", energy))
        photons = photons.filter(pl.Series(np.isfinite(wavelength)))
    gti = np.asarray(resolved.time.intervals(), dtype=np.float64).reshape(-1, 2)
    return EventSet(
        events=photons, gti=gti, mission="LIGHTLANE", instrument="LANESHEET", coordinates="synthetic",
        header={"TELESCOP": "LIGHTLANE", "INSTRUME": "LANESHEET"},
        mjdref=events.mjdref if time_from == "input" else None, source_id=events.source_id,
        generation=resolved, tasks=events.tasks,
    )


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------


def _width(value: float | None, context: TaskContext) -> float:
    return context.median_width_s() if value is None else float(value)


TASK_FUNCTIONS: dict[str, Callable[[EventSet, Any, TaskContext], EventSet]] = {
    "copy": lambda ev, args, ctx: copy(ev),
    "prunecolumns": lambda ev, args, ctx: prunecolumns(ev),
    "trange": lambda ev, args, ctx: trange(ev, args.start_s, args.stop_s, args.relative),
    "wrange": lambda ev, args, ctx: wrange(
        ev,
        ctx.processing.band.min_nm if args.min_nm is None else args.min_nm,
        ctx.processing.band.max_nm if args.max_nm is None else args.max_nm,
    ),
    "select": lambda ev, args, ctx: select(ev, ctx.processing),
    "chandrashift": lambda ev, args, ctx: chandrashift(ev),
    "flatten": lambda ev, args, ctx: flatten(ev, ctx.processing.band, ctx.seed, args.min_per_bin),
    "tthinning": lambda ev, args, ctx: tthinning(ev, _width(args.width_s, ctx), ctx.seed,
                                                 ctx.processing.min_exposure),
    "downsample": lambda ev, args, ctx: downsample(ev, ctx.seed, args.count, args.fraction),
    "poissonize": lambda ev, args, ctx: poissonize(ev, ctx.seed),
    "lcpreserve": lambda ev, args, ctx: lcpreserve(ev, _width(args.window_s, ctx), ctx.seed),
    "generate": lambda ev, args, ctx: generate(ev, ctx, args.generation, args.spectrum_from, args.time_from),
}


def apply_task(task: TaskSpec, events: EventSet | EventList, context: TaskContext) -> EventSet:
    """Apply one task (SPEC §8) and record it in the result's ``tasks``.

    Parameters
    ----------
    task
        The validated task and its arguments.
    events
        An :class:`EventSet` or an :class:`~lightlane.ingest.EventList`; never modified.
    context
        Processing, task seed, width set, workspace.

    Returns
    -------
    EventSet
        A new event set; ``tasks`` = the input's tasks + (task,).

    Raises
    ------
    MetadataError
        An unknown task or an unusable argument.
    DataError
        The task cannot be applied to these events (e.g. an empty flatten bin).

    Examples
    --------
    >>> context = TaskContext(processing, seed=task_seed(run_seed, 1, 0), width_set=widths)  # doctest: +SKIP
    >>> b = apply_task(TaskSpec.of("poissonize"), a, context)  # doctest: +SKIP
    """
    events = _as_event_set(events)
    function = TASK_FUNCTIONS.get(task.name)
    if function is None:
        raise MetadataError(f"{context.where}: unknown task {task.name!r} (choose one of "
                            f"{', '.join(sorted(TASK_FUNCTIONS))})")
    result = function(events, task.args, context)
    return dataclasses.replace(result, tasks=(*events.tasks, task))


def apply_chain(
    tasks: Sequence[TaskSpec],
    events: EventSet | EventList,
    processing: ProcessingParameters,
    run_seed: int,
    side: int,
    *,
    width_set: np.ndarray | Sequence[float] = (),
    workspace: Workspace | None = None,
    source_generation: str | None = None,
    where: str = "chain",
) -> EventSet:
    """Apply a task chain; task p gets the seed ``key(run_seed, TASK, side, p)``.

    Parameters
    ----------
    tasks
        The chain, in order.
    events
        The chain's input (``EventSet.empty()`` for a generation source); never modified.
    processing
        The processing parameters of the pipeline.
    run_seed
        The run seed.
    side
        0 for A, 1 for B.
    width_set
        The processing's width set [s] (default tthinning width / lcpreserve window).
    workspace, source_generation
        For ``generate``.
    where
        Prefix of error messages; each task adds ``[position] name``.

    Returns
    -------
    EventSet

    Examples
    --------
    >>> b = apply_chain([TaskSpec.of("poissonize")], a, processing, run_seed, 1, width_set=widths)  # doctest: +SKIP
    """
    current = _as_event_set(events)
    for position, task in enumerate(tasks):
        context = TaskContext(processing=processing, seed=task_seed(run_seed, side, position), width_set=width_set,
                              workspace=workspace, source_generation=source_generation,
                              where=f"{where}[{position}] {task.name}")
        current = apply_task(task, current, context)
    return current
