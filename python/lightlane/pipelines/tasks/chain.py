"""Dispatch: apply one task by name, or a whole seeded chain (SPEC §8, §9)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...events.event_list import EventList
from ...exceptions import MetadataError
from ...metadata import ProcessingParameters, TaskSpec
from ...store.workspace import Workspace
from .context import TaskContext

from .generation import generate
from .nulls import lcpreserve, poissonize
from .seeds import task_seed
from .shaping import chandrashift, copy, prunecolumns, select, trange, wrange
from .thinning import downsample, flatten, tthinning

__all__ = ["TASK_FUNCTIONS", "apply_task", "apply_chain"]


def _width(value: float | None, context: TaskContext) -> float:
    return context.median_width_s() if value is None else float(value)


TASK_FUNCTIONS: dict[str, Callable[[EventList, Any, TaskContext], EventList]] = {
    "copy": lambda ev, args, ctx: copy(ev),
    "prunecolumns": lambda ev, args, ctx: prunecolumns(ev),
    "trange": lambda ev, args, ctx: trange(ev, args.start_s, args.stop_s, args.relative),
    "wrange": lambda ev, args, ctx: wrange(
        ev,
        ctx.processing.band.min_nm if args.min_nm is None else args.min_nm,
        ctx.processing.band.max_nm if args.max_nm is None else args.max_nm,
    ),
    "select": lambda ev, args, ctx: select(ev, ctx.processing),
    "chandrashift": lambda ev, args, ctx: chandrashift(ev),
    "flatten": lambda ev, args, ctx: flatten(ev, ctx.processing.band, ctx.seed, args.min_per_bin),
    "tthinning": lambda ev, args, ctx: tthinning(ev, _width(args.width_s, ctx), ctx.seed,
                                                 ctx.processing.min_exposure),
    "downsample": lambda ev, args, ctx: downsample(ev, ctx.seed, args.count, args.fraction),
    "poissonize": lambda ev, args, ctx: poissonize(ev, ctx.seed),
    "lcpreserve": lambda ev, args, ctx: lcpreserve(ev, _width(args.window_s, ctx), ctx.seed),
    "generate": lambda ev, args, ctx: generate(ev, ctx, args.generation, args.spectrum_from, args.time_from),
}


def apply_task(task: TaskSpec, events: EventList, context: TaskContext) -> EventList:
    """Apply one task (SPEC §8) and record it in the result's ``tasks``.

    Parameters
    ----------
    task
        The validated task and its arguments.
    events
        An :class:`EventList` or an :class:`~lightlane.events.EventList`; never modified.
    context
        Processing, task seed, width set, workspace.

    Returns
    -------
    EventList
        A new event set; ``tasks`` = the input's tasks + (task,).

    Raises
    ------
    MetadataError
        An unknown task or an unusable argument.
    DataError
        The task cannot be applied to these events (e.g. an empty flatten bin).

    Examples
    --------
    >>> context = TaskContext(processing, seed=task_seed(run_seed, 1, 0), width_set=widths)  # doctest: +SKIP
    >>> b = apply_task(TaskSpec.of("poissonize"), a, context)  # doctest: +SKIP
    """
    function = TASK_FUNCTIONS.get(task.name)
    if function is None:
        raise MetadataError(f"{context.where}: unknown task {task.name!r} (choose one of "
                            f"{', '.join(sorted(TASK_FUNCTIONS))})")
    result = function(events, task.args, context)
    return dataclasses.replace(result, tasks=(*events.tasks, task))


def apply_chain(
    tasks: Sequence[TaskSpec],
    events: EventList,
    processing: ProcessingParameters,
    run_seed: int,
    side: int,
    *,
    width_set: np.ndarray | Sequence[float] = (),
    workspace: Workspace | None = None,
    source_generation: str | None = None,
    where: str = "chain",
) -> EventList:
    """Apply a task chain; task p gets the seed ``key(run_seed, TASK, side, p)``.

    Parameters
    ----------
    tasks
        The chain, in order.
    events
        The chain's input (``EventList.empty()`` for a generation source); never modified.
    processing
        The processing parameters of the pipeline.
    run_seed
        The run seed.
    side
        0 for A, 1 for B.
    width_set
        The processing's width set [s] (default tthinning width / lcpreserve window).
    workspace, source_generation
        For ``generate``.
    where
        Prefix of error messages; each task adds ``[position] name``.

    Returns
    -------
    EventList

    Examples
    --------
    >>> b = apply_chain([TaskSpec.of("poissonize")], a, processing, run_seed, 1, width_set=widths)  # doctest: +SKIP
    """
    current = events
    for position, task in enumerate(tasks):
        context = TaskContext(processing=processing, seed=task_seed(run_seed, side, position), width_set=width_set,
                              workspace=workspace, source_generation=source_generation,
                              where=f"{where}[{position}] {task.name}")
        current = apply_task(task, current, context)
    return current
