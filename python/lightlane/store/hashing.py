"""Content hashes: files, event arrays and canonical JSON (SPEC §4.4, §5.3)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["canonical_json", "sha256_json", "file_sha256", "events_hash"]

_READ_BLOCK = 1 << 20


def canonical_json(obj: Any) -> str:
    """Compact, key-sorted JSON: the form every hash is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_json(obj: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def events_hash(arrays: Iterable[np.ndarray | None]) -> str:
    """SHA-256 over the little-endian float64 bytes of the given arrays, in order.

    Callers pass time, wavelength_nm, x and y (``None`` when absent, skipped) and
    the GTI start and stop arrays, as SPEC §4.4 defines ``events_hash``.
    """
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            continue
        digest.update(memoryview(np.ascontiguousarray(array, dtype="<f8")).cast("B"))
    return digest.hexdigest()
