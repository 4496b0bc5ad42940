"""Fetching files from an archive staging directory over HTTP (SPEC §17, §18 rev 2).

The start URL is an HTML directory listing (as served by Apache or nginx for the
Chandra archive's staging area); :func:`list_remote_files` walks it and its
sub-listings, :func:`fetch_file` downloads one file.

Resuming: a file is written as ``<name>.part`` and renamed only after its size
matched ``Content-Length``, so a visible final name always means a complete
file. A re-run skips complete files and continues ``.part`` files with an HTTP
``Range`` request.

Nothing waits forever (SPEC §18 rev 2): each file has a deadline over all its
attempts (``--timeout``) and a minimum transfer rate (``--min-rate``, measured
over 30 s); a full disk is not retried.
"""

from __future__ import annotations

import http.client
import logging
import math
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ..exceptions import DownloadError, LightlaneError, MetadataError
from ..version import CODE_VERSION

__all__ = ["PART_SUFFIX", "RemoteFile", "Limits", "parse_listing", "list_remote_files", "fetch_file"]

log = logging.getLogger("lightlane.download")

PART_SUFFIX = ".part"
_BLOCK = 1 << 16
_MAX_DEPTH = 32
# Client errors that another attempt cannot fix; everything else (5xx, 408, 429,
# resets, timeouts, short bodies) is retried.
_PERMANENT_STATUS = frozenset({400, 401, 403, 404, 405, 410, 414, 451})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


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
