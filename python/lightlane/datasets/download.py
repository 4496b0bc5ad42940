"""Download an archive staging directory and onboard its event files (SPEC §17).

Every file below the start URL (:mod:`.remote`) is fetched into a staging folder
``data/raw/download-<8 hex of sha256(url)>/`` that mirrors the listing's layout;
``.tar`` and ``.tar.gz`` archives are unpacked next to themselves (:mod:`.archives`);
each ``*_evt2.fits(.gz)`` found is then onboarded under its own dataset id.
A re-run resumes: complete files are skipped, ``.part`` files continued, and
datasets already onboarded from the same bytes are reused.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
import re
import shutil
import sys
import threading
from glob import escape as glob_escape
from pathlib import Path
from urllib.parse import urlsplit

from ..exceptions import DataError, DownloadError, MetadataError
from ..metadata import DatasetMeta, is_valid_id
from ..store.hashing import file_sha256
from ..store.workspace import Workspace
from .archives import archive_stem, safe_unpack
from .onboard import onboard_file
from .remote import PART_SUFFIX, Limits, fetch_file, list_remote_files

__all__ = ["check_url", "download", "staging_id", "find_event_files"]

log = logging.getLogger("lightlane.download")

_EVT2_SUFFIXES = ("_evt2.fits", "_evt2.fits.gz")


# --------------------------------------------------------------------------- event files
def _is_evt2(name: str) -> bool:
    return name.lower().endswith(_EVT2_SUFFIXES)


def _is_work_file(path: Path, root: Path) -> bool:
    """Partial downloads and half-unpacked temporary folders are never event files."""
    return path.name.endswith(PART_SUFFIX) or any(".tmp-" in part for part in path.relative_to(root).parts)


def find_event_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``*_evt2.fits`` / ``*_evt2.fits.gz`` files under ``folder``.

    Parameters
    ----------
    folder : path-like
        The staging folder (downloads and unpacked archives).

    Returns
    -------
    list of Path
        When some lie under a folder named ``primary``, only those. Copies of one
        file (same name with and without ``.gz``, or the same name in several
        places) count once; the uncompressed one, then the shortest path, wins.
        Sorted by path, so repeated calls number datasets the same way.

    Examples
    --------
    >>> find_event_files("data/raw/download-1a2b3c4d")  # doctest: +SKIP
    [PosixPath('data/raw/download-1a2b3c4d/primary/acisf12345N001_evt2.fits.gz')]
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    found = [p for p in root.rglob("*") if p.is_file() and _is_evt2(p.name) and not _is_work_file(p, root)]
    primary = [p for p in found if "primary" in (part.lower() for part in p.relative_to(root).parts[:-1])]
    candidates = primary or found
    best: dict[str, Path] = {}
    for path in sorted(candidates, key=lambda p: (p.name.lower().endswith(".gz"), len(p.parts), str(p))):
        key = path.name.lower().removesuffix(".gz")
        best.setdefault(key, path)
    return sorted(best.values())


def _read_obs_id(path: Path) -> str | None:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdus:
            headers = [hdus[0].header]
            if "EVENTS" in hdus:
                headers.append(hdus["EVENTS"].header)
            for header in headers:
                value = header.get("OBS_ID")
                if value is not None and str(value).strip():
                    return str(value).strip()
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the FITS headers: {exc}") from None
    return None


def _id_from_obs_id(obs_id: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]+", "_", obs_id.lower()).strip("_")
    return f"obs{cleaned}"[:56]


def _suffixed(base: str, n: int) -> str:
    return base if n == 1 else f"{base}_{n}"


def _check_id(dataset_id: str) -> None:
    if not (is_valid_id(dataset_id) and len(dataset_id) <= 60):
        raise MetadataError(f"--id: invalid id {dataset_id!r} (expected [a-z0-9_-]{{1,60}})")


def _base_ids(files: list[Path], dataset_id: str | None) -> list[str]:
    if dataset_id is not None:
        _check_id(dataset_id)
        return [dataset_id] * len(files)
    bases = []
    for path in files:
        obs_id = _read_obs_id(path)
        if obs_id is None:
            raise DataError(f"{path}: no OBS_ID keyword in the primary or EVENTS header; give --id")
        bases.append(_id_from_obs_id(obs_id))
    return bases


# --------------------------------------------------------------------------- the command
def check_url(url: str) -> str:
    """Refuse a start URL no attempt could fetch, before anything is written.

    Parameters
    ----------
    url : str
        The ``download`` argument.

    Returns
    -------
    str
        ``url``, unchanged.

    Raises
    ------
    MetadataError
        Not ``http``/``https``, no host, a bad port or IPv6 literal, spaces or control characters.

    Examples
    --------
    >>> check_url("ftp://example.org/obs/")
    Traceback (most recent call last):
    ...
    lightlane.exceptions.MetadataError: URL 'ftp://example.org/obs/': expected an http:// or https:// address of an archive staging directory
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range", a non-numeric port
        raise MetadataError(f"URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise MetadataError(f"URL {url!r}: expected an http:// or https:// address of an archive staging directory")
    if not parts.hostname:
        raise MetadataError(f"URL {url!r}: no host name")
    if port == 0:
        raise MetadataError(f"URL {url!r}: port 0 cannot be connected to")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise MetadataError(f"URL {url!r}: spaces and control characters must be percent-encoded")
    return url


def staging_id(url: str) -> str:
    """The staging folder name for ``url``: ``download-`` and 8 hex of its SHA-256.

    Examples
    --------
    >>> staging_id("http://example.org/obs/")
    'download-343a8343'
    """
    return "download-" + hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:8]


def _show_progress(quiet: bool) -> bool:
    if quiet:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """One byte counter shared by the download threads."""

    def __init__(self, enabled: bool, count: int) -> None:
        self._lock = threading.Lock()
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                             desc=f"download ({count} file{'s' if count != 1 else ''})", leave=False)

    def update(self, n: int) -> None:
        if self._bar is not None and n:
            with self._lock:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _onboard_all(workspace: Workspace, files: list[Path], bases: list[str], explicit: bool) -> list[DatasetMeta]:
    """Onboard each file under its base id (``_2``, ``_3`` ... on repeats); reuse identical datasets."""
    results: list[DatasetMeta] = []
    taken: set[str] = set()
    counts: dict[str, int] = {}
    for path, base in zip(files, bases):
        digest = file_sha256(path)
        n = counts.get(base, 0)
        while True:
            n += 1
            candidate = _suffixed(base, n)
            if len(candidate) > 64:
                raise MetadataError(f"no free dataset id for {path} (tried up to {candidate!r})")
            if candidate in taken:
                continue
            if not workspace.exists(DatasetMeta, candidate):
                break
            if workspace.load(DatasetMeta, candidate).file_sha256 == digest:
                break  # onboarded by an earlier run of this download
            if explicit:
                raise MetadataError(
                    f"meta/datasets/{candidate}.json: dataset id {candidate!r} already exists with other data; "
                    "choose another --id"
                )
        counts[base] = n
        taken.add(candidate)
        if workspace.exists(DatasetMeta, candidate):
            log.info("%s: already onboarded as %s", path, candidate)
            results.append(workspace.load(DatasetMeta, candidate))
        else:
            log.info("%s: onboarding as %s", path, candidate)
            results.append(onboard_file(workspace, path, candidate))
    return results


def download(
    workspace: Workspace,
    url: str,
    *,
    dataset_id: str | None = None,
    jobs: int = 4,
    retries: int = 3,
    quiet: bool = False,
    backoff_s: float = 0.5,
    timeout_s: float = 30.0,
    limits: Limits = Limits(),
) -> list[DatasetMeta]:
    """Download an archive staging directory and onboard its ``*_evt2`` event files.

    Parameters
    ----------
    workspace : Workspace
        An initialised workspace; the caller holds its lock.
    url : str
        An HTML directory listing (``http``/``https``); every file below it is
        fetched, sub-listings included.
    dataset_id : str, optional
        Id of the (first) dataset; default ``obs<OBS_ID>``. Further event files
        get ``_2``, ``_3`` ...
    jobs : int
        Parallel file downloads.
    retries : int
        Extra attempts per request after the first.
    quiet : bool
        Never show the progress bar (it is shown on a TTY stderr otherwise).
    backoff_s : float
        Base delay of the exponential back-off between attempts, in seconds.
    timeout_s : float
        Socket timeout of each request, in seconds.
    limits : Limits
        Deadline (``--timeout``) and minimum transfer rate (``--min-rate``) of each file.

    Returns
    -------
    list of DatasetMeta
        The onboarded datasets, in event-file path order (already onboarded
        ones from an earlier run of the same command are returned as they are).

    Raises
    ------
    DownloadError
        A listing or file could not be fetched after all retries; complete
        files and ``.part`` files stay for the next run.
    DataError
        An unsafe or broken archive, no event file found, or an event file the
        onboarding rejects.
    MetadataError
        A malformed URL, an invalid ``dataset_id``, or one already used by other data.

    Notes
    -----
    Files land in ``data/raw/download-<8 hex of sha256(url)>/`` mirroring the
    listing; each event file is then onboarded, which copies it into
    ``data/raw/<dataset id>/``. Re-running the same command resumes.

    Examples
    --------
    >>> ws = Workspace.at("work")  # doctest: +SKIP
    >>> with ws.lock():  # doctest: +SKIP
    ...     metas = download(ws, "https://cxc.cfa.harvard.edu/cdaftp/byobsid/5/12345/")
    >>> [m.id for m in metas]  # doctest: +SKIP
    ['obs12345']
    """
    check_url(url)
    if jobs < 1:
        raise MetadataError(f"--jobs: expected integer ≥ 1, got {jobs}")
    if retries < 0:
        raise MetadataError(f"--retries: expected integer ≥ 0, got {retries}")
    if dataset_id is not None:
        _check_id(dataset_id)
    workspace.require_initialised()
    staging = workspace.raw_dir(staging_id(url))
    remote = list_remote_files(url, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s, limits=limits)
    log.info("%s: %d file(s) into %s", url, len(remote), workspace.relative(staging))

    progress = _Progress(_show_progress(quiet), len(remote))
    failures: list[BaseException] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="lightlane-dl") as pool:
            futures = [
                pool.submit(fetch_file, item.url, staging.joinpath(*item.relative_path.split("/")),
                            retries=retries, backoff_s=backoff_s, timeout_s=timeout_s, progress=progress.update,
                            limits=limits)
                for item in remote
            ]
            for future in futures:  # every file gets its chance; errors are raised afterwards
                exc = future.exception()
                if exc is not None:
                    failures.append(exc)
    finally:
        progress.close()
    if failures:
        first = failures[0]
        if len(failures) > 1 and isinstance(first, DownloadError):
            raise DownloadError(f"{first} (and {len(failures) - 1} more failed file(s); re-run to resume)") from None
        raise first

    for item in remote:
        stem = archive_stem(item.relative_path.rsplit("/", 1)[-1])
        if stem is None:
            continue
        archive = staging.joinpath(*item.relative_path.split("/"))
        destination = archive.with_name(stem)
        if destination.exists():
            continue  # unpacked by an earlier run (the rename is atomic)
        for stale in archive.parent.glob(f"{glob_escape(stem)}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed run; we hold the workspace lock
        log.info("%s: unpacking", workspace.relative(archive))
        safe_unpack(archive, destination)

    events = find_event_files(staging)
    if not events:
        raise DataError(
            f"{url}: no *_evt2.fits or *_evt2.fits.gz among the downloaded files in {workspace.relative(staging)}"
        )
    bases = _base_ids(events, dataset_id)
    return _onboard_all(workspace, events, bases, explicit=dataset_id is not None)
