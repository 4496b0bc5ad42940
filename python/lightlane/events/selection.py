"""Event selection, identical for A and B (SPEC §10.1): crop, bright-pixel mask, band.

Wavelength bins follow SPEC §5.1 and numpy.histogram: half-open [lo, hi) except the
last bin, which is closed, so λ = max_nm lands in the last bin and nothing is dropped.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..exceptions import DataError
from ..metadata import Band, Crop, Mask, ProcessingParameters
from .event_list import EventList
from .spectrum_fit import SpectrumFit, fit_binned_spectrum

__all__ = ["UNSELECTED", "select_events", "selected_bins", "selected_counts", "wavelength_bins", "crop_mask",
           "bright_pixel_mask", "fit_selected_spectrum"]

_PIXEL_OFFSET = 1 << 31
#: wbin of an event the selection dropped (binning skips it); see rust/binning.rs.
UNSELECTED = np.uint16(0xFFFF)
_BLOCK = 1 << 22


def wavelength_bins(wavelength_nm: np.ndarray, band: Band) -> np.ndarray:
    """Bin index of each wavelength (−1 outside the band), exactly as numpy.histogram bins."""
    edges = band.edges_nm()
    index = np.searchsorted(edges, wavelength_nm, side="right") - 1
    index[wavelength_nm == edges[-1]] = band.bins - 1
    index[(wavelength_nm < edges[0]) | (wavelength_nm > edges[-1]) | ~np.isfinite(wavelength_nm)] = -1
    return index


def crop_mask(x: np.ndarray, y: np.ndarray, crop: Crop) -> np.ndarray:
    """Events inside the circle (x − x₀)² + (y − y₀)² ≤ r²."""
    return (x - crop.x_px) ** 2 + (y - crop.y_px) ** 2 <= crop.radius_px**2


def _pixel_keys(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    return px.astype(np.int64) * (1 << 32) + (py.astype(np.int64) + _PIXEL_OFFSET)


def bright_pixel_mask(x: np.ndarray, y: np.ndarray, mask: Mask) -> np.ndarray:
    """Events to keep: those farther than ``half_size_px`` (in x or y) from EVERY bright pixel.

    The ``top_pixels`` brightest integer pixels (⌊x⌋, ⌊y⌋) are ranked by count, ties
    broken by (x, y) ascending.
    """
    px, py = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    pixels, counts = np.unique(np.column_stack([px, py]), axis=0, return_counts=True)
    order = np.lexsort((pixels[:, 1], pixels[:, 0], -counts))[: mask.top_pixels]
    bright = pixels[order]
    h = mask.half_size_px
    offsets = np.arange(-h, h + 1)
    dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
    near_x = (bright[:, 0][:, None] + dx.reshape(1, -1)).reshape(-1)
    near_y = (bright[:, 1][:, None] + dy.reshape(1, -1)).reshape(-1)
    return ~np.isin(_pixel_keys(px, py), np.unique(_pixel_keys(near_x, near_y)))


def selected_bins(events: pl.DataFrame, processing: ProcessingParameters, coordinates: str = "sky",
                  source: str = "events") -> np.ndarray:
    """The wavelength bin (u16) of every event, UNSELECTED where crop, mask or band drop it.

    The same selection as :func:`select_events` without copying any column: a 10⁸-event
    analysis then holds only its time and wavelength columns plus these 2 bytes per event.
    """
    keep = None
    if coordinates == "sky" and (processing.crop is not None or processing.mask is not None):
        if "x" not in events.columns or "y" not in events.columns:
            raise DataError(f"{source}: column 'x'/'y' missing, needed by processing '{processing.id}' crop/mask")
        x, y = events["x"].to_numpy(), events["y"].to_numpy()
        keep = np.ones(events.height, dtype=bool)
        if processing.crop is not None:
            keep &= crop_mask(x, y, processing.crop)
        if processing.mask is not None:
            keep &= bright_pixel_mask(x, y, processing.mask)
    wavelength = events["wavelength_nm"].to_numpy()
    out = np.empty(events.height, dtype=np.uint16)
    for start in range(0, events.height, _BLOCK):  # blocks bound the int64 temporaries
        part = wavelength_bins(wavelength[start:start + _BLOCK], processing.band)
        if keep is not None:
            part[~keep[start:start + _BLOCK]] = -1
        out[start:start + _BLOCK] = np.where(part >= 0, part, UNSELECTED)
    return out


def selected_counts(wbin: np.ndarray, bins: int) -> np.ndarray:
    """Selected events per wavelength bin (int64) from :func:`selected_bins`' output.

    Counted in blocks, so a 10⁸-event analysis never holds an 8-byte copy of its bins.
    """
    counts = np.zeros(bins, dtype=np.int64)
    for start in range(0, wbin.size, _BLOCK):  # UNSELECTED (0xFFFF) lands past `bins` and is cut off
        counts += np.bincount(wbin[start:start + _BLOCK], minlength=int(UNSELECTED) + 1)[:bins]
    return counts


def select_events(events: pl.DataFrame, processing: ProcessingParameters, coordinates: str = "sky",
                  source: str = "events") -> pl.DataFrame:
    """Apply crop and mask (sky coordinates only) and the band; add the bin index ``wbin`` (u16).

    Raises
    ------
    DataError
        Crop or mask requested but the events have no ``x``/``y`` columns.
    """
    keep = np.ones(events.height, dtype=bool)
    if coordinates == "sky" and (processing.crop is not None or processing.mask is not None):
        if "x" not in events.columns or "y" not in events.columns:
            raise DataError(f"{source}: column 'x'/'y' missing, needed by processing '{processing.id}' crop/mask")
        x, y = events["x"].to_numpy(), events["y"].to_numpy()
        if processing.crop is not None:
            keep &= crop_mask(x, y, processing.crop)
        if processing.mask is not None:
            keep &= bright_pixel_mask(x, y, processing.mask)
    bins = wavelength_bins(events["wavelength_nm"].to_numpy(), processing.band)
    keep &= bins >= 0
    return events.filter(pl.Series(keep)).with_columns(pl.Series("wbin", bins[keep].astype(np.uint16)))


def fit_selected_spectrum(events: EventList, processing: ProcessingParameters) -> SpectrumFit:
    """The apparent spectrum (SPEC §12) of the events a processing selects: select, count per bin, fit.

    Raises
    ------
    DataError
        Crop or mask without x/y columns, or a spectrum that cannot be fitted.
    """
    wbin = selected_bins(events.events, processing, events.coordinates, events.label)
    counts = selected_counts(wbin, processing.band.bins)
    return fit_binned_spectrum(counts, processing.band, events.exposure_s, events_in_total=events.count)
