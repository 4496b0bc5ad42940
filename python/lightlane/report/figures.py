"""The standard figures of SPEC §14, built from datasets, generations, analyses and runs, saved atomically.

The drawing itself lives in :mod:`lightlane.report.drawing` (arrays in, a ``Figure`` out);
this module decides which figures a command writes and what goes into them.

``generate`` and ``replicate`` write ``lanecount_<dataset>.png`` (and the mimic's
``spectrum_real_vs_mimic.png``, :func:`save_synthetic_plots`); ``analyze`` writes
``spectrum.png``, ``heatmap.png``, ``metric_hist_<metric>.png`` and a quicklook
(:func:`save_analysis_plots`).

``run`` writes, into ``results/pipelines/<pipeline>/run-<run_id>/`` (:func:`save_run_plots`):

* ``spectrum_a_vs_b.png`` and ``counts_hist_wavelength.png``;
* ``heatmap_a.png`` and ``heatmap_b.png``;
* per test metric: ``metric_hist_<metric>.png`` (with the calibrated threshold q̄),
  ``p2_concentration_<metric>.png``, ``timescales_<metric>_a.png`` and ``_b.png``;
* ``lanecount_<dataset>.png`` for each synthetic A/B dataset.

The run figures are built from the two :class:`~lightlane.analysis.Analysis` objects and the
run's ``test_results`` rows only, so they need no workspace and can be redrawn from a cache.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ..analysis.dataset_analysis import Analysis
from ..datasets.synthetic import SyntheticResult, fit_dataset
from ..events.spectrum_fit import SpectrumFit
from ..lanesheet.simulation import generation_band, lanecount_trace, lanesheet_bins
from ..metadata import DatasetMeta, GenerationParameters, ProcessingParameters
from ..stats.p2 import p2_fit, top_chunks
from ..store.workspace import Workspace
from .drawing import (
    LanecountTrace,
    SpectrumPanel,
    lanecount_window,
    new_figure,
    plot_counts_per_bin,
    plot_heatmap,
    plot_lanecounts,
    plot_metric_histogram,
    plot_p2_concentration,
    plot_quicklook,
    plot_spectrum_comparison,
    plot_timescales,
    quartile_bins,
    save_figure,
    set_title,
    title_for,
)
from .drawing.style import FONT_SIZE

__all__ = ["lanecount_figure", "save_lanecount_plot", "save_spectrum_plot", "spectrum_panel", "median_binning",
           "heatmap_figure", "save_analysis_plots", "save_synthetic_plots", "save_run_plots", "band_counts",
           "observed_panel"]


# ----------------------------------------------------------------------------- datasets, generations, analyses


def lanecount_figure(dataset: str, generation: GenerationParameters, processing: ProcessingParameters,
                     run_id: str | None = None) -> Figure | None:
    """N(t) of 4 bins at the band quartiles over the first min(D, 2000 s); None if all of them are isotropic.

    Shared by ``generate``/``replicate`` and ``run`` so the lanecount figure looks the same everywhere.
    """
    band = generation_band(generation, processing)
    bins = lanesheet_bins(generation, band)
    t0, t1 = lanecount_window(generation.time.tstart_s, generation.time.tstop_s)
    traces = []
    for w in quartile_bins(band.bins):
        if bins.isotropic[w]:
            continue  # no lattice: homogeneous Poisson photons
        trace = lanecount_trace(generation, w, t0, t1, processing)
        traces.append(LanecountTrace(bin=w, wavelength_nm=float(bins.centre_nm[w]), times_s=trace["time_s"].to_numpy(),
                                     counts=trace["lanecount"].to_numpy(), mean_lanecount=float(bins.mean_lanecount[w])))
    if not traces:
        return None
    return plot_lanecounts(traces, tstart_s=generation.time.tstart_s,
                           title="lanecount · " + title_for([dataset], processing.id, run_id))


def save_lanecount_plot(path: Path, meta: DatasetMeta | str, generation: GenerationParameters,
                        processing: ProcessingParameters, dpi: int = 150, *, run_id: str | None = None) -> Path:
    """``lanecount_<dataset>.png``: N(t) of 4 bins at the band quartiles over the first min(D, 2000 s).

    ``meta`` is the dataset's metadata or just its name (a run's in-memory B has no metadata).
    Nothing is written when every quartile bin is isotropic; ``path`` is returned all the same.
    """
    name = meta if isinstance(meta, str) else meta.id
    figure = lanecount_figure(name, generation, processing, run_id)
    if figure is None:
        return path
    return save_figure(figure, path, dpi=dpi)


def spectrum_panel(label: str, fit: SpectrumFit) -> SpectrumPanel:
    return SpectrumPanel(label=label, centres_nm=fit.band.centres_nm(), flux_density=np.asarray(fit.flux_density),
                         flux_density_err=np.asarray(fit.flux_density_err), fitted=fit.spectrum, r2=float(fit.r2))


def save_spectrum_plot(path: Path, a: SpectrumPanel, b: SpectrumPanel | None, title: str, dpi: int = 150) -> Path:
    """Apparent spectra of two datasets with their fits (``spectrum_a_vs_b.png`` style)."""
    return save_figure(plot_spectrum_comparison(a, b, title=title), path, dpi=dpi)


def median_binning(binnings):
    """The binning at the median width of the usable widths (heatmap, quicklook)."""
    usable = [b for b in binnings if b.usable] or list(binnings)
    return sorted(usable, key=lambda b: b.width_s)[len(usable) // 2]


def heatmap_figure(analysis, title: str) -> Figure:
    """Counts per (median-width time bin × wavelength bin) of one analysis; ``title`` names datasets and ids."""
    binning = median_binning(analysis.binnings)
    band = analysis.processing.band
    prefix = f"counts per {binning.width_s:.1f} s × {band.width_nm:.4g} nm · "
    return plot_heatmap(binning.counts, binning.exposure, binning.valid, binning.edges - binning.tstart_s,
                        band.edges_nm(), title=prefix + title)


def save_analysis_plots(folder: Path, analysis, metrics, quicklook_bin: int | None = None, dpi: int = 150) -> list[Path]:
    """``analyze`` figures: spectrum, heatmap, one histogram per metric, quicklook (SPEC §14)."""
    processing = analysis.processing
    name = analysis.dataset_id
    title = title_for([name], processing.id, None)
    written = []
    if analysis.fit is not None:
        written.append(save_spectrum_plot(folder / "spectrum.png", spectrum_panel(name, analysis.fit), None,
                                          "apparent spectrum · " + title, dpi))
    binning = median_binning(analysis.binnings)
    band = processing.band
    written.append(save_figure(heatmap_figure(analysis, title), folder / "heatmap.png", dpi=dpi))
    for metric in metrics:
        values = analysis.chunks[metric].drop_nulls().to_numpy()
        written.append(save_figure(plot_metric_histogram(values, None, metric=metric, labels=(name, ""),
                                                         threshold=None, title=f"{metric} · " + title),
                                   folder / f"metric_hist_{metric}.png", dpi=dpi))
    per_bin = binning.counts.sum(axis=0)
    k = int(np.argmax(per_bin)) if quicklook_bin is None else quicklook_bin
    if analysis.fit is not None:
        centres, flux, err = band.centres_nm(), analysis.fit.flux_density, analysis.fit.flux_density_err
    else:
        centres = band.centres_nm()
        flux = per_bin / (analysis.exposure_s * band.width_nm)
        err = np.maximum(np.sqrt(per_bin), 1.0) / (analysis.exposure_s * band.width_nm)
    written.append(save_figure(plot_quicklook(
        binning.edges[:-1] - binning.tstart_s, binning.counts[:, k], binning.valid, binning.width_s,
        centres, flux, err, k, title=f"bin {k} ({band.centres_nm()[k]:.4g} nm) · " + title),
        folder / f"quicklook_{name}_w{k}.png", dpi=dpi))
    return written


def save_synthetic_plots(workspace: Workspace, result: SyntheticResult) -> tuple[Path, ...]:
    """The figures of ``generate`` (lanecount) and ``replicate`` (real-vs-mimic spectrum, lanecount).

    ``generate``: ``results/generate/<id>/lanecount_<id>.png``; ``replicate``:
    ``results/replicate/<source>__<id>/spectrum_real_vs_mimic.png`` and ``lanecount_<id>.png``.
    """
    meta, processing = result.dataset, result.processing
    if result.source is None or result.source_fit is None:
        plot = save_lanecount_plot(workspace.root / "results" / "generate" / meta.id / f"lanecount_{meta.id}.png",
                                   meta, workspace.load(GenerationParameters, meta.generation_id or meta.id), processing)
        return (plot,)
    _, _, mimic_fit = fit_dataset(workspace, meta.id, processing)
    folder = workspace.root / "results" / "replicate" / f"{result.source}__{meta.id}"
    spectrum_plot = save_spectrum_plot(
        folder / "spectrum_real_vs_mimic.png",
        spectrum_panel(f"A: {result.source} (real)", result.source_fit),
        spectrum_panel(f"B: {meta.id} (mimic)", mimic_fit),
        title="apparent spectrum · " + title_for([result.source, meta.id], processing.id, None),
    )
    lanecount_plot = save_lanecount_plot(folder / f"lanecount_{meta.id}.png", meta,
                                         workspace.load(GenerationParameters, meta.id), processing)
    return (spectrum_plot, lanecount_plot)


# ----------------------------------------------------------------------------- runs


def band_counts(analysis: Analysis) -> np.ndarray:
    """Selected events per band bin, from the binned events (every width holds every selected event)."""
    return np.asarray(analysis.binnings[0].counts, dtype=np.float64).sum(axis=0)


def observed_panel(label: str, analysis: Analysis) -> SpectrumPanel:
    """The apparent spectrum of one analysis: its fit when there is one, else y_w ± σ_w from the counts.

    A run whose spectrum fit failed must still show its data next to the other dataset.
    """
    if analysis.fit is not None:
        return spectrum_panel(label, analysis.fit)
    band = analysis.processing.band
    counts = band_counts(analysis)
    scale = analysis.exposure_s * band.width_nm
    return SpectrumPanel(label=label, centres_nm=band.centres_nm(), flux_density=counts / scale,
                         flux_density_err=np.maximum(np.sqrt(counts), 1.0) / scale)


def _finite_or_none(value: Any) -> float | None:
    """A stored result value as a float, or None when it is NULL or not finite (no line, "n/a")."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _metric_values(analysis: Analysis, metric: str) -> np.ndarray:
    return analysis.chunks[metric].cast(pl.Float64).fill_null(math.nan).to_numpy()


def _no_values_figure(metric: str, title: str) -> Figure:
    """Placeholder histogram: the P1d bins need at least one finite value, but the file set stays fixed."""
    fig, ax = new_figure()
    ax.text(0.5, 0.5, f"no finite {metric} values in A or B", transform=ax.transAxes, ha="center", va="center",
            fontsize=FONT_SIZE)
    ax.set_xlabel(metric)
    ax.set_ylabel("chunks")
    set_title(fig, title)
    return fig


def _p2_side(analysis: Analysis, metric: str, top_fraction: float, centres: np.ndarray
             ) -> tuple[np.ndarray, tuple[float, float, float] | None, float | None, np.ndarray]:
    """One dataset's P2 counts over the whole band (NaN outside W_data), fit, λ_ref and top-chunk rows.

    Uses the same ranking as the test (:func:`lightlane.stats.p2_fit`), so the plot shows what P2 measured.
    A dataset without a finite value has no ranking at all: nothing is drawn for it.
    """
    full = np.full(centres.size, np.nan)
    if not np.isfinite(_metric_values(analysis, metric)).any():
        return full, None, None, np.empty(0, dtype=np.int64)
    fit = p2_fit(analysis.chunks, metric, top_fraction, centres)
    inside = fit.bins < centres.size
    full[fit.bins[inside]] = fit.counts[inside]
    params = None if fit.a is None or fit.b is None else (fit.a, fit.b, math.nan if fit.se_b is None else fit.se_b)
    return full, params, fit.lambda_ref_nm, top_chunks(analysis.chunks, metric, top_fraction)


def save_run_plots(
    folder: Path,
    *,
    run_id: str,
    a: Analysis,
    b: Analysis,
    rows: Sequence[Mapping[str, Any]],
    synthetic: Sequence[tuple[str, GenerationParameters]] = (),
    dpi: int = 150,
) -> list[Path]:
    """Draw the figures of one pipeline run (SPEC §14) into ``folder``.

    Parameters
    ----------
    folder
        Created when missing. A run draws into a staging sibling of
        ``results/pipelines/<pipeline>/run-<run_id>/`` that is swapped in when the run is
        recorded (:mod:`lightlane.pipelines.recording`), so the previous figures stay whole until then.
    run_id
        The run, named in every title.
    a, b
        The analyses of A and B (same processing; A's is used for band, ids and top_fraction).
    rows
        The run's ``test_results`` rows (SPEC §11.7), one per test metric, in the order drawn.
        ``p1a_threshold`` (q̄), ``p2_p_z`` and ``p2_p_calibrated`` may be None: no line, "n/a".
    synthetic
        (dataset name, resolved generation) of each synthetic A/B dataset; one lanecount plot each
        (a repeated name is drawn once, and nothing when all its quartile bins are isotropic).
    dpi
        Output resolution.

    Returns
    -------
    list of Path
        The files written, in SPEC §14 table order: spectrum, counts histogram, heatmaps A and B,
        then per kind the metric histograms, P2 concentrations and timescales (A, B) in row order,
        then the lanecounts in ``synthetic`` order.

    Example
    -------
    >>> save_run_plots(folder, run_id=rid, a=a, b=b, rows=rows)  # doctest: +SKIP
    """
    folder = Path(folder)
    processing = a.processing
    names = (a.dataset_id, b.dataset_id)
    labels = (f"A: {names[0]}", f"B: {names[1]}")
    title = title_for(names, processing.id, run_id)
    side_titles = {"a": title_for([names[0]], processing.id, run_id), "b": title_for([names[1]], processing.id, run_id)}
    centres = processing.band.centres_nm()
    written: list[Path] = []

    def save(figure: Figure, name: str) -> None:
        written.append(save_figure(figure, folder / name, dpi=dpi))

    save(plot_spectrum_comparison(observed_panel(labels[0], a), observed_panel(labels[1], b),
                                  title="apparent spectrum · " + title), "spectrum_a_vs_b.png")
    save(plot_counts_per_bin(centres, band_counts(a), band_counts(b), labels=labels,
                             title="counts per wavelength bin · " + title), "counts_hist_wavelength.png")
    for side, analysis in (("a", a), ("b", b)):
        save(heatmap_figure(analysis, f"{side.upper()}: " + side_titles[side]), f"heatmap_{side}.png")

    metrics = [str(row["metric"]) for row in rows]
    for row, metric in zip(rows, metrics):
        values = (_metric_values(a, metric), _metric_values(b, metric))
        hist_title = f"{metric} · " + title
        if np.isfinite(values[0]).any() or np.isfinite(values[1]).any():
            figure = plot_metric_histogram(*values, metric=metric, labels=labels,
                                           threshold=_finite_or_none(row.get("p1a_threshold")), title=hist_title)
        else:
            figure = _no_values_figure(metric, hist_title)
        save(figure, f"metric_hist_{metric}.png")

    top_rows: dict[tuple[str, str], np.ndarray] = {}
    for row, metric in zip(rows, metrics):
        sides = [_p2_side(analysis, metric, processing.top_fraction, centres) for analysis in (a, b)]
        top_rows[(metric, "a")], top_rows[(metric, "b")] = sides[0][3], sides[1][3]
        # plot_p2_concentration needs a λ_ref for both sides once either is fitted; a side
        # without its own bins borrows the band's, which is never used to draw anything.
        fallback = float(np.exp(np.mean(np.log(centres))))
        refs = (sides[0][2] or fallback, sides[1][2] or fallback)
        figure = plot_p2_concentration(centres, sides[0][0], sides[1][0], sides[0][1], sides[1][1], refs,
                                       _finite_or_none(row.get("p2_p_z")), _finite_or_none(row.get("p2_p_calibrated")),
                                       metric=metric, labels=labels, title=f"P2 concentration · {metric} · " + title)
        if np.isnan(sides[0][0]).all() and np.isnan(sides[1][0]).all():
            # Nothing drawn: keep the band on the x axis and say why, instead of matplotlib's empty ±0.05 axes.
            ax = figure.axes[0]
            edges = processing.band.edges_nm()
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0.0, 1.0)
            ax.text(0.5, 0.5, f"no finite {metric} values", transform=ax.transAxes, ha="center", va="center",
                    fontsize=FONT_SIZE)
        save(figure, f"p2_concentration_{metric}.png")

    for metric in metrics:
        for side, analysis in (("a", a), ("b", b)):
            chosen = top_rows[(metric, side)]
            table = analysis.chunks
            save(plot_timescales(table["wavelength_center_nm"].to_numpy()[chosen], table["width_s"].to_numpy()[chosen],
                                 title=f"timescales of top chunks by {metric} · {side.upper()}: " + side_titles[side]),
                 f"timescales_{metric}_{side}.png")

    drawn: set[str] = set()
    for name, generation in synthetic:
        if name in drawn:
            continue
        drawn.add(name)
        figure = lanecount_figure(name, generation, processing, run_id)
        if figure is not None:
            save(figure, f"lanecount_{name}.png")
    return written
