"""Synthetic datasets (SPEC §4.2, §6.4, §7.6, §8 ``generate``, §9 replicate): hex ids, resolved
generations, files.

A synthetic dataset's id is the first 8 hex digits of SHA-256 over the canonical JSON
of its resolved generation (without id), its task chain and the package version; on a
clash with a different provenance the next 8 digits are used. Its resolved generation
is saved under that id, so ``generation_id`` always names exactly what made the events.

:func:`generate_dataset` makes a pure lanesheet dataset from a generation as it is;
:func:`replicate_dataset` a mimic whose spectrum, time span and GTIs come from a real
dataset. Their figures are drawn by :func:`lightlane.report.figures.save_synthetic_plots`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from .. import _core
from ..events.calibrations import get_calibration
from ..events.event_list import EventList
from ..events.reading import read_events
from ..events.selection import fit_selected_spectrum
from ..events.spectrum_fit import SpectrumFit, fit_spectrum
from ..events.writing import provenance_keywords, write_event_file
from ..exceptions import DataError
from ..lanesheet.simulation import generation_band, simulate
from ..metadata import (
    DatasetMeta,
    DatasetTime,
    GenerationParameters,
    GenerationTime,
    ProcessingParameters,
    TaskSpec,
    is_valid_id,
    to_json,
)
from ..store.catalog import Catalog, utc_now
from ..store.hashing import events_hash, file_sha256, sha256_json
from ..store.workspace import Workspace
from ..version import CODE_VERSION
from .registered import read_dataset

__all__ = ["provenance_digest", "synthetic_id", "write_synthetic_dataset", "SyntheticResult", "new_seed",
           "fit_dataset", "generate_dataset", "replicate_dataset"]


def provenance_digest(resolved: GenerationParameters, tasks: Sequence[TaskSpec]) -> str:
    """SHA-256 over the resolved generation (id excluded), the task chain and the version."""
    generation = to_json(resolved)
    generation.pop("id")
    return sha256_json({"generation": generation, "tasks": [to_json(t) for t in tasks], "version": CODE_VERSION})


def _existing_digest(workspace: Workspace, dataset_id: str) -> str | None:
    if not workspace.exists(DatasetMeta, dataset_id):
        return None
    meta = workspace.load(DatasetMeta, dataset_id)
    if meta.generation_id is None or not workspace.exists(GenerationParameters, meta.generation_id):
        return ""
    return provenance_digest(workspace.load(GenerationParameters, meta.generation_id), meta.tasks)


def synthetic_id(workspace: Workspace, digest: str) -> tuple[str, bool]:
    """(id, already there): the first 8-hex window of the digest that is free or identical."""
    for start in range(0, len(digest) - 7, 8):
        candidate = digest[start:start + 8]
        existing = _existing_digest(workspace, candidate)
        if existing is None:
            return candidate, False
        if existing == digest:
            return candidate, True
    raise DataError(f"no free synthetic id in digest {digest}")  # 8 clashes of 32-bit prefixes


def _named_id_is_free_or_same(workspace: Workspace, dataset_id: str, digest: str,
                              resolved: GenerationParameters) -> bool:
    """True when ``dataset_id`` already holds this provenance, False when it is free.

    A generation of that id equal to ``resolved`` is the first file of an interrupted
    write of this very dataset, not a clash.
    """
    if not is_valid_id(dataset_id):
        raise DataError(f"invalid dataset id {dataset_id!r} (expected [a-z0-9_-]{{1,64}})")
    existing = _existing_digest(workspace, dataset_id)
    if existing == digest:
        return True
    if existing is not None:
        raise DataError(f"dataset {dataset_id!r} already exists with another provenance; remove it first "
                        f"(`lightlane clean --generated`)")
    if workspace.exists(GenerationParameters, dataset_id) and \
            workspace.load(GenerationParameters, dataset_id) != replace(resolved, id=dataset_id):
        raise DataError(f"generation {dataset_id!r} already exists; it would be overwritten by the resolved "
                        f"generation of dataset {dataset_id!r}")
    return False


def _registered(workspace: Workspace, dataset_id: str) -> bool:
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.dataset_row(dataset_id)
    return row is not None and row["deleted_at"] is None


def _analysis_wavelengths(photons: pl.DataFrame, resolved: GenerationParameters, dataset_id: str) -> np.ndarray:
    """The wavelengths the analysis will read back: dithered PI when smeared, else stored."""
    if "pi" not in photons.columns:
        return photons["wavelength_nm"].to_numpy()
    calibration = get_calibration(resolved.instrument.calibration)
    _, wavelength = calibration.dither(photons["pi"].to_numpy(), 0, _core.str_u64(dataset_id))
    return wavelength


def write_synthetic_dataset(
    workspace: Workspace,
    resolved: GenerationParameters,
    photons: pl.DataFrame,
    processing: ProcessingParameters,
    *,
    tasks: Sequence[TaskSpec],
    parent_id: str | None = None,
    mjdref: float | None = None,
    label: str = "",
    dataset_id: str | None = None,
) -> DatasetMeta:
    """Write a generated dataset: resolved generation, FITS file, DatasetMeta, catalog row.

    ``resolved`` must have every "from input" choice filled in (spectrum, time and GTIs,
    band, seed). Writing the same provenance twice returns the existing dataset.
    Any failure removes what this call wrote.

    ``dataset_id`` replaces the hex id by a readable one (demos, documentation): the
    dataset and its resolved generation are then saved under that id. Because a
    readable id does not encode the provenance, an existing dataset or generation of
    that id with another provenance raises :class:`DataError` instead of being
    replaced silently.
    """
    digest = provenance_digest(resolved, tasks)
    if dataset_id is None:
        dataset_id, exists = synthetic_id(workspace, digest)
    else:
        exists = _named_id_is_free_or_same(workspace, dataset_id, digest, resolved)
    if exists and _registered(workspace, dataset_id):
        return workspace.load(DatasetMeta, dataset_id)
    # Not there, or its JSON was written but a kill came before the catalog row: write it (again).
    resolved = replace(resolved, id=dataset_id)
    gti = np.asarray(resolved.time.intervals(), dtype=np.float64).reshape(-1, 2)
    smeared = "pi" in photons.columns
    wavelengths = _analysis_wavelengths(photons, resolved, dataset_id)
    x, y = photons["x"].to_numpy(), photons["y"].to_numpy()
    valid = np.isfinite(wavelengths)
    ev_hash = events_hash([photons["time"].to_numpy()[valid], wavelengths[valid], x[valid], y[valid], gti[:, 0], gti[:, 1]])
    task_json = [to_json(t) for t in tasks]
    keywords = {
        "TELESCOP": "LIGHTLANE", "INSTRUME": "LANESHEET", "OBS_ID": "", "OBJECT": label or dataset_id,
        "MJDREF": 0.0 if mjdref is None else mjdref,
        **provenance_keywords(dataset_id=dataset_id, parent_id=parent_id, generation_id=dataset_id,
                              seed=resolved.seed, events_hash=ev_hash, tasks=task_json),
    }
    event_file = f"data/synthetic/{dataset_id}.fits"
    created: list[Path] = []
    try:
        created.append(workspace.save(resolved))
        created.append(write_event_file(workspace.path(event_file), photons, gti, keywords))
        calibration = resolved.instrument.calibration if smeared else "stored-wavelength"
        back = read_events(workspace.path(event_file), calibration, dataset_id=dataset_id, display_name=event_file)
        if back.events_hash() != ev_hash:
            raise DataError(f"{event_file}: events read back differ from those written (events_hash mismatch)")
        fit = fit_spectrum(back.events["wavelength_nm"].to_numpy(), processing.band, back.exposure_s)
        meta = DatasetMeta(
            id=dataset_id, kind="synthetic", event_file=event_file,
            file_sha256=file_sha256(workspace.path(event_file)), synthetic=True,
            time=DatasetTime(tstart_s=back.tstart_s, tstop_s=back.tstop_s, gti_count=len(gti),
                             exposure_s=back.exposure_s, header_tstart_s=back.tstart_s,
                             header_tstop_s=back.tstop_s, mjdref=mjdref),
            event_count=back.events.height, energy_calibration=calibration,  # type: ignore[arg-type]
            label=label, mission="LIGHTLANE", instrument="LANESHEET", generation_id=dataset_id,
            parent_id=parent_id, tasks=tuple(tasks), coordinates="synthetic", channel_column="pi" if smeared else None,
            apparent_spectrum=fit.to_apparent_spectrum(), created_at=utc_now(), code_version=CODE_VERSION,
        )
        created.append(workspace.save(meta))
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            # replace: a dataset removed by `clean --generated` keeps its row and may come back
            catalog.insert_dataset(cursor, {
                "id": dataset_id, "kind": "synthetic", "event_file": event_file, "file_sha256": meta.file_sha256,
                "events_hash": ev_hash, "parent_id": parent_id, "generation_id": dataset_id,
                "tasks_json": json.dumps(task_json, sort_keys=True), "seed": resolved.seed,
                "created_at": meta.created_at,
            }, replace=True)
    except BaseException:
        for path in created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return meta


# ----------------------------------------------------------------------------- generate and replicate


@dataclass(frozen=True)
class SyntheticResult:
    """A dataset made by :func:`generate_dataset` or :func:`replicate_dataset`, with what its figures need.

    ``source`` and ``source_fit`` are the mimicked dataset and its apparent-spectrum fit
    (``replicate``); both are None for ``generate``.
    """

    dataset: DatasetMeta
    seed: int
    processing: ProcessingParameters
    source: str | None = None
    source_fit: SpectrumFit | None = None


def new_seed() -> int:
    """A seed from OS entropy, for runs where the user gave none (it is recorded)."""
    return secrets.randbits(63)


def fit_dataset(workspace: Workspace, dataset_id: str,
                processing: ProcessingParameters) -> tuple[DatasetMeta, EventList, SpectrumFit]:
    """A registered dataset, its events and the apparent-spectrum fit of its selected events.

    The replicate recipe (also used by ``search``): a mimic takes the spectrum, the time
    span and the GTIs of its target from here.
    """
    meta = workspace.load(DatasetMeta, dataset_id)
    events = read_dataset(workspace, dataset_id, require_xy=processing.crop is not None or processing.mask is not None)
    return meta, events, fit_selected_spectrum(events, processing)


def generate_dataset(workspace: Workspace, generation_id: str, processing_id: str, seed: int | None = None,
                     *, progress: bool = False) -> SyntheticResult:
    """Generate a pure synthetic dataset from a generation as it is (its own spectrum and time)."""
    template = workspace.load(GenerationParameters, generation_id)
    processing = workspace.load(ProcessingParameters, processing_id)
    seed = new_seed() if seed is None else seed
    resolved = replace(template, band=generation_band(template, processing), seed=seed)
    photons = simulate(resolved, processing, progress=progress)
    task = TaskSpec.of("generate", generation=generation_id, spectrum_from="generation", time_from="generation")
    meta = write_synthetic_dataset(workspace, resolved, photons, processing, tasks=(task,), label=f"{generation_id} lanesheet")
    return SyntheticResult(meta, seed, processing)


def replicate_dataset(workspace: Workspace, dataset_id: str, generation_id: str, processing_id: str,
                      seed: int | None = None, *, progress: bool = False) -> SyntheticResult:
    """A mimic of a dataset: the template's lanesheet with the dataset's fitted spectrum,
    time span and GTIs, on the processing band."""
    template = workspace.load(GenerationParameters, generation_id)
    processing = workspace.load(ProcessingParameters, processing_id)
    real, events, real_fit = fit_dataset(workspace, dataset_id, processing)
    gtis = tuple((float(a), float(b)) for a, b in events.gti)
    seed = new_seed() if seed is None else seed
    resolved = replace(
        template,
        spectrum=real_fit.spectrum,
        time=GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis),
        band=generation_band(template, processing),
        seed=seed,
    )
    photons = simulate(resolved, processing, progress=progress)
    task = TaskSpec.of("generate", generation=generation_id, spectrum_from="input", time_from="input")
    mimic = write_synthetic_dataset(workspace, resolved, photons, processing, tasks=(task,), parent_id=dataset_id,
                                    mjdref=real.time.mjdref, label=f"mimic of {dataset_id}")
    return SyntheticResult(mimic, seed, processing, source=dataset_id, source_fit=real_fit)
