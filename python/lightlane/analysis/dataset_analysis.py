"""Analysing one dataset (SPEC §10): selection, time × wavelength binning with exposure,
the Monte-Carlo chunk table (cached by content) and the apparent spectrum.

A and B of a pipeline go through exactly this function with the same processing and
analysis seed (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl

from ..datasets.registered import read_dataset
from ..events.event_list import EventList
from ..events.selection import selected_bins, selected_counts
from ..events.spectrum_fit import SpectrumFit, fit_apparent_spectrum
from ..exceptions import DataError
from ..memo import remembered
from ..metadata import DatasetMeta, ProcessingParameters
from ..store import cache
from ..store.catalog import Catalog
from ..store.workspace import Workspace
from .binning import TimeBinning, bin_events, width_set
from .chunks import WidthCounts, chunk_table
from .p3 import P3Result, p3_dt, p3_statistic

__all__ = ["Analysis", "analyze_events", "analyze_dataset"]


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the analysis of one dataset produced."""

    dataset_id: str
    processing: ProcessingParameters
    analysis_seed: int
    n_selected: int
    gti: np.ndarray
    exposure_s: float
    widths_s: np.ndarray
    binnings: tuple[TimeBinning, ...]
    chunks: pl.DataFrame
    chunks_key: str
    cache_hit: bool
    selected_counts: np.ndarray  # selected events per wavelength bin (int64)
    p3: P3Result | None = None  # SPEC §11.9, when asked for and computable
    p3_undefined: str | None = None  # why P3 could not be computed, when asked for

    @property
    def usable_widths(self) -> int:
        return sum(b.usable for b in self.binnings)

    @cached_property
    def fit(self) -> SpectrumFit | None:
        """The apparent spectrum (SPEC §12) of the selected events, fitted on first use (figures only),
        or None with a warning when it cannot be fitted."""
        return fit_apparent_spectrum(self.dataset_id, self.selected_counts, self.processing.band, self.exposure_s)


def analyze_events(
    events: EventList,
    processing: ProcessingParameters,
    analysis_seed: int,
    *,
    dataset_id: str,
    cache_root: Path | None = None,
    events_hash: str | None = None,
    p3: bool = False,
) -> Analysis:
    """Select, bin and sample chunks of one event list.

    The chunk table is cached under ``cache_root`` (``cache/`` of a workspace) by the
    content key of SPEC §10.7; a hit equals a recomputation. ``events_hash`` (from the
    catalog) lets the events be read without their x/y columns. ``p3`` also computes the
    P3 statistic (SPEC §11.9) of the selected events; when it cannot be computed (a span
    shorter than 16·dt) the reason is kept instead.

    Raises
    ------
    DataError
        No selected events, or no width with L consecutive fully exposed bins.
    """
    # Selection marks dropped events instead of copying the kept ones (SPEC §20 memory).
    wbin = selected_bins(events.events, processing, events.coordinates, dataset_id)
    per_bin = selected_counts(wbin, processing.band.bins)
    n_selected = int(per_bin.sum())
    if n_selected == 0:
        raise DataError(f"{dataset_id}: no events left after selection on processing '{processing.id}'")
    gti = events.gti
    widths = width_set(processing)
    binnings = tuple(bin_events(
        events.events["time"].to_numpy(), wbin, processing.band, widths, analysis_seed,
        events.tstart_s, events.tstop_s, gti, processing.min_exposure, processing.chunk_length,
    ))
    events_hash = events_hash or events.events_hash()
    key = cache.chunk_key(events_hash, processing, analysis_seed)
    table = cache.load(key, cache_root) if cache_root is not None else None
    hit = table is not None
    if table is None:
        w_data = np.flatnonzero(binnings[0].counts.sum(axis=0) > 0).astype(np.uint16)  # bins with ≥ 1 event
        counts = [WidthCounts(b.width_s, b.origin_s, b.counts, b.valid, b.valid_starts) for b in binnings]
        table = chunk_table(counts, w_data, processing.band, processing.chunk_length, processing.chunk_count,
                            analysis_seed)
        if cache_root is not None:
            cache.store(key, table, cache_root)
    exposure = float(np.sum(gti[:, 1] - gti[:, 0]))
    p3_result, p3_undefined = _p3_of(events, wbin, processing, events_hash) if p3 else (None, None)
    return Analysis(
        dataset_id=dataset_id, processing=processing, analysis_seed=analysis_seed, n_selected=n_selected, gti=gti,
        exposure_s=exposure, widths_s=widths, binnings=binnings, chunks=table, chunks_key=key.digest,
        cache_hit=hit, selected_counts=per_bin, p3=p3_result, p3_undefined=p3_undefined,
    )


#: The last P3 results of this process, by events hash and processing: P3 draws nothing, so a
#: dataset analysed again (a pipeline's A in each of its baseline runs) has the same result.
_P3_RESULTS: dict[tuple[str, str], tuple[P3Result | None, str | None]] = {}


def _p3_of(events: EventList, wbin: np.ndarray, processing: ProcessingParameters,
           events_hash: str) -> tuple[P3Result | None, str | None]:
    """P3 of the selected events (SPEC §11.9), or why it cannot be computed."""

    def compute() -> tuple[P3Result | None, str | None]:
        try:
            return (p3_statistic(
                events.events["time"].to_numpy(), wbin, processing.band, events.gti,
                p3_dt(processing, events), log_bins=processing.p3_log_bins, slope_min=processing.p3_slope_min,
                slope_max=processing.p3_slope_max, slope_count=processing.p3_slope_count), None)
        except DataError as error:
            return None, str(error)

    return remembered(_P3_RESULTS, (events_hash, processing.processing_hash()), compute, 2)


def analyze_dataset(workspace: Workspace, dataset_id: str, processing: ProcessingParameters | str,
                    analysis_seed: int | None = None) -> Analysis:
    """Analyse a workspace dataset (read, check its hash, analyse with the cache).

    ``processing`` is a processing or its id; the analysis seed defaults to the processing seed.
    """
    meta = workspace.load(DatasetMeta, dataset_id)
    if isinstance(processing, str):
        processing = workspace.load(ProcessingParameters, processing)
    needs_xy = meta.coordinates == "sky" and (processing.crop is not None or processing.mask is not None)
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.dataset_row(dataset_id)
    events_hash = row["events_hash"] if row is not None else None
    # Only time and wavelength (and x/y for crop/mask) are read when the hash is known.
    columns = (("x", "y") if needs_xy else ()) if events_hash else None
    events = read_dataset(workspace, dataset_id, require_xy=needs_xy, columns=columns)
    seed = processing.seed if analysis_seed is None else analysis_seed
    return analyze_events(events, processing, seed, dataset_id=dataset_id, cache_root=workspace.root / "cache",
                          events_hash=events_hash)
