"""The standard figures of SPEC §14, built from datasets, generations, analyses and runs, saved atomically.

The drawing itself lives in :mod:`lightlane.report.drawing` (arrays in, a ``Figure`` out);
this module decides which figures a command writes and what goes into them.

``generate`` and ``replicate`` write ``lanecount_<dataset>.png`` (and the mimic's
``spectrum_real_vs_mimic.png``, :func:`save_synthetic_plots`); ``analyze`` writes
``spectrum.png``, ``heatmap.png``, ``metric_hist.png`` (a panel per test metric) and a
quicklook (:func:`save_analysis_plots`).

``run`` writes, into ``results/pipelines/<pipeline>/run-<run_id>/`` (:func:`save_run_plots`,
:data:`RUN_FIGURES`):

* ``spectrum_a_vs_b.png`` and ``counts_hist_wavelength.png``;
* ``heatmap_a.png`` and ``heatmap_b.png``;
* the metric figures as small multiples, one PNG per kind with a panel per test metric
  (SPEC §14 rev 2): ``metric_hist.png`` (with the calibrated thresholds q̄),
  ``p2_concentration.png``, ``timescales_a.png`` and ``timescales_b.png``;
* ``p3_<run>.png``: A's P3 image S(s, c) with its maximum and the stack at ŝ (SPEC §11.9);
* ``lanecount_<dataset>.png`` for each synthetic A/B dataset.

The run figures are built from the two :class:`~lightlane.analysis.Analysis` objects and the
run's ``test_results`` rows only, so they need no workspace and can be redrawn from a cache.

Figure cost (SPEC §14 rev 2): every figure has a fixed layout
(:mod:`lightlane.report.drawing.layout`, no layout engine at save time); one figure object is
re-used per kind (the heatmaps of A and B share one, the four metric small multiples share
one :class:`~lightlane.report.drawing.PanelFigure`), which gives the same PNG bytes as new
figures; and the PNGs of a command are rendered into temporary files and synced and renamed
together (:class:`~lightlane.report.drawing.FigureSet`). A run draws about half of its figures in
a forked process meanwhile (:func:`~lightlane.report.drawing.save.render_split`).
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
from ..stats.verdicts import P3_METRIC
from ..stats.p2 import p2_fit, top_chunks
from ..store.workspace import Workspace
from .drawing import (
    FigureSet,
    HeatmapFigure,
    LanecountTrace,
    MetricHistogram,
    P2Panel,
    P3Panel,
    PanelFigure,
    SpectrumPanel,
    TimescalesPanel,
    lanecount_window,
    plot_counts_per_bin,
    plot_heatmap,
    plot_lanecounts,
    plot_metric_histograms,
    plot_p2_concentration,
    plot_p3,
    plot_quicklook,
    plot_spectrum_comparison,
    plot_timescales,
    quartile_bins,
    save_figure,
    title_for,
)
from .drawing.save import render_split

__all__ = ["RUN_FIGURES", "lanecount_figure", "save_lanecount_plot", "save_spectrum_plot", "spectrum_panel",
           "median_binning", "heatmap_figure", "save_analysis_plots", "save_synthetic_plots", "save_run_plots",
           "band_counts", "observed_panel"]

#: The files every run writes, in order (then ``lanecount_<dataset>.png`` per synthetic dataset).
RUN_FIGURES = ("spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png",
               "metric_hist.png", "p2_concentration.png", "timescales_a.png", "timescales_b.png")


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


def heatmap_figure(analysis, title: str, reuse: HeatmapFigure | None = None) -> Figure:
    """Counts per (median-width time bin × wavelength bin) of one analysis; ``title`` names datasets and ids.

    ``reuse`` draws into an existing :class:`~lightlane.report.drawing.HeatmapFigure` (A's, then B's).
    """
    binning = median_binning(analysis.binnings)
    band = analysis.processing.band
    prefix = f"counts per {binning.width_s:.1f} s × {band.width_nm:.4g} nm · "
    return plot_heatmap(binning.counts, binning.exposure, binning.valid, binning.edges - binning.tstart_s,
                        band.edges_nm(), title=prefix + title, reuse=reuse)


def save_analysis_plots(folder: Path, analysis, metrics, quicklook_bin: int | None = None, dpi: int = 150) -> list[Path]:
    """``analyze`` figures (SPEC §14): spectrum, heatmap, the metric histograms (one panel each), quicklook."""
    folder = Path(folder)
    processing = analysis.processing
    name = analysis.dataset_id
    title = title_for([name], processing.id, None)
    binning = median_binning(analysis.binnings)
    band = processing.band
    with FigureSet(dpi) as figures:
        if analysis.fit is not None:
            figures.add(plot_spectrum_comparison(spectrum_panel(name, analysis.fit), None,
                                                 title="apparent spectrum · " + title), folder / "spectrum.png")
        figures.add(heatmap_figure(analysis, title), folder / "heatmap.png")
        if metrics:
            panels = [MetricHistogram(metric, analysis.chunks[metric].drop_nulls().to_numpy(), None)
                      for metric in metrics]
            figures.add(plot_metric_histograms(panels, labels=(name, ""), title="metric histograms · " + title),
                        folder / "metric_hist.png")
        per_bin = binning.counts.sum(axis=0)
        k = int(np.argmax(per_bin)) if quicklook_bin is None else quicklook_bin
        if analysis.fit is not None:
            centres, flux, err = band.centres_nm(), analysis.fit.flux_density, analysis.fit.flux_density_err
        else:
            centres = band.centres_nm()
            flux = per_bin / (analysis.exposure_s * band.width_nm)
            err = np.maximum(np.sqrt(per_bin), 1.0) / (analysis.exposure_s * band.width_nm)
        figures.add(plot_quicklook(
            binning.edges[:-1] - binning.tstart_s, binning.counts[:, k], binning.valid, binning.width_s,
            centres, flux, err, k, title=f"bin {k} ({band.centres_nm()[k]:.4g} nm) · " + title),
            folder / f"quicklook_{name}_w{k}.png")
    return figures.paths


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


def _p2_side(analysis: Analysis, metric: str, top_fraction: float, centres: np.ndarray
             ) -> tuple[np.ndarray, tuple[float, float, float] | None, float | None]:
    """One dataset's P2 counts over the whole band (NaN outside W_data), fit and λ_ref.

    Uses the same ranking as the test (:func:`lightlane.stats.p2_fit`), so the plot shows what P2 measured.
    A dataset without a finite value has no ranking at all: nothing is drawn for it.
    """
    full = np.full(centres.size, np.nan)
    if not np.isfinite(_metric_values(analysis, metric)).any():
        return full, None, None
    fit = p2_fit(analysis.chunks, metric, top_fraction, centres)
    inside = fit.bins < centres.size
    full[fit.bins[inside]] = fit.counts[inside]
    params = None if fit.a is None or fit.b is None else (fit.a, fit.b, math.nan if fit.se_b is None else fit.se_b)
    return full, params, fit.lambda_ref_nm


def _top_rows(analysis: Analysis, metric: str, top_fraction: float) -> np.ndarray:
    """The rows of the top chunks by ``metric`` (the test's ranking); none without a finite value."""
    if not np.isfinite(_metric_values(analysis, metric)).any():
        return np.empty(0, dtype=np.int64)
    return top_chunks(analysis.chunks, metric, top_fraction)


def _p3_panel(analysis: Analysis, row: Mapping[str, Any]) -> P3Panel | None:
    """A's P3 image and estimate with the run's calibrated verdict; None when P3 was not computed."""
    result = analysis.p3
    if result is None:
        return None
    verdict = row.get("p3_verdict_calibrated")
    p_cal = _finite_or_none(row.get("p3_p_calibrated"))
    text = "" if verdict is None else f"P3 {verdict}" + ("" if p_cal is None else f", p_cal = {p_cal:.3g}")
    return P3Panel(result.slopes, result.intercepts_ln_hz, result.image, result.stat, result.slope,
                   result.intercept_ln_hz, text)


def save_run_plots(
    folder: Path,
    *,
    run_id: str,
    a: Analysis,
    b: Analysis,
    rows: Sequence[Mapping[str, Any]],
    synthetic: Sequence[tuple[str, GenerationParameters]] = (),
    dpi: int = 150,
    parallel: bool = True,
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
        The run's ``test_results`` rows (SPEC §11.7), one per test metric: one panel each in
        the metric figures, in this order. ``p1a_threshold`` (q̄), ``p2_p_z`` and
        ``p2_p_calibrated`` may be None: no line, "n/a".
    synthetic
        (dataset name, resolved generation) of each synthetic A/B dataset; one lanecount plot each
        (a repeated name is drawn once, and nothing when all its quartile bins are isotropic).
    dpi
        Output resolution.
    parallel
        Draw about half of the figures in a forked process at the same time
        (:func:`~lightlane.report.drawing.save.render_split`; on 2 cores it takes some 40 %
        off the drawing time); the PNGs are the same bytes either way.

    Returns
    -------
    list of Path
        The files written, in SPEC §14 table order (:data:`RUN_FIGURES`): spectrum, counts
        histogram, heatmaps A and B, the small multiples ``metric_hist.png``,
        ``p2_concentration.png``, ``timescales_a.png`` and ``timescales_b.png`` (none of the
        four without rows), then the lanecounts in ``synthetic`` order. All of them are
        rendered before any is renamed into place (:class:`~lightlane.report.drawing.FigureSet`).

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
    p3_rows = [row for row in rows if row["metric"] == P3_METRIC]
    rows = [row for row in rows if row["metric"] != P3_METRIC]
    metrics = [str(row["metric"]) for row in rows]
    p3 = _p3_panel(a, p3_rows[0] if p3_rows else {})

    # Everything from the chunk tables and the lanesheet core here (polars, rayon): the drawing
    # process (render_split) gets numpy arrays only.
    spectra = (observed_panel(labels[0], a), observed_panel(labels[1], b))
    counts = (band_counts(a), band_counts(b))
    histograms, p2_panels = [], []
    top_rows: dict[str, list[TimescalesPanel]] = {"a": [], "b": []}
    for row, metric in zip(rows, metrics):
        histograms.append(MetricHistogram(metric, _metric_values(a, metric), _metric_values(b, metric),
                                          _finite_or_none(row.get("p1a_threshold"))))
        for side, analysis in (("a", a), ("b", b)):
            chosen = _top_rows(analysis, metric, processing.top_fraction)
            table = analysis.chunks
            top_rows[side].append(TimescalesPanel(metric, table["wavelength_center_nm"].to_numpy()[chosen],
                                                  table["width_s"].to_numpy()[chosen]))
    lanecounts: dict[str, GenerationParameters] = {}
    for name, generation in synthetic:
        lanecounts.setdefault(name, generation)  # a repeated name is drawn once

    def draw_elsewhere(figures: FigureSet) -> None:
        figures.add(plot_spectrum_comparison(*spectra, title="apparent spectrum · " + title),
                    folder / "spectrum_a_vs_b.png")
        figures.add(plot_counts_per_bin(centres, *counts, labels=labels, title="counts per wavelength bin · " + title),
                    folder / "counts_hist_wavelength.png")
        # One figure object per kind (SPEC §14 rev 2): B is drawn into A's figure once A's PNG is rendered.
        heatmaps = HeatmapFigure()
        for side, analysis in (("a", a), ("b", b)):
            figures.add(heatmap_figure(analysis, f"{side.upper()}: " + side_titles[side], heatmaps),
                        folder / f"heatmap_{side}.png")
        if metrics:
            panels = PanelFigure()
            for side in ("a", "b"):
                figures.add(plot_timescales(top_rows[side], title=f"timescales of the top chunks · {side.upper()}: "
                                            + side_titles[side], reuse=panels), folder / f"timescales_{side}.png")

    def draw_here(figures: FigureSet) -> None:
        if metrics:
            for row, metric in zip(rows, metrics):
                sides = [_p2_side(analysis, metric, processing.top_fraction, centres) for analysis in (a, b)]
                # A fitted side needs a λ_ref on both sides; a side without its own bins borrows
                # the band's, which is never used to draw anything.
                fallback = float(np.exp(np.mean(np.log(centres))))
                p2_panels.append(P2Panel(metric, sides[0][0], sides[1][0], sides[0][1], sides[1][1],
                                         (sides[0][2] or fallback, sides[1][2] or fallback),
                                         _finite_or_none(row.get("p2_p_z")),
                                         _finite_or_none(row.get("p2_p_calibrated"))))
            # One small-multiple figure object for the metric figures (SPEC §14 rev 2): the axes and
            # their ticks, the dearest part of a figure, are made once; each PNG is as from a new figure.
            panels = PanelFigure()
            figures.add(plot_metric_histograms(histograms, labels=labels,
                                               title="metric histograms (P1d bins) · " + title, reuse=panels),
                        folder / "metric_hist.png")
            figures.add(plot_p2_concentration(centres, p2_panels, labels=labels,
                                              title="P2 concentration of the top chunks · " + title, reuse=panels),
                        folder / "p2_concentration.png")
        if p3 is not None:
            figures.add(plot_p3(p3, title="P3 spectral-timing stack · " + side_titles["a"]), folder / f"p3_{run_id}.png")
        for name, generation in lanecounts.items():
            figure = lanecount_figure(name, generation, processing, run_id)
            if figure is not None:
                figures.add(figure, folder / f"lanecount_{name}.png")

    with FigureSet(dpi) as figures:
        render_split(figures, draw_here, draw_elsewhere, parallel=parallel)
    order = {name: rank for rank, name in enumerate(RUN_FIGURES)}
    return sorted(figures.paths, key=lambda path: order.get(path.name, len(order)))
