"""Files written by lightlane round-trip bit-exactly (SPEC §6.4, §21 property 11)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
from astropy.io import fits

from lightlane import _core, read_events
from lightlane.events.calibrations import HC_KEV_NM
from lightlane.events.writing import provenance_keywords, write_event_file


def synthetic_events(n: int = 5000) -> tuple[pl.DataFrame, np.ndarray]:
    u = _core.uniforms(1, 2, [0], 4 * n)
    times = np.sort(10.0 + 980.0 * u[:n])
    wavelength = 0.1 + 0.9 * u[n:2 * n]
    events = pl.DataFrame({
        "time": times,
        "wavelength_nm": wavelength,
        "energy_kev": HC_KEV_NM / wavelength,
        "x": 2.0 * u[2 * n:3 * n] - 1.0,
        "y": 2.0 * u[3 * n:] - 1.0,
        "bin": (np.arange(n) % 100).astype(np.uint16),
        "lanecount": np.where(np.arange(n) % 7 == 0, -1, np.arange(n) % 5).astype(np.int64),
    })
    gti = np.array([[0.0, 400.0], [450.5, 1000.0]])
    return events.filter((pl.col("time") < 400.0) | (pl.col("time") >= 450.5)), gti


def test_round_trip_is_bit_exact(tmp_path) -> None:
    events, gti = synthetic_events()
    tasks = [{"task": "generate", "generation": "sparse", "spectrum_from": None, "time_from": None}] * 6
    keywords = {"TELESCOP": "LIGHTLANE", "INSTRUME": "LANESHEET", "MJDREF": 50814.0, "OBS_ID": "", "OBJECT": "sim"}
    ev_hash = "0" * 64
    keywords |= provenance_keywords(dataset_id="0a1b2c3d", parent_id=None, generation_id="0a1b2c3d", seed=42,
                                    events_hash=ev_hash, tasks=tasks)
    path = write_event_file(tmp_path / "syn.fits", events, gti, keywords)
    back = read_events(path, dataset_id="0a1b2c3d")
    assert back.read.calibration == "stored-wavelength"
    for column in events.columns:
        assert np.array_equal(back.events[column].to_numpy(), events[column].to_numpy()), column
        assert back.events[column].to_numpy().tobytes() == events[column].to_numpy().astype(
            back.events[column].to_numpy().dtype).tobytes()
    assert np.array_equal(back.gti, gti)
    assert back.header["LLSEED"] == 42 and back.header["LLDSID"] == "0a1b2c3d"
    assert json.loads(back.header["LLTASKS"]) == tasks  # longer than one card: CONTINUE
    with fits.open(path) as hdul:
        assert hdul["EVENTS"].header["TFORM1"] == "D"
        assert hdul["EVENTS"].columns["LANECOUNT"].null == -1
        assert hdul["EVENTS"].header["CREATOR"].startswith("lightlane ")
        assert hdul["EVENTS"].header["TSTART"] == 0.0 and hdul["EVENTS"].header["TSTOP"] == 1000.0
    # a second write of what was read gives the same events hash
    again = write_event_file(tmp_path / "again.fits", back.events, back.gti, keywords)
    assert read_events(again, dataset_id="x").events_hash() == back.events_hash()


def test_writer_sorts_by_time(tmp_path) -> None:
    events = pl.DataFrame({"time": [3.0, 1.0, 2.0], "wavelength_nm": [0.3, 0.1, 0.2], "energy_kev": [1.0, 2.0, 3.0]})
    path = write_event_file(tmp_path / "s.fits", events, np.array([[0.0, 5.0]]), {"LLSCHEMA": 1})
    back = read_events(path)
    assert back.events["time"].to_list() == [1.0, 2.0, 3.0]
    assert back.events["wavelength_nm"].to_list() == [0.1, 0.2, 0.3]


def test_events_hash_changes_with_any_value(tmp_path) -> None:
    events, gti = synthetic_events(500)
    a = write_event_file(tmp_path / "a.fits", events, gti, {"LLSCHEMA": 1})
    shifted = events.with_columns(pl.when(pl.int_range(pl.len()) == 10).then(pl.col("x") + 1e-12).otherwise(pl.col("x")).alias("x"))
    b = write_event_file(tmp_path / "b.fits", shifted, gti, {"LLSCHEMA": 1})
    c = write_event_file(tmp_path / "c.fits", events, gti + np.array([[0.0, 0.0], [0.0, -1.0]]), {"LLSCHEMA": 1})
    hashes = {read_events(p, dataset_id="h").events_hash() for p in (a, b, c)}
    assert len(hashes) == 3
