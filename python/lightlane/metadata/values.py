"""Shared value types: ids, relative paths, Band and Spectrum (SPEC §4.2, §5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..store.workspace import ID_PATTERN, is_valid_id
from .schema import Check, Context, at_least, between, greater, spec

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ID_PATTERN", "is_valid_id", "id_check", "seed_check", "relative_path_check", "Band", "Spectrum"]

MAX_SEED = 2**63 - 1
EDGE_TOLERANCE_NM = 1e-9


def id_check(max_length: int = 64) -> Check:
    return Check(
        lambda v: is_valid_id(v) and len(v) <= max_length,
        f"matching [a-z0-9_-]{{1,{max_length}}}",
    )


seed_check = Check(lambda v: 0 <= v <= MAX_SEED, "in [0, 2^63 − 1]")


def _is_relative_inside(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and "\\" not in path and ".." not in parts and "" not in parts


relative_path_check = Check(_is_relative_inside, "relative to the workspace, '/'-separated, without '..'")


@dataclass(frozen=True)
class Band:
    """The analysed wavelength interval split into ``bins`` equal bins [nm]."""

    min_nm: float = spec(check=greater(0))
    max_nm: float = spec(check=between(0, 100, open_low=True))
    bins: int = spec(check=between(1, 10_000))

    def _validate(self, ctx: Context) -> None:
        if not self.min_nm < self.max_nm:
            raise ctx.child("max_nm").error(f"number > min_nm ({self.min_nm!r})", self.max_nm)

    @property
    def width_nm(self) -> float:
        return (self.max_nm - self.min_nm) / self.bins

    def edges_nm(self) -> np.ndarray:
        """Bin edges, exactly ``numpy.linspace(min_nm, max_nm, bins + 1)``."""
        import numpy as np  # here: the CLI's option checks import this module, and `--help` needs no numpy

        return np.linspace(self.min_nm, self.max_nm, self.bins + 1)

    def centres_nm(self) -> np.ndarray:
        edges = self.edges_nm()
        return 0.5 * (edges[:-1] + edges[1:])

    def incompatibility_with(self, processing_band: Band) -> str | None:
        """Why this (generation) band cannot serve ``processing_band``, or None (SPEC §5.4)."""
        if abs(self.width_nm - processing_band.width_nm) > EDGE_TOLERANCE_NM:
            return f"bin width {self.width_nm!r} nm differs from the processing band's {processing_band.width_nm!r} nm"
        offset = (processing_band.min_nm - self.min_nm) / self.width_nm
        if abs(offset - round(offset)) * self.width_nm > EDGE_TOLERANCE_NM:
            return "its bin edges do not coincide with the processing band's edges"
        return None


@dataclass(frozen=True)
class Spectrum:
    """f(λ) = A·exp(−(ln(λ/λ0)/σ)²) + C in counts s⁻¹ nm⁻¹ (SPEC §5.1)."""

    A: float = spec(check=at_least(0))
    lambda0_nm: float = spec(check=greater(0))
    sigma: float = spec(check=greater(0))
    C: float = spec(check=at_least(0))

    def flux(self, wavelength_nm: np.ndarray | float) -> np.ndarray:
        import numpy as np  # here: the CLI's option checks import this module, and `--help` needs no numpy

        lam = np.asarray(wavelength_nm, dtype=np.float64)
        with np.errstate(over="ignore"):  # a very narrow σ: (ln/σ)² → inf, exp(−inf) = 0, as it should
            return self.A * np.exp(-((np.log(lam / self.lambda0_nm) / self.sigma) ** 2)) + self.C
