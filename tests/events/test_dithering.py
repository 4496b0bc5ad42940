"""Deterministic per-row dithering (SPEC §6.3, §21 property 12) and thread invariance."""

from __future__ import annotations

import numpy as np
import pytest

from lightlane import _core, read_events
from lightlane.events.calibrations import HC_KEV_NM, get_calibration


@pytest.fixture
def acis_file(make_events):
    n = 150_000  # three dithering blocks of 65 536 rows
    times = np.linspace(0.5, 999.5, n)
    channels = (1 + np.arange(n) * 7 % 1024).astype(np.int32)
    return make_events(times=times, columns={"PI": ("J", channels)}, gtis=[(0.0, 400.0), (600.0, 1000.0)])


def test_rereads_are_identical(acis_file) -> None:
    a = read_events(acis_file, dataset_id="obs1")
    b = read_events(acis_file, dataset_id="obs1")
    assert a.events.equals(b.events)


def test_energies_lie_in_their_channel(acis_file) -> None:
    events = read_events(acis_file, dataset_id="obs1").events
    pi = events["pi"].to_numpy()
    lo, hi = get_calibration("chandra-acis").channel_interval_kev(pi)
    energy = events["energy_kev"].to_numpy()
    assert np.all((lo <= energy) & (energy < hi))
    # uniform in energy inside the channel: the fractional position has mean 1/2
    u = (energy - lo) / (hi - lo)
    assert abs(u.mean() - 0.5) < 5 / np.sqrt(12 * len(u))


def test_wavelength_times_energy_is_hc(acis_file) -> None:
    events = read_events(acis_file, dataset_id="obs1").events
    product = events["wavelength_nm"].to_numpy() * events["energy_kev"].to_numpy()
    assert np.max(np.abs(product / HC_KEV_NM - 1.0)) <= 1e-15


def test_seed_and_dataset_id_change_the_draws(acis_file) -> None:
    base = read_events(acis_file, dataset_id="obs1").events["energy_kev"].to_numpy()
    other_seed = read_events(acis_file, dataset_id="obs1", dither_seed=1).events["energy_kev"].to_numpy()
    other_id = read_events(acis_file, dataset_id="obs2").events["energy_kev"].to_numpy()
    assert np.mean(base == other_seed) < 0.01 and np.mean(base == other_id) < 0.01


def test_draws_follow_raw_rows_not_filtering(acis_file) -> None:
    """Row r takes draw r mod 65 536 of block r // 65 536, whatever the GTIs keep."""
    events = read_events(acis_file, dataset_id="obs1")
    channels = (1 + np.arange(150_000) * 7 % 1024).astype(np.int64)
    key = _core.str_u64("obs1")
    u = np.concatenate([_core.uniforms(0, 1, [key, block], 65_536) for block in range(3)])[:150_000]
    lo, hi = get_calibration("chandra-acis").channel_interval_kev(channels)
    expected = lo + u * (hi - lo)
    times = np.linspace(0.5, 999.5, 150_000)
    kept = (times < 400.0) | (times >= 600.0)
    assert np.array_equal(events.events["energy_kev"].to_numpy(), expected[kept])


def test_thread_count_does_not_change_output(acis_file) -> None:
    results = []
    try:
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            assert _core.thread_count() == threads
            results.append(read_events(acis_file, dataset_id="obs1").events)
    finally:
        _core.set_threads(None)
    assert all(r.equals(results[0]) for r in results[1:])


def test_invalid_channels_are_dropped_with_a_warning(make_events) -> None:
    from lightlane import LightlaneWarning

    channels = np.array([0, 5, 2000, 7, 1024, 1025], dtype=np.int32)
    path = make_events(times=np.linspace(1, 10, 6), columns={"PI": ("J", channels)})
    with pytest.warns(LightlaneWarning, match="dropped 3 events"):
        events = read_events(path)
    assert events.events["pi"].to_list() == [5, 7, 1024]
    assert events.read.dropped_invalid_energy == 3
