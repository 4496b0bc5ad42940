"""Atomic file writes (SPEC §4.3): temp file in the target folder, fsync, rename.

A reader never sees a partial file, and a failed write leaves the old file in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "write_bytes", "write_text", "temp_name", "sweep_stale_temp_files"]


def temp_name(target: Path) -> Path:
    """The temporary sibling ``<name>.tmp-<pid>-<rand>`` used while writing ``target``."""
    return target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``target`` atomically.

    Use for writers that want a file name (astropy, matplotlib, shutil). On any
    exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    write_bytes(target, text.encode("utf-8"))


_TEMP_PATTERN = re.compile(r"\.tmp-(\d+)-[0-9a-f]{8}$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temp_files(root: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files left by writers that were killed midway.

    Only names of the form ``<name>.tmp-<pid>-<8 hex>`` whose process is gone
    are removed; the files they were meant to replace were never touched.
    """
    removed = []
    for path in Path(root).rglob("*.tmp-*"):
        match = _TEMP_PATTERN.search(path.name)
        if match and path.is_file() and not path.is_symlink() and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed
