"""Reading and writing metadata files: strict load, canonical atomic save (SPEC §4.3)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from .. import atomic
from ..exceptions import MetadataError
from .dataset import DatasetMeta
from .generation import GenerationParameters
from .pipeline import Pipeline
from .processing import ProcessingParameters
from .schema import Context, check_schema_version, dumps, from_json, loads
from .search_space import SearchSpace

__all__ = ["KIND_FOLDERS", "load_document", "parse_document", "save_document"]

Doc = TypeVar("Doc", DatasetMeta, ProcessingParameters, GenerationParameters, Pipeline, SearchSpace)

#: metadata class → folder below ``meta/``
KIND_FOLDERS: dict[type, str] = {
    DatasetMeta: "datasets",
    ProcessingParameters: "processing",
    GenerationParameters: "generation",
    Pipeline: "pipelines",
    SearchSpace: "search",
}


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


def save_document(document: Doc, path: str | os.PathLike[str]) -> None:
    """Write every field, canonically formatted, atomically."""
    atomic.write_text(path, dumps(document))
