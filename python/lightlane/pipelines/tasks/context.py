"""What a task may use besides its input and arguments: :class:`TaskContext`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...exceptions import MetadataError
from ...metadata import ProcessingParameters
from ...store.workspace import Workspace
from .seeds import checked_u64

__all__ = ["TaskContext"]


@dataclass(frozen=True, eq=False)
class TaskContext:
    """What a task may use besides its input and arguments.

    Attributes
    ----------
    processing
        The processing parameters of the pipeline (band, selection, min_exposure).
    seed
        The task seed, ``key(run_seed, TASK, side, position)`` (:func:`task_seed`),
        in [0, 2⁶⁴ − 1].
    width_set
        The time-bin width set of the processing [s]; its median is the default
        ``tthinning`` width and ``lcpreserve`` window. May be empty if no task needs it.
    workspace
        Needed by ``generate`` to load its generation; None otherwise.
    source_generation
        The generation id of a generation source: ``generate``'s default generation.
    where
        A prefix for error messages, e.g. ``"pipeline p: a_tasks[1]"``.
    """

    processing: ProcessingParameters
    seed: int
    width_set: np.ndarray = field(default_factory=lambda: np.zeros(0))
    workspace: Workspace | None = None
    source_generation: str | None = None
    where: str = "task"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", checked_u64(self.seed, f"{self.where}: task seed"))
        widths = np.array(self.width_set, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(widths) & (widths > 0)):
            raise MetadataError(f"{self.where}: the width set must hold positive finite widths [s]")
        widths.setflags(write=False)
        object.__setattr__(self, "width_set", widths)

    def median_width_s(self) -> float:
        """The median of the width set [s] (default tthinning width / lcpreserve window)."""
        if len(self.width_set) == 0:
            raise MetadataError(f"{self.where}: no width set given, so there is no default width")
        return float(np.median(self.width_set))
