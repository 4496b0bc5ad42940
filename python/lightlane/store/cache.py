"""Content-addressed caches of chunk tables and spectrum fits (SPEC §10.7).

The key is the SHA-256 of the canonical JSON of everything the result depends on:
the events (events_hash), the processing (canonical JSON without id), the analysis
seed, the package version and the table format. A hit requires the exact key, read
back from the parquet key-value metadata, so a stale or foreign file never matches.
``cache/`` is always safe to delete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from ..version import CODE_VERSION
from .atomic import atomic_path
from .hashing import sha256_json

__all__ = ["CHUNK_FORMAT", "CacheKey", "chunk_key", "spectrum_key", "load", "store"]

CHUNK_FORMAT = 1
_KEY_FIELD = "lightlane_cache_key"
_INPUTS_FIELD = "lightlane_cache_inputs"


@dataclass(frozen=True)
class CacheKey:
    """A cache key, the inputs it was computed from, and the cache folder it lives in."""

    kind: str  # "chunks" | "spectra"
    inputs: dict
    digest: str

    def path(self, cache_root: Path) -> Path:
        return cache_root / self.kind / self.digest[:2] / f"{self.digest}.parquet"


class Processing(Protocol):
    """What a key needs of a :class:`lightlane.metadata.ProcessingParameters`."""

    def content_json(self) -> dict[str, Any]: ...


def chunk_key(events_hash: str, processing: Processing, analysis_seed: int) -> CacheKey:
    """Key of a chunk table: any change of events, processing field, seed or version misses."""
    inputs = {
        "events_hash": events_hash,
        "processing": processing.content_json(),
        "analysis_seed": int(analysis_seed),
        "version": CODE_VERSION,
        "chunk_format": CHUNK_FORMAT,
    }
    return CacheKey("chunks", inputs, sha256_json(inputs))


def spectrum_key(events_hash: str, processing: Processing) -> CacheKey:
    """Key of an apparent-spectrum fit."""
    inputs = {"events_hash": events_hash, "processing": processing.content_json(), "version": CODE_VERSION}
    return CacheKey("spectra", inputs, sha256_json(inputs))


def load(key: CacheKey, cache_root: Path) -> pl.DataFrame | None:
    """The cached table, or None on a miss (absent, unreadable, or another key inside)."""
    path = key.path(cache_root)
    if not path.is_file():
        return None
    try:
        metadata = pl.read_parquet_metadata(path)
        if metadata.get(_KEY_FIELD) != key.digest:
            return None
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None  # a damaged cache file is a miss; the recomputation replaces it


def store(key: CacheKey, table: pl.DataFrame, cache_root: Path) -> Path:
    """Write the table atomically with its key and inputs in the parquet metadata."""
    path = key.path(cache_root)
    metadata = {_KEY_FIELD: key.digest, _INPUTS_FIELD: json.dumps(key.inputs, sort_keys=True)}
    with atomic_path(path, durable=False) as tmp:  # a damaged or missing cache file is a miss (see load)
        table.write_parquet(tmp, metadata=metadata, compression="lz4")  # a local cache: speed over size
    return path
