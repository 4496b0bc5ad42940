"""lightlane: wavelength-resolved flux variability of X-ray photon event lists.

The numeric core (lanesheet simulation, dithering, binning, chunk statistics)
is the Rust extension :mod:`lightlane._core`; this package adds FITS I/O, the
workspace with its metadata and catalog, and the ``lightlane`` command line.

The subpackages are layers (SPEC §3 rev 2), each importing only from those below it
(checked by the import-linter contract in ``pyproject.toml``), bottom to top:
``store``, ``metadata``, ``scale``, ``events``, ``lanesheet``, ``datasets``, ``analysis``,
``stats``, ``report``, ``pipelines``, ``search``, then ``demo``, ``clean`` and ``cli``.

Importing the package is cheap: the names below and those of every subpackage are imported on
first use (:mod:`lightlane.lazy`), and heavy libraries load inside the functions and commands that
use them (SPEC §20).
"""

from typing import TYPE_CHECKING

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
from .lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports), so the import stays cheap
    from .datasets.registered import read_dataset
    from .events.event_list import EventList
    from .events.reading import read_events
    from .store.workspace import Workspace
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

__getattr__, __dir__ = lazy_exports(__name__, {
    ".datasets.registered": ["read_dataset"],
    ".events.event_list": ["EventList"],
    ".events.reading": ["read_events"],
    ".store.workspace": ["Workspace"],
    ".version": ["__version__"],
})
