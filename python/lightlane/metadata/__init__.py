"""Metadata objects of SPEC §5 as frozen dataclasses with strict JSON loading."""

from .dataset import CALIBRATIONS, ApparentSpectrum, DatasetMeta, DatasetTime, LinearCalibration
from .documents import Document, load_document, parse_document, save_document
from .generation import Dimensionless, Empirical, GenerationParameters, GenerationTime, Instrument, TelescopePath
from .pipeline import Outputs, Pipeline, Source
from .processing import METRICS, Crop, ListWidths, Mask, ProcessingParameters, RandomWidths
from .schema import Context, dumps, from_json, to_json
from .search_space import SearchFixed, SearchRange, SearchSpace
from .tasks import TASK_ARGUMENTS, TaskSpec
from .values import Band, Spectrum, is_valid_id

#: metadata class → folder below ``meta/``
KIND_FOLDERS: dict[type, str] = {
    cls: cls.FOLDER for cls in (DatasetMeta, ProcessingParameters, GenerationParameters, Pipeline, SearchSpace)
}

__all__ = [
    "CALIBRATIONS", "METRICS", "TASK_ARGUMENTS", "KIND_FOLDERS",
    "ApparentSpectrum", "Band", "Context", "Crop", "DatasetMeta", "DatasetTime", "Dimensionless", "Document",
    "Empirical", "GenerationParameters", "GenerationTime", "Instrument", "LinearCalibration", "ListWidths", "Mask",
    "Outputs", "Pipeline", "ProcessingParameters", "RandomWidths", "SearchFixed", "SearchRange", "SearchSpace",
    "Source", "Spectrum", "TaskSpec", "TelescopePath",
    "dumps", "from_json", "is_valid_id", "load_document", "parse_document", "save_document", "to_json",
]
