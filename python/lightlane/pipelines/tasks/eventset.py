"""The data carried between tasks: :class:`EventSet` and the frame helpers tasks share."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from ...datasets.registered import read_dataset
from ...events.reading import EventList
from ...exceptions import DataError
from ...metadata import DatasetMeta, GenerationParameters, TaskSpec
from ...store.workspace import Workspace

__all__ = ["KNOWN_COLUMNS", "EventSet", "as_event_set", "take_rows", "event_times"]

#: Columns that carry meaning for lightlane; every other column is raw passthrough.
KNOWN_COLUMNS: tuple[str, ...] = ("time", "wavelength_nm", "energy_kev", "pi", "pha", "x", "y", "bin", "lanecount")


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
    time_tag_fix
        "hrc-next-event" once the HRC time-tag fix is in the times (at read or by
        ``chandrashift``), else None.
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
    time_tag_fix: str | None = None

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
        """Wrap an :class:`~lightlane.events.EventList` (its frame is shared, never written)."""
        return cls(events=events.events, gti=events.gti, mission=events.mission, instrument=events.instrument,
                   coordinates=coordinates, header=events.header, mjdref=events.mjdref, source_id=source_id,
                   time_tag_fix=events.time_tag_fix)

    @classmethod
    def from_dataset(cls, workspace: Workspace, dataset_id: str, *, require_xy: bool = False) -> EventSet:
        """Read a registered dataset (SPEC §5.2) with its coordinates and MJDREF."""
        meta = workspace.load(DatasetMeta, dataset_id)
        events = read_dataset(workspace, dataset_id, require_xy=require_xy)
        base = cls.from_event_list(events, coordinates=meta.coordinates, source_id=dataset_id)
        mission, instrument = meta.mission or base.mission, meta.instrument or base.instrument
        mjdref = meta.time.mjdref if meta.time.mjdref is not None else base.mjdref
        return dataclasses.replace(base, mission=mission, instrument=instrument, mjdref=mjdref,
                                   time_tag_fix=meta.time_tag_fix)

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


def as_event_set(events: EventSet | EventList) -> EventSet:
    """``events`` as an :class:`EventSet` (an :class:`EventList` is wrapped)."""
    if isinstance(events, EventSet):
        return events
    if isinstance(events, EventList):
        return EventSet.from_event_list(events)
    raise TypeError(f"expected an EventSet or EventList, got {type(events).__name__}")


def take_rows(frame: pl.DataFrame, indices: np.ndarray) -> pl.DataFrame:
    """The rows of ``frame`` at ``indices``, in that order."""
    return frame[np.asarray(indices, dtype=np.int64)]


def event_times(events: EventSet) -> np.ndarray:
    """The event times as a contiguous float64 array (what the Rust core takes)."""
    return np.ascontiguousarray(events.events["time"].to_numpy(), dtype=np.float64)
