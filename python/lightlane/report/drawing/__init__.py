"""Drawing in the lightlane house style (SPEC §14): arrays in, a figure out.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` drawn on
an Agg canvas without touching pyplot or ``rcParams``, laid out once with
fixed rectangles (:mod:`.layout`, no layout engine at save time);
:func:`save_figure` writes it atomically as PNG. Metric figures are small
multiples: one figure per kind with a panel per metric. Which figures a
command writes, and from what, is decided in :mod:`lightlane.report.figures`.
"""

from .analysis import (
    BinnedMetricHistogram,
    HeatmapFigure,
    MetricHistogram,
    plot_heatmap,
    plot_metric_histograms,
    plot_quicklook,
)
from .lanecount import LanecountTrace, lanecount_window, plot_lanecounts, quartile_bins
from .layout import PanelFigure
from .p3 import P3Panel, plot_p3
from .run import (
    P2Panel,
    TimescalesPanel,
    plot_counts_per_bin,
    plot_p2_concentration,
    plot_timescales,
)
from .save import FigureSet, save_figure, save_figures
from .spectrum import SpectrumPanel, fit_label, plot_spectrum_comparison
from .style import COLOR_A, COLOR_B, DPI, HEIGHT_IN, WIDTH_IN, new_figure, set_title, style_axes, title_for

__all__ = [
    "DPI",
    "WIDTH_IN",
    "HEIGHT_IN",
    "COLOR_A",
    "COLOR_B",
    "new_figure",
    "style_axes",
    "set_title",
    "title_for",
    "FigureSet",
    "save_figure",
    "save_figures",
    "SpectrumPanel",
    "fit_label",
    "plot_spectrum_comparison",
    "LanecountTrace",
    "lanecount_window",
    "plot_lanecounts",
    "quartile_bins",
    "HeatmapFigure",
    "plot_heatmap",
    "MetricHistogram",
    "BinnedMetricHistogram",
    "plot_metric_histograms",
    "plot_quicklook",
    "plot_counts_per_bin",
    "P2Panel",
    "plot_p2_concentration",
    "TimescalesPanel",
    "PanelFigure",
    "plot_timescales",
    "P3Panel",
    "plot_p3",
]
