"""The lanesheet model (SPEC §7): lattices of lightlanes, photon simulation and lanecount traces.

The geometry and the photon synthesis run in the Rust core; :mod:`.simulation` resolves a
generation against a processing band and turns the core's output into tables.
"""

from .simulation import LanesheetBins, generation_band, lanecount_trace, lanesheet_bins, path_spec, simulate

__all__ = ["LanesheetBins", "generation_band", "lanecount_trace", "lanesheet_bins", "path_spec", "simulate"]
