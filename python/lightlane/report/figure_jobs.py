"""A run's figures as jobs for the drawing workers, and the workers themselves (SPEC §14 rev 2).

Nothing here imports matplotlib or polars: ``lightlane run`` starts its drawing workers
(:func:`start_early`) before it loads its own libraries but numpy, from a process that is still
small, so they import matplotlib on the idle core while the run imports polars and astropy,
and forking copies little. :class:`~lightlane.report.run_figures.RunFigures` takes them
(:func:`take_early`) or starts its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .staging import DrawingWorkers

__all__ = ["FigureJob", "RUN_FIGURES", "COSTS", "figure_order", "drawing_workers", "start_early", "take_early",
           "cancel_early"]

#: The files every run writes, in order (then ``p3_<run>.png`` and ``lanecount_<dataset>.png``).
RUN_FIGURES = ("spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png",
               "metric_hist.png", "p2_concentration.png", "timescales_a.png", "timescales_b.png")

#: Relative drawing time of each kind (median CPU time in the workers of six 1.2 M-event bench runs,
#: in units of the spectrum's, 0.08 s; the lanecount estimated): a free worker takes the dearest job
#: queued, so the last jobs are cheap ones and the workers end close together.
COSTS = {"spectrum": 1.0, "counts": 1.0, "heatmap": 1.4, "metric_hist": 3.6, "p2": 2.4, "timescales": 2.5,
         "p3": 2.1, "lanecount": 1.2}

#: What the workers call on each unit of jobs, and once before the first of them forks the others
#: (:mod:`lightlane.report.drawing.run_jobs`, which loads matplotlib but not polars).
DRAW_JOBS = "lightlane.report.drawing.run_jobs:draw_jobs"
WARM_UP = "lightlane.report.drawing.run_jobs:warm_up"


@dataclass(frozen=True, eq=False)
class FigureJob:
    """One PNG: its file name, the kind of drawing and its inputs (numpy arrays and plain values)."""

    file: str
    kind: str
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return COSTS[self.kind]


def figure_order(file: str) -> int:
    """Where a run figure is listed: :data:`RUN_FIGURES` in order, then the others (P3, lanecounts)."""
    return RUN_FIGURES.index(file) if file in RUN_FIGURES else len(RUN_FIGURES)


def drawing_workers(*, parallel: bool = True) -> DrawingWorkers:
    """Two drawing workers for a run's figures, importing the drawing code from now on."""
    return DrawingWorkers(DRAW_JOBS, prepare=WARM_UP, workers=2, parallel=parallel)


#: Workers started by :func:`start_early`, with the process that started them.
_early: tuple[int, DrawingWorkers] | None = None


def start_early() -> None:
    """Start the next run's drawing workers now (``lightlane run``, before its heavy imports).

    numpy is imported first: the run needs it anyway, and the workers inherit it rather than
    import it again.
    """
    global _early
    import numpy  # noqa: F401  (see above)

    cancel_early()
    _early = (os.getpid(), drawing_workers())


def take_early() -> DrawingWorkers | None:
    """The workers :func:`start_early` started in this process, once; None when there are none."""
    global _early
    early, _early = _early, None
    if early is None or early[0] != os.getpid():  # a forked copy of this module: not its workers
        return None
    return early[1]


def cancel_early() -> None:
    """Stop workers started early that no run took (the command ended or failed before a run)."""
    workers = take_early()
    if workers is not None:
        workers.cancel()
