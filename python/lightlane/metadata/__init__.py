"""Metadata objects of SPEC §5 as frozen dataclasses with strict JSON loading."""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .dataset import CALIBRATIONS, ApparentSpectrum, DatasetMeta, DatasetTime, LinearCalibration
    from .documents import Document, load_document, parse_document, save_document
    from .generation import (
        Dimensionless,
        Empirical,
        GenerationParameters,
        GenerationTime,
        Instrument,
        TelescopePath,
    )
    from .kinds import KIND_FOLDERS
    from .pipeline import Outputs, Pipeline, Source
    from .processing import METRICS, Crop, ListWidths, Mask, ProcessingParameters, RandomWidths
    from .schema import Context, dumps, from_json, to_json
    from .search_space import SearchFixed, SearchRange, SearchSpace
    from .tasks import TASK_ARGUMENTS, TaskSpec
    from .values import Band, Spectrum, is_valid_id

__all__ = [
    "CALIBRATIONS", "METRICS", "TASK_ARGUMENTS", "KIND_FOLDERS",
    "ApparentSpectrum", "Band", "Context", "Crop", "DatasetMeta", "DatasetTime", "Dimensionless", "Document",
    "Empirical", "GenerationParameters", "GenerationTime", "Instrument", "LinearCalibration", "ListWidths", "Mask",
    "Outputs", "Pipeline", "ProcessingParameters", "RandomWidths", "SearchFixed", "SearchRange", "SearchSpace",
    "Source", "Spectrum", "TaskSpec", "TelescopePath",
    "dumps", "from_json", "is_valid_id", "load_document", "parse_document", "save_document", "to_json",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".dataset": ["CALIBRATIONS", "ApparentSpectrum", "DatasetMeta", "DatasetTime", "LinearCalibration"],
    ".documents": ["Document", "load_document", "parse_document", "save_document"],
    ".generation": ["Dimensionless", "Empirical", "GenerationParameters", "GenerationTime", "Instrument",
        "TelescopePath"],
    ".kinds": ["KIND_FOLDERS"],
    ".pipeline": ["Outputs", "Pipeline", "Source"],
    ".processing": ["METRICS", "Crop", "ListWidths", "Mask", "ProcessingParameters", "RandomWidths"],
    ".schema": ["Context", "dumps", "from_json", "to_json"],
    ".search_space": ["SearchFixed", "SearchRange", "SearchSpace"],
    ".tasks": ["TASK_ARGUMENTS", "TaskSpec"],
    ".values": ["Band", "Spectrum", "is_valid_id"],
})
