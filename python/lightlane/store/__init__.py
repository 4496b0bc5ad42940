"""Storage (SPEC §4): atomic writes, content hashes, the workspace folder, the catalog and the caches.

The bottom layer of lightlane: it knows files, hashes and SQL, not what the metadata
documents mean (:class:`~lightlane.store.workspace.StoredDocument`).
"""

from .atomic import atomic_path, write_all, write_bytes, write_text
from .cache import CacheKey, chunk_key, spectrum_key
from .catalog import Catalog
from .hashing import events_hash, file_sha256, sha256_json
from .workspace import LAYOUT, Workspace, embedded_defaults, is_valid_id

__all__ = [
    "LAYOUT", "CacheKey", "Catalog", "Workspace", "atomic_path", "chunk_key", "embedded_defaults", "events_hash",
    "file_sha256", "is_valid_id", "sha256_json", "spectrum_key", "write_all", "write_bytes", "write_text",
]
