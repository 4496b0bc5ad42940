"""Reading and writing metadata files: strict load, canonical atomic save (SPEC §4.3).

:class:`Document` is the base of the five top-level documents (dataset, processing,
generation, pipeline, search space): each names its folder below ``meta/`` and reads and
writes its own file, which is all :class:`lightlane.store.workspace.Workspace` needs of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, TypeVar

from ..exceptions import MetadataError
from ..store import atomic
from .schema import Context, check_schema_version, dumps, from_json, loads

__all__ = ["Document", "load_document", "parse_document", "save_document"]

Doc = TypeVar("Doc", bound="Document")


class Document:
    """A metadata document stored as ``meta/<FOLDER>/<id>.json``."""

    #: folder below ``meta/``
    FOLDER: ClassVar[str]

    @classmethod
    def load_file(cls: type[Doc], path: str | os.PathLike[str], source: str | None = None) -> Doc:
        """Load ``path`` strictly (:func:`load_document`)."""
        return load_document(cls, path, source)

    def save_file(self, path: str | os.PathLike[str]) -> None:
        """Write the document canonically and atomically (:func:`save_document`)."""
        save_document(self, path)


def parse_document(cls: type[Doc], text: str | bytes, source: str, expected_id: str | None = None) -> Doc:
    """Parse one metadata document; ``source`` is how errors name the file."""
    data = loads(text, source)
    ctx = Context(source)
    check_schema_version(data, ctx)
    document = from_json(cls, data, ctx)
    if expected_id is not None and document.id != expected_id:
        raise ctx.child("id").error(f"the file name stem {expected_id!r}", document.id)
    return document


def load_document(cls: type[Doc], path: str | os.PathLike[str], source: str | None = None) -> Doc:
    """Load ``path`` strictly; the id must equal the file name stem."""
    path = Path(path)
    shown = source or str(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise MetadataError(f"{shown}: file not found") from None
    except OSError as exc:
        raise MetadataError(f"{shown}: cannot read: {exc.strerror}") from None
    return parse_document(cls, text, shown, expected_id=path.stem)


def save_document(document: Document, path: str | os.PathLike[str]) -> None:
    """Write every field, canonically formatted, atomically."""
    atomic.write_text(path, dumps(document))
