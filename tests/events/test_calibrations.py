"""Calibrations (SPEC §6.2, §21 property 13)."""

from __future__ import annotations

import numpy as np
import pytest

from lightlane import LightlaneWarning, MetadataError, read_events
from lightlane.events.calibrations import HC_KEV_NM, detect_calibration, get_calibration

from ..helpers import SHARED_DATA

# (calibration, channel, lo keV, hi keV): the channel ↔ energy table of SPEC §6.2
TABLE = [
    ("chandra-acis", 1, 0.0, 0.0146),
    ("chandra-acis", 2, 0.0146, 0.0292),
    ("chandra-acis", 1024, 14.9358, 14.9504),
    ("xmm-epic", 1, 0.0005, 0.0015),
    ("xmm-epic", 1000, 0.9995, 1.0005),
    ("xmm-epic", 20479, 20.4785, 20.4795),
    ("nustar", 0, 1.6, 1.64),
    ("nustar", 10, 2.0, 2.04),
    ("nustar", 4095, 165.4, 165.44),
]


@pytest.mark.parametrize(("name", "channel", "lo", "hi"), TABLE)
def test_channel_intervals(name: str, channel: int, lo: float, hi: float) -> None:
    cal = get_calibration(name)
    got_lo, got_hi = cal.channel_interval_kev([channel])
    assert got_lo[0] == pytest.approx(lo, abs=1e-12) and got_hi[0] == pytest.approx(hi, abs=1e-12)
    centre = 0.5 * (got_lo + got_hi)
    assert cal.energy_to_channel(centre)[0] == channel


@pytest.mark.parametrize(("name", "outside"), [("chandra-acis", [0, 1025]), ("nustar", [-1, 4096]), ("xmm-epic", [0, 20480])])
def test_channels_outside_range_have_no_interval(name: str, outside: list[int]) -> None:
    lo, hi = get_calibration(name).channel_interval_kev(outside)
    assert np.all(np.isnan(lo)) and np.all(np.isnan(hi))


def test_energy_to_channel_clips() -> None:
    cal = get_calibration("chandra-acis")
    assert list(cal.energy_to_channel([-1.0, 100.0])) == [1, 1024]


def test_linear_calibration() -> None:
    cal = get_calibration("linear", {"offset_kev": 0.5, "slope_kev": 0.01})
    lo, hi = cal.channel_interval_kev([0, 10])
    assert lo.tolist() == pytest.approx([0.5, 0.6]) and hi.tolist() == pytest.approx([0.51, 0.61])
    with pytest.raises(MetadataError, match="slope_kev"):
        get_calibration("linear", {"offset_kev": 0.0, "slope_kev": 0.0})
    with pytest.raises(MetadataError, match="calibration_params"):
        get_calibration("linear")


def test_hrc_warning_fires() -> None:
    with pytest.warns(LightlaneWarning, match="HRC has essentially no energy resolution"):
        get_calibration("chandra-hrc")


def test_unknown_calibration() -> None:
    with pytest.raises(MetadataError, match="unknown calibration 'rosat'"):
        get_calibration("rosat")


@pytest.mark.parametrize(
    ("header", "columns", "expected"),
    [
        ({"TELESCOP": "CHANDRA", "INSTRUME": "ACIS"}, {"time", "energy", "pi"}, "energy-column"),
        ({"TELESCOP": "CHANDRA", "INSTRUME": "ACIS"}, {"time", "pi"}, "chandra-acis"),
        ({"TELESCOP": "CHANDRA", "INSTRUME": "HRC-I"}, {"time", "pi"}, "chandra-hrc"),
        ({"TELESCOP": "XMM", "INSTRUME": "EPN"}, {"time", "pi"}, "xmm-epic"),
        ({"TELESCOP": "NuSTAR", "INSTRUME": "FPMA"}, {"time", "pi"}, "nustar"),
        ({"TELESCOP": "LIGHTLANE", "LLSCHEMA": 1}, {"time", "wavelength"}, "stored-wavelength"),
    ],
)
def test_detection(header: dict, columns: set, expected: str) -> None:
    assert detect_calibration(header, columns, "f.fits") == expected


def test_detection_failure_asks_for_calibration() -> None:
    with pytest.raises(MetadataError, match="--calibration"):
        detect_calibration({"TELESCOP": "ROSAT"}, {"time", "pi"}, "f.fits")


def test_hrc_file_warns_on_read(make_events) -> None:
    path = make_events(header={"INSTRUME": "HRC-S"})
    with pytest.warns(LightlaneWarning, match="HRC"):
        events = read_events(path)
    assert events.read.calibration == "chandra-hrc"


needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")


def _independent_gti_count(path, time_column: str = "TIME") -> tuple[int, np.ndarray]:
    from astropy.io import fits

    with fits.open(path) as hdul:
        times = np.asarray(hdul["EVENTS"].data[time_column], dtype=float)
        gti = hdul["GTI"].data
        inside = np.zeros(len(times), bool)
        for start, stop in zip(gti["START"], gti["STOP"]):
            inside |= (times >= start) & (times < stop)
        return int(inside.sum()), inside


@needs_shared
def test_shared_chandra_acis_file() -> None:
    path = SHARED_DATA / "chandra_test.fits"
    events = read_events(path)
    expected, inside = _independent_gti_count(path, "time")
    assert events.read.raw_rows == 4612 and expected == 4608
    assert events.events.height == expected
    assert (events.mission, events.instrument, events.read.calibration) == ("CHANDRA", "ACIS", "energy-column")
    from astropy.io import fits

    with fits.open(path) as hdul:
        energy_kev = np.asarray(hdul["EVENTS"].data["energy"], dtype=float)[inside] / 1000.0
    assert np.array_equal(events.events["energy_kev"].to_numpy(), energy_kev)
    assert events.events["energy_kev"].min() == pytest.approx(0.16706, abs=1e-4)
    assert events.events["energy_kev"].max() == pytest.approx(17.944, abs=1e-3)
    # with the PI channels instead: energies inside ACIS channel intervals, ≤ 1024 × 14.6 eV
    by_pi = read_events(path, "chandra-acis")
    assert by_pi.events.height == expected
    assert 0.0 < by_pi.events["energy_kev"].min() and by_pi.events["energy_kev"].max() < 1024 * 0.0146


@needs_shared
def test_shared_nustar_file() -> None:
    path = SHARED_DATA / "monol_testA.evt"
    events = read_events(path)
    expected, _ = _independent_gti_count(path)
    assert events.events.height == expected == 1000
    assert events.read.calibration == "nustar" and events.mission == "NuSTAR"
    energy = events.events["energy_kev"].to_numpy()
    pi = events.events["pi"].to_numpy()
    assert np.all(energy >= 1.6 + 0.04 * pi) and np.all(energy < 1.64 + 0.04 * pi)
    assert 1.6 <= energy.min() and energy.max() < 1.64 + 0.04 * 4095
    assert events.mjdref == pytest.approx(55197.00076601852)
    assert np.allclose(events.events["wavelength_nm"].to_numpy() * energy, HC_KEV_NM, rtol=1e-15, atol=0)
