"""Ingestion rules of SPEC §6.1–6.2 rev 2 (properties 26, 27), each against an independent numpy reading.

Every file is built here with astropy; the expected events come from reading the
same columns with astropy and applying the rule by hand.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from astropy.io import fits

from lightlane import DataError, LightlaneWarning, MetadataError, read_events
from lightlane.cli import main
from lightlane.datasets.onboard import onboard_file
from lightlane.datasets.registered import read_dataset
from lightlane.metadata import DatasetMeta
from lightlane.pipelines.tasks import chandrashift

from ..helpers import SHARED_DATA, build_event_file, snapshot

HC = 1.239841984


def in_gtis(times: np.ndarray, gtis: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(times), dtype=bool)
    for start, stop in gtis:
        inside |= (times >= start) & (times < stop)
    return inside


def gti_hdu(name: str, intervals, **keywords) -> fits.BinTableHDU:
    intervals = np.asarray(intervals, dtype=float).reshape(-1, 2)
    header = fits.Header()
    for key, value in keywords.items():
        header[key] = value
    return fits.BinTableHDU.from_columns(
        [fits.Column(name="START", format="D", array=intervals[:, 0]),
         fits.Column(name="STOP", format="D", array=intervals[:, 1])], header=header, name=name)


def quiet_read(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        return read_events(path, **kwargs)


def cli(workspace, *args: str) -> int:
    return main(["--workspace", str(workspace.root), "--quiet", *args])


# ------------------------------------------------------------------------------ ENERGY units (26)

def energy_file(make_events, unit: str | None, telescope: str, name: str | None = None):
    energy = np.linspace(0.5, 9.5, 400)  # plausible keV values; stored × 1000 unless the unit is keV
    values = energy * (1.0 if unit is not None and unit.lower() == "kev" else 1000.0)
    column = fits.Column(name="ENERGY", format="D", unit=unit, array=values)
    path = make_events(name=name, times=np.linspace(1, 999, 400), columns={},
                       header={"TELESCOP": telescope, "INSTRUME": "X"})
    with fits.open(path) as hdul:  # add the column with its unit (build_event_file writes none)
        events = fits.BinTableHDU.from_columns(hdul["EVENTS"].columns + column, header=hdul["EVENTS"].header,
                                               name="EVENTS")
        fits.HDUList([hdul[0].copy(), events, hdul["GTI"].copy()]).writeto(path, overwrite=True)
    return path, energy


@pytest.mark.parametrize("passthrough", [False, True], ids=["rust path", "numpy path"])
@pytest.mark.parametrize(("unit", "telescope"), [("keV", "ASTROSAT"), ("kev", "NUSTAR"), ("eV", "NUSTAR"), ("EV", "SWIFT")])
def test_energy_tunit_decides_the_scale(make_events, unit, telescope, passthrough) -> None:
    path, energy_kev = energy_file(make_events, unit, telescope)
    events = read_events(path, passthrough=passthrough)
    assert events.read.calibration == "energy-column"
    assert events.read.energy_unit == {"kev": "keV", "ev": "eV"}[unit.lower()]
    with fits.open(path) as hdul:
        stored = np.asarray(hdul["EVENTS"].data["ENERGY"], dtype=float)
    expected = stored / (1000.0 if unit.lower() == "ev" else 1.0)
    assert np.array_equal(events.events["energy_kev"].to_numpy(), expected)
    assert np.allclose(expected, energy_kev, rtol=1e-15)
    assert np.allclose(events.events["wavelength_nm"].to_numpy() * expected, HC, rtol=1e-15)


def test_energy_without_unit_is_ev_only_for_chandra_and_xmm(make_events) -> None:
    for telescope in ("CHANDRA", "XMM"):
        path, energy_kev = energy_file(make_events, None, telescope)
        assert np.allclose(read_events(path).events["energy_kev"].to_numpy(), energy_kev, rtol=1e-15)
    path, _ = energy_file(make_events, None, "ASTROSAT")
    with pytest.raises(MetadataError, match=r"--energy-unit eV\|keV"):
        read_events(path)
    assert read_events(path, energy_unit="eV").events["energy_kev"].max() == pytest.approx(9.5)


def test_energy_unit_that_is_not_an_energy_or_contradicts_the_option(make_events) -> None:
    path, _ = energy_file(make_events, "MeV", "NUSTAR")
    with pytest.raises(DataError, match=r"column 'ENERGY'.*'MeV' is neither eV nor keV"):
        read_events(path)
    path, _ = energy_file(make_events, "keV", "NUSTAR")
    with pytest.raises(MetadataError, match="contradicts"):
        read_events(path, energy_unit="eV")


def test_onboard_asks_for_the_energy_unit_and_records_it(workspace, make_events, capsys) -> None:
    path, energy_kev = energy_file(make_events, None, "ASTROSAT")
    before = snapshot(workspace.root)
    assert cli(workspace, "onboard", str(path), "--id", "laxpc") == 3
    assert "--energy-unit" in capsys.readouterr().err
    assert snapshot(workspace.root) == before
    assert cli(workspace, "onboard", str(path), "--id", "laxpc", "--energy-unit", "eV") == 0
    meta = workspace.load(DatasetMeta, "laxpc")
    assert meta.energy_unit == "eV"
    back = read_dataset(workspace, "laxpc")
    with fits.open(path) as hdul:
        assert np.array_equal(back.events["energy_kev"].to_numpy(), hdul["EVENTS"].data["ENERGY"] / 1000.0)
    assert np.allclose(back.events["energy_kev"].to_numpy(), energy_kev, rtol=1e-15)


# ------------------------------------------------------------------------------ TIMEPIXR (26)

@pytest.mark.parametrize(("pixr", "delta"), [(0.0, 3.2), (1.0, 0.5), (0.5, 3.24104), (0.25, 8.0)])
def test_times_move_to_the_centre_of_their_time_tag_bin(make_events, workspace, pixr, delta) -> None:
    raw = np.linspace(0.0, 999.0, 500)
    gtis = [(0.0, 400.0), (500.0, 997.0)]
    path = make_events(times=raw, gtis=gtis, header={"TIMEPIXR": pixr, "TIMEDEL": delta, "TIMEZERO": 2.0})
    shift = (0.5 - pixr) * delta
    times = raw + (2.0 + shift)
    # GTIs carry no time tags: they are not shifted (their HDU has the same TIMEZERO card)
    expected = times[in_gtis(times, np.array(gtis) + 2.0)]
    for passthrough in (False, True):
        events = quiet_read(path, passthrough=passthrough)
        assert events.read.time_shift_s == shift
        assert np.array_equal(events.events["time"].to_numpy(), expected)
    meta = onboard_file(workspace, path, f"tp{int(pixr * 100)}")
    assert meta.time_shift_s == shift
    assert np.array_equal(read_dataset(workspace, meta.id).events["time"].to_numpy(), expected)


def test_timepixr_outside_the_unit_interval_is_refused(make_events) -> None:
    path = make_events(header={"TIMEPIXR": 2.0, "TIMEDEL": 1.0})
    with pytest.raises(DataError, match="TIMEPIXR"):
        read_events(path)


# ------------------------------------------------------------------------------ GTIs (27)

def ccd_file(make_events, *, ccd_column: str | None = "CCD_ID", style: str = "keyword"):
    """Events on CCDs 0–3 and 5 (shares 50 %, 30 %, 19.3 %, 0.5 %, 0.2 %), a GTI extension per CCD 0–3."""
    rng = np.random.default_rng(4)
    n = 2000
    ccd = np.repeat([0, 1, 2, 3, 5], [1000, 600, 386, 10, 4])
    rng.shuffle(ccd)
    times = np.sort(rng.uniform(0, 1000, n))
    per_ccd = {0: [(0, 600), (650, 1000)], 1: [(10, 990)], 2: [(0, 300), (320, 1000)], 3: [(400, 500)]}
    hdus = []
    for number, intervals in per_ccd.items():
        if style == "keyword":
            hdus.append(gti_hdu("GTI", intervals, CCD_ID=number))
        else:
            hdus.append(gti_hdu(f"STDGTI{number:02d}", intervals))
    columns = {"PI": ("J", (1 + np.arange(n) % 700).astype(np.int32))}
    if ccd_column:
        columns[ccd_column] = ("I", ccd.astype(np.int16))
    path = make_events(times=times, columns=columns, gtis=None, extra_hdus=hdus)
    return path, times, ccd, per_ccd


def intersect_by_hand(interval_sets) -> np.ndarray:
    """Intersection on a fine grid of the interval end points (independent of lightlane.events.gti)."""
    points = np.unique(np.concatenate([np.ravel(s) for s in interval_sets]).astype(float))
    pieces = []
    for lo, hi in zip(points[:-1], points[1:]):
        mid = 0.5 * (lo + hi)
        if all(any(a <= mid < b for a, b in s) for s in interval_sets):
            if pieces and pieces[-1][1] == lo:
                pieces[-1][1] = hi
            else:
                pieces.append([lo, hi])
    return np.array(pieces)


@pytest.mark.parametrize(("ccd_column", "style"), [("CCD_ID", "keyword"), ("CCDNR", "stdgti"), ("CCD_ID", "stdgti")])
def test_per_ccd_gtis_are_intersected_over_the_ccds_that_matter(make_events, ccd_column, style) -> None:
    path, times, ccd, per_ccd = ccd_file(make_events, ccd_column=ccd_column, style=style)
    expected_gti = intersect_by_hand([per_ccd[0], per_ccd[1], per_ccd[2]])  # CCD 3 holds 0.5 %, 5 has no GTI
    on_selected = np.isin(ccd, [0, 1, 2])
    expected = times[on_selected & in_gtis(times, expected_gti)]
    for passthrough in (False, True):
        with pytest.warns(LightlaneWarning, match=r"dropped 14 events on CCD\(s\) \[3, 5\]"):
            events = read_events(path, passthrough=passthrough)
        assert np.array_equal(events.gti, expected_gti)
        assert np.array_equal(events.events["time"].to_numpy(), expected)
        assert events.read.dropped_other_ccds == 14
        assert events.events.height + events.read.dropped_outside_gti + 14 == len(times)
    assert events.exposure_s == pytest.approx(float(np.sum(expected_gti[:, 1] - expected_gti[:, 0])))


def test_without_a_ccd_column_every_gti_extension_is_intersected(make_events) -> None:
    path, times, _, per_ccd = ccd_file(make_events, ccd_column=None)
    expected_gti = intersect_by_hand(list(per_ccd.values()))
    events = quiet_read(path)
    assert np.array_equal(events.gti, expected_gti)
    assert np.array_equal(events.events["time"].to_numpy(), times[in_gtis(times, expected_gti)])
    union = sum(b - a for a, b in [(0, 1000)])
    assert events.exposure_s < union  # the union would have claimed the whole span


def test_gti_extensions_with_nothing_in_common_are_an_error(make_events) -> None:
    path = make_events(extra_hdus=[gti_hdu("GTI2", [(2000.0, 3000.0)])])
    with pytest.raises(DataError, match="no time in common"):
        read_events(path)


def test_shared_chandra_file_uses_its_ccd_gti(tmp_path) -> None:
    path = SHARED_DATA / "chandra_test.fits"
    if not path.is_file():
        pytest.skip("../shared/data is absent")
    events = read_events(path)
    with fits.open(path) as hdul:
        times = np.asarray(hdul["EVENTS"].data["time"], dtype=float)
        gti = np.column_stack([hdul["GTI"].data["START"], hdul["GTI"].data["STOP"]])
        assert hdul["GTI"].header["CCD_ID"] == 7 and set(hdul["EVENTS"].data["ccd_id"]) == {7}
    assert np.array_equal(events.gti, gti)
    assert np.array_equal(events.events["time"].to_numpy(), times[in_gtis(times, gti)])


# ------------------------------------------------------------------------------ XMM PI = 0

@pytest.mark.parametrize("seed", [0, 1, 2, 3, 17])
def test_xmm_pi_zero_is_always_dropped(make_events, workspace, seed) -> None:
    channels = np.where(np.arange(3000) % 3 == 0, 0, 1 + np.arange(3000) % 5000).astype(np.int32)
    path = make_events(times=np.linspace(1, 999, 3000), columns={"PI": ("J", channels)},
                       header={"TELESCOP": "XMM", "INSTRUME": "EPN"})
    for passthrough in (False, True):
        with pytest.warns(LightlaneWarning, match="dropped 1000 events"):
            events = read_events(path, dither_seed=seed, passthrough=passthrough)
        assert np.array_equal(events.events["pi"].to_numpy(), channels[channels > 0])


# ------------------------------------------------------------------------------ HRC time tags

def hrc_file(make_events, header=None):
    rng = np.random.default_rng(9)
    n = 3000
    times = np.sort(rng.uniform(0, 1000, n))
    swap = rng.choice(n - 1, 40, replace=False)  # a few out-of-order neighbours, as in real HRC lists
    times[swap], times[swap + 1] = times[swap + 1].copy(), times[swap].copy()
    pi = rng.integers(0, 1100, n).astype(np.int32)  # 0 and > 1024 are invalid channels
    path = make_events(times=times, columns={"PI": ("J", pi)}, gtis=[(0.0, 300.0), (320.0, 1000.0)],
                       header={"INSTRUME": "HRC-I", **(header or {})})
    return path, times, pi


def independent_hrc_reading(times, pi, gtis):
    order = np.argsort(times, kind="stable")
    rows, fixed = order[:-1], times[order][1:]
    keep = in_gtis(fixed, np.array(gtis)) & (pi[rows] >= 1) & (pi[rows] <= 1024)
    return fixed[keep], pi[rows][keep]


def test_hrc_fix_runs_on_the_raw_rows_before_filtering(make_events, workspace) -> None:
    path, times, pi = hrc_file(make_events)
    expected_times, expected_pi = independent_hrc_reading(times, pi, [(0.0, 300.0), (320.0, 1000.0)])
    events = quiet_read(path)
    assert events.time_tag_fix == "hrc-next-event"
    assert np.array_equal(events.events["time"].to_numpy(), expected_times)
    assert np.array_equal(events.events["pi"].to_numpy(), expected_pi)
    # the old order (filter, then shift) gives events the times of their filtered neighbours
    unfixed = quiet_read(path, time_tag_fix=False, sort_times=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        late = chandrashift(unfixed)
    assert late.count != len(expected_times) or not np.array_equal(late.events["time"].to_numpy(), expected_times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)  # HRC energies are nominal; invalid channels dropped
        meta = onboard_file(workspace, path, "hrc")
    assert meta.time_tag_fix == "hrc-next-event"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        source = read_dataset(workspace, "hrc")
    assert np.array_equal(source.events["time"].to_numpy(), expected_times)
    with pytest.warns(LightlaneWarning, match="already applied"):
        again = chandrashift(source)
    assert again.events.equals(source.events)


def test_hrc_fix_can_be_turned_off_and_chandrashift_still_works(make_events, workspace) -> None:
    path, times, pi = hrc_file(make_events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        meta = onboard_file(workspace, path, "hrc_raw", hrc_time_fix=False, sort_times=True)
    assert meta.time_tag_fix is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        source = read_dataset(workspace, "hrc_raw")
    shifted = chandrashift(source)
    assert shifted.time_tag_fix == "hrc-next-event"
    assert shifted.count == source.count - 1


# ------------------------------------------------------------------------------ checksums

def checksummed_file(tmp_path, name="sums.fits"):
    path = build_event_file(tmp_path / name)
    with fits.open(path) as hdul:
        hdul.writeto(path, overwrite=True, checksum=True)
    return path


def independent_datasum(path, hdu_index: int) -> tuple[int, int]:
    raw = path.read_bytes()
    with fits.open(path) as hdul:
        info = hdul[hdu_index].fileinfo()
        stored = int(hdul[hdu_index].header["DATASUM"])
    words = np.frombuffer(raw[info["datLoc"]:info["datLoc"] + info["datSpan"]], dtype=">u4").astype(np.uint64)
    total = int(words.sum())
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total, stored


def test_checksums_are_verified_at_onboard(tmp_path, workspace, capsys) -> None:
    good = checksummed_file(tmp_path)
    assert independent_datasum(good, 1)[0] == independent_datasum(good, 1)[1]
    assert cli(workspace, "onboard", str(good), "--id", "good") == 0
    assert workspace.load(DatasetMeta, "good").checksum == "verified"

    damaged = tmp_path / "damaged.fits"
    data = bytearray(good.read_bytes())
    with fits.open(good) as hdul:
        data[hdul[1].fileinfo()["datLoc"] + 5] ^= 0x01  # one bit of one TIME value
    damaged.write_bytes(bytes(data))
    computed, stored = independent_datasum(damaged, 1)
    assert computed != stored
    before = snapshot(workspace.root)
    capsys.readouterr()
    assert cli(workspace, "onboard", str(damaged), "--id", "bad") == 4
    err = capsys.readouterr().err
    assert "DATASUM does not match" in err and "--no-verify-checksum" in err and len(err.strip().splitlines()) == 1
    assert snapshot(workspace.root) == before
    assert cli(workspace, "onboard", str(damaged), "--id", "bad", "--no-verify-checksum") == 0
    assert workspace.load(DatasetMeta, "bad").checksum == "skipped"

    plain = build_event_file(tmp_path / "plain.fits")
    assert cli(workspace, "onboard", str(plain), "--id", "plain") == 0
    assert workspace.load(DatasetMeta, "plain").checksum == "absent"


def test_shared_chandra_extract_has_stale_datasums(workspace) -> None:
    path = SHARED_DATA / "chandra_test.fits"
    if not path.is_file():
        pytest.skip("../shared/data is absent")
    computed, stored = independent_datasum(path, 1)
    assert computed != stored  # the extract was edited after its checksums were written
    with pytest.raises(DataError, match="DATASUM"):
        onboard_file(workspace, path, "m82")
    assert onboard_file(workspace, path, "m82", verify_checksum=False).checksum == "skipped"


# ------------------------------------------------------------------------------ onboard safety

def test_onboard_refuses_links_into_generated_folders(workspace, make_events, capsys) -> None:
    for area in ("results/x", "cache/chunks", "data/derived"):
        target = workspace.root / area / "events.fits"
        target.parent.mkdir(parents=True, exist_ok=True)
        build_event_file(target)
        before = snapshot(workspace.root)
        assert cli(workspace, "onboard", str(target), "--id", "linked", "--link") == 4
        assert area.split("/")[0] in capsys.readouterr().err
        assert snapshot(workspace.root) == before


def test_onboard_of_a_folder_says_so(workspace, tmp_path, capsys) -> None:
    assert cli(workspace, "onboard", str(tmp_path), "--id", "x") == 4
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["placed", "json", "row", "rename"])
def test_an_interrupted_onboard_never_blocks_the_retry(workspace, make_events, tmp_path, monkeypatch, stage) -> None:
    import lightlane.datasets.onboard as onboard_module
    from lightlane.store.catalog import Catalog

    source = make_events()
    twin = type(workspace).at(tmp_path / "twin")
    twin.init()
    reference = onboard_file(twin, source, "obs1")

    class Killed(BaseException):
        pass

    def die(*args, **kwargs):
        raise Killed

    # A kill leaves what was done up to that point: simulate it by skipping the clean-up too.
    monkeypatch.setattr(onboard_module, "_undo_onboard", lambda *args: None)
    if stage == "placed":
        monkeypatch.setattr(type(workspace), "save", die)
    elif stage == "json":
        monkeypatch.setattr(Catalog, "insert", die)
    elif stage == "row":
        monkeypatch.setattr(onboard_module.os, "rename", die)
    else:
        original_rename = onboard_module.os.rename
        monkeypatch.setattr(onboard_module.os, "rename", lambda a, b: (original_rename(a, b), die()))
    with pytest.raises(Killed):
        onboard_file(workspace, source, "obs1")
    monkeypatch.undo()
    if stage != "rename":
        assert list((workspace.root / "data" / "raw").glob(".staging-obs1-*"))
    again = (onboard_file(workspace, source, "obs1") if stage != "rename"
             else workspace.load(DatasetMeta, "obs1"))
    strip = {"created_at"}
    assert {k: v for k, v in json.loads(json.dumps(again.__dict__, default=str)).items() if k not in strip} == \
        {k: v for k, v in json.loads(json.dumps(reference.__dict__, default=str)).items() if k not in strip}
    assert not list((workspace.root / "data" / "raw").glob(".staging-*"))
    assert (workspace.raw_dir("obs1") / source.name).read_bytes() == source.read_bytes()
    assert read_dataset(workspace, "obs1").events.equals(read_dataset(twin, "obs1").events)
