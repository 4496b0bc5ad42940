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

The run figures are prepared from the two :class:`~lightlane.analysis.Analysis` objects and the
run's ``test_results`` rows in the run's process (:mod:`lightlane.report.run_figures`, no
matplotlib) and drawn from numpy arrays by :mod:`lightlane.report.drawing.run_jobs`, in forked
:class:`~lightlane.report.staging.DrawingWorkers` that a run starts before it reads its events
(``lightlane run``: before it imports its own libraries, :mod:`lightlane.report.figure_jobs`).

Figure cost (SPEC §14 rev 2): every figure has a fixed layout
(:mod:`lightlane.report.drawing.layout`, no layout engine at save time); a worker keeps one
figure object per kind for the whole run (the heatmaps of A and B share one, and the small
multiples it draws, a panel per test metric each, one :class:`~lightlane.report.drawing.PanelFigure`),
which gives the same PNG bytes as new figures; the PNGs are
encoded by the Rust core (:func:`~lightlane.report.staging.write_png`); and the PNGs of a
command are rendered into temporary files and synced and renamed together
(:class:`~lightlane.report.staging.FigureSet`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..analysis.dataset_analysis import Analysis
from ..datasets.synthetic import SyntheticResult, fit_dataset
from ..events.spectrum_fit import SpectrumFit
from ..metadata import DatasetMeta, GenerationParameters, ProcessingParameters
from ..store.workspace import Workspace
from .drawing import (
    FigureSet,
    HeatmapFigure,
    LanecountTrace,
    MetricHistogram,
    SpectrumPanel,
    plot_heatmap,
    plot_lanecounts,
    plot_metric_histograms,
    plot_quicklook,
    plot_spectrum_comparison,
    save_figure,
    title_for,
)
from .figure_jobs import RUN_FIGURES
from .run_figures import RunFigures, heatmap_inputs, lanecount_inputs, median_binning, run_figure_jobs, spectrum_fields

__all__ = ["RUN_FIGURES", "lanecount_figure", "save_lanecount_plot", "save_spectrum_plot", "spectrum_panel",
           "heatmap_figure", "save_analysis_plots", "save_synthetic_plots", "save_run_plots"]


# ----------------------------------------------------------------------------- datasets, generations, analyses


def lanecount_figure(dataset: str, generation: GenerationParameters, processing: ProcessingParameters,
                     run_id: str | None = None) -> Figure | None:
    """N(t) of 4 bins at the band quartiles over the first min(D, 2000 s); None if all of them are isotropic.

    Shared by ``generate``/``replicate`` and ``run`` so the lanecount figure looks the same everywhere.
    """
    inputs = lanecount_inputs(dataset, generation, processing, run_id)
    if inputs is None:
        return None
    return plot_lanecounts([LanecountTrace(**trace) for trace in inputs["traces"]], tstart_s=inputs["tstart_s"],
                           title=inputs["title"])


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
    return SpectrumPanel(**spectrum_fields(label, fit))


def save_spectrum_plot(path: Path, a: SpectrumPanel, b: SpectrumPanel | None, title: str, dpi: int = 150) -> Path:
    """Apparent spectra of two datasets with their fits (``spectrum_a_vs_b.png`` style)."""
    return save_figure(plot_spectrum_comparison(a, b, title=title), path, dpi=dpi)


def heatmap_figure(analysis, title: str, reuse: HeatmapFigure | None = None) -> Figure:
    """Counts per (median-width time bin × wavelength bin) of one analysis; ``title`` names datasets and ids.

    ``reuse`` draws into an existing :class:`~lightlane.report.drawing.HeatmapFigure` (A's, then B's).
    """
    return plot_heatmap(**heatmap_inputs(analysis, title), reuse=reuse)


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
    run_id, a, b, rows, synthetic
        As :func:`~lightlane.report.run_figures.run_figure_jobs` takes them.
    dpi
        Output resolution.
    parallel
        Draw in two forked worker processes (on 2 cores about half the time of one); the
        PNGs are the same bytes either way. ``run`` starts its workers before it reads its
        events (:func:`lightlane.pipelines.runs.compute_run`).

    Returns
    -------
    list of Path
        The files written, in the order of :func:`~lightlane.report.run_figures.run_figure_jobs`
        (:data:`RUN_FIGURES` first). All of them are rendered before any is renamed into
        place (:class:`~lightlane.report.staging.FigureSet`).

    Example
    -------
    >>> save_run_plots(folder, run_id=rid, a=a, b=b, rows=rows)  # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = RunFigures(folder, dpi, parallel=parallel)  # this process has the drawing code: ready at once
    try:
        figures.draw(run_figure_jobs(run_id=run_id, a=a, b=b, rows=rows, synthetic=synthetic))
    except BaseException:
        figures.cancel()
        raise
    return figures.finish()
