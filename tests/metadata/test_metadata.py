"""Strict metadata loading and canonical saving (SPEC §4.3, §5, §21 property 21)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lightlane import MetadataError
from lightlane.metadata import (
    Band,
    DatasetMeta,
    GenerationParameters,
    Pipeline,
    ProcessingParameters,
    SearchSpace,
    TaskSpec,
    dumps,
    parse_document,
)
from lightlane.store.atomic import atomic_path, sweep_stale_temp_files, write_text
from lightlane.store.workspace import embedded_defaults

from ..helpers import DATASET, PIPELINE

DEFAULT_CLASSES = {"processing": ProcessingParameters, "generation": GenerationParameters, "search": SearchSpace}


def parse(cls, obj, name="meta/x/doc.json"):
    return parse_document(cls, json.dumps(obj), name)


def embedded_documents():
    for folder, files in embedded_defaults().items():
        for name, content in files:
            yield pytest.param(DEFAULT_CLASSES[folder], content, id=f"{folder}/{name}")


def test_embedded_defaults_ship_with_the_package() -> None:
    import lightlane

    found = {folder: [name for name, _ in files] for folder, files in embedded_defaults().items()}
    assert found == {"processing": ["default.json"], "generation": ["dense.json", "isotropic.json", "sparse.json"],
                     "search": ["default.json"]}
    assert Path(lightlane.__file__).parent.joinpath("defaults", "processing", "default.json").is_file()


@pytest.mark.parametrize(("cls", "content"), list(embedded_documents()))
def test_load_dump_load_is_identity(cls, content: bytes) -> None:
    first = parse_document(cls, content, "embedded")
    text = dumps(first)
    assert text == content.decode(), "embedded files are stored in canonical form"
    assert parse_document(cls, text, "again") == first


@pytest.mark.parametrize(("cls", "doc"), [(Pipeline, PIPELINE), (DatasetMeta, DATASET)])
def test_round_trip_writes_every_field(cls, doc) -> None:
    loaded = parse(cls, doc)
    text = dumps(loaded)
    assert text.endswith("\n") and "  " in text
    explicit = json.loads(text)
    assert set(doc) < set(explicit)  # defaults written out
    assert parse_document(cls, text, "x") == loaded
    assert dumps(parse_document(cls, text, "x")) == text


def test_error_names_file_and_field() -> None:
    doc = {"schema": 1, "id": "x", "band": {"min_nm": 0.1, "max_nm": 1.0, "bins": "100"}}
    with pytest.raises(MetadataError) as info:
        parse(ProcessingParameters, doc, "meta/processing/x.json")
    assert str(info.value) == "meta/processing/x.json: field 'band.bins': expected integer in [1, 10000], got \"100\""


@pytest.mark.parametrize(
    ("mutation", "pattern"),
    [
        ({"chunk_lenght": 12}, "field 'chunk_lenght': unknown field"),
        ({"chunk_length": 13}, "field 'chunk_length': expected integer even, 4 ≤ L ≤ 1000, got 13"),
        ({"chunk_length": True}, "field 'chunk_length': expected integer"),
        ({"min_exposure": 0}, "field 'min_exposure': expected number in \\(0, 1\\]"),
        ({"band": {"min_nm": 1.0, "max_nm": 0.5, "bins": 10}}, "field 'band.max_nm': expected number > min_nm"),
        ({"test_metrics": []}, "field 'test_metrics': expected list non-empty"),
        ({"test_metrics": ["vea", "bogus"]}, "field 'test_metrics\\[1\\]': expected one of"),
        ({"time_bins": {"kind": "grid"}}, "field 'time_bins.kind': expected one of \"random\", \"list\""),
        ({"time_bins": {"kind": "list", "widths_s": [10, 10]}}, "field 'time_bins.widths_s'"),
        ({"time_bins": {"kind": "random", "from_s": 300, "to_s": 20}}, "field 'time_bins.to_s'"),
        ({"seed": -1}, "field 'seed'"),
        ({"schema": 2}, "field 'schema': expected 1, got 2"),
        ({"crop": {"x_px": 1, "y_px": 2}}, "field 'crop.radius_px': required field is missing"),
    ],
)
def test_processing_rejections(mutation, pattern) -> None:
    doc = {"schema": 1, "id": "x", **mutation}
    with pytest.raises(MetadataError, match=pattern):
        parse(ProcessingParameters, doc)


def test_int_is_accepted_for_float_and_saved_as_float() -> None:
    loaded = parse(ProcessingParameters, {"schema": 1, "id": "x", "band": {"min_nm": 1, "max_nm": 2, "bins": 4}})
    assert loaded.band == Band(1.0, 2.0, 4) and '"min_nm": 1.0' in dumps(loaded)


def test_schema_is_required() -> None:
    with pytest.raises(MetadataError, match="field 'schema': required"):
        parse(ProcessingParameters, {"id": "x"})


def test_invalid_json_and_nan() -> None:
    with pytest.raises(MetadataError, match="f.json: invalid JSON"):
        parse_document(ProcessingParameters, "{", "f.json")
    with pytest.raises(MetadataError, match="invalid JSON: NaN"):
        parse_document(ProcessingParameters, '{"schema": 1, "id": "x", "min_exposure": NaN}', "f.json")


def test_id_must_match_file_stem() -> None:
    with pytest.raises(MetadataError, match="field 'id': expected the file name stem 'other'"):
        parse_document(ProcessingParameters, '{"schema": 1, "id": "x"}', "f.json", expected_id="other")


def test_processing_hash_ignores_id_only() -> None:
    a = parse(ProcessingParameters, {"schema": 1, "id": "a"})
    b = parse(ProcessingParameters, {"schema": 1, "id": "b"})
    c = parse(ProcessingParameters, {"schema": 1, "id": "a", "seed": 1})
    assert a.processing_hash() == b.processing_hash() != c.processing_hash()


def test_generation_rules() -> None:
    base = json.loads(embedded_defaults()["generation"][2][1])
    for change, pattern in [
        ({"model": {**base["model"], "r_e_lu": -0.8}}, "field 'model.r_e_lu': expected number > 0"),
        ({"time": {"tstart_s": 5.0, "tstop_s": 5.0}}, "field 'time.tstop_s'"),
        ({"time": {"tstart_s": 0.0, "tstop_s": 10.0, "gtis": [[0, 5], [4, 8]]}}, "field 'time.gtis\\[1\\]'"),
        ({"time": {"tstart_s": 0.0, "tstop_s": 10.0, "gtis": [[0, 5, 6]]}}, "field 'time.gtis'"),
        ({"model": {**base["model"], "kind": "empirical"}}, "field 'model.alpha_lu': unknown field"),
        ({"instrument": {"smear_fwhm_ev": 0, "calibration": "chandra-acis"}}, "instrument.smear_fwhm_ev"),
    ]:
        with pytest.raises(MetadataError, match=pattern):
            parse(GenerationParameters, {**base, **change})
    empirical = {**base, "model": {"kind": "empirical", "alpha_ls": 2.0, "l0_per_ls": 1e8, "r_e_ls": 0.5, "velocity_c": 0.1}}
    assert parse(GenerationParameters, empirical).model.kind == "empirical"
    with pytest.raises(MetadataError, match="velocity_c"):
        parse(GenerationParameters, {**empirical, "model": {**empirical["model"], "velocity_c": 1.5}})


def test_band_compatibility() -> None:
    processing = Band(0.1, 1.0, 100)
    assert Band(0.055, 1.045, 110).incompatibility_with(processing) is None
    assert "bin width" in Band(0.1, 1.0, 50).incompatibility_with(processing)
    assert "edges" in Band(0.1045, 1.0045, 100).incompatibility_with(processing)


def test_pipeline_task_validation() -> None:
    for change, pattern in [
        ({"a_tasks": ["select", "shuffle"]}, "field 'a_tasks\\[1\\]': expected one of"),
        ({"a_tasks": [{"task": "downsample"}]}, "exactly one of 'count' and 'fraction'"),
        ({"a_tasks": [{"task": "trange", "start_s": 0}]}, "field 'a_tasks\\[0\\].stop_s': required"),
        ({"a_tasks": [{"task": "flatten", "min_per_bin": 0}]}, "min_per_bin"),
        ({"a_tasks": [{"task": "poissonize", "seed": 3}]}, "field 'a_tasks\\[0\\].seed': unknown field"),
        ({"a_tasks": ["generate"]}, "a_tasks\\[0\\].generation': required field is missing"),
        ({"source": {"generation": "sparse"}}, "field 'a_tasks': chains that start from a generation source"),
        ({"source": {"dataset": "a", "generation": "b"}}, "exactly one of"),
        ({"id": "x" * 49}, "field 'id'"),
    ]:
        with pytest.raises(MetadataError, match=pattern):
            parse(Pipeline, {**PIPELINE, **change})
    ok = parse(Pipeline, {**PIPELINE, "source": {"generation": "sparse"}, "a_tasks": ["generate", "select"],
                          "b_input": "a"})
    assert ok.a_tasks[0] == TaskSpec.of("generate")
    assert dumps(ok).count('"task": "generate"') == 1


def test_dataset_rules() -> None:
    for change, pattern in [
        ({"event_file": "/abs/path.fits"}, "field 'event_file'"),
        ({"event_file": "data/../../etc/passwd"}, "field 'event_file'"),
        ({"kind": "synthetic"}, "field 'synthetic'"),
        ({"kind": "synthetic", "synthetic": True}, "field 'generation_id'"),
        ({"energy_calibration": "linear"}, "field 'calibration_params'"),
        ({"file_sha256": "XYZ"}, "field 'file_sha256'"),
    ]:
        with pytest.raises(MetadataError, match=pattern):
            parse(DatasetMeta, {**DATASET, **change})


def test_search_space_validation() -> None:
    base = json.loads(embedded_defaults()["search"][0][1])
    space = parse(SearchSpace, base)
    assert space.entries()["velocity_lu_per_s"].fixed == "template"
    for parameters, pattern in [
        ({"alpha_lu": {"low": 2, "high": 1}}, "parameters.alpha_lu.high"),
        ({"alpha_lu": {"low": 0, "high": 1, "scale": "log"}}, "parameters.alpha_lu.low"),
        ({"bogus": {"fixed": 1}}, "parameters.bogus"),
    ]:
        with pytest.raises(MetadataError, match=pattern):
            parse(SearchSpace, {**base, "parameters": parameters})


def test_failed_write_keeps_old_file(tmp_path) -> None:
    target = tmp_path / "doc.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]


def test_write_killed_midway_leaves_old_file_and_sweep_cleans(tmp_path) -> None:
    target = tmp_path / "doc.json"
    write_text(target, "old\n")
    script = (
        "import os, signal, sys\n"
        "from lightlane.store.atomic import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    handle = open(tmp, 'w'); handle.write('partial'); handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -signal.SIGKILL
    assert target.read_text() == "old\n"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "doc.json"]
    assert len(leftovers) == 1 and leftovers[0].read_text() == "partial"
    assert sweep_stale_temp_files(tmp_path) == leftovers
    assert sorted(os.listdir(tmp_path)) == ["doc.json"]
