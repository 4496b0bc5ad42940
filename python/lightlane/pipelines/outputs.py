"""Writing the final A and B of a task chain (SPEC §4.2, §6.4, §7.6, §8, §9).

Only the last event set of each chain is written. A chain without ``generate`` becomes a
*derived* dataset named ``<pipeline>_a`` / ``<pipeline>_b`` (``_r<index>`` for kept
baseline runs) in ``data/derived/``; a chain containing ``generate`` becomes a *synthetic*
dataset with an 8-hex provenance id (:func:`lightlane.datasets.synthetic.provenance_digest`,
:func:`lightlane.datasets.synthetic.synthetic_id`) in ``data/synthetic/``, its resolved generation
saved under the same id.

Both kinds store WAVELENGTH exactly as the chain's analysis used it and are read back with
the ``stored-wavelength`` calibration, so later tasks (flatten, lcpreserve, …) survive the
round trip bit for bit (SPEC §6.3). A task output that already exists is replaced as a
whole: every file is first written under a temporary name, read back and checked
(``events_hash``); only then are the files renamed into place and the catalog row
replaced. On any failure the previous version is restored and whatever this call wrote
is removed.

Runs split this in two (SPEC §4.1): :func:`stage_task_output` leaves the checked files
under staging names next to their targets, the run's recording transaction registers
them (:func:`record_task_output`) and only then :func:`install_staged` renames them in,
so a repeated run never disturbs the previous A and B before it is recorded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..datasets.onboard import apparent_spectrum
from ..datasets.synthetic import provenance_digest, synthetic_id
from ..events.event_list import EventList
from ..events.reading import read_events
from ..events.writing import provenance_keywords, write_event_file
from ..exceptions import DataError, MetadataError
from ..metadata import (
    DatasetMeta,
    DatasetTime,
    GenerationParameters,
    ProcessingParameters,
    TaskSpec,
    is_valid_id,
    save_document,
    to_json,
)
from ..metadata.values import MAX_SEED
from ..store.atomic import temp_name
from ..store.catalog import Catalog, utc_now
from ..store.hashing import file_sha256
from ..store.workspace import Workspace
from ..version import CODE_VERSION

__all__ = ["MAX_PIPELINE_ID_LENGTH", "task_output_id", "write_task_output", "TaskOutput",
           "stage_task_output", "record_task_output", "staged_name", "install_staged", "planned_output_id"]

log = logging.getLogger("lightlane.derived")

#: Pipeline ids are at most 48 characters so that derived ids fit in 64 (SPEC §4.2).
MAX_PIPELINE_ID_LENGTH = 48

#: The calibration of every task output: WAVELENGTH is stored as the analysis used it.
_STORED = "stored-wavelength"


def task_output_id(pipeline_id: str, side: Literal["a", "b"], run_index: int = 0) -> str:
    """The id of a non-synthetic task output (SPEC §4.2).

    Parameters
    ----------
    pipeline_id
        The pipeline id (``[a-z0-9_-]``, at most 48 characters).
    side
        ``"a"`` or ``"b"``.
    run_index
        0 for the main run; baseline runs kept with ``--keep-data`` use 1, 2, …

    Returns
    -------
    str
        ``<pipeline>_<side>`` for run 0, else ``<pipeline>_<side>_r<index>``.

    Raises
    ------
    MetadataError
        An invalid pipeline id, side or run index.

    Examples
    --------
    >>> task_output_id("m82_vs_poisson", "a")
    'm82_vs_poisson_a'
    >>> task_output_id("m82_vs_poisson", "b", 3)
    'm82_vs_poisson_b_r3'
    """
    if not isinstance(pipeline_id, str) or not is_valid_id(pipeline_id) or len(pipeline_id) > MAX_PIPELINE_ID_LENGTH:
        raise MetadataError(f"pipeline id {pipeline_id!r}: expected [a-z0-9_-]{{1,{MAX_PIPELINE_ID_LENGTH}}}")
    if side not in ("a", "b"):
        raise MetadataError(f"side: expected 'a' or 'b', got {side!r}")
    if isinstance(run_index, bool) or not isinstance(run_index, (int, np.integer)) or run_index < 0:
        raise MetadataError(f"run index: expected an integer ≥ 0, got {run_index!r}")
    suffix = f"_r{int(run_index)}" if run_index else ""
    return f"{pipeline_id}_{side}{suffix}"


def _has_generate(events: EventList) -> bool:
    return events.generation is not None or any(task.name == "generate" for task in events.tasks)


def _header_text(events: EventList, key: str) -> str | None:
    value = events.header.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _checked_seed(run_seed: object) -> int:
    if isinstance(run_seed, bool) or not isinstance(run_seed, (int, np.integer)) or not 0 <= int(run_seed) <= MAX_SEED:
        raise MetadataError(f"run seed: expected an integer in [0, 2^63 − 1], got {run_seed!r}")
    return int(run_seed)


@contextlib.contextmanager
def _installed(staged: Sequence[tuple[Path, Path]]) -> Iterator[None]:
    """Rename every ``(temporary, target)`` into place; undo all of it if the block fails.

    An existing target is first hard-linked (or copied) to a backup name, so the old
    version comes back on failure. Backups and leftover temporaries are always removed.
    """
    backups: dict[Path, Path] = {}
    installed: list[Path] = []
    try:
        for tmp, target in staged:
            if target.exists():
                backup = temp_name(target)
                try:
                    os.link(target, backup)
                except OSError:
                    shutil.copy2(target, backup)
                backups[target] = backup
            os.replace(tmp, target)
            installed.append(target)
        yield
    except BaseException:
        for target in reversed(installed):
            backup = backups.pop(target, None)
            if backup is not None:
                os.replace(backup, target)
            else:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
        raise
    finally:
        for backup in backups.values():
            with contextlib.suppress(FileNotFoundError):
                backup.unlink()
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _catalog_events_hash(workspace: Workspace, dataset_id: str) -> str | None:
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.dataset_row(dataset_id)
    return None if row is None else row["events_hash"]


def _existing_synthetic(workspace: Workspace, dataset_id: str, ev_hash: str) -> DatasetMeta | None:
    """The stored dataset with this provenance if it is complete and holds these events."""
    meta = workspace.load(DatasetMeta, dataset_id)
    recorded = _catalog_events_hash(workspace, dataset_id)
    if recorded is not None and recorded != ev_hash:
        raise DataError(
            f"meta/datasets/{dataset_id}.json: a dataset with the same provenance (resolved generation and "
            f"task chain) holds different events (events_hash {recorded[:12]}… ≠ {ev_hash[:12]}…)"
        )
    path = workspace.path(meta.event_file)
    if recorded is None or not path.is_file() or file_sha256(path) != meta.file_sha256:
        return None  # incomplete: write it again under the same id
    return meta


@dataclass(frozen=True)
class TaskOutput:
    """A written task output and the catalog row that registers it (None: already registered).

    ``staged`` holds the (staging file, target) pairs of a staged output, still to be
    installed with :func:`install_staged` once the catalog row is committed.
    """

    meta: DatasetMeta
    catalog_row: dict[str, Any] | None
    staged: tuple[tuple[Path, Path], ...] = ()


def staged_name(target: Path, staging: str) -> Path:
    """``<target>.<staging>``: a staging file in the target's folder (same file system, so renames are atomic)."""
    return target.with_name(f"{target.name}.{staging}")


def install_staged(staged: Sequence[tuple[Path, Path]]) -> None:
    """Rename staged files over their targets, in order (each rename is atomic; run after the catalog commit)."""
    for tmp, target in staged:
        os.replace(tmp, target)


def record_task_output(catalog: Catalog, cursor: Any, output: TaskOutput) -> None:
    """Register a staged task output inside the caller's catalog transaction."""
    if output.catalog_row is not None:
        catalog.insert_dataset(cursor, output.catalog_row, replace=True)  # a re-run replaces the row


def stage_task_output(workspace: Workspace, events: EventList, *, staging: str, **options: Any) -> TaskOutput:
    """:func:`write_task_output` without the catalog write and without installing, for runs (SPEC §4.1, §19).

    The checked files stay under :func:`staged_name` (``staging`` is the run attempt's
    token) and are listed in ``TaskOutput.staged``: the client registers them with
    :func:`record_task_output` in the transaction that records the run, then installs
    them with :func:`install_staged`. Until then the previous output stays as it was.
    """
    return _write_task_output(workspace, events, register=False, staging=staging, **options)


def write_task_output(workspace: Workspace, events: EventList, **options: Any) -> DatasetMeta:
    """Write the final event set of an A or B chain as a dataset (SPEC §8, §9); see :func:`_write_task_output`."""
    return _write_task_output(workspace, events, register=True, **options).meta


def planned_output_id(workspace: Workspace, events: EventList, *, pipeline_id: str, side: Literal["a", "b"],
                      run_index: int = 0) -> str:
    """The id :func:`stage_task_output` gives these events, known before the (slow) write.

    A run names its analyses and figure titles with it while the files are still being written.
    """
    if _has_generate(events) and events.generation is not None:
        return synthetic_id(workspace, provenance_digest(events.generation, tuple(events.tasks)))[0]
    return task_output_id(pipeline_id, side, run_index)


def _write_task_output(
    workspace: Workspace,
    events: EventList,
    *,
    pipeline_id: str,
    side: Literal["a", "b"],
    processing: ProcessingParameters,
    run_seed: int,
    run_index: int = 0,
    parent_id: str | None,
    label: str = "",
    register: bool,
    staging: str | None = None,
) -> TaskOutput:
    """Write the final event set of an A or B chain as a dataset (SPEC §8, §9).

    Parameters
    ----------
    workspace
        An initialised workspace; the caller holds its lock.
    events
        The chain's output (:func:`lightlane.pipelines.tasks.apply_chain`); ``events.tasks`` is the
        chain with its arguments, ``events.generation`` the resolved generation of a
        ``generate`` task. Never modified.
    pipeline_id
        The pipeline the chain belongs to (names non-synthetic outputs).
    side
        ``"a"`` or ``"b"``.
    processing
        The processing in effect: the apparent spectrum is fitted on its band and
        selection (as :func:`lightlane.datasets.onboard.apparent_spectrum` does).
    run_seed
        The run seed, recorded as ``LLSEED`` and in the catalog's ``seed`` column.
    run_index
        0 for the main run, ≥ 1 for a baseline run kept with ``--keep-data``.
    parent_id
        The source dataset (None for a generation source).
    label
        Display name stored in the DatasetMeta.
    register
        Also write the catalog row (a failure then restores the previous files). Without it
        the files are left staged (see :func:`stage_task_output`).
    staging
        The token of staged file names (:func:`staged_name`); None for temporary names.

    Returns
    -------
    TaskOutput
        The metadata now in ``meta/datasets/<id>.json`` and its catalog row. For a chain
        with ``generate`` whose provenance is already stored (same events), the existing
        metadata and no row.

    Raises
    ------
    MetadataError
        Invalid pipeline id, side, run index or seed; an existing dataset of another kind
        under the derived id; a ``generate`` chain without its resolved generation.
    DataError
        No events or GTIs, or the file read back differs from the events in memory.
        The workspace then holds what it held before the call.

    Examples
    --------
    >>> a = apply_chain(pipeline.a_tasks, source, processing, run_seed, 0, workspace=ws)  # doctest: +SKIP
    >>> meta = write_task_output(ws, a, pipeline_id="m82_vs_poisson", side="a",
    ...                          processing=processing, run_seed=run_seed, parent_id="m82")  # doctest: +SKIP
    >>> meta.id  # doctest: +SKIP
    'm82_vs_poisson_a'
    """
    workspace.require_initialised()
    derived_id = task_output_id(pipeline_id, side, run_index)
    seed = _checked_seed(run_seed)
    if parent_id is not None and not is_valid_id(parent_id):
        raise MetadataError(f"parent id {parent_id!r}: expected [a-z0-9_-]{{1,64}}")
    if events.count == 0:
        raise DataError(f"{derived_id}: the chain left no events to write")
    if len(events.gti) == 0:
        raise DataError(f"{derived_id}: the chain's events have no good time intervals")
    tasks: tuple[TaskSpec, ...] = tuple(events.tasks)
    task_json = [to_json(task) for task in tasks]
    ev_hash = events.events_hash()

    synthetic = _has_generate(events)
    resolved: GenerationParameters | None = None
    if synthetic:
        if events.generation is None:
            raise MetadataError(f"{derived_id}: the chain contains 'generate' but carries no resolved generation")
        dataset_id, exists = synthetic_id(workspace, provenance_digest(events.generation, tasks))
        if exists:
            existing = _existing_synthetic(workspace, dataset_id, ev_hash)
            if existing is not None:
                return TaskOutput(existing, None)
        resolved = replace(events.generation, id=dataset_id)
        kind: Literal["derived", "synthetic"] = "synthetic"
        event_file = f"data/synthetic/{dataset_id}.fits"
    else:
        dataset_id, kind, event_file = derived_id, "derived", f"data/derived/{derived_id}.fits"
        if workspace.exists(DatasetMeta, dataset_id):
            previous = workspace.load(DatasetMeta, dataset_id)
            if previous.kind != "derived":
                raise MetadataError(f"meta/datasets/{dataset_id}.json: a {previous.kind} dataset already has the id "
                                    f"{dataset_id!r}; it is never overwritten by a task output")
    generation_id = dataset_id if synthetic else None

    obs_id, obj = _header_text(events, "OBS_ID"), _header_text(events, "OBJECT")
    keywords: dict[str, Any] = {
        "TELESCOP": events.mission, "INSTRUME": events.instrument,
        "OBS_ID": obs_id or "", "OBJECT": obj or (label or dataset_id if synthetic else ""),
        "MJDREF": 0.0 if events.mjdref is None else float(events.mjdref),
        **provenance_keywords(dataset_id=dataset_id, parent_id=parent_id, generation_id=generation_id,
                              seed=seed, events_hash=ev_hash, tasks=task_json),
    }

    def temporary(path: Path) -> Path:
        return temp_name(path) if staging is None else staged_name(path, staging)

    target = workspace.path(event_file)
    fits_tmp = temporary(target)
    staged: list[tuple[Path, Path]] = []
    try:
        write_event_file(fits_tmp, events.events, np.asarray(events.gti), keywords)
        staged.append((fits_tmp, target))
        back = read_events(fits_tmp, _STORED, dataset_id=dataset_id, display_name=event_file)
        if back.events_hash() != ev_hash:
            raise DataError(f"{event_file}: events read back differ from those written (events_hash mismatch)")
        meta = _task_meta(back, events, dataset_id=dataset_id, kind=kind, event_file=event_file,
                          sha256=file_sha256(fits_tmp), parent_id=parent_id, generation_id=generation_id,
                          tasks=tasks, label=label, obs_id=obs_id, obj=obj)
        meta = replace(meta, apparent_spectrum=apparent_spectrum(back, meta, processing))
        if resolved is not None:
            generation_target = workspace.meta_path(GenerationParameters, dataset_id)
            generation_tmp = temporary(generation_target)
            staged.append((generation_tmp, generation_target))
            save_document(resolved, generation_tmp)
        meta_target = workspace.meta_path(DatasetMeta, dataset_id)
        meta_tmp = temporary(meta_target)
        staged.append((meta_tmp, meta_target))
        save_document(meta, meta_tmp)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise

    row = {
        "id": dataset_id, "kind": kind, "event_file": event_file, "file_sha256": meta.file_sha256,
        "events_hash": ev_hash, "parent_id": parent_id, "generation_id": generation_id,
        "tasks_json": json.dumps(task_json, sort_keys=True), "seed": seed, "created_at": meta.created_at,
    }
    if not register:
        return TaskOutput(meta, row, tuple(staged))
    output = TaskOutput(meta, row)
    with _installed(staged), Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
        record_task_output(catalog, cursor, output)
    return output


def _task_meta(back: EventList, events: EventList, *, dataset_id: str, kind: Literal["derived", "synthetic"],
               event_file: str, sha256: str, parent_id: str | None, generation_id: str | None,
               tasks: tuple[TaskSpec, ...], label: str, obs_id: str | None, obj: str | None) -> DatasetMeta:
    """The DatasetMeta of a task output, from the events read back (apparent spectrum not yet fitted)."""
    return DatasetMeta(
        id=dataset_id, kind=kind, event_file=event_file, file_sha256=sha256, synthetic=kind == "synthetic",
        time=DatasetTime(
            tstart_s=back.tstart_s, tstop_s=back.tstop_s, gti_count=len(back.gti), exposure_s=back.exposure_s,
            header_tstart_s=back.tstart_s, header_tstop_s=back.tstop_s, mjdref=events.mjdref,
        ),
        event_count=back.events.height, energy_calibration=_STORED, label=label,
        mission=events.mission, instrument=events.instrument, obs_id=obs_id, object=obj,
        generation_id=generation_id, parent_id=parent_id, tasks=tasks, coordinates=events.coordinates,
        channel_column=None, time_tag_fix=events.time_tag_fix, created_at=utc_now(), code_version=CODE_VERSION,
    )
