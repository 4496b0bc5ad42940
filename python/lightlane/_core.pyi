"""Type stubs of the Rust extension ``lightlane._core`` (hand-written)."""

import numpy as np
import numpy.typing as npt

HC_KEV_NM: float
EVENT_BLOCK: int

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
