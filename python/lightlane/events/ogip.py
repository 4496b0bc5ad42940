"""One OGIP FITS file being read: its tables, keywords, GTIs and checks (SPEC §6.1 rev 2).

Every error names the file, the HDU and the column or keyword, so a broken
archive file ends in one line a person can act on.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from ..exceptions import DataError, LightlaneWarning, MetadataError
from .gti import gti_sources, intersect_intervals, merge_intervals, selected_ccds

__all__ = ["OgipFile"]

_ENERGY_UNITS = {"ev": "eV", "kev": "keV"}


class OgipFile:
    """One read of one file; holds the context used in error messages."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self.shown = shown
        self.notes: list[str] = []

    def fail(self, message: str, hdu: str | None = None, column: str | None = None) -> DataError:
        where = self.shown
        if hdu:
            where += f"[{hdu}]"
        if column:
            where += f": column {column!r}"
        return DataError(f"{where}: {message}")

    def warn(self, message: str) -> None:
        self.notes.append(message)
        warnings.warn(f"{self.shown}: {message}", LightlaneWarning, stacklevel=4)

    def events_hdu(self, hdul: fits.HDUList) -> fits.BinTableHDU:
        tables = [h for h in hdul if isinstance(h, fits.BinTableHDU)]
        for hdu in tables:
            if str(hdu.name).upper() == "EVENTS":
                return hdu
        for hdu in tables:
            if "time" in {str(n).lower() for n in hdu.columns.names if n}:
                self.warn(f"no EVENTS extension; using {hdu.name!r}, the first table with a TIME column")
                return hdu
        raise self.fail("no EVENTS extension and no table with a TIME column", hdu="EVENTS")

    def column_names(self, hdu: fits.BinTableHDU) -> dict[str, str]:
        """Lower-case name → name of every column; a column without TTYPE makes the table unreadable."""
        names = list(hdu.columns.names)
        for index, name in enumerate(names):
            if not name or not str(name).strip():
                raise self.fail(f"column {index + 1} has no name (TTYPE{index + 1} is missing)", hdu=hdu.name)
        return {str(n).lower(): str(n) for n in names}

    def check_column(self, hdu: fits.BinTableHDU, names: Mapping[str, str], key: str) -> None:
        """A scalar numeric column, judged from the table's storage type alone (no data read)."""
        actual = names[key]
        storage = hdu.columns.dtype.fields[actual][0]
        if storage.shape != ():
            raise self.fail("expected a scalar column", hdu.name, actual)
        fits_format = str(hdu.columns[actual].format)
        if storage.kind not in "iuf" or fits_format.endswith("L"):
            raise self.fail(f"expected a numeric column, got FITS format {fits_format!r}", hdu.name, actual)

    def column(self, hdu: fits.BinTableHDU, names: Mapping[str, str], key: str, dtype: type) -> np.ndarray:
        """A scalar column, converted once to a native-endian array of ``dtype``."""
        actual = names[key]
        self.check_column(hdu, names, key)
        try:
            raw = hdu.data.field(actual)
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise self.fail(f"cannot read column: {exc}", hdu.name, actual) from None
        if np.issubdtype(dtype, np.integer) and raw.dtype.kind == "f":
            values = np.asarray(raw, dtype=np.float64)
            if not np.all(np.isfinite(values) & (values == np.round(values))):
                raise self.fail("expected integer channels, found non-integer values", hdu.name, actual)
        return np.asarray(raw, dtype=dtype)

    def number(self, header: Mapping[str, Any], key: str, hdu: str) -> float | None:
        """A header keyword that must be a finite number when present."""
        if key not in header:
            return None
        value = header[key]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise self.fail(f"keyword {key}: expected a finite number, got {value!r}", hdu=hdu)
        return float(value)

    def timezero(self, header: Mapping[str, Any], hdu: str) -> float:
        """An HDU's own TIMEZERO (0 when absent), added to that HDU's times."""
        return self.number(header, "TIMEZERO", hdu) or 0.0

    def interval_set(self, start: np.ndarray, stop: np.ndarray, hdu: str) -> np.ndarray:
        """Merged [start, stop) intervals whose total length is a finite number."""
        if not (np.all(np.isfinite(start)) and np.all(np.isfinite(stop))):
            raise self.fail("non-finite GTI bounds", hdu, "START")
        merged = merge_intervals(np.column_stack([start, stop]))
        with np.errstate(over="ignore"):
            total = float(np.sum(merged[:, 1] - merged[:, 0]))
        if not math.isfinite(total):
            raise self.fail("the good time intervals have an infinite total length", hdu)
        return merged

    def gtis(self, hdul: fits.HDUList, events: fits.BinTableHDU, names: Mapping[str, str],
             gti_hdu: str | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The dataset's GTIs and, under the per-CCD rule, the mask of raw rows on a selected CCD."""
        sources = gti_sources(hdul, gti_hdu)
        if gti_hdu is not None and not sources:
            raise self.fail("GTI extension not found", hdu=gti_hdu)
        if not sources:
            header = events.header
            if "TSTART" not in header or "TSTOP" not in header:
                raise self.fail("no GTI extension and no TSTART/TSTOP keywords", hdu=events.name)
            self.warn("no GTI extension; using [TSTART, TSTOP] as the only good time interval")
            zero = self.timezero(header, events.name)
            bounds = [self.number(header, key, events.name) for key in ("TSTART", "TSTOP")]
            gti = self.interval_set(np.array([bounds[0]]) + zero, np.array([bounds[1]]) + zero, events.name)
            if len(gti) == 0:
                raise self.fail("no GTI extension and TSTOP ≤ TSTART", hdu=events.name)
            return gti, None
        on_ccd = None
        ccd_column = next((c for c in ("ccd_id", "ccdnr") if c in names), None)
        if ccd_column is not None and all(source.ccd is not None for source in sources):
            ccds = self.column(events, names, ccd_column, np.int64)
            values, counts = np.unique(ccds, return_counts=True)
            chosen = selected_ccds(sources, dict(zip(values.tolist(), counts.tolist())), len(ccds))
            if not chosen:
                raise self.fail("no CCD with a GTI extension holds ≥ 1 % of the events", events.name, ccd_column.upper())
            sources = [source for source in sources if source.ccd in chosen]
            on_ccd = np.isin(ccds, sorted(chosen))
            dropped = len(ccds) - int(np.count_nonzero(on_ccd))
            if dropped:
                others = sorted(set(values.tolist()) - chosen)
                self.warn(f"dropped {dropped} events on CCD(s) {others}: no GTI extension, or under 1 % of the events")
            else:
                on_ccd = None
        gti = None
        for source in sources:
            hdu = source.hdu
            columns = self.column_names(hdu)
            for key in ("start", "stop"):
                if key not in columns:
                    raise self.fail("missing column", hdu.name, key.upper())
            zero = self.timezero(hdu.header, hdu.name)
            start = self.column(hdu, columns, "start", np.float64) + zero
            stop = self.column(hdu, columns, "stop", np.float64) + zero
            own = self.interval_set(start, stop, hdu.name)
            gti = own if gti is None else intersect_intervals(gti, own)
        assert gti is not None
        if len(gti) == 0:
            what = "have no time in common" if len(sources) > 1 else "all have zero length"
            raise self.fail(f"the good time intervals {what}", hdu=sources[0].hdu.name)
        return gti, on_ccd

    def energy_unit(self, hdu: fits.BinTableHDU, actual: str, header: Mapping[str, Any], given: str | None) -> str:
        """eV or keV: the column's TUNIT, else eV for Chandra/XMM, else ``given`` (never a guess)."""
        unit = str(hdu.columns[actual].unit or "").strip()
        if unit:
            found = _ENERGY_UNITS.get(unit.lower())
            if found is None:
                raise self.fail(f"unit {unit!r} is neither eV nor keV", hdu.name, actual)
            if given is not None and given != found:
                raise MetadataError(f"{self.shown}: --energy-unit {given} contradicts column {actual!r}'s unit {unit!r}")
            return found
        if given is not None:
            return given
        telescope = str(header.get("TELESCOP", "")).strip().upper()
        if telescope == "CHANDRA" or telescope.startswith("XMM"):
            return "eV"
        raise MetadataError(
            f"{self.shown}[{hdu.name}]: column {actual!r} has no unit (TUNIT) and TELESCOP {telescope!r} is neither "
            "CHANDRA nor XMM; give its unit with `onboard --energy-unit eV|keV`"
        )

    def verify_checksums(self, hdul: fits.HDUList) -> str:
        """Check every DATASUM/CHECKSUM present; "verified", or "absent" when the file carries none."""
        found = False
        for hdu in hdul:
            for key, check in (("DATASUM", hdu.verify_datasum), ("CHECKSUM", hdu.verify_checksum)):
                if not str(hdu.header.get(key, "")).strip():
                    continue
                found = True
                try:
                    valid = check() == 1
                except (ValueError, TypeError, OSError):
                    valid = False
                if not valid:
                    raise self.fail(f"{key} does not match the contents: the file is damaged or was changed after "
                                    "it was written (onboard --no-verify-checksum accepts it as it is)", hdu=hdu.name)
        return "verified" if found else "absent"
