"""The run figures drawn from their jobs (SPEC §14): the code the drawing workers load.

A run prepares each figure as a :class:`~lightlane.report.figure_jobs.FigureJob` (numpy
arrays and plain values, :mod:`lightlane.report.run_figures`); the workers
(:class:`~lightlane.report.staging.DrawingWorkers`) import this module, call
:func:`warm_up` once and :func:`draw_jobs` on each unit of jobs they take. It loads numpy and
matplotlib, but neither scipy nor polars nor the rest of lightlane, so that workers started
before a run's own imports are ready early.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from ..staging import write_png
from .analysis import BinnedMetricHistogram, HeatmapFigure, plot_heatmap, plot_metric_histograms
from .lanecount import LanecountTrace, plot_lanecounts
from .layout import PanelFigure, bottom_legend, make_ticks
from .p3 import P3Panel, plot_p3
from .run import P2Panel, TimescalesPanel, plot_counts_per_bin, plot_p2_concentration, plot_timescales
from .spectrum import SpectrumPanel, plot_spectrum_comparison
from .style import DPI, new_figure, set_title

if TYPE_CHECKING:
    from ..figure_jobs import FigureJob
    from ..staging import FigureSet

__all__ = ["DRAWERS", "WARM_UP_PANELS", "draw_jobs", "warm_up"]


def _reused(reuse: dict[str, Any], kind: str, make: Callable[[], Any]) -> Any:
    """The worker's figure object for one kind (SPEC §14 rev 2: its axes are made once), made on first use."""
    if kind not in reuse:
        reuse[kind] = make()
    return reuse[kind]


def _panels(reuse: dict[str, Any]) -> PanelFigure:
    """The small multiples' one figure object: histograms, P2 and timescales all have a panel per test metric."""
    return _reused(reuse, "panels", PanelFigure)


def _draw_spectrum(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_spectrum_comparison(SpectrumPanel(**inputs["a"]), SpectrumPanel(**inputs["b"]), title=inputs["title"])


def _draw_counts(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_counts_per_bin(inputs["centres_nm"], inputs["counts_a"], inputs["counts_b"], labels=inputs["labels"],
                               title=inputs["title"])


def _draw_heatmap(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_heatmap(**inputs, reuse=_reused(reuse, "heatmap", HeatmapFigure))


def _draw_metric_hist(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_metric_histograms([BinnedMetricHistogram(**panel) for panel in inputs["panels"]],
                                  labels=inputs["labels"], title=inputs["title"], reuse=_panels(reuse))


def _draw_p2(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_p2_concentration(inputs["centres_nm"], [P2Panel(**panel) for panel in inputs["panels"]],
                                 labels=inputs["labels"], title=inputs["title"], reuse=_panels(reuse))


def _draw_timescales(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_timescales([TimescalesPanel(**panel) for panel in inputs["panels"]], title=inputs["title"],
                           reuse=_panels(reuse))


def _draw_p3(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_p3(P3Panel(**inputs["panel"]), title=inputs["title"])


def _draw_lanecount(inputs: dict[str, Any], reuse: dict[str, Any]) -> Figure:
    return plot_lanecounts([LanecountTrace(**trace) for trace in inputs["traces"]], tstart_s=inputs["tstart_s"],
                           title=inputs["title"])


#: How each kind of :class:`~lightlane.report.figure_jobs.FigureJob` is drawn.
DRAWERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Figure]] = {
    "spectrum": _draw_spectrum, "counts": _draw_counts, "heatmap": _draw_heatmap, "metric_hist": _draw_metric_hist,
    "p2": _draw_p2, "timescales": _draw_timescales, "p3": _draw_p3, "lanecount": _draw_lanecount,
}


def draw_jobs(jobs: Sequence[FigureJob], folder: Path, figures: FigureSet, reuse: dict[str, Any]) -> None:
    """Draw ``jobs`` into ``folder``, staged in ``figures`` (in a drawing worker, or in this process).

    ``reuse`` keeps the worker's figure objects from one unit to the next (:data:`DrawUnit
    <lightlane.report.staging.DrawUnit>` state): one per kind, the small multiples sharing one.
    """
    for job in jobs:
        figures.add(DRAWERS[job.kind](job.inputs, reuse), folder / job.file)


#: Panels of the small multiples a worker makes ahead of its first run figures: one per default
#: test metric (:data:`lightlane.metadata.processing.DEFAULT_TEST_METRICS`; a run with another
#: number of metrics makes its own).
WARM_UP_PANELS = 7

#: Major ticks made ahead on each axis of the small multiples: as many as a run's panels draw.
PANEL_TICKS = 6


def _warm_up_inputs() -> list[tuple[str, dict[str, Any]]]:
    """Made-up inputs of a heatmap and the timescales, shaped as a run's are (100 ks, 0.1–1 nm)."""
    rng = np.random.default_rng(0)
    chunks = {"centres_nm": rng.uniform(0.1, 1.0, 200), "widths_s": rng.choice([60.0, 120.0, 240.0], 200)}
    return [
        ("heatmap", {"counts": rng.poisson(30, (200, 100)).astype(np.uint32), "exposure": np.full(200, 500.0),
                     "valid": np.arange(200) != 7, "time_edges_s": np.linspace(0.0, 1e5, 201),
                     "wavelength_edges_nm": np.linspace(0.1, 1.0, 101), "title": "warm-up"}),
        ("timescales", {"panels": [{"metric": f"m{index}", **chunks} for index in range(WARM_UP_PANELS)],
                        "title": "warm-up"}),
    ]


def warm_up() -> dict[str, Any]:
    """What every drawing worker would do on its first figures, done once before they fork.

    Renders one small figure with the artists and texts the run figures use (fonts loaded,
    glyphs and text metrics cached, lazily imported matplotlib modules loaded), then makes a
    heatmap and the small multiples of a default run from made-up inputs. Returns the worker
    state (:func:`draw_jobs`' ``reuse``): those two figure objects, their axes made (and the
    small multiples' ticks), from which the run's own heatmaps, timescales, histograms and P2
    panels start (the same pixels as from new figures). Nothing is written.
    """
    fig, ax = new_figure(3.0, 2.0)
    ax.plot([1.0, 2.0], [1.0, 2.0], "o--", label="0123456789 ±·λ")
    ax.errorbar([1.0, 2.0], [1.0, 2.0], yerr=[0.1, 0.1], fmt="s")
    ax.hexbin([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], gridsize=4, mincnt=1)
    ax.pcolormesh(np.arange(3.0), np.arange(3.0), np.ones((2, 2)))
    ax.imshow(np.ones((2, 2)), extent=(0.0, 1.0, 0.0, 1.0), aspect="auto")
    ax.annotate("p_z = 0.5 (k = 10)", xy=(0.0, 1.0), xycoords="axes fraction", fontweight="bold")
    ax.set_xlabel("λ (nm)")
    ax.set_ylabel("counts")
    fig.colorbar(ax.collections[-1], ax=ax)
    bottom_legend(fig, ax.get_legend_handles_labels()[0], 1)
    set_title(fig, "warm-up · A: a vs B: b · processing p · run r")
    write_png(fig, os.devnull, DPI)
    reuse: dict[str, Any] = {}
    for kind, inputs in _warm_up_inputs():
        DRAWERS[kind](inputs, reuse)
    # Every worker draws panels: made before the others fork, their ticks are made once.
    make_ticks(reuse["panels"].figure, PANEL_TICKS)
    return reuse
