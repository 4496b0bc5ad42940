"""Figures of a pipeline run (SPEC §11.6, §14): counts per bin, P2 concentration, timescales.

* ``counts_hist_wavelength.png`` — :func:`plot_counts_per_bin`: step
  histograms of the counts of A and B over the band bins.
* ``p2_concentration_<metric>.png`` — :func:`plot_p2_concentration`: the
  top-chunk counts per wavelength bin of A and B with their fitted power laws
  c = a·(λ/λ_ref)^b dashed; the legend gives b ± se, p_z and p_cal.
* ``timescales_<metric>_<a|b>.png`` — :func:`plot_timescales`: a hexbin of the
  top chunks over (wavelength centre, time-bin width).

All inputs are plain numpy arrays, so the figures can be drawn (and tested)
without a workspace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .style import (
    CMAP_COUNTS,
    COLOR_A,
    COLOR_B,
    FIT_LINESTYLE,
    FONT_SIZE,
    bottom_legend,
    legend_columns,
    new_figure,
    set_title,
    vector,
)

__all__ = [
    "TIMESCALES_GRIDSIZE",
    "power_law",
    "bin_edges_from_centres",
    "format_p",
    "power_law_label",
    "plot_counts_per_bin",
    "plot_p2_concentration",
    "plot_timescales",
]

#: Hexagons across the x axis of the timescales plot (SPEC §14).
TIMESCALES_GRIDSIZE = 40
# Points per fitted power-law curve: smooth for any number of bins, yet cheap.
_CURVE_POINTS = 400
# Time-bin widths spanning more than this ratio get a logarithmic y axis in
# the timescales plot (a log-uniform width set would otherwise crowd at the bottom).
_LOG_WIDTH_RATIO = 20.0

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
            ax.stairs(counts, edges, color=color, linewidth=width, label=f"{label} ({int(round(counts.sum())):,} events)")
        )
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("λ (nm)")
    ax.set_ylabel("counts per bin")
    bottom_legend(fig, handles, 2)
    set_title(fig, title)
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


def plot_p2_concentration(
    centres_nm: np.ndarray,
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    fit_a: PowerLawFit | None,
    fit_b: PowerLawFit | None,
    lambda_ref_nm: float | tuple[float, float] | None,
    p_z: float | None,
    p_cal: float | None,
    *,
    metric: str,
    labels: tuple[str, str],
    title: str,
) -> Figure:
    """Top-chunk counts per wavelength bin of A and B with their fitted power laws (SPEC §11.6).

    Parameters
    ----------
    centres_nm
        Band-bin centres λ_j [nm], shape (W,), positive and strictly increasing.
    counts_a, counts_b
        Counts c_j of the top chunks of A and of B per wavelength bin, shape
        (W,), non-negative. NaN marks a bin outside that dataset's W_data;
        it is neither drawn nor counted.
    fit_a, fit_b
        The fitted (a, b, se(b)) of c = a·(λ/λ_ref)^b for A and B, or None
        when the fit is undefined; a None fit draws no curve and its legend
        entry reads ``b = n/a``.
    lambda_ref_nm
        λ_ref [nm] of the fits: one value for both, or the pair (A, B) when
        each dataset used the geometric mean of its own centres. May be None
        only when both fits are None.
    p_z, p_cal
        The two-sided p of z = (b_A − b_B)/√(se_A² + se_B²) and the calibrated
        p-value, shown as ``%.2e``, or ``n/a`` when None.
    metric
        The metric that ranked the chunks (SPEC §10.5), named in the axes title.
    labels
        Legend names of A and B, e.g. ``("A: real-1", "B: mimic-1")``.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is λ (nm), y the top-chunk count per bin. The
        counts are points, the fits dashed curves in the same colours over
        the range of that dataset's drawn bins; the legend below the axes
        has A's entries and p_z in its first column, B's and p_cal in its second
        (in one column, when the labels are too wide for two: A, B, then p_z and
        p_cal on one row). k is the number of top chunks drawn.

    Raises
    ------
    ValueError
        When there are no bins, the arrays are inconsistent, or a fit is
        given without a valid λ_ref.
    """
    labels = _check_labels(labels)
    centres = _centres(centres_nm)
    counts = (
        _counts("counts_a", counts_a, len(centres), allow_nan=True),
        _counts("counts_b", counts_b, len(centres), allow_nan=True),
    )
    fits = (_check_fit("fit_a", fit_a), _check_fit("fit_b", fit_b))
    refs = _reference(lambda_ref_nm)
    if any(fit is not None for fit in fits) and refs[0] is None:
        raise ValueError("lambda_ref_nm is required to draw a fitted power law")

    fig, ax = new_figure()
    columns: list[list] = []
    styles = ((COLOR_A, 1.0, "o"), (COLOR_B, 0.85, "s"))
    for data, label, fit, ref, (color, alpha, marker) in zip(counts, labels, fits, refs, styles):
        used = np.isfinite(data)
        entries = [
            ax.plot(
                centres[used],
                data[used],
                linestyle="none",
                marker=marker,
                markersize=4,
                color=color,
                alpha=alpha,
                label=f"{label} (k = {int(round(data[used].sum())):,})",
            )[0]
        ]
        if fit is not None and used.any():
            lo, hi = centres[used].min(), centres[used].max()
            grid = np.geomspace(lo, hi, _CURVE_POINTS) if hi > lo else np.array([lo])
            # Drawn above both sets of points so no marker hides a curve.
            (line,) = ax.plot(
                grid,
                power_law(grid, fit[0], fit[1], ref),
                linestyle=FIT_LINESTYLE,
                linewidth=1.5,
                color=color,
                zorder=3,
                label=power_law_label(fit),
            )
            entries.append(line)
        else:
            # A legend row without a key: there is no curve to stand for.
            entries.append(Line2D([], [], linestyle="none", label=power_law_label(fit)))
        columns.append(entries)
    columns[0].append(Line2D([], [], linestyle="none", label=f"p_z = {format_p(p_z)}"))
    columns[1].append(Line2D([], [], linestyle="none", label=f"p_cal = {format_p(p_cal)}"))

    ax.set_ylim(bottom=0)
    ax.set_xlabel("λ (nm)")
    ax.set_ylabel("top-chunk count")
    ax.set_title(f"P2: top chunks by {metric} per wavelength bin, c = a·(λ/λ_ref)^b", fontsize=FONT_SIZE)
    # Filled column by column: with two columns A's points, fit and p_z are on
    # the left, B's and p_cal on the right; with one, A then B then the p-values.
    handles = columns[0] + columns[1]
    ncols = legend_columns([h.get_label() for h in handles], fig.get_figwidth(), max_columns=2)
    if ncols == 1:
        # One column: A, then B, then both p-values on a single row.
        p_row = Line2D([], [], linestyle="none", label=f"p_z = {format_p(p_z)}, p_cal = {format_p(p_cal)}")
        handles = columns[0][:2] + columns[1][:2] + [p_row]
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False, fontsize=FONT_SIZE)
    set_title(fig, title)
    return fig


# --- timescales --------------------------------------------------------------------------------------


def plot_timescales(
    centres_nm: np.ndarray,
    widths_s: np.ndarray,
    *,
    gridsize: int = TIMESCALES_GRIDSIZE,
    title: str,
) -> Figure:
    """A hexbin of the top chunks over wavelength and time-bin width (SPEC §14).

    Parameters
    ----------
    centres_nm
        For each top chunk, the centre λ of its wavelength bin [nm], shape (k,), positive.
    widths_s
        For each top chunk, its time-bin width Δ [s], shape (k,), positive.
    gridsize
        Number of hexagons across the x axis.
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is the λ centre (nm), y the time-bin width (s),
        logarithmic when the widths span more than a factor 20. Hexagons
        holding at least one chunk are coloured by their count (magma, log
        scale) with a "chunks" colorbar. Without chunks the axes say so and
        there is no colorbar.

    Raises
    ------
    ValueError
        When the arrays differ in length or hold non-finite or non-positive values.
    """
    x = vector("centres_nm", centres_nm)
    y = vector("widths_s", widths_s)
    if len(x) != len(y):
        raise ValueError(f"centres_nm and widths_s must have equal lengths, got {len(x)} and {len(y)}")
    if not (np.all(np.isfinite(x) & (x > 0)) and np.all(np.isfinite(y) & (y > 0))):
        raise ValueError("centres_nm and widths_s must be finite and positive")
    if not (isinstance(gridsize, (int, np.integer)) and gridsize >= 1):
        raise ValueError(f"gridsize must be a positive integer, got {gridsize!r}")

    fig, ax = new_figure()
    ax.set_xlabel("λ centre (nm)")
    ax.set_ylabel("time-bin width (s)")
    if x.size == 0:
        ax.text(0.5, 0.5, "no top chunks", transform=ax.transAxes, ha="center", va="center", fontsize=FONT_SIZE)
        set_title(fig, title)
        return fig

    log_y = y.max() / y.min() > _LOG_WIDTH_RATIO
    # Hexagons over a grid: the dashed lines would read as cell borders.
    ax.grid(False)
    # With a single distinct x or y, hexbin would have no extent to divide;
    # pad it so the hexagons have a size.
    extent = None
    if x.min() == x.max() or y.min() == y.max():
        x_lo, x_hi = (x.min() * 0.95, x.max() * 1.05) if x.min() == x.max() else (x.min(), x.max())
        y_lo, y_hi = (y.min() * 0.95, y.max() * 1.05) if y.min() == y.max() else (y.min(), y.max())
        extent = (x_lo, x_hi, math.log10(y_lo), math.log10(y_hi)) if log_y else (x_lo, x_hi, y_lo, y_hi)
    cells = ax.hexbin(
        x,
        y,
        gridsize=gridsize,
        mincnt=1,
        cmap=matplotlib.colormaps[CMAP_COUNTS],
        yscale="log" if log_y else "linear",
        extent=extent,
        linewidths=0.2,
        edgecolors="face",
    )
    top = float(cells.get_array().max())
    # Log colours from one chunk up; a single level still needs a range.
    cells.set_norm(LogNorm(vmin=1.0, vmax=max(top, 2.0)))
    colorbar = fig.colorbar(cells, ax=ax, pad=0.01)
    colorbar.set_label("chunks", fontsize=FONT_SIZE)
    colorbar.ax.tick_params(labelsize=FONT_SIZE)
    # Ticks at 1, 2, 5, 10, 20, …: a plain log locator would label only "1"
    # when no hexagon holds ten chunks.
    colorbar.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    colorbar.ax.yaxis.set_minor_formatter(NullFormatter())
    if log_y:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_title(f"{x.size:,} top chunk{'s' if x.size != 1 else ''}", fontsize=FONT_SIZE)
    set_title(fig, title)
    return fig
