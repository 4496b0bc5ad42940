"""Standard figures built from datasets and generations (SPEC §14), saved atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .metadata import DatasetMeta, GenerationParameters, ProcessingParameters
from .plots import (
    LanecountTrace,
    SpectrumPanel,
    lanecount_window,
    plot_lanecounts,
    plot_spectrum_comparison,
    quartile_bins,
    save_figure,
    title_for,
)

from .simulate import generation_band, lanecount_trace, lanesheet_bins
from .spectrum_fit import SpectrumFit

__all__ = ["lanecount_figure", "save_lanecount_plot", "save_spectrum_plot", "spectrum_panel", "median_binning",
           "heatmap_figure", "save_analysis_plots"]


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
    from .plots import plot_heatmap

    binning = median_binning(analysis.binnings)
    band = analysis.processing.band
    prefix = f"counts per {binning.width_s:.1f} s × {band.width_nm:.4g} nm · "
    return plot_heatmap(binning.counts, binning.exposure, binning.valid, binning.edges - binning.tstart_s,
                        band.edges_nm(), title=prefix + title)


def save_analysis_plots(folder: Path, analysis, metrics, quicklook_bin: int | None = None, dpi: int = 150) -> list[Path]:
    """``analyze`` figures: spectrum, heatmap, one histogram per metric, quicklook (SPEC §14)."""
    from .plots import plot_metric_histogram, plot_quicklook

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
