"""The quickstart demo content (SPEC §18 ``quickstart``): lightlane.demo.build_demo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lightlane import Workspace
from lightlane.datasets.registered import read_dataset
from lightlane.datasets.synthetic import write_synthetic_dataset
from lightlane.demo import (
    DEMO_GTIS_S,
    DEMO_LANE_SEED,
    DEMO_REAL_SEED,
    Demo,
    build_demo,
    quick_processing,
)
from lightlane.exceptions import DataError
from lightlane.lanesheet.simulation import simulate
from lightlane.metadata import (
    DatasetMeta,
    GenerationParameters,
    Pipeline,
    ProcessingParameters,
    RandomWidths,
    TaskSpec,
)
from lightlane.pipelines.definitions import load_pipeline

from .helpers import catalog_rows, snapshot


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and not p.name.startswith("lightlane.sqlite") and p.name != ".lock"}


@pytest.fixture
def demo_workspace(workspace: Workspace) -> tuple[Workspace, Demo]:
    with workspace.lock():
        demo = build_demo(workspace)
    return workspace, demo


def test_build_demo_is_idempotent(demo_workspace) -> None:
    workspace, demo = demo_workspace
    files, mtimes = snapshot(workspace.root), _mtimes(workspace.root)
    datasets = catalog_rows(workspace, "datasets")
    with workspace.lock():
        again = build_demo(workspace)
    assert again == demo
    assert snapshot(workspace.root) == files
    assert _mtimes(workspace.root) == mtimes
    assert catalog_rows(workspace, "datasets") == datasets
    assert {row[0] for row in datasets} == {"demo_real", "demo_lane"}


def test_rebuild_keeps_run_outputs_and_restores_edits(demo_workspace) -> None:
    from lightlane.metadata.pipeline import Outputs

    workspace, demo = demo_workspace
    # `run` records outputs in the pipeline JSON: a rebuild must not drop them
    pipeline = workspace.load(Pipeline, demo.positive_pipeline)
    with_outputs = dataclasses.replace(pipeline, outputs=Outputs(run_id="r", a="x", b="y", generated=()))
    workspace.save(with_outputs)
    # an edited processing is not the demo's any more: it is written back
    edited = dataclasses.replace(workspace.load(ProcessingParameters, "quick"), chunk_count=500)
    workspace.save(edited)
    with workspace.lock():
        build_demo(workspace)
    assert workspace.load(Pipeline, demo.positive_pipeline) == with_outputs
    assert workspace.load(ProcessingParameters, "quick") == quick_processing()


def test_quick_processing_is_the_spec_one(demo_workspace) -> None:
    workspace, demo = demo_workspace
    quick = workspace.load(ProcessingParameters, demo.processing)
    default = workspace.load(ProcessingParameters, "default")
    assert quick.chunk_count == 20_000 and quick.bootstrap_resamples == 200 and quick.significance_level == 0.05
    assert quick.time_bins == RandomWidths(from_s=20.0, to_s=300.0, count=10, distribution=default.time_bins.distribution)
    unchanged = ("chunk_count", "time_bins", "bootstrap_resamples", "significance_level", "id")
    assert dataclasses.replace(quick, **{f: getattr(default, f) for f in unchanged}) == default
    # 20 baseline runs can reach α (SPEC §18): 1/(R + 1) < α
    assert 1 / 21 < quick.significance_level


@pytest.mark.parametrize("which", ["real", "lane"])
def test_demo_datasets_have_the_specified_time_and_provenance(demo_workspace, which: str) -> None:
    workspace, demo = demo_workspace
    dataset_id, template, seed = {"real": (demo.real_dataset, "isotropic", DEMO_REAL_SEED),
                                  "lane": (demo.lane_dataset, "sparse", DEMO_LANE_SEED)}[which]
    meta = workspace.load(DatasetMeta, dataset_id)
    assert (meta.kind, meta.synthetic, meta.generation_id) == ("synthetic", True, dataset_id)
    assert (meta.time.tstart_s, meta.time.tstop_s, meta.time.gti_count) == (0.0, 20_000.0, 2)
    assert meta.time.exposure_s == pytest.approx(19_000.0, abs=1e-9)
    events = read_dataset(workspace, dataset_id)
    assert events.gti.tolist() == [[0.0, 9000.0], [10_000.0, 20_000.0]] == [list(g) for g in DEMO_GTIS_S]
    times = events.events["time"].to_numpy()
    assert times.min() >= 0.0 and times.max() < 20_000.0
    assert not ((times >= 9000.0) & (times < 10_000.0)).any()
    # ~18 counts/s for the embedded spectrum on 0.1–1 nm over 19 ks
    assert 250_000 < meta.event_count < 500_000
    resolved = workspace.load(GenerationParameters, dataset_id)
    embedded = workspace.load(GenerationParameters, template)
    assert resolved.seed == seed and resolved.model == embedded.model and resolved.n_iso == embedded.n_iso
    assert resolved.spectrum == workspace.load(GenerationParameters, "isotropic").spectrum
    assert meta.tasks[0].name == "generate" and meta.tasks[0].args.generation == template


def test_demo_pipelines_load_and_validate(demo_workspace) -> None:
    workspace, demo = demo_workspace
    expected = {demo.positive_pipeline: ("positive_control", demo.lane_dataset),
                demo.negative_pipeline: ("negative_control", demo.real_dataset)}
    assert set(demo.pipelines) == set(expected)
    for pipeline_id, (role, source) in expected.items():
        pipeline = load_pipeline(workspace, pipeline_id)
        assert (pipeline.role, pipeline.source.dataset, pipeline.processing) == (role, source, "quick")
        assert [t.name for t in pipeline.a_tasks] == ["select"]
        assert pipeline.b_input == "a" and [t.name for t in pipeline.b_tasks] == ["poissonize"]


def test_named_synthetic_id_never_replaces_another_provenance(demo_workspace) -> None:
    workspace, demo = demo_workspace
    processing = workspace.load(ProcessingParameters, demo.processing)
    other = dataclasses.replace(workspace.load(GenerationParameters, demo.real_dataset), seed=DEMO_REAL_SEED + 1)
    photons = simulate(other, processing)
    task = TaskSpec.of("generate", generation="isotropic", spectrum_from="generation", time_from="generation")
    with workspace.lock(), pytest.raises(DataError, match="'demo_real' already exists with another provenance"):
        write_synthetic_dataset(workspace, other, photons, processing, tasks=(task,), dataset_id=demo.real_dataset)
    with workspace.lock(), pytest.raises(DataError, match="generation 'sparse' already exists"):
        write_synthetic_dataset(workspace, other, photons, processing, tasks=(task,), dataset_id="sparse")
    assert workspace.load(GenerationParameters, demo.real_dataset).seed == DEMO_REAL_SEED
