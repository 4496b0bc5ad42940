"""The figures of a run as jobs: what each PNG shows, computed here, drawn by another process (SPEC §14).

A run prepares every figure from its two analyses and its ``test_results`` rows in its own
process (polars, the Rust core) and hands the drawing workers
(:class:`~lightlane.report.staging.DrawingWorkers`) numpy arrays and plain values only. This
module imports no matplotlib: the run never loads it; its workers do, while it reads and
analyses. :func:`lightlane.report.figures.draw_jobs` turns each job into a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..analysis.dataset_analysis import Analysis
from ..lanesheet.simulation import generation_band, lanecount_trace, lanesheet_bins
from ..metadata import GenerationParameters, ProcessingParameters
from ..stats.p2 import p2_fit, top_chunks
from ..stats.verdicts import P3_METRIC
from .framing import lanecount_window, quartile_bins, title_for
from .staging import DrawingWorkers, FigureSet

__all__ = ["FigureJob", "RUN_FIGURES", "run_figure_jobs", "split_jobs", "run_drawing_workers", "finish_run_plots",
           "lanecount_inputs", "observed_spectrum", "spectrum_fields", "median_binning", "heatmap_inputs",
           "band_counts"]

#: What the drawing workers call on a batch of jobs (:func:`lightlane.report.figures.draw_jobs`).
DRAW_JOBS = "lightlane.report.figures:draw_jobs"

#: The files every run writes, in order (then ``p3_<run>.png`` and ``lanecount_<dataset>.png``).
RUN_FIGURES = ("spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png",
               "metric_hist.png", "p2_concentration.png", "timescales_a.png", "timescales_b.png")

#: Relative drawing time of each kind (measured on the quickstart run), to share the work out evenly.
COSTS = {"spectrum": 1.0, "counts": 0.8, "heatmap": 0.9, "metric_hist": 2.6, "p2": 2.8, "timescales": 2.2,
         "p3": 1.8, "lanecount": 1.1}


@dataclass(frozen=True, eq=False)
class FigureJob:
    """One PNG: its file name, the kind of drawing and its inputs (numpy arrays and plain values).

    Jobs of one ``group`` are drawn into one figure object, in order, by the same worker
    (SPEC §14 rev 2: the axes of a kind are made once).
    """

    file: str
    kind: str
    inputs: dict[str, Any] = field(default_factory=dict)
    group: str | None = None

    @property
    def cost(self) -> float:
        return COSTS[self.kind]


def split_jobs(jobs: Sequence[FigureJob], workers: int) -> list[list[FigureJob]]:
    """Share ``jobs`` out to ``workers`` batches of about equal cost; a group stays whole and in order.

    Greedy, dearest first: each unit (a group, or a job alone) goes to the cheapest batch so far.
    """
    units: dict[str, list[FigureJob]] = {}
    for index, job in enumerate(jobs):
        units.setdefault(job.group or f"#{index}", []).append(job)
    batches: list[list[FigureJob]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for unit in sorted(units.values(), key=lambda unit: -sum(job.cost for job in unit)):
        cheapest = loads.index(min(loads))
        batches[cheapest].extend(unit)
        loads[cheapest] += sum(job.cost for job in unit)
    return [batch for batch in batches if batch]


def band_counts(analysis: Analysis) -> np.ndarray:
    """Selected events per band bin, from the binned events (every width holds every selected event)."""
    return np.asarray(analysis.binnings[0].counts, dtype=np.float64).sum(axis=0)


def spectrum_fields(label: str, fit: Any) -> dict[str, Any]:
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


def run_figure_jobs(
    *,
    run_id: str,
    a: Analysis,
    b: Analysis,
    rows: Sequence[Mapping[str, Any]],
    synthetic: Sequence[tuple[str, GenerationParameters]] = (),
) -> list[FigureJob]:
    """The figure jobs of one pipeline run (SPEC §14), in SPEC §14 table order.

    Parameters
    ----------
    run_id
        The run, named in every title.
    a, b
        The analyses of A and B (same processing; A's is used for band, ids and top_fraction).
    rows
        The run's ``test_results`` rows (SPEC §11.7), one per test metric plus P3's: one
        panel each in the metric figures, in this order. ``p1a_threshold`` (q̄), ``p2_p_z``
        and ``p2_p_calibrated`` may be None: no line, "n/a".
    synthetic
        (dataset name, resolved generation) of each synthetic A/B dataset; one lanecount plot
        each (a repeated name is drawn once, and nothing when all its quartile bins are isotropic).

    Returns
    -------
    list of FigureJob
        Spectrum, counts histogram, heatmaps A and B, the small multiples ``metric_hist.png``,
        ``p2_concentration.png``, ``timescales_a.png`` and ``timescales_b.png`` (none of the
        four without metric rows), ``p3_<run>.png`` when A has a P3 result, then the
        lanecounts in ``synthetic`` order.
    """
    processing = a.processing
    names = (a.dataset_id, b.dataset_id)
    labels = (f"A: {names[0]}", f"B: {names[1]}")
    title = title_for(names, processing.id, run_id)
    side_titles = {"a": title_for([names[0]], processing.id, run_id), "b": title_for([names[1]], processing.id, run_id)}
    centres = processing.band.centres_nm()
    p3_rows = [row for row in rows if row["metric"] == P3_METRIC]
    rows = [row for row in rows if row["metric"] != P3_METRIC]
    metrics = [str(row["metric"]) for row in rows]

    jobs = [
        FigureJob("spectrum_a_vs_b.png", "spectrum", {"a": observed_spectrum(labels[0], a),
                                                      "b": observed_spectrum(labels[1], b),
                                                      "title": "apparent spectrum · " + title}),
        FigureJob("counts_hist_wavelength.png", "counts", {"centres_nm": centres, "counts_a": band_counts(a),
                                                           "counts_b": band_counts(b), "labels": labels,
                                                           "title": "counts per wavelength bin · " + title}),
    ]
    for side, analysis in (("a", a), ("b", b)):
        jobs.append(FigureJob(f"heatmap_{side}.png", "heatmap",
                              heatmap_inputs(analysis, f"{side.upper()}: " + side_titles[side]), group="heatmap"))
    if metrics:
        histograms, p2_panels = [], []
        top: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
        # A fitted P2 side needs a λ_ref on both sides; a side without its own bins borrows the
        # band's, which is never used to draw anything.
        fallback = float(np.exp(np.mean(np.log(centres))))
        for row, metric in zip(rows, metrics):
            values = {"a": _metric_values(a, metric), "b": _metric_values(b, metric)}
            ranked = {side: bool(np.isfinite(v).any()) for side, v in values.items()}
            histograms.append({"metric": metric, **values, "threshold": _finite_or_none(row.get("p1a_threshold"))})
            sides = [_p2_side(analysis, metric, ranked[side], processing.top_fraction, centres)
                     for side, analysis in (("a", a), ("b", b))]
            p2_panels.append({"metric": metric, "counts_a": sides[0][0], "counts_b": sides[1][0],
                              "fit_a": sides[0][1], "fit_b": sides[1][1],
                              "lambda_ref_nm": (sides[0][2] or fallback, sides[1][2] or fallback),
                              "p_z": _finite_or_none(row.get("p2_p_z")),
                              "p_cal": _finite_or_none(row.get("p2_p_calibrated"))})
            for side, analysis in (("a", a), ("b", b)):
                chosen = _top_rows(analysis, metric, ranked[side], processing.top_fraction)
                table = analysis.chunks
                top[side].append({"metric": metric, "centres_nm": table["wavelength_center_nm"].to_numpy()[chosen],
                                  "widths_s": table["width_s"].to_numpy()[chosen]})
        jobs.append(FigureJob("metric_hist.png", "metric_hist", {
            "panels": histograms, "labels": labels, "title": "metric histograms (P1d bins) · " + title}))
        jobs.append(FigureJob("p2_concentration.png", "p2", {
            "centres_nm": centres, "panels": p2_panels, "labels": labels,
            "title": "P2 concentration of the top chunks · " + title}))
        for side in ("a", "b"):
            jobs.append(FigureJob(f"timescales_{side}.png", "timescales", {
                "panels": top[side],
                "title": f"timescales of the top chunks · {side.upper()}: " + side_titles[side]}, group="timescales"))
    p3 = _p3_panel(a, p3_rows[0] if p3_rows else {})
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


def run_drawing_workers(*, parallel: bool = True) -> DrawingWorkers:
    """Two forked workers for a run's figures, loading the drawing code from now on (SPEC §14 rev 2)."""
    return DrawingWorkers(DRAW_JOBS, workers=2, parallel=parallel)


def finish_run_plots(workers: DrawingWorkers, jobs: Sequence[FigureJob], folder: Path, dpi: float) -> list[Path]:
    """Wait for the workers drawing ``jobs`` and rename every PNG into place, in job order (none on failure)."""
    with FigureSet(dpi) as figures:
        workers.join(figures)
    order = {job.file: rank for rank, job in enumerate(jobs)}
    return sorted(figures.paths, key=lambda path: order.get(path.name, len(order)))
