"""Onboarding a raw event file into a workspace (SPEC §4.1, §18 ``onboard``).

The file is validated by a full read *before* anything is written; then it is
copied (or linked) into ``data/raw/<id>/``, its DatasetMeta and catalog row are
written. Any failure removes what this call created.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

from .atomic import atomic_path
from .catalog import Catalog, utc_now
from .exceptions import DataError, LightlaneWarning, MetadataError
from .hashing import file_sha256
from .ingest import EventList, read_events
from .metadata import ApparentSpectrum, DatasetMeta, DatasetTime, LinearCalibration, ProcessingParameters, is_valid_id
from .selection import select_events
from .spectrum_fit import fit_spectrum
from .version import CODE_VERSION
from .workspace import Workspace

__all__ = ["onboard_file", "apparent_spectrum"]

log = logging.getLogger("lightlane.onboard")


def _check_new_id(workspace: Workspace, dataset_id: str) -> None:
    if not is_valid_id(dataset_id):
        raise MetadataError(f"--id: invalid dataset id {dataset_id!r} (expected [a-z0-9_-]{{1,64}})")
    if workspace.exists(DatasetMeta, dataset_id):
        raise MetadataError(f"meta/datasets/{dataset_id}.json: dataset {dataset_id!r} already exists")
    if workspace.raw_dir(dataset_id).exists():
        raise MetadataError(f"data/raw/{dataset_id}: folder already exists; choose another --id")


def _place_file(source: Path, target: Path, link: bool) -> None:
    """Copy (atomically) or symlink ``source`` to ``target``."""
    if link:
        os.symlink(source.resolve(), target)
        return
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _dataset_meta(events: EventList, dataset_id: str, event_file: str, sha256: str,
                  calibration: str, calibration_params: dict[str, float] | None, sort_times: bool) -> DatasetMeta:
    header = events.header
    zero = float(header.get("TIMEZERO", 0.0))
    return DatasetMeta(
        id=dataset_id,
        kind="raw",
        event_file=event_file,
        file_sha256=sha256,
        synthetic=False,
        time=DatasetTime(
            tstart_s=events.tstart_s,
            tstop_s=events.tstop_s,
            gti_count=len(events.gti),
            exposure_s=events.exposure_s,
            header_tstart_s=float(header["TSTART"]) + zero if "TSTART" in header else None,
            header_tstop_s=float(header["TSTOP"]) + zero if "TSTOP" in header else None,
            mjdref=events.mjdref,
        ),
        event_count=events.events.height,
        energy_calibration=calibration,  # type: ignore[arg-type]
        calibration_params=LinearCalibration(**calibration_params) if calibration_params else None,
        channel_column=events.channel_column,  # type: ignore[arg-type]
        mission=events.mission,
        instrument=events.instrument,
        obs_id=str(header["OBS_ID"]).strip() if "OBS_ID" in header else None,
        object=str(header["OBJECT"]).strip() if "OBJECT" in header else None,
        coordinates="sky",
        sort_times=sort_times,
        created_at=utc_now(),
        code_version=CODE_VERSION,
    )


def apparent_spectrum(events: EventList, meta: DatasetMeta, processing: ProcessingParameters) -> ApparentSpectrum | None:
    """The §12 fit on the processing's band and selection, or None when it cannot be fitted.

    A raw file whose photons barely reach the band (e.g. hard X-ray data) is still a valid
    dataset, so a failed fit is logged, not raised; fit warnings are logged too.
    """
    try:
        selected = select_events(events.events, processing, meta.coordinates, meta.event_file)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LightlaneWarning)
            fit = fit_spectrum(selected["wavelength_nm"].to_numpy(), processing.band, meta.time.exposure_s)
    except DataError as exc:
        log.warning("%s: apparent spectrum not fitted: %s", meta.id, exc)
        return None
    for warning in caught:
        log.warning("%s: apparent spectrum: %s", meta.id, warning.message)
    return fit.to_apparent_spectrum()


def onboard_file(
    workspace: Workspace,
    source: str | os.PathLike[str],
    dataset_id: str,
    *,
    calibration: str | None = None,
    calibration_params: dict[str, float] | None = None,
    link: bool = False,
    sort_times: bool = False,
    gti_hdu: str | None = None,
    processing: str | None = None,
) -> DatasetMeta:
    """Validate, copy (or link), hash and register a raw event file.

    Parameters
    ----------
    workspace
        An initialised workspace; the caller holds its lock.
    source
        The event file; it is read, never modified.
    dataset_id
        New id, ``[a-z0-9_-]{1,64}``.
    calibration, calibration_params
        Override the auto-detected calibration (SPEC §6.2).
    link
        Place a symlink in ``data/raw/<id>/`` instead of a copy.
    sort_times, gti_hdu
        Reading options recorded in the DatasetMeta / used for validation.
    processing
        Processing whose band the apparent spectrum refers to (default ``default``).

    Returns
    -------
    DatasetMeta
        The metadata written to ``meta/datasets/<id>.json``.

    Raises
    ------
    MetadataError, DataError
        Bad id, existing id, unreadable file; the workspace is left unchanged.
    """
    workspace.require_initialised()
    source = Path(source)
    _check_new_id(workspace, dataset_id)
    if not source.is_file():
        raise DataError(f"{source}: file not found")
    processing_params = workspace.load(ProcessingParameters, processing or "default")
    events = read_events(
        source, calibration, dataset_id=dataset_id, calibration_params=calibration_params,
        sort_times=sort_times, gti_hdu=gti_hdu,
    )
    sha256 = file_sha256(source)

    raw_dir = workspace.raw_dir(dataset_id)
    target = raw_dir / source.name
    event_file = workspace.relative(target)
    meta = _dataset_meta(events, dataset_id, event_file, sha256, events.calibration, calibration_params, sort_times)
    meta = replace(meta, apparent_spectrum=apparent_spectrum(events, meta, processing_params))
    meta_path = workspace.meta_path(DatasetMeta, dataset_id)
    try:
        raw_dir.mkdir(parents=True)
        _place_file(source, target, link)
        if file_sha256(target) != sha256:
            raise DataError(f"{source}: the file changed while it was being onboarded")
        workspace.save(meta)
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            catalog.insert(cursor, "datasets", {
                "id": dataset_id, "kind": "raw", "event_file": event_file, "file_sha256": sha256,
                "events_hash": events.events_hash(), "parent_id": None, "generation_id": None,
                "tasks_json": json.dumps([]), "seed": meta.dither_seed, "created_at": meta.created_at,
            })
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            meta_path.unlink()
        shutil.rmtree(raw_dir, ignore_errors=True)
        raise
    return meta
