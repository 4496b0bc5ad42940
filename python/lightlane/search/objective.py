"""The parameter-search objective J = D_var + D_spec (SPEC §13).

For every wavelength bin w with at least :data:`MIN_CHUNKS` finite primary-metric
values in A (the target) and in B (the candidate), ``d_w = W₁(A_w, B_w) / s_w``, W₁
the exact 1-D Wasserstein distance of the empirical distributions and ``s_w`` the
IQR of ``A_w`` (1 when it is 0); ``D_var`` is the mean of the ``d_w``. ``D_spec`` is
the total variation ½Σ|p_A,w − p_B,w| of the normalised per-bin count spectra of the
selected events. When fewer than half of the band's bins qualify, J = +∞ and the
trial fails. The per-bin work runs in Rust (``lightlane._core.binned_distances``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .. import _core
from ..exceptions import DataError

__all__ = ["MIN_CHUNKS", "MIN_QUALIFYING_FRACTION", "Objective", "objective_description", "wasserstein_1",
           "evaluate_objective"]

#: Chunks a wavelength bin needs in A and in B to enter D_var (SPEC §13).
MIN_CHUNKS = 20

#: Below this fraction of qualifying bins, J = +∞ (SPEC §13).
MIN_QUALIFYING_FRACTION = 0.5


@dataclass(frozen=True)
class Objective:
    """One evaluation of J.

    Attributes
    ----------
    j
        D_var + D_spec, or +∞ when too few bins qualify.
    d_var, d_spec
        The two components (``d_var`` is NaN when no bin qualifies).
    qualifying, bins
        Qualifying bins and the band's bin count.
    metric
        The primary metric compared.
    """

    j: float
    d_var: float
    d_spec: float
    qualifying: int
    bins: int
    metric: str

    @property
    def ok(self) -> bool:
        return math.isfinite(self.j)

    def components(self) -> dict[str, Any]:
        """The ``components_json`` of a trial row (NaN/∞ as None: JSON has neither)."""
        def plain(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return {"d_var": plain(self.d_var), "d_spec": plain(self.d_spec), "qualifying_bins": self.qualifying,
                "bins": self.bins, "metric": self.metric}


def objective_description(metric: str) -> dict[str, Any]:
    """The ``objective_json`` of a study."""
    return {"definition": "J = D_var + D_spec", "metric": metric, "min_chunks": MIN_CHUNKS,
            "min_qualifying_fraction": MIN_QUALIFYING_FRACTION, "scale": "IQR(A_w), 1 if 0"}


def wasserstein_1(a: np.ndarray, b: np.ndarray) -> float:
    """Exact 1-D Wasserstein distance ∫|F_A − F_B| of two empirical samples.

    Parameters
    ----------
    a, b
        Non-empty samples of finite values (any sizes, ties allowed).

    Returns
    -------
    float

    Raises
    ------
    DataError
        An empty sample or a non-finite value.

    Examples
    --------
    >>> wasserstein_1(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    1.0
    """
    return float(_core.wasserstein_1(np.ascontiguousarray(a, dtype=np.float64),
                                     np.ascontiguousarray(b, dtype=np.float64)))


def evaluate_objective(a_chunks: pl.DataFrame, a_counts: np.ndarray, b_chunks: pl.DataFrame, b_counts: np.ndarray,
                       metric: str, bins: int) -> Objective:
    """J of candidate B against target A (see the module docstring).

    Parameters
    ----------
    a_chunks, b_chunks
        Chunk tables (SPEC §10.6) of A and B: their ``wbin`` and ``metric`` columns are used.
    a_counts, b_counts
        Per-bin counts of the selected events (length ``bins``).
    metric
        The primary metric.
    bins
        The band's number of wavelength bins.

    Returns
    -------
    Objective

    Raises
    ------
    DataError
        A or B has no selected event.
    """
    def columns(table: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        values = table[metric].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        return (np.ascontiguousarray(values, dtype=np.float64),
                np.ascontiguousarray(table["wbin"].to_numpy(), dtype=np.uint32))

    a_values, a_bins = columns(a_chunks)
    b_values, b_bins = columns(b_chunks)
    distance, _, _ = _core.binned_distances(a_values, a_bins, b_values, b_bins, bins, MIN_CHUNKS)
    qualifying = np.isfinite(distance)
    d_var = float(np.mean(distance[qualifying])) if qualifying.any() else float("nan")
    a_total, b_total = float(np.sum(a_counts)), float(np.sum(b_counts))
    if a_total == 0 or b_total == 0:
        raise DataError("objective: A or B has no selected event")
    d_spec = 0.5 * float(np.sum(np.abs(np.asarray(a_counts) / a_total - np.asarray(b_counts) / b_total)))
    count = int(qualifying.sum())
    j = d_var + d_spec if count >= MIN_QUALIFYING_FRACTION * bins and count > 0 else math.inf
    return Objective(j=j, d_var=d_var, d_spec=d_spec, qualifying=count, bins=bins, metric=metric)
