"""Pipeline (SPEC §5.5): a source, task chains for A and B, one processing id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .documents import Document
from .schema import Context, spec
from .tasks import TaskSpec
from .values import id_check, seed_check

__all__ = ["Source", "Outputs", "Pipeline"]


@dataclass(frozen=True)
class Source:
    """Either an existing dataset or a generation (then chains begin with ``generate``)."""

    dataset: str | None = spec(None, check=id_check())
    generation: str | None = spec(None, check=id_check())

    def _validate(self, ctx: Context) -> None:
        if (self.dataset is None) == (self.generation is None):
            raise ctx.error('expected exactly one of {"dataset": id} or {"generation": id}')

    def _to_json(self) -> dict[str, str]:
        return {"dataset": self.dataset} if self.dataset is not None else {"generation": self.generation}  # type: ignore[dict-item]


@dataclass(frozen=True)
class Outputs:
    """What the latest ``run`` wrote."""

    run_id: str
    a: str = spec(check=id_check())
    b: str = spec(check=id_check())
    generated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pipeline(Document):
    """A recipe comparing dataset A with control B under one processing."""

    FOLDER: ClassVar[str] = "pipelines"

    id: str = spec(check=id_check(48))
    source: Source = spec()
    processing: str = spec(check=id_check())
    a_tasks: tuple[TaskSpec, ...] = spec()
    b_tasks: tuple[TaskSpec, ...] = spec()
    role: Literal["test", "positive_control", "negative_control"] = "test"
    seed: int = spec(0, check=seed_check)
    b_input: Literal["source", "a"] = "source"
    outputs: Outputs | None = None
    schema: Literal[1] = 1

    def _validate(self, ctx: Context) -> None:
        chains = {"a_tasks": self.a_tasks, "b_tasks": self.b_tasks}
        from_source = ["a_tasks"] + (["b_tasks"] if self.b_input == "source" else [])
        for name, chain in chains.items():
            for index, task in enumerate(chain):
                if task.name == "generate" and self.source.generation is None and task.args.generation is None:
                    raise ctx.child(name).child(index).child("generation").error(
                        "required field is missing (the source is a dataset, so generate needs a generation id)"
                    )
        if self.source.generation is not None:
            for name in from_source:
                chain = chains[name]
                if not chain or chain[0].name != "generate":
                    raise ctx.child(name).error(
                        "chains that start from a generation source must begin with 'generate'"
                    )
