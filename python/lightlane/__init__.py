"""lightlane: wavelength-resolved flux variability of X-ray photon event lists.

The numeric core (lanesheet simulation, dithering, binning, chunk statistics)
is the Rust extension :mod:`lightlane._core`; this package adds FITS I/O, the
workspace with its metadata and catalog, and the ``lightlane`` command line.
"""

from .exceptions import (
    CacheMissError,
    DataError,
    DownloadError,
    LightlaneError,
    LightlaneWarning,
    MetadataError,
    PrerequisiteError,
    UnsortedTimesError,
)
from .datasets import read_dataset
from .ingest import EventList, read_events
from .version import __version__
from .workspace import Workspace

__all__ = [
    "__version__",
    "read_events",
    "read_dataset",
    "EventList",
    "Workspace",
    "LightlaneError",
    "MetadataError",
    "DataError",
    "UnsortedTimesError",
    "PrerequisiteError",
    "CacheMissError",
    "DownloadError",
    "LightlaneWarning",
]
