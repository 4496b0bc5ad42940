"""Fuzz-style robustness: damaged FITS and mutated JSON always give a LightlaneError.

Never a crash, never a traceback, never a partial file in the workspace.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from lightlane import LightlaneError, LightlaneWarning, MetadataError, read_events
from lightlane.cli import main
from lightlane.metadata import (
    DatasetMeta,
    GenerationParameters,
    Pipeline,
    ProcessingParameters,
    SearchSpace,
    parse_document,
)
from lightlane.store.workspace import embedded_defaults

from .helpers import DATASET, PIPELINE, build_event_file, snapshot

BAD_VALUES: list[Any] = ["x", "", True, False, None, [], [1, "a"], {}, {"kind": "?"}, -1, 0, 0.5, 1e308, -1e308, 2**70]


def read_or_error(path) -> None:
    """Reading either succeeds or raises a LightlaneError: nothing else is acceptable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        try:
            read_events(path)
        except LightlaneError:
            pass


def test_truncated_files(make_events, tmp_path) -> None:
    source = make_events(times=np.linspace(1, 999, 3000), columns={"PI": ("J", np.full(3000, 77, dtype=np.int32))})
    data = source.read_bytes()
    cuts = sorted({*range(0, len(data), 2880), *range(7, len(data), 1013), len(data) - 1})
    for cut in cuts:
        path = tmp_path / f"cut_{cut}.fits"
        path.write_bytes(data[:cut])
        read_or_error(path)
        assert path.read_bytes() == data[:cut]


def test_byte_flips(make_events, tmp_path) -> None:
    source = make_events()
    data = bytearray(source.read_bytes())
    rng_positions = (np.arange(60) * 104_729) % len(data)
    for index, position in enumerate(rng_positions):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        path = tmp_path / f"flip_{index}.fits"
        path.write_bytes(bytes(damaged))
        read_or_error(path)


@pytest.mark.parametrize(
    "columns",
    [
        {"TIME": ("10A", np.array(["1.0"] * 5)), "PI": ("J", np.arange(5, dtype=np.int32))},
        {"TIME": ("2D", np.ones((5, 2))), "PI": ("J", np.arange(5, dtype=np.int32))},
        {"TIME": ("D", np.arange(5.0)), "PI": ("3A", np.array(["ab"] * 5))},
        {"TIME": ("D", np.arange(5.0)), "ENERGY": ("L", np.array([True] * 5))},
        {"TIME": ("D", np.arange(5.0)), "PI": ("2J", np.ones((5, 2), dtype=np.int32))},
        {"TIME": ("D", np.zeros(0)), "PI": ("J", np.zeros(0, dtype=np.int32))},
    ],
    ids=["string time", "vector time", "string pi", "logical energy", "vector pi", "empty events"],
)
def test_wrong_column_types_and_empty_events(tmp_path, columns) -> None:
    header = fits.Header({"TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "TSTART": 0.0, "TSTOP": 10.0})
    cols = [fits.Column(name=name, format=form, array=values) for name, (form, values) in columns.items()]
    path = tmp_path / "typed.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, header=header, name="EVENTS")]).writeto(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)
        with pytest.raises(LightlaneError, match="typed.fits"):
            read_events(path)


def leaf_paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from leaf_paths(value, prefix + (key,))
    elif isinstance(obj, list) and obj:
        for index, value in enumerate(obj):
            yield from leaf_paths(value, prefix + (index,))
    yield prefix


def mutated(doc: dict, path: tuple, value: Any) -> dict:
    out = copy.deepcopy(doc)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def deleted(doc: dict, path: tuple) -> dict | None:
    out = copy.deepcopy(doc)
    target = out
    for part in path[:-1]:
        target = target[part]
    if isinstance(target, dict):
        del target[path[-1]]
        return out
    return None


def documents() -> Iterator[Any]:
    classes = {"processing": ProcessingParameters, "generation": GenerationParameters, "search": SearchSpace}
    for folder, files in embedded_defaults().items():
        for name, content in files:
            yield pytest.param(classes[folder], json.loads(content), id=f"{folder}/{name}")
    yield pytest.param(Pipeline, PIPELINE, id="pipeline")
    yield pytest.param(DatasetMeta, DATASET, id="dataset")


@pytest.mark.parametrize(("cls", "doc"), list(documents()))
def test_every_field_mutated(cls, doc) -> None:
    attempts = errors = 0
    for path in leaf_paths(doc):
        if not path:
            continue
        variants = [mutated(doc, path, value) for value in BAD_VALUES]
        variants.append(deleted(doc, path))
        if isinstance(path[-1], str):
            variants.append(mutated(doc, path[:-1] + ("unexpected_key",), 1))
        for variant in variants:
            if variant is None:
                continue
            attempts += 1
            try:
                loaded = parse_document(cls, json.dumps(variant), "meta/x/doc.json")
            except MetadataError as exc:
                errors += 1
                assert str(exc).startswith("meta/x/doc.json: ")
            else:
                # whatever loads must survive a canonical round trip
                from lightlane.metadata import dumps

                assert parse_document(cls, dumps(loaded), "again") == loaded
    assert errors > attempts // 2


def test_mutated_workspace_file_gives_exit_code_3(tmp_path, capsys, make_events) -> None:
    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "--quiet", "init"]) == 0
    processing = ws / "meta" / "processing" / "default.json"
    processing.write_text(processing.read_text().replace('"bins": 100', '"bins": "100"'))
    before = snapshot(ws)
    assert main(["--workspace", str(ws), "onboard", str(make_events()), "--id", "obs1"]) == 3
    err = capsys.readouterr().err
    assert "meta/processing/default.json: field 'band.bins'" in err and "Traceback" not in err
    assert snapshot(ws) == before


def test_truncated_file_through_the_cli(tmp_path, capsys, make_events) -> None:
    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "--quiet", "init"]) == 0
    data = make_events().read_bytes()
    broken = tmp_path / "broken.fits"
    broken.write_bytes(data[: len(data) // 2])
    before = snapshot(ws)
    code = main(["--workspace", str(ws), "onboard", str(broken), "--id", "obs1"])
    err = capsys.readouterr().err
    assert code == 4 and "broken.fits" in err and "Traceback" not in err
    assert snapshot(ws) == before


# ------------------------------------------------------------- property 30: bad FITS through `onboard`

def onboard_fails_cleanly(ws, path, capsys, codes=(3, 4)) -> int:
    """`onboard` of a damaged file: one line naming it, a documented code, workspace unchanged."""
    before = snapshot(ws)
    dataset_id = path.name.split(".")[0].replace("_", "-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LightlaneWarning)  # as for a user: warnings are not failures
        code = main(["--workspace", str(ws), "onboard", str(path), "--id", dataset_id, "--no-verify-checksum"])
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("lightlane: warning:")]
    if code == 0:  # a flip in padding or in an unused value can leave a valid file
        assert err == []
        return code
    assert code in codes and len(err) == 1 and path.name in err[0] and "Traceback" not in err[0], (code, err[-3:])
    assert snapshot(ws) == before
    return code


@pytest.fixture
def fuzz_ws(tmp_path):
    ws = tmp_path / "ws"
    assert main(["--workspace", str(ws), "--quiet", "init"]) == 0
    return ws


def gzipped(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize("compress", [False, True], ids=["fits", "fits.gz"])
def test_cut_and_flipped_files_through_the_cli(tmp_path, fuzz_ws, capsys, make_events, compress) -> None:
    data = make_events(times=np.linspace(1, 999, 2000), columns={"PI": ("J", np.full(2000, 77, dtype=np.int32))}).read_bytes()
    stored = gzipped(data) if compress else data
    suffix = ".fits.gz" if compress else ".fits"
    cuts = sorted({*range(1, len(stored), max(1, len(stored) // 25)), len(stored) - 1})
    flips = sorted({int(p) for p in (np.arange(1, 41) * 7919) % len(stored)})
    failures = 0
    for index, cut in enumerate(cuts):
        path = tmp_path / f"cut_{index}{suffix}"
        path.write_bytes(stored[:cut])
        failures += onboard_fails_cleanly(fuzz_ws, path, capsys) != 0
    for index, position in enumerate(flips):
        damaged = bytearray(stored)
        damaged[position] ^= 0xA5
        path = tmp_path / f"flip_{index}{suffix}"
        path.write_bytes(bytes(damaged))
        failures += onboard_fails_cleanly(fuzz_ws, path, capsys) != 0
    assert failures >= len(cuts)  # every cut file is refused


def without_card(path, card: str) -> None:
    """Blank one header card in place (as a broken writer would leave it)."""
    data = bytearray(path.read_bytes())
    position = data.find(card.ljust(8).encode())
    assert position >= 0
    data[position:position + 80] = b" " * 80
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("header", "card", "needle"),
    [
        ({"TSTART": "abc"}, None, "TSTART"),
        ({"MJDREFI": "fifty"}, None, "MJDREFI"),
        ({"TIMEZERO": "soon"}, None, "TIMEZERO"),
        ({"TIMEDEL": "x", "TIMEPIXR": 0.0}, None, "TIMEDEL"),
        ({"TSTART": -1.7e308, "TSTOP": 1.7e308}, "NO-GTI", "infinite"),
        ({}, "TTYPE2", "PI"),
        ({}, "TTYPE1", "TIME"),
    ],
    ids=["tstart text", "mjdrefi text", "timezero text", "timedel text", "infinite exposure", "pi without ttype",
         "time without ttype"],
)
def test_bad_headers_through_the_cli(tmp_path, fuzz_ws, capsys, header, card, needle) -> None:
    gtis = None if card == "NO-GTI" else ((0.0, 1000.0),)
    path = build_event_file(tmp_path / "bad.fits", header=header, gtis=gtis)
    if card and card != "NO-GTI":
        without_card(path, card)
    assert onboard_fails_cleanly(fuzz_ws, path, capsys) != 0
