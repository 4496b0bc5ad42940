"""The figures of a run as jobs: what each PNG shows, computed here, drawn by other processes (SPEC §14).

A run prepares every figure from its two analyses and its ``test_results`` rows in its own
process (polars, the Rust core) and hands the drawing workers
(:class:`~lightlane.report.staging.DrawingWorkers`, through :class:`RunFigures`) numpy
arrays and plain values only. This module imports no matplotlib: the run never loads it;
its workers do, while it reads and analyses. The figures of the data (:func:`data_figure_jobs`)
are sent as soon as A and B are analysed and drawn while the run computes its tests; the
figures of the tests (:func:`test_figure_jobs`) follow with the rows, and the spectrum
(:func:`spectrum_figure_job`) last.
:mod:`lightlane.report.drawing.run_jobs` turns each job into a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..analysis.dataset_analysis import Analysis
from ..events.spectrum_fit import SpectrumFit
from ..lanesheet.simulation import generation_band, lanecount_trace, lanesheet_bins
from ..metadata import GenerationParameters, ProcessingParameters
from ..stats.p2 import p2_fit, top_chunks
from ..stats.verdicts import P3_METRIC
from .figure_jobs import FigureJob, drawing_workers, figure_order, take_early
from .framing import lanecount_window, metric_histogram, quartile_bins, title_for
from .staging import FigureSet

__all__ = ["RunFigures", "run_figure_jobs", "data_figure_jobs", "test_figure_jobs", "spectrum_figure_job",
           "observed_spectrum", "spectrum_fields", "lanecount_inputs", "median_binning", "heatmap_inputs",
           "band_counts"]


def band_counts(analysis: Analysis) -> np.ndarray:
    """Selected events per band bin, from the binned events (every width holds every selected event)."""
    return np.asarray(analysis.binnings[0].counts, dtype=np.float64).sum(axis=0)


def spectrum_fields(label: str, fit: SpectrumFit) -> dict[str, Any]:
    """The fields of a :class:`~lightlane.report.drawing.SpectrumPanel` from a spectrum fit."""
    return {"label": label, "centres_nm": fit.band.centres_nm(), "flux_density": np.asarray(fit.flux_density),
            "flux_density_err": np.asarray(fit.flux_density_err), "fitted": fit.spectrum, "r2": float(fit.r2)}


def observed_spectrum(label: str, analysis: Analysis) -> dict[str, Any]:
    """The apparent spectrum of one analysis (SpectrumPanel fields): its fit, else y_w ± σ_w from the counts.

    A run whose spectrum fit failed must still show its data next to the other dataset.
    """
    if analysis.fit is not None:
        return spectrum_fields(label, analysis.fit)
    band = analysis.processing.band
    counts = band_counts(analysis)
    scale = analysis.exposure_s * band.width_nm
    return {"label": label, "centres_nm": band.centres_nm(), "flux_density": counts / scale,
            "flux_density_err": np.maximum(np.sqrt(counts), 1.0) / scale}


def median_binning(binnings):
    """The binning at the median width of the usable widths (heatmap, quicklook)."""
    usable = [b for b in binnings if b.usable] or list(binnings)
    return sorted(usable, key=lambda b: b.width_s)[len(usable) // 2]


def heatmap_inputs(analysis: Analysis, title: str) -> dict[str, Any]:
    """The arguments of :func:`~lightlane.report.drawing.plot_heatmap`: counts per (median-width time bin ×
    wavelength bin); ``title`` names datasets and ids."""
    binning = median_binning(analysis.binnings)
    band = analysis.processing.band
    return {"counts": binning.counts, "exposure": binning.exposure, "valid": binning.valid,
            "time_edges_s": binning.edges - binning.tstart_s, "wavelength_edges_nm": band.edges_nm(),
            "title": f"counts per {binning.width_s:.1f} s × {band.width_nm:.4g} nm · " + title}


def lanecount_inputs(dataset: str, generation: GenerationParameters, processing: ProcessingParameters,
                     run_id: str | None = None) -> dict[str, Any] | None:
    """N(t) of 4 bins at the band quartiles over the first min(D, 2000 s), as the arguments of
    :func:`~lightlane.report.drawing.plot_lanecounts` (traces as LanecountTrace fields); None if all
    of them are isotropic. Shared by ``generate``/``replicate`` and ``run``."""
    band = generation_band(generation, processing)
    bins = lanesheet_bins(generation, band)
    t0, t1 = lanecount_window(generation.time.tstart_s, generation.time.tstop_s)
    traces = []
    for w in quartile_bins(band.bins):
        if bins.isotropic[w]:
            continue  # no lattice: homogeneous Poisson photons
        trace = lanecount_trace(generation, w, t0, t1, processing)
        traces.append({"bin": w, "wavelength_nm": float(bins.centre_nm[w]), "times_s": trace["time_s"].to_numpy(),
                       "counts": trace["lanecount"].to_numpy(), "mean_lanecount": float(bins.mean_lanecount[w])})
    if not traces:
        return None
    return {"traces": traces, "tstart_s": generation.time.tstart_s,
            "title": "lanecount · " + title_for([dataset], processing.id, run_id)}


def _finite_or_none(value: Any) -> float | None:
    """A stored result value as a float, or None when it is NULL or not finite (no line, "n/a")."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _metric_values(analysis: Analysis, metric: str) -> np.ndarray:
    return analysis.chunks[metric].cast(pl.Float64).fill_null(math.nan).to_numpy()


def _ranked(values: np.ndarray) -> bool:
    """Whether a metric has a finite value to rank its chunks by (else no top chunks are drawn)."""
    return bool(np.isfinite(values).any())


def _p2_side(analysis: Analysis, metric: str, ranked: bool, top_fraction: float, centres: np.ndarray
             ) -> tuple[np.ndarray, tuple[float, float, float] | None, float | None]:
    """One dataset's P2 counts over the whole band (NaN outside W_data), fit and λ_ref.

    Uses the same ranking as the test (:func:`lightlane.stats.p2_fit`), so the plot shows what P2 measured.
    A dataset without a finite value (not ``ranked``) has no ranking at all: nothing is drawn for it.
    """
    full = np.full(centres.size, np.nan)
    if not ranked:
        return full, None, None
    fit = p2_fit(analysis.chunks, metric, top_fraction, centres)
    inside = fit.bins < centres.size
    full[fit.bins[inside]] = fit.counts[inside]
    params = None if fit.a is None or fit.b is None else (fit.a, fit.b, math.nan if fit.se_b is None else fit.se_b)
    return full, params, fit.lambda_ref_nm


def _top_rows(analysis: Analysis, metric: str, ranked: bool, top_fraction: float) -> np.ndarray:
    """The rows of the top chunks by ``metric`` (the test's ranking); none without a finite value."""
    if not ranked:
        return np.empty(0, dtype=np.int64)
    return top_chunks(analysis.chunks, metric, top_fraction)


def _p3_panel(analysis: Analysis, row: Mapping[str, Any]) -> dict[str, Any] | None:
    """A's P3 image and estimate with the run's calibrated verdict (P3Panel fields); None without P3."""
    result = analysis.p3
    if result is None:
        return None
    verdict = row.get("p3_verdict_calibrated")
    p_cal = _finite_or_none(row.get("p3_p_calibrated"))
    text = "" if verdict is None else f"P3 {verdict}" + ("" if p_cal is None else f", p_cal = {p_cal:.3g}")
    return {"slopes": result.slopes, "intercepts_ln_hz": result.intercepts_ln_hz, "image": result.image,
            "stat": result.stat, "slope": result.slope, "intercept_ln_hz": result.intercept_ln_hz, "verdict": text}


def _titles(run_id: str, a: Analysis, b: Analysis) -> tuple[tuple[str, str], str, dict[str, str]]:
    """The legend labels, the A-vs-B title and each side's own title of a run's figures."""
    processing = a.processing
    names = (a.dataset_id, b.dataset_id)
    labels = (f"A: {names[0]}", f"B: {names[1]}")
    sides = {side: title_for([name], processing.id, run_id) for side, name in zip("ab", names)}
    return labels, title_for(names, processing.id, run_id), sides


def data_figure_jobs(
    *,
    run_id: str,
    a: Analysis,
    b: Analysis,
    metrics: Sequence[str],
    p3_row: Mapping[str, Any] | None = None,
    synthetic: Sequence[tuple[str, GenerationParameters]] = (),
) -> list[FigureJob]:
    """The figures a run can draw once A and B are analysed, before its tests: in SPEC §14 order,
    counts histogram, heatmaps A and B, ``timescales_a.png`` and ``timescales_b.png`` (none
    without ``metrics``), ``p3_<run>.png`` when A has a P3 result (its calibrated verdict from
    ``p3_row``, when given), then one lanecount per synthetic dataset (a repeated name once,
    none when all its quartile bins are isotropic). The spectrum is :func:`spectrum_figure_job`.
    """
    processing = a.processing
    labels, title, side_titles = _titles(run_id, a, b)
    jobs = [FigureJob("counts_hist_wavelength.png", "counts", {
        "centres_nm": processing.band.centres_nm(), "counts_a": band_counts(a), "counts_b": band_counts(b),
        "labels": labels, "title": "counts per wavelength bin · " + title})]
    for side, analysis in (("a", a), ("b", b)):
        jobs.append(FigureJob(f"heatmap_{side}.png", "heatmap",
                              heatmap_inputs(analysis, f"{side.upper()}: " + side_titles[side])))
    if metrics:
        for side, analysis in (("a", a), ("b", b)):
            centres_nm = analysis.chunks["wavelength_center_nm"].to_numpy()
            widths_s = analysis.chunks["width_s"].to_numpy()
            panels = []
            for metric in metrics:
                ranked = _ranked(_metric_values(analysis, metric))
                chosen = _top_rows(analysis, metric, ranked, processing.top_fraction)
                panels.append({"metric": metric, "centres_nm": centres_nm[chosen], "widths_s": widths_s[chosen]})
            jobs.append(FigureJob(f"timescales_{side}.png", "timescales", {
                "panels": panels, "title": f"timescales of the top chunks · {side.upper()}: " + side_titles[side]}))
    p3 = _p3_panel(a, p3_row or {})
    if p3 is not None:
        jobs.append(FigureJob(f"p3_{run_id}.png", "p3", {"panel": p3,
                                                          "title": "P3 spectral-timing stack · " + side_titles["a"]}))
    lanecounts: dict[str, GenerationParameters] = {}
    for name, generation in synthetic:
        lanecounts.setdefault(name, generation)  # a repeated name is drawn once
    for name, generation in lanecounts.items():
        inputs = lanecount_inputs(name, generation, processing, run_id)
        if inputs is not None:
            jobs.append(FigureJob(f"lanecount_{name}.png", "lanecount", inputs))
    return jobs


def spectrum_figure_job(*, run_id: str, a: Analysis, b: Analysis) -> FigureJob:
    """``spectrum_a_vs_b.png``: the apparent spectra of A and B with their fits.

    The fits (and scipy's optimiser, which a run otherwise loads when it writes A) are the
    run's dearest figure input, so a run makes this job after the others.
    """
    labels, title, _ = _titles(run_id, a, b)
    return FigureJob("spectrum_a_vs_b.png", "spectrum", {
        "a": observed_spectrum(labels[0], a), "b": observed_spectrum(labels[1], b),
        "title": "apparent spectrum · " + title})


def test_figure_jobs(*, run_id: str, a: Analysis, b: Analysis, rows: Sequence[Mapping[str, Any]]) -> list[FigureJob]:
    """The figures of a run's tests, a panel per test metric row (P3's row is left out):
    ``metric_hist.png`` and ``p2_concentration.png``; none without metric rows.

    ``p1a_threshold`` (q̄), ``p2_p_z`` and ``p2_p_calibrated`` may be None: no line, "n/a".
    """
    processing = a.processing
    labels, title, _ = _titles(run_id, a, b)
    centres = processing.band.centres_nm()
    rows = [row for row in rows if row["metric"] != P3_METRIC]
    if not rows:
        return []
    histograms, p2_panels = [], []
    # A fitted P2 side needs a λ_ref on both sides; a side without its own bins borrows the
    # band's, which is never used to draw anything.
    fallback = float(np.exp(np.mean(np.log(centres))))
    for row in rows:
        metric = str(row["metric"])
        values = {"a": _metric_values(a, metric), "b": _metric_values(b, metric)}
        ranked = {side: _ranked(v) for side, v in values.items()}
        # Counted here: a hundred counts per side go to the drawing process, not every chunk's value.
        threshold = _finite_or_none(row.get("p1a_threshold"))
        histograms.append(metric_histogram(metric, values["a"], values["b"], threshold))
        sides = [_p2_side(analysis, metric, ranked[side], processing.top_fraction, centres)
                 for side, analysis in (("a", a), ("b", b))]
        p2_panels.append({"metric": metric, "counts_a": sides[0][0], "counts_b": sides[1][0],
                          "fit_a": sides[0][1], "fit_b": sides[1][1],
                          "lambda_ref_nm": (sides[0][2] or fallback, sides[1][2] or fallback),
                          "p_z": _finite_or_none(row.get("p2_p_z")),
                          "p_cal": _finite_or_none(row.get("p2_p_calibrated"))})
    return [
        FigureJob("metric_hist.png", "metric_hist", {
            "panels": histograms, "labels": labels, "title": "metric histograms (P1d bins) · " + title}),
        FigureJob("p2_concentration.png", "p2", {
            "centres_nm": centres, "panels": p2_panels, "labels": labels,
            "title": "P2 concentration of the top chunks · " + title}),
    ]


def run_figure_jobs(
    *,
    run_id: str,
    a: Analysis,
    b: Analysis,
    rows: Sequence[Mapping[str, Any]],
    synthetic: Sequence[tuple[str, GenerationParameters]] = (),
) -> list[FigureJob]:
    """Every figure job of one pipeline run (SPEC §14): :func:`data_figure_jobs`, :func:`test_figure_jobs`
    and :func:`spectrum_figure_job`.

    Parameters
    ----------
    run_id
        The run, named in every title.
    a, b
        The analyses of A and B (same processing; A's is used for band, ids and top_fraction).
    rows
        The run's ``test_results`` rows (SPEC §11.7), one per test metric plus P3's: one
        panel each in the metric figures, in this order.
    synthetic
        (dataset name, resolved generation) of each synthetic A/B dataset; one lanecount plot each.

    Returns
    -------
    list of FigureJob
        In the order of :func:`~lightlane.report.figure_jobs.figure_order`.
    """
    metrics = [str(row["metric"]) for row in rows if row["metric"] != P3_METRIC]
    p3_rows = [row for row in rows if row["metric"] == P3_METRIC]
    jobs = data_figure_jobs(run_id=run_id, a=a, b=b, metrics=metrics, p3_row=p3_rows[0] if p3_rows else None,
                            synthetic=synthetic)
    jobs += test_figure_jobs(run_id=run_id, a=a, b=b, rows=rows)
    jobs.append(spectrum_figure_job(run_id=run_id, a=a, b=b))
    return sorted(jobs, key=lambda job: figure_order(job.file))


class RunFigures:
    """A run's figures, drawn by two forked workers as the run sends them and committed together.

    Made before the run reads its events (the workers load matplotlib meanwhile, or were
    started by ``lightlane run`` before its own imports:
    :func:`~lightlane.report.figure_jobs.start_early`); each :meth:`draw` queues its jobs, and
    a worker takes the dearest one queued as soon as it is free; :meth:`finish` waits and
    renames every PNG into ``folder``, all or nothing.

    Parameters
    ----------
    folder
        Where the PNGs go (created when missing).
    dpi
        Output resolution.
    parallel
        Fork the workers (True) or draw in this process at :meth:`finish` (the same bytes).
    """

    def __init__(self, folder: Path, dpi: float, *, parallel: bool = True) -> None:
        self.folder, self.dpi = Path(folder), dpi
        self._workers = (take_early() if parallel else None) or drawing_workers(parallel=parallel)
        self._files: list[str] = []

    def draw(self, jobs: Sequence[FigureJob]) -> None:
        """Queue ``jobs`` for the workers now, each for whichever worker is free, the dearest of those
        queued first; returns at once."""
        self._workers.submit([[job] for job in jobs], self.folder, self.dpi, costs=[job.cost for job in jobs])
        self._files += [job.file for job in jobs]

    def finish(self) -> list[Path]:
        """Wait for every figure and rename each PNG into place (none on failure), in
        :func:`~lightlane.report.figure_jobs.figure_order`, then the order sent."""
        with FigureSet(self.dpi) as figures:
            self._workers.join(figures)
        rank = {file: (figure_order(file), index) for index, file in enumerate(self._files)}
        return sorted(figures.paths, key=lambda path: rank[path.name])

    def cancel(self) -> None:
        """Stop drawing and delete what was drawn (after a failure elsewhere)."""
        self._workers.cancel()
