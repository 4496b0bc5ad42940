"""Onboarding a raw event file into a workspace (SPEC §4.1, §18 ``onboard``).

The file is validated by a full read *before* anything is written. It is then
staged into ``data/raw/.staging-<id>-<rand>/`` (copied, or linked with
``--link``), its DatasetMeta is written and its catalog row committed; only
then is the staging folder renamed to ``data/raw/<id>/``, which is the commit
point. An onboard killed before it leaves a staging folder (and perhaps the
JSON and row) that the next onboard removes, so a retry is never blocked and
redoes the whole onboard.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from ..events.event_list import EventList
from ..events.reading import read_events
from ..events.selection import fit_selected_spectrum
from ..exceptions import DataError, LightlaneWarning, MetadataError
from ..metadata import ApparentSpectrum, DatasetMeta, DatasetTime, LinearCalibration, ProcessingParameters, is_valid_id
from ..metadata.schema import Context, from_json, loads
from ..store.atomic import atomic_path
from ..store.catalog import Catalog, utc_now
from ..store.hashing import file_sha256
from ..store.workspace import Workspace
from ..version import CODE_VERSION

__all__ = ["OnboardOptions", "onboard_file", "apparent_spectrum", "complete_interrupted_onboards"]

log = logging.getLogger("lightlane.onboard")

_STAGING = ".staging-"
#: Folders a linked raw file must not live in: clean may empty them, or lightlane rewrites them.
_GENERATED_AREAS = ("data/derived", "data/synthetic", "cache", "results")


@dataclass(frozen=True)
class OnboardOptions:
    """How to read and place the file (the ``onboard`` options of SPEC §18)."""

    calibration: str | None = None
    calibration_params: dict[str, float] | None = None
    link: bool = False
    sort_times: bool = False
    gti_hdu: str | None = None
    processing: str | None = None
    energy_unit: str | None = None
    verify_checksum: bool = True
    hrc_time_fix: bool = True


def _check_new_id(workspace: Workspace, dataset_id: str) -> None:
    if not is_valid_id(dataset_id):
        raise MetadataError(f"--id: invalid dataset id {dataset_id!r} (expected [a-z0-9_-]{{1,64}})")
    if workspace.exists(DatasetMeta, dataset_id):
        raise MetadataError(f"meta/datasets/{dataset_id}.json: dataset {dataset_id!r} already exists")
    if workspace.raw_dir(dataset_id).exists():
        raise MetadataError(f"data/raw/{dataset_id}: folder already exists; choose another --id")
    with Catalog.open(workspace.catalog_path) as catalog:
        if catalog.dataset_row(dataset_id) is not None:
            raise MetadataError(f"lightlane.sqlite: the catalog already has a dataset {dataset_id!r} (its JSON was "
                                "removed by hand?); choose another --id")


def _check_link_target(workspace: Workspace, source: Path) -> None:
    """A linked file must not sit where lightlane deletes or rewrites files."""
    target = source.resolve()
    for area in _GENERATED_AREAS:
        folder = workspace.path(area).resolve()
        if target == folder or folder in target.parents:
            raise DataError(f"{source}: --link target lies in the workspace's {area}/, whose files lightlane may "
                            "delete or replace; onboard a copy instead (without --link)")


def _place_file(source: Path, target: Path, link: bool) -> None:
    """Copy (atomically) or symlink ``source`` to ``target``."""
    if link:
        os.symlink(source.resolve(), target)
        return
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _staged_id(folder: Path) -> str | None:
    name = folder.name
    if not name.startswith(_STAGING) or len(name) <= len(_STAGING) + 9:
        return None
    return name[len(_STAGING):-9]


def _undo_onboard(workspace: Workspace, dataset_id: str, staging: Path) -> None:
    """Remove every trace of an onboard that did not reach its final rename."""
    with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
        catalog.forget_raw_dataset(cursor, dataset_id)
    meta_path = workspace.meta_path(DatasetMeta, dataset_id)
    with contextlib.suppress(FileNotFoundError):
        meta_path.unlink()
    shutil.rmtree(staging, ignore_errors=True)


def complete_interrupted_onboards(workspace: Workspace) -> None:
    """Undo onboards that were killed before their final rename (the caller holds the lock).

    Until ``data/raw/.staging-<id>-<rand>/`` becomes ``data/raw/<id>/`` the dataset
    does not exist: its JSON and catalog row, if they were written, go with the
    staging folder, so the retry starts from a clean slate.
    """
    raw_root = workspace.root / "data" / "raw"
    for folder in sorted(raw_root.glob(f"{_STAGING}*")):
        dataset_id = _staged_id(folder)
        if not folder.is_dir() or folder.is_symlink() or dataset_id is None:
            continue
        if workspace.raw_dir(dataset_id).exists():
            shutil.rmtree(folder)  # the dataset is complete; this is a leftover copy
        else:
            _undo_onboard(workspace, dataset_id, folder)
            log.info("removed the interrupted onboard of %s", dataset_id)


def _dataset_meta(events: EventList, dataset_id: str, event_file: str, sha256: str,
                  options: OnboardOptions) -> DatasetMeta:
    header, read = events.header, events.read
    assert read is not None  # onboarding always reads a file
    zero = float(header.get("TIMEZERO", 0.0))
    params = options.calibration_params
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
        energy_calibration=read.calibration,
        calibration_params=LinearCalibration(**params) if params else None,
        channel_column=read.channel_column,
        mission=events.mission,
        instrument=events.instrument,
        obs_id=str(header["OBS_ID"]).strip() if "OBS_ID" in header else None,
        object=str(header["OBJECT"]).strip() if "OBJECT" in header else None,
        coordinates="sky",
        sort_times=options.sort_times,
        gti_hdu=options.gti_hdu,
        energy_unit=read.energy_unit,
        time_shift_s=read.time_shift_s,
        time_tag_fix=events.time_tag_fix,
        checksum=read.checksum,
        created_at=utc_now(),
        code_version=CODE_VERSION,
    )


def apparent_spectrum(events: EventList, meta: DatasetMeta, processing: ProcessingParameters) -> ApparentSpectrum | None:
    """The §12 fit on the processing's band and selection, or None when it cannot be fitted.

    A raw file whose photons barely reach the band (e.g. hard X-ray data) is still a valid
    dataset, so a failed fit is logged, not raised; fit warnings are logged too.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LightlaneWarning)
            fit = fit_selected_spectrum(events, processing)  # onboarded events are in sky coordinates
    except DataError as exc:
        log.warning("%s: apparent spectrum not fitted: %s", meta.id, exc)
        return None
    for warning in caught:
        log.warning("%s: apparent spectrum: %s", meta.id, warning.message)
    return fit.to_apparent_spectrum()


def parse_calibration_params(text: str) -> dict[str, float]:
    """``--calibration-params`` JSON, checked strictly (unknown keys, types, slope > 0)."""
    source = "--calibration-params"
    params = from_json(LinearCalibration, loads(text, source), Context(source))
    return {"offset_kev": params.offset_kev, "slope_kev": params.slope_kev}


def onboard_file(
    workspace: Workspace,
    source: str | os.PathLike[str],
    dataset_id: str,
    options: OnboardOptions | None = None,
    **option_values: object,
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
    options
        Reading and placement options; keyword arguments of the same names
        (``calibration=``, ``link=``, ``energy_unit=`` ...) may be given instead.

    Returns
    -------
    DatasetMeta
        The metadata written to ``meta/datasets/<id>.json``.

    Raises
    ------
    MetadataError, DataError
        Bad id, existing id, unreadable file, checksum mismatch, a ``--link`` target
        inside the workspace's generated folders; the workspace is left unchanged.

    Examples
    --------
    >>> onboard_file(Workspace.at("obs"), "acisf10027_evt2.fits", "m82")  # doctest: +SKIP
    """
    options = replace(options or OnboardOptions(), **option_values)  # type: ignore[arg-type]
    workspace.require_initialised()
    source = Path(source)
    complete_interrupted_onboards(workspace)
    _check_new_id(workspace, dataset_id)
    if source.is_dir():
        raise DataError(f"{source}: is a folder; give the event file itself")
    if not source.is_file():
        raise DataError(f"{source}: file not found")
    if options.link:
        _check_link_target(workspace, source)
    processing_params = workspace.load(ProcessingParameters, options.processing or "default")
    events = read_events(
        source, options.calibration, dataset_id=dataset_id, calibration_params=options.calibration_params,
        sort_times=options.sort_times, gti_hdu=options.gti_hdu, energy_unit=options.energy_unit,
        time_tag_fix=None if options.hrc_time_fix else False, verify_checksum=options.verify_checksum,
    )
    sha256 = file_sha256(source)

    raw_dir = workspace.raw_dir(dataset_id)
    event_file = workspace.relative(raw_dir / source.name)
    meta = _dataset_meta(events, dataset_id, event_file, sha256, options)
    meta = replace(meta, apparent_spectrum=apparent_spectrum(events, meta, processing_params))
    staging = raw_dir.with_name(f"{_STAGING}{dataset_id}-{secrets.token_hex(4)}")
    try:
        staging.mkdir(parents=True)
        _place_file(source, staging / source.name, options.link)
        if file_sha256(staging / source.name) != sha256:
            raise DataError(f"{source}: the file changed while it was being onboarded")
        workspace.save(meta)
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            catalog.insert_dataset(cursor, {
                "id": dataset_id, "kind": "raw", "event_file": event_file, "file_sha256": sha256,
                "events_hash": events.events_hash(), "parent_id": None, "generation_id": None,
                "tasks_json": json.dumps([]), "seed": meta.dither_seed, "created_at": meta.created_at,
            })
        os.rename(staging, raw_dir)  # the dataset exists from here on
    except BaseException:
        _undo_onboard(workspace, dataset_id, staging)
        raise
    return meta
