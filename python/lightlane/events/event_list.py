"""The one event container, :class:`EventList`: what a file read gives and what every task passes on."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from ..exceptions import DataError
from ..metadata import GenerationParameters, TaskSpec
from ..metadata.dataset import CalibrationName
from ..store.hashing import events_hash

__all__ = ["KNOWN_COLUMNS", "EventList", "FileRead"]

#: Columns that carry meaning for lightlane; every other column is raw passthrough.
KNOWN_COLUMNS: tuple[str, ...] = ("time", "wavelength_nm", "energy_kev", "pi", "pha", "x", "y", "bin", "lanecount")


@dataclass(frozen=True)
class FileRead:
    """What reading one event file found: kept for onboarding's DatasetMeta and for messages.

    Attributes
    ----------
    path
        The file read.
    calibration
        The energy calibration applied (SPEC §6.2).
    channel_column
        "pi"/"pha" when wavelengths come from channels, else None.
    raw_rows
        Rows of the events HDU before any filtering.
    dropped_outside_gti, dropped_invalid_energy, dropped_other_ccds
        Events removed by the GTIs, by E ≤ 0 or an invalid channel, by the per-CCD GTI rule.
    warnings
        The warnings issued while reading.
    omitted
        Optional columns left out on request (see ``read_events(columns=...)``).
    time_shift_s
        TIMEZERO + (0.5 − TIMEPIXR)·TIMEDEL added to every time.
    energy_unit
        The ENERGY column's unit ("eV"/"keV") when energies come from it.
    checksum
        "verified", "absent" or "skipped" (SPEC §6.1).
    """

    path: Path
    calibration: CalibrationName
    channel_column: Literal["pi", "pha"] | None
    raw_rows: int
    dropped_outside_gti: int
    dropped_invalid_energy: int
    warnings: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    dropped_other_ccds: int = 0
    time_shift_s: float = 0.0
    energy_unit: Literal["eV", "keV"] | None = None
    checksum: Literal["verified", "absent", "skipped"] = "skipped"


def _frozen_gti(gti: object) -> np.ndarray:
    array = np.array(gti, dtype=np.float64).reshape(-1, 2)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class EventList:
    """Events with the dataset facts every later step needs.

    Immutable in practice: tasks build new instances and never write into ``events``
    (a polars DataFrame) or ``gti`` (a read-only copy made on construction).

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
        The dataset these events came from, if any (provenance: parent_id).
    generation
        The resolved generation (SPEC §7.6) of the last ``generate`` task, else None.
    tasks
        The tasks applied so far, in order.
    time_tag_fix
        "hrc-next-event" once the HRC time-tag fix is in the times, else None.
    read
        What reading the file found, for events read from a file; None otherwise.
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
    time_tag_fix: Literal["hrc-next-event"] | None = None
    read: FileRead | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.events, pl.DataFrame):
            raise TypeError(f"EventList.events must be a polars DataFrame, got {type(self.events).__name__}")
        missing = [c for c in ("time", "wavelength_nm") if c not in self.events.columns]
        if missing:
            raise DataError(f"event table: missing column(s) {', '.join(map(repr, missing))}")
        object.__setattr__(self, "gti", _frozen_gti(self.gti))
        object.__setattr__(self, "header", dict(self.header))
        object.__setattr__(self, "tasks", tuple(self.tasks))

    @classmethod
    def empty(cls) -> EventList:
        """The empty input of a chain whose source is a generation (SPEC §9)."""
        frame = pl.DataFrame({"time": np.zeros(0), "wavelength_nm": np.zeros(0), "energy_kev": np.zeros(0)})
        return cls(events=frame, gti=np.zeros((0, 2)), coordinates="synthetic")

    @property
    def label(self) -> str:
        """How messages name these events: the dataset id, else the file read, else "events"."""
        return self.source_id or (str(self.read.path) if self.read is not None else "events")

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
            raise DataError("event list has no good time intervals (empty input of a generation source)")

    def with_events(self, events: pl.DataFrame, gti: np.ndarray | None = None, **changes: Any) -> EventList:
        """A copy with new events (and optionally GTIs or other fields); file-read facts are dropped."""
        return dataclasses.replace(self, events=events, gti=self.gti if gti is None else gti, read=None, **changes)

    def events_hash(self) -> str:
        """SHA-256 of time, wavelength, x, y and the GTI bounds in stored (time) order (SPEC §4.4)."""
        if self.read is not None and {"x", "y"} & set(self.read.omitted):
            raise DataError(f"{self.read.path}: events_hash needs the x/y columns, which this read left out")
        times = self.events["time"].to_numpy()
        # A stable sort moves nothing when the times are already non-decreasing (files always are).
        order = None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
        arrays: list[np.ndarray | None] = []
        for column in ("time", "wavelength_nm", "x", "y"):
            if column not in self.events.columns:
                arrays.append(None)
                continue
            values = self.events[column].to_numpy()
            arrays.append(values if order is None else values[order])
        return events_hash([*arrays, self.gti[:, 0], self.gti[:, 1]])
