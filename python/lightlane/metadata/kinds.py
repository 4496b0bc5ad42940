"""The five top-level metadata documents and their folders below ``meta/`` (SPEC §4.1)."""

from __future__ import annotations

from .dataset import DatasetMeta
from .generation import GenerationParameters
from .pipeline import Pipeline
from .processing import ProcessingParameters
from .search_space import SearchSpace

__all__ = ["KIND_FOLDERS"]

#: metadata class → folder below ``meta/``
KIND_FOLDERS: dict[type, str] = {
    cls: cls.FOLDER for cls in (DatasetMeta, ProcessingParameters, GenerationParameters, Pipeline, SearchSpace)
}
