"""Unpacking downloaded ``.tar`` / ``.tar.gz`` archives safely (SPEC §17).

Every member is checked before anything is extracted (no links, devices, absolute
paths or ``..``), and a compressed archive is read to its end (its CRC checked)
before a single member is extracted.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import secrets
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from ..exceptions import DataError

__all__ = ["ARCHIVE_SUFFIXES", "archive_stem", "safe_unpack"]

#: Archive names that are unpacked next to themselves.
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_BLOCK = 1 << 16
# Compressed tar streams: their checksum is verified only once the whole stream is read.
_COMPRESSED = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def archive_stem(name: str) -> str | None:
    """``name`` without its archive suffix (``obs.tar.gz`` → ``obs``); None for a file that is not an archive."""
    lowered = name.lower()
    for suffix in ARCHIVE_SUFFIXES:
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
