"""Figures of the analysis (SPEC §10, §11.4, §14): heatmap, metric histograms and the quicklook.

* ``heatmap_<a|b>.png`` — :func:`plot_heatmap`: counts per (time bin × wavelength
  bin), log colour scale, bins that are not valid drawn grey.
* ``metric_hist.png`` — :func:`plot_metric_histograms`: a small multiple, one panel
  per metric, of A vs B step histograms on the P1d bins (:func:`lightlane.stats.p1.p1d_edges`),
  with q̄.
* ``quicklook_<dataset>_w<k>.png`` — :func:`plot_quicklook`: light curve,
  count distribution against Poisson, and the spectrum, for one wavelength bin.

All inputs are plain numpy arrays, so the figures can be drawn (and tested)
without a workspace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from ...stats.quantiles import finite_part
from ..framing import metric_histogram
from .layout import PanelFigure, add_colorbar_axes, arrange, bottom_legend, share_axes
from .style import (
    CMAP_COUNTS,
    COLOR_A,
    COLOR_B,
    FIT_LINESTYLE,
    FONT_SIZE,
    new_figure,
    set_title,
    stairs_line,
    vector,
)

__all__ = [
    "GAP_COLOR",
    "ACCENT_COLOR",
    "HEATMAP_SIZE_IN",
    "QUICKLOOK_SIZE_IN",
    "HeatmapFigure",
    "plot_heatmap",
    "PANEL_WIDTH_IN",
    "PANEL_HEIGHT_IN",
    "MetricHistogram",
    "BinnedMetricHistogram",
    "plot_metric_histograms",
    "plot_quicklook",
]

#: Bins that are not valid (exposure below min_exposure) are drawn in this
#: neutral grey: magma contains no unsaturated mid grey, so it cannot be
#: mistaken for a count.
GAP_COLOR = "#999999"
#: Threshold lines, models and highlights that belong to neither A nor B: a
#: purple that stays distinct from black and from B's orange (also for the
#: common forms of colour blindness).
ACCENT_COLOR = "#5d3a9b"
#: Figure sizes fixed by SPEC §14 [in].
HEATMAP_SIZE_IN = (10.0, 5.0)
QUICKLOOK_SIZE_IN = (12.0, 4.0)
#: Small multiples (SPEC §14 rev 2): width of one panel's column and height of its axes [in].
PANEL_WIDTH_IN = 3.5
PANEL_HEIGHT_IN = 2.0
# At most this many bars in the quicklook count histogram; beyond it, bars
# span several integers so that bright bins do not become a grey smear.
_MAX_COUNT_BARS = 60


def _increasing_edges(name: str, values: object, n_bins: int) -> np.ndarray:
    edges = vector(name, values)
    if len(edges) != n_bins + 1:
        raise ValueError(f"{name} must have {n_bins + 1} entries (one more than the bins), got {len(edges)}")
    if not (np.all(np.isfinite(edges)) and np.all(np.diff(edges) > 0)):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return edges


# --- heatmap -----------------------------------------------------------------------------------------


def plot_heatmap(
    counts: np.ndarray,
    exposure: np.ndarray,
    valid: np.ndarray,
    time_edges_s: np.ndarray,
    wavelength_edges_nm: np.ndarray,
    *,
    title: str,
    reuse: HeatmapFigure | None = None,
) -> Figure:
    """Counts per (time bin × wavelength bin) on a log colour scale; invalid bins grey.

    Parameters
    ----------
    counts
        C_k[j, w] (SPEC §10.2), shape J × W, non-negative.
    exposure
        Exposure fractions E_k[j], shape (J,), in [0, 1].
    valid
        Whether each time bin is valid (E_k[j] ≥ min_exposure), shape (J,).
    time_edges_s
        Time bin edges relative to tstart [s], shape (J + 1,), increasing;
        the first may be negative (the offset o_k).
    wavelength_edges_nm
        Wavelength bin edges [nm], shape (W + 1,), increasing.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.
    reuse
        A :class:`HeatmapFigure` to draw into (a run draws A's heatmap, saves it, then B's
        into the same figure), or None for a new figure.

    Returns
    -------
    Figure
        A 10 × 5 in figure; x is the time since tstart (s), y is λ (nm), with
        a "counts per bin" colorbar.

    Notes
    -----
    The colour scale is logarithmic above one count and linear from 0 to 1
    (:class:`~matplotlib.colors.SymLogNorm`), so a bin with zero counts gets
    the dark end of magma instead of being left blank, while 0 and 1 stay
    distinguishable. Time bins that are not valid — and any bin without
    exposure, even when min_exposure = 0 would call it valid — are drawn
    grey over the whole band: their counts are not used by the analysis.
    """
    matrix = np.asarray(counts, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"counts must be a J × W matrix, got shape {matrix.shape}")
    n_time, n_wave = matrix.shape
    if n_time == 0 or n_wave == 0:
        raise ValueError(f"counts must have at least one time bin and one wavelength bin, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix) & (matrix >= 0)):
        raise ValueError("counts must be finite and non-negative")
    exposure = vector("exposure", exposure)
    valid = vector("valid", valid, dtype=bool)
    if len(exposure) != n_time or len(valid) != n_time:
        raise ValueError(
            f"exposure and valid must have {n_time} entries (one per time bin), got {len(exposure)} and {len(valid)}"
        )
    t_edges = _increasing_edges("time_edges_s", time_edges_s, n_time)
    w_edges = _increasing_edges("wavelength_edges_nm", wavelength_edges_nm, n_wave)

    shown = valid & (exposure > 0)
    # pcolormesh wants (rows = y = wavelength, columns = x = time). Masked
    # cells take the colour map's "bad" colour, which is the gap grey; zeros
    # are not masked (SymLogNorm maps them to the low end).
    data = np.ma.masked_array(matrix.T, mask=np.broadcast_to(~shown, (n_wave, n_time)))
    top = float(matrix[shown].max()) if shown.any() else 1.0
    norm = SymLogNorm(linthresh=1.0, linscale=0.5, vmin=0.0, vmax=max(top, 1.0), base=10)

    return (reuse or HeatmapFigure()).draw(data, norm, t_edges, w_edges, title=title)


class HeatmapFigure:
    """One heatmap figure drawn again for each dataset (SPEC §14 rev 2: one figure object per kind).

    The first :meth:`draw` builds the figure, its axes, colorbar and legend; later draws
    replace only the cells, the colour scale and the title, so the second heatmap of a run
    costs no new axes or ticks. Save each drawing before the next (it is the same figure).
    """

    def __init__(self) -> None:
        self.figure: Figure | None = None
        self._mesh = None
        self._colorbar = None

    def draw(self, data: np.ma.MaskedArray, norm: SymLogNorm, time_edges_s: np.ndarray,
             wavelength_edges_nm: np.ndarray, *, title: str) -> Figure:
        """Draw validated cells (W × J, invalid bins masked) with their colour scale; see :func:`plot_heatmap`."""
        cmap = matplotlib.colormaps[CMAP_COUNTS].with_extremes(bad=GAP_COLOR)
        if self.figure is None:
            fig, ax = new_figure(*HEATMAP_SIZE_IN)
            # No grid over an image: the dashed lines would read as structure in the counts.
            ax.grid(False)
            ax.set_xlabel("time since tstart (s)")
            ax.set_ylabel("λ (nm)")
            colorbar_ax = add_colorbar_axes(fig)
            bottom_legend(fig, [Patch(facecolor=GAP_COLOR, label="time bin not valid (exposure < min_exposure)")], 1)
            self.figure = fig
        else:
            fig = self.figure
            ax, colorbar_ax = fig.axes
            self._mesh.remove()
        # Edges off and antialiasing off keep every cell one flat colour.
        mesh = ax.pcolormesh(time_edges_s, wavelength_edges_nm, data, cmap=cmap, norm=norm, shading="flat",
                             edgecolors="none", antialiased=False)
        ax.set_xlim(time_edges_s[0], time_edges_s[-1])
        ax.set_ylim(wavelength_edges_nm[0], wavelength_edges_nm[-1])
        if self._colorbar is None:
            self._colorbar = fig.colorbar(mesh, cax=colorbar_ax)
            self._colorbar.set_label("counts per bin", fontsize=FONT_SIZE)
            self._colorbar.ax.tick_params(labelsize=FONT_SIZE)
        else:
            self._colorbar.update_normal(mesh)
        # Plain numbers (0, 1, 10, 100) rather than powers of ten: counts are
        # integers and the linear 0–1 part of the scale has no exponent to show.
        self._colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        self._mesh = mesh
        set_title(fig, title)
        arrange(fig, [ax], colorbar=colorbar_ax)
        return fig


# --- metric histogram --------------------------------------------------------------------------------


# eq=False: numpy array fields would make a generated __eq__ raise.
@dataclass(frozen=True, eq=False)
class MetricHistogram:
    """One panel of ``metric_hist.png``: a metric's per-chunk values of A and B, and q̄.

    Parameters
    ----------
    metric
        The metric name (SPEC §10.5), the panel's x label and title.
    a, b
        The metric's per-chunk values of A and B. Either may be None or empty (``analyze``
        draws A alone); non-finite values are ignored, and so are the values outside the
        P1d range (the extreme 0.1 % at each end). With no finite value at all the panel
        says so instead of drawing.
    threshold
        The calibrated threshold q̄ (SPEC §11.1), drawn as a vertical dashed line, or None.
    """

    metric: str
    a: np.ndarray | None
    b: np.ndarray | None
    threshold: float | None = None

    def __post_init__(self) -> None:
        _check_threshold(self.metric, self.threshold)
        object.__setattr__(self, "a", finite_part(self.a))
        object.__setattr__(self, "b", finite_part(self.b))

    def binned(self) -> BinnedMetricHistogram:
        """The panel counted on its P1d bins."""
        return BinnedMetricHistogram(**metric_histogram(self.metric, self.a, self.b, self.threshold))


@dataclass(frozen=True, eq=False)
class BinnedMetricHistogram:
    """A :class:`MetricHistogram` already counted on its P1d bins
    (:func:`~lightlane.report.framing.metric_histogram`): what a run sends its drawing processes.

    ``n_a`` and ``n_b`` count each side's finite values (a side without any is not drawn); ``edges``
    and the counts are None when neither side has one.
    """

    metric: str
    edges: np.ndarray | None
    counts_a: np.ndarray | None
    counts_b: np.ndarray | None
    n_a: int
    n_b: int
    threshold: float | None = None

    def __post_init__(self) -> None:
        _check_threshold(self.metric, self.threshold)

    def binned(self) -> BinnedMetricHistogram:
        return self


def _check_threshold(metric: str, threshold: float | None) -> None:
    if threshold is not None and not math.isfinite(threshold):
        raise ValueError(f"threshold of {metric!r} must be finite or None, got {threshold!r}")


def _count_tick(value: float, _position: object = None) -> str:
    """A tick label of a count axis: ``1,000`` (``0.5`` below one)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _chunk_count_label(counts: list[int]) -> str:
    """``n = 100,000`` when every panel has as many values, else the range."""
    low, high = min(counts), max(counts)
    return f"n = {low:,}" if low == high else f"n = {low:,}–{high:,} per panel"


def plot_metric_histograms(panels: Sequence[MetricHistogram | BinnedMetricHistogram], *, labels: tuple[str, str],
                           title: str, reuse: PanelFigure | None = None) -> Figure:
    """Step histograms of A (black) and B (orange) on the P1d bins, one panel per metric.

    Parameters
    ----------
    panels
        One :class:`MetricHistogram` (or :class:`BinnedMetricHistogram`) per metric, in the
        order drawn (reading order, at most four panels a row).
    labels
        Legend names of A and B, e.g. ``("A: real-1", "B: mimic-1")``; the name of a dataset
        without values is unused.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.
    reuse
        The :class:`~lightlane.report.drawing.layout.PanelFigure` of the run's metric
        figures to draw into, or None for a new figure.

    Returns
    -------
    Figure
        A small multiple ``max(7, 3.5 × columns)`` in wide; in each panel x is the metric
        value and y the number of chunks per bin on a log scale shared by the panels (labelled
        on the first of each row), with q̄ as a dashed purple
        line and the metric (and q̄) in the panel title. One legend below all panels names
        A, B (with their chunk counts) and q̄.

    Raises
    ------
    ValueError
        When there is no panel, a threshold is not finite, or ``labels`` is not a pair.
    """
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"labels must name A and B, got {labels!r}")
    if not panels:
        raise ValueError("plot_metric_histograms needs at least one metric panel")
    fig, axes, shape = (reuse or PanelFigure()).take(len(panels))
    counts: tuple[list[int], list[int]] = ([], [])
    drawn = []
    for index, (panel, ax) in enumerate(zip((panel.binned() for panel in panels), axes)):
        ax.set_xlabel(panel.metric)
        if index % shape[1] == 0:
            ax.set_ylabel("chunks")
        heading = panel.metric if panel.threshold is None else f"{panel.metric} · q̄ = {panel.threshold:.4g}"
        ax.set_title(heading, fontsize=FONT_SIZE)
        if panel.edges is None:
            ax.text(0.5, 0.5, f"no finite {panel.metric} values", transform=ax.transAxes, ha="center", va="center",
                    fontsize=FONT_SIZE)
            ax.set_yticks([])
            continue
        sides = ((panel.counts_a, panel.n_a), (panel.counts_b, panel.n_b))
        for (hist, size), color, seen in zip(sides, (COLOR_A, COLOR_B), counts):
            if size == 0:
                continue
            seen.append(size)
            # B after A and slightly thinner: where the two coincide, A's black
            # still shows on both sides of the orange line.
            stairs_line(ax, hist, panel.edges, color=color, linewidth=1.6 if color == COLOR_A else 1.2)
        if panel.threshold is not None:
            ax.axvline(panel.threshold, color=ACCENT_COLOR, linestyle=FIT_LINESTYLE, linewidth=1.3)
        ax.set_yscale("log")
        # No minor ticks: a set per decade costs more to draw than the histogram, and
        # the dashed grid at each decade already gives the scale.
        ax.yaxis.set_minor_locator(NullLocator())
        # Plain numbers (1, 10, 1,000) rather than mathtext powers of ten: as clear for
        # counts, and mathtext costs more to lay out than the rest of the panel.
        ax.yaxis.set_major_formatter(FuncFormatter(_count_tick))
        # A bin holding a single chunk must still show as a step above the floor.
        ax.set_ylim(bottom=0.5)
        # Few ticks: a panel is a third of a page wide.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        drawn.append(ax)
    # Every metric has as many chunks: one count scale, labelled on the first panel of each row.
    share_axes(axes, shape, y=True, among=drawn)
    handles: list = []
    for label, color, width, seen in zip(labels, (COLOR_A, COLOR_B), (1.6, 1.2), counts):
        if seen:
            handles.append(Line2D([], [], color=color, linewidth=width, label=f"{label} ({_chunk_count_label(seen)})"))
    if any(panel.threshold is not None for panel in panels):
        handles.append(Line2D([], [], color=ACCENT_COLOR, linestyle=FIT_LINESTYLE, linewidth=1.3,
                              label="q̄: calibrated P1a threshold"))
    if handles:
        bottom_legend(fig, handles, 3)
    set_title(fig, title)
    arrange(fig, axes, shape=shape, axes_height_in=PANEL_HEIGHT_IN)
    return fig


# --- quicklook ---------------------------------------------------------------------------------------


def _count_bars(values: np.ndarray, mean: float) -> np.ndarray:
    """Half-integer edges, each bar one or more integers wide.

    They cover the observed counts and the central 99.8 % of Poisson(mean),
    so that a deficit where the model expects counts (say, no zeros) shows.
    """
    from scipy.stats import poisson  # only the quicklook needs it: half a second of import kept off runs

    low = min(int(np.floor(values.min())), int(poisson.ppf(0.001, mean)))
    high = max(int(np.ceil(values.max())), int(poisson.ppf(0.999, mean)))
    step = max(1, math.ceil((high - low + 1) / _MAX_COUNT_BARS))
    return np.arange(low, high + step + 1, step, dtype=np.float64) - 0.5


def _bin_extent(centres: np.ndarray, k: int) -> tuple[float, float]:
    """The wavelength interval of bin k, halfway to its neighbours (bins need not be uniform)."""
    if len(centres) == 1:
        half = abs(centres[0]) * 0.05 or 0.5
        return centres[0] - half, centres[0] + half
    left = (centres[k] - centres[k - 1]) / 2 if k > 0 else (centres[1] - centres[0]) / 2
    right = (centres[k + 1] - centres[k]) / 2 if k < len(centres) - 1 else (centres[-1] - centres[-2]) / 2
    return centres[k] - left, centres[k] + right


def plot_quicklook(
    times_s: np.ndarray,
    counts: np.ndarray,
    valid: np.ndarray,
    width_s: float,
    spectrum_centres_nm: np.ndarray,
    spectrum_flux_density: np.ndarray,
    spectrum_err: np.ndarray,
    highlight_bin: int,
    *,
    title: str,
) -> Figure:
    """A three-panel look at one wavelength bin: light curve, count distribution, spectrum.

    Parameters
    ----------
    times_s
        Left edges of the time bins relative to tstart [s], shape (J,), increasing.
    counts
        Counts of the chosen wavelength bin in each time bin, C_k[:, w], shape (J,).
    valid
        Whether each time bin is valid (SPEC §10.2), shape (J,).
    width_s
        The time-bin width Δ_k [s] (the median width in ``analyze``).
    spectrum_centres_nm, spectrum_flux_density, spectrum_err
        The apparent spectrum y_w ± σ_w over the band bins (SPEC §12).
    highlight_bin
        The wavelength bin w shown in the first two panels, highlighted in the third.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 12 × 4 in figure: (1) counts vs time with invalid bins left as gaps
        (shaded grey) and the mean μ_g dashed; (2) the histogram of the
        counts of the valid bins with the expected numbers under Poisson(μ_g);
        (3) the spectrum with bin w shaded and its point in purple.
    """
    starts = vector("times_s", times_s)
    counts = vector("counts", counts)
    valid = vector("valid", valid, dtype=bool)
    n_time = len(starts)
    if n_time == 0 or len(counts) != n_time or len(valid) != n_time:
        raise ValueError(
            "times_s, counts and valid must be non-empty and of equal length, "
            f"got {n_time}, {len(counts)}, {len(valid)}"
        )
    if not (math.isfinite(width_s) and width_s > 0):
        raise ValueError(f"width_s must be positive, got {width_s!r}")
    if not (np.all(np.isfinite(starts)) and np.all(np.diff(starts) > 0)):
        raise ValueError("times_s must be finite and strictly increasing")
    if not np.all(np.isfinite(counts[valid]) & (counts[valid] >= 0)):
        raise ValueError("counts of valid bins must be finite and non-negative")
    centres = vector("spectrum_centres_nm", spectrum_centres_nm)
    flux = vector("spectrum_flux_density", spectrum_flux_density)
    err = vector("spectrum_err", spectrum_err)
    if not (len(centres) == len(flux) == len(err)) or len(centres) == 0:
        raise ValueError(
            "the spectrum arrays must be non-empty and of equal length, "
            f"got {len(centres)}, {len(flux)}, {len(err)}"
        )
    if not 0 <= highlight_bin < len(centres):
        raise ValueError(f"highlight_bin must be in [0, {len(centres) - 1}], got {highlight_bin!r}")

    fig, (ax_lc, ax_hist, ax_spec) = new_figure(*QUICKLOOK_SIZE_IN, ncols=3)
    good = counts[valid]
    mean = float(good.mean()) if good.size else math.nan
    k = highlight_bin
    handles: list = []

    # (1) Light curve. NaN breaks the line, so an invalid bin is a visible
    # gap rather than a misleading zero; the last edge closes the final bin.
    edges = np.append(starts, starts[-1] + width_s)
    shown = np.where(valid, counts, np.nan)
    (curve,) = ax_lc.plot(
        edges,
        np.append(shown, shown[-1]),
        drawstyle="steps-post",
        color=COLOR_A,
        linewidth=0.9,
        label="counts per time bin",
    )
    handles.append(curve)
    if not valid.all():
        # The gaps are shaded in the heatmap's grey, so short ones stay visible
        # even when the curve is dense.
        handles.append(
            ax_lc.fill_between(
                edges,
                0,
                1,
                where=np.append(~valid, ~valid[-1]),
                step="post",
                transform=ax_lc.get_xaxis_transform(),
                color=GAP_COLOR,
                alpha=0.35,
                linewidth=0,
                label="time bin not valid",
            )
        )
    if good.size:
        # Above the curve (zorder 3), which would otherwise hide most of it.
        handles.append(
            ax_lc.axhline(
                mean, color=ACCENT_COLOR, linestyle=FIT_LINESTYLE, linewidth=1.4, zorder=3, label=f"mean μ = {mean:.3g}"
            )
        )
    ax_lc.set_xlim(edges[0], edges[-1])
    ax_lc.set_ylim(bottom=0)
    # Few ticks: a third of a 12 in figure cannot fit six five-digit times.
    ax_lc.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax_lc.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_lc.set_xlabel("time since tstart (s)")
    ax_lc.set_ylabel("counts per bin")
    ax_lc.set_title(f"bin {k} (λ = {centres[k]:.4g} nm), Δ = {width_s:.4g} s", fontsize=FONT_SIZE)

    # (2) Count distribution of the valid bins against Poisson at their mean:
    # expected numbers of time bins per bar, N·P(bar), so the two share a scale.
    if good.size:
        bars = _count_bars(good, mean)
        observed, _ = np.histogram(good, bins=bars)
        # An outline only: a grey fill would read as the "not valid" grey.
        stairs_line(ax_hist, observed, bars, color=COLOR_A, linewidth=1.4)
        low_int, high_int = np.ceil(bars[:-1]), np.floor(bars[1:])
        from scipy.stats import poisson

        expected = good.size * (poisson.cdf(high_int, mean) - poisson.cdf(low_int - 1, mean))
        (model,) = ax_hist.plot(
            (bars[:-1] + bars[1:]) / 2,
            expected,
            color=ACCENT_COLOR,
            linestyle=FIT_LINESTYLE,
            marker="o",
            markersize=3,
            linewidth=1.2,
            label=f"Poisson pmf at μ, × {good.size:,} bins",
        )
        handles.append(model)
        ax_hist.set_xlim(bars[0], bars[-1])
        ax_hist.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    else:
        ax_hist.text(
            0.5, 0.5, "no valid time bins", transform=ax_hist.transAxes, ha="center", va="center", fontsize=FONT_SIZE
        )
    ax_hist.set_ylim(bottom=0)
    ax_hist.set_xlabel("counts per bin")
    ax_hist.set_ylabel("time bins")
    ax_hist.set_title(f"distribution of {good.size:,} valid bins", fontsize=FONT_SIZE)

    # (3) Spectrum with bin k marked: a shaded band shows its extent and a
    # purple point its value, so it is found at a glance among many bins.
    ax_spec.errorbar(centres, flux, yerr=err, fmt="o", markersize=3, elinewidth=0.8, capsize=0, color=COLOR_A)
    lo_nm, hi_nm = _bin_extent(centres, k)
    ax_spec.axvspan(lo_nm, hi_nm, color=ACCENT_COLOR, alpha=0.2, linewidth=0)
    ax_spec.errorbar(
        centres[k], flux[k], yerr=err[k], fmt="o", markersize=5, elinewidth=1.2, capsize=0, color=ACCENT_COLOR, zorder=3
    )
    handles.append(
        Line2D(
            [], [], color=ACCENT_COLOR, marker="o", markersize=5, linestyle="none", label=f"bin {k} (λ = {centres[k]:.4g} nm)"
        )
    )
    ax_spec.set_ylim(bottom=0)
    ax_spec.set_xlabel("λ (nm)")
    ax_spec.set_ylabel("flux density (counts s⁻¹ nm⁻¹)")
    ax_spec.set_title("apparent spectrum", fontsize=FONT_SIZE)

    bottom_legend(fig, handles, 5)
    set_title(fig, title)
    arrange(fig, [ax_lc, ax_hist, ax_spec], shape=(1, 3))
    return fig
