"""Good time intervals of an OGIP event file (SPEC §6.1 rev 2).

Several GTI extensions are combined by **intersection**, never by union: a time
is good only when every extension says so, so the exposure is never overstated.
Chandra and XMM files carry one extension per CCD; there only the CCDs that
hold a real share of the events (≥ 1 %) take part, and events on any other CCD
are dropped, since no GTI vouches for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

__all__ = ["merge_intervals", "intersect_intervals", "GtiSource", "gti_sources", "ccd_of", "MIN_CCD_SHARE"]

#: A CCD's GTIs take part when the CCD holds at least this share of the events.
MIN_CCD_SHARE = 0.01
_STDGTI = re.compile(r"STDGTI(\d+)")


def merge_intervals(intervals: np.ndarray) -> np.ndarray:
    """Sort and merge overlapping or touching intervals; drop zero-length ones."""
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    intervals = intervals[intervals[:, 1] > intervals[:, 0]]
    if len(intervals) == 0:
        return intervals
    intervals = intervals[np.lexsort((intervals[:, 1], intervals[:, 0]))]
    merged = [list(intervals[0])]
    for start, stop in intervals[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return np.array(merged, dtype=np.float64)


def intersect_intervals(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Times inside both sets of half-open intervals, merged (each input is merged first)."""
    a, b = merge_intervals(first), merge_intervals(second)
    parts = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, stop = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if start < stop:
            parts.append((start, stop))
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return merge_intervals(np.array(parts, dtype=np.float64))


@dataclass(frozen=True)
class GtiSource:
    """One GTI extension and the CCD it belongs to (None when it names none)."""

    hdu: fits.BinTableHDU
    ccd: int | None


def ccd_of(hdu: fits.BinTableHDU) -> int | None:
    """The CCD an extension's GTIs belong to: keyword CCD_ID or CCDID, else the nn of STDGTInn."""
    for key in ("CCD_ID", "CCDID"):
        value = hdu.header.get(key)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
    match = _STDGTI.fullmatch(str(hdu.name).upper())
    return int(match.group(1)) if match else None


def _is_gti_name(name: str) -> bool:
    upper = name.upper()
    return upper.startswith("GTI") or upper.startswith("STDGTI")


def gti_sources(hdul: fits.HDUList, only: str | None) -> list[GtiSource]:
    """The GTI extensions of a file (EXTNAME GTI*, STDGTI*), or only the named one."""
    chosen = [
        h for h in hdul
        if isinstance(h, fits.BinTableHDU)
        and (str(h.name).upper() == only.upper() if only is not None else _is_gti_name(str(h.name)))
    ]
    return [GtiSource(h, ccd_of(h)) for h in chosen]


def selected_ccds(sources: Sequence[GtiSource], ccd_counts: Mapping[int, int], total: int) -> set[int]:
    """CCDs with a GTI extension that hold ≥ MIN_CCD_SHARE of all events."""
    with_gti = {s.ccd for s in sources if s.ccd is not None}
    return {ccd for ccd in with_gti if ccd_counts.get(ccd, 0) >= MIN_CCD_SHARE * total}
