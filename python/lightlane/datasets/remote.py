"""Download an archive staging directory and onboard its event files (SPEC §17).

The start URL is an HTML directory listing (as served by Apache or nginx for the
Chandra archive's staging area). Every file below it is fetched into a staging
folder ``data/raw/download-<8 hex of sha256(url)>/`` that mirrors the listing's
layout; ``.tar`` and ``.tar.gz`` archives are unpacked next to themselves after
checking every member; each ``*_evt2.fits(.gz)`` found is then onboarded under
its own dataset id.

Resuming: a file is written as ``<name>.part`` and renamed only after its size
matched ``Content-Length``, so a visible final name always means a complete
file. A re-run skips complete files and continues ``.part`` files with an HTTP
``Range`` request; datasets already onboarded from the same bytes are reused.

Nothing waits forever (SPEC §18 rev 2): each file has a deadline over all its
attempts (``--timeout``) and a minimum transfer rate (``--min-rate``, measured
over 30 s); a full disk is not retried. A compressed archive is read to its end
(its CRC checked) before a single member is extracted.
"""

from __future__ import annotations

import bz2
import concurrent.futures
import gzip
import hashlib
import http.client
import logging
import lzma
import math
import os
import re
import secrets
import shutil
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from glob import escape as glob_escape
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from .exceptions import DataError, DownloadError, LightlaneError, MetadataError
from .metadata import DatasetMeta, is_valid_id
from .version import CODE_VERSION
from .workspace import Workspace

__all__ = [
    "RemoteFile",
    "Limits",
    "check_url",
    "download",
    "staging_id",
    "parse_listing",
    "list_remote_files",
    "fetch_file",
    "safe_unpack",
    "find_event_files",
    "dataset_ids_for",
]

log = logging.getLogger("lightlane.download")

PART_SUFFIX = ".part"
_BLOCK = 1 << 16
_MAX_DEPTH = 32
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_EVT2_SUFFIXES = ("_evt2.fits", "_evt2.fits.gz")
# Client errors that another attempt cannot fix; everything else (5xx, 408, 429,
# resets, timeouts, short bodies) is retried.
_PERMANENT_STATUS = frozenset({400, 401, 403, 404, 405, 410, 414, 451})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)
# Compressed tar streams: their checksum is verified only once the whole stream is read.
_COMPRESSED = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class Limits:
    """How long one file (or listing page) may take, every attempt included (SPEC §18 rev 2).

    Attributes
    ----------
    deadline_s : float
        Per-file deadline in seconds (``download --timeout``).
    min_rate_bytes_per_s : float
        A transfer slower than this over ``window_s`` is aborted and retried; 0: no minimum.
    window_s : float
        The stretch of time over which the rate is measured.

    Examples
    --------
    >>> Limits(deadline_s=60.0).window_s
    30.0
    """

    deadline_s: float = 600.0
    min_rate_bytes_per_s: float = 1000.0
    window_s: float = 30.0

    def __post_init__(self) -> None:
        for name, value, low in (("--timeout", self.deadline_s, None), ("--min-rate", self.min_rate_bytes_per_s, 0.0),
                                 ("rate window", self.window_s, None)):
            if not (math.isfinite(value) and (value >= low if low is not None else value > 0)):
                raise MetadataError(f"{name}: expected a finite number {'≥ 0' if low is not None else '> 0'}, "
                                    f"got {value!r}")


class _Pace:
    """One file's clock: the deadline over all its attempts and the minimum rate within each."""

    def __init__(self, limits: Limits, timeout_s: float) -> None:
        self.limits = limits
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + limits.deadline_s
        self.begin()

    def begin(self) -> None:
        """A new attempt: the rate is measured afresh."""
        self._since, self._bytes = time.monotonic(), 0

    def overdue(self) -> str:
        return f"not complete within the --timeout of {self.limits.deadline_s:g} s"

    def socket_timeout(self) -> float:
        """No single wait may outlast the deadline, nor (with a minimum rate) the rate window."""
        wait = min(self.timeout_s, max(self.deadline - time.monotonic(), 0.01))
        return min(wait, self.limits.window_s) if self.limits.min_rate_bytes_per_s > 0 else wait

    def tick(self, n: int) -> None:
        """Count ``n`` new bytes; raise when the deadline passed or the rate stayed too low."""
        now = time.monotonic()
        if now > self.deadline:
            raise _PermanentError(self.overdue())
        self._bytes += n
        span = now - self._since
        minimum = self.limits.min_rate_bytes_per_s
        if minimum > 0 and span >= self.limits.window_s:
            if self._bytes < minimum * span:
                raise _RetryableError(f"transfer rate {self._bytes / span:.0f} B/s stayed below the minimum of "
                                      f"{minimum:g} B/s for {span:.3g} s")
            self.begin()


@dataclass(frozen=True)
class RemoteFile:
    """One file found in a listing.

    Attributes
    ----------
    url : str
        Absolute URL of the file.
    relative_path : str
        ``/``-separated path below the start URL, already percent-decoded and
        checked to be safe as a local path.
    """

    url: str
    relative_path: str


class _PermanentError(Exception):
    """An HTTP answer that retrying cannot change (404, 403, ...)."""


class _RetryableError(Exception):
    """A failed attempt worth repeating (short body, bad range answer, ...)."""


def _read_all(response: http.client.HTTPResponse, pace: _Pace) -> bytes:
    """The whole body, block by block as it arrives, so the deadline and minimum rate are watched."""
    blocks = []
    while block := response.read1(_BLOCK):
        blocks.append(block)
        pace.tick(len(block))
    return b"".join(blocks)


# --------------------------------------------------------------------------- listing
class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() != "a":
            return
        for name, value in attrs:
            if name.lower() == "href" and value:
                self.hrefs.append(value.strip())


def _directory_url(url: str) -> str:
    return url if urlsplit(url).path.endswith("/") else url + "/"


def _is_below(link: str, base: str) -> bool:
    """True when ``link`` is strictly inside the directory URL ``base``."""
    a, b = urlsplit(link), urlsplit(base)
    return (
        a.scheme.lower() == b.scheme.lower()
        and a.netloc.lower() == b.netloc.lower()
        and a.path.startswith(b.path)
        and len(a.path) > len(b.path)
    )


def parse_listing(html: str, page_url: str, base_url: str | None = None) -> tuple[list[str], list[str]]:
    """Extract the files and sub-listings linked from one HTML directory listing.

    Parameters
    ----------
    html : str
        The listing page.
    page_url : str
        URL of the page, used to resolve relative links (treated as a directory).
    base_url : str, optional
        Only links strictly below this directory URL are kept; default ``page_url``.

    Returns
    -------
    files, listings : list of str
        Absolute URLs, without fragments, in page order and without duplicates.
        ``listings`` are the links ending in ``/``.

    Notes
    -----
    Ignored: links with a query string (the ``?C=N;O=D`` column-sorting links),
    pure fragments, the parent directory and anything outside ``base_url``
    (other hosts, other folders, ``mailto:`` ...).

    Examples
    --------
    >>> parse_listing('<a href="../">up</a><a href="a.fits">a</a><a href="sub/">s</a>', "http://h/x/")
    (['http://h/x/a.fits'], ['http://h/x/sub/'])
    """
    page = _directory_url(page_url)
    base = _directory_url(base_url) if base_url is not None else page
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    files: list[str] = []
    listings: list[str] = []
    seen: set[str] = set()
    for href in collector.hrefs:
        if href.startswith("#"):
            continue
        link, _fragment = urldefrag(urljoin(page, href))
        parts = urlsplit(link)
        if parts.query or parts.scheme.lower() not in ("http", "https"):
            continue
        if not _is_below(link, base) or link in seen:
            continue
        seen.add(link)
        (listings if parts.path.endswith("/") else files).append(link)
    return files, listings


def _relative_path(file_url: str, base: str, *, folder: bool = False) -> str:
    """Local relative path of ``file_url`` below ``base``; refuses anything unsafe."""
    tail = urlsplit(file_url).path[len(urlsplit(base).path):]
    parts = [unquote(p) for p in tail.split("/")]
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p or "\0" in p for p in parts):
        raise DownloadError(f"{file_url}: unsafe file name in the listing")
    if not folder and parts[-1].endswith(PART_SUFFIX):
        raise DownloadError(f"{file_url}: file names ending in {PART_SUFFIX!r} are reserved for partial downloads")
    return "/".join(parts)


# --------------------------------------------------------------------------- HTTP
def _request(url: str, headers: dict[str, str] | None = None, method: str | None = None) -> urllib.request.Request:
    merged = {"User-Agent": f"lightlane/{CODE_VERSION}"}
    merged.update(headers or {})
    return urllib.request.Request(url, headers=merged, method=method)


def _with_retries(url: str, attempt: Callable[[], object], retries: int, backoff_s: float,
                  sleep: Callable[[float], None], pace: _Pace) -> object:
    """Run ``attempt`` up to ``retries + 1`` times with exponential back-off, within ``pace``'s deadline."""
    last: BaseException | None = None
    for index in range(retries + 1):
        if index:
            delay = backoff_s * 2 ** (index - 1)
            if time.monotonic() + delay > pace.deadline:
                raise DownloadError(f"{url}: {pace.overdue()} (last attempt: {last}); re-run to resume")
            log.info("%s: attempt %d failed (%s); retrying in %.2f s", url, index, last, delay)
            if delay > 0:
                sleep(delay)
        pace.begin()
        try:
            return attempt()
        except LightlaneError:
            raise
        except _PermanentError as exc:
            raise DownloadError(f"{url}: {exc}") from None
        except ValueError as exc:  # http.client.InvalidURL, unknown url type: no attempt can fix those
            raise DownloadError(f"{url}: invalid URL: {exc}") from None
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in _PERMANENT_STATUS:
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            last = exc
        except (_RetryableError, OSError, http.client.HTTPException) as exc:
            last = exc
    raise DownloadError(f"{url}: download failed after {retries + 1} attempt(s): {last}")


def _fetch_listing(url: str, *, retries: int, backoff_s: float, timeout_s: float,
                   sleep: Callable[[float], None], limits: Limits) -> tuple[str, str, bool]:
    """GET one page; return (final URL, decoded text, whether it is HTML)."""
    pace = _Pace(limits, timeout_s)

    def attempt() -> tuple[str, str, bool]:
        with urllib.request.urlopen(_request(url), timeout=pace.socket_timeout()) as response:
            if response.headers.get_content_type() not in ("text/html", "application/xhtml+xml"):
                return response.geturl(), "", False  # a file, not a listing: fetched later with resume
            body = _read_all(response, pace)
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and len(body) != int(length):
                raise _RetryableError(f"got {len(body)} of {length} bytes")
            charset = response.headers.get_content_charset() or "utf-8"
            return response.geturl(), body.decode(charset, errors="replace"), True

    return _with_retries(url, attempt, retries, backoff_s, sleep, pace)  # type: ignore[return-value]


def list_remote_files(url: str, *, retries: int = 3, backoff_s: float = 0.5, timeout_s: float = 30.0,
                      sleep: Callable[[float], None] = time.sleep, limits: Limits = Limits()) -> list[RemoteFile]:
    """Walk an HTML directory listing and its sub-listings.

    Parameters
    ----------
    url : str
        The start listing. A URL that does not serve HTML is taken to be a
        single file.
    retries : int
        Extra attempts per page after the first.
    backoff_s : float
        Base delay of the exponential back-off between attempts.
    timeout_s : float
        Socket timeout of each request.
    sleep : callable
        Used to wait between attempts (tests may pass a no-op).
    limits : Limits
        Deadline and minimum rate of each page.

    Returns
    -------
    list of RemoteFile
        Every file below ``url``, sorted by relative path.

    Raises
    ------
    DownloadError
        A page could not be fetched, a file name is unsafe, or nothing was listed.

    Examples
    --------
    >>> files = list_remote_files("https://cxc.cfa.harvard.edu/cdaftp/byobsid/5/12345/")  # doctest: +SKIP
    """
    final_url, text, is_html = _fetch_listing(url, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                                              sleep=sleep, limits=limits)
    if not is_html and not urlsplit(url).path.endswith("/"):
        name = unquote(urlsplit(final_url).path.rsplit("/", 1)[-1])
        if not name or name in (".", "..") or name.endswith(PART_SUFFIX):
            raise DownloadError(f"{url}: cannot derive a file name from the URL")
        return [RemoteFile(final_url, name)]
    base = _directory_url(final_url)
    found: dict[str, RemoteFile] = {}
    visited = {base}
    pending: list[tuple[str, str, int]] = [(base, text, 0)]
    while pending:
        page_url, page_text, depth = pending.pop(0)
        files, listings = parse_listing(page_text, page_url, base)
        for file_url in files:
            relative = _relative_path(file_url, base)
            found.setdefault(relative, RemoteFile(file_url, relative))
        for sub in listings:
            if sub in visited or depth + 1 > _MAX_DEPTH:
                continue
            visited.add(sub)
            _relative_path(sub.rstrip("/"), base, folder=True)  # refuses unsafe folder names early
            sub_final, sub_text, _ = _fetch_listing(sub, retries=retries, backoff_s=backoff_s,
                                                    timeout_s=timeout_s, sleep=sleep, limits=limits)
            if not _is_below(_directory_url(sub_final), base):
                log.warning("%s: redirected outside %s; skipped", sub, base)
                continue
            pending.append((_directory_url(sub_final), sub_text, depth + 1))
    if not found:
        raise DownloadError(f"{url}: the listing links to no files below it")
    return [found[key] for key in sorted(found)]


def _remote_size(url: str, timeout_s: float) -> int | None:
    """Content-Length from a HEAD request, or None when unavailable."""
    try:
        with urllib.request.urlopen(_request(url, method="HEAD"), timeout=timeout_s) as response:
            length = response.headers.get("Content-Length")
    except urllib.error.HTTPError as exc:
        exc.close()
        return None
    except (OSError, http.client.HTTPException):
        return None
    return int(length) if length is not None and length.isdigit() else None


def _fsync_replace(source: Path, target: Path) -> None:
    fd = os.open(source, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(source, target)


def _local_failure(error: OSError, path: Path) -> _PermanentError:
    """A full disk or a read-only folder: another attempt would fail the same way."""
    return _PermanentError(f"{error.filename or path}: {error.strerror or error}")


def _one_transfer(url: str, part: Path, pace: _Pace, on_bytes: Callable[[int], None]) -> int:
    """One GET (resuming ``part`` when it has bytes); return the total size on success."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(_request(url, headers), timeout=pace.socket_timeout())
    except urllib.error.HTTPError as exc:
        content_range = exc.headers.get("Content-Range", "") if exc.headers else ""
        exc.close()
        if exc.code == 416 and offset:
            match = _UNSATISFIED_RANGE.search(content_range)
            if match and int(match.group(1)) == offset:
                return offset  # the .part already holds every byte
            on_bytes(-offset)
            part.unlink(missing_ok=True)
            raise _RetryableError(f"server refused to resume at byte {offset}; restarting") from None
        raise
    with response:
        length_header = response.headers.get("Content-Length")
        length = int(length_header) if length_header is not None and length_header.isdigit() else None
        if response.status == 206:
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                on_bytes(-offset)
                part.unlink(missing_ok=True)
                raise _RetryableError(f"unexpected Content-Range {response.headers.get('Content-Range')!r}")
            start, end, total_text = match.groups()
            total = int(total_text) if total_text != "*" else None
            expected = int(end) - int(start) + 1
            mode = "ab"
        else:
            # 200: the server ignored or did not get a Range header; start over.
            if offset:
                log.info("%s: server ignored the Range request; restarting from byte 0", url)
                on_bytes(-offset)
            offset, expected, total, mode = 0, length, length, "wb"
        received = 0
        try:
            handle = open(part, mode)
        except OSError as exc:
            raise _local_failure(exc, part) from None
        with handle:
            while block := response.read1(_BLOCK):
                try:
                    handle.write(block)
                except OSError as exc:
                    raise _local_failure(exc, part) from None
                received += len(block)
                on_bytes(len(block))
                pace.tick(len(block))
    if expected is not None and received != expected:
        raise _RetryableError(f"connection closed after {received} of {expected} bytes")
    size = part.stat().st_size
    if total is not None and size != total:
        if size > total:
            on_bytes(-size)
            part.unlink(missing_ok=True)
        raise _RetryableError(f"size {size} does not match the announced {total} bytes")
    return size


def fetch_file(url: str, target: str | os.PathLike[str], *, retries: int = 3, backoff_s: float = 0.5,
               timeout_s: float = 30.0, progress: Callable[[int], None] | None = None,
               sleep: Callable[[float], None] = time.sleep, limits: Limits = Limits()) -> Path:
    """Download ``url`` to ``target`` through ``<target>.part``, resuming when possible.

    Parameters
    ----------
    url : str
        The file to fetch.
    target : path-like
        Final path. It appears only once the whole file is there.
    retries : int
        Extra attempts after the first; the delay before attempt ``k`` (1-based
        retry) is ``backoff_s * 2**(k-1)``.
    backoff_s : float
        Base back-off delay in seconds.
    timeout_s : float
        Socket timeout of each request.
    progress : callable, optional
        Called with the number of new bytes (negative when bytes are discarded).
    sleep : callable
        Used to wait between attempts.
    limits : Limits
        The file's deadline (all attempts) and minimum transfer rate (each attempt).

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    DownloadError
        After the last failed attempt, at once for 404-like answers and local
        write failures (disk full), or when the deadline passed. The ``.part``
        file is kept so that the next call resumes.

    Notes
    -----
    An existing ``target`` is kept when the server's size (HEAD) agrees or is
    unknown; a different size raises, since raw files are never modified.

    Examples
    --------
    >>> fetch_file("http://127.0.0.1:8000/a.fits", "data/raw/x/a.fits", backoff_s=0.0)  # doctest: +SKIP
    """
    target = Path(target)
    on_bytes = progress or (lambda _n: None)
    if target.exists():
        remote = _remote_size(url, timeout_s)
        local = target.stat().st_size
        if remote is not None and remote != local:
            raise DownloadError(
                f"{url}: {target} exists with {local} bytes but the server has {remote}; "
                "move it away to download again"
            )
        on_bytes(local)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + PART_SUFFIX)
    if part.exists():
        on_bytes(part.stat().st_size)
    pace = _Pace(limits, timeout_s)
    _with_retries(url, lambda: _one_transfer(url, part, pace, on_bytes), retries, backoff_s, sleep, pace)
    _fsync_replace(part, target)
    return target


# --------------------------------------------------------------------------- unpacking
def _archive_stem(name: str) -> str | None:
    lowered = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _check_member(archive: Path, member: tarfile.TarInfo) -> PurePosixPath:
    name = member.name
    where = f"{archive}: member {name!r}"
    if member.issym() or member.islnk():
        raise DataError(f"{where} is a link (to {member.linkname!r}); links are not unpacked")
    if member.isdev():
        raise DataError(f"{where} is a device or FIFO; refused")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{where} has an unsupported type {member.type!r}; refused")
    if "\0" in name or "\\" in name:
        raise DataError(f"{where}: unsafe characters in the name; refused")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise DataError(f"{where} has an absolute path; refused")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise DataError(f"{where} contains '..'; refused")
    return path


def _verify_stream(archive: Path) -> None:
    """Decompress a compressed archive once, to its end: gzip, bzip2 and xz check their CRC only
    there, which ``tarfile`` may never reach, so damaged data would otherwise unpack silently."""
    with open(archive, "rb") as raw:
        head = raw.read(6)
    for magic, opener in _COMPRESSED:
        if head.startswith(magic):
            with opener(archive, "rb") as stream:
                while stream.read(_BLOCK):
                    pass
            return


def safe_unpack(archive: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Unpack a ``.tar`` / ``.tar.gz`` after checking the whole archive and every member.

    Parameters
    ----------
    archive : path-like
        The archive (compression is detected).
    destination : path-like
        Folder to create; must not exist. The members are written into a
        temporary sibling that is renamed to ``destination`` only at the end.

    Returns
    -------
    Path
        ``destination``.

    Raises
    ------
    DataError
        A damaged compressed stream (its checksum is verified before anything is
        extracted), an absolute path, a ``..`` component, a symbolic or hard link,
        a device or FIFO member (the message names the archive and the member), or
        an unreadable archive. Nothing is extracted in that case.
    OSError
        Writing failed (disk full, read-only folder); the temporary folder is removed.

    Examples
    --------
    >>> safe_unpack("data/raw/download-1a2b3c4d/12345.tar", "data/raw/download-1a2b3c4d/12345")  # doctest: +SKIP
    """
    archive = Path(archive)
    destination = Path(destination)
    if destination.exists():
        raise DataError(f"{archive}: cannot unpack into {destination}: it already exists")
    try:
        _verify_stream(archive)
        tar = tarfile.open(archive, "r:*")
    except _READ_ERRORS as exc:
        raise DataError(f"{archive}: not a readable tar archive: {exc}") from None
    tmp = destination.with_name(f"{destination.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with tar:
            try:
                members = tar.getmembers()
            except _READ_ERRORS as exc:
                raise DataError(f"{archive}: not a readable tar archive: {exc}") from None
            checked = [(member, _check_member(archive, member)) for member in members]
            tmp.mkdir(parents=True)
            root = tmp.resolve()
            for member, path in checked:
                if not path.parts or path.parts == (".",):
                    continue
                out = tmp.joinpath(*path.parts)
                if not out.resolve().is_relative_to(root):  # belt and braces after the checks
                    raise DataError(f"{archive}: member {member.name!r} escapes the destination; refused")
                if member.isdir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                _extract(tar, member, archive, out)
        os.rename(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return destination


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, archive: Path, out: Path) -> None:
    """Copy one member: a read failure is the archive's (DataError), a write failure the disk's (OSError)."""
    try:
        source = tar.extractfile(member)
    except _READ_ERRORS as exc:
        raise DataError(f"{archive}: member {member.name!r} cannot be read: {exc}") from None
    if source is None:
        raise DataError(f"{archive}: member {member.name!r} cannot be read")
    with source, open(out, "wb") as handle:
        while True:
            try:
                block = source.read(_BLOCK)
            except _READ_ERRORS as exc:
                raise DataError(f"{archive}: member {member.name!r} cannot be read: {exc}") from None
            if not block:
                return
            handle.write(block)


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


def dataset_ids_for(files: Iterable[Path], dataset_id: str | None = None) -> list[str]:
    """Dataset ids for event files: ``dataset_id`` or ``obs<OBS_ID>``, then ``_2``, ``_3`` ...

    Parameters
    ----------
    files : iterable of Path
        Event files, in a stable order.
    dataset_id : str, optional
        The user's ``--id``; when absent, OBS_ID is read from the primary or
        EVENTS header.

    Returns
    -------
    list of str
        One id per file; the second file with the same base id gets ``_2``.

    Raises
    ------
    MetadataError
        ``dataset_id`` is not a valid id.
    DataError
        No ``dataset_id`` and a file has no OBS_ID keyword.

    Examples
    --------
    >>> dataset_ids_for([Path("a_evt2.fits"), Path("b_evt2.fits")], "mine")
    ['mine', 'mine_2']
    """
    counts: dict[str, int] = {}
    ids: list[str] = []
    for base in _base_ids(list(files), dataset_id):
        counts[base] = counts.get(base, 0) + 1
        ids.append(_suffixed(base, counts[base]))
    return ids


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
    from .hashing import file_sha256
    from .onboard import onboard_file

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
        stem = _archive_stem(item.relative_path.rsplit("/", 1)[-1])
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

