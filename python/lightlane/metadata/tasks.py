"""Task specifications and their argument schemas (SPEC §8).

A task in JSON is a bare name (``"poissonize"``) or an object
``{"task": name, ...args}``. Arguments are validated when a pipeline is loaded,
never mid-run. A value of null means "the default decided at run time" (e.g.
the median of the width set).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from .schema import Context, at_least, between, from_json, greater, spec, to_json
from .values import id_check

__all__ = ["TASK_ARGUMENTS", "TaskSpec"]


@dataclass(frozen=True)
class NoArgs:
    pass


@dataclass(frozen=True)
class TrangeArgs:
    start_s: float
    stop_s: float
    relative: bool = True

    def _validate(self, ctx: Context) -> None:
        if not self.start_s < self.stop_s:
            raise ctx.child("stop_s").error(f"number > start_s ({self.start_s!r})", self.stop_s)


@dataclass(frozen=True)
class WrangeArgs:
    min_nm: float | None = spec(None, check=greater(0))
    max_nm: float | None = spec(None, check=greater(0))

    def _validate(self, ctx: Context) -> None:
        if self.min_nm is not None and self.max_nm is not None and not self.min_nm < self.max_nm:
            raise ctx.child("max_nm").error(f"number > min_nm ({self.min_nm!r})", self.max_nm)


@dataclass(frozen=True)
class FlattenArgs:
    min_per_bin: int = spec(1, check=at_least(1))


@dataclass(frozen=True)
class WidthArgs:
    width_s: float | None = spec(None, check=greater(0))


@dataclass(frozen=True)
class WindowArgs:
    window_s: float | None = spec(None, check=greater(0))


@dataclass(frozen=True)
class DownsampleArgs:
    count: int | None = spec(None, check=at_least(1))
    fraction: float | None = spec(None, check=between(0, 1, open_low=True))

    def _validate(self, ctx: Context) -> None:
        if (self.count is None) == (self.fraction is None):
            raise ctx.error("exactly one of 'count' and 'fraction' is required")


@dataclass(frozen=True)
class GenerateArgs:
    generation: str | None = spec(None, check=id_check())
    spectrum_from: Literal["input", "generation"] | None = None
    time_from: Literal["input", "generation"] | None = None


TASK_ARGUMENTS: dict[str, type] = {
    "copy": NoArgs,
    "prunecolumns": NoArgs,
    "trange": TrangeArgs,
    "wrange": WrangeArgs,
    "select": NoArgs,
    "chandrashift": NoArgs,
    "flatten": FlattenArgs,
    "tthinning": WidthArgs,
    "downsample": DownsampleArgs,
    "poissonize": NoArgs,
    "lcpreserve": WindowArgs,
    "generate": GenerateArgs,
}


@dataclass(frozen=True)
class TaskSpec:
    """One task of a chain: its name and validated arguments."""

    name: str
    args: Any = NoArgs()

    @classmethod
    def _from_json(cls, value: Any, ctx: Context) -> TaskSpec:
        if isinstance(value, str):
            name, raw_args = value, {}
        elif isinstance(value, dict):
            name = value.get("task")
            raw_args = {k: v for k, v in value.items() if k != "task"}
            if not isinstance(name, str):
                raise ctx.child("task").error("task name (string)", name)
        else:
            raise ctx.error("task name or {\"task\": name, ...arguments}", value)
        args_class = TASK_ARGUMENTS.get(name)
        if args_class is None:
            raise ctx.error("one of " + ", ".join(sorted(TASK_ARGUMENTS)), name)
        return cls(name, from_json(args_class, raw_args, ctx))

    def _to_json(self) -> Any:
        if not dataclasses.fields(self.args):
            return self.name
        return {"task": self.name, **to_json(self.args)}

    @classmethod
    def of(cls, name: str, **args: Any) -> TaskSpec:
        """Build a task in code with the same validation as JSON loading."""
        return cls._from_json({"task": name, **args}, Context("<code>", name))
