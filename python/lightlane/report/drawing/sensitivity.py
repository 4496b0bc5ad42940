"""Power curves of a sensitivity study (``power_<study>.png``, SPEC §23): power vs N̄ per test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .layout import arrange, bottom_legend
from .style import FIT_LINESTYLE, new_figure, set_title, title_for, vector

__all__ = ["PowerCurve", "plot_power_curves"]

#: Qualitative colours (matplotlib's tab10), so up to ten tests stay apart.
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


@dataclass(frozen=True)
class PowerCurve:
    """One test's power at each x, with its Clopper–Pearson interval."""

    test: str
    power: Sequence[float]
    low: Sequence[float]
    high: Sequence[float]


def plot_power_curves(x: Sequence[float], curves: Sequence[PowerCurve], *, alpha: float, x_label: str,
                      log_x: bool, study: str, target: str, processing: str, note: str = "") -> Figure:
    """Power vs x: a line with markers per test and its interval as a band; α dashed.

    Parameters
    ----------
    x
        The abscissa of every curve (N̄ at the band centre, or the varied value).
    curves
        The tests to draw, in legend order (colours and markers cycle after ten).
    alpha
        The significance level: a test without sensitivity has power ≈ α.
    x_label
        Axis label.
    log_x
        A logarithmic x axis (x spanning decades).
    study, target, processing
        For the title.
    note
        A second title line (what varies, K, R, and how many tests are left out).

    Returns
    -------
    Figure

    Examples
    --------
    >>> fig = plot_power_curves([0.1, 1.0, 10.0], [PowerCurve("p1a:vesa", [1.0, 0.8, 0.1], [0.7, 0.4, 0.0],
    ...     [1.0, 0.97, 0.4])], alpha=0.05, x_label="N̄", log_x=True, study="s", target="t", processing="p")
    """
    xs = vector("x", x)
    order = np.argsort(xs, kind="stable")
    fig, ax = new_figure()
    assert isinstance(ax, Axes)
    for n, curve in enumerate(curves):
        power, low, high = (vector(name, values)[order] for name, values in
                            (("power", curve.power), ("low", curve.low), ("high", curve.high)))
        if not power.size == low.size == high.size == xs.size:
            raise ValueError(f"curve {curve.test!r} does not have one value per x")
        color = _COLORS[n % len(_COLORS)]
        ax.fill_between(xs[order], low, high, color=color, alpha=0.1, linewidth=0)
        ax.plot(xs[order], power, marker=_MARKERS[n % len(_MARKERS)], ms=4, lw=1.3, color=color, label=curve.test)
    ax.axhline(alpha, color="black", linestyle=FIT_LINESTYLE, lw=1.0, label=f"α = {alpha:g}")
    if log_x:  # ticks at 1, 2, 5 × 10^k written as plain numbers: N̄ is read off directly
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(x_label)
    ax.set_ylabel("power (calibrated SIGNIFICANT)")
    handles = ax.get_legend_handles_labels()[0]
    if handles:
        bottom_legend(fig, handles, 4)
    set_title(fig, f"sensitivity · study {study}" + (f"\n{note}" if note else "") + "\n"
              + title_for([target], processing, None))
    arrange(fig, [ax])
    return fig
