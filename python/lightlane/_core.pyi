"""Type stubs of the Rust extension ``lightlane._core`` (hand-written).

Functions take at most six arguments; wider inputs travel as one of the typed dicts
below, which exist for type checkers only (build them as plain dicts).
"""

from typing import TypedDict, type_check_only

import numpy as np
import numpy.typing as npt

__all__ = [
    "HC_KEV_NM",
    "EVENT_BLOCK",
    "DOMAIN_DITHER",
    "DOMAIN_GENERATE",
    "DOMAIN_TASK",
    "DOMAIN_WIDTHS",
    "DOMAIN_OFFSETS",
    "DOMAIN_CHUNKS",
    "DOMAIN_BOOTSTRAP",
    "DOMAIN_SEARCH",
    "DOMAIN_VIDEO",
    "DOMAIN_RUN",
    "DOMAIN_SENSITIVITY",
    "set_threads",
    "thread_count",
    "mix",
    "key",
    "str_u64",
    "uniforms",
    "channel_range",
    "channel_interval_kev",
    "energy_to_channel",
    "dither_channels",
    "ingest_table",
    "lattice_spacing",
    "mean_lanecount",
    "lanecount_trace",
    "synthesize",
    "lattice_points",
    "path_positions",
    "flash_points",
    "width_set",
    "bin_events",
    "sample_chunks",
    "uniform_times_in_gtis",
    "subset_indices",
    "grouped_subset",
    "window_permutation",
    "wasserstein_1",
    "binned_distances",
    "exact_bootstrap_quantiles",
    "monte_carlo_bootstrap_differences",
    "p3_statistic",
    "p3_periodograms",
    "encode_png",
]

HC_KEV_NM: float
EVENT_BLOCK: int

# RNG domains of SPEC §1, defined once in rust/rng.rs: key(seed, DOMAIN_X, indices...).
DOMAIN_DITHER: int
DOMAIN_GENERATE: int
DOMAIN_TASK: int
DOMAIN_WIDTHS: int
DOMAIN_OFFSETS: int
DOMAIN_CHUNKS: int
DOMAIN_BOOTSTRAP: int
DOMAIN_SEARCH: int
DOMAIN_VIDEO: int
DOMAIN_RUN: int
DOMAIN_SENSITIVITY: int

@type_check_only
class FieldSpec(TypedDict):
    """One column of a FITS row: byte offset and numpy type code ("u1", "i2", "i4", "i8", "f4", "f8")."""

    offset: int
    code: str

@type_check_only
class ExtraColumn(TypedDict):
    """An extra output column; ``integer`` widens it to int64, else float64."""

    offset: int
    code: str
    integer: bool

@type_check_only
class IngestSpec(TypedDict):
    """How :func:`ingest_table` reads a raw table.

    ``energy_mode`` is "channels" (dithered with ``calibration_name``, ``offset_kev``,
    ``slope_kev``, ``dither_seed``, ``dataset_key``), "energy-ev", "energy-kev" or
    "wavelength" (with ``energy_kev_field`` when the file stores energies too).
    """

    row_bytes: int
    rows: int
    time_field: FieldSpec
    timezero_s: float
    energy_mode: str
    energy_field: FieldSpec
    energy_kev_field: FieldSpec | None
    calibration_name: str
    offset_kev: float
    slope_kev: float
    dither_seed: int
    dataset_key: int
    extra: list[ExtraColumn]
    with_energy: bool

@type_check_only
class PathSpec(TypedDict):
    """The telescope path: heading θ0 [rad], turn rate θ′ [rad/s], speed [lattice lengths/s],
    start point [lattice lengths] and duration D [s]."""

    theta0_rad: float
    theta_rate_rad_per_s: float
    speed: float
    start_x: float
    start_y: float
    duration_s: float

@type_check_only
class SpectrumSpec(TypedDict):
    """f(λ) = amplitude·exp(−(ln(λ/lambda0_nm)/sigma)²) + floor [counts s⁻¹ nm⁻¹]."""

    amplitude: float
    lambda0_nm: float
    sigma: float
    floor: float

@type_check_only
class GenerationSpec(TypedDict):
    """Everything :func:`synthesize` draws photons from: per-bin columns, spectrum, path, GTIs."""

    lo_nm: npt.NDArray[np.float64]
    hi_nm: npt.NDArray[np.float64]
    spacing: npt.NDArray[np.float64]
    flux_per_s: npt.NDArray[np.float64]
    isotropic: npt.NDArray[np.bool_]
    spectrum: SpectrumSpec
    receiving_radius: float
    path: PathSpec
    tstart_s: float
    gti_start_s: npt.NDArray[np.float64]
    gti_stop_s: npt.NDArray[np.float64]
    smear_fwhm_kev: float | None
    calibration_name: str
    seed: int

@type_check_only
class BinningSpec(TypedDict):
    """The width set and span of :func:`bin_events`, and what makes a bin valid."""

    n_wbins: int
    widths_s: npt.NDArray[np.float64]
    analysis_seed: int
    tstart_s: float
    tstop_s: float
    min_exposure: float
    chunk_length: int

@type_check_only
class WidthBinning(TypedDict):
    """One width of :func:`bin_events`: offset u_k, counts (J, W), exposure, valid bins, chunk starts."""

    offset: float
    counts: npt.NDArray[np.uint32]
    exposure: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    valid_starts: npt.NDArray[np.uint32]

@type_check_only
class ChunkDraws(TypedDict):
    """What :func:`sample_chunks` draws: W bins, chunk length L, M chunks, the CHUNKS seed."""

    n_bins: int
    chunk_length: int
    chunk_count: int
    analysis_seed: int

@type_check_only
class P3Spec(TypedDict):
    """P3 settings (SPEC §11.9): the band's W bins and centres λ_j [nm], sorted disjoint GTIs [s],
    the light-curve resolution dt [s], G log-frequency steps and the slope grid [ln Hz per nm]."""

    n_wbins: int
    centres_nm: npt.NDArray[np.float64]
    gti_start_s: npt.NDArray[np.float64]
    gti_stop_s: npt.NDArray[np.float64]
    dt_s: float
    log_bins: int
    slope_min: float
    slope_max: float
    slope_count: int

@type_check_only
class P3Statistic(TypedDict):
    """What :func:`p3_statistic` returns: S_max = stat, its argmax (ŝ, ĉ [ln Hz] and their indices),
    the image S (slopes × intercepts, NaN where a row leaves the grid), the rebinned rows R_j
    (used rows × G), the rows used (N_j > 0), N_j of every row, the log grid (step g covers
    [log_f_start + g·log_f_step, … + log_f_step)), N time bins and dt [s]."""

    stat: float
    slope: float
    slope_index: int
    intercept_ln_hz: float
    intercept_index: int
    k_lo: int
    image: npt.NDArray[np.float64]
    rebinned: npt.NDArray[np.float64]
    slopes: npt.NDArray[np.float64]
    intercepts_ln_hz: npt.NDArray[np.float64]
    used: npt.NDArray[np.int64]
    events: npt.NDArray[np.uint64]
    log_f_start: float
    log_f_step: float
    n_time_bins: int
    dt_s: float

@type_check_only
class P3Periodograms(TypedDict):
    """Step 1 of P3: Leahy powers (used rows × ⌊N/2⌋) at f_k = k/(N·dt), k = 1…⌊N/2⌋."""

    n_time_bins: int
    powers: npt.NDArray[np.float64]
    used: npt.NDArray[np.int64]
    events: npt.NDArray[np.uint64]

def set_threads(threads: int | None = None) -> None: ...
def thread_count() -> int: ...
def mix(z: int) -> int: ...
def key(seed: int, domain: int, indices: list[int] = ...) -> int: ...
def str_u64(text: str) -> int: ...
def uniforms(seed: int, domain: int, indices: list[int], n: int) -> npt.NDArray[np.float64]: ...
def channel_range(calibration_name: str, offset_kev: float = 0.0, slope_kev: float = 0.0) -> tuple[int, int]: ...
def channel_interval_kev(
    calibration_name: str,
    channels: npt.NDArray[np.int64],
    offset_kev: float = 0.0,
    slope_kev: float = 0.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def energy_to_channel(
    calibration_name: str,
    energy_kev: npt.NDArray[np.float64],
    offset_kev: float = 0.0,
    slope_kev: float = 0.0,
) -> npt.NDArray[np.int64]: ...
def dither_channels(
    channels: npt.NDArray[np.int64],
    calibration_name: str,
    dither_seed: int,
    dataset_key: int,
    offset_kev: float = 0.0,
    slope_kev: float = 0.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def ingest_table(
    table: npt.NDArray[np.uint8],
    spec: IngestSpec,
    gti_start_s: npt.NDArray[np.float64],
    gti_stop_s: npt.NDArray[np.float64],
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    list[npt.NDArray[np.float64] | npt.NDArray[np.int64]],
    int,
    int,
]: ...
def lattice_spacing(
    model: str, first: float, second: float, wavelength_nm: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]: ...
def mean_lanecount(spacing: npt.NDArray[np.float64], receiving_radius: float) -> npt.NDArray[np.float64]: ...
def lanecount_trace(
    spacing: float,
    receiving_radius: float,
    path: PathSpec,
    tau0: float,
    tau1: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32]]: ...
def synthesize(
    generation: GenerationSpec,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64] | None,
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.uint16],
    npt.NDArray[np.int64],
]: ...
def lattice_points(
    spacing: float, centre: tuple[float, float], half_width: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def path_positions(
    path: PathSpec,
    receiving_radius: float,
    tau: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def flash_points(
    spacing: float,
    receiving_radius: float,
    path: PathSpec,
    tau: npt.NDArray[np.float64],
    event_index: npt.NDArray[np.uint64],
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def uniform_times_in_gtis(
    gti_start: npt.NDArray[np.float64], gti_stop: npt.NDArray[np.float64], n: int, seed: int
) -> npt.NDArray[np.float64]: ...
def subset_indices(n: int, m: int, seed: int) -> npt.NDArray[np.int64]: ...
def grouped_subset(
    groups: npt.NDArray[np.int64], keep: npt.NDArray[np.int64], seed: int
) -> npt.NDArray[np.int64]: ...
def window_permutation(
    times_s: npt.NDArray[np.float64], tstart_s: float, window_s: float, seed: int
) -> npt.NDArray[np.int64]: ...
def width_set(seed: int, from_s: float, to_s: float, count: int, log_uniform: bool) -> npt.NDArray[np.float64]: ...
def bin_events(
    time_s: npt.NDArray[np.float64],
    wbin: npt.NDArray[np.uint16],
    gti_start_s: npt.NDArray[np.float64],
    gti_stop_s: npt.NDArray[np.float64],
    spec: BinningSpec,
) -> list[WidthBinning]: ...
def sample_chunks(
    counts: list[npt.NDArray[np.uint32]],
    valid: list[npt.NDArray[np.bool_]],
    starts: list[npt.NDArray[np.uint32]],
    w_data: npt.NDArray[np.uint16],
    draws: ChunkDraws,
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.uint16] | npt.NDArray[np.uint32]]: ...
def exact_bootstrap_quantiles(
    samples: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]], probabilities: list[float]
) -> list[tuple[list[float], list[float]]]: ...
def monte_carlo_bootstrap_differences(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], resamples: int, analysis_seed: int, metric_index: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def wasserstein_1(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float: ...
def binned_distances(
    a_values: npt.NDArray[np.float64],
    a_bins: npt.NDArray[np.uint32],
    b_values: npt.NDArray[np.float64],
    b_bins: npt.NDArray[np.uint32],
    n_bins: int,
    min_count: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]: ...
def p3_statistic(
    time_s: npt.NDArray[np.float64], wbin: npt.NDArray[np.uint16], spec: P3Spec
) -> P3Statistic: ...
def p3_periodograms(
    time_s: npt.NDArray[np.float64], wbin: npt.NDArray[np.uint16], spec: P3Spec
) -> P3Periodograms: ...
def encode_png(rgba: npt.NDArray[np.uint8], dpi: float, text: list[tuple[str, str]] = ...) -> bytes: ...
