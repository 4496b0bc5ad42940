"""``lightlane pipeline create ...`` and ``lightlane pipeline default ...`` (SPEC §18)."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from ..exceptions import MetadataError
from ..metadata.schema import loads
from ..pipelines.definitions import create_pipeline, default_family, parse_task_list, task_json
from .common import EXIT_OK, EXIT_USAGE, SEED, GlobalOptions, run_command, say


@dataclass(frozen=True)
class CreateOptions:
    """Create a pipeline: a source, task chains for A and B, one processing."""

    id: str = field(metadata={"args": ["id"], "help": "pipeline id, at most 48 characters"})
    processing: str = field(metadata={"help": "processing id"})
    source_dataset: Optional[str] = field(default=None, metadata={"help": "source dataset id"})
    source_generation: Optional[str] = field(default=None, metadata={"help": "source generation id"})
    a_tasks: str = field(default="", metadata={"help": "comma list of task names for A"})
    b_tasks: str = field(default="", metadata={"help": "comma list of task names for B"})
    tasks_file: Optional[str] = field(default=None, metadata={"help": 'JSON {"a_tasks": [...], "b_tasks": [...]} with arguments'})
    b_input: Literal["source", "a"] = field(default="source", metadata={"help": "B starts from the source or from A"})
    role: Literal["test", "positive_control", "negative_control"] = field(default="test", metadata={"help": "table group"})
    seed: int = field(default=0, metadata={"help": "run seeds derive from it", "check": SEED})


@dataclass(frozen=True)
class DefaultOptions:
    """Write the default family of four pipelines for a source dataset (SPEC §9)."""

    source_dataset: str = field(metadata={"help": "source dataset id"})
    processing: str = field(default="default", metadata={"help": "processing id"})


def _tasks(options: CreateOptions) -> tuple[list, list]:
    if options.tasks_file is None:
        return (task_json(parse_task_list(options.a_tasks, "--a-tasks")),
                task_json(parse_task_list(options.b_tasks, "--b-tasks")))
    try:
        text = Path(options.tasks_file).read_bytes()
    except OSError as exc:
        raise MetadataError(f"--tasks-file {options.tasks_file}: cannot read the tasks file: {exc.strerror or exc}") from None
    document = loads(text, options.tasks_file)
    if not isinstance(document, dict) or set(document) - {"a_tasks", "b_tasks"}:
        raise MetadataError(f"{options.tasks_file}: expected an object with keys a_tasks and b_tasks")
    return document.get("a_tasks", []), document.get("b_tasks", [])


def _create(options: CreateOptions, globals_: GlobalOptions) -> int:
    if (options.source_dataset is None) == (options.source_generation is None):
        raise MetadataError("give exactly one of --source-dataset and --source-generation")
    a_tasks, b_tasks = _tasks(options)
    source = {"dataset": options.source_dataset} if options.source_dataset else {"generation": options.source_generation}
    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        pipeline = create_pipeline(workspace, {
            "id": options.id, "role": options.role, "source": source, "processing": options.processing,
            "seed": options.seed, "b_input": options.b_input, "a_tasks": a_tasks, "b_tasks": b_tasks,
        })
    say(f"created pipeline {pipeline.id} ({pipeline.role}) → meta/pipelines/{pipeline.id}.json")
    return 0


def _default(options: DefaultOptions, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        documents = default_family(workspace, options.source_dataset, options.processing)
        created = [create_pipeline(workspace, document, overwrite=True) for document in documents]
    for pipeline in created:
        say(f"wrote pipeline {pipeline.id} ({pipeline.role})")
    return 0


USAGE = "usage: lightlane pipeline {create,default} ... (`lightlane pipeline create --help` for the options)"


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return EXIT_OK
    if not argv or argv[0] not in ("create", "default"):
        got = repr(argv[0]) if argv else "nothing"
        print(f"lightlane pipeline: error: expected `create` or `default`, got {got} (see `lightlane pipeline "
              f"--help`)", file=sys.stderr)
        return EXIT_USAGE
    if argv[0] == "create":
        return run_command(CreateOptions, argv[1:], _create, prog="lightlane pipeline create",
                           description=CreateOptions.__doc__ or "")
    return run_command(DefaultOptions, argv[1:], _default, prog="lightlane pipeline default",
                       description=DefaultOptions.__doc__ or "")
