"""The figures of one pipeline run (SPEC §14): file set, valid PNGs, degenerate inputs.

A and B are small in-memory event sets made with a fixed numpy generator (test data only),
analysed with a quick processing; no workspace is needed.
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from matplotlib.image import imread

from lightlane.analysis.dataset_analysis import Analysis, analyze_events
from lightlane.metadata import (
    Band,
    GenerationParameters,
    GenerationTime,
    ListWidths,
    ProcessingParameters,
    parse_document,
)
from lightlane.pipelines.results import result_rows
from lightlane.events import EventList
from lightlane.exceptions import LightlaneWarning
from lightlane.report import figures
from lightlane.report.drawing import run_jobs
from lightlane.report.drawing import SpectrumPanel
from lightlane.report.figures import save_run_plots
from lightlane.report.figure_jobs import COSTS
from lightlane.report.run_figures import observed_spectrum, run_figure_jobs
from lightlane.stats.null_summaries import NullSummary

HC = 1.239841984  # keV·nm (SPEC §1)
SPAN_S = 4000.0
RUN_ID = "rf-pipeline-0-0123abcd"
METRICS = ("vesa", "fvar")
PROCESSING = ProcessingParameters(
    id="rf", band=Band(0.1, 1.0, 20), time_bins=ListWidths((20.0, 40.0, 80.0)), chunk_length=4,
    chunk_count=2000, top_fraction=0.05, bootstrap_resamples=100, test_metrics=METRICS,
)
# Low resolution keeps the test fast; the layout does not depend on dpi.
DPI = 40


def events(seed: int, n: int = 6000) -> EventList:
    rng = np.random.default_rng(seed)
    wavelength = np.clip(np.exp(rng.normal(np.log(0.4), 0.4, n)), 0.11, 0.99)
    frame = pl.DataFrame({"time": np.sort(rng.random(n) * SPAN_S), "wavelength_nm": wavelength,
                          "energy_kev": HC / wavelength})
    return EventList(events=frame, gti=np.array([[0.0, SPAN_S]]), coordinates="synthetic")


def analyse(seed: int, name: str) -> Analysis:
    return analyze_events(events(seed), PROCESSING, 7, dataset_id=name,
                          events_hash=f"{seed:064x}")


@pytest.fixture(scope="module")
def pair() -> tuple[Analysis, Analysis]:
    return analyse(1, "ds-a"), analyse(2, "ds-b")


def rows_for(a: Analysis, b: Analysis, calibrated: bool) -> list[dict[str, Any]]:
    summaries = {}
    if calibrated:
        rng = np.random.default_rng(3)
        summaries = {m: [NullSummary.from_values(m, rng.normal(size=500), PROCESSING.tail_fraction, (-0.1, 0.2))
                         for _ in range(5)] for m in METRICS}
    return result_rows(RUN_ID, PROCESSING, a.chunks, b.chunks, summaries, n_a=a.n_selected, n_b=b.n_selected)


def sparse_generation() -> GenerationParameters:
    text = (resources.files("lightlane") / "defaults" / "generation" / "sparse.json").read_bytes()
    generation = parse_document(GenerationParameters, text, "sparse.json")
    return dataclasses.replace(generation, time=GenerationTime(tstart_s=0.0, tstop_s=300.0))


def expected_names() -> list[str]:
    """One PNG per kind: the metric figures are small multiples with a panel per metric (SPEC §14 rev 2)."""
    return ["spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png",
            "metric_hist.png", "p2_concentration.png", "timescales_a.png", "timescales_b.png"]


def assert_pngs(paths: list[Path], folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    for path in paths:
        assert path.parent == folder and path.stat().st_size > 0
        image = imread(path)
        assert image.ndim == 3 and image.shape[0] > 0 and image.shape[1] > 0


class Spy:
    """Records the keyword/positional inputs of a plot function and forwards the call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls: list[tuple[tuple, dict]] = []
        original = getattr(run_jobs, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((args, kwargs))
            return original(*args, **kwargs)

        monkeypatch.setattr(run_jobs, name, spy)


def test_full_run_writes_every_figure_with_lanecount(pair, tmp_path, monkeypatch) -> None:
    a, b = pair
    rows = rows_for(a, b, calibrated=True)
    hist = Spy(monkeypatch, "plot_metric_histograms")
    conc = Spy(monkeypatch, "plot_p2_concentration")
    times = Spy(monkeypatch, "plot_timescales")
    folder = tmp_path / "run-x"
    # Drawn in this process only, so the spies see every call.
    paths = save_run_plots(folder, run_id=RUN_ID, a=a, b=b, rows=rows,
                           synthetic=[("gen-sparse", sparse_generation()), ("gen-sparse", sparse_generation())],
                           dpi=DPI, parallel=False)
    assert [p.name for p in paths] == expected_names() + ["lanecount_gen-sparse.png"]
    assert list(figures.RUN_FIGURES) == expected_names()
    assert_pngs(paths, folder)
    # One figure per kind, one panel per metric in row order.
    ((hist_panels,), hist_kwargs) = hist.calls[0]
    assert len(hist.calls) == 1 and [p.metric for p in hist_panels] == list(METRICS)
    for row, panel in zip(rows, hist_panels):
        assert panel.threshold == row["p1a_threshold"] and math.isfinite(panel.threshold)
    title = hist_kwargs["title"]
    assert RUN_ID in title and "ds-a vs ds-b" in title and "processing rf" in title
    # The drawn P2 fits are the test's own: same slopes, same p-values.
    ((_, p2_panels), _) = conc.calls[0]
    assert len(conc.calls) == 1 and [p.metric for p in p2_panels] == list(METRICS)
    for row, panel in zip(rows, p2_panels):
        assert panel.fit_a[1] == pytest.approx(row["p2_slope_a"], rel=1e-12)
        assert panel.fit_b[2] == pytest.approx(row["p2_se_b"], rel=1e-12)
        assert (panel.p_z, panel.p_cal) == (row["p2_p_z"], row["p2_p_calibrated"]) and panel.p_cal is not None
    # Timescales: A then B, each with a panel per metric holding that metric's top chunks.
    assert len(times.calls) == 2
    for ((panels,), kwargs), side in zip(times.calls, ("A: ds-a", "B: ds-b")):
        assert [p.metric for p in panels] == list(METRICS) and side in kwargs["title"] and RUN_ID in kwargs["title"]
        assert all(p.centres_nm.size == p.widths_s.size > 0 for p in panels)


def unfitted(analysis: Analysis, **changes) -> Analysis:
    """A copy whose spectrum cannot be fitted (no selected counts to fit; its binned counts are kept)."""
    return dataclasses.replace(analysis, selected_counts=np.zeros_like(analysis.selected_counts), **changes)


def test_missing_fit_calibration_and_values_do_not_raise(pair, tmp_path, monkeypatch) -> None:
    a, b = pair
    # fvar without a single finite value in A or B, A without a spectrum fit, no baselines.
    a = unfitted(a, chunks=a.chunks.with_columns(pl.lit(float("nan")).alias("fvar")))
    b = dataclasses.replace(b, chunks=b.chunks.with_columns(pl.lit(None, dtype=pl.Float64).alias("fvar")))
    rows = rows_for(a, b, calibrated=False)
    assert all(row["p1a_threshold"] is None and row["p2_p_calibrated"] is None for row in rows)
    hist = Spy(monkeypatch, "plot_metric_histograms")
    conc = Spy(monkeypatch, "plot_p2_concentration")
    folder = tmp_path / "run-y"
    with pytest.warns(LightlaneWarning, match="ds-a: apparent spectrum not fitted"):
        paths = save_run_plots(folder, run_id=RUN_ID, a=a, b=b, rows=rows, dpi=DPI, parallel=False)
    assert [p.name for p in paths] == expected_names()  # no lanecount without synthetic datasets
    assert_pngs(paths, folder)
    ((vesa, fvar),), _ = hist.calls[0]
    assert vesa.threshold is None and vesa.n_a > 0 and vesa.counts_a.sum() > 0
    assert fvar.n_a == fvar.n_b == 0 and fvar.edges is None  # drawn as a "no finite values" panel
    ((_, (vesa, fvar)), _) = conc.calls[0]
    assert vesa.fit_a is not None and vesa.p_cal is None  # fitted, but no p_cal ("n/a")
    assert fvar.fit_a is None and fvar.fit_b is None and fvar.p_z is None
    assert np.isnan(fvar.counts_a).all() and np.isnan(fvar.counts_b).all()


def test_run_without_rows_draws_no_metric_figures(pair, tmp_path) -> None:
    a, b = pair
    paths = save_run_plots(tmp_path / "run-z", run_id=RUN_ID, a=a, b=b, rows=[], dpi=DPI)
    assert [p.name for p in paths] == expected_names()[:4]
    assert_pngs(paths, tmp_path / "run-z")


@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize("broken_plot", ["plot_timescales", "plot_p2_concentration"])
def test_a_failed_figure_leaves_no_file(pair, tmp_path, monkeypatch, broken_plot, parallel) -> None:
    """The figures are renamed into place together: a failure part-way, in either process, leaves neither PNGs
    nor temporary files."""
    a, b = pair

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(run_jobs, broken_plot, broken)
    folder = tmp_path / "run-w"
    with pytest.raises(RuntimeError, match="drawing failed"):
        save_run_plots(folder, run_id=RUN_ID, a=a, b=b, rows=rows_for(a, b, calibrated=False), dpi=DPI,
                       parallel=parallel)
    assert list(folder.iterdir()) == []


def test_parallel_drawing_writes_the_same_files(pair, tmp_path) -> None:
    """The figures are drawn by two forked workers: same names, order and bytes as in one process."""
    a, b = pair
    rows = rows_for(a, b, calibrated=True)
    synthetic = [("gen-sparse", sparse_generation())]
    serial = save_run_plots(tmp_path / "serial", run_id=RUN_ID, a=a, b=b, rows=rows, synthetic=synthetic, dpi=DPI,
                            parallel=False)
    forked = save_run_plots(tmp_path / "forked", run_id=RUN_ID, a=a, b=b, rows=rows, synthetic=synthetic, dpi=DPI)
    assert [p.name for p in forked] == [p.name for p in serial] == expected_names() + ["lanecount_gen-sparse.png"]
    for one, other in zip(serial, forked):
        assert one.read_bytes() == other.read_bytes(), one.name
    assert_pngs(forked, tmp_path / "forked")


def test_shared_figure_objects_draw_what_new_ones_would(pair, tmp_path, monkeypatch) -> None:
    """The run re-uses one figure object per kind (SPEC §14 rev 2): its PNGs are the bytes new figures give."""
    a, b = pair
    rows = rows_for(a, b, calibrated=True)
    shared = save_run_plots(tmp_path / "shared", run_id=RUN_ID, a=a, b=b, rows=rows, dpi=DPI, parallel=False)

    class NewEachTime(run_jobs.PanelFigure):
        def take(self, n_panels: int):
            self.figure = None
            return super().take(n_panels)

    monkeypatch.setattr(run_jobs, "PanelFigure", NewEachTime)
    monkeypatch.setattr(run_jobs, "HeatmapFigure", lambda: None)  # plot_heatmap then makes a new figure
    new = save_run_plots(tmp_path / "new", run_id=RUN_ID, a=a, b=b, rows=rows, dpi=DPI, parallel=False)
    assert [p.name for p in shared] == [p.name for p in new] == expected_names()
    for one, other in zip(shared, new):
        assert one.read_bytes() == other.read_bytes(), one.name


def test_observed_panel_falls_back_to_counts(pair) -> None:
    a, _ = pair
    with pytest.warns(LightlaneWarning, match="apparent spectrum not fitted"):
        panel = SpectrumPanel(**observed_spectrum("A", unfitted(a)))
    fitted = SpectrumPanel(**observed_spectrum("A", a))
    assert panel.fitted is None and fitted.fitted is not None
    # Both are y_w = k_w/(T·w) of the same selected events.
    np.testing.assert_allclose(panel.flux_density, fitted.flux_density, rtol=1e-12)


def test_every_job_has_a_cost_to_queue_it_by(pair) -> None:
    a, b = pair
    jobs = run_figure_jobs(run_id=RUN_ID, a=a, b=b, rows=rows_for(a, b, calibrated=True),
                           synthetic=[("gen-sparse", sparse_generation())])
    assert {job.kind for job in jobs} <= set(COSTS) and all(job.cost == COSTS[job.kind] > 0 for job in jobs)