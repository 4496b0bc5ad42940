"""The parameter search space (SPEC §13): ranges or fixed values per parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from .documents import Document
from .schema import Context, from_json, spec

__all__ = ["SearchRange", "SearchFixed", "SearchSpace"]

SEARCHABLE = (
    "alpha_lu", "lucretius_per_nm", "r_e_lu", "velocity_lu_per_s",
    "alpha_ls", "l0_per_ls", "r_e_ls", "velocity_c",
    "theta0_rad", "theta_rate_rad_per_s", "perp_g", "phase_g",
)


@dataclass(frozen=True)
class SearchRange:
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"


@dataclass(frozen=True)
class SearchFixed:
    fixed: float | Literal["template"]


@dataclass(frozen=True)
class SearchSpace(Document):
    """Per model/path parameter: a range to sample or a fixed value ("template" keeps the template's)."""

    FOLDER: ClassVar[str] = "search"

    id: str
    parameters: Mapping[str, Any] = spec()
    label: str = ""
    schema: Literal[1] = 1

    def _validate(self, ctx: Context) -> None:

        parsed: dict[str, SearchRange | SearchFixed] = {}
        for name, value in self.parameters.items():
            where = ctx.child("parameters").child(name)
            if name not in SEARCHABLE:
                raise where.error("a model or path parameter (" + ", ".join(SEARCHABLE) + ")")
            cls = SearchFixed if isinstance(value, dict) and "fixed" in value else SearchRange
            entry = from_json(cls, value, where)
            if isinstance(entry, SearchRange):
                if not entry.low < entry.high:
                    raise where.child("high").error(f"number > low ({entry.low!r})", entry.high)
                if entry.scale == "log" and entry.low <= 0:
                    raise where.child("low").error("number > 0 for a log scale", entry.low)
            parsed[name] = entry
        object.__setattr__(self, "_entries", parsed)

    def entries(self) -> Mapping[str, SearchRange | SearchFixed]:
        return self.__dict__["_entries"]
