"""The drawing workers a run starts early, the lean drawing module they load, and PNG writing (SPEC §14 rev 2)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lightlane.exceptions import DataError
from lightlane.report import figure_jobs
from lightlane.report.drawing import new_figure
from lightlane.report.staging import write_png


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
    shown = fig.dpi
    write_png(fig, tmp_path / "ours.png", dpi)
    assert fig.dpi == shown  # the figure is left as it was
    reference = io.BytesIO()
    fig.savefig(reference, format="png", dpi=dpi)
    ours, theirs = Image.open(tmp_path / "ours.png"), Image.open(reference)
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
