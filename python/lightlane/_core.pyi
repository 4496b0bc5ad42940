"""Type stubs of the Rust extension ``lightlane._core`` (hand-written)."""

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
    "offset_fractions",
    "counts_matrices",
    "exposure_fractions",
    "valid_starts",
    "sample_chunks",
    "uniform_times_in_gtis",
    "subset_indices",
    "grouped_subset",
    "window_permutation",
    "wasserstein_1",
    "binned_distances",
    "bootstrap_differences",
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
    row_bytes: int,
    rows: int,
    time_field: tuple[int, str],
    timezero_s: float,
    energy_mode: str,
    energy_field: tuple[int, str],
    energy_kev_field: tuple[int, str] | None,
    calibration_name: str,
    offset_kev: float,
    slope_kev: float,
    dither_seed: int,
    dataset_key: int,
    extra: list[tuple[int, str, bool]],
    gti_start: npt.NDArray[np.float64],
    gti_stop: npt.NDArray[np.float64],
    with_energy: bool = True,
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
    path: tuple[float, float, float, float, float, float],
    tau0: float,
    tau1: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32]]: ...
def synthesize(
    lo_nm: npt.NDArray[np.float64],
    hi_nm: npt.NDArray[np.float64],
    spacing: npt.NDArray[np.float64],
    flux_per_s: npt.NDArray[np.float64],
    isotropic: npt.NDArray[np.bool_],
    spectrum: tuple[float, float, float, float],
    receiving_radius: float,
    path: tuple[float, float, float, float, float, float],
    tstart_s: float,
    gti_start: npt.NDArray[np.float64],
    gti_stop: npt.NDArray[np.float64],
    smear_fwhm_kev: float | None,
    calibration_name: str,
    seed: int,
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
    path: tuple[float, float, float, float, float, float],
    receiving_radius: float,
    tau: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def flash_points(
    spacing: float,
    receiving_radius: float,
    path: tuple[float, float, float, float, float, float],
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
def offset_fractions(analysis_seed: int, count: int) -> npt.NDArray[np.float64]: ...
def counts_matrices(
    time_s: npt.NDArray[np.float64],
    wbin: npt.NDArray[np.uint16],
    n_bins: int,
    widths_s: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.float64],
    tstart_s: float,
    tstop_s: float,
) -> list[npt.NDArray[np.uint32]]: ...
def exposure_fractions(
    widths_s: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.float64],
    tstart_s: float,
    tstop_s: float,
    gti_start_s: npt.NDArray[np.float64],
    gti_stop_s: npt.NDArray[np.float64],
) -> list[npt.NDArray[np.float64]]: ...
def valid_starts(valid: npt.NDArray[np.bool_], chunk_length: int) -> npt.NDArray[np.uint32]: ...
def sample_chunks(
    counts: list[npt.NDArray[np.uint32]],
    valid: list[npt.NDArray[np.bool_]],
    starts: list[npt.NDArray[np.uint32]],
    w_data: npt.NDArray[np.uint16],
    n_bins: int,
    chunk_length: int,
    chunk_count: int,
    analysis_seed: int,
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.uint16] | npt.NDArray[np.uint32]]: ...
def bootstrap_differences(
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
