"""Storage (SPEC §4): atomic writes, content hashes, the workspace folder, the catalog and the caches.

The bottom layer of lightlane: it knows files, hashes and SQL, not what the metadata
documents mean (:class:`~lightlane.store.workspace.StoredDocument`).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .atomic import atomic_path, write_all, write_bytes, write_text
    from .cache import CacheKey, chunk_key, spectrum_key
    from .catalog import Catalog
    from .hashing import events_hash, file_sha256, sha256_json
    from .workspace import LAYOUT, Workspace, embedded_defaults, is_valid_id

__all__ = [
    "LAYOUT", "CacheKey", "Catalog", "Workspace", "atomic_path", "chunk_key", "embedded_defaults", "events_hash",
    "file_sha256", "is_valid_id", "sha256_json", "spectrum_key", "write_all", "write_bytes", "write_text",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".atomic": ["atomic_path", "write_all", "write_bytes", "write_text"],
    ".cache": ["CacheKey", "chunk_key", "spectrum_key"],
    ".catalog": ["Catalog"],
    ".hashing": ["events_hash", "file_sha256", "sha256_json"],
    ".workspace": ["LAYOUT", "Workspace", "embedded_defaults", "is_valid_id"],
})
