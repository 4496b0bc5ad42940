"""The workspace folder (SPEC §4.1): layout, metadata lookup, the writer lock.

Every path stored in metadata is relative to the workspace root; this module is
the one place that turns ids into paths. It knows metadata documents only by what
their classes say of themselves (:class:`StoredDocument`: the folder below ``meta/``
and how a document reads and writes its file), so the store sits below
:mod:`lightlane.metadata`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from ..exceptions import MetadataError, PrerequisiteError, WorkspaceLockedError
from .atomic import sweep_stale_temp_files, write_all
from .catalog import Catalog

__all__ = ["Workspace", "StoredDocument", "LAYOUT", "META_FOLDERS", "ID_PATTERN", "is_valid_id", "embedded_defaults"]

#: Ids name files and folders in the workspace (SPEC §4.2).
ID_PATTERN = re.compile(r"[a-z0-9_-]{1,64}")


def is_valid_id(text: str) -> bool:
    return ID_PATTERN.fullmatch(text) is not None


class StoredDocument(Protocol):
    """A metadata document as the workspace stores it (the classes of :mod:`lightlane.metadata`).

    ``FOLDER`` is its folder below ``meta/``; ``load_file`` reads one file strictly
    (``source`` is how errors name it) and ``save_file`` writes one atomically.
    """

    FOLDER: ClassVar[str]
    id: str

    @classmethod
    def load_file(cls, path: Path, source: str | None = None) -> Any: ...

    def save_file(self, path: Path) -> None: ...


Doc = TypeVar("Doc", bound=StoredDocument)

LAYOUT = (
    "meta/datasets", "meta/processing", "meta/generation", "meta/pipelines", "meta/search",
    "data/raw", "data/derived", "data/synthetic",
    "cache/chunks", "cache/spectra",
    "results/pipelines", "results/analyze", "results/tables", "results/videos", "results/search",
)
#: The folders below ``meta/``, one per kind of metadata document.
META_FOLDERS = tuple(folder.removeprefix("meta/") for folder in LAYOUT if folder.startswith("meta/"))
CATALOG_NAME = "lightlane.sqlite"
LOCK_NAME = ".lock"


def embedded_defaults() -> dict[str, list[tuple[str, bytes]]]:
    """The package's default metadata: folder → [(file name, bytes)]."""
    root = resources.files("lightlane") / "defaults"
    found: dict[str, list[tuple[str, bytes]]] = {}
    for folder in META_FOLDERS:
        entry = root / folder
        if not entry.is_dir():
            continue
        files = sorted((f.name, f.read_bytes()) for f in entry.iterdir() if f.name.endswith(".json"))
        found[folder] = files
    return found


@dataclass(frozen=True)
class Workspace:
    """A workspace rooted at ``root`` (need not exist until :meth:`init`)."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None = None) -> Workspace:
        return cls(Path(root if root is not None else ".").resolve())

    # -- paths -------------------------------------------------------------
    def path(self, relative: str) -> Path:
        """Absolute path of a workspace-relative ``/``-separated path."""
        return self.root.joinpath(*relative.split("/"))

    def relative(self, path: Path) -> str:
        """Workspace-relative ``/`` path of ``path``; a symlink is not followed."""
        return Path(os.path.abspath(path)).relative_to(self.root).as_posix()

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG_NAME

    def meta_path(self, cls: type[StoredDocument], doc_id: str) -> Path:
        return self.root / "meta" / cls.FOLDER / f"{doc_id}.json"

    def raw_dir(self, dataset_id: str) -> Path:
        return self.root / "data" / "raw" / dataset_id

    def run_folder(self, pipeline_id: str, run_id: str) -> Path:
        """``results/pipelines/<pipeline>/run-<run_id>/``: a run's figures and page (SPEC §14, §14.1)."""
        return self.root / "results" / "pipelines" / pipeline_id / f"run-{run_id}"

    @property
    def is_initialised(self) -> bool:
        return self.catalog_path.is_file() and (self.root / "meta").is_dir()

    def require_folder(self) -> None:
        """A workspace is a folder: refuse an existing file (or a path below one) before writing anything."""
        for path in (self.root, *self.root.parents):
            if path.exists():
                if not path.is_dir():
                    where = "" if path == self.root else f" (its parent {path})"
                    raise MetadataError(f"{self.root}: not a folder{where}; a workspace must be a folder")
                return

    def require_initialised(self) -> None:
        self.require_folder()
        if not self.is_initialised:
            raise PrerequisiteError(
                f"{self.root} is not a lightlane workspace; create it with `lightlane --workspace {self.root} init`"
            )

    # -- metadata ------------------------------------------------------------
    def load(self, cls: type[Doc], doc_id: str) -> Doc:
        """Load one metadata document by id, strictly."""
        folder = cls.FOLDER
        shown = f"meta/{folder}/{doc_id}.json"
        if not is_valid_id(doc_id):
            raise MetadataError(f"{shown}: invalid id {doc_id!r} (expected [a-z0-9_-]{{1,64}})")
        path = self.meta_path(cls, doc_id)
        if not path.is_file():
            raise MetadataError(f"{shown}: no such {folder.rstrip('s')} id {doc_id!r}")
        return cls.load_file(path, shown)

    def exists(self, cls: type[StoredDocument], doc_id: str) -> bool:
        return is_valid_id(doc_id) and self.meta_path(cls, doc_id).is_file()

    def save(self, document: Doc) -> Path:
        path = self.meta_path(type(document), document.id)
        document.save_file(path)
        return path

    def ids(self, cls: type[StoredDocument]) -> list[str]:
        folder = self.root / "meta" / cls.FOLDER
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    # -- locking -------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Advisory exclusive lock held by every writing command."""
        self.require_folder()
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_NAME
        handle = open(path, "a+")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceLockedError(
                    f"{path}: another lightlane command is writing to this workspace; wait for it to finish"
                ) from None
            sweep_stale_temp_files(self.root)
            yield
        finally:
            handle.close()

    # -- creation ------------------------------------------------------------
    def init(self, force: bool = False) -> list[Path]:
        """Create the layout, the catalog and the embedded defaults; return files written.

        All or nothing: when something fails (disk full, read-only folder) the folders
        and files this call created are removed again, and the defaults are written
        only once all of them could be staged.
        """
        self.require_folder()
        created: list[Path] = []
        try:
            for folder in LAYOUT:
                for path in reversed([self.root / folder, *(self.root / folder).parents]):
                    if not path.exists():
                        path.mkdir()
                        created.append(path)
            if not self.catalog_path.exists():
                created.append(self.catalog_path)
            Catalog.open(self.catalog_path).close()
            files = [(self.root / "meta" / folder / name, content)
                     for folder, entries in embedded_defaults().items() for name, content in entries]
            files = [(target, content) for target, content in files if force or not target.exists()]
            write_all(files)
        except BaseException:
            for path in reversed(created):
                with contextlib.suppress(OSError):
                    if path.is_dir():
                        path.rmdir()
                    else:
                        for extra in ("", "-wal", "-shm", "-journal"):
                            path.with_name(path.name + extra).unlink(missing_ok=True)
            raise
        return [target for target, _ in files]
