"""Writing task outputs (SPEC §4.2, §5.2, §6.4, §7.6, §8, §9): lightlane.pipelines.outputs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from lightlane import Workspace
from lightlane.datasets.onboard import onboard_file
from lightlane.datasets.registered import read_dataset
from lightlane.datasets.synthetic import provenance_digest
from lightlane.events.reading import read_events
from lightlane.exceptions import DataError, MetadataError
from lightlane.metadata import DatasetMeta, GenerationParameters, ProcessingParameters, TaskSpec
from lightlane.pipelines.outputs import planned_output_id, task_output_id, write_task_output
from lightlane.pipelines.tasks import EventList, apply_chain
from lightlane.store.catalog import Catalog

from ..helpers import catalog_rows

N = 4000
RUN_SEED = 12345


def _source(workspace: Workspace, make_events, dataset_id: str = "src") -> EventList:
    """Onboard an ACIS-like file with X/Y and two raw passthrough columns; read it with them."""
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0.0, 4000.0, N))
    columns = {
        # wavelengths uniform over 0.09–1.05 nm, so every bin of the default band (0.1–1 nm) is populated
        "PI": ("J", (1 + 1.239841984 / rng.uniform(0.09, 1.05, N) / 0.0146).astype(np.int32)),
        "X": ("D", rng.uniform(3000.0, 5000.0, N)),
        "Y": ("D", rng.uniform(3000.0, 5000.0, N)),
        "CCD_ID": ("I", rng.integers(0, 10, N).astype(np.int16)),
        "GRADE": ("J", rng.integers(0, 7, N).astype(np.int32)),
    }
    path = make_events(times=times, columns=columns, gtis=[(0.0, 4000.0)],
                       header={"TSTOP": 4000.0, "OBS_ID": "10027", "OBJECT": "M82"})
    meta = onboard_file(workspace, path, dataset_id)
    raw = read_events(workspace.path(meta.event_file), meta.energy_calibration, dataset_id=dataset_id,
                      passthrough=True)
    return dataclasses.replace(raw, source_id=dataset_id)


def _processing(workspace: Workspace) -> ProcessingParameters:
    return workspace.load(ProcessingParameters, "default")


def _chains(workspace: Workspace, source: EventList, run_seed: int = RUN_SEED) -> tuple[EventList, EventList]:
    processing = _processing(workspace)
    a = apply_chain([TaskSpec.of("select"), TaskSpec.of("flatten")], source, processing, run_seed, 0)
    b = apply_chain([TaskSpec.of("poissonize")], a, processing, run_seed, 1)
    return a, b


def _write(workspace: Workspace, events: EventList, side: str, run_index: int = 0, run_seed: int = RUN_SEED,
           pipeline_id: str = "src_vs_poisson") -> DatasetMeta:
    return write_task_output(workspace, events, pipeline_id=pipeline_id, side=side,  # type: ignore[arg-type]
                             processing=_processing(workspace), run_seed=run_seed, run_index=run_index,
                             parent_id="src")


def _leftover_temporaries(workspace: Workspace) -> list[Path]:
    return [p for p in workspace.root.rglob("*.tmp-*")]


def test_output_ids() -> None:
    assert task_output_id("p", "a") == "p_a"
    assert task_output_id("p", "b", 0) == "p_b"
    assert task_output_id("p", "a", 2) == "p_a_r2"
    with pytest.raises(MetadataError, match="pipeline id"):
        task_output_id("x" * 49, "a")
    with pytest.raises(MetadataError, match="pipeline id"):
        task_output_id("Bad", "a")
    with pytest.raises(MetadataError, match="side"):
        task_output_id("p", "c")  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match="run index"):
        task_output_id("p", "a", -1)


def test_a_and_b_are_written_with_provenance(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    a, b = _chains(workspace, source)
    meta_a, meta_b = _write(workspace, a, "a"), _write(workspace, b, "b")

    assert (meta_a.id, meta_b.id) == ("src_vs_poisson_a", "src_vs_poisson_b")
    for meta, events, chain in ((meta_a, a, ["select", "flatten"]), (meta_b, b, ["select", "flatten", "poissonize"])):
        assert meta.kind == "derived" and meta.synthetic is False and meta.generation_id is None
        assert meta.event_file == f"data/derived/{meta.id}.fits" and workspace.path(meta.event_file).is_file()
        assert meta.energy_calibration == "stored-wavelength" and meta.channel_column is None
        assert meta.coordinates == "sky" and meta.parent_id == "src"
        assert (meta.mission, meta.instrument, meta.obs_id, meta.object) == ("CHANDRA", "ACIS", "10027", "M82")
        assert meta.time.mjdref == 50814.0 and meta.time.gti_count == 1
        assert meta.time.exposure_s == 4000.0 and (meta.time.tstart_s, meta.time.tstop_s) == (0.0, 4000.0)
        assert [t.name for t in meta.tasks] == chain and meta.tasks == events.tasks
        assert meta.event_count == events.count
        # a flattened output is flat in the band: its weighted R² is undefined and stored as null
        assert meta.apparent_spectrum is not None and meta.apparent_spectrum.r2 is None
        assert meta.created_at and meta.code_version
        assert workspace.load(DatasetMeta, meta.id) == meta

    # flatten makes every band bin equally populated
    assert meta_a.event_count % _processing(workspace).band.bins == 0 and meta_a.event_count == meta_b.event_count

    rows = {row[0]: row for row in catalog_rows(workspace, "datasets")}
    with Catalog.open(workspace.catalog_path) as catalog:
        for meta, events in ((meta_a, a), (meta_b, b)):
            row = catalog.dataset_row(meta.id)
            assert row["kind"] == "derived" and row["event_file"] == meta.event_file
            assert row["file_sha256"] == meta.file_sha256 and row["events_hash"] == events.events_hash()
            assert row["parent_id"] == "src" and row["generation_id"] is None and row["seed"] == RUN_SEED
            assert json.loads(row["tasks_json"]) == [_json(t) for t in meta.tasks] == [
                "select", {"task": "flatten", "min_per_bin": 1}, *(["poissonize"] if meta is meta_b else [])]
            assert row["deleted_at"] is None
    assert set(rows) == {"src", meta_a.id, meta_b.id}


def _json(task: TaskSpec) -> object:
    from lightlane.metadata import to_json

    return to_json(task)


def test_keywords_and_bit_exact_round_trip(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    a, b = _chains(workspace, source)
    for side, events in (("a", a), ("b", b)):
        meta = _write(workspace, events, side)
        with fits.open(workspace.path(meta.event_file)) as hdul:
            assert [h.name for h in hdul] == ["PRIMARY", "EVENTS", "GTI"]
            header = hdul["EVENTS"].header
            assert header["LLSCHEMA"] == 1 and header["LLDSID"] == meta.id and header["LLPARENT"] == "src"
            assert header["LLGENID"] == "" and header["LLSEED"] == RUN_SEED
            assert header["LLHASH"] == events.events_hash()
            assert json.loads(header["LLTASKS"]) == [_json(t) for t in events.tasks]
            assert header["TELESCOP"] == "CHANDRA" and header["INSTRUME"] == "ACIS"
            assert header["OBS_ID"] == "10027" and header["OBJECT"] == "M82" and header["MJDREF"] == 50814.0
            assert header["TIMEUNIT"] == "s" and header["CREATOR"].startswith("lightlane ")
            names = set(hdul["EVENTS"].columns.names)
            assert {"TIME", "WAVELENGTH", "ENERGY_KEV", "PI", "X", "Y", "CCD_ID", "GRADE"} <= names
            assert hdul["EVENTS"].columns["CCD_ID"].format == "I"
        back = read_dataset(workspace, meta.id)
        order = np.argsort(events.events["time"].to_numpy(), kind="stable")
        for column in ("time", "wavelength_nm", "energy_kev", "x", "y", "pi"):
            expected = events.events[column].to_numpy()[order]
            got = back.events[column].to_numpy()
            assert got.tobytes() == expected.astype(got.dtype).tobytes(), column
        np.testing.assert_array_equal(back.gti, events.gti)
        assert back.events_hash() == events.events_hash()
        # passthrough columns survive unchanged
        raw = read_events(workspace.path(meta.event_file), "stored-wavelength", dataset_id=meta.id, passthrough=True)
        for column in ("ccd_id", "grade"):
            np.testing.assert_array_equal(raw.events[column].to_numpy(), events.events[column].to_numpy()[order])


def test_prunecolumns_drops_passthrough_columns(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    pruned = apply_chain([TaskSpec.of("select"), TaskSpec.of("prunecolumns")], source, _processing(workspace),
                         RUN_SEED, 0)
    meta = _write(workspace, pruned, "a", pipeline_id="pruned")
    with fits.open(workspace.path(meta.event_file)) as hdul:
        names = set(hdul["EVENTS"].columns.names)
    assert "CCD_ID" not in names and "GRADE" not in names and {"TIME", "WAVELENGTH", "X", "Y", "PI"} <= names
    assert [t.name for t in meta.tasks] == ["select", "prunecolumns"]
    # not flattened: the apparent spectrum is fitted on the processing band and stored
    assert meta.apparent_spectrum is not None and meta.apparent_spectrum.band == _processing(workspace).band
    assert meta.apparent_spectrum.n_events == meta.event_count


def test_baseline_runs_get_their_own_ids(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    a, b = _chains(workspace, source, run_seed=99)
    meta = _write(workspace, b, "b", run_index=3, run_seed=99)
    assert meta.id == "src_vs_poisson_b_r3" and meta.event_file == "data/derived/src_vs_poisson_b_r3.fits"
    with fits.open(workspace.path(meta.event_file)) as hdul:
        assert hdul["EVENTS"].header["LLSEED"] == 99
    with pytest.raises(MetadataError, match="run seed"):
        _write(workspace, a, "a", run_seed=2**63)


def test_rerun_overwrites_run_zero(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    a1, _ = _chains(workspace, source, run_seed=1)
    a2, _ = _chains(workspace, source, run_seed=2)
    first = _write(workspace, a1, "a", run_seed=1)
    second = _write(workspace, a2, "a", run_seed=2)
    assert first.id == second.id == "src_vs_poisson_a"
    assert first.file_sha256 != second.file_sha256
    assert workspace.load(DatasetMeta, second.id) == second
    assert sorted(p.name for p in (workspace.root / "data" / "derived").iterdir()) == ["src_vs_poisson_a.fits"]
    rows = [r for r in catalog_rows(workspace, "datasets") if r[0] == "src_vs_poisson_a"]
    assert len(rows) == 1
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.dataset_row(second.id)
        assert row["seed"] == 2 and row["events_hash"] == a2.events_hash()
    assert read_dataset(workspace, second.id).events_hash() == a2.events_hash()
    assert _leftover_temporaries(workspace) == []


def test_failure_keeps_the_previous_version(workspace: Workspace, make_events, monkeypatch) -> None:
    source = _source(workspace, make_events)
    a1, _ = _chains(workspace, source, run_seed=1)
    a2, _ = _chains(workspace, source, run_seed=2)
    first = _write(workspace, a1, "a", run_seed=1)
    meta_path = workspace.meta_path(DatasetMeta, first.id)
    before = (workspace.path(first.event_file).read_bytes(), meta_path.read_bytes())
    rows_before = catalog_rows(workspace, "datasets")

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Catalog, "insert", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _write(workspace, a2, "a", run_seed=2)
    assert (workspace.path(first.event_file).read_bytes(), meta_path.read_bytes()) == before
    assert catalog_rows(workspace, "datasets") == rows_before
    assert _leftover_temporaries(workspace) == []
    assert read_dataset(workspace, first.id).events_hash() == a1.events_hash()

    # a first write that fails leaves nothing behind
    with pytest.raises(RuntimeError, match="disk on fire"):
        _write(workspace, a2, "b", run_seed=2)
    assert not workspace.exists(DatasetMeta, "src_vs_poisson_b")
    assert not workspace.path("data/derived/src_vs_poisson_b.fits").exists()
    assert _leftover_temporaries(workspace) == []


def test_read_back_mismatch_is_refused(workspace: Workspace, make_events, monkeypatch) -> None:
    source = _source(workspace, make_events)
    a, _ = _chains(workspace, source)
    import lightlane.pipelines.outputs as derived

    real_read = derived.read_events

    def read_shifted(*args, **kwargs):  # the file on disk holds other times than those hashed
        back = real_read(*args, **kwargs)
        return back.with_events(back.events.with_columns(back.events["time"] + 1.0))

    monkeypatch.setattr(derived, "read_events", read_shifted)
    with pytest.raises(DataError, match="events_hash mismatch"):
        _write(workspace, a, "a")
    assert not workspace.exists(DatasetMeta, "src_vs_poisson_a")
    assert not (workspace.root / "data" / "derived").exists() or not any((workspace.root / "data" / "derived").iterdir())


def test_raw_dataset_is_never_overwritten(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events, dataset_id="p_a")
    a, _ = _chains(workspace, source)
    with pytest.raises(MetadataError, match="raw dataset"):
        _write(workspace, a, "a", pipeline_id="p")


def test_empty_output_is_refused(workspace: Workspace, make_events) -> None:
    source = _source(workspace, make_events)
    empty = source.with_events(source.events.head(0))
    with pytest.raises(DataError, match="no events"):
        _write(workspace, empty, "a")


def _short_generation(workspace: Workspace) -> None:
    template = workspace.load(GenerationParameters, "isotropic")
    short = dataclasses.replace(template, id="short", time=dataclasses.replace(template.time, tstop_s=600.0))
    workspace.save(short)


def test_generate_chain_gets_a_hex_id_and_its_resolved_generation(workspace: Workspace) -> None:
    _short_generation(workspace)
    processing = _processing(workspace)
    chain = [TaskSpec.of("generate", generation="short"), TaskSpec.of("select")]
    a = apply_chain(chain, EventList.empty(), processing, RUN_SEED, 0, workspace=workspace)
    b = apply_chain([TaskSpec.of("poissonize")], a, processing, RUN_SEED, 1)
    planned = [planned_output_id(workspace, events, pipeline_id="src_vs_poisson", side=side) for side, events in
               (("a", a), ("b", b))]
    meta_a = _write(workspace, a, "a")
    meta_b = _write(workspace, b, "b")
    # A run names its analyses and figures with the id before the write: the same one.
    assert planned == [meta_a.id, meta_b.id]
    assert planned_output_id(workspace, a, pipeline_id="src_vs_poisson", side="a") == meta_a.id  # and once stored
    for meta, events in ((meta_a, a), (meta_b, b)):
        assert re.fullmatch(r"[0-9a-f]{8}", meta.id)
        assert meta.kind == "synthetic" and meta.synthetic is True and meta.generation_id == meta.id
        assert meta.event_file == f"data/synthetic/{meta.id}.fits" and workspace.path(meta.event_file).is_file()
        assert meta.coordinates == "synthetic" and (meta.mission, meta.instrument) == ("LIGHTLANE", "LANESHEET")
        assert meta.tasks == events.tasks
        resolved = workspace.load(GenerationParameters, meta.id)
        assert events.generation is not None
        assert resolved == dataclasses.replace(events.generation, id=meta.id)
        assert meta.id == provenance_digest(resolved, events.tasks)[:8]
        with fits.open(workspace.path(meta.event_file)) as hdul:
            header = hdul["EVENTS"].header
            assert header["LLGENID"] == meta.id and header["LLDSID"] == meta.id and header["LLSEED"] == RUN_SEED
        back = read_dataset(workspace, meta.id)
        assert back.events_hash() == events.events_hash()
        with Catalog.open(workspace.catalog_path) as catalog:
            row = catalog.dataset_row(meta.id)
            assert row["kind"] == "synthetic" and row["generation_id"] == meta.id
    assert meta_a.id != meta_b.id
    assert not workspace.exists(DatasetMeta, "src_vs_poisson_a")

    # the same provenance again returns the stored dataset untouched
    again = _write(workspace, a, "a")
    assert again == meta_a
    assert len([r for r in catalog_rows(workspace, "datasets") if r[0] == meta_a.id]) == 1

    # a removed event file is written again under the same id
    workspace.path(meta_a.event_file).unlink()
    restored = _write(workspace, a, "a")
    assert restored.id == meta_a.id and read_dataset(workspace, meta_a.id).events_hash() == a.events_hash()
    assert _leftover_temporaries(workspace) == []


def test_generate_chain_failure_removes_its_files(workspace: Workspace, monkeypatch) -> None:
    _short_generation(workspace)
    processing = _processing(workspace)
    a = apply_chain([TaskSpec.of("generate", generation="short")], EventList.empty(), processing, RUN_SEED, 0,
                    workspace=workspace)
    generations_before = workspace.ids(GenerationParameters)
    monkeypatch.setattr(Catalog, "insert", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        _write(workspace, a, "a")
    assert workspace.ids(GenerationParameters) == generations_before
    assert workspace.ids(DatasetMeta) == []
    synthetic_dir = workspace.root / "data" / "synthetic"
    assert not synthetic_dir.exists() or list(synthetic_dir.iterdir()) == []
    assert _leftover_temporaries(workspace) == []
