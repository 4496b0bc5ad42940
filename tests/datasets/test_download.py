"""Tests of ``lightlane download`` (SPEC §17) against a real HTTP server on the loopback interface."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import numpy as np
import pytest
from astropy.io import fits

from lightlane.cli import download as download_cli
from lightlane.cli.common import GlobalOptions, use_globals
from lightlane.datasets import (
    Limits,
    download,
    fetch_file,
    find_event_files,
    list_remote_files,
    parse_listing,
    safe_unpack,
    staging_id,
)
from lightlane.exceptions import DataError, DownloadError, LightlaneError
from lightlane.metadata import DatasetMeta
from lightlane.store.workspace import Workspace

TIMEOUT_S = 5.0


# --------------------------------------------------------------------------- a tiny archive server
@dataclass
class Site:
    """What the test server serves, and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)  # URL path -> bytes
    pages: dict[str, str] = field(default_factory=dict)  # URL path -> hand-written HTML
    cut_first: dict[str, int] = field(default_factory=dict)  # cut the first GET after N body bytes
    ignore_range: set[str] = field(default_factory=set)  # always answer 200
    short_by: dict[str, int] = field(default_factory=dict)  # announce N bytes more than sent, always
    trickle: dict[str, tuple[int, float]] = field(default_factory=dict)  # send N bytes every S seconds
    requests: list[tuple[str, str, str | None, int]] = field(default_factory=list)  # method, path, Range, status
    base: str = ""
    _cut_done: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def record(self, method: str, path: str, range_header: str | None, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, range_header, status))

    def gets(self, path: str) -> list[tuple[str, str, str | None, int]]:
        with self._lock:
            return [r for r in self.requests if r[0] == "GET" and r[1] == path]

    def children(self, folder: str) -> list[str]:
        names = set()
        for path in self.files:
            if path.startswith(folder) and path != folder:
                head, sep, _ = path[len(folder):].partition("/")
                names.add(head + sep)
        return sorted(names)

    def take_cut(self, path: str) -> int | None:
        with self._lock:
            if path in self.cut_first and path not in self._cut_done:
                self._cut_done.add(path)
                return self.cut_first[path]
        return None


def _listing_html(site: Site, folder: str) -> str:
    parent = folder.rstrip("/").rsplit("/", 1)[0] + "/"
    rows = "\n".join(f'<tr><td><a href="{quote(name)}">{name}</a></td></tr>' for name in site.children(folder))
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of {folder}</title></head><body><a name="top"></a>
<h1>Index of {folder}</h1>
<table>
<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>
<th><a href="?C=S;O=A">Size</a></th><th><a href="#top">top</a></th></tr>
<tr><td><a href="{parent}">Parent Directory</a></td></tr>
{rows}
</table><address>Apache Server at 127.0.0.1</address></body></html>
"""


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], send_bytes: int | None = None) -> None:
            path = unquote(urlsplit(self.path).path)
            site.record(self.command, path, self.headers.get("Range"), status)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "GET":
                body = body if send_bytes is None else body[:send_bytes]
                if path in site.trickle:
                    self._trickle(body, *site.trickle[path])
                else:
                    self.wfile.write(body)
            self.close_connection = True

        def _trickle(self, body: bytes, size: int, every_s: float) -> None:
            try:
                for start in range(0, len(body), size):
                    self.wfile.write(body[start:start + size])
                    self.wfile.flush()
                    time.sleep(every_s)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            if path in site.pages or (path.endswith("/") and site.children(path)):
                html = site.pages.get(path) or _listing_html(site, path)
                body = html.encode("utf-8")
                self._send(200, body, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
                return
            if path not in site.files and site.children(path + "/"):
                self._send(301, b"", {"Location": path + "/", "Content-Length": "0"})
                return
            if path not in site.files:
                self._send(404, b"missing", {"Content-Type": "text/plain", "Content-Length": "7"})
                return
            data = site.files[path]
            plain = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
            if path in site.short_by:
                self._send(200, data, {**plain, "Content-Length": str(len(data) + site.short_by[path])})
                return
            start = 0
            wanted = self.headers.get("Range")
            if wanted and path not in site.ignore_range:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}", "Content-Length": "0"})
                    return
            body = data[start:]
            headers = {**plain, "Content-Length": str(len(body))}
            status = 200
            if start:
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            cut = site.take_cut(path) if self.command == "GET" else None
            self._send(status, body, headers, send_bytes=cut)

    return Handler


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server is on the loopback interface: never go through a proxy."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.at(tmp_path / "ws")
    ws.init()
    return ws


def _payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _event_fits(obs_id: str = "12345", n: int = 300, seed: int = 0) -> bytes:
    """A tiny Chandra-like evt2 file: EVENTS (TIME, PI, X, Y) and GTI."""
    rng = np.random.default_rng(seed)
    tstart, tstop = 5.0e8, 5.0e8 + 2000.0
    time = np.sort(rng.uniform(tstart + 1.0, tstop - 1.0, n))
    events = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="TIME", format="D", unit="s", array=time),
            fits.Column(name="PI", format="J", array=rng.integers(150, 700, n).astype(np.int32)),
            fits.Column(name="X", format="E", array=rng.uniform(4000, 4200, n).astype(np.float32)),
            fits.Column(name="Y", format="E", array=rng.uniform(4000, 4200, n).astype(np.float32)),
        ],
        name="EVENTS",
    )
    gti = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="START", format="D", unit="s", array=np.array([tstart])),
            fits.Column(name="STOP", format="D", unit="s", array=np.array([tstop])),
        ],
        name="GTI",
    )
    primary = fits.PrimaryHDU()
    for header in (primary.header, events.header, gti.header):
        header["TELESCOP"] = "CHANDRA"
        header["INSTRUME"] = "ACIS"
        header["OBS_ID"] = obs_id
        header["OBJECT"] = "TEST"
        header["TSTART"] = tstart
        header["TSTOP"] = tstop
        header["MJDREF"] = 50814.0
        header["TIMESYS"] = "TT"
        header["TIMEUNIT"] = "s"
    buffer = io.BytesIO()
    fits.HDUList([primary, events, gti]).writeto(buffer)
    return buffer.getvalue()


def _tar_bytes(members: list[tuple[str, bytes]], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _visible_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- listing
def test_parse_listing_keeps_only_links_below_the_start_url() -> None:
    page = "http://h.example/pub/obs/"
    html = """<html><body>
    <a href="?C=N;O=D">Name</a> <a href="?C=M;O=A">Last modified</a> <a href="#top">top</a>
    <a href="../">Parent Directory</a> <a href="/pub/">Parent</a> <a href="./">here</a>
    <a href="http://other.example/pub/obs/x_evt2.fits">elsewhere</a> <a href="/outside/y.fits">outside</a>
    <a href="mailto:someone@example.org">mail</a> <a href="javascript:void(0)">js</a>
    <a href="a.fits">a</a> <a href="a.fits#details">a again</a> <A HREF="b%20c.txt">spaced</A>
    <a href="sub/">sub</a> <a href="sub/?C=S;O=A">sort sub</a>
    <a href="http://H.example/pub/obs/sub/d.fits">absolute inside</a> <a>no href</a>
    </body></html>"""
    files, listings = parse_listing(html, page)
    assert files == [page + "a.fits", page + "b%20c.txt", "http://H.example/pub/obs/sub/d.fits"]
    assert listings == [page + "sub/"]


def test_parse_listing_restricts_sub_pages_to_the_start_directory() -> None:
    files, listings = parse_listing('<a href="../../up.txt">up</a><a href="../side/">s</a><a href="x">x</a>',
                                    "http://h/pub/obs/sub/", "http://h/pub/obs/")
    assert files == ["http://h/pub/obs/sub/x"]
    assert listings == ["http://h/pub/obs/side/"]


def test_list_remote_files_follows_sub_listings(site: Site) -> None:
    site.files = {
        "/pub/obs/oif.fits": b"oif",
        "/pub/obs/primary/acisf12345N001_evt2.fits.gz": b"evt2",
        "/pub/obs/secondary/deep/acisf12345_000N001_msk1.fits": b"mask",
        "/pub/obs/with space.txt": b"spaces",
        "/pub/other.txt": b"outside the start directory",
    }
    expected = [
        "oif.fits",
        "primary/acisf12345N001_evt2.fits.gz",
        "secondary/deep/acisf12345_000N001_msk1.fits",
        "with space.txt",
    ]
    found = list_remote_files(site.url("/pub/obs/"), backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert [f.relative_path for f in found] == expected
    assert found[-1].url == site.url("/pub/obs/with%20space.txt")
    # Without the trailing slash the server redirects to the listing.
    found = list_remote_files(site.url("/pub/obs"), backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert [f.relative_path for f in found] == expected
    assert not site.gets("/pub/other.txt") and not site.gets("/pub/")


def test_list_remote_files_accepts_a_direct_file_url(site: Site) -> None:
    site.files["/direct/acisf00001N001_evt2.fits.gz"] = b"\x1f\x8b not html"
    found = list_remote_files(site.url("/direct/acisf00001N001_evt2.fits.gz"), backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert [(f.url, f.relative_path) for f in found] == [
        (site.url("/direct/acisf00001N001_evt2.fits.gz"), "acisf00001N001_evt2.fits.gz")]


def test_list_remote_files_missing_listing_fails_without_retrying(site: Site) -> None:
    with pytest.raises(DownloadError, match="/nothing/") as info:
        list_remote_files(site.url("/nothing/"), retries=3, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert isinstance(info.value, OSError) and isinstance(info.value, LightlaneError)
    assert len(site.gets("/nothing/")) == 1


# --------------------------------------------------------------------------- fetching
def test_interrupted_transfer_resumes_with_range(site: Site, tmp_path: Path) -> None:
    data = _payload(200_000)
    site.files["/f.bin"] = data
    site.cut_first["/f.bin"] = 70_000
    target = tmp_path / "out" / "f.bin"
    part = target.with_name("f.bin.part")

    with pytest.raises(DownloadError, match=r"/f\.bin"):
        fetch_file(site.url("/f.bin"), target, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert not target.exists()
    assert part.read_bytes() == data[:70_000]  # kept for the next run

    seen: list[int] = []
    fetch_file(site.url("/f.bin"), target, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S, progress=seen.append)
    assert target.read_bytes() == data
    assert not part.exists()
    assert sum(seen) == len(data)
    assert [(r[2], r[3]) for r in site.gets("/f.bin")] == [(None, 200), ("bytes=70000-", 206)]


def test_interrupted_transfer_resumes_within_one_call(site: Site, tmp_path: Path) -> None:
    data = _payload(150_000, seed=1)
    site.files["/g.bin"] = data
    site.cut_first["/g.bin"] = 1_000
    target = fetch_file(site.url("/g.bin"), tmp_path / "g.bin", retries=2, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert target.read_bytes() == data
    assert [(r[2], r[3]) for r in site.gets("/g.bin")] == [(None, 200), ("bytes=1000-", 206)]


def test_server_ignoring_range_restarts_from_zero(site: Site, tmp_path: Path) -> None:
    data = _payload(120_000, seed=2)
    site.files["/h.bin"] = data
    site.cut_first["/h.bin"] = 50_000
    site.ignore_range.add("/h.bin")
    target = fetch_file(site.url("/h.bin"), tmp_path / "h.bin", retries=1, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert target.read_bytes() == data  # not the first 50 000 bytes twice
    assert [(r[2], r[3]) for r in site.gets("/h.bin")] == [(None, 200), ("bytes=50000-", 200)]


def test_stale_part_longer_than_the_file_is_replaced(site: Site, tmp_path: Path) -> None:
    data = _payload(1_000, seed=3)
    site.files["/s.bin"] = data
    (tmp_path / "s.bin.part").write_bytes(b"x" * 5_000)
    target = fetch_file(site.url("/s.bin"), tmp_path / "s.bin", retries=1, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert target.read_bytes() == data
    assert [r[3] for r in site.gets("/s.bin")] == [416, 200]


def test_size_mismatch_is_retried_then_raises(site: Site, tmp_path: Path) -> None:
    site.files["/bad.bin"] = _payload(10_000, seed=4)
    site.short_by["/bad.bin"] = 10
    target = tmp_path / "bad.bin"
    with pytest.raises(DownloadError, match=r"/bad\.bin.*3 attempt") as info:
        fetch_file(site.url("/bad.bin"), target, retries=2, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert isinstance(info.value, OSError)
    assert len(site.gets("/bad.bin")) == 3
    assert not target.exists()


def test_backoff_doubles_between_attempts(site: Site, tmp_path: Path) -> None:
    site.files["/bad.bin"] = b"abc"
    site.short_by["/bad.bin"] = 1
    delays: list[float] = []
    with pytest.raises(DownloadError):
        fetch_file(site.url("/bad.bin"), tmp_path / "bad.bin", retries=3, backoff_s=0.25, timeout_s=TIMEOUT_S,
                   sleep=delays.append)
    assert delays == [0.25, 0.5, 1.0]


def test_missing_file_is_not_retried(site: Site, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404"):
        fetch_file(site.url("/gone.bin"), tmp_path / "gone.bin", retries=3, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert len(site.gets("/gone.bin")) == 1
    assert not list(tmp_path.iterdir())


def test_complete_file_is_skipped(site: Site, tmp_path: Path) -> None:
    data = _payload(3_000, seed=5)
    site.files["/k.bin"] = data
    target = tmp_path / "k.bin"
    target.write_bytes(data)
    fetch_file(site.url("/k.bin"), target, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert not site.gets("/k.bin")
    target.write_bytes(data[:-1])  # not what the server has: never overwritten silently
    with pytest.raises(DownloadError, match="exists"):
        fetch_file(site.url("/k.bin"), target, backoff_s=0.0, timeout_s=TIMEOUT_S)


# --------------------------------------------------------------------------- unpacking
def test_safe_unpack_extracts_a_clean_archive(tmp_path: Path) -> None:
    archive = tmp_path / "12345.tar.gz"
    archive.write_bytes(_tar_bytes([("12345/primary/a_evt2.fits", b"a"), ("12345/README", b"r")], compress=True))
    out = safe_unpack(archive, tmp_path / "12345")
    assert _visible_files(out) == ["12345/README", "12345/primary/a_evt2.fits"]
    assert (out / "12345" / "primary" / "a_evt2.fits").read_bytes() == b"a"


def _bad_member(kind: str) -> tarfile.TarInfo:
    if kind == "parent":
        info = tarfile.TarInfo("data/../../evil")
    elif kind == "absolute":
        info = tarfile.TarInfo("/tmp/evil")
    elif kind == "symlink":
        info = tarfile.TarInfo("data/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    elif kind == "hardlink":
        info = tarfile.TarInfo("data/hard")
        info.type, info.linkname = tarfile.LNKTYPE, "data/ok.txt"
    elif kind == "device":
        info = tarfile.TarInfo("data/dev")
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    else:  # fifo
        info = tarfile.TarInfo("data/pipe")
        info.type = tarfile.FIFOTYPE
    return info


@pytest.mark.parametrize("kind", ["parent", "absolute", "symlink", "hardlink", "device", "fifo"])
def test_safe_unpack_rejects_unsafe_members(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / "bad.tar"
    bad = _bad_member(kind)
    with tarfile.open(archive, "w") as tar:
        good = tarfile.TarInfo("data/ok.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        tar.addfile(bad, io.BytesIO(b"") if bad.isreg() else None)
    with tarfile.open(archive) as tar:  # the archive really holds the unsafe name
        assert tar.getnames()[-1] == bad.name
    with pytest.raises(DataError) as info:
        safe_unpack(archive, tmp_path / "out")
    assert "bad.tar" in str(info.value) and repr(bad.name) in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar"]  # nothing extracted, no temp folder
    assert not (tmp_path.parent / "evil").exists()


def test_safe_unpack_reports_a_broken_archive(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"this is not a tar archive at all" * 20)
    with pytest.raises(DataError, match="broken.tar.gz"):
        safe_unpack(archive, tmp_path / "broken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tar.gz"]


# --------------------------------------------------------------------------- event files
def test_find_event_files_prefers_primary(tmp_path: Path) -> None:
    for name in ("primary/b_evt2.fits.gz", "primary/a_evt2.fits", "primary/a_evt2.fits.gz",
                 "secondary/c_evt2.fits", "d_evt2.fits", "primary/e_evt2.fits.gz.part", "primary/f_evt1.fits"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_event_files(tmp_path)] == [
        "primary/a_evt2.fits", "primary/b_evt2.fits.gz"]
    for name in ("primary/a_evt2.fits", "primary/a_evt2.fits.gz", "primary/b_evt2.fits.gz"):
        (tmp_path / name).unlink()
    assert [p.relative_to(tmp_path).as_posix() for p in find_event_files(tmp_path)] == [
        "d_evt2.fits", "secondary/c_evt2.fits"]


# --------------------------------------------------------------------------- end to end
def test_download_onboards_the_primary_evt2(site: Site, workspace: Workspace) -> None:
    evt2 = gzip.compress(_event_fits("12345", n=300), mtime=0)
    site.files = {
        "/byobsid/5/12345/primary/acisf12345N001_evt2.fits.gz": evt2,
        "/byobsid/5/12345/secondary/acisf12345_000N001_evt1.fits.gz": _payload(5_000, seed=6),
        "/byobsid/5/12345/oif.fits": _payload(700, seed=7),
        "/byobsid/5/other/acisf99999N001_evt2.fits.gz": b"not below the start URL",
    }
    site.cut_first["/byobsid/5/12345/primary/acisf12345N001_evt2.fits.gz"] = 2_000
    url = site.url("/byobsid/5/12345/")

    metas = download(workspace, url, jobs=3, retries=2, backoff_s=0.0, timeout_s=TIMEOUT_S)

    assert [m.id for m in metas] == ["obs12345"]
    meta = metas[0]
    assert meta.event_count == 300 and meta.obs_id == "12345" and meta.kind == "raw"
    assert workspace.exists(DatasetMeta, "obs12345")
    onboarded = workspace.path(meta.event_file)
    assert onboarded.parent == workspace.raw_dir("obs12345")
    assert onboarded.read_bytes() == evt2
    staging = workspace.raw_dir(staging_id(url))
    assert _visible_files(staging) == [
        "oif.fits", "primary/acisf12345N001_evt2.fits.gz", "secondary/acisf12345_000N001_evt1.fits.gz"]
    assert (staging / "primary" / "acisf12345N001_evt2.fits.gz").read_bytes() == evt2
    ranges = [r[2] for r in site.gets("/byobsid/5/12345/primary/acisf12345N001_evt2.fits.gz")]
    assert ranges == [None, "bytes=2000-"]

    # Re-running resumes: nothing is fetched again and the dataset is reused.
    before = len(site.gets("/byobsid/5/12345/primary/acisf12345N001_evt2.fits.gz"))
    again = download(workspace, url, jobs=2, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert again == metas
    assert len(site.gets("/byobsid/5/12345/primary/acisf12345N001_evt2.fits.gz")) == before
    assert workspace.ids(DatasetMeta).count("obs12345") == 1


def test_download_resumes_after_a_failed_run(site: Site, workspace: Workspace) -> None:
    evt2 = gzip.compress(_event_fits("777", n=120, seed=8), mtime=0)
    path = "/stage/primary/hrcf00777N002_evt2.fits.gz"
    site.files = {path: evt2, "/stage/readme.txt": b"hello"}
    site.cut_first[path] = 500
    url = site.url("/stage/")
    with pytest.raises(DownloadError, match="hrcf00777N002_evt2"):
        download(workspace, url, jobs=2, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    staging = workspace.raw_dir(staging_id(url))
    assert _visible_files(staging) == ["primary/hrcf00777N002_evt2.fits.gz.part", "readme.txt"]
    assert not workspace.ids(DatasetMeta) or "obs777" not in workspace.ids(DatasetMeta)

    metas = download(workspace, url, jobs=2, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert [m.id for m in metas] == ["obs777"]
    assert _visible_files(staging) == ["primary/hrcf00777N002_evt2.fits.gz", "readme.txt"]
    assert [r[2] for r in site.gets(path)] == [None, "bytes=500-"]
    assert len(site.gets("/stage/readme.txt")) == 1


def test_download_unpacks_archives_and_numbers_several_files(site: Site, workspace: Workspace) -> None:
    first = gzip.compress(_event_fits("12345", n=200, seed=9), mtime=0)
    second = _event_fits("12345", n=150, seed=10)
    archive = _tar_bytes([
        ("12345/primary/acisf12345N001_evt2.fits.gz", first),
        ("12345/primary/acisf12345N002_evt2.fits", second),
        ("12345/secondary/acisf12345_000N001_evt1.fits", b"level 1"),
    ], compress=True)
    site.files = {"/tars/12345.tar.gz": archive}
    url = site.url("/tars/")

    metas = download(workspace, url, jobs=1, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)

    assert [(m.id, m.event_count) for m in metas] == [("obs12345", 200), ("obs12345_2", 150)]
    assert workspace.path(metas[1].event_file).read_bytes() == second
    staging = workspace.raw_dir(staging_id(url))
    assert (staging / "12345" / "12345" / "primary" / "acisf12345N001_evt2.fits.gz").read_bytes() == first
    assert [m.id for m in download(workspace, url, retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)] == [
        "obs12345", "obs12345_2"]


def test_download_rejects_an_unsafe_archive(site: Site, workspace: Workspace) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../evil_evt2.fits")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    site.files = {"/t/evil.tar": buffer.getvalue()}
    with pytest.raises(DataError, match=r"evil\.tar.*'\.\./evil_evt2\.fits'"):
        download(workspace, site.url("/t/"), retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert not (workspace.root / "data" / "raw" / "evil_evt2.fits").exists()
    assert workspace.ids(DatasetMeta) == [] or "evil" not in " ".join(workspace.ids(DatasetMeta))


def test_download_without_event_files_is_a_data_error(site: Site, workspace: Workspace) -> None:
    site.files = {"/e/readme.txt": b"nothing here"}
    with pytest.raises(DataError, match="evt2"):
        download(workspace, site.url("/e/"), retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)


# --------------------------------------------------------------------------- deadline, minimum rate, damage
def test_a_transfer_below_the_minimum_rate_is_aborted_and_retried(site: Site, tmp_path: Path) -> None:
    site.files["/slow.bin"] = _payload(20_000, seed=20)
    site.trickle["/slow.bin"] = (50, 0.05)  # 1 kB/s
    limits = Limits(deadline_s=30.0, min_rate_bytes_per_s=5_000.0, window_s=0.3)
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"after 2 attempt\(s\): transfer rate \d+ B/s stayed below the minimum"):
        fetch_file(site.url("/slow.bin"), tmp_path / "slow.bin", retries=1, backoff_s=0.0, timeout_s=TIMEOUT_S,
                   limits=limits)
    assert time.monotonic() - started < 5.0
    assert len(site.gets("/slow.bin")) == 2
    assert not (tmp_path / "slow.bin").exists() and (tmp_path / "slow.bin.part").is_file()  # kept to resume


def test_the_deadline_covers_every_attempt(site: Site, tmp_path: Path) -> None:
    site.files["/slow.bin"] = _payload(20_000, seed=21)
    site.trickle["/slow.bin"] = (50, 0.05)
    limits = Limits(deadline_s=0.8, min_rate_bytes_per_s=0.0)
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"not complete within the --timeout of 0\.8 s"):
        fetch_file(site.url("/slow.bin"), tmp_path / "slow.bin", retries=5, backoff_s=0.0, timeout_s=TIMEOUT_S,
                   limits=limits)
    assert time.monotonic() - started < 3.0
    assert len(site.gets("/slow.bin")) == 1  # a passed deadline is not retried


def test_a_stalled_server_is_not_waited_for_beyond_the_deadline(site: Site, tmp_path: Path) -> None:
    site.files["/stall.bin"] = _payload(10_000, seed=23)
    site.trickle["/stall.bin"] = (100, 2.0)  # 100 bytes, then silence longer than the deadline
    limits = Limits(deadline_s=1.0, min_rate_bytes_per_s=0.0)
    started = time.monotonic()
    with pytest.raises(DownloadError, match="--timeout of 1 s"):
        fetch_file(site.url("/stall.bin"), tmp_path / "stall.bin", retries=3, backoff_s=0.0, timeout_s=TIMEOUT_S,
                   limits=limits)
    assert time.monotonic() - started < 4.0


def test_a_full_disk_is_not_retried(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import lightlane.datasets.remote as module

    class Full(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            raise OSError(errno.ENOSPC, "No space left on device")

    site.files["/f.bin"] = _payload(1_000, seed=24)
    monkeypatch.setattr(module, "open", lambda *_a, **_k: Full(), raising=False)
    with pytest.raises(DownloadError, match=r"f\.bin\.part: No space left on device"):
        fetch_file(site.url("/f.bin"), tmp_path / "f.bin", retries=3, backoff_s=0.0, timeout_s=TIMEOUT_S)
    assert len(site.gets("/f.bin")) == 1


def _damaged_tar_gz() -> bytes:
    """A .tar.gz whose deflate data still decodes, to wrong bytes: only the gzip CRC can tell."""
    tar = _tar_bytes([("obs/primary/acisf1N001_evt2.fits", _event_fits("1", n=50)), ("obs/README", b"r" * 3000)])
    packed = bytearray(gzip.compress(tar, compresslevel=0, mtime=0))  # stored blocks: bytes as they are
    position = bytes(packed).index(b"r" * 3000) + 1000
    packed[position] ^= 0x01  # inside README's data, not a header
    return bytes(packed)


def test_safe_unpack_verifies_the_gzip_crc_before_extracting(tmp_path: Path) -> None:
    archive = tmp_path / "obs.tar.gz"
    archive.write_bytes(_damaged_tar_gz())
    with tarfile.open(archive) as tar:  # tarfile alone reads the damaged member without complaint
        assert tar.extractfile("obs/README").read() != b"r" * 3000  # type: ignore[union-attr]
    with pytest.raises(DataError, match=r"obs\.tar\.gz: not a readable tar archive: CRC check failed"):
        safe_unpack(archive, tmp_path / "obs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obs.tar.gz"]


def test_download_refuses_a_damaged_archive_and_extracts_nothing(site: Site, workspace: Workspace) -> None:
    site.files = {"/d/obs.tar.gz": _damaged_tar_gz()}
    with pytest.raises(DataError, match="CRC check failed"):
        download(workspace, site.url("/d/"), retries=0, backoff_s=0.0, timeout_s=TIMEOUT_S)
    staging = workspace.raw_dir(staging_id(site.url("/d/")))
    assert _visible_files(staging) == ["obs.tar.gz"]
    assert workspace.ids(DatasetMeta) == []


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def cli_globals(workspace: Workspace) -> Iterator[Workspace]:
    use_globals(GlobalOptions(workspace=str(workspace.root)))
    try:
        yield workspace
    finally:
        use_globals(GlobalOptions())


def test_cli_download_with_id(site: Site, cli_globals: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    site.files = {"/obs/primary/acisf00042N001_evt2.fits": _event_fits("42", n=80, seed=11)}
    code = download_cli.main([site.url("/obs/"), "--id", "mine", "--jobs", "2", "--retries", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == ["mine\t80 events"]
    assert cli_globals.exists(DatasetMeta, "mine")


def test_cli_download_errors_map_to_exit_codes(site: Site, cli_globals: Workspace,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert download_cli.main([site.url("/missing/"), "--retries", "0"]) == 4
    assert site.url("/missing/") in capsys.readouterr().err
    assert download_cli.main([site.url("/obs/"), "--id", "Not Valid"]) == 3
    assert download_cli.main([]) == 2


def test_cli_download_timeout_is_one_line(site: Site, cli_globals: Workspace,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    site.files = {"/t/slow_evt2.fits": _payload(50_000, seed=25)}
    site.trickle["/t/slow_evt2.fits"] = (100, 0.05)
    assert download_cli.main([site.url("/t/"), "--timeout", "0.5", "--retries", "0", "--min-rate", "0"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("lightlane download: error: ") and "--timeout of 0.5 s" in err


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["http://[::1"], 3, "Invalid IPv6 URL"),
    (["ftp://example.org/x/"], 3, "http:// or https://"),
    (["http://127.0.0.1:9/x/", "--timeout", "-1"], 3, "--timeout"),
    (["http://127.0.0.1:9/x/", "--timeout", "inf"], 3, "--timeout: expected a finite number"),
    (["http://127.0.0.1:9/x/", "--min-rate", "nan"], 3, "--min-rate"),
])
def test_cli_download_rejects_bad_arguments_first(cli_globals: Workspace, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], code: int, needle: str) -> None:
    before = _visible_files(cli_globals.root)
    assert download_cli.main(argv) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert _visible_files(cli_globals.root) == before


def test_cli_download_needs_a_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    use_globals(GlobalOptions(workspace=str(tmp_path / "nowhere")))
    try:
        assert download_cli.main(["http://127.0.0.1:9/x/"]) == 5
    finally:
        use_globals(GlobalOptions())
    assert "init" in capsys.readouterr().err
