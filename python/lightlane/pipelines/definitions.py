"""Pipelines in a workspace (SPEC §5.5, §9): creation, validation, the default family.

A pipeline is validated completely when it is created or loaded — tasks and their
arguments, the source, the processing and every generation band — so a run never
fails half-way for a reason that was knowable up front.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import MetadataError
from ..metadata import DatasetMeta, GenerationParameters, Pipeline, ProcessingParameters, TaskSpec, to_json
from ..metadata.schema import Context, from_json
from ..store.workspace import Workspace

__all__ = ["validate_pipeline", "load_pipeline", "create_pipeline", "default_family", "parse_task_list", "task_json"]

MAX_PIPELINE_ID = 48


def parse_task_list(text: str, source: str) -> tuple[TaskSpec, ...]:
    """Tasks from a comma list of names (arguments need a JSON tasks file)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return tuple(TaskSpec._from_json(name, Context(source, f"[{i}]")) for i, name in enumerate(names))


def validate_pipeline(workspace: Workspace, pipeline: Pipeline) -> None:
    """Check everything a run will need: source, processing, generations and their bands."""
    where = f"meta/pipelines/{pipeline.id}.json"
    processing = workspace.load(ProcessingParameters, pipeline.processing)
    if pipeline.source.dataset is not None and not workspace.exists(DatasetMeta, pipeline.source.dataset):
        raise MetadataError(f"{where}: field 'source.dataset': no dataset {pipeline.source.dataset!r} in this workspace")
    if pipeline.source.generation is not None:
        workspace.load(GenerationParameters, pipeline.source.generation)
    for side in ("a_tasks", "b_tasks"):
        for index, task in enumerate(getattr(pipeline, side)):
            if task.name != "generate":
                continue
            generation_id = task.args.generation or pipeline.source.generation
            generation = workspace.load(GenerationParameters, generation_id)
            if generation.band is not None:
                reason = generation.band.incompatibility_with(processing.band)
                if reason is not None:
                    raise MetadataError(
                        f"{where}: field '{side}[{index}]': generation {generation_id!r} band is incompatible "
                        f"with processing {processing.id!r}: {reason}"
                    )


def load_pipeline(workspace: Workspace, pipeline_id: str) -> Pipeline:
    """Load and fully validate a pipeline."""
    pipeline = workspace.load(Pipeline, pipeline_id)
    validate_pipeline(workspace, pipeline)
    return pipeline


def create_pipeline(workspace: Workspace, document: dict[str, Any], *, overwrite: bool = False) -> Pipeline:
    """Validate a pipeline document (as JSON values) and save it."""
    pipeline = from_json(Pipeline, {"schema": 1, **document}, Context(f"pipeline {document.get('id')!r}"))
    if workspace.exists(Pipeline, pipeline.id) and not overwrite:
        raise MetadataError(f"meta/pipelines/{pipeline.id}.json: pipeline {pipeline.id!r} already exists")
    validate_pipeline(workspace, pipeline)
    workspace.save(pipeline)
    return pipeline


def default_family(workspace: Workspace, dataset_id: str, processing_id: str = "default") -> list[dict[str, Any]]:
    """The four pipelines of SPEC §9 for a source dataset.

    HRC data need no ``chandrashift``: the time-tag fix is applied when the raw file is read.
    """
    workspace.load(DatasetMeta, dataset_id)
    workspace.load(ProcessingParameters, processing_id)
    if len(dataset_id) + len("_null_vs_poisson") > MAX_PIPELINE_ID:
        raise MetadataError(f"--source-dataset: id {dataset_id!r} is too long for the derived pipeline ids "
                            f"(at most {MAX_PIPELINE_ID - len('_null_vs_poisson')} characters)")
    lane = {"task": "generate", "generation": "sparse", "spectrum_from": "input", "time_from": "input"}
    family: Sequence[tuple[str, str, list[Any], list[Any]]] = (
        ("vs_poisson", "test", ["select", "flatten"], ["poissonize"]),
        ("vs_lcpreserve", "test", ["select", "flatten"], ["lcpreserve"]),
        ("null_vs_poisson", "negative_control", ["select", "flatten", "poissonize"], ["poissonize"]),
        ("lane_vs_poisson", "positive_control", [lane, "select", "flatten"], ["poissonize"]),
    )
    return [
        {"id": f"{dataset_id}_{suffix}", "role": role, "source": {"dataset": dataset_id}, "processing": processing_id,
         "a_tasks": a_tasks, "b_input": "a", "b_tasks": b_tasks}
        for suffix, role, a_tasks, b_tasks in family
    ]


def task_json(tasks: Sequence[TaskSpec]) -> list[Any]:
    return [to_json(task) for task in tasks]
