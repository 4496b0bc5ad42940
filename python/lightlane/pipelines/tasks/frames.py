"""Small frame helpers the tasks share."""

from __future__ import annotations

import numpy as np
import polars as pl

from ...events import EventList

__all__ = ["take_rows", "event_times"]


def take_rows(frame: pl.DataFrame, indices: np.ndarray) -> pl.DataFrame:
    """The rows of ``frame`` at ``indices``, in that order."""
    return frame[np.asarray(indices, dtype=np.int64)]


def event_times(events: EventList) -> np.ndarray:
    """The event times as a contiguous float64 array (what the Rust core takes)."""
    return np.ascontiguousarray(events.events["time"].to_numpy(), dtype=np.float64)
