"""Time × wavelength binning with exposure (SPEC §5.3, §10.2–10.3).

For each width Δ_k of the width set, the grid starts at e_0 = tstart − u_k·Δ_k with
u_k the first draw of ``stream(analysis_seed, OFFSETS, k)``; bin j is [e_j, e_{j+1})
with e_j = e_0 + j·Δ_k and the last bin closed, exactly as ``numpy.histogram2d`` bins
with the same edges. One call into the Rust core bins every width: it counts each width
in one pass over the time-sorted events, computes the GTI exposure fraction of every
bin, and lists the chunk starts S_k whose L bins are all fully exposed (E ≥ min_exposure).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .. import _core
from ..exceptions import DataError, LightlaneWarning, MetadataError
from ..metadata import Band, ProcessingParameters, RandomWidths
from ..metadata.values import MAX_SEED

__all__ = ["TimeBinning", "width_set", "bin_events"]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def width_set(processing: ProcessingParameters) -> npt.NDArray[np.float64]:
    """The sorted time-bin widths Δ_k [s] of a processing parameter set.

    Random widths come from one stream ``stream(seed, WIDTHS)`` of the processing seed
    (uniform, or log-uniform: uniform in log space), list widths are taken as given;
    both are returned sorted ascending.

    Parameters
    ----------
    processing : ProcessingParameters
        Its ``time_bins`` and ``seed`` fix the width set.

    Returns
    -------
    numpy.ndarray
        Read-only float64 widths [s], ascending.

    Raises
    ------
    MetadataError
        ``time_bins`` out of range (0 < from_s < to_s, count ≥ 1, positive list widths).

    Examples
    --------
    >>> from lightlane.metadata import ProcessingParameters, ListWidths
    >>> width_set(ProcessingParameters(id="p", time_bins=ListWidths((60.0, 20.0)))).tolist()
    [20.0, 60.0]
    """
    bins = processing.time_bins
    if isinstance(bins, RandomWidths):
        if not 0 <= processing.seed <= MAX_SEED:
            raise MetadataError(f"processing '{processing.id}': field 'seed': expected integer in [0, 2^63 − 1], "
                                f"got {processing.seed!r}")
        try:
            widths = _core.width_set(processing.seed, float(bins.from_s), float(bins.to_s), int(bins.count),
                                     bins.distribution == "log-uniform")
        except MetadataError as error:
            raise MetadataError(f"processing '{processing.id}': {error}") from None
        return _read_only(widths)
    widths = np.sort(np.asarray(bins.widths_s, dtype=np.float64))
    if widths.size == 0 or not np.all(np.isfinite(widths) & (widths > 0)):
        raise MetadataError(f"processing '{processing.id}': field 'time_bins.widths_s': expected 1–1000 distinct "
                            f"positive values, got {list(bins.widths_s)!r}")
    return _read_only(widths)


@dataclass(frozen=True, eq=False)
class TimeBinning:
    """The binned events of one width Δ_k: counts, exposure and chunk starts.

    Attributes
    ----------
    index : int
        k, the position in the width set (also the OFFSETS stream index).
    width_s : float
        Δ_k [s].
    offset_s : float
        o_k = u_k·Δ_k [s]; the grid starts at e_0 = tstart_s − offset_s.
    tstart_s : float
        Start of the binned span [s, MET].
    counts : numpy.ndarray
        C_k[j, w], uint32, shape (J, W).
    exposure : numpy.ndarray
        E_k[j], the GTI-covered fraction of bin j, shape (J,).
    valid : numpy.ndarray
        E_k[j] ≥ min_exposure, shape (J,).
    valid_starts : numpy.ndarray
        S_k (uint32, ascending): starts s with bins s…s+L−1 all valid.
    """

    index: int
    width_s: float
    offset_s: float
    tstart_s: float
    counts: npt.NDArray[np.uint32]
    exposure: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    valid_starts: npt.NDArray[np.uint32]

    @property
    def origin_s(self) -> float:
        """e_0 = tstart − o_k [s]."""
        return self.tstart_s - self.offset_s

    @property
    def n_time_bins(self) -> int:
        """J, the number of time bins."""
        return int(self.counts.shape[0])

    @property
    def edges(self) -> npt.NDArray[np.float64]:
        """The J + 1 time edges e_j = e_0 + j·Δ [s], bit-identical to those the counts used."""
        return self.origin_s + np.arange(self.n_time_bins + 1, dtype=np.float64) * self.width_s

    @property
    def usable(self) -> bool:
        """True when at least one chunk of L fully exposed bins fits (S_k non-empty)."""
        return self.valid_starts.size > 0


def _events(time_s: npt.ArrayLike, wbin: npt.ArrayLike, band: Band) -> tuple[np.ndarray, np.ndarray]:
    time = np.ascontiguousarray(time_s, dtype=np.float64)
    bins = np.asarray(wbin)
    if time.ndim != 1 or bins.shape != time.shape:
        raise DataError(f"time_s and wbin must be 1-D of equal length, got shapes {time.shape} and {bins.shape}")
    if bins.dtype != np.uint16:
        if bins.size and (not np.issubdtype(bins.dtype, np.integer) or bins.min() < 0 or bins.max() >= band.bins):
            raise DataError(f"wbin must hold integer wavelength bins in 0…{band.bins - 1}")
        bins = bins.astype(np.uint16)
    # uint16 0xFFFF (selection.UNSELECTED) marks events the selection dropped: not counted.
    return time, np.ascontiguousarray(bins)


def _parameters(widths: np.ndarray, analysis_seed: int, min_exposure: float, chunk_length: int, span_s: float) -> None:
    if widths.ndim != 1 or widths.size == 0 or not np.all(np.isfinite(widths) & (widths > 0)):
        raise MetadataError(f"time_bins: expected a non-empty list of positive widths [s], got {widths!r}")
    if isinstance(analysis_seed, bool) or not isinstance(analysis_seed, (int, np.integer)) \
            or not 0 <= int(analysis_seed) <= MAX_SEED:
        raise MetadataError(f"analysis seed: expected integer in [0, 2^63 − 1], got {analysis_seed!r}")
    if not 0 < min_exposure <= 1:
        raise MetadataError(f"min_exposure: expected a number in (0, 1], got {min_exposure!r}")
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, (int, np.integer)) or chunk_length < 1:
        raise MetadataError(f"chunk_length: expected an integer ≥ 1, got {chunk_length!r}")
    if not np.isfinite(span_s) or span_s < 0:
        raise DataError(f"time span must be finite with tstart ≤ tstop, got a span of {span_s!r} s")
    if np.all(widths * chunk_length > span_s):
        raise MetadataError(
            f"time_bins: every width × chunk_length ({chunk_length}) exceeds the data span {span_s:.6g} s "
            f"(widths {widths.min():.6g}…{widths.max():.6g} s); choose widths below {span_s / chunk_length:.6g} s"
        )


def bin_events(
    time_s: npt.ArrayLike,
    wbin: npt.ArrayLike,
    band: Band,
    widths: npt.ArrayLike,
    analysis_seed: int,
    tstart_s: float,
    tstop_s: float,
    gti: npt.ArrayLike,
    min_exposure: float,
    chunk_length: int,
) -> list[TimeBinning]:
    """Bin selected events in time × wavelength for every width of the width set.

    Parameters
    ----------
    time_s : array_like
        Event times [s, MET], sorted non-decreasing, all in [tstart_s, tstop_s].
    wbin : array_like
        Wavelength bin of each event (0…band.bins − 1), e.g. from
        :func:`lightlane.events.selection.wavelength_bins`; events outside the band already dropped.
    band : Band
        The analysed band; W = ``band.bins`` columns.
    widths : array_like
        The width set Δ_k [s] (see :func:`width_set`); k is the position in it.
    analysis_seed : int
        Seed of the offsets u_k (``stream(analysis_seed, OFFSETS, k)``).
    tstart_s, tstop_s : float
        The data span (first GTI start, last GTI stop).
    gti : array_like
        Sorted, disjoint good time intervals, shape (n, 2) [s].
    min_exposure : float
        A bin is valid when its exposure fraction is ≥ this, in (0, 1].
    chunk_length : int
        L, the bins per chunk.

    Returns
    -------
    list of TimeBinning
        One per width, in width-set order (including skipped widths, whose
        ``valid_starts`` is empty).

    Raises
    ------
    DataError
        Unsorted or non-finite times, events outside the span, bad wavelength bins or
        GTIs, or no width has L consecutive fully exposed bins.
    MetadataError
        Bad widths, seed, min_exposure or chunk_length, or every width is too long
        for L bins to fit in the data span (the message names ``time_bins``).

    Warns
    -----
    LightlaneWarning
        Some (not all) widths have no chunk start; they are skipped.

    Examples
    --------
    >>> import numpy as np
    >>> from lightlane.metadata import Band
    >>> [b] = bin_events([1.0, 2.5], [0, 1], Band(0.1, 1.0, 2), [1.0], 0, 0.0, 10.0, [[0.0, 10.0]], 0.99, 4)
    >>> int(b.counts.sum()), b.counts.shape[1]
    (2, 2)
    """
    time, bins = _events(time_s, wbin, band)
    widths_s = np.ascontiguousarray(widths, dtype=np.float64)
    tstart, tstop = float(tstart_s), float(tstop_s)
    _parameters(widths_s, analysis_seed, min_exposure, chunk_length, tstop - tstart)
    intervals = np.asarray(gti, dtype=np.float64)
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise DataError(f"gti must have shape (n, 2), got {intervals.shape}")
    spec: _core.BinningSpec = {
        "n_wbins": band.bins, "widths_s": widths_s, "analysis_seed": int(analysis_seed), "tstart_s": tstart,
        "tstop_s": tstop, "min_exposure": float(min_exposure), "chunk_length": int(chunk_length),
    }
    gti_start, gti_stop = np.ascontiguousarray(intervals[:, 0]), np.ascontiguousarray(intervals[:, 1])
    binned = _core.bin_events(time, bins, gti_start, gti_stop, spec)  # every width in one crossing
    result = [TimeBinning(k, width, b["offset"] * width, tstart, _read_only(b["counts"]), _read_only(b["exposure"]),
                          _read_only(b["valid"]), _read_only(b["valid_starts"]))
              for k, (width, b) in enumerate(zip(widths_s.tolist(), binned))]
    skipped = [b for b in result if not b.usable]
    if len(skipped) == len(result):
        raise DataError(f"no width has L = {chunk_length} consecutive fully exposed bins "
                        f"(min_exposure {min_exposure}) in the GTIs; widths {widths_s.min():.6g}…{widths_s.max():.6g} s")
    if skipped:
        listed = ", ".join(f"{b.width_s:.6g} s" for b in skipped)
        warnings.warn(f"time_bins: {len(skipped)} of {len(result)} widths have no {chunk_length} consecutive fully "
                      f"exposed bins and are skipped: {listed}", LightlaneWarning, stacklevel=2)
    return result
