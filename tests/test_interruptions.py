"""Property 29: commands killed (SIGKILL) at random moments are retryable.

Each scenario starts from one prepared workspace. A twin copy runs the command
uninterrupted; the other copy runs it several times, each attempt killed after a
seeded random delay, then once more to completion. The two must end identical:
every file (JSON compared without timestamps) and every catalog row (without
times). The delays are drawn over the twin's measured duration, so kills land
in reading, computing, writing and recording alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .helpers import build_event_file

pytestmark = pytest.mark.slow

KILLS = 4
TIME_COLUMNS = {"created_at", "started_at", "finished_at"}


def lightlane(ws: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lightlane", "--workspace", str(ws), "--quiet", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(ws: Path, *args: str) -> float:
    start = time.perf_counter()
    process = lightlane(ws, *args)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()[-2000:]
    return time.perf_counter() - start


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k not in TIME_COLUMNS}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def state(ws: Path) -> dict[str, Any]:
    """Everything a user could see, without wall-clock times."""
    out: dict[str, Any] = {}
    for path in sorted(ws.rglob("*")):
        relative = path.relative_to(ws).as_posix()
        if relative.startswith("lightlane.sqlite") or relative == ".lock":
            continue
        if path.is_symlink():
            out[relative] = "→" + os.readlink(path)
        elif path.is_dir():
            out[relative] = "dir"
        elif path.suffix == ".json":
            out[relative] = _without_times(json.loads(path.read_text()))
        else:
            out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    with sqlite3.connect(ws / "lightlane.sqlite") as connection:
        connection.row_factory = sqlite3.Row
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(tables):
            rows = [{k: (row[k] is not None if k == "deleted_at" else row[k]) for k in row.keys() if k not in TIME_COLUMNS}
                    for row in connection.execute(f"SELECT * FROM {table}")]
            out[f"catalog:{table}"] = sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """The quickstart content, a calibrated positive control with a main run, an external event file."""
    root = tmp_path_factory.mktemp("prepared")
    ws = root / "ws"
    from lightlane import Workspace
    from lightlane.demo import build_demo

    workspace = Workspace.at(ws)
    workspace.init()
    build_demo(workspace)
    finish(ws, "run", "demo_lane_vs_poisson", "--ensure-baseline", "2", "--no-plots")
    rng = np.random.default_rng(1)
    n = 600_000
    build_event_file(root / "big.fits", times=np.sort(rng.uniform(0, 1000, n)),
                     columns={"PI": ("J", rng.integers(1, 700, n).astype(np.int32))})
    return ws


SCENARIOS = {
    "onboard": ("onboard", "{root}/big.fits", "--id", "big"),
    "generate": ("generate", "isotropic", "--seed", "5"),
    "baseline": ("baseline", "demo_real_vs_poisson", "--runs", "3"),
    "run": ("run", "demo_lane_vs_poisson", "--seed", "11"),
    "search": ("search", "--study", "s1", "--target", "demo_lane", "--processing", "quick", "--generation", "sparse",
               "--mode", "search", "--trials", "4", "--seed", "3"),
    "clean": ("clean", "--all"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_killed_commands_retry_to_the_uninterrupted_result(prepared, tmp_path, name) -> None:
    args = tuple(a.format(root=prepared.parent) for a in SCENARIOS[name])
    twin, ws = tmp_path / "twin", tmp_path / "ws"
    shutil.copytree(prepared, twin, symlinks=True)
    shutil.copytree(prepared, ws, symlinks=True)
    duration = finish(twin, *args)
    rng = np.random.default_rng(sum(map(ord, name)))
    killed = 0
    for delay in sorted(rng.uniform(0.15, 0.95, KILLS) * duration):
        process = lightlane(ws, *args)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        killed += process.returncode == -signal.SIGKILL
    finish(ws, *args)
    assert killed >= 1, "no attempt was actually interrupted"
    assert state(ws) == state(twin)
