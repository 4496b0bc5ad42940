"""The package version, recorded in every output's provenance."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lightlane")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

CODE_VERSION = __version__
