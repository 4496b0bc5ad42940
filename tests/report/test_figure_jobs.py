"""The drawing workers a run starts early, the lean drawing module they load, and PNG writing (SPEC §14 rev 2)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from PIL import Image

from lightlane.exceptions import DataError
from lightlane.report import figure_jobs
from lightlane.report.drawing import new_figure
from lightlane.report.framing import metric_histogram
from lightlane.report.staging import house_text, write_png


def test_workers_started_early_are_taken_once_by_this_process() -> None:
    figure_jobs.start_early()
    workers = figure_jobs.take_early()
    try:
        assert workers is not None and workers.forked
        assert figure_jobs.take_early() is None  # once
    finally:
        workers.cancel()


def test_workers_nobody_took_are_stopped_and_a_forked_copy_cannot_take_them() -> None:
    figure_jobs.start_early()
    pid = os.fork()
    if pid == 0:  # a copy of this process (a Dask worker, a drawing worker) must not use them
        os._exit(0 if figure_jobs.take_early() is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    figure_jobs.cancel_early()
    assert figure_jobs.take_early() is None


def test_the_drawing_workers_load_neither_scipy_nor_polars() -> None:
    """Started before a run's own imports, they load matplotlib and the drawing code only."""
    code = ("import sys, lightlane.report.drawing.run_jobs, lightlane.report.figure_jobs\n"
            "print(sorted(m for m in ('polars', 'scipy', 'astropy', 'dask') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize("dpi", [150, 72])
def test_written_pngs_hold_the_pixels_savefig_writes(tmp_path, dpi: int) -> None:
    fig, ax = new_figure(4.0, 3.0)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_title("λ (nm) · ±")
    ax.legend()
    shown, hinting = fig.dpi, matplotlib.rcParams["text.hinting"]
    write_png(fig, tmp_path / "ours.png", dpi)
    assert fig.dpi == shown and matplotlib.rcParams["text.hinting"] == hinting  # left as they were
    reference, hinted = io.BytesIO(), io.BytesIO()
    with house_text():
        fig.savefig(reference, format="png", dpi=dpi)
    fig.savefig(hinted, format="png", dpi=dpi)
    ours, theirs = Image.open(tmp_path / "ours.png"), Image.open(reference)
    assert not np.array_equal(np.asarray(ours), np.asarray(Image.open(hinted)))  # the house text is drawn
    assert ours.size == theirs.size == (int(4.0 * dpi), int(3.0 * dpi))
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    assert ours.info["dpi"] == theirs.info["dpi"]  # pixels per metre, as Pillow rounds them
    assert ours.info["Software"].startswith("lightlane ")


def test_the_png_encoder_refuses_pixels_that_are_not_rgba() -> None:
    from lightlane import _core

    with pytest.raises(DataError, match="RGBA"):
        _core.encode_png(np.zeros((2, 3, 3), dtype=np.uint8), 100.0)
    with pytest.raises(DataError, match="PNG pixels"):
        _core.encode_png(np.zeros((4, 4, 4), dtype=np.uint8)[::2], 100.0)  # not contiguous


def test_figures_drawn_from_the_warm_up_state_are_those_of_new_figures(tmp_path) -> None:
    """The workers start from the figure objects :func:`warm_up` made (heatmap, small multiples)."""
    from lightlane.report.drawing.run_jobs import DRAWERS, WARM_UP_PANELS, warm_up

    rng = np.random.default_rng(7)
    metrics = ["ev", "evs", "fel", "feg", "vea", "vesa", "oec"][:WARM_UP_PANELS]
    jobs = [
        ("heatmap", {"counts": rng.poisson(5, (90, 40)).astype(np.uint32), "exposure": np.full(90, 100.0),
                     "valid": np.arange(90) % 30 != 3, "time_edges_s": np.linspace(0.0, 9e3, 91),
                     "wavelength_edges_nm": np.linspace(0.2, 0.8, 41), "title": "heatmap"}),
        ("timescales", {"panels": [{"metric": m, "centres_nm": rng.uniform(0.2, 0.8, 50),
                                    "widths_s": rng.choice([10.0, 20.0], 50)} for m in metrics], "title": "t"}),
        ("metric_hist", {"panels": [metric_histogram(m, rng.normal(size=500), rng.normal(size=500), 1.5)
                                    for m in metrics], "labels": ("A: a", "B: b"), "title": "h"}),
    ]
    warm = warm_up()
    for kind, inputs in jobs:
        write_png(DRAWERS[kind](inputs, {}), tmp_path / f"new_{kind}.png", 100)
        write_png(DRAWERS[kind](inputs, warm), tmp_path / f"warm_{kind}.png", 100)
        new, reused = (np.asarray(Image.open(tmp_path / f"{state}_{kind}.png")) for state in ("new", "warm"))
        assert new.shape == reused.shape and np.array_equal(new, reused), kind
    assert {"heatmap", "panels"} <= set(warm)


def test_warm_up_makes_the_ticks_of_the_small_multiples() -> None:
    """Every worker draws panels: their ticks are made before the workers fork, once for all of them."""
    from lightlane.report.drawing.run_jobs import PANEL_TICKS, warm_up

    panels = warm_up()["panels"]
    assert all(len(axis.majorTicks) >= PANEL_TICKS for ax in panels.figure.axes for axis in (ax.xaxis, ax.yaxis))


def test_warm_up_makes_the_small_multiples_of_a_default_run() -> None:
    from lightlane.metadata.processing import DEFAULT_TEST_METRICS
    from lightlane.report.drawing.run_jobs import WARM_UP_PANELS

    assert WARM_UP_PANELS == len(DEFAULT_TEST_METRICS)
