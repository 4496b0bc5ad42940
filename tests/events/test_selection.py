"""Selection (SPEC §10.1): crop, the any-bright-pixel mask and the band."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lightlane import DataError
from lightlane.events.selection import bright_pixel_mask, select_events, wavelength_bins
from lightlane.metadata import Band, Crop, Mask, ProcessingParameters


def processing(**changes) -> ProcessingParameters:
    return ProcessingParameters(id="p", **changes)


def test_band_bins_equal_numpy_histogram() -> None:
    band = Band(0.1, 1.0, 100)
    rng = np.random.default_rng(3)
    wavelengths = np.concatenate([rng.uniform(0.05, 1.05, 20_000), band.edges_nm(), [1.0, 0.1]])
    index = wavelength_bins(wavelengths, band)
    inside = index >= 0
    counts = np.bincount(index[inside], minlength=band.bins)
    expected, _ = np.histogram(wavelengths, bins=band.edges_nm())
    assert np.array_equal(counts, expected)
    assert index[-2] == 99 and index[-1] == 0  # λ = max_nm lands in the last bin
    assert np.array_equal(band.edges_nm(), np.linspace(0.1, 1.0, 101))


def test_mask_drops_events_near_any_bright_pixel() -> None:
    # two bright pixels far apart, plus faint background pixels
    x = np.array([10.2] * 50 + [40.7] * 30 + [10.5 + 3, 10.5 + 4, 40.5 - 3, 25.5, 10.5 + 3])
    y = np.array([10.2] * 50 + [40.1] * 30 + [10.5, 10.5, 40.5 + 3, 25.5, 10.5 + 3])
    keep = bright_pixel_mask(x, y, Mask(top_pixels=2, half_size_px=3))
    # within 3 px of (10, 10) or of (40, 40): dropped; (14, 10) and (25, 25) kept
    assert keep.tolist() == [False] * 80 + [False, True, False, True, False]


def test_mask_ties_are_broken_by_position() -> None:
    x = np.array([5.5, 5.5, 2.5, 2.5, 9.5])
    y = np.array([5.5, 5.5, 2.5, 2.5, 9.5])
    keep = bright_pixel_mask(x, y, Mask(top_pixels=1, half_size_px=0))
    assert keep.tolist() == [True, True, False, False, True]  # (2, 2) wins the tie with (5, 5)


def test_select_applies_crop_mask_and_band_in_order() -> None:
    events = pl.DataFrame({
        "time": np.arange(6.0),
        "wavelength_nm": [0.5, 0.5, 0.5, 2.0, 0.5, 1.0],
        "x": [0.0, 3.0, 10.0, 0.0, 0.0, 0.5],
        "y": [0.0, 4.0, 0.0, 0.0, 0.0, 0.5],
    })
    selected = select_events(events, processing(crop=Crop(0.0, 0.0, 5.0)))
    assert selected["time"].to_list() == [0.0, 1.0, 4.0, 5.0]  # (10, 0) outside the crop, 2 nm outside the band
    assert selected["wbin"].to_list() == [44, 44, 44, 99]
    synthetic = select_events(events, processing(crop=Crop(0.0, 0.0, 5.0)), coordinates="synthetic")
    assert synthetic["time"].to_list() == [0.0, 1.0, 2.0, 4.0, 5.0]  # crop/mask apply only to sky coordinates


def test_crop_without_positions_names_the_columns() -> None:
    events = pl.DataFrame({"time": [0.0], "wavelength_nm": [0.5]})
    with pytest.raises(DataError, match="column 'x'/'y' missing"):
        select_events(events, processing(mask=Mask()), source="f.fits")


def test_selected_bins_marks_exactly_what_select_events_keeps() -> None:
    from lightlane.events.selection import UNSELECTED, selected_bins

    rng = np.random.default_rng(5)
    n = 50_000
    events = pl.DataFrame({
        "time": np.sort(rng.uniform(0, 1000, n)),
        "wavelength_nm": rng.uniform(0.05, 1.1, n),
        "x": rng.normal(100, 5, n),
        "y": rng.normal(100, 5, n),
    })
    for p in (processing(), processing(crop=Crop(100.0, 100.0, 6.0), mask=Mask(top_pixels=5, half_size_px=1))):
        marked = selected_bins(events, p)
        selected = select_events(events, p)
        kept = marked != UNSELECTED
        assert np.array_equal(events["time"].to_numpy()[kept], selected["time"].to_numpy())
        assert np.array_equal(marked[kept], selected["wbin"].to_numpy())
