"""Datasets in a workspace (SPEC §4.2, §6.3, §17, §8–§9): onboard a raw file, download an archive
staging directory, read a registered dataset back, and make synthetic datasets (generate, replicate).

Modules: ``onboard`` (validate, copy, register), ``remote`` and ``archives`` (HTTP listings and files,
safe unpacking), ``download`` (the ``download`` command), ``registered`` (:func:`read_dataset`) and
``synthetic`` (hex ids, :func:`generate_dataset`, :func:`replicate_dataset`).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .archives import safe_unpack
    from .download import check_url, download, find_event_files, staging_id
    from .onboard import OnboardOptions, apparent_spectrum, complete_interrupted_onboards, onboard_file
    from .registered import read_dataset
    from .remote import Limits, RemoteFile, fetch_file, list_remote_files, parse_listing
    from .synthetic import (
        SyntheticResult,
        fit_dataset,
        generate_dataset,
        new_seed,
        provenance_digest,
        replicate_dataset,
        synthetic_id,
        write_synthetic_dataset,
    )

__all__ = [
    "Limits", "OnboardOptions", "RemoteFile", "SyntheticResult", "apparent_spectrum", "check_url",
    "complete_interrupted_onboards", "download", "fetch_file", "find_event_files", "fit_dataset",
    "generate_dataset", "list_remote_files", "new_seed", "onboard_file", "parse_listing", "provenance_digest",
    "read_dataset", "replicate_dataset", "safe_unpack", "staging_id", "synthetic_id", "write_synthetic_dataset",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".archives": ["safe_unpack"],
    ".download": ["check_url", "download", "find_event_files", "staging_id"],
    ".onboard": ["OnboardOptions", "apparent_spectrum", "complete_interrupted_onboards", "onboard_file"],
    ".registered": ["read_dataset"],
    ".remote": ["Limits", "RemoteFile", "fetch_file", "list_remote_files", "parse_listing"],
    ".synthetic": ["SyntheticResult", "fit_dataset", "generate_dataset", "new_seed", "provenance_digest",
        "replicate_dataset", "synthetic_id", "write_synthetic_dataset"],
})
