"""What a figure shows, decided without matplotlib: its title, the bins and window of a lanecount plot, and
the counts of a metric histogram.

A run prepares its figures before its drawing workers have loaded matplotlib
(:mod:`lightlane.report.run_figures`), so these choices live apart from the drawing code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..stats.p1 import p1d_histograms
from ..stats.quantiles import finite_part

__all__ = ["DPI", "title_for", "quartile_bins", "lanecount_window", "metric_histogram", "MAX_TRACES", "WINDOW_S"]

#: Figure resolution in dots per inch (SPEC §14).
DPI = 150

#: At most this many bins are drawn in one lanecount figure; more would be unreadable.
MAX_TRACES = 4
#: The lanecount plot covers the first min(D, WINDOW_S) seconds of the dataset.
WINDOW_S = 2000.0


def title_for(datasets: Sequence[str], processing: str | None, run_id: str | None) -> str:
    """The standard title naming the dataset(s), processing id and run id (SPEC §14).

    Parameters
    ----------
    datasets
        One dataset id, or the ids of A and B (in that order), or more.
    processing
        The processing id, or None when the plot does not depend on one.
    run_id
        The run id, or None outside a pipeline run.

    Returns
    -------
    str
        For example ``"real-a vs mimic-b · processing p1 · run 0007"``.
    """
    # A lone string is a Sequence[str] too; treating it as characters would
    # silently produce "a vs b vs c", so accept it as one id.
    names = [datasets] if isinstance(datasets, str) else [str(d) for d in datasets]
    if not names or any(not n for n in names):
        raise ValueError("a plot title must name at least one dataset")
    parts = [" vs ".join(names) if len(names) <= 2 else ", ".join(names)]
    if processing:
        parts.append(f"processing {processing}")
    if run_id:
        parts.append(f"run {run_id}")
    return " · ".join(parts)


def quartile_bins(n_bins: int) -> list[int]:
    """Four representative bins, one from each quarter of the band.

    Each index is the bin containing the middle of its quarter, i.e.
    ⌊(2q + 1)·n/8⌋ for q = 0…3; the quarters are n/4 ≥ 1 bins wide, so the
    four indices are distinct and increasing.

    Parameters
    ----------
    n_bins
        Number of wavelength bins in the band (≥ 1).

    Returns
    -------
    list[int]
        Four increasing indices in [0, n_bins − 1], or all bins when
        ``n_bins < 4``.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins!r}")
    if n_bins < MAX_TRACES:
        return list(range(n_bins))
    # Integer arithmetic: exact for any band size, no float rounding at edges.
    return [((2 * q + 1) * n_bins) // 8 for q in range(4)]


def lanecount_window(tstart_s: float, tstop_s: float) -> tuple[float, float]:
    """The time span [t0, t1] (MET) drawn in the lanecount plot: the first min(D, 2000 s).

    Parameters
    ----------
    tstart_s, tstop_s
        Start and stop of the dataset [s, MET].

    Returns
    -------
    (float, float)
        ``(tstart_s, tstart_s + min(tstop_s − tstart_s, 2000))``.
    """
    if not tstop_s > tstart_s:
        raise ValueError(f"tstop_s ({tstop_s!r}) must exceed tstart_s ({tstart_s!r})")
    return tstart_s, tstart_s + min(tstop_s - tstart_s, WINDOW_S)


def metric_histogram(metric: str, a: np.ndarray | None, b: np.ndarray | None,
                     threshold: float | None = None) -> dict[str, Any]:
    """One panel of ``metric_hist.png`` counted on the P1d bins (the fields of a
    :class:`~lightlane.report.drawing.BinnedMetricHistogram`).

    ``a`` and ``b`` are A's and B's values of ``metric`` (either may be None); ``n_a`` and ``n_b``
    are their finite values, counted or not (the extreme 0.1 % at each end fall outside the bins).
    Without any finite value, ``edges`` and the counts are None.
    """
    a, b = finite_part(a), finite_part(b)
    edges = counts_a = counts_b = None
    if a.size or b.size:
        edges, counts_a, counts_b = p1d_histograms(a, b)
    return {"metric": metric, "edges": edges, "counts_a": counts_a, "counts_b": counts_b,
            "n_a": int(a.size), "n_b": int(b.size), "threshold": threshold}
