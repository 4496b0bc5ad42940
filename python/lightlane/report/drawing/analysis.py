"""Figures of the analysis (SPEC §10, §11.4, §14): heatmap, metric histograms and the quicklook.

* ``heatmap_<a|b>.png`` — :func:`plot_heatmap`: counts per (time bin × wavelength
  bin), log colour scale, bins that are not valid drawn grey.
* ``metric_hist_<metric>.png`` — :func:`plot_metric_histogram`: A vs B step
  histograms of one metric on the P1d bins (:func:`lightlane.stats.p1.p1d_edges`), with q̄.
* ``quicklook_<dataset>_w<k>.png`` — :func:`plot_quicklook`: light curve,
  count distribution against Poisson, and the spectrum, for one wavelength bin.

All inputs are plain numpy arrays, so the figures can be drawn (and tested)
without a workspace.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from scipy.stats import poisson

from ...stats.p1 import p1d_edges
from ...stats.quantiles import finite_part
from .style import (
    CMAP_COUNTS,
    COLOR_A,
    COLOR_B,
    FIT_LINESTYLE,
    FONT_SIZE,
    bottom_legend,
    new_figure,
    set_title,
    vector,
)

__all__ = [
    "GAP_COLOR",
    "ACCENT_COLOR",
    "HEATMAP_SIZE_IN",
    "QUICKLOOK_SIZE_IN",
    "plot_heatmap",
    "plot_metric_histogram",
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
    cmap = matplotlib.colormaps[CMAP_COUNTS].with_extremes(bad=GAP_COLOR)

    fig, ax = new_figure(*HEATMAP_SIZE_IN)
    # No grid over an image: the dashed lines would read as structure in the
    # counts. Edges off and antialiasing off keep every cell one flat colour.
    ax.grid(False)
    mesh = ax.pcolormesh(
        t_edges, w_edges, data, cmap=cmap, norm=norm, shading="flat", edgecolors="none", antialiased=False
    )
    ax.set_xlim(t_edges[0], t_edges[-1])
    ax.set_ylim(w_edges[0], w_edges[-1])
    ax.set_xlabel("time since tstart (s)")
    ax.set_ylabel("λ (nm)")
    colorbar = fig.colorbar(mesh, ax=ax, pad=0.01)
    colorbar.set_label("counts per bin", fontsize=FONT_SIZE)
    colorbar.ax.tick_params(labelsize=FONT_SIZE)
    # Plain numbers (0, 1, 10, 100) rather than powers of ten: counts are
    # integers and the linear 0–1 part of the scale has no exponent to show.
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    bottom_legend(fig, [Patch(facecolor=GAP_COLOR, label="time bin not valid (exposure < min_exposure)")], 1)
    set_title(fig, title)
    return fig


# --- metric histogram --------------------------------------------------------------------------------


def plot_metric_histogram(
    a: np.ndarray | None,
    b: np.ndarray | None,
    *,
    metric: str,
    labels: tuple[str, str],
    threshold: float | None,
    title: str,
) -> Figure:
    """Step histograms of one metric for A (black) and B (orange) on the P1d bins.

    Parameters
    ----------
    a, b
        The metric's per-chunk values of A and B. Either may be None or empty
        for a single-dataset plot (``analyze``); non-finite values are ignored,
        and so are the values outside the P1d range (the extreme 0.1 % at
        each end).
    metric
        The metric name (SPEC §10.5), used as the x label.
    labels
        Legend names of A and B, e.g. ``("A: real-1", "B: mimic-1")``; the
        name of a missing dataset is unused.
    threshold
        The threshold q̄ (SPEC §11.1), drawn as a vertical dashed line, or None.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is the metric value, y the number of chunks
        per bin on a log scale.
    """
    if len(labels) != 2:
        raise ValueError(f"labels must name A and B, got {labels!r}")
    if threshold is not None and not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite or None, got {threshold!r}")
    values = (finite_part(a), finite_part(b))
    edges = p1d_edges(*values)

    fig, ax = new_figure()
    handles = []
    for data, label, color in zip(values, labels, (COLOR_A, COLOR_B)):
        if data.size == 0:
            continue
        hist, _ = np.histogram(data, bins=edges)
        # B after A and slightly thinner: where the two coincide, A's black
        # still shows on both sides of the orange line.
        handles.append(
            ax.stairs(
                hist,
                edges,
                color=color,
                linewidth=1.6 if color == COLOR_A else 1.2,
                label=f"{label} (n = {data.size:,})",
            )
        )
    if threshold is not None:
        handles.append(
            ax.axvline(
                threshold, color=ACCENT_COLOR, linestyle=FIT_LINESTYLE, linewidth=1.3, label=f"q̄ = {threshold:.4g}"
            )
        )
    ax.set_yscale("log")
    # A bin holding a single chunk must still show as a step above the floor.
    ax.set_ylim(bottom=0.5)
    ax.set_xlabel(metric)
    ax.set_ylabel("chunks")
    bottom_legend(fig, handles, 3)
    set_title(fig, title)
    return fig


# --- quicklook ---------------------------------------------------------------------------------------


def _count_bars(values: np.ndarray, mean: float) -> np.ndarray:
    """Half-integer edges, each bar one or more integers wide.

    They cover the observed counts and the central 99.8 % of Poisson(mean),
    so that a deficit where the model expects counts (say, no zeros) shows.
    """
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
        ax_hist.stairs(observed, bars, color=COLOR_A, linewidth=1.4)
        low_int, high_int = np.ceil(bars[:-1]), np.floor(bars[1:])
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
    return fig
