"""Reading a registered dataset back, exactly as it was onboarded (SPEC §5.2, §6.3)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from ..events.event_list import EventList
from ..events.reading import read_events
from ..exceptions import DataError
from ..metadata import DatasetMeta
from ..metadata.schema import to_json
from ..store.hashing import file_sha256
from ..store.workspace import Workspace

__all__ = ["read_dataset"]

#: Files hashed by this process, by identity and change time: a baseline reads its source
#: once per run, and any write to the file (or to its metadata) changes st_ctime_ns.
_HASHED: dict[tuple[str, int, int, int, int, int], str] = {}


def _verified_sha256(path: Path) -> str:
    """The file's SHA-256, hashed once per process while the file stays unchanged."""
    info = path.stat()
    key = (str(path.resolve()), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _HASHED:
        _HASHED[key] = file_sha256(path)
    return _HASHED[key]


def read_dataset(workspace: Workspace, dataset_id: str, *, require_xy: bool = False,
                 columns: Collection[str] | None = None) -> EventList:
    """Read a dataset's events with the settings recorded in its DatasetMeta.

    The file's SHA-256 is checked first, so a file changed since onboarding is
    never analysed; the dithering stream is keyed by the dataset id, so every
    read gives bit-identical wavelengths.

    Parameters
    ----------
    workspace
        The workspace holding ``meta/datasets/<dataset_id>.json``.
    dataset_id
        The dataset to read.
    require_xy
        Raise when X/Y are missing (crop and mask need them).
    columns
        Keep only these optional columns (see :func:`read_events`); None keeps all.

    Returns
    -------
    EventList
        With the dataset's id, coordinates, mission, instrument and MJDREF as recorded.

    Raises
    ------
    MetadataError
        Unknown id or invalid metadata.
    DataError
        Missing file, hash mismatch, or unreadable events.

    Examples
    --------
    >>> events = read_dataset(Workspace.at("obs"), "m82")  # doctest: +SKIP
    """
    meta = workspace.load(DatasetMeta, dataset_id)
    path = workspace.path(meta.event_file)
    if not path.is_file():
        raise DataError(f"{meta.event_file}: event file of dataset {dataset_id!r} is missing")
    actual = _verified_sha256(path)
    if actual != meta.file_sha256:
        raise DataError(
            f"{meta.event_file}: SHA-256 {actual[:12]}… differs from file_sha256 {meta.file_sha256[:12]}… "
            f"recorded in meta/datasets/{dataset_id}.json; the file changed after onboarding"
        )
    params = to_json(meta.calibration_params) if meta.calibration_params is not None else None
    events = read_events(
        path, meta.energy_calibration, dataset_id=meta.id, dither_seed=meta.dither_seed, calibration_params=params,
        channel_column=meta.channel_column, sort_times=meta.sort_times, require_xy=require_xy,
        columns=columns, display_name=meta.event_file, gti_hdu=meta.gti_hdu, energy_unit=meta.energy_unit,
        # Only raw files get the HRC fix at read time; task outputs already hold fixed times.
        time_tag_fix=meta.kind == "raw" and meta.time_tag_fix is not None,
    )
    assert events.read is not None  # a file read always reports itself
    if events.read.time_shift_s != meta.time_shift_s:
        raise DataError(f"{meta.event_file}: time-tag shift {events.read.time_shift_s!r} s differs from time_shift_s "
                        f"{meta.time_shift_s!r} recorded in meta/datasets/{dataset_id}.json")
    # The catalog's facts win over the file's: the dataset is what was onboarded.
    return replace(events, mission=meta.mission or events.mission, instrument=meta.instrument or events.instrument,
                   coordinates=meta.coordinates, source_id=dataset_id,
                   mjdref=meta.time.mjdref if meta.time.mjdref is not None else events.mjdref,
                   time_tag_fix=meta.time_tag_fix)
