"""Removing what lightlane can recompute (SPEC §18 ``clean``).

Raw data are never touched: nothing under ``data/raw/`` and no file a raw dataset
refers to (a linked raw file may live anywhere) is ever removed. Catalog rows are
kept; removed datasets get ``deleted_at``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from .catalog import Catalog, utc_now
from .metadata import DatasetMeta, GenerationParameters, Pipeline
from .workspace import Workspace

__all__ = ["CleanPlan", "plan_clean", "apply_clean"]


@dataclass(frozen=True)
class CleanPlan:
    """What a clean removes: files and folders, datasets to mark deleted, pipelines to reset."""

    paths: tuple[Path, ...]
    datasets: tuple[str, ...]
    pipelines: tuple[str, ...]


@dataclass(frozen=True)
class _Protected:
    """data/raw and every file a raw dataset refers to, as written and resolved through links."""

    raw_root: Path
    files: frozenset[Path]

    @classmethod
    def of(cls, workspace: Workspace) -> _Protected:
        files: set[Path] = set()
        for dataset_id in workspace.ids(DatasetMeta):
            meta = workspace.load(DatasetMeta, dataset_id)
            if meta.kind == "raw":
                path = workspace.path(meta.event_file)
                files.update({Path(os.path.abspath(path)), path.resolve()})
        return cls((workspace.root / "data" / "raw").resolve(), frozenset(files))

    def covers(self, path: Path) -> bool:
        forms = {Path(os.path.abspath(path)), path.resolve()}
        inside_raw = any(form == self.raw_root or self.raw_root in form.parents for form in forms)
        return inside_raw or bool(forms & self.files)


def _children(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def plan_clean(workspace: Workspace, *, cache: bool, generated: bool, results: bool) -> CleanPlan:
    """Decide what to remove, without removing anything."""
    protected = _Protected.of(workspace)
    paths: list[Path] = []
    datasets: list[str] = []
    pipelines: list[str] = []
    if cache:
        paths += _children(workspace.root / "cache" / "chunks") + _children(workspace.root / "cache" / "spectra")
    if results:
        for folder in _children(workspace.root / "results"):
            paths += _children(folder)
    if generated:
        for dataset_id in workspace.ids(DatasetMeta):
            meta = workspace.load(DatasetMeta, dataset_id)
            if meta.kind == "raw":
                continue
            event_file = workspace.path(meta.event_file)
            if event_file.exists() and not protected.covers(event_file):
                paths.append(event_file)
            paths.append(workspace.meta_path(DatasetMeta, dataset_id))
            if meta.generation_id == dataset_id and workspace.exists(GenerationParameters, dataset_id):
                paths.append(workspace.meta_path(GenerationParameters, dataset_id))
            datasets.append(dataset_id)
        pipelines = [p for p in workspace.ids(Pipeline) if workspace.load(Pipeline, p).outputs is not None]
    safe = [p for p in dict.fromkeys(paths) if not protected.covers(p)]
    return CleanPlan(tuple(safe), tuple(datasets), tuple(pipelines))


def apply_clean(workspace: Workspace, plan: CleanPlan) -> None:
    """Carry out a plan; the caller holds the workspace lock."""
    for pipeline_id in plan.pipelines:
        workspace.save(replace(workspace.load(Pipeline, pipeline_id), outputs=None))
    for path in plan.paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    if plan.datasets:
        now = utc_now()
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            for dataset_id in plan.datasets:
                cursor.execute("UPDATE datasets SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (now, dataset_id))
