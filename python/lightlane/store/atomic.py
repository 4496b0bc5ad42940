"""Atomic file writes (SPEC §4.3): temp file in the target folder, fsync, rename.

A reader never sees a partial file, and a failed write leaves the old file in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["atomic_path", "write_all", "write_bytes", "write_text", "temp_name", "sweep_stale_temp_files", "fsync_file",
           "fsync_dir"]


def temp_name(target: Path) -> Path:
    """The temporary sibling ``<name>.tmp-<pid>-<rand>`` used while writing ``target``."""
    return target.with_name(f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def fsync_file(path: Path) -> None:
    """Flush a written file to the disk (before it is renamed over its target)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (after renames into it); a folder that cannot be opened is skipped."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _named(error: OSError, target: Path, tmp: Path) -> OSError:
    """The same error naming ``target``: the user knows the file, not its temporary sibling."""
    if error.filename not in (None, str(tmp), tmp) or error.errno is None:
        return error
    return OSError(error.errno, error.strerror or str(error), str(target))


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``target`` atomically.

    Use for writers that want a file name (astropy, matplotlib, shutil). On any
    exception the temporary file is removed and ``target`` is untouched; an
    ``OSError`` (disk full, read-only folder) is re-raised naming ``target``.
    ``durable=False`` skips the fsyncs: only for files that are checked when read and
    recomputed when damaged (the cache), where a power cut may cost a recomputation.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        yield tmp
        if durable:
            fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(error, OSError) and (named := _named(error, target, tmp)) is not error:
            raise named from error
        raise
    if durable:
        fsync_dir(target.parent)


def write_all(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write several files all or nothing, as far as renames go.

    Every temporary file is written and synced first, then each is renamed into
    place: a failure while writing (disk full, read-only folder) leaves every target
    untouched and no temporary file behind.

    Parameters
    ----------
    files
        ``(target, bytes)`` pairs; the targets' folders must exist.

    Raises
    ------
    OSError
        Naming the target that could not be written.

    Examples
    --------
    >>> write_all([(Path("meta/a.json"), b"{}\\n"), (Path("meta/b.json"), b"{}\\n")])  # doctest: +SKIP
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in files:
            tmp = temp_name(target)
            staged.append((tmp, target))
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as error:
                raise _named(error, target, tmp) from error
        for tmp, target in staged:
            try:
                os.replace(tmp, target)
            except OSError as error:
                raise _named(error, target, tmp) from error
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for folder in {target.parent for _, target in staged}:
        fsync_dir(folder)


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
            with contextlib.suppress(OSError):  # gone already, or a read-only folder: harmless either way
                path.unlink()
                removed.append(path)
    return removed
