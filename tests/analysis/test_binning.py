"""Time × wavelength binning and exposure (SPEC §10.2–10.3; §21 properties 1 and 16).

Every kernel is checked against an independent numpy computation: counts against
numpy.histogram2d with the same edges, exposure against a per-bin interval overlap,
chunk starts against a brute-force scan.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lightlane import DataError, LightlaneError, LightlaneWarning, MetadataError, _core
from lightlane.analysis.binning import TimeBinning, bin_events, width_set
from lightlane.events.selection import wavelength_bins
from lightlane.metadata import Band, ListWidths, ProcessingParameters, RandomWidths

WIDTHS_DOMAIN, OFFSETS_DOMAIN = 4, 5
TSTART = 3.0e8 + 0.37  # MET-sized, so edge rounding is exercised
TSTOP = TSTART + 20_000.0
BAND = Band(0.1, 1.0, 100)
WIDTHS = np.array([7.3, 20.0, 33.3333, 123.456, 299.9])
# Rounding of one edge e0 + j·Δ is at most half an ulp of the times.
TIME_ULP = float(np.spacing(TSTOP))


def full_gti() -> np.ndarray:
    return np.array([[TSTART, TSTOP]])


def edges_of(widths: np.ndarray, seed: int, gti: np.ndarray = None) -> list[np.ndarray]:
    """The time edges bin_events uses, from a call without events."""
    gti = full_gti() if gti is None else gti
    binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, widths, seed, TSTART, TSTOP, gti, 0.99, 4)
    return [b.edges for b in binned]


def random_events(rng: np.random.Generator, n: int, time_edges: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Uniform times and wavelengths plus events exactly on time and wavelength edges (and λ = max_nm)."""
    time = rng.uniform(TSTART, TSTOP, n)
    on_edges = np.concatenate([e[(e >= TSTART) & (e <= TSTOP)] for e in time_edges] + [np.array([TSTART, TSTOP])])
    time = np.sort(np.concatenate([time, on_edges]))
    wavelength = rng.uniform(BAND.min_nm, BAND.max_nm, time.size)
    band_edges = BAND.edges_nm()
    picks = rng.choice(time.size, 2000, replace=False)
    wavelength[picks[:1000]] = BAND.max_nm
    wavelength[picks[1000:]] = band_edges[rng.integers(0, BAND.bins + 1, 1000)]
    return time, wavelength


def test_band_edges_equal_linspace_and_max_lands_in_last_bin() -> None:
    assert np.array_equal(BAND.edges_nm(), np.linspace(0.1, 1.0, 101))
    wavelength = np.array([0.1, 0.55, 1.0, BAND.edges_nm()[37]])
    bins = wavelength_bins(wavelength, BAND)
    assert bins.tolist() == [0, 50, 99, 37]
    assert np.array_equal(np.bincount(bins, minlength=BAND.bins), np.histogram(wavelength, BAND.edges_nm())[0])


def test_counts_equal_histogram2d_including_edges() -> None:
    rng = np.random.default_rng(20240601)
    time_edges = edges_of(WIDTHS, seed=11)
    time, wavelength = random_events(rng, 200_000, time_edges)
    wbin = wavelength_bins(wavelength, BAND)
    assert np.all(wbin >= 0)
    binned = bin_events(time, wbin.astype(np.uint16), BAND, WIDTHS, 11, TSTART, TSTOP, full_gti(), 0.99, 12)
    for b, edges in zip(binned, time_edges):
        assert np.array_equal(b.edges, edges)
        reference, _, _ = np.histogram2d(time, wavelength, bins=[b.edges, BAND.edges_nm()])
        assert b.counts.dtype == np.uint32 and b.counts.shape == (b.n_time_bins, BAND.bins)
        assert np.array_equal(b.counts, reference.astype(np.uint32)), f"width {b.width_s}"
        assert int(b.counts.sum()) == time.size  # nothing dropped


def test_grid_follows_the_offset_stream() -> None:
    binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS, 77, TSTART, TSTOP, full_gti(), 0.99, 4)
    for k, b in enumerate(binned):
        u = _core.uniforms(77, OFFSETS_DOMAIN, [k], 1)[0]
        assert b.index == k and b.offset_s == u * WIDTHS[k]
        assert b.edges[0] == TSTART - u * WIDTHS[k]
        assert b.n_time_bins == int(np.floor((TSTOP - b.edges[0]) / WIDTHS[k])) + 1
        assert b.edges[0] <= TSTART and b.edges[-1] >= TSTOP


def exposure_reference(edges: np.ndarray, gti: np.ndarray, width: float) -> np.ndarray:
    lo, hi = edges[:-1, None], edges[1:, None]
    overlap = np.clip(np.minimum(hi, gti[None, :, 1]) - np.maximum(lo, gti[None, :, 0]), 0, None)
    return overlap.sum(axis=1) / width


GAPPY_GTI = np.array([
    [TSTART, TSTART + 4000.0],
    [TSTART + 4100.5, TSTART + 9000.0],
    [TSTART + 9000.25, TSTART + 9003.0],  # a sliver between two gaps
    [TSTART + 9500.0, TSTART + 15_000.0],
    [TSTART + 15_000.5, TSTOP],  # a half-second gap
])


def test_exposure_sums_to_gti_exposure_and_full_bins_are_one() -> None:
    exposure_s = float(np.sum(GAPPY_GTI[:, 1] - GAPPY_GTI[:, 0]))
    binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS, 5, TSTART, TSTOP, GAPPY_GTI, 0.99, 12)
    for b in binned:
        edges = b.edges
        tolerance = 8 * TIME_ULP / b.width_s  # a few rounded edges per bin
        assert np.allclose(b.exposure, exposure_reference(edges, GAPPY_GTI, b.width_s), rtol=0, atol=tolerance)
        # Σ E·Δ = exposure_s: the span covers every GTI.
        assert abs(float(np.sum(b.exposure)) * b.width_s - exposure_s) < 8 * TIME_ULP * b.n_time_bins
        inside = np.zeros(b.n_time_bins, dtype=bool)
        for start, stop in GAPPY_GTI:
            inside |= (edges[:-1] >= start) & (edges[1:] <= stop)
        assert inside.any() and np.all(b.exposure[inside] == 1.0)
        assert np.array_equal(b.valid, b.exposure >= 0.99)


def test_exposure_within_a_partial_span() -> None:
    """Σ E·Δ counts only the GTI time inside the binned span."""
    gti = np.array([[TSTART - 500.0, TSTART + 1000.0], [TSTART + 2000.0, TSTOP + 800.0]])
    binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS, 6, TSTART, TSTOP, gti, 0.5, 4)
    for b in binned:
        clipped = np.clip(gti, b.edges[0], b.edges[-1])
        within = float(np.sum(clipped[:, 1] - clipped[:, 0]))
        assert abs(float(np.sum(b.exposure)) * b.width_s - within) < 8 * TIME_ULP * b.n_time_bins


def test_bins_across_a_gap_are_invalid_and_no_chunk_touches_them() -> None:
    binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS, 5, TSTART, TSTOP, GAPPY_GTI, 0.99, 12)
    gaps = np.column_stack([GAPPY_GTI[:-1, 1], GAPPY_GTI[1:, 0]])
    for b in binned:
        lo, hi = b.edges[:-1], b.edges[1:]
        for gap_start, gap_stop in gaps:
            missing = np.clip(np.minimum(hi, gap_stop) - np.maximum(lo, gap_start), 0, None)
            across = missing > 0.01 * b.width_s * (1 + 1e-9)
            assert not b.valid[across].any()
            if gap_stop - gap_start > 0.02 * b.width_s:  # at most two bins share it, one misses ≥ half
                assert across.any()
        length = 12
        brute = [s for s in range(b.n_time_bins - length + 1) if b.valid[s:s + length].all()]
        assert b.valid_starts.dtype == np.uint32 and b.valid_starts.tolist() == brute
        for s in b.valid_starts:
            assert b.valid[s:s + length].all()


def test_valid_starts_brute_force() -> None:
    # ~300 GTIs with gaps of 0–10 s: 1 s bins form runs of every length, some cut short
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.uniform(TSTART, TSTOP, 300))
    gaps = rng.uniform(0.0, 10.0, cuts.size)
    gti = np.column_stack([np.concatenate([[TSTART], np.minimum(cuts + gaps, TSTOP)]), np.append(cuts, TSTOP)])
    gti = gti[gti[:, 0] < gti[:, 1]]
    for length in (1, 2, 5, 12):
        [b] = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, [1.0], 3, TSTART, TSTOP, gti, 0.99, length)
        assert 0 < np.count_nonzero(~b.valid) < b.valid.size
        brute = [s for s in range(b.valid.size - length + 1) if b.valid[s:s + length].all()]
        assert b.valid_starts.dtype == np.uint32 and b.valid_starts.tolist() == brute
    # 50 s bins never see 12 fully exposed in a row: that width has no start and is skipped
    with pytest.warns(LightlaneWarning, match="1 of 2 widths"):
        _, wide = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, [1.0, 50.0], 3, TSTART, TSTOP, gti, 0.99, 12)
    assert wide.valid_starts.size == 0 and not wide.usable


def test_thread_count_does_not_change_the_binning() -> None:
    rng = np.random.default_rng(8)
    time = np.sort(rng.uniform(TSTART, TSTOP, 300_001))
    wbin = rng.integers(0, BAND.bins, time.size).astype(np.uint16)

    def run() -> list[TimeBinning]:
        return bin_events(time, wbin, BAND, WIDTHS, 9, TSTART, TSTOP, GAPPY_GTI, 0.99, 12)

    try:
        runs = []
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            runs.append(run())
    finally:
        _core.set_threads(None)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert a.counts.tobytes() == b.counts.tobytes()
            assert a.exposure.tobytes() == b.exposure.tobytes()
            assert a.valid_starts.tobytes() == b.valid_starts.tobytes()


def test_another_seed_changes_offsets_and_widths() -> None:
    empty = (np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS)
    one = bin_events(*empty, 1, TSTART, TSTOP, full_gti(), 0.99, 4)
    two = bin_events(*empty, 2, TSTART, TSTOP, full_gti(), 0.99, 4)
    assert all(a.offset_s != b.offset_s for a, b in zip(one, two))
    assert np.array_equal([b.offset_s for b in one],
                          [b.offset_s for b in bin_events(*empty, 1, TSTART, TSTOP, full_gti(), 0.99, 4)])
    p1 = ProcessingParameters(id="p", seed=1)
    p2 = ProcessingParameters(id="p", seed=2)
    assert np.array_equal(width_set(p1), width_set(ProcessingParameters(id="q", seed=1)))
    assert not np.array_equal(width_set(p1), width_set(p2))


def test_width_set_follows_the_widths_stream() -> None:
    uniform = ProcessingParameters(id="p", seed=42, time_bins=RandomWidths(from_s=20.0, to_s=300.0, count=30))
    u = _core.uniforms(42, WIDTHS_DOMAIN, [], 30)
    expected = np.sort(20.0 + u * (300.0 - 20.0))
    assert np.array_equal(width_set(uniform), expected)
    log = ProcessingParameters(id="p", seed=42, time_bins=RandomWidths(from_s=20.0, to_s=300.0, count=30, distribution="log-uniform"))
    expected_log = np.sort(np.exp(np.log(20.0) + u * (np.log(300.0) - np.log(20.0))))
    assert np.allclose(width_set(log), expected_log, rtol=4 * np.finfo(float).eps, atol=0)
    listed = ProcessingParameters(id="p", time_bins=ListWidths((60.0, 20.0, 45.5)))
    assert width_set(listed).tolist() == [20.0, 45.5, 60.0]


@pytest.mark.parametrize("distribution", ["uniform", "log-uniform"])
def test_width_choices_are_uniform(distribution: str) -> None:
    processing = ProcessingParameters(id="p", seed=2024, time_bins=RandomWidths(from_s=20.0, to_s=300.0, count=10_000, distribution=distribution))
    widths = width_set(processing)
    assert np.all(np.diff(widths) >= 0) and widths.min() >= 20.0 and widths.max() <= 300.0
    if distribution == "uniform":
        observed, _ = np.histogram(widths, bins=np.linspace(20.0, 300.0, 11))
    else:
        observed, _ = np.histogram(np.log(widths), bins=np.linspace(np.log(20.0), np.log(300.0), 11))
    assert observed.sum() == 10_000
    assert stats.chisquare(observed).pvalue > 1e-3


def test_widths_longer_than_the_data_name_time_bins() -> None:
    with pytest.raises(MetadataError, match="time_bins"):
        bin_events(np.empty(0), np.empty(0, np.uint16), BAND, [3000.0, 5000.0], 0, TSTART, TSTOP, full_gti(), 0.99, 12)
    with pytest.raises(MetadataError, match="time_bins"):
        bin_events(np.empty(0), np.empty(0, np.uint16), BAND, [30_000.0], 0, TSTART, TSTOP, full_gti(), 0.99, 4)


def test_skipped_widths_warn_and_no_usable_width_is_a_data_error() -> None:
    with pytest.warns(LightlaneWarning, match="skipped"):
        binned = bin_events(np.empty(0), np.empty(0, np.uint16), BAND, [20.0, 1900.0], 0, TSTART, TSTOP,
                            full_gti(), 0.99, 12)
    assert [b.usable for b in binned] == [True, False]
    choppy = np.column_stack([TSTART + np.arange(0, 20_000, 100.0), TSTART + np.arange(0, 20_000, 100.0) + 90.0])
    with pytest.raises(DataError, match="no width has L = 12 consecutive fully exposed bins"):
        bin_events(np.empty(0), np.empty(0, np.uint16), BAND, WIDTHS[1:], 0, TSTART, TSTOP, choppy, 0.99, 12)


def test_bad_input_raises_errors() -> None:
    time = np.array([TSTART + 1.0, TSTART + 2.0, TSTART + 3.0])
    wbin = np.array([0, 1, 2], np.uint16)
    args = (BAND, WIDTHS, 0, TSTART, TSTOP, full_gti(), 0.99, 12)
    with pytest.raises(DataError, match="sorted"):
        bin_events(time[::-1], wbin, *args)
    with pytest.raises(DataError, match="sorted"):
        bin_events(np.array([TSTART, np.nan, TSTOP]), wbin, *args)
    with pytest.raises(DataError, match="outside"):
        bin_events(time + 30_000.0, wbin, *args)
    with pytest.raises(DataError, match="wavelength bin"):
        bin_events(time, np.array([0, 1, 100], np.uint16), *args)
    with pytest.raises(DataError, match="wbin"):
        bin_events(time, np.array([0, -1, 2]), *args)
    with pytest.raises(DataError):
        bin_events(time, wbin[:2], *args)
    with pytest.raises(DataError, match="GTI"):
        bin_events(time, wbin, BAND, WIDTHS, 0, TSTART, TSTOP, [[TSTART, TSTART + 50], [TSTART + 10, TSTOP]], 0.99, 12)
    with pytest.raises(DataError, match="GTI"):
        bin_events(time, wbin, BAND, WIDTHS, 0, TSTART, TSTOP, [[TSTART + 50, TSTART + 10]], 0.99, 12)
    with pytest.raises(MetadataError, match="time_bins"):
        bin_events(time, wbin, BAND, [20.0, -1.0], 0, TSTART, TSTOP, full_gti(), 0.99, 12)
    with pytest.raises(MetadataError, match="min_exposure"):
        bin_events(time, wbin, BAND, WIDTHS, 0, TSTART, TSTOP, full_gti(), 0.0, 12)
    with pytest.raises(MetadataError, match="chunk_length"):
        bin_events(time, wbin, BAND, WIDTHS, 0, TSTART, TSTOP, full_gti(), 0.99, 0)
    with pytest.raises(MetadataError, match="seed"):
        bin_events(time, wbin, BAND, WIDTHS, -1, TSTART, TSTOP, full_gti(), 0.99, 12)
    with pytest.raises(DataError):
        bin_events(time, wbin, BAND, WIDTHS, 0, TSTOP, TSTART, full_gti(), 0.99, 12)


def test_extension_rejects_bad_input_without_crashing() -> None:
    wbin = np.array([0, 1], np.uint16)

    def call(time: np.ndarray = np.array([1.0, 2.0]), gti_start: np.ndarray = np.array([0.0]),
             gti_stop: np.ndarray = np.array([100.0]), **changes: object) -> object:
        spec = {"n_wbins": 2, "widths_s": np.array([10.0, 20.0]), "analysis_seed": 0, "tstart_s": 0.0,
                "tstop_s": 100.0, "min_exposure": 0.99, "chunk_length": 4}
        spec.update(changes)
        return lambda: _core.bin_events(time, wbin, gti_start, gti_stop, spec)  # type: ignore[arg-type]

    calls = [
        call(n_wbins=0),
        call(widths_s=np.array([1e-300, 1.0]), tstop_s=1e10),
        call(widths_s=np.array([1e-9, 1.0]), tstop_s=1e9),
        call(widths_s=np.array([np.inf, 1.0])),
        call(widths_s=np.array([0.0])),
        call(tstart_s=100.0, tstop_s=0.0),
        call(min_exposure=0.0),
        call(chunk_length=0),
        call(time=np.array([2.0, 1.0])),
        call(gti_start=np.array([0.0]), gti_stop=np.array([])),
        call(gti_start=np.array([np.nan]), gti_stop=np.array([1.0])),
        lambda: _core.width_set(0, 300.0, 20.0, 10, False),
        lambda: _core.width_set(0, 20.0, 300.0, 0, False),
        lambda: _core.width_set(0, 0.0, 300.0, 10, True),
    ]
    for bad in calls:
        with pytest.raises(LightlaneError):
            bad()  # type: ignore[operator]
    assert len(call()()) == 2  # type: ignore[operator]


def test_binning_is_read_only() -> None:
    [b] = bin_events([TSTART + 1.0], [3], BAND, [20.0], 0, TSTART, TSTOP, full_gti(), 0.99, 12)
    with pytest.raises(ValueError):
        b.counts[0, 0] = 7
    assert b.counts[0, 3] + b.counts[1, 3] == 1
