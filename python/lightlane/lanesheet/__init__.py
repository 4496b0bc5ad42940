"""The lanesheet model (SPEC §7): lattices of lightlanes, photon simulation and lanecount traces.

The geometry and the photon synthesis run in the Rust core; :mod:`.simulation` resolves a
generation against a processing band and turns the core's output into tables.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .simulation import (
        LanesheetBins,
        generation_band,
        lanecount_trace,
        lanesheet_bins,
        mean_lanecount_at,
        path_spec,
        simulate,
    )

__all__ = ["LanesheetBins", "generation_band", "lanecount_trace", "lanesheet_bins", "mean_lanecount_at", "path_spec",
           "simulate"]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".simulation": ["LanesheetBins", "generation_band", "lanecount_trace", "lanesheet_bins", "mean_lanecount_at",
                    "path_spec", "simulate"],
})
