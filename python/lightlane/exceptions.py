"""The exception hierarchy of lightlane (SPEC §1 Errors).

Every error a user can cause derives from :class:`LightlaneError`, a
``ValueError``, so callers can catch one class; the CLI maps each class to an
exit code (SPEC §18).
"""

from __future__ import annotations

__all__ = [
    "LightlaneError",
    "MetadataError",
    "DataError",
    "UnsortedTimesError",
    "PrerequisiteError",
    "CacheMissError",
    "DownloadError",
    "WorkspaceLockedError",
    "LightlaneWarning",
]


class LightlaneError(ValueError):
    """Base class of every error lightlane raises on bad input or state."""


class MetadataError(LightlaneError):
    """Invalid metadata or parameters; the message names the file and the field."""


class DataError(LightlaneError):
    """Unusable event data; the message names the file, HDU and column."""


class UnsortedTimesError(DataError):
    """Event times decrease at some row; reading the file with ``sort_times`` sorts them instead."""


class PrerequisiteError(LightlaneError):
    """Something must be done first; the message quotes the command that does it."""


class CacheMissError(LightlaneError):
    """A cached result needed by the command is missing (e.g. after ``clean``)."""


class WorkspaceLockedError(LightlaneError):
    """Another lightlane command is writing to the same workspace."""


class DownloadError(LightlaneError, OSError):
    """A download failed after all retries."""


class LightlaneWarning(UserWarning):
    """Something the user should know that does not stop the command."""
