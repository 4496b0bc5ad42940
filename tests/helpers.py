"""Helpers shared by the tests (fixtures are in ``conftest.py``): tiny FITS event files built with astropy,
workspace snapshots, catalog rows, a small onboarded pipeline and two valid metadata documents."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from lightlane import Workspace
from lightlane.datasets.onboard import onboard_file
from lightlane.metadata import Band, DatasetMeta, ListWidths, ProcessingParameters
from lightlane.pipelines.definitions import create_pipeline

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: A valid pipeline and a valid dataset document (metadata tests and fuzzing).
PIPELINE = {
    "schema": 1, "id": "demo_vs_poisson", "source": {"dataset": "demo"}, "processing": "default",
    "a_tasks": ["select", "flatten"], "b_input": "a", "b_tasks": ["poissonize"],
}
DATASET = {
    "schema": 1, "id": "demo", "kind": "raw", "event_file": "data/raw/demo/acisf1_evt2.fits",
    "file_sha256": "a" * 64, "synthetic": False, "event_count": 10, "energy_calibration": "chandra-acis",
    "time": {"tstart_s": 0.0, "tstop_s": 10.0, "gti_count": 1, "exposure_s": 10.0},
}


def build_event_file(
    path: Path,
    *,
    times: np.ndarray | None = None,
    columns: dict[str, tuple[str, np.ndarray]] | None = None,
    gtis: list[tuple[float, float]] | None = ((0.0, 1000.0),),
    header: dict[str, Any] | None = None,
    events_name: str = "EVENTS",
    gti_name: str = "GTI",
    extra_hdus: list[fits.BinTableHDU] | None = None,
) -> Path:
    """Write an OGIP-like event file; ``columns`` maps name → (TFORM, values)."""
    n = 200
    if times is None:
        times = np.linspace(1.0, 999.0, n)
    if columns is None:
        channels = 1 + (np.arange(len(times)) * 37) % 700
        columns = {"PI": ("J", channels.astype(np.int32))}
    cards = {"TELESCOP": "CHANDRA", "INSTRUME": "ACIS", "TSTART": 0.0, "TSTOP": 1000.0, "MJDREF": 50814.0}
    cards.update(header or {})
    hdr = fits.Header()
    for key, value in cards.items():
        hdr[key] = value
    cols = [fits.Column(name="TIME", format="D", array=np.asarray(times))] if times is not False else []  # type: ignore[comparison-overlap]
    cols += [fits.Column(name=name, format=form, array=values) for name, (form, values) in columns.items()]
    hdus: list[Any] = [fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, header=hdr.copy(), name=events_name)]
    if gtis is not None:
        gti = np.asarray(gtis, dtype=np.float64).reshape(-1, 2)
        hdus.append(fits.BinTableHDU.from_columns(
            [fits.Column(name="START", format="D", array=gti[:, 0]), fits.Column(name="STOP", format="D", array=gti[:, 1])],
            header=hdr.copy(), name=gti_name,
        ))
    hdus += extra_hdus or []
    fits.HDUList(hdus).writeto(path)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (the catalog excluded: WAL files churn)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("lightlane.sqlite") and p.name != ".lock"
    }


def catalog_rows(ws: Workspace, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(ws.catalog_path) as connection:
        return connection.execute(f"SELECT * FROM {table}").fetchall()


# ----------------------------------------------------------------------------- a small pipeline

SMALL_N = 3000
SMALL_DURATION = 3000.0


def make_small_pipeline(workspace: Workspace, make_events: Callable[..., Path], *, b_tasks=("poissonize",),
                    b_input="a", a_tasks=("select", "flatten"), pipeline_id: str = "src_null") -> Any:
    if not workspace.exists(DatasetMeta, "src"):
        rng = np.random.default_rng(1)
        times = np.sort(rng.uniform(0.0, SMALL_DURATION, SMALL_N))
        columns = {"PI": ("J", (1 + 1.239841984 / rng.uniform(0.09, 1.05, SMALL_N) / 0.0146).astype(np.int32))}
        path = make_events(times=times, columns=columns, gtis=[(0.0, SMALL_DURATION)], header={"TSTOP": SMALL_DURATION})
        onboard_file(workspace, path, "src")
        default = workspace.load(ProcessingParameters, "default")
        small = dataclasses.replace(
            default, id="small", band=Band(min_nm=0.1, max_nm=1.0, bins=10),
            time_bins=ListWidths(widths_s=(10.0, 20.0, 30.0)), chunk_count=500, bootstrap_resamples=100,
            significance_level=0.05, tail_fraction=0.01, top_fraction=0.05,
            test_metrics=("ev", "vea", "oec"),
        )
        workspace.save(small)
    return create_pipeline(workspace, {
        "id": pipeline_id, "role": "negative_control", "source": {"dataset": "src"}, "processing": "small",
        "a_tasks": list(a_tasks), "b_input": b_input, "b_tasks": list(b_tasks), "seed": 3,
    })
