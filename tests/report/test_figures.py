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
from lightlane.report import figures
from lightlane.report.figures import save_run_plots
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


def expected_names(metrics: tuple[str, ...] = METRICS) -> list[str]:
    return (["spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png"]
            + [f"metric_hist_{m}.png" for m in metrics] + [f"p2_concentration_{m}.png" for m in metrics]
            + [f"timescales_{m}_{s}.png" for m in metrics for s in "ab"])


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
        original = getattr(figures, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((args, kwargs))
            return original(*args, **kwargs)

        monkeypatch.setattr(figures, name, spy)


def test_full_run_writes_every_figure_with_lanecount(pair, tmp_path, monkeypatch) -> None:
    a, b = pair
    rows = rows_for(a, b, calibrated=True)
    hist = Spy(monkeypatch, "plot_metric_histogram")
    conc = Spy(monkeypatch, "plot_p2_concentration")
    folder = tmp_path / "run-x"
    paths = save_run_plots(folder, run_id=RUN_ID, a=a, b=b, rows=rows,
                           synthetic=[("gen-sparse", sparse_generation())], dpi=DPI)
    assert [p.name for p in paths] == expected_names() + ["lanecount_gen-sparse.png"]
    assert_pngs(paths, folder)
    for row, (_, kwargs) in zip(rows, hist.calls):
        assert kwargs["threshold"] == row["p1a_threshold"] and math.isfinite(kwargs["threshold"])
        assert RUN_ID in kwargs["title"] and "ds-a vs ds-b" in kwargs["title"] and "processing rf" in kwargs["title"]
    # The drawn P2 fits are the test's own: same slopes, same p-values.
    for row, (args, kwargs) in zip(rows, conc.calls):
        fit_a, fit_b, p_z, p_cal = args[3], args[4], args[6], args[7]
        assert fit_a[1] == pytest.approx(row["p2_slope_a"], rel=1e-12)
        assert fit_b[2] == pytest.approx(row["p2_se_b"], rel=1e-12)
        assert (p_z, p_cal) == (row["p2_p_z"], row["p2_p_calibrated"]) and p_cal is not None


def unfitted(analysis: Analysis, **changes) -> Analysis:
    """A copy whose spectrum fit failed (the fit is computed on first use and cached; here: None)."""
    copy = dataclasses.replace(analysis, **changes)
    copy.__dict__["fit"] = None
    return copy


def test_missing_fit_calibration_and_values_do_not_raise(pair, tmp_path, monkeypatch) -> None:
    a, b = pair
    # fvar without a single finite value in A or B, A without a spectrum fit, no baselines.
    a = unfitted(a, chunks=a.chunks.with_columns(pl.lit(float("nan")).alias("fvar")))
    b = dataclasses.replace(b, chunks=b.chunks.with_columns(pl.lit(None, dtype=pl.Float64).alias("fvar")))
    rows = rows_for(a, b, calibrated=False)
    assert all(row["p1a_threshold"] is None and row["p2_p_calibrated"] is None for row in rows)
    hist = Spy(monkeypatch, "plot_metric_histogram")
    conc = Spy(monkeypatch, "plot_p2_concentration")
    folder = tmp_path / "run-y"
    paths = save_run_plots(folder, run_id=RUN_ID, a=a, b=b, rows=rows, dpi=DPI)
    assert [p.name for p in paths] == expected_names()  # no lanecount without synthetic datasets
    assert_pngs(paths, folder)
    assert len(hist.calls) == 1 and hist.calls[0][1]["threshold"] is None  # fvar: placeholder figure
    vesa, fvar = conc.calls
    assert vesa[0][3] is not None and vesa[0][7] is None  # fitted, but no p_cal ("n/a")
    assert fvar[0][3] is None and fvar[0][4] is None and fvar[0][6] is None
    assert np.isnan(fvar[0][1]).all() and np.isnan(fvar[0][2]).all()


def test_observed_panel_falls_back_to_counts(pair) -> None:
    a, _ = pair
    panel = figures.observed_panel("A", unfitted(a))
    fitted = figures.observed_panel("A", a)
    assert panel.fitted is None and fitted.fitted is not None
    # Both are y_w = k_w/(T·w) of the same selected events.
    np.testing.assert_allclose(panel.flux_density, fitted.flux_density, rtol=1e-12)
