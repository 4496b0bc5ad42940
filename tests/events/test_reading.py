"""Reading event files (SPEC §6.1) and its errors (SPEC §21 property 14)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from lightlane import DataError, LightlaneWarning, MetadataError, UnsortedTimesError, _core, read_events
from lightlane.events.reading import merge_intervals


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_several_gti_extensions_are_intersected(make_events) -> None:
    extra = fits.BinTableHDU.from_columns(
        [fits.Column(name="START", format="D", array=[250.0, 900.0]), fits.Column(name="STOP", format="D", array=[350.0, 900.0])],
        name="STDGTI04",
    )
    path = make_events(gtis=[(0.0, 100.0), (300.0, 500.0)], extra_hdus=[extra])
    events = read_events(path)
    assert events.gti.tolist() == [[300.0, 350.0]]  # never the union, which overstates exposure
    times = events.events["time"].to_numpy()
    assert np.all((times >= 300.0) & (times < 350.0))
    assert events.events.height + events.read.dropped_outside_gti == 200
    assert events.exposure_s == 50.0
    only = read_events(path, gti_hdu="STDGTI04")
    assert only.gti.tolist() == [[250.0, 350.0]]


def test_merge_intervals() -> None:
    merged = merge_intervals(np.array([[5, 6], [0, 2], [1, 3], [3, 4], [7, 7]]))
    assert merged.tolist() == [[0, 4], [5, 6]]


def test_timezero_is_added_per_hdu(make_events) -> None:
    path = make_events(header={"TIMEZERO": 10.0})
    events = read_events(path)
    assert events.events["time"].min() == pytest.approx(11.0)
    assert events.gti.tolist() == [[10.0, 1010.0]]


def test_mjdref_from_integer_and_fraction(make_events) -> None:
    path = make_events(header={"MJDREF": None})
    with fits.open(path, mode="update") as hdul:
        del hdul["EVENTS"].header["MJDREF"]
        hdul["EVENTS"].header["MJDREFI"] = 55197
        hdul["EVENTS"].header["MJDREFF"] = 0.5
    assert read_events(path).mjdref == 55197.5


def test_missing_gti_uses_tstart_tstop_with_warning(make_events) -> None:
    path = make_events(gtis=None)
    with pytest.warns(LightlaneWarning, match="no GTI extension"):
        events = read_events(path)
    assert events.gti.tolist() == [[0.0, 1000.0]]


def test_pha_is_used_with_warning(make_events) -> None:
    path = make_events(columns={"PHA": ("J", np.full(200, 100, dtype=np.int32))})
    with pytest.warns(LightlaneWarning, match="PHA"):
        events = read_events(path)
    assert events.read.channel_column == "pha"


def test_sort_times_sorts_in_memory(make_events) -> None:
    times = np.linspace(1, 999, 200)[::-1].copy()
    path = make_events(times=times)
    before = sha(path)
    events = read_events(path, sort_times=True)
    assert np.all(np.diff(events.events["time"].to_numpy()) >= 0)
    assert sha(path) == before


def test_events_hdu_fallback_warns(make_events) -> None:
    path = make_events(events_name="PHOTONS")
    with pytest.warns(LightlaneWarning, match="no EVENTS extension"):
        read_events(path)


def test_passthrough_columns(make_events) -> None:
    columns = {"PI": ("J", np.full(200, 50, dtype=np.int32)), "CCD_ID": ("I", np.full(200, 7, dtype=np.int16))}
    events = read_events(make_events(columns=columns), passthrough=True)
    assert events.events["ccd_id"].to_list() == [7] * 200


ERROR_CASES = {
    "missing TIME": (dict(times=False), "column 'TIME'"),
    "no energy column": (dict(columns={"X": ("E", np.zeros(200, dtype=np.float32))}), "no ENERGY, PI or PHA"),
    "zero events": (dict(times=np.zeros(0), columns={"PI": ("J", np.zeros(0, dtype=np.int32))}), "no events"),
    "all outside GTIs": (dict(gtis=[(2000.0, 3000.0)]), "no events left"),
    "NaN time": (dict(times=np.r_[1.0, np.nan, 3.0], columns={"PI": ("J", np.array([5, 6, 7], dtype=np.int32))}),
                 "non-finite time at row 2"),
    "unsorted times": (dict(times=np.array([1.0, 3.0, 2.0]), columns={"PI": ("J", np.array([5, 6, 7], dtype=np.int32))}),
                       "not non-decreasing at row 3"),
    "string channel": (dict(columns={"PI": ("5A", np.array(["abc"] * 200))}), "expected a numeric column"),
    "fractional channel": (dict(columns={"PI": ("D", np.full(200, 1.5))}), "expected integer channels"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_ingestion_errors_name_file_and_column(make_events, case: str) -> None:
    kwargs, pattern = ERROR_CASES[case]
    if kwargs.get("times") is False:
        kwargs = dict(kwargs, times=False, columns={"PI": ("J", np.ones(10, dtype=np.int32))})
    path = make_events(name=f"case_{case.replace(' ', '_')}.fits", **kwargs)
    before = sha(path)
    with pytest.raises(DataError, match=pattern) as info:
        read_events(path)
    assert str(path) in str(info.value)
    assert sha(path) == before


def test_missing_file() -> None:
    with pytest.raises(DataError, match="file not found"):
        read_events("/nonexistent/events.fits")


def test_not_a_fits_file(tmp_path) -> None:
    path = tmp_path / "notes.fits"
    path.write_text("hello")
    with pytest.raises(DataError, match="notes.fits"):
        read_events(path)


def test_undetectable_calibration(make_events) -> None:
    with pytest.raises(MetadataError, match="--calibration"):
        read_events(make_events(header={"TELESCOP": "ROSAT"}))


def test_require_xy(make_events) -> None:
    with pytest.raises(DataError, match="column 'X'"):
        read_events(make_events(), require_xy=True)


def test_gzip_is_read_transparently(make_events, tmp_path) -> None:
    import gzip

    path = make_events()
    zipped = tmp_path / "events.fits.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    assert read_events(zipped, dataset_id="d").events.equals(read_events(path, dataset_id="d").events)


def _paths_agree(path, **kwargs) -> None:
    """The Rust fast path and the general numpy path give identical events."""
    fast = read_events(path, dataset_id="same", **kwargs)
    general = read_events(path, dataset_id="same", passthrough=True, **kwargs)  # passthrough forces numpy
    assert fast.events.equals(general.events.select(fast.events.columns))
    assert (fast.read.dropped_outside_gti, fast.read.dropped_invalid_energy) == (general.read.dropped_outside_gti,
                                                                       general.read.dropped_invalid_energy)


@pytest.mark.parametrize("storage", ["J", "I", "K", "B"])
def test_fast_and_general_paths_agree_for_channels(make_events, storage) -> None:
    n = 140_000  # three dithering blocks
    channels = (np.arange(n) * 7919) % (250 if storage == "B" else 1100)
    dtype = {"J": np.int32, "I": np.int16, "K": np.int64, "B": np.uint8}[storage]
    columns = {"PI": (storage, channels.astype(dtype)), "X": ("E", np.linspace(0, 10, n).astype(np.float32)),
               "Y": ("D", np.linspace(5, 6, n))}
    path = make_events(times=np.linspace(0.5, 999.5, n), columns=columns, gtis=[(0.0, 300.0), (310.0, 999.0)])
    with pytest.warns(LightlaneWarning, match="dropped"):
        _paths_agree(path)


def test_fast_and_general_paths_agree_for_xmm_channel_zero(make_events) -> None:
    # channel 0 covers [−0.5, 0.5) eV: the draw decides whether E > 0
    channels = np.where(np.arange(5000) % 2 == 0, 0, 700).astype(np.int32)
    path = make_events(times=np.linspace(1, 999, 5000), columns={"PI": ("J", channels)}, header={"TELESCOP": "XMM"})
    with pytest.warns(LightlaneWarning, match="dropped"):
        _paths_agree(path)


def test_fast_and_general_paths_agree_for_energy_column(make_events) -> None:
    energy = np.r_[np.linspace(100, 9000, 999), -5.0].astype(np.float32)
    path = make_events(times=np.linspace(1, 999, 1000), columns={"ENERGY": ("E", energy)})
    with pytest.warns(LightlaneWarning, match="dropped 1 events"):
        _paths_agree(path)


def test_scaled_columns_use_the_general_path(tmp_path) -> None:
    # PI stored as I with TZERO = 100: the physical value is 100 + stored
    header = fits.Header({"TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "TSTART": 0.0, "TSTOP": 1000.0})
    columns = [fits.Column(name="TIME", format="D", array=np.linspace(1, 999, 200)),
               fits.Column(name="PI", format="I", bzero=100, array=np.arange(200) + 100)]
    path = tmp_path / "scaled.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, header=header, name="EVENTS")]).writeto(path)
    with fits.open(path) as hdul:
        assert hdul["EVENTS"].header["TZERO2"] == 100
    with pytest.warns(LightlaneWarning, match="no GTI extension"):
        events = read_events(path)
    assert events.events["pi"].to_list() == list(range(100, 300))


def test_sort_times_agrees_with_presorted_file(make_events) -> None:
    n = 1000
    times = np.linspace(1, 999, n)
    channels = (np.arange(n) % 900 + 1).astype(np.int32)
    shuffled = np.r_[times[500:], times[:500]]
    shuffled_channels = np.r_[channels[500:], channels[:500]]
    events = read_events(make_events(times=shuffled, columns={"PI": ("J", shuffled_channels)}), sort_times=True,
                         dataset_id="s")
    assert np.array_equal(events.events["time"].to_numpy(), times)
    assert np.array_equal(events.events["pi"].to_numpy(), channels)


def test_reading_only_some_columns(make_events) -> None:
    n = 3000
    columns = {"PI": ("J", (np.arange(n) % 900 + 1).astype(np.int32)), "X": ("E", np.ones(n, dtype=np.float32)),
               "Y": ("E", np.ones(n, dtype=np.float32))}
    path = make_events(times=np.linspace(1, 999, n), columns=columns)
    full = read_events(path, dataset_id="c")
    lean = read_events(path, dataset_id="c", columns=())
    assert lean.events.columns == ["time", "wavelength_nm"]
    assert lean.events.equals(full.events.select("time", "wavelength_nm"))
    with pytest.raises(DataError, match="events_hash needs the x/y columns"):
        lean.events_hash()
    with_xy = read_events(path, dataset_id="c", columns=("x", "y", "energy_kev"))
    assert with_xy.events.columns == ["time", "wavelength_nm", "energy_kev", "x", "y"]
    assert with_xy.events_hash() == full.events_hash()
    # the general (numpy) path honours the same selection
    general = read_events(path, dataset_id="c", columns=(), passthrough=True)
    assert general.events.select("time", "wavelength_nm").equals(lean.events)


ROW = np.dtype([("time", ">f8"), ("pi", ">i4"), ("x", ">f4")])  # big-endian, as in FITS


def raw_rows(n: int, times: np.ndarray | None = None) -> np.ndarray:
    rows = np.zeros(n, dtype=ROW)
    rows["time"] = np.arange(n, dtype=np.float64) * 0.01 if times is None else times
    rows["pi"] = np.arange(n) % 1000 + 1
    rows["x"] = np.arange(n) % 777
    return rows


def ingest_spec(rows: int) -> _core.IngestSpec:
    return {"row_bytes": ROW.itemsize, "rows": rows, "time_field": {"offset": 0, "code": "f8"}, "timezero_s": 0.0,
            "energy_mode": "channels", "energy_field": {"offset": 8, "code": "i4"}, "energy_kev_field": None,
            "calibration_name": "chandra-acis", "offset_kev": 0.0, "slope_kev": 0.0, "dither_seed": 1,
            "dataset_key": 2, "extra": [{"offset": 12, "code": "f4", "integer": False}], "with_energy": True}


def ingest_raw(table: np.ndarray, rows: int) -> tuple:
    everything = (np.array([-1.0]), np.array([1e12]))
    return _core.ingest_table(table, ingest_spec(rows), *everything)


def test_decreasing_times_are_a_structured_error() -> None:
    # the fast path falls back to sorting on this class, never on the message text
    table = raw_rows(3, np.array([1.0, 3.0, 2.0])).view(np.uint8)
    with pytest.raises(UnsortedTimesError, match=r"^times are not non-decreasing at row 3$") as info:
        ingest_raw(table, 3)
    assert isinstance(info.value, DataError)
    with pytest.raises(DataError, match="non-finite time at row 2") as info:
        ingest_raw(raw_rows(3, np.array([1.0, np.nan, 2.0])).view(np.uint8), 3)
    assert not isinstance(info.value, UnsortedTimesError)


def _resident_kib(path) -> int | None:
    """Resident size of this process's mappings of `path` (Linux), None when unknown."""
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return None
    total, inside = 0, False
    for line in lines:
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def test_only_read_only_file_maps_release_their_pages(tmp_path) -> None:
    n = 140_000  # three dithering blocks, 2.2 MB
    rows = raw_rows(n)
    path = tmp_path / "rows.bin"
    rows.tofile(path)
    expected = ingest_raw(rows.view(np.uint8).copy(), n)

    mapped = np.memmap(path, dtype=np.uint8, mode="r")
    assert int(mapped.sum(dtype=np.uint64)) > 0  # every page resident
    before = _resident_kib(path)
    out = ingest_raw(mapped, n)
    after = _resident_kib(path)
    for got, want in zip(out[:3], expected[:3]):
        assert got.tobytes() == want.tobytes()
    assert out[3][0].tobytes() == expected[3][0].tobytes() and out[4:] == expected[4:]
    if before:  # the released pages are no longer resident; the bytes read the same
        assert after is not None and after < before / 4, (before, after)
    assert np.array_equal(mapped, rows.view(np.uint8))

    # copy-on-write and in-memory buffers keep every byte they hold: nothing is released
    private = np.memmap(path, dtype=np.uint8, mode="c")
    changed = private.view(ROW)
    changed["x"][70_000] = 12345.0  # a private page the file does not know
    out = ingest_raw(private, n)
    assert changed["x"][70_000] == 12345.0 and out[3][0][70_000] == 12345.0
    in_memory = rows.view(np.uint8).copy()
    ingest_raw(in_memory, n)
    assert np.array_equal(in_memory, rows.view(np.uint8))
