"""Removing what lightlane can recompute (SPEC §18 ``clean``, rev 2).

Three rules make ``clean`` unable to remove data a dataset refers to:

* Only single files (or symlinks, never followed) it can prove generated are deleted: the event files of
  derived and synthetic datasets at their canonical paths (enforced at load, SPEC §4.1), their dataset and
  resolved-generation JSONs, and the files under ``cache/chunks``, ``cache/spectra`` and ``results/``. A
  folder is removed only when this clean leaves it empty; a folder tree is never removed whole.
* Every candidate is checked against every symlink on the way to, and the final target of, the
  ``event_file`` of every dataset that stays (raw, and derived/synthetic ones when they are not cleaned),
  and against ``data/raw`` itself. A candidate that matches is kept.
* The whole plan is made (every JSON loaded strictly) before anything changes; then the catalog marks the
  datasets deleted in one transaction, and only then do files disappear, in an order where whatever an
  interrupted clean leaves behind is found again by the next plan. Running the same clean again finishes it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass, replace
from pathlib import Path

from .exceptions import DataError
from .metadata import DatasetMeta, GenerationParameters, Pipeline
from .store.catalog import Catalog, utc_now
from .store.workspace import LAYOUT, Workspace

__all__ = ["CleanPlan", "plan_clean", "apply_clean"]

_MAX_LINKS = 40  # symlink hops followed when tracing an event file (the kernel's own limit)
_CACHE_AREAS = ("cache/chunks", "cache/spectra")


@dataclass(frozen=True)
class CleanPlan:
    """What a clean changes, in the order it changes it.

    ``datasets`` are marked deleted in the catalog, ``pipelines`` get their outputs reset, ``files`` are
    unlinked in order, ``folders`` (deepest first) are removed once empty, and ``kept`` lists candidates
    left in place because a dataset refers to them.
    """

    datasets: tuple[str, ...]
    pipelines: tuple[str, ...]
    files: tuple[Path, ...]
    folders: tuple[Path, ...]
    kept: tuple[Path, ...]

    @property
    def empty(self) -> bool:
        return not (self.datasets or self.pipelines or self.files or self.folders)


def _location(path: str) -> str:
    """Where the directory entry ``path`` really is: its folder resolved, its own name not followed."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _trace(path: str) -> set[str]:
    """``path`` as written, the location of every symlink met while resolving it, and its final target.

    Unlinking any of these would break (or, for the target, delete) what ``path`` refers to.
    """
    found = {os.path.abspath(path), os.path.realpath(path)}
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        parts = Path(current).parts
        for i in range(1, len(parts) + 1):
            prefix = os.path.join(*parts[:i])
            if os.path.islink(prefix):
                found.add(_location(prefix))
                current = os.path.join(os.path.dirname(prefix), os.readlink(prefix), *parts[i:])
                break
        else:
            break
    return found


@dataclass(frozen=True)
class _Guard:
    """Decides whether one candidate may go; knows what the remaining datasets refer to."""

    root: str  # the workspace, resolved
    raw: frozenset[str]  # data/raw as written and resolved
    referenced: frozenset[str]  # every path of every _trace
    inodes: frozenset[tuple[int, int]]  # event file targets, so hard links and aliases are recognised too

    @classmethod
    def of(cls, workspace: Workspace, metas: list[DatasetMeta]) -> _Guard:
        referenced: set[str] = set()
        inodes: set[tuple[int, int]] = set()
        for meta in metas:
            path = str(workspace.path(meta.event_file))
            referenced |= _trace(path)
            with contextlib.suppress(OSError):
                stat = os.stat(path)
                inodes.add((stat.st_dev, stat.st_ino))
        raw = str(workspace.root / "data" / "raw")
        return cls(os.path.realpath(workspace.root), frozenset({os.path.abspath(raw), os.path.realpath(raw)}),
                   frozenset(referenced), frozenset(inodes))

    def allows(self, path: Path, area: str) -> bool:
        """True when unlinking ``path``, expected inside the workspace folder ``area``, harms no dataset.

        A symlink is judged by where it sits (unlinking leaves its target alone); a file also by what it is.
        A candidate that really sits elsewhere in the workspace (a folder symlinked to ``..``) is refused.
        """
        where = _location(str(path))  # for a file (not a link) also its resolved path
        forms = {os.path.abspath(path), where}
        if not os.path.islink(path):
            with contextlib.suppress(OSError):
                stat = os.stat(path)
                if (stat.st_dev, stat.st_ino) in self.inodes:
                    return False
        if forms & self.referenced or any(_inside(form, raw) for form in forms for raw in self.raw):
            return False
        return _inside(where, os.path.join(self.root, *area.split("/"))) or not _inside(where, self.root)


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Files and symlinks under ``root`` (symlinked folders are not entered), and its folders deepest first."""
    files: list[Path] = []
    folders: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        here = Path(dirpath)
        files += [here / name for name in dirnames if (here / name).is_symlink()]
        files += [here / name for name in filenames]
        folders.append(here)
    return sorted(files), folders


def plan_clean(workspace: Workspace, *, cache: bool, generated: bool, results: bool) -> CleanPlan:
    """Decide what a clean removes, without changing anything.

    Parameters
    ----------
    workspace
        An initialised workspace; the caller holds its lock.
    cache, generated, results
        The parts to clean: ``cache/chunks`` and ``cache/spectra``; derived and synthetic datasets (their
        event files, dataset and resolved-generation JSONs, catalog rows marked deleted, pipeline outputs
        reset); everything under ``results/``.

    Returns
    -------
    CleanPlan
        What :func:`apply_clean` will do; only files a remaining dataset does not refer to are listed.

    Raises
    ------
    MetadataError
        A dataset or pipeline JSON does not load: nothing can be proven safe, so nothing is planned.

    Examples
    --------
    >>> plan = plan_clean(Workspace.at("work"), cache=True, generated=False, results=False)  # doctest: +SKIP
    >>> [str(p) for p in plan.files]  # doctest: +SKIP
    ['/home/me/work/cache/chunks/ab/ab12….parquet']
    """
    metas = [workspace.load(DatasetMeta, dataset_id) for dataset_id in workspace.ids(DatasetMeta)]
    removed = [meta for meta in metas if generated and meta.kind != "raw"]
    guard = _Guard.of(workspace, [meta for meta in metas if not (generated and meta.kind != "raw")])
    candidates: list[tuple[Path, str]] = []
    # Event files go first and the dataset JSON last, so an interrupted clean leaves the JSON that lets
    # the next plan find the rest; the resolved generation goes before it (an orphan would block `generate`).
    for meta in removed:
        candidates.append((workspace.path(meta.event_file), f"data/{meta.kind}"))
    for meta in removed:
        if meta.generation_id == meta.id and workspace.exists(GenerationParameters, meta.id):
            candidates.append((workspace.meta_path(GenerationParameters, meta.id), "meta/generation"))
        candidates.append((workspace.meta_path(DatasetMeta, meta.id), "meta/datasets"))
    folders: list[Path] = []
    for area in (_CACHE_AREAS if cache else ()) + (("results",) if results else ()):
        area_files, area_folders = _walk(workspace.path(area))
        candidates += [(path, area) for path in area_files]
        folders += area_folders
    files: list[Path] = []
    kept: list[Path] = []
    for path, area in candidates:
        if os.path.lexists(path):
            (files if guard.allows(path, area) else kept).append(path)
    pipelines = [p for p in workspace.ids(Pipeline) if generated and workspace.load(Pipeline, p).outputs is not None]
    return CleanPlan(tuple(meta.id for meta in removed), tuple(pipelines), tuple(files),
                     _emptied(workspace, folders, set(files)), tuple(kept))


def _emptied(workspace: Workspace, folders: list[Path], files: set[Path]) -> tuple[Path, ...]:
    """The folders (deepest first) that hold nothing but planned files and other emptied folders.

    A folder an interrupted clean already emptied counts too, so the next clean removes it. The
    workspace layout folders themselves are kept.
    """
    layout = {workspace.path(folder) for folder in LAYOUT}
    layout |= {parent for folder in layout for parent in folder.parents}
    emptied: set[Path] = set()
    order: list[Path] = []
    for folder in folders:  # deepest first: a parent is judged after its children
        if folder not in layout and all(entry in files or entry in emptied for entry in folder.iterdir()):
            emptied.add(folder)
            order.append(folder)
    return tuple(order)


def _remove_file(path: Path) -> None:
    """Unlink one file or symlink (never following it); already gone is fine (a clean run again)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise DataError(f"{path}: cannot remove: {exc.strerror}; fix this and run the same clean again") from None


def _remove_folder(path: Path) -> None:
    """Remove a folder this clean emptied; one that is gone or no longer empty is left as it is."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise DataError(f"{path}: cannot remove: {exc.strerror}; fix this and run the same clean again") from None


def apply_clean(workspace: Workspace, plan: CleanPlan) -> None:
    """Carry out a plan from :func:`plan_clean`.

    The catalog rows are marked deleted first, in one transaction, so no row ever names a removed file as
    live; every later step is found again by the next plan, so running the same clean again completes an
    interrupted one (the catalog update is idempotent: the first ``deleted_at`` is kept).

    Parameters
    ----------
    workspace
        The workspace the plan was made for; the caller holds its lock.
    plan
        The plan, made under the same lock.

    Raises
    ------
    DataError
        A file or folder could not be removed (e.g. permissions); what came before it stays done.

    Examples
    --------
    >>> with ws.lock():  # doctest: +SKIP
    ...     apply_clean(ws, plan_clean(ws, cache=True, generated=False, results=False))
    """
    if plan.datasets:
        now = utc_now()
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            catalog.mark_datasets_deleted(cursor, plan.datasets, now)
    for pipeline_id in plan.pipelines:
        workspace.save(replace(workspace.load(Pipeline, pipeline_id), outputs=None))
    for path in plan.files:
        _remove_file(path)
    for folder in plan.folders:
        _remove_folder(folder)
