"""lightlane: wavelength-resolved flux variability of X-ray photon event lists.

The numeric core (lanesheet simulation, dithering, binning, chunk statistics)
is the Rust extension :mod:`lightlane._core`; this package adds FITS I/O, the
workspace with its metadata and catalog, and the ``lightlane`` command line.

The subpackages are layers (SPEC §3 rev 2), each importing only from those below it
(checked by the import-linter contract in ``pyproject.toml``), bottom to top:
``store``, ``metadata``, ``scale``, ``events``, ``lanesheet``, ``datasets``, ``analysis``,
``stats``, ``report``, ``pipelines``, ``search``, then ``demo``, ``clean`` and ``cli``.
"""

from .datasets import read_dataset
from .events import EventList, read_events
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
from .store import Workspace
from .version import __version__

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
