"""Standard figures built from datasets and generations (SPEC §14), saved atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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

__all__ = ["save_lanecount_plot", "save_spectrum_plot", "spectrum_panel"]


def save_lanecount_plot(path: Path, meta: DatasetMeta, generation: GenerationParameters,
                        processing: ProcessingParameters, dpi: int = 150) -> Path:
    """``lanecount_<dataset>.png``: N(t) of 4 bins at the band quartiles over the first min(D, 2000 s)."""
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
        return path
    figure = plot_lanecounts(traces, tstart_s=generation.time.tstart_s,
                             title="lanecount · " + title_for([meta.id], processing.id, None))
    return save_figure(figure, path, dpi=dpi)


def spectrum_panel(label: str, fit: SpectrumFit) -> SpectrumPanel:
    return SpectrumPanel(label=label, centres_nm=fit.band.centres_nm(), flux_density=np.asarray(fit.flux_density),
                         flux_density_err=np.asarray(fit.flux_density_err), fitted=fit.spectrum, r2=float(fit.r2))


def save_spectrum_plot(path: Path, a: SpectrumPanel, b: SpectrumPanel, title: str, dpi: int = 150) -> Path:
    """Apparent spectra of two datasets with their fits (``spectrum_a_vs_b.png`` style)."""
    return save_figure(plot_spectrum_comparison(a, b, title=title), path, dpi=dpi)
