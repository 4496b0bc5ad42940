"""Analysing one dataset (SPEC §10): time × wavelength binning with exposure, chunk metrics, and the
whole per-dataset analysis (binning, cached chunk table, apparent spectrum), and P3's spectral-timing
stack of the selected events (SPEC §11.9).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .binning import TimeBinning, bin_events, width_set
    from .chunks import CHUNK_COLUMNS, METRICS, WidthCounts, chunk_table, valid_starts
    from .dataset_analysis import Analysis, analyze_dataset, analyze_events
    from .p3 import P3Result, p3_dt, p3_statistic

__all__ = [
    "CHUNK_COLUMNS", "METRICS", "Analysis", "TimeBinning", "WidthCounts", "analyze_dataset", "analyze_events",
    "bin_events", "chunk_table", "valid_starts", "width_set", "P3Result", "p3_dt", "p3_statistic",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".binning": ["TimeBinning", "bin_events", "width_set"],
    ".chunks": ["CHUNK_COLUMNS", "METRICS", "WidthCounts", "chunk_table", "valid_starts"],
    ".dataset_analysis": ["Analysis", "analyze_dataset", "analyze_events"],
    ".p3": ["P3Result", "p3_dt", "p3_statistic"],
})
