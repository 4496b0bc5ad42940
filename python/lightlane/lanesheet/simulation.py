"""Lanesheet photon synthesis from Python (SPEC §7): resolve a generation into per-bin
lattices and rates, then let the Rust core trace the telescope and draw the photons.

Times are MET seconds, wavelengths nm, energies keV; lattice lengths are lattice units
(dimensionless model) or light-seconds (empirical model).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import polars as pl
from tqdm import tqdm

from .. import _core
from ..exceptions import MetadataError
from ..metadata import Band, GenerationParameters, ProcessingParameters, parse_document
from ..metadata.schema import Context, from_json, to_json
from ..metadata.values import MAX_SEED
from ..store.workspace import embedded_defaults

__all__ = ["LanesheetBins", "generation_band", "lanesheet_bins", "mean_lanecount_at", "simulate", "lanecount_trace",
           "path_spec"]


def _validated(generation: GenerationParameters) -> GenerationParameters:
    """Re-check an object built in code with the same rules as a loaded file."""
    return from_json(GenerationParameters, to_json(generation), Context(f"generation '{generation.id}'"))


def _checked_seed(seed: object, generation_id: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise MetadataError(f"generation '{generation_id}': field 'seed': expected integer in [0, 2^63 − 1], got {seed!r}")
    return int(seed)


def _default_processing() -> ProcessingParameters:
    (name, content), = embedded_defaults()["processing"]
    return parse_document(ProcessingParameters, content, f"embedded {name}")


def generation_band(generation: GenerationParameters, processing: ProcessingParameters | None) -> Band:
    """The generation's own band, else the processing band; they must be compatible (SPEC §5.4)."""
    processing = processing or _default_processing()
    if generation.band is None:
        return processing.band
    reason = generation.band.incompatibility_with(processing.band)
    if reason is not None:
        raise MetadataError(
            f"generation '{generation.id}': field 'band': incompatible with processing '{processing.id}': {reason}"
        )
    return generation.band


@dataclass(frozen=True)
class LanesheetBins:
    """Per-bin lattice and rate of a generation on its band."""

    band: Band
    lo_nm: np.ndarray
    hi_nm: np.ndarray
    centre_nm: np.ndarray
    spacing: np.ndarray
    mean_lanecount: np.ndarray
    flux_per_s: np.ndarray
    isotropic: np.ndarray
    receiving_radius: float
    speed: float


def _model_terms(generation: GenerationParameters) -> tuple[str, float, float, float, float]:
    model = generation.model
    if model.kind == "dimensionless":
        return "dimensionless", model.alpha_lu, model.lucretius_per_nm, model.r_e_lu, model.velocity_lu_per_s
    # empirical: lengths in light-seconds, so a velocity in units of c is in ls per second
    return "empirical", model.alpha_ls, model.l0_per_ls, model.r_e_ls, model.velocity_c


def lanesheet_bins(generation: GenerationParameters, band: Band) -> LanesheetBins:
    """Spacing g_w, N̄_w, F_w = f(λ_w)·w and the isotropic flag (N̄_w > n_iso) of every bin."""
    kind, first, second, radius, speed = _model_terms(generation)
    edges = band.edges_nm()
    centres = band.centres_nm()
    spacing = _core.lattice_spacing(kind, first, second, centres)
    mean = _core.mean_lanecount(spacing, radius)
    flux = generation.spectrum.flux(centres) * band.width_nm
    return LanesheetBins(
        band=band, lo_nm=edges[:-1].copy(), hi_nm=edges[1:].copy(), centre_nm=centres, spacing=spacing,
        mean_lanecount=mean, flux_per_s=flux, isotropic=mean > generation.n_iso, receiving_radius=radius, speed=speed,
    )


def mean_lanecount_at(generation: GenerationParameters, wavelength_nm: float) -> float:
    """N̄ = 2π r_e²/(√3 g(λ)²) of the lattice at one wavelength (SPEC §7.1), e.g. a band centre.

    Examples
    --------
    >>> round(mean_lanecount_at(sparse_generation, 0.55), 3)  # doctest: +SKIP
    0.838
    """
    kind, first, second, radius, _ = _model_terms(generation)
    spacing = _core.lattice_spacing(kind, first, second, np.array([float(wavelength_nm)]))
    return float(_core.mean_lanecount(spacing, radius)[0])


def path_spec(generation: GenerationParameters, band: Band) -> _core.PathSpec:
    """The path (θ0, θ′, v, start, D) as the extension takes it; start p0 = g_ref·(perp·n̂0 + phase·û0)."""
    kind, first, second, _, speed = _model_terms(generation)
    reference = np.array([0.5 * (band.min_nm + band.max_nm)])
    g_ref = float(_core.lattice_spacing(kind, first, second, reference)[0])
    path = generation.path
    theta0 = path.theta0_rad
    start_x = g_ref * (-path.perp_g * np.sin(theta0) + path.phase_g * np.cos(theta0))
    start_y = g_ref * (path.perp_g * np.cos(theta0) + path.phase_g * np.sin(theta0))
    duration = generation.time.tstop_s - generation.time.tstart_s
    return {"theta0_rad": theta0, "theta_rate_rad_per_s": path.theta_rate_rad_per_s, "speed": speed,
            "start_x": float(start_x), "start_y": float(start_y), "duration_s": duration}


def simulate(
    generation: GenerationParameters,
    processing: ProcessingParameters | None = None,
    seed: int | None = None,
    *,
    progress: bool = False,
) -> pl.DataFrame:
    """Synthesize the photons a telescope receives crossing the lanesheet.

    Parameters
    ----------
    generation
        The lanesheet model, path, time span and GTIs, spectrum and instrument.
    processing
        Supplies the band when the generation has none (default: embedded ``default``).
    seed
        Overrides ``generation.seed``.
    progress
        Show a progress bar over wavelength bins (stderr, TTY only). The bins are then
        generated in groups; every (bin, window) keeps its own stream, so the photons
        are identical either way.

    Returns
    -------
    polars.DataFrame
        ``time`` [MET s], ``wavelength_nm`` and ``energy_kev`` (true values), ``pi``
        (only with smearing), ``x``, ``y`` (U[−1, 1)), ``bin`` (u16), ``lanecount``
        (−1 for isotropic bins), sorted by (time, bin, generation order). Identical
        for any thread count.

    Raises
    ------
    MetadataError
        Invalid generation parameters or a band incompatible with the processing band.

    Examples
    --------
    >>> photons = simulate(sparse_generation, seed=1)  # doctest: +SKIP
    """
    generation = _validated(generation)
    band = generation_band(generation, processing)
    bins = lanesheet_bins(generation, band)
    gtis = np.asarray(generation.time.intervals(), dtype=np.float64).reshape(-1, 2)
    instrument = generation.instrument
    smear_kev = None if instrument.smear_fwhm_ev is None else instrument.smear_fwhm_ev / 1000.0
    spectrum = generation.spectrum
    seed = generation.seed if seed is None else _checked_seed(seed, generation.id)

    def run(flux_per_s: np.ndarray) -> pl.DataFrame:
        time, wavelength, energy, channel, x, y, bin_index, lanecount = _core.synthesize({
            "lo_nm": bins.lo_nm, "hi_nm": bins.hi_nm, "spacing": bins.spacing, "flux_per_s": flux_per_s,
            "isotropic": np.ascontiguousarray(bins.isotropic),
            "spectrum": {"amplitude": spectrum.A, "lambda0_nm": spectrum.lambda0_nm, "sigma": spectrum.sigma,
                         "floor": spectrum.C},
            "receiving_radius": bins.receiving_radius, "path": path_spec(generation, band),
            "tstart_s": generation.time.tstart_s,
            "gti_start_s": np.ascontiguousarray(gtis[:, 0]), "gti_stop_s": np.ascontiguousarray(gtis[:, 1]),
            "smear_fwhm_kev": smear_kev, "calibration_name": instrument.calibration, "seed": seed,
        })
        columns = {"time": time, "wavelength_nm": wavelength, "energy_kev": energy}
        if channel is not None:
            columns["pi"] = channel
        columns.update({"x": x, "y": y, "bin": bin_index, "lanecount": lanecount})
        return pl.DataFrame(columns)

    if not progress or band.bins < 2:
        return run(bins.flux_per_s)
    # Bins outside a group get zero flux, so they emit nothing and keep their streams.
    groups = np.array_split(np.arange(band.bins), min(band.bins, 20))
    parts = []
    with tqdm(total=band.bins, unit="bin", desc=f"generate {generation.id}", disable=not sys.stderr.isatty()) as bar:
        for group in groups:
            flux = np.zeros_like(bins.flux_per_s)
            flux[group] = bins.flux_per_s[group]
            parts.append(run(flux))
            bar.update(len(group))
    # Each bin lies in one group, so a stable (time, bin) sort restores generation order.
    return pl.concat(parts).sort(["time", "bin"], maintain_order=True)


def lanecount_trace(
    generation: GenerationParameters,
    bin: int,
    t0: float,
    t1: float,
    processing: ProcessingParameters | None = None,
) -> pl.DataFrame:
    """Every change of N(t) of one wavelength bin in [t0, t1] (MET s).

    Returns a DataFrame ``bin`` (u16), ``time_s`` (f64, MET), ``lanecount`` (u32) whose
    first row is at t0 and last at t1; each value holds until the next row.

    Raises
    ------
    MetadataError
        Invalid generation, a bin outside the band, or a span outside [tstart, tstop].
    """
    generation = _validated(generation)
    band = generation_band(generation, processing)
    if not 0 <= bin < band.bins:
        raise MetadataError(f"generation '{generation.id}': bin {bin} is outside the band's 0…{band.bins - 1}")
    tstart, tstop = generation.time.tstart_s, generation.time.tstop_s
    if not (tstart <= t0 <= t1 <= tstop):
        raise MetadataError(
            f"generation '{generation.id}': trace span [{t0!r}, {t1!r}] must satisfy "
            f"tstart ≤ t0 ≤ t1 ≤ tstop with [tstart, tstop] = [{tstart!r}, {tstop!r}]"
        )
    bins = lanesheet_bins(generation, band)
    times, counts = _core.lanecount_trace(
        float(bins.spacing[bin]), bins.receiving_radius, path_spec(generation, band), t0 - tstart, t1 - tstart,
    )
    return pl.DataFrame({
        "bin": np.full(len(times), bin, dtype=np.uint16),
        "time_s": times + tstart,
        "lanecount": counts,
    })
