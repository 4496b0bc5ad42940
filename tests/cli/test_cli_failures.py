"""Every failure is one line (SPEC §21 property 30).

Each case runs ``lightlane.cli.main`` on a copy of a small workspace and asserts: exactly one
``lightlane <cmd>: error: ...`` line on stderr (``lightlane: warning:`` lines aside: a warning
printed before a failure is information, not noise), the documented exit code, no traceback,
and the workspace unchanged — every file (no temporary file left) and every catalog row — with
its lock released. One parametrized table per category; a few cases also run as
``python -m lightlane`` to prove that nothing else reaches stderr.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lightlane import Workspace
from lightlane.cli import main
from lightlane.metadata import DatasetMeta
from lightlane.store.catalog import Catalog

from ..helpers import catalog_rows, snapshot

TABLES = ("datasets", "runs", "test_results", "null_summaries", "studies", "trials", "run_commands")
DEEP = "[" * 100_000 + "]" * 100_000
BIG = str(2**70)


# ----------------------------------------------------------------------------- workspace and checks


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a tiny synthetic dataset ``ds`` and a pipeline ``p`` (built once per module)."""
    root = tmp_path_factory.mktemp("template") / "ws"
    assert main(["--workspace", str(root), "--quiet", "init"]) == 0
    sparse = json.loads((root / "meta/generation/sparse.json").read_text())
    sparse.update(id="tiny", time={"gtis": None, "tstart_s": 0.0, "tstop_s": 500.0})
    (root / "meta/generation/tiny.json").write_text(json.dumps(sparse))
    assert main(["--workspace", str(root), "--quiet", "generate", "tiny", "--seed", "1"]) == 0
    (dataset,) = Workspace.at(root).ids(DatasetMeta)
    (root / "DATASET").write_text(dataset)
    assert main(["--workspace", str(root), "--quiet", "pipeline", "create", "p", "--processing", "default",
                 "--source-dataset", dataset, "--a-tasks", "select,flatten", "--b-input", "a",
                 "--b-tasks", "poissonize"]) == 0
    return root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    """A fresh copy of the template, so that a failing case cannot spoil the next one."""
    shutil.copytree(template, tmp_path / "ws")
    return Workspace.at(tmp_path / "ws")


def state(ws: Workspace) -> tuple[dict[str, bytes], dict[str, list[tuple[Any, ...]]]]:
    """Every file and every catalog row."""
    return snapshot(ws.root), {table: catalog_rows(ws, table) for table in TABLES}


def fill(argv: list[str], ws: Workspace, tmp_path: Path) -> list[str]:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    dataset = (ws.root / "DATASET").read_text()
    return [a.replace("{ws}", str(ws.root)).replace("{deep}", str(deep)).replace("{ds}", dataset)
            .replace("{tmp}", str(tmp_path)) for a in argv]


def one_line(err: str, command: str) -> str:
    """The single error line of ``err`` (warning lines aside)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("lightlane: warning:")]
    assert len(lines) == 1, err
    prog = "lightlane" if command.startswith("-") else f"lightlane {command}"
    assert re.match(rf"{re.escape(prog)}( [a-z]+)?: error: \S", lines[0]), lines[0]  # `lightlane pipeline create`
    return lines[0]


def fails_cleanly(ws: Workspace, argv: list[str], code: int, needle: str,
                  capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``lightlane --workspace WS ARGV`` and check property 30; return the error line."""
    before = state(ws)
    capsys.readouterr()
    assert main(["--workspace", str(ws.root), *argv]) == code
    line = one_line(capsys.readouterr().err, argv[0] if not argv[0].startswith("-") else "-")
    assert needle in line, line
    assert state(ws) == before
    with ws.lock():  # released
        pass
    return line


# ----------------------------------------------------------------------------- bad options

BAD_OPTIONS = [
    # counts ≥ 1, or ≥ 0 where 0 means "none"; every seed in [0, 2^63 − 1]
    (["baseline", "p", "--runs", "0"], 3, "--runs: expected an integer in [1, 1000000], got 0"),
    (["baseline", "p", "--runs", "-1"], 3, "--runs"),
    (["baseline", "p", "--runs", BIG], 3, "--runs"),
    (["baseline", "p", "--runs", "1", "--jobs", "0"], 3, "--jobs"),
    (["baseline", "p", "--runs", "1", "--jobs", "100000"], 3, "--jobs"),
    (["run", "p", "--seed", "-1"], 3, "--seed: expected an integer in [0, 2^63 − 1], got -1"),
    (["run", "p", "--seed", BIG], 3, "--seed"),
    (["run", "p", "--seed", str(2**63)], 3, "--seed"),
    (["run", "p", "--ensure-baseline", "-1"], 3, "--ensure-baseline"),
    (["run", "p", "--jobs", "-2"], 3, "--jobs"),
    (["search", "--study", "s", "--trials", "-1", "--target", "{ds}", "--processing", "default",
      "--generation", "tiny"], 3, "--trials"),
    (["search", "--study", "s", "--trials", "1", "--materialize", "-1", "--target", "{ds}", "--processing",
      "default", "--generation", "tiny"], 3, "--materialize"),
    (["search", "--study", "s", "--trials", "1", "--materialize", "3", "--target", "{ds}", "--processing",
      "default", "--generation", "tiny"], 3, "--materialize: trial 3"),
    (["search", "--study", "s", "--trials", "1", "--seed", BIG, "--target", "{ds}", "--processing", "default",
      "--generation", "tiny"], 3, "--seed"),
    (["search", "--study", "s", "--best", "-1"], 3, "--best"),
    (["generate", "tiny", "--seed", "-1"], 3, "--seed"),
    (["replicate", "{ds}", "--generation", "tiny", "--seed", BIG], 3, "--seed"),
    (["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}", "--seed", "-1"], 3, "--seed"),
    (["analyze", "{ds}", "--quicklook-bin", "-1"], 3, "--quicklook-bin"),
    (["analyze", "{ds}", "--quicklook-bin", "100"], 3, "--quicklook-bin: expected an integer in [0, 99]"),
    (["video", "{ds}", "--seed", "-1"], 3, "--seed"),
    (["quickstart", "--jobs", "0"], 3, "--jobs"),
    (["download", "http://127.0.0.1:9/x/", "--jobs", "0"], 3, "--jobs"),
    (["download", "http://127.0.0.1:9/x/", "--retries", "-1"], 3, "--retries"),
    (["download", "http://127.0.0.1:9/x/", "--timeout", "0"], 3, "--timeout"),
    (["download", "http://127.0.0.1:9/x/", "--min-rate", "-1"], 3, "--min-rate"),
    # NaN and infinity in float options, negative durations
    (["video", "{ds}", "--fps", "nan"], 3, "--fps: expected a finite number, got nan"),
    (["video", "{ds}", "--duration", "-1"], 3, "--duration"),
    (["video", "{ds}", "--span", "0", "inf"], 3, "--span"),
    (["download", "http://127.0.0.1:9/x/", "--timeout", "nan"], 3, "--timeout"),
    # empty names
    (["run", ""], 3, "PIPELINES: expected a non-empty value"),
    (["generate", "tiny", "--processing", ""], 3, "--processing"),
    (["tables", "--metrics", ""], 3, "--metrics"),
    (["quickstart", ""], 3, "DIR"),
    (["search", "--study", "", "--trials", "1"], 3, "--study"),
    # the dispatcher's global options and argparse's own problems are usage errors
    (["--threads", "0", "init"], 2, "--threads: expected an integer in [1, 256], got '0'"),
    (["--threads", "257", "init"], 2, "--threads"),
    (["--threads", "100000", "run", "p"], 2, "--threads"),
    (["run", "p", "--seed", "x"], 2, "--seed: invalid int value"),
    (["baseline", "p"], 2, "--runs"),
    (["pipeline"], 2, "expected `create` or `default`"),
]


@pytest.mark.parametrize(("argv", "code", "needle"), BAD_OPTIONS, ids=[" ".join(a)[:60] for a, _, _ in BAD_OPTIONS])
def test_bad_options(ws: Workspace, tmp_path: Path, capsys, argv: list[str], code: int, needle: str) -> None:
    fails_cleanly(ws, fill(argv, ws, tmp_path), code, needle, capsys)


# ----------------------------------------------------------------------------- unknown ids and other slips

SLIPS = [
    (["run", "nope"], 3, "meta/pipelines/nope.json"),
    (["baseline", "nope", "--runs", "1"], 3, "meta/pipelines/nope.json"),
    (["analyze", "nope"], 3, "meta/datasets/nope.json"),
    (["video", "nope"], 3, "nope"),
    (["replicate", "nope", "--generation", "tiny"], 3, "meta/datasets/nope.json"),
    (["generate", "NOPE"], 3, "NOPE"),
    (["run", "p", "--all"], 3, "--all"),
    (["report", "nope"], 3, "run 'nope': no such run"),
    (["report", "nope", "--all"], 3, "--all"),
    (["pipeline", "default", "--source-dataset", "nope"], 3, "nope"),
    (["search", "--study", "s", "--mode", "refine", "--trials", "1"], 5, "refine needs"),
    (["pipeline", "frobnicate"], 2, "'frobnicate'"),
]


@pytest.mark.parametrize(("argv", "code", "needle"), SLIPS, ids=[" ".join(a) for a, _, _ in SLIPS])
def test_unknown_ids_and_slips(ws: Workspace, tmp_path: Path, capsys, argv: list[str], code: int,
                               needle: str) -> None:
    fails_cleanly(ws, fill(argv, ws, tmp_path), code, needle, capsys)


# ----------------------------------------------------------------------------- bad JSON

BAD_JSON = [
    # (file to damage, its new text, command, needle)
    ("meta/processing/default.json", DEEP, ["generate", "tiny", "--seed", "2"], "meta/processing/default.json"),
    ("meta/generation/tiny.json", "[" * 500 + "]" * 500, ["generate", "tiny", "--seed", "2"],
     "nested deeper than 64 levels"),
    ("meta/pipelines/p.json", '{"a": ' * 70 + "1" + "}" * 70, ["run", "p"], "meta/pipelines/p.json"),
    ("meta/processing/default.json", '{"schema": 1e999}', ["analyze", "{ds}"], "out of range"),
    ("meta/search/default.json", DEEP, ["search", "--study", "s", "--trials", "1", "--target", "{ds}",
                                        "--processing", "default", "--generation", "tiny"], "meta/search/default.json"),
    (None, None, ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}",
                  "--tasks-file", "{deep}"], "deep.json: invalid JSON: nested deeper"),
    (None, None, ["search", "--study", "s", "--trials", "1", "--target", "{ds}", "--processing", "default",
                  "--generation", "tiny", "--space", "{deep}"], "deep.json: invalid JSON"),
]


@pytest.mark.parametrize(("damaged", "text", "argv", "needle"), BAD_JSON,
                         ids=[f"{d or 'option'}-{a[0]}" for d, _, a, _ in BAD_JSON])
def test_bad_json(ws: Workspace, tmp_path: Path, capsys, damaged: str | None, text: str | None,
                  argv: list[str], needle: str) -> None:
    if damaged is not None:
        ws.path(damaged).write_text(text)  # type: ignore[arg-type]
    fails_cleanly(ws, fill(argv, ws, tmp_path), 3, needle, capsys)


@pytest.mark.parametrize(("field", "value"), [("tstop_s", 1e308), ("tstart_s", -1e300)])
def test_generation_too_large_to_make(ws: Workspace, tmp_path: Path, capsys, field: str, value: float) -> None:
    """A valid document whose photons could never fit: refused before anything is allocated."""
    path = ws.path("meta/generation/tiny.json")
    document = json.loads(path.read_text())
    document["time"][field] = value
    path.write_text(json.dumps(document))
    fails_cleanly(ws, ["generate", "tiny", "--seed", "2"], 3, "more than the 2³² of one generation", capsys)


def test_deeply_nested_json_option(ws: Workspace, capsys) -> None:
    """A JSON given on the command line itself (onboard --calibration-params)."""
    events = ws.path(f"data/synthetic/{(ws.root / 'DATASET').read_text()}.fits")
    fails_cleanly(ws, ["onboard", str(events), "--id", "x", "--calibration", "linear",
                       "--calibration-params", DEEP], 3, "--calibration-params", capsys)


# ----------------------------------------------------------------------------- disk full (injected)


def _enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _catalog_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reports a full disk on the first row written (a real one is in the mounts test below)."""
    def insert(*_: object, **__: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Catalog, "insert", insert)


DISK_FULL = [
    # (injection, command, needle): os.replace and fsync fail as on a full disk, SQLite is full
    ("replace", ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}"],
     "meta/pipelines/q.json: No space left on device"),
    ("replace", ["init", "--force"], "No space left on device"),
    ("fsync", ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}"],
     "meta/pipelines/q.json: No space left on device"),
    ("fsync", ["generate", "tiny", "--seed", "2"], "No space left on device"),
    ("catalog", ["generate", "tiny", "--seed", "2"], "lightlane.sqlite: catalog: database or disk is full"),
    ("catalog", ["search", "--study", "s", "--trials", "1", "--target", "{ds}", "--processing", "default",
                 "--generation", "tiny", "--seed", "1"], "lightlane.sqlite: catalog: database or disk is full"),
]


@pytest.mark.parametrize(("injection", "argv", "needle"), DISK_FULL,
                         ids=[f"{i}-{' '.join(a[:2])}" for i, a, _ in DISK_FULL])
def test_disk_full(ws: Workspace, tmp_path: Path, capsys, monkeypatch, injection: str, argv: list[str],
                   needle: str) -> None:
    argv = fill(argv, ws, tmp_path)
    if injection == "replace":
        monkeypatch.setattr(os, "replace", _enospc)
    elif injection == "fsync":
        monkeypatch.setattr("lightlane.store.atomic.fsync_file", _enospc)
    else:
        _catalog_full(monkeypatch)
    fails_cleanly(ws, argv, 4, needle, capsys)


# ----------------------------------------------------------------------------- read-only files and folders


def _read_only_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SQLITE_READONLY: the connection may read but not write."""
    opened = Catalog.open.__func__  # type: ignore[attr-defined]

    def read_only(cls: type[Catalog], path: Any) -> Catalog:
        catalog = opened(cls, path)
        catalog.connection.execute("PRAGMA query_only = ON")
        return catalog

    monkeypatch.setattr(Catalog, "open", classmethod(read_only))


def _denied(code: int) -> Callable[..., None]:
    def fail(source: Any, *_: object, **__: object) -> None:
        raise OSError(code, os.strerror(code), str(source))

    return fail


READ_ONLY = [
    ("EROFS", ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}"],
     "meta/pipelines/q.json: Read-only file system"),
    ("EACCES", ["generate", "tiny", "--seed", "2"], "Permission denied"),
    ("EROFS", ["init", "--force"], "Read-only file system"),
    ("catalog", ["generate", "tiny", "--seed", "2"], "lightlane.sqlite: catalog: attempt to write a readonly database"),
    ("catalog", ["search", "--study", "s", "--trials", "1", "--target", "{ds}", "--processing", "default",
                 "--generation", "tiny", "--seed", "1"], "lightlane.sqlite: catalog: attempt to write a readonly"),
]


@pytest.mark.parametrize(("injection", "argv", "needle"), READ_ONLY,
                         ids=[f"{i}-{' '.join(a[:2])}" for i, a, _ in READ_ONLY])
def test_read_only(ws: Workspace, tmp_path: Path, capsys, monkeypatch, injection: str, argv: list[str],
                   needle: str) -> None:
    """Tests run as root, whom chmod does not stop: the refusals are injected (a real mount is below)."""
    argv = fill(argv, ws, tmp_path)
    if injection == "catalog":
        _read_only_catalog(monkeypatch)
    else:
        monkeypatch.setattr(os, "replace", _denied(getattr(errno, injection)))
    fails_cleanly(ws, argv, 4, needle, capsys)


class Mounts:
    """Real read-only and full file systems: a small tmpfs, a read-only bind mount (skips where
    mounting is not allowed: it needs root and CAP_SYS_ADMIN)."""

    def __init__(self) -> None:
        self.points: list[Path] = []

    def _mount(self, *args: str) -> None:
        if subprocess.run(["mount", *args], capture_output=True, check=False).returncode != 0:
            pytest.skip("cannot mount here (needs root and CAP_SYS_ADMIN)")

    def tmpfs(self, point: Path, size: str = "8m") -> Path:
        point.mkdir()
        self._mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point))
        self.points.append(point)
        return point

    def read_only(self, folder: Path) -> None:
        self._mount("--bind", str(folder), str(folder))
        self.points.append(folder)
        self._mount("-o", "remount,bind,ro", str(folder))

    def release(self) -> None:
        for point in reversed(self.points):
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


@pytest.fixture
def mounts() -> Iterator[Mounts]:
    made = Mounts()
    try:
        yield made
    finally:
        made.release()


def every_file(root: Path) -> dict[str, bytes]:
    """All files, the catalog included: on these file systems SQLite could not even open it to read.
    Left out: the lock and the empty WAL files a read-only SQLite connection cannot delete."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock" and not p.name.endswith(("-wal", "-shm"))}


def fill_up(path: Path) -> None:
    """Write ``path`` until its file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError) as info:
            while True:
                os.write(fd, b"\0" * 65536)
        assert info.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


REAL_MOUNTS = [
    ("meta read-only", ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}"],
     "meta/pipelines/q.json: Read-only file system"),
    ("meta read-only", ["init", "--force"], "Read-only file system"),
    ("workspace read-only", ["generate", "tiny", "--seed", "2"], ".lock: Read-only file system"),
    ("disk full", ["pipeline", "create", "q", "--processing", "default", "--source-dataset", "{ds}"],
     "meta/pipelines/q.json: No space left on device"),
    ("disk full", ["generate", "tiny", "--seed", "2"], "No space left on device"),
    ("disk full", ["search", "--study", "s", "--trials", "1", "--target", "{ds}", "--processing", "default",
                   "--generation", "tiny", "--seed", "1"], "lightlane.sqlite: catalog: "),
    ("catalog read-only", ["search", "--study", "s", "--trials", "1", "--target", "{ds}", "--processing", "default",
                           "--generation", "tiny", "--seed", "1"], "catalog: attempt to write a readonly database"),
]


@pytest.mark.parametrize(("kind", "argv", "needle"), REAL_MOUNTS, ids=[f"{k}-{a[0]}" for k, a, _ in REAL_MOUNTS])
def test_real_read_only_and_full_file_systems(template: Path, mounts: Mounts, tmp_path: Path, capsys, kind: str,
                                              argv: list[str], needle: str) -> None:
    point = mounts.tmpfs(tmp_path / "mnt")
    shutil.copytree(template, point / "ws")
    ws = Workspace.at(point / "ws")
    argv = fill(argv, ws, tmp_path)
    if kind == "meta read-only":
        mounts.read_only(ws.root / "meta")
    elif kind == "workspace read-only":
        mounts.read_only(ws.root)
    elif kind == "catalog read-only":
        mounts.read_only(ws.catalog_path)
    else:
        fill_up(point / "filler")  # outside the workspace
    before = every_file(ws.root)
    capsys.readouterr()
    assert main(["--workspace", str(ws.root), *argv]) == 4
    assert needle in one_line(capsys.readouterr().err, argv[0])
    assert every_file(ws.root) == before


# ----------------------------------------------------------------------------- malformed download URLs

BAD_URLS = ["ht!tp://x", "http://[::1", "ftp://example.org/obs/", "http:///obs/", "http://example.org:99999/",
            "http://example.org:abc/", "http://example.org/a b/", "example.org/obs/", "http://exa\x01mple.org/"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_malformed_download_urls(ws: Workspace, capsys, url: str) -> None:
    fails_cleanly(ws, ["download", url], 3, "URL ", capsys)


# ----------------------------------------------------------------------------- unreachable scheduler


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (the kernel's backlog does the accepting)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


SCHEDULERS = [
    # (--scheduler or env value, command, code, needle)
    ("--scheduler", "tcp://127.0.0.1:9", ["baseline", "p", "--runs", "1"], 5, "--scheduler tcp://127.0.0.1:9: no Dask"),
    ("--scheduler", "127.0.0.1:9", ["run", "p"], 5, "--scheduler 127.0.0.1:9"),
    ("--scheduler", "tcp://127.0.0.1:9", ["search", "--study", "s", "--trials", "1", "--target", "{ds}",
                                          "--processing", "default", "--generation", "tiny"], 5, "--scheduler"),
    ("--scheduler", "tcp://127.0.0.1:9", ["quickstart", "demo"], 5, "--scheduler"),
    ("env", "tcp://127.0.0.1:9", ["baseline", "p", "--runs", "1"], 5, "$LIGHTLANE_DASK_SCHEDULER tcp://127.0.0.1:9"),
    ("--scheduler", "tcp://127.0.0.1:{silent}", ["baseline", "p", "--runs", "1"], 5, "no Dask scheduler reachable"),
    ("--scheduler", "nonsense", ["baseline", "p", "--runs", "1"], 3, "--scheduler: expected a scheduler address"),
    ("--scheduler", "tcp://[::1", ["run", "p"], 3, "--scheduler"),
    ("env", "tcp://host:99999", ["run", "p"], 3, "$LIGHTLANE_DASK_SCHEDULER: expected"),
]


@pytest.mark.parametrize(("how", "address", "argv", "code", "needle"), SCHEDULERS,
                         ids=[f"{h}-{a}-{v[0]}" for h, a, v, _, _ in SCHEDULERS])
def test_unreachable_scheduler_fails_fast(ws: Workspace, tmp_path: Path, capsys, monkeypatch, silent_port: int,
                                          how: str, address: str, argv: list[str], code: int, needle: str) -> None:
    import time

    monkeypatch.setattr("lightlane.scale.CONNECT_TIMEOUT_S", 0.5)
    address = address.replace("{silent}", str(silent_port))
    argv = fill(argv, ws, tmp_path)
    if how == "env":
        monkeypatch.setenv("LIGHTLANE_DASK_SCHEDULER", address)
    else:
        argv += ["--scheduler", address]
    started = time.monotonic()
    fails_cleanly(ws, argv, code, needle, capsys)
    assert time.monotonic() - started < 10.0
    assert not (ws.root / "demo").exists()


# ----------------------------------------------------------------------------- a workspace that is a file


ON_A_FILE = [
    (["--workspace", "{tmp}/file", "init"], "file: not a folder"),
    (["--workspace", "{tmp}/file/sub", "init"], "its parent"),
    (["--workspace", "{tmp}/file", "run", "p"], "not a folder"),
    (["--workspace", "{tmp}", "quickstart", "file"], "file: not a folder"),
]


@pytest.mark.parametrize(("argv", "needle"), ON_A_FILE, ids=[" ".join(a[2:]) for a, _ in ON_A_FILE])
def test_workspace_on_a_regular_file(tmp_path: Path, capsys, argv: list[str], needle: str) -> None:
    (tmp_path / "file").write_text("not a workspace")
    before = sorted(p.name for p in tmp_path.iterdir())
    capsys.readouterr()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 3
    assert needle in one_line(capsys.readouterr().err, argv[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "file").read_text() == "not a workspace"


def test_init_failing_midway_removes_what_it_created(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(os, "replace", _enospc)
    assert main(["--workspace", str(tmp_path / "new" / "ws"), "init"]) == 4
    one_line(capsys.readouterr().err, "init")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- the real process


SUBPROCESS = [
    (["baseline", "p", "--runs", "0"], 3),
    (["--threads", "100000", "run", "p"], 2),
    (["download", "http://[::1"], 3),
    (["run", "p", "--scheduler", "tcp://127.0.0.1:9"], 5),
    (["generate", "tiny"], 3),  # meta/generation/tiny.json damaged below
]


@pytest.mark.parametrize(("argv", "code"), SUBPROCESS, ids=[" ".join(a) for a, _ in SUBPROCESS])
def test_python_dash_m_prints_one_line(ws: Workspace, argv: list[str], code: int) -> None:
    ws.path("meta/generation/tiny.json").write_text(DEEP)
    before = state(ws)
    result = subprocess.run([sys.executable, "-m", "lightlane", "--workspace", str(ws.root), *argv],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == code, result.stderr
    one_line(result.stderr, argv[0])
    assert state(ws) == before
