"""The calibration registry (SPEC §6.2): names, auto-detection, channel ↔ energy.

Channel arithmetic lives in Rust (``_core``); this module chooses the
calibration for a file and exposes the conversions with numpy arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from ..exceptions import LightlaneWarning, MetadataError

__all__ = [
    "CALIBRATIONS",
    "CHANNEL_CALIBRATIONS",
    "HC_KEV_NM",
    "Calibration",
    "get_calibration",
    "detect_calibration",
]

HC_KEV_NM: float = _core.HC_KEV_NM
CHANNEL_CALIBRATIONS = ("chandra-acis", "chandra-hrc", "xmm-epic", "nustar", "linear")
CALIBRATIONS = CHANNEL_CALIBRATIONS + ("energy-column", "stored-wavelength")

_DESCRIPTIONS = {
    "chandra-acis": "Chandra ACIS PI: [14.6(i−1), 14.6·i) eV, i = 1…1024",
    "chandra-hrc": "Chandra HRC, nominal ACIS grid (HRC has essentially no energy resolution)",
    "xmm-epic": "XMM-Newton EPIC PI in eV: [i − 0.5, i + 0.5) eV, i = 1…20479 (PI = 0 is invalid)",
    "nustar": "NuSTAR PI: [1.6 + 0.04·i, 1.64 + 0.04·i) keV, i = 0…4095",
    "linear": "[offset + slope·i, offset + slope·(i+1)) keV",
    "energy-column": "continuous ENERGY column in eV, no dithering",
    "stored-wavelength": "WAVELENGTH column in nm, used as is (files written by lightlane)",
}


@dataclass(frozen=True)
class Calibration:
    """A named calibration; channel ones convert channels ↔ energy intervals [keV]."""

    name: str
    offset_kev: float = 0.0
    slope_kev: float = 0.0

    @property
    def uses_channels(self) -> bool:
        return self.name in CHANNEL_CALIBRATIONS

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self.name]

    def channel_range(self) -> tuple[int, int]:
        """Valid channels, inclusive."""
        return _core.channel_range(self.name, self.offset_kev, self.slope_kev)

    def channel_interval_kev(self, channels: Any) -> tuple[np.ndarray, np.ndarray]:
        """[lo, hi) energy of each channel; NaN outside the valid range."""
        array = np.ascontiguousarray(channels, dtype=np.int64)
        return _core.channel_interval_kev(self.name, array, self.offset_kev, self.slope_kev)

    def energy_to_channel(self, energy_kev: Any) -> np.ndarray:
        """Channel holding each energy, clipped to the valid range."""
        array = np.ascontiguousarray(energy_kev, dtype=np.float64)
        return _core.energy_to_channel(self.name, array, self.offset_kev, self.slope_kev)

    def dither(self, channels: np.ndarray, dither_seed: int, dataset_key: int) -> tuple[np.ndarray, np.ndarray]:
        """Energies [keV] and wavelengths [nm] of raw rows, uniform in energy inside each channel."""
        array = np.ascontiguousarray(channels, dtype=np.int64)
        return _core.dither_channels(array, self.name, dither_seed, dataset_key, self.offset_kev, self.slope_kev)


def get_calibration(name: str, params: Mapping[str, float] | None = None, source: str = "calibration") -> Calibration:
    """Look a calibration up by name; ``linear`` needs ``{offset_kev, slope_kev > 0}``."""
    if name not in CALIBRATIONS:
        raise MetadataError(f"{source}: unknown calibration {name!r} (choose one of {', '.join(CALIBRATIONS)})")
    if name == "linear":
        if params is None or "slope_kev" not in params or "offset_kev" not in params:
            raise MetadataError(f"{source}: calibration 'linear' needs calibration_params {{offset_kev, slope_kev}}")
        if not float(params["slope_kev"]) > 0:
            raise MetadataError(f"{source}: field 'calibration_params.slope_kev': expected number > 0")
        return Calibration(name, float(params["offset_kev"]), float(params["slope_kev"]))
    if name == "chandra-hrc":
        warnings.warn(
            "chandra-hrc: HRC has essentially no energy resolution; wavelengths are nominal",
            LightlaneWarning,
            stacklevel=2,
        )
    return Calibration(name)


def detect_calibration(header: Mapping[str, Any], columns: Collection[str], source: str) -> str:
    """Auto-detect the calibration from keywords and (lower-case) column names."""
    if "llschema" in {k.lower() for k in header} and "wavelength" in columns and "pi" not in columns:
        return "stored-wavelength"
    if "energy" in columns:
        return "energy-column"
    telescope = str(header.get("TELESCOP", "")).strip().upper()
    instrument = str(header.get("INSTRUME", "")).strip().upper()
    if telescope == "CHANDRA" and instrument.startswith("ACIS"):
        return "chandra-acis"
    if telescope == "CHANDRA" and instrument.startswith("HRC"):
        return "chandra-hrc"
    if telescope.startswith("XMM"):
        return "xmm-epic"
    if telescope == "NUSTAR":
        return "nustar"
    raise MetadataError(
        f"{source}: cannot detect the energy calibration (TELESCOP={telescope!r}, INSTRUME={instrument!r}); "
        f"give one with --calibration ({', '.join(CALIBRATIONS)})"
    )
