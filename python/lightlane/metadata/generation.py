"""GenerationParameters (SPEC §5.4): the lanesheet model that synthesises photons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .documents import Document
from .schema import Check, Context, at_least, between, greater, spec
from .values import Band, Spectrum, id_check, seed_check

__all__ = ["Dimensionless", "Empirical", "TelescopePath", "GenerationTime", "Instrument", "GenerationParameters"]


@dataclass(frozen=True)
class Dimensionless:
    """g(λ) = α·exp(lucretius·λ) in lattice units."""

    alpha_lu: float = spec(check=greater(0))
    lucretius_per_nm: float = spec()
    r_e_lu: float = spec(check=greater(0))
    velocity_lu_per_s: float = spec(check=at_least(0))
    kind: Literal["dimensionless"] = "dimensionless"


@dataclass(frozen=True)
class Empirical:
    """Lane density from the emitter distance α and scale l0, lengths in light-seconds."""

    alpha_ls: float = spec(check=greater(0))
    l0_per_ls: float = spec(check=greater(0))
    r_e_ls: float = spec(check=greater(0))
    velocity_c: float = spec(check=between(0, 1))
    kind: Literal["empirical"] = "empirical"


@dataclass(frozen=True)
class TelescopePath:
    """Heading θ0 + θ′τ; start offsets in units of g at the band centre."""

    theta0_rad: float = 0.0
    theta_rate_rad_per_s: float = 0.0
    perp_g: float = 0.0
    phase_g: float = 0.0


def _is_interval(pair: tuple[float, ...]) -> bool:
    return len(pair) == 2 and pair[0] < pair[1]


@dataclass(frozen=True)
class GenerationTime:
    """Span of the synthetic observation [s]; ``gtis`` null means one GTI."""

    tstop_s: float
    tstart_s: float = 0.0
    gtis: tuple[tuple[float, ...], ...] | None = spec(
        None,
        check=Check(lambda v: len(v) >= 1 and all(_is_interval(p) for p in v),
                    "non-empty list of [start, stop] pairs with start < stop"),
    )

    def _validate(self, ctx: Context) -> None:
        if not self.tstop_s > self.tstart_s:
            raise ctx.child("tstop_s").error(f"number > tstart_s ({self.tstart_s!r})", self.tstop_s)
        if self.gtis is None:
            return
        previous_stop = self.tstart_s
        for index, (start, stop) in enumerate(self.gtis):
            if start < previous_stop or stop > self.tstop_s:
                raise ctx.child("gtis").child(index).error(
                    f"sorted, disjoint intervals inside [{self.tstart_s!r}, {self.tstop_s!r}]", [start, stop]
                )
            previous_stop = stop

    def intervals(self) -> list[tuple[float, float]]:
        if self.gtis is None:
            return [(self.tstart_s, self.tstop_s)]
        return [(float(a), float(b)) for a, b in self.gtis]


@dataclass(frozen=True)
class Instrument:
    """Gaussian smearing to channels; a null FWHM writes true wavelengths only."""

    smear_fwhm_ev: float | None = spec(100.0, check=greater(0))
    calibration: Literal["chandra-acis", "chandra-hrc", "xmm-epic", "nustar"] = "chandra-acis"


@dataclass(frozen=True)
class GenerationParameters(Document):
    """Everything that defines a synthetic lanesheet dataset."""

    FOLDER: ClassVar[str] = "generation"

    id: str = spec(check=id_check())
    model: Dimensionless | Empirical = spec()
    time: GenerationTime = spec()
    spectrum: Spectrum = spec()
    label: str = ""
    path: TelescopePath = TelescopePath()
    band: Band | None = None
    n_iso: float = spec(10_000.0, check=at_least(0))
    instrument: Instrument = Instrument()
    seed: int = spec(0, check=seed_check)
    schema: Literal[1] = 1
