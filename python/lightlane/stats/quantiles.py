"""Quantiles and index rounding shared by the tests of SPEC §11 (the "higher" rule of §11.1)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["finite_values", "finite_part", "ceil_index", "higher_quantile"]


def finite_values(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 copy-free view of ``values``; non-finite or empty input raises."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values")
    return array


def finite_part(values: Any) -> np.ndarray:
    """The finite values of one dataset's metric column (nulls arrive as NaN); None gives an empty array."""
    if values is None:
        return np.empty(0)
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def ceil_index(x: float) -> int:
    """⌈x⌉ that ignores floating-point noise: 999.0000000000001 → 999, not 1000."""
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return int(nearest)
    return int(math.ceil(x))


def higher_quantile(values: Any, q: float) -> float:
    """The q quantile by the "higher" rule of SPEC §11.1.

    Parameters
    ----------
    values
        1-D array of finite values (not modified).
    q
        Quantile level in [0, 1].

    Returns
    -------
    float
        ``sorted(values)[⌈(n − 1)·q⌉]`` (0-based). ``(n − 1)·q`` within 1e-9
        (relative) of an integer counts as that integer, so 1 − 0.001 with
        n = 1001 selects index 999 despite rounding of 0.999.
    """
    array = finite_values(values, "values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level {q} is outside [0, 1]")
    index = min(ceil_index((array.size - 1) * q), array.size - 1)
    return float(np.partition(array, index)[index])
