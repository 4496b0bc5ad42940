"""Figures of a pipeline run (SPEC §11.6, §14): counts per bin, P2 concentration, timescales.

* ``counts_hist_wavelength.png`` — :func:`plot_counts_per_bin`: step
  histograms of the counts of A and B over the band bins.
* ``p2_concentration.png`` — :func:`plot_p2_concentration`: a small multiple, one
  panel per metric, of the top-chunk counts per wavelength bin of A and B with their
  fitted power laws c = a·(λ/λ_ref)^b dashed; each panel's header gives b ± se of A
  and B, p_z and p_cal.
* ``timescales_<a|b>.png`` — :func:`plot_timescales`: a small multiple, one panel per
  metric, of hexbins of one dataset's top chunks over (wavelength centre, time-bin
  width) on one shared colour scale.

All inputs are plain numpy arrays, so the figures can be drawn (and tested)
without a workspace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from .analysis import PANEL_HEIGHT_IN
from .layout import LINE_SPACING, PanelFigure, add_colorbar_axes, arrange, bottom_legend, share_axes
from .style import (
    CMAP_COUNTS,
    COLOR_A,
    COLOR_B,
    FIT_LINESTYLE,
    FONT_SIZE,
    GRID_ALPHA,
    GRID_LINESTYLE,
    new_figure,
    set_title,
    stairs_line,
    vector,
)

__all__ = [
    "TIMESCALES_GRIDSIZE",
    "power_law",
    "bin_edges_from_centres",
    "format_p",
    "power_law_label",
    "plot_counts_per_bin",
    "P2Panel",
    "plot_p2_concentration",
    "TimescalesPanel",
    "plot_timescales",
]

#: Hexagons across the x axis of the timescales plot (SPEC §14).
TIMESCALES_GRIDSIZE = 40
# Points per fitted power-law curve: smooth for any number of bins, yet cheap.
_CURVE_POINTS = 400
# Time-bin widths spanning more than this ratio get a logarithmic y axis in
# the timescales plot (a log-uniform width set would otherwise crowd at the bottom).
_LOG_WIDTH_RATIO = 20.0

# P2 markers of A and B: (colour, alpha, marker); B slightly translucent where it overlaps A.
_P2_STYLES = ((COLOR_A, 1.0, "o"), (COLOR_B, 0.85, "s"))
# Gap between a P2 panel's axes and the first of its header lines [pt].
_HEADER_PAD_PT = 4.0

#: A fit of c = a·(λ/λ_ref)^b: (a, b, se(b)).
PowerLawFit = tuple[float, float, float]


def _centres(values: object) -> np.ndarray:
    """Validated band-bin centres: non-empty, finite, positive, strictly increasing."""
    centres = vector("centres_nm", values)
    if centres.size == 0:
        raise ValueError("centres_nm must hold at least one wavelength bin, got none")
    if not (np.all(np.isfinite(centres)) and np.all(centres > 0)):
        raise ValueError("centres_nm must be finite and positive")
    if np.any(np.diff(centres) <= 0):
        raise ValueError("centres_nm must be strictly increasing")
    return centres


def _counts(name: str, values: object, n_bins: int, *, allow_nan: bool) -> np.ndarray:
    """Validated counts per bin: one per centre, non-negative; NaN marks an unused bin if allowed."""
    counts = vector(name, values)
    if len(counts) != n_bins:
        raise ValueError(f"{name} must have {n_bins} entries (one per wavelength bin), got {len(counts)}")
    finite = np.isfinite(counts)
    if not allow_nan and not finite.all():
        raise ValueError(f"{name} must be finite")
    if np.any(np.isinf(counts)) or np.any(counts[finite] < 0):
        raise ValueError(f"{name} must be non-negative (NaN for a bin not used)" if allow_nan else f"{name} must be non-negative")
    return counts


def bin_edges_from_centres(centres_nm: np.ndarray) -> np.ndarray:
    """Bin edges halfway between neighbouring centres, the outer ones mirrored.

    Parameters
    ----------
    centres_nm
        Band-bin centres [nm], non-empty, finite, positive and strictly increasing.

    Returns
    -------
    np.ndarray
        ``len(centres_nm) + 1`` increasing edges. The first and last bins
        extend as far beyond their centre as towards their only neighbour; a
        single bin gets ±5 % of its centre.
    """
    centres = _centres(centres_nm)
    if len(centres) == 1:
        half = 0.05 * centres[0]
        return np.array([centres[0] - half, centres[0] + half])
    mids = (centres[:-1] + centres[1:]) / 2
    first = centres[0] - (mids[0] - centres[0])
    last = centres[-1] + (centres[-1] - mids[-1])
    return np.concatenate([[first], mids, [last]])


def power_law(lambda_nm: np.ndarray, a: float, b: float, lambda_ref_nm: float) -> np.ndarray:
    """The P2 model c(λ) = a·(λ/λ_ref)^b (SPEC §11.6).

    Parameters
    ----------
    lambda_nm
        Wavelengths [nm], positive.
    a, b
        Amplitude (counts at λ_ref) and index.
    lambda_ref_nm
        Reference wavelength [nm], positive.

    Returns
    -------
    np.ndarray
        Expected counts per bin at each wavelength.
    """
    return a * (np.asarray(lambda_nm, dtype=np.float64) / lambda_ref_nm) ** b


def format_p(p: float | None) -> str:
    """A p-value as ``%.2e``, or ``"n/a"`` when it is None or not finite.

    Parameters
    ----------
    p
        The p-value.

    Returns
    -------
    str
        For example ``"3.10e-04"`` or ``"n/a"``.
    """
    if p is None or not math.isfinite(p):
        return "n/a"
    return f"{p:.2e}"


def power_law_label(fit: PowerLawFit | None) -> str:
    """Legend text of one dataset's P2 fit: ``"fit: b = -1.23 ± 0.456"`` or ``"fit: b = n/a"``.

    Parameters
    ----------
    fit
        (a, b, se(b)), or None when the fit is undefined (SPEC §11.6).

    Returns
    -------
    str
        b with three significant digits and its standard error; a missing or
        non-finite standard error shows as ``n/a``.
    """
    if fit is None:
        return "fit: b = n/a"
    _, b, se = fit
    se_text = f"{se:.3g}" if se is not None and math.isfinite(se) else "n/a"
    return f"fit: b = {b:.3g} ± {se_text}"


def _check_fit(name: str, fit: PowerLawFit | None) -> PowerLawFit | None:
    if fit is None:
        return None
    if len(fit) != 3:
        raise ValueError(f"{name} must be (a, b, se) or None, got {fit!r}")
    a, b, se = (float(v) if v is not None else math.nan for v in fit)
    if not (math.isfinite(a) and a > 0 and math.isfinite(b)):
        raise ValueError(f"{name} must have a finite a > 0 and a finite b, got {fit!r}")
    if math.isfinite(se) and se < 0:
        raise ValueError(f"{name} must have a non-negative se, got {fit!r}")
    return a, b, se


def _check_labels(labels: Sequence[str]) -> tuple[str, str]:
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"labels must name A and B, got {labels!r}")
    return str(labels[0]), str(labels[1])


# --- counts per wavelength bin -----------------------------------------------------------------------


def plot_counts_per_bin(
    centres_nm: np.ndarray,
    counts_a: np.ndarray,
    counts_b: np.ndarray | None,
    *,
    labels: tuple[str, str],
    title: str,
) -> Figure:
    """Step histograms of the counts of A (black) and B (orange) over the band bins.

    Parameters
    ----------
    centres_nm
        Band-bin centres λ_w [nm], shape (W,), positive and strictly
        increasing; the steps change halfway between neighbouring centres
        (:func:`bin_edges_from_centres`).
    counts_a, counts_b
        Selected events per wavelength bin of A and B, shape (W,),
        non-negative. B may be None for a single dataset.
    labels
        Legend names of A and B, e.g. ``("A: real-1", "B: mimic-1")``.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is λ (nm), y the counts per bin from zero.

    Raises
    ------
    ValueError
        When there are no bins, or the arrays are inconsistent or negative.
    """
    labels = _check_labels(labels)
    centres = _centres(centres_nm)
    edges = bin_edges_from_centres(centres)
    datasets = [(_counts("counts_a", counts_a, len(centres), allow_nan=False), labels[0], COLOR_A, 1.6)]
    if counts_b is not None:
        datasets.append((_counts("counts_b", counts_b, len(centres), allow_nan=False), labels[1], COLOR_B, 1.2))

    fig, ax = new_figure()
    handles = []
    # B after A and slightly thinner: where the two coincide, A's black still
    # shows on both sides of the orange line.
    for counts, label, color, width in datasets:
        handles.append(
            stairs_line(ax, counts, edges, color=color, linewidth=width,
                        label=f"{label} ({int(round(counts.sum())):,} events)")
        )
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("λ (nm)")
    ax.set_ylabel("counts per bin")
    bottom_legend(fig, handles, 2)
    set_title(fig, title)
    arrange(fig, [ax])
    return fig


# --- P2 concentration --------------------------------------------------------------------------------


def _reference(lambda_ref_nm: float | Sequence[float] | None) -> tuple[float | None, float | None]:
    """λ_ref of A and of B: one value shared by both, or a pair (each dataset's own)."""
    if lambda_ref_nm is None:
        return None, None
    if np.ndim(lambda_ref_nm) == 0:
        pair = (float(lambda_ref_nm), float(lambda_ref_nm))
    else:
        values = [float(v) for v in np.asarray(lambda_ref_nm, dtype=np.float64).ravel()]
        if len(values) != 2:
            raise ValueError(f"lambda_ref_nm must be one value or a pair (A, B), got {lambda_ref_nm!r}")
        pair = (values[0], values[1])
    for value in pair:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"lambda_ref_nm must be finite and positive, got {lambda_ref_nm!r}")
    return pair


# eq=False: numpy array fields would make a generated __eq__ raise.
@dataclass(frozen=True, eq=False)
class P2Panel:
    """One panel of ``p2_concentration.png``: one metric's P2 counts, fits and p-values (SPEC §11.6).

    Parameters
    ----------
    metric
        The metric that ranked the chunks (SPEC §10.5).
    counts_a, counts_b
        Counts c_j of the top chunks of A and of B per wavelength bin, shape (W,),
        non-negative. NaN marks a bin outside that dataset's W_data; it is neither drawn
        nor counted.
    fit_a, fit_b
        The fitted (a, b, se(b)) of c = a·(λ/λ_ref)^b for A and B, or None when the fit is
        undefined: no curve, and ``b = n/a``.
    lambda_ref_nm
        λ_ref [nm] of the fits: one value for both, or the pair (A, B) when each dataset
        used the geometric mean of its own centres. May be None only when both fits are None.
    p_z, p_cal
        The two-sided p of z = (b_A − b_B)/√(se_A² + se_B²) and the calibrated p-value,
        shown as ``%.2e``, or ``n/a`` when None.
    """

    metric: str
    counts_a: np.ndarray
    counts_b: np.ndarray
    fit_a: PowerLawFit | None = None
    fit_b: PowerLawFit | None = None
    lambda_ref_nm: float | tuple[float, float] | None = None
    p_z: float | None = None
    p_cal: float | None = None


def _slope_text(side: str, fit: PowerLawFit | None, k: int) -> str:
    """``"A: b = -0.81 ± 0.05 (k = 5,000)"``: one dataset's fitted index and its top-chunk count."""
    return f"{side}: {power_law_label(fit).removeprefix('fit: ')} (k = {k:,})"


def _draw_p2_panel(ax, centres: np.ndarray, panel: P2Panel) -> tuple[tuple[str, str, str], bool]:
    """Points and fitted curves of one metric; returns its header lines (A's fit, B's fit, p-values) and
    whether it has any count to draw."""
    counts = (
        _counts("counts_a", panel.counts_a, len(centres), allow_nan=True),
        _counts("counts_b", panel.counts_b, len(centres), allow_nan=True),
    )
    fits = (_check_fit("fit_a", panel.fit_a), _check_fit("fit_b", panel.fit_b))
    refs = _reference(panel.lambda_ref_nm)
    if any(fit is not None for fit in fits) and refs[0] is None:
        raise ValueError("lambda_ref_nm is required to draw a fitted power law")
    texts = []
    for side, data, fit, ref, (color, alpha, marker) in zip("AB", counts, fits, refs, _P2_STYLES):
        used = np.isfinite(data)
        ax.plot(centres[used], data[used], linestyle="none", marker=marker, markersize=3.5, color=color, alpha=alpha)
        if fit is not None and used.any():
            lo, hi = centres[used].min(), centres[used].max()
            grid = np.geomspace(lo, hi, _CURVE_POINTS) if hi > lo else np.array([lo])
            # Drawn above both sets of points so no marker hides a curve.
            ax.plot(grid, power_law(grid, fit[0], fit[1], ref), linestyle=FIT_LINESTYLE, linewidth=1.5, color=color,
                    zorder=3)
        texts.append(_slope_text(side, fit, int(round(data[used].sum()))))
    drawn = bool(np.isfinite(counts[0]).any() or np.isfinite(counts[1]).any())
    if not drawn:
        # Nothing drawn: keep the band on the x axis and say why, instead of matplotlib's empty ±0.05 axes.
        edges = bin_edges_from_centres(centres)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0.0, 1.0)
        ax.text(0.5, 0.5, f"no finite {panel.metric} values", transform=ax.transAxes, ha="center", va="center",
                fontsize=FONT_SIZE)
    else:
        ax.set_ylim(bottom=0)
    # Few ticks: a panel is a quarter of the figure wide, and every tick costs a label to draw.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    texts.append(f"p_z = {format_p(panel.p_z)}, p_cal = {format_p(panel.p_cal)}")
    return (texts[0], texts[1], texts[2]), drawn


def plot_p2_concentration(
    centres_nm: np.ndarray,
    panels: Sequence[P2Panel],
    *,
    labels: tuple[str, str],
    title: str,
    reuse: PanelFigure | None = None,
) -> Figure:
    """Top-chunk counts per wavelength bin of A and B with their fitted power laws, one panel per metric.

    Parameters
    ----------
    centres_nm
        Band-bin centres λ_j [nm], shape (W,), positive and strictly increasing.
    panels
        One :class:`P2Panel` per test metric, in the order drawn (reading order, at most four
        panels a row).
    labels
        Legend names of A and B, e.g. ``("A: real-1", "B: mimic-1")``.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.
    reuse
        The :class:`~lightlane.report.drawing.layout.PanelFigure` of the run's metric
        figures to draw into, or None for a new figure.

    Returns
    -------
    Figure
        A small multiple ``max(7, 3.5 × columns)`` in wide. In each panel x is λ (nm) and
        y the top-chunk count per bin, both ranges shared by the panels with counts (tick
        labels on the outer ones); the counts are points (A black circles, B orange
        squares), the fits dashed curves in the same colours over the range of that
        dataset's drawn bins. Above each panel: the metric, then A's and B's fitted index
        b ± se with their number k of top chunks (in A's and B's colours), then p_z and
        p_cal. One legend below all panels explains the markers and curves.

    Raises
    ------
    ValueError
        When there are no bins or no panels, the arrays are inconsistent, or a fit is
        given without a valid λ_ref.
    """
    labels = _check_labels(labels)
    centres = _centres(centres_nm)
    if not panels:
        raise ValueError("plot_p2_concentration needs at least one metric panel")
    fig, axes, shape = (reuse or PanelFigure()).take(len(panels))
    line_pt = LINE_SPACING * FONT_SIZE
    drawn = []
    for index, (panel, ax) in enumerate(zip(panels, axes)):
        header, has_counts = _draw_p2_panel(ax, centres, panel)
        if has_counts:
            drawn.append(ax)
        # Bottom line first: p-values, then B, then A, then the metric on top.
        for row, (text, color, weight) in enumerate(((header[2], COLOR_A, "normal"), (header[1], COLOR_B, "normal"),
                                                     (header[0], COLOR_A, "normal"),
                                                     (panel.metric, COLOR_A, "bold"))):
            ax.annotate(text, xy=(0.0, 1.0), xycoords="axes fraction", xytext=(0.0, _HEADER_PAD_PT + row * line_pt),
                        textcoords="offset points", ha="left", va="bottom", color=color, fontsize=FONT_SIZE,
                        fontweight=weight)
        if index % shape[1] == 0:
            ax.set_ylabel("top-chunk count")
        if index + shape[1] >= len(panels):
            ax.set_xlabel("λ (nm)")
    # The same band and as many top chunks in every panel: one scale, labelled on the outer panels.
    share_axes(axes, shape, x=True, y=True, among=drawn)
    handles = []
    for label, side, (color, alpha, marker) in zip(labels, "AB", _P2_STYLES):
        handles.append(Line2D([], [], linestyle="none", marker=marker, markersize=4, color=color, alpha=alpha,
                              label=f"{label} (top chunks per bin)"))
        handles.append(Line2D([], [], linestyle=FIT_LINESTYLE, linewidth=1.5, color=color,
                              label=f"fit to {side}: c = a·(λ/λ_ref)^b"))
    bottom_legend(fig, handles, 2)
    set_title(fig, title)
    arrange(fig, axes, shape=shape, axes_height_in=PANEL_HEIGHT_IN,
            header_in=(_HEADER_PAD_PT + 4 * line_pt) / 72.0)
    return fig


# --- timescales --------------------------------------------------------------------------------------


# eq=False: numpy array fields would make a generated __eq__ raise.
@dataclass(frozen=True, eq=False)
class TimescalesPanel:
    """One panel of ``timescales_<a|b>.png``: where the top chunks of one metric lie.

    Parameters
    ----------
    metric
        The metric that ranked the chunks.
    centres_nm
        For each top chunk, the centre λ of its wavelength bin [nm], shape (k,), positive.
    widths_s
        For each top chunk, its time-bin width Δ [s], shape (k,), positive.
    """

    metric: str
    centres_nm: np.ndarray
    widths_s: np.ndarray

    def __post_init__(self) -> None:
        x = vector("centres_nm", self.centres_nm)
        y = vector("widths_s", self.widths_s)
        if len(x) != len(y):
            raise ValueError(f"centres_nm and widths_s must have equal lengths, got {len(x)} and {len(y)}")
        if not (np.all(np.isfinite(x) & (x > 0)) and np.all(np.isfinite(y) & (y > 0))):
            raise ValueError("centres_nm and widths_s must be finite and positive")
        object.__setattr__(self, "centres_nm", x)
        object.__setattr__(self, "widths_s", y)


def _grid_extent(panels: Sequence[TimescalesPanel]) -> tuple[bool, tuple[float, float, float, float] | None]:
    """Whether the width axis is logarithmic, and the one hexagon grid of every panel (hexbin's extent:
    x, and y in log10 when logarithmic), from the chunks of all panels; None without chunks.

    The panels share their scales, so their hexagons are the same size and on the same grid; the
    width axis is logarithmic when the widths span more than :data:`_LOG_WIDTH_RATIO` (a
    log-uniform width set would otherwise crowd at the bottom).
    """
    drawn = [panel for panel in panels if panel.centres_nm.size]
    if not drawn:
        return False, None
    x_lo, x_hi = min(p.centres_nm.min() for p in drawn), max(p.centres_nm.max() for p in drawn)
    y_lo, y_hi = min(p.widths_s.min() for p in drawn), max(p.widths_s.max() for p in drawn)
    # A single distinct x or y has no extent to divide into hexagons: pad it so that they have a size.
    if x_lo == x_hi:
        x_lo, x_hi = x_lo * 0.95, x_hi * 1.05
    if y_lo == y_hi:
        y_lo, y_hi = y_lo * 0.95, y_hi * 1.05
    log_y = y_hi / y_lo > _LOG_WIDTH_RATIO
    return log_y, (x_lo, x_hi, math.log10(y_lo), math.log10(y_hi)) if log_y else (x_lo, x_hi, y_lo, y_hi)


def _hexbin(ax, x: np.ndarray, y: np.ndarray, gridsize: int, log_y: bool,
            extent: tuple[float, float, float, float] | None):
    """The hexagons of one panel on the figure's grid (magma, counts from one chunk up), or None without chunks."""
    log_y = log_y and x.size > 0
    if log_y:  # a panel comes linear, with its default locators (PanelFigure.take)
        ax.set_yscale("log")
    # Hexagons over a grid: the dashed lines would read as cell borders.
    if x.size == 0:
        ax.grid(True, linestyle=GRID_LINESTYLE, alpha=GRID_ALPHA)
    else:
        ax.grid(False)
    if x.size == 0:
        ax.text(0.5, 0.5, "no top chunks", transform=ax.transAxes, ha="center", va="center", fontsize=FONT_SIZE)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        return None
    # Filled only: an outline in the face colour costs a second pass over every hexagon and looks the same.
    cells = ax.hexbin(x, y, gridsize=gridsize, mincnt=1, cmap=matplotlib.colormaps[CMAP_COUNTS],
                      yscale="log" if log_y else "linear", extent=extent, linewidths=0.0, edgecolors="none")
    if log_y:
        # Plain numbers, and minor ticks at 2 and 5 only: mathtext labels and a full
        # set of minor ticks per decade cost more to draw than the hexagons.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    # Few ticks: a panel is a quarter of the figure wide, and every tick costs a label to draw.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    return cells


def plot_timescales(
    panels: Sequence[TimescalesPanel],
    *,
    gridsize: int = TIMESCALES_GRIDSIZE,
    title: str,
    reuse: PanelFigure | None = None,
) -> Figure:
    """Hexbins of the top chunks over wavelength and time-bin width, one panel per metric (SPEC §14).

    Parameters
    ----------
    panels
        One :class:`TimescalesPanel` per test metric, in the order drawn (reading order, at
        most four panels a row).
    gridsize
        Number of hexagons across the x axis of each panel.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.
    reuse
        The :class:`~lightlane.report.drawing.layout.PanelFigure` of the run's metric
        figures to draw into (a run draws A's panels, saves them, then B's), or None for a
        new figure.

    Returns
    -------
    Figure
        A small multiple ``max(7, 3.5 × columns)`` in wide; in each panel x is the λ centre
        (nm), y the time-bin width (s), logarithmic when the widths of all panels span more
        than a factor 20, and the title names the metric and its number of top chunks. The
        panels with chunks share both ranges and one hexagon grid; tick labels are on the
        outer ones. Hexagons holding at least one chunk are coloured by their count (magma,
        log scale) on one colour scale for all panels, shown by a single "chunks per hexagon"
        colorbar at the right. A panel
        without chunks says so; without any chunk there is no colorbar.

    Raises
    ------
    ValueError
        When there is no panel or ``gridsize`` is not a positive integer.
    """
    if not panels:
        raise ValueError("plot_timescales needs at least one metric panel")
    if not (isinstance(gridsize, (int, np.integer)) and gridsize >= 1):
        raise ValueError(f"gridsize must be a positive integer, got {gridsize!r}")
    grid = reuse or PanelFigure()
    fig, axes, shape = grid.take(len(panels))
    log_y, extent = _grid_extent(panels)
    drawn = []
    for index, (panel, ax) in enumerate(zip(panels, axes)):
        k = panel.centres_nm.size
        ax.set_title(f"{panel.metric}: {k:,} top chunk{'s' if k != 1 else ''}", fontsize=FONT_SIZE)
        if index % shape[1] == 0:
            ax.set_ylabel("time-bin width (s)")
        if index + shape[1] >= len(panels):
            ax.set_xlabel("λ centre (nm)")
        cells = _hexbin(ax, panel.centres_nm, panel.widths_s, int(gridsize), log_y, extent)
        if cells is not None:
            drawn.append(cells)
    # One grid: the panels share both scales, labelled on the outer panels.
    share_axes(axes, shape, x=True, y=True, among=[cells.axes for cells in drawn])
    colorbar_ax = None
    if drawn:
        top = max(float(cells.get_array().max()) for cells in drawn)
        # One log scale for every panel, from one chunk up; a single level still needs a range.
        norm = LogNorm(vmin=1.0, vmax=max(top, 2.0))
        for cells in drawn:
            cells.set_norm(norm)
        if grid.colorbar is None:
            grid.colorbar = fig.colorbar(drawn[0], cax=add_colorbar_axes(fig))
            grid.colorbar.set_label("chunks per hexagon", fontsize=FONT_SIZE)
            grid.colorbar.ax.tick_params(labelsize=FONT_SIZE)
        else:
            grid.colorbar.update_normal(drawn[0])
            grid.colorbar.ax.set_visible(True)
        colorbar_ax = grid.colorbar.ax
        # Ticks at 1, 2, 5, 10, 20, …: a plain log locator would label only "1"
        # when no hexagon holds ten chunks.
        colorbar_ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        colorbar_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        colorbar_ax.yaxis.set_minor_locator(NullLocator())
    set_title(fig, title)
    arrange(fig, axes, shape=shape, colorbar=colorbar_ax, axes_height_in=PANEL_HEIGHT_IN)
    return fig
