"""Lanecount traces N(t) of a generated dataset (``lanecount_<dataset>.png``, SPEC §7.4, §14)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..framing import MAX_TRACES, WINDOW_S, lanecount_window, quartile_bins
from .layout import arrange, bottom_legend
from .style import CMAP_LINEAR, FIT_LINESTYLE, new_figure, set_title

__all__ = ["LanecountTrace", "plot_lanecounts", "quartile_bins", "lanecount_window", "MAX_TRACES", "WINDOW_S"]



# eq=False: numpy array fields would make a generated __eq__ raise.
@dataclass(frozen=True, eq=False)
class LanecountTrace:
    """The lanecount of one wavelength bin as a step function of time.

    Parameters
    ----------
    bin
        Wavelength bin index within the band.
    wavelength_nm
        Centre of that bin [nm].
    times_s
        Change points [s, MET], non-decreasing; the first row is the start of
        the window and the last row its end (as ``lanecount_trace`` returns).
    counts
        N at each row; each value holds until the next row, and the last
        row's value only marks the end.
    mean_lanecount
        The long-run mean N̄ of the bin.
    """

    bin: int
    wavelength_nm: float
    times_s: np.ndarray
    counts: np.ndarray
    mean_lanecount: float

    def __post_init__(self) -> None:
        times = np.asarray(self.times_s, dtype=np.float64)
        counts = np.asarray(self.counts, dtype=np.float64)
        if times.ndim != 1 or counts.ndim != 1 or len(times) != len(counts):
            raise ValueError(f"times_s and counts must be 1-D of equal length, got {times.shape} and {counts.shape}")
        if len(times) < 2:
            raise ValueError("a lanecount trace needs at least a start row and an end row")
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
            raise ValueError("times_s must be finite and non-decreasing")
        if not math.isfinite(self.mean_lanecount):
            raise ValueError(f"mean_lanecount must be finite, got {self.mean_lanecount!r}")
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "counts", counts)


def plot_lanecounts(traces: Sequence[LanecountTrace], *, tstart_s: float, title: str) -> Figure:
    """Step traces of N(t) for up to four bins, each with its N̄ dashed.

    Parameters
    ----------
    traces
        One to four traces, usually the bins from :func:`quartile_bins`
        sampled over :func:`lanecount_window`.
    tstart_s
        Dataset start [s, MET]; the x axis is the time since it.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is the time since tstart (s), y is N(t).
    """
    if not 1 <= len(traces) <= MAX_TRACES:
        raise ValueError(f"plot_lanecounts draws 1 to {MAX_TRACES} traces, got {len(traces)}")
    fig, ax = new_figure()
    # Colours follow wavelength along viridis (the house linear map), stopping
    # short of its pale yellow end, which is hard to see on white.
    cmap = matplotlib.colormaps[CMAP_LINEAR]
    ordered = sorted(traces, key=lambda t: t.wavelength_nm)
    colors = cmap(np.linspace(0.0, 0.8, len(ordered))) if len(ordered) > 1 else [cmap(0.0)]
    x_end = 0.0
    for trace, color in zip(ordered, colors):
        x = trace.times_s - tstart_s
        # The last row only marks the end of the window; repeating the
        # previous value there avoids drawing a change that never lasts.
        y = trace.counts.copy()
        y[-1] = y[-2]
        ax.step(
            x,
            y,
            where="post",
            color=color,
            linewidth=1.2,
            label=f"bin {trace.bin} (λ = {trace.wavelength_nm:.4g} nm), N̄ = {trace.mean_lanecount:.3g}",
        )
        ax.axhline(trace.mean_lanecount, color=color, linestyle=FIT_LINESTYLE, linewidth=1.0)
        x_end = max(x_end, float(x[-1]))
    if x_end > 0:
        ax.set_xlim(0.0, x_end)
    # Lanecounts are integers; fractional ticks would suggest otherwise.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time since tstart (s)")
    ax.set_ylabel("N(t)")
    # Below the plot: step traces fill the whole width, so any legend inside
    # the axes would hide some of them.
    bottom_legend(fig, [line for line in ax.get_lines() if not line.get_label().startswith("_")], 2)
    set_title(fig, title)
    arrange(fig, [ax])
    return fig
