"""``clean`` cannot delete what a dataset refers to, and an interrupted clean is finished by the next one
(SPEC §4.1 rev 2, §18 ``clean`` rev 2, §21 properties 23, 28 and 29)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import lightlane.clean as clean_module
from lightlane import Workspace
from lightlane.cli import main
from lightlane.datasets.onboard import onboard_file
from lightlane.datasets.registered import read_dataset
from lightlane.exceptions import MetadataError
from lightlane.metadata import DatasetMeta, GenerationParameters, Pipeline, ProcessingParameters, TaskSpec
from lightlane.metadata.pipeline import Outputs
from lightlane.pipelines.definitions import create_pipeline
from lightlane.pipelines.outputs import write_task_output
from lightlane.pipelines.tasks import apply_chain

from .helpers import catalog_rows, snapshot

CACHE_FILES = ("cache/chunks/ab/ab01.parquet", "cache/chunks/ab/ab02.parquet", "cache/spectra/cd/cd01.parquet")
RESULT_FILES = ("results/pipelines/p/run-1/a.png", "results/pipelines/p/run-1/b.png",
                "results/pipelines/p/run-1/tables/t.parquet", "results/analyze/src/q.png", "results/index.html")


def _relink(workspace: Workspace, dataset_id: str, new_target: Path) -> None:
    """Move a linked raw file to ``new_target`` and re-point the dataset's (relative) symlink at it."""
    link = workspace.path(workspace.load(DatasetMeta, dataset_id).event_file)
    new_target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(os.path.realpath(link), new_target)
    link.unlink()
    link.symlink_to(os.path.relpath(new_target, link.parent))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> tuple[dict[str, bytes], set[str], dict[str, str]]:
    """Files with bytes, folders, and symlinks with targets: what two clean workspaces must share."""
    paths = list(root.rglob("*"))
    folders = {p.relative_to(root).as_posix() for p in paths if p.is_dir() and not p.is_symlink()}
    links = {p.relative_to(root).as_posix(): os.readlink(p) for p in paths if p.is_symlink()}
    return snapshot(root), folders, links


def _catalog(workspace: Workspace) -> dict[str, bool]:
    """Dataset id → marked deleted (the times themselves differ between twins)."""
    return {row[0]: row[10] is not None for row in catalog_rows(workspace, "datasets")}


def _build(workspace: Workspace, make_events) -> dict[str, Path]:
    """A workspace with every kind of file: copied and linked raw data (linked targets inside results/ and
    cache/, one through a second symlink), derived A/B, a synthetic dataset, a pipeline with outputs, cache
    and result files. Returns the raw files that must survive, by name."""
    rng = np.random.default_rng(7)
    n = 1500
    times = np.sort(rng.uniform(0.0, 1500.0, n))
    columns = {"PI": ("J", (1 + 1.239841984 / rng.uniform(0.09, 1.05, n) / 0.0146).astype(np.int32))}
    src = onboard_file(workspace, make_events(name="src.fits", times=times, columns=columns,
                                              gtis=[(0.0, 1500.0)], header={"TSTOP": 1500.0}), "src")
    for name in ("in_results", "in_cache", "via_link"):
        onboard_file(workspace, make_events(name=f"{name}.fits"), name, link=True)
    _relink(workspace, "in_results", workspace.root / "results" / "x" / "sub" / "in_results.fits")
    _relink(workspace, "in_cache", workspace.root / "cache" / "chunks" / "ab" / "in_cache.fits")
    # via_link: data/raw/via_link/via_link.fits → results/y/hop.fits (a symlink) → outside the workspace
    outside = Path(os.path.realpath(workspace.path(workspace.load(DatasetMeta, "via_link").event_file)))
    hop = workspace.root / "results" / "y" / "hop.fits"
    hop.parent.mkdir(parents=True)
    hop.symlink_to(outside)
    link = workspace.path(workspace.load(DatasetMeta, "via_link").event_file)
    link.unlink()
    link.symlink_to(os.path.relpath(hop, link.parent))

    processing = workspace.load(ProcessingParameters, "default")
    source = read_dataset(workspace, "src")
    a = apply_chain([TaskSpec.of("select")], source, processing, 5, 0)
    b = apply_chain([TaskSpec.of("poissonize")], a, processing, 5, 1)
    for side, events in (("a", a), ("b", b)):
        write_task_output(workspace, events, pipeline_id="p", side=side, processing=processing, run_seed=5,
                          run_index=0, parent_id="src")
    pipeline = create_pipeline(workspace, {"id": "p", "source": {"dataset": "src"}, "processing": "default",
                                           "a_tasks": ["select"], "b_input": "a", "b_tasks": ["poissonize"]})
    workspace.save(dataclasses.replace(pipeline, outputs=Outputs(run_id="r1", a="p_a", b="p_b")))
    assert main(["--workspace", str(workspace.root), "--quiet", "generate", "sparse", "--seed", "1"]) == 0

    for index, name in enumerate(CACHE_FILES + RESULT_FILES):
        path = workspace.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"generated {index}".encode())
    return {
        "src": workspace.path(src.event_file),
        "in_results": workspace.root / "results" / "x" / "sub" / "in_results.fits",
        "in_cache": workspace.root / "cache" / "chunks" / "ab" / "in_cache.fits", "hop": hop, "outside": outside,
    }


@pytest.fixture
def built(workspace: Workspace, make_events) -> tuple[Workspace, dict[str, Path]]:
    return workspace, _build(workspace, make_events)


def _clean(workspace: Workspace, *options: str) -> int:
    return main(["--workspace", str(workspace.root), "--quiet", "clean", *options])


def _synthetic_id(workspace: Workspace) -> str:
    (found,) = [i for i in workspace.ids(DatasetMeta) if re.fullmatch(r"[0-9a-f]{8}", i)]
    return found


# ----------------------------------------------------------------------------- linked raw files survive


def test_clean_all_keeps_linked_raw_files_byte_identical(built, capsys) -> None:
    workspace, raw = built
    synthetic = _synthetic_id(workspace)
    before = {name: _digest(path) for name, path in raw.items()}

    assert _clean(workspace, "--all") == 0
    assert {name: _digest(path) for name, path in raw.items()} == before
    assert raw["hop"].is_symlink()
    for dataset_id in ("src", "in_results", "in_cache", "via_link"):  # each still loads and resolves
        assert workspace.path(workspace.load(DatasetMeta, dataset_id).event_file).is_file()

    # everything generated is gone, the folders it emptied too, the layout stays
    assert sorted(workspace.ids(DatasetMeta)) == ["in_cache", "in_results", "src", "via_link"]
    assert not workspace.exists(GenerationParameters, synthetic) and workspace.exists(GenerationParameters, "sparse")
    assert workspace.load(Pipeline, "p").outputs is None
    assert not any(workspace.path(name).exists() for name in CACHE_FILES + RESULT_FILES)
    assert not (workspace.root / "results" / "pipelines" / "p").exists()
    assert [p.name for p in (workspace.root / "cache" / "chunks" / "ab").iterdir()] == ["in_cache.fits"]
    assert not (workspace.root / "cache" / "spectra" / "cd").exists()
    assert (workspace.root / "results" / "pipelines").is_dir() and (workspace.root / "cache" / "spectra").is_dir()
    assert list((workspace.root / "data" / "derived").iterdir()) == []
    assert _catalog(workspace) == {"src": False, "in_results": False, "in_cache": False, "via_link": False,
                                   "p_a": True, "p_b": True, synthetic: True}

    # a finished clean leaves nothing more to do
    assert main(["--workspace", str(workspace.root), "clean", "--all", "--dry-run"]) == 0
    assert not any(line.startswith("would") for line in capsys.readouterr().out.splitlines())


def test_dry_run_lists_exactly_what_clean_does(built, capsys) -> None:
    workspace, _ = built
    synthetic = _synthetic_id(workspace)
    before = _tree(workspace.root), _catalog(workspace)
    assert main(["--workspace", str(workspace.root), "clean", "--all", "--dry-run"]) == 0
    assert (_tree(workspace.root), _catalog(workspace)) == before
    listing = capsys.readouterr().out.splitlines()
    assert "kept results/x/sub/in_results.fits: a dataset's event_file refers to it" in listing
    assert "kept cache/chunks/ab/in_cache.fits: a dataset's event_file refers to it" in listing
    assert "kept results/y/hop.fits: a dataset's event_file refers to it" in listing
    assert f"would mark dataset {synthetic} deleted in the catalog (row kept)" in listing
    assert "would reset outputs of pipeline p" in listing
    assert not any("data/raw" in line for line in listing)

    assert main(["--workspace", str(workspace.root), "clean", "--all"]) == 0
    done = capsys.readouterr().out.splitlines()
    def without_verb(line: str) -> str:
        return line.split(" ", 2 if line.startswith("would ") else 1)[-1]

    assert [without_verb(line) for line in listing] == [without_verb(line) for line in done]
    assert {line.removeprefix("would remove ") for line in listing if line.startswith("would remove ")} == {
        "data/derived/p_a.fits", "data/derived/p_b.fits", f"data/synthetic/{synthetic}.fits",
        f"meta/generation/{synthetic}.json", "meta/datasets/p_a.json", "meta/datasets/p_b.json",
        f"meta/datasets/{synthetic}.json", *CACHE_FILES, *RESULT_FILES,
        "cache/spectra/cd/", "results/pipelines/p/run-1/tables/", "results/pipelines/p/run-1/",
        "results/pipelines/p/", "results/analyze/src/", f"results/generate/{synthetic}/lanecount_{synthetic}.png",
        f"results/generate/{synthetic}/", "results/generate/",  # not a layout folder: made on demand
    }


def test_hard_link_of_raw_file_in_results_is_kept(built) -> None:
    workspace, raw = built
    copy = workspace.root / "results" / "z" / "copy.fits"
    copy.parent.mkdir()
    os.link(raw["src"], copy)
    assert _clean(workspace, "--results") == 0
    assert copy.is_file() and raw["src"].is_file()
    assert not workspace.path("results/index.html").exists()


def test_results_folder_linked_back_into_the_workspace_is_not_cleaned(built) -> None:
    workspace, _ = built
    (workspace.root / "results" / "pipelines" / "p" / "run-1" / "up").symlink_to("../../../..")
    before = snapshot(workspace.root / "meta")
    assert _clean(workspace, "--results") == 0
    assert snapshot(workspace.root / "meta") == before  # the link is removed, never walked
    assert not (workspace.root / "results" / "pipelines" / "p").exists()


# ----------------------------------------------------------------------------- hand-edited event_file


@pytest.mark.parametrize("event_file", ["data", ".", "data/derived", "data/raw/src/src.fits",
                                        "data/derived/p_b.fits", "results/index.html"])
def test_hand_edited_event_file_is_refused_and_nothing_is_deleted(built, capsys, event_file: str) -> None:
    workspace, _ = built
    path = workspace.meta_path(DatasetMeta, "p_a")
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "event_file": event_file}))
    expected = (f"meta/datasets/p_a.json: field 'event_file': expected data/derived/p_a.fits for a derived "
                f"dataset, got {json.dumps(event_file)}")
    with pytest.raises(MetadataError) as raised:
        workspace.load(DatasetMeta, "p_a")
    assert str(raised.value) == expected

    before = _tree(workspace.root), _catalog(workspace)
    capsys.readouterr()
    for options in (["--generated"], ["--all"], []):
        assert _clean(workspace, *options) == 3
        err = capsys.readouterr().err
        assert err == f"lightlane clean: error: {expected}\n"
    assert (_tree(workspace.root), _catalog(workspace)) == before


@pytest.mark.parametrize(("kind", "event_file", "expected"), [
    ("raw", "data/raw/src", "a file inside data/raw/src/ for a raw dataset"),
    ("raw", "data/raw/other/src.fits", "a file inside data/raw/src/ for a raw dataset"),
    ("raw", "data/raw/src/.", "a file inside data/raw/src/ for a raw dataset"),
    ("raw", "results/x/src.fits", "a file inside data/raw/src/ for a raw dataset"),
    ("synthetic", "data/derived/src.fits", "data/synthetic/src.fits for a synthetic dataset"),
])
def test_event_file_must_sit_where_its_kind_belongs(workspace, make_events, kind, event_file, expected) -> None:
    onboard_file(workspace, make_events(name="src.fits"), "src")
    path = workspace.meta_path(DatasetMeta, "src")
    document = json.loads(path.read_text())
    synthetic = {"synthetic": True, "generation_id": "sparse"} if kind == "synthetic" else {}
    path.write_text(json.dumps({**document, "kind": kind, "event_file": event_file, **synthetic}))
    with pytest.raises(MetadataError, match=re.escape(f"field 'event_file': expected {expected}")):
        workspace.load(DatasetMeta, "src")


def test_raw_event_file_in_a_subfolder_is_accepted(workspace, make_events) -> None:
    onboard_file(workspace, make_events(name="src.fits"), "src")
    path = workspace.meta_path(DatasetMeta, "src")
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "event_file": "data/raw/src/primary/src.fits"}))
    assert workspace.load(DatasetMeta, "src").event_file == "data/raw/src/primary/src.fits"


# ----------------------------------------------------------------------------- interruptions


class _Killed(KeyboardInterrupt):
    """A kill in the middle of the file deletions (the CLI treats it like Ctrl-C)."""


def test_interrupted_clean_is_finished_by_the_next_one(built, tmp_path, monkeypatch) -> None:
    workspace, raw = built
    removed = {"p_a", "p_b", _synthetic_id(workspace)}
    base = tmp_path / "base"
    shutil.copytree(workspace.root, base, symlinks=True)
    reference = Workspace.at(tmp_path / "reference")
    shutil.copytree(base, reference.root, symlinks=True)
    assert _clean(reference, "--all") == 0
    expected = _tree(reference.root), _catalog(reference)
    plan = clean_module.plan_clean(Workspace.at(base), cache=True, generated=True, results=True)
    assert len(plan.files) > 10

    real_remove = clean_module._remove_file
    for k in sorted({0, 1, 2, 3, len(plan.files) // 2, len(plan.files) - 1}):
        twin = Workspace.at(tmp_path / f"twin-{k}")
        shutil.copytree(base, twin.root, symlinks=True)
        calls: list[Path] = []

        def remove(path: Path, twin: Workspace = twin, calls: list[Path] = calls) -> None:
            # the catalog already says "deleted" before the first file goes
            assert all(_catalog(twin)[dataset_id] for dataset_id in removed)
            if len(calls) == k:
                raise _Killed
            calls.append(path)
            real_remove(path)

        monkeypatch.setattr(clean_module, "_remove_file", remove)
        assert _clean(twin, "--all") == 130
        assert len(calls) == k
        monkeypatch.setattr(clean_module, "_remove_file", real_remove)
        assert _clean(twin, "--all") == 0
        assert (_tree(twin.root), _catalog(twin)) == expected, f"killed after {k} file(s)"
        assert _digest(twin.root / "results" / "x" / "sub" / "in_results.fits") == _digest(raw["in_results"])


def test_interrupted_before_any_file_keeps_first_deleted_at(built, monkeypatch) -> None:
    """The catalog update is idempotent: a second clean keeps the time of the first."""
    workspace, _ = built

    def killed(path: Path) -> None:
        raise _Killed

    monkeypatch.setattr(clean_module, "_remove_file", killed)
    assert _clean(workspace, "--generated") == 130
    first = {row[0]: row[10] for row in catalog_rows(workspace, "datasets")}
    assert workspace.load(Pipeline, "p").outputs is None and workspace.path("data/derived/p_a.fits").is_file()
    monkeypatch.undo()
    assert _clean(workspace, "--generated") == 0
    assert {row[0]: row[10] for row in catalog_rows(workspace, "datasets")} == first
    assert not workspace.path("data/derived/p_a.fits").exists() and not workspace.exists(DatasetMeta, "p_a")
