"""Monte-Carlo chunk sampling and per-chunk variability metrics (SPEC §10.3–10.6).

A *chunk* is ``L`` consecutive, fully exposed time bins of one wavelength bin at one
time-bin width. :func:`chunk_table` draws ``M`` chunks from the counts matrices of the
binning step (one per width) and returns the chunk table of SPEC §10.6, one row per draw
in draw order. The draws and metrics run in Rust (``lightlane._core.sample_chunks``);
draw ``i`` uses block ``i // 4096`` of ``stream(analysis_seed, CHUNKS, block)``, so the
table depends only on its inputs, never on the thread count.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import _core
from ..exceptions import DataError, LightlaneWarning, MetadataError
from ..metadata import Band

__all__ = ["WidthCounts", "CHUNK_COLUMNS", "METRICS", "valid_starts", "chunk_table"]

#: The metric columns of SPEC §10.5, in table order.
METRICS: tuple[str, ...] = ("ev", "evs", "fel", "feg", "vea", "vesa", "oec", "fvar", "fvar_err", "nxs", "fadj")

#: Column name → polars dtype of the chunk table (SPEC §10.6), in order.
CHUNK_COLUMNS: dict[str, pl.DataType] = {
    "chunk": pl.UInt32(),
    "width_index": pl.UInt16(),
    "width_s": pl.Float64(),
    "wbin": pl.UInt16(),
    "wavelength_center_nm": pl.Float64(),
    "wavelength_width_nm": pl.Float64(),
    "start_bin": pl.UInt32(),
    "stop_bin": pl.UInt32(),
    "start_time_s": pl.Float64(),
    "mean_count": pl.Float64(),
    "global_mean_count": pl.Float64(),
    "total_variability": pl.Float64(),
    "shot_noise": pl.Float64(),
    **{name: pl.Float64() for name in METRICS},
    "zero_count_bins": pl.UInt16(),
    "one_count_bins": pl.UInt16(),
}


@dataclass(frozen=True)
class WidthCounts:
    """The binning output of one time-bin width Δ_k (SPEC §10.2), as the sampler needs it.

    Parameters
    ----------
    width_s : float
        The bin width Δ_k [s].
    first_edge_s : float
        The first edge e_0 = tstart − o_k [s, MET]; bin j starts at e_0 + j·Δ_k.
    counts : numpy.ndarray
        C_k, shape (J_k, W): events per time bin and wavelength bin (converted to u32).
    valid : numpy.ndarray
        Shape (J_k,), bool: bin j is fully exposed (E_k[j] ≥ min_exposure). The global
        mean μ_g of each wavelength bin is taken over these bins.
    starts : numpy.ndarray or None
        S_k: the starts s whose bins s…s+L−1 are all valid (u32). ``None`` computes them
        from ``valid`` with :func:`valid_starts`.
    """

    width_s: float
    first_edge_s: float
    counts: np.ndarray
    valid: np.ndarray
    starts: np.ndarray | None = None


def valid_starts(valid: np.ndarray, chunk_length: int) -> np.ndarray:
    """The starts s such that ``valid[s : s + chunk_length]`` is all true (S_k of SPEC §10.3).

    Parameters
    ----------
    valid : numpy.ndarray
        Bool flags of the time bins of one width.
    chunk_length : int
        The chunk length L (≥ 1).

    Returns
    -------
    numpy.ndarray
        The starts in increasing order, dtype u32 (empty when no run of L valid bins exists).

    Examples
    --------
    >>> valid_starts(np.array([True, True, True, False, True, True]), 2)
    array([0, 1, 4], dtype=uint32)
    """
    flags = np.asarray(valid, dtype=bool).ravel()
    if chunk_length < 1 or len(flags) < chunk_length:
        return np.zeros(0, dtype=np.uint32)
    invalid = np.concatenate([[0], np.cumsum(~flags, dtype=np.int64)])
    clean = invalid[chunk_length:] == invalid[: len(flags) - chunk_length + 1]
    return np.flatnonzero(clean).astype(np.uint32)


def _prepared(widths: Sequence[WidthCounts], n_bins: int, chunk_length: int) -> tuple[list, list, list]:
    counts, valid, starts = [], [], []
    for k, width in enumerate(widths):
        matrix = np.asarray(width.counts)
        if matrix.ndim != 2 or matrix.shape[1] != n_bins:
            raise DataError(f"width {k}: counts must have shape (time bins, {n_bins}), got {matrix.shape}")
        if matrix.size and (matrix.dtype.kind not in "ui" or matrix.min() < 0 or matrix.max() > np.iinfo(np.uint32).max):
            raise DataError(f"width {k}: counts must be non-negative integers below 2^32 (dtype {matrix.dtype})")
        flags = np.ascontiguousarray(width.valid, dtype=bool)
        if flags.shape != (matrix.shape[0],):
            raise DataError(f"width {k}: valid has shape {flags.shape}, expected ({matrix.shape[0]},)")
        found = valid_starts(flags, chunk_length) if width.starts is None else np.asarray(width.starts)
        if found.size and (found.dtype.kind not in "ui" or found.min() < 0 or found.max() > np.iinfo(np.uint32).max):
            raise DataError(f"width {k}: starts must be non-negative integers below 2^32")
        counts.append(np.ascontiguousarray(matrix, dtype=np.uint32))
        valid.append(flags)
        starts.append(np.ascontiguousarray(found, dtype=np.uint32).ravel())
    return counts, valid, starts


def chunk_table(
    widths: Sequence[WidthCounts],
    w_data: Sequence[int] | np.ndarray,
    band: Band,
    chunk_length: int,
    chunk_count: int,
    analysis_seed: int,
) -> pl.DataFrame:
    """Draw ``chunk_count`` chunks and compute every metric: the chunk table of SPEC §10.6.

    Draw i takes, from block ⌊i/4096⌋ of ``stream(analysis_seed, CHUNKS, block)``, three
    uniforms u₁, u₂, u₃: the width is the ⌊u₁·K⌋-th of the K usable widths (those with a
    non-empty S_k, in input order), the wavelength bin the ⌊u₂·|W_data|⌋-th of ``w_data``
    and the start the ⌊u₃·|S_k|⌋-th of S_k; the chunk is x = C_k[s…s+L−1, w]. Moments are
    exact (integer sums), so e.g. ``ev`` is exactly 0 when s² = μ.

    Parameters
    ----------
    widths : sequence of WidthCounts
        One entry per time-bin width; its position is the ``width_index``.
    w_data : array_like of int
        W_data: the wavelength bins with at least one selected event.
    band : Band
        The analysis band; ``band.bins`` is W, the number of counts columns. It gives
        ``wavelength_center_nm`` and ``wavelength_width_nm``.
    chunk_length : int
        L, even and ≥ 4.
    chunk_count : int
        M ≥ 1, the number of draws (rows).
    analysis_seed : int
        The seed of the ``CHUNKS`` streams (0 ≤ seed ≤ 2⁶³−1).

    Returns
    -------
    polars.DataFrame
        The columns of :data:`CHUNK_COLUMNS` with those dtypes, one row per draw in draw
        order. ``start_time_s`` = e_0 + s·Δ_k; ``stop_bin`` is exclusive; ``fvar_err``
        is null where fvar = 0 or μ = 0. Other special cases follow SPEC §10.5.

    Raises
    ------
    DataError
        Malformed matrices, flags or starts (a start whose chunk leaves the matrix or
        touches an invalid bin), an empty ``w_data`` or one outside the band, or no width
        with a valid start ("no width has L consecutive fully exposed bins").
    MetadataError
        ``chunk_length`` odd or < 4, ``chunk_count`` < 1, ``analysis_seed`` out of range.

    Warns
    -----
    LightlaneWarning
        When some (not all) widths have no valid start and are skipped.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> width = WidthCounts(10.0, 0.0, rng.poisson(3.0, (200, 4)), np.ones(200, dtype=bool))
    >>> table = chunk_table([width], [0, 1, 2, 3], Band(0.1, 1.0, 4), 12, 1000, analysis_seed=7)
    >>> table.height
    1000
    """
    if chunk_length < 0 or chunk_count < 0:
        raise MetadataError(f"chunk_length and chunk_count must be positive, got {chunk_length} and {chunk_count}")
    if not 0 <= analysis_seed <= 2**63 - 1:
        raise MetadataError(f"analysis_seed must be in [0, 2^63 − 1], got {analysis_seed}")
    n_bins = band.bins
    counts, valid, starts = _prepared(widths, n_bins, chunk_length)
    wavelength_bins = np.asarray(w_data)
    if wavelength_bins.size and (wavelength_bins.dtype.kind not in "ui" or wavelength_bins.min() < 0
                                 or wavelength_bins.max() >= n_bins):
        raise DataError(f"w_data must hold wavelength bins in [0, {n_bins}), got {wavelength_bins.tolist()[:10]}")
    wavelength_bins = np.ascontiguousarray(wavelength_bins, dtype=np.uint16).ravel()
    columns = _core.sample_chunks(counts, valid, starts, wavelength_bins, {
        "n_bins": n_bins, "chunk_length": chunk_length, "chunk_count": chunk_count, "analysis_seed": analysis_seed})
    skipped = [k for k, s in enumerate(starts) if len(s) == 0]
    if skipped:
        warnings.warn(f"widths {skipped} have no {chunk_length} consecutive fully exposed bins and are skipped",
                      LightlaneWarning, stacklevel=2)

    width_index = columns["width_index"]
    width_s = np.array([w.width_s for w in widths], dtype=np.float64)
    first_edge_s = np.array([w.first_edge_s for w in widths], dtype=np.float64)
    chunk_width_s = width_s[width_index]
    data = {
        "chunk": np.arange(len(width_index), dtype=np.uint32),
        "width_index": width_index,
        "width_s": chunk_width_s,
        "wbin": columns["wbin"],
        "wavelength_center_nm": band.centres_nm()[columns["wbin"]],
        "wavelength_width_nm": np.full(len(width_index), band.width_nm),
        "start_bin": columns["start_bin"],
        "stop_bin": columns["stop_bin"],
        "start_time_s": first_edge_s[width_index] + columns["start_bin"] * chunk_width_s,
    }
    data.update((name, array) for name, array in columns.items() if name not in data)
    series = [pl.Series(name, data[name], dtype=dtype, nan_to_null=(name == "fvar_err"))
              for name, dtype in CHUNK_COLUMNS.items()]
    return pl.DataFrame(series)
