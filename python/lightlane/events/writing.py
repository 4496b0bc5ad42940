"""Event files written by lightlane (SPEC §6.4): EVENTS sorted by time, plus GTI.

Columns keep their exact float64/int values so that write → read is bit-exact.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from ..store.atomic import atomic_path
from ..version import CODE_VERSION

__all__ = ["write_event_file", "provenance_keywords"]

#: lightlane column → (FITS name, TFORM, unit)
_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "time": ("TIME", "D", "s"),
    "wavelength_nm": ("WAVELENGTH", "D", "nm"),
    "energy_kev": ("ENERGY_KEV", "D", "keV"),
    "pi": ("PI", "J", "chan"),
    "x": ("X", "D", None),
    "y": ("Y", "D", None),
    "bin": ("BIN", "I", None),
    "lanecount": ("LANECOUNT", "J", None),
}
_FORMATS = {"i1": "I", "u1": "B", "i2": "I", "u2": "J", "i4": "J", "u4": "K", "i8": "K", "f4": "E", "f8": "D", "b1": "L"}


def provenance_keywords(
    *,
    dataset_id: str,
    parent_id: str | None,
    generation_id: str | None,
    seed: int | None,
    events_hash: str,
    tasks: Sequence[Any],
) -> dict[str, Any]:
    """The LL* keywords every lightlane file carries."""
    return {
        "LLSCHEMA": 1,
        "LLDSID": dataset_id,
        "LLPARENT": parent_id or "",
        "LLGENID": generation_id or "",
        "LLSEED": -1 if seed is None else int(seed),
        "LLHASH": events_hash,
        "LLTASKS": json.dumps(list(tasks), sort_keys=True, separators=(",", ":")),
    }


def _column(name: str, values: np.ndarray) -> fits.Column:
    fits_name, tform, unit = _COLUMNS.get(name, (name.upper(), "", None))
    if not tform:
        tform = _FORMATS.get(values.dtype.str[1:])
        if tform is None:
            raise ValueError(f"column {name!r}: dtype {values.dtype} cannot be written to FITS")
    extra = {"null": -1} if name == "lanecount" else {}
    return fits.Column(name=fits_name, format=tform, unit=unit, array=values, **extra)


def write_event_file(
    path: str | os.PathLike[str],
    events: pl.DataFrame,
    gti: np.ndarray,
    keywords: Mapping[str, Any],
) -> Path:
    """Write an event file atomically and return its path.

    ``events`` must hold ``time`` and ``wavelength_nm``; it is written sorted by
    time (stable). ``keywords`` go into the EVENTS and GTI headers (TELESCOP,
    INSTRUME, MJDREF, the LL* provenance...); TSTART/TSTOP come from the GTIs.
    """
    path = Path(path)
    gti = np.asarray(gti, dtype=np.float64).reshape(-1, 2)
    times = events["time"].to_numpy()
    order = np.argsort(times, kind="stable")
    if not np.all(order == np.arange(len(order))):
        events = events[order]
    columns = [_column(name, events[name].to_numpy()) for name in events.columns]
    header = fits.Header()
    standard = {
        "TIMESYS": "TT", "TIMEUNIT": "s", "TIMEZERO": 0.0,
        "TSTART": float(gti[0, 0]) if len(gti) else 0.0, "TSTOP": float(gti[-1, 1]) if len(gti) else 0.0,
        "CREATOR": f"lightlane {CODE_VERSION}",
    }
    for key, value in {**standard, **keywords}.items():
        header[key] = "" if value is None else value
    events_hdu = fits.BinTableHDU.from_columns(columns, header=header.copy(), name="EVENTS")
    gti_hdu = fits.BinTableHDU.from_columns(
        [fits.Column(name="START", format="D", unit="s", array=gti[:, 0]),
         fits.Column(name="STOP", format="D", unit="s", array=gti[:, 1])],
        header=header.copy(), name="GTI",
    )
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # long LLTASKS strings use CONTINUE cards
        fits.HDUList([fits.PrimaryHDU(), events_hdu, gti_hdu]).writeto(tmp)
    return path
