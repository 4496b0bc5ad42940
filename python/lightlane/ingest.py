"""Reading OGIP event lists (SPEC §6.1–6.3): events in GTIs, with wavelengths.

astropy parses the headers; the rows themselves are read by one of two paths
that give identical results:

* fast: the raw big-endian rows (memory-mapped) go to one Rust call that
  decodes, checks, dithers and GTI-filters only the needed columns;
* general: numpy column reads, for scaled (TZERO/TSCAL) columns, unsorted
  files read with ``sort_times`` and passthrough columns.

The file is never written.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl
from astropy.io import fits
from astropy.io.fits.verify import VerifyError
from astropy.utils.exceptions import AstropyWarning

from . import _core
from .calibrations import HC_KEV_NM, Calibration, detect_calibration, get_calibration
from .exceptions import DataError, LightlaneError, LightlaneWarning
from .hashing import events_hash

__all__ = ["EventList", "read_events", "merge_intervals", "KEYWORDS"]

log = logging.getLogger("lightlane.ingest")

#: Header keywords kept in :attr:`EventList.header` when present.
KEYWORDS = (
    "TSTART", "TSTOP", "MJDREF", "MJDREFI", "MJDREFF", "TIMEZERO", "TIMESYS", "TIMEUNIT", "TELESCOP", "INSTRUME",
    "OBS_ID", "OBJECT", "LIVETIME", "DTCOR", "EXPOSURE", "CREATOR",
    "LLSCHEMA", "LLDSID", "LLPARENT", "LLGENID", "LLSEED", "LLHASH", "LLTASKS",
)
#: Columns that carry meaning for lightlane; everything else is passthrough.
_KNOWN = ("time", "energy", "pi", "pha", "x", "y", "wavelength", "energy_kev", "bin", "lanecount")
_LIGHTLANE_INT_COLUMNS = {"bin": np.uint16, "lanecount": np.int64}
_SORT_HINT = "; onboard with --sort-times to sort them in memory"
_FAST_TYPES = {"u1", "i2", "i4", "i8", "f4", "f8"}


@dataclass(frozen=True)
class EventList:
    """Events inside the GTIs with a valid energy, in file order (or sorted).

    ``events`` is a polars DataFrame with ``time`` [s, MET after TIMEZERO],
    ``wavelength_nm``, ``energy_kev`` and, when present, ``pi``/``pha``, ``x``, ``y``.
    """

    events: pl.DataFrame
    gti: np.ndarray
    header: dict[str, Any]
    mission: str
    instrument: str
    path: Path
    calibration: str
    channel_column: str | None
    raw_rows: int
    dropped_outside_gti: int
    dropped_invalid_energy: int
    warnings: tuple[str, ...] = field(default=())
    omitted: tuple[str, ...] = field(default=())

    @property
    def exposure_s(self) -> float:
        return float(np.sum(self.gti[:, 1] - self.gti[:, 0]))

    @property
    def tstart_s(self) -> float:
        return float(self.gti[0, 0])

    @property
    def tstop_s(self) -> float:
        return float(self.gti[-1, 1])

    @property
    def mjdref(self) -> float | None:
        if "MJDREF" in self.header:
            return float(self.header["MJDREF"])
        if "MJDREFI" in self.header:
            return float(self.header["MJDREFI"]) + float(self.header.get("MJDREFF", 0.0))
        return None

    def events_hash(self) -> str:
        """SHA-256 of time, wavelength, x, y and the GTI bounds (SPEC §4.4)."""
        if {"x", "y"} & set(self.omitted):
            raise DataError(f"{self.path}: events_hash needs the x/y columns, which this read left out")
        columns = self.events.columns
        pick = [self.events["time"], self.events["wavelength_nm"]]
        pick += [self.events[c] if c in columns else None for c in ("x", "y")]
        arrays = [None if c is None else c.to_numpy() for c in pick]
        return events_hash([*arrays, self.gti[:, 0], self.gti[:, 1]])


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


def _in_gtis_sorted(sorted_times: np.ndarray, gti: np.ndarray) -> np.ndarray:
    """Mask of sorted times inside any [start, stop) of merged GTIs.

    Each GTI is one index range of the sorted times found by bisection, so the
    cost is O(GTIs · log n) plus filling the mask.
    """
    lo = np.searchsorted(sorted_times, gti[:, 0], side="left")
    hi = np.searchsorted(sorted_times, gti[:, 1], side="left")
    inside = np.zeros(len(sorted_times), dtype=bool)
    for first, stop in zip(lo, hi):
        inside[first:stop] = True
    return inside


def _as_slice(keep: np.ndarray, kept: int) -> slice | None:
    """The mask as a slice when the kept rows are contiguous (one GTI, all energies valid)."""
    first = int(np.argmax(keep))
    return slice(first, first + kept) if keep[first:first + kept].all() else None


class _Reader:
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
            if "time" in {n.lower() for n in hdu.columns.names}:
                self.warn(f"no EVENTS extension; using {hdu.name!r}, the first table with a TIME column")
                return hdu
        raise self.fail("no EVENTS extension and no table with a TIME column", hdu="EVENTS")

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

    def gtis(self, hdul: fits.HDUList, events: fits.BinTableHDU, gti_hdu: str | None) -> np.ndarray:
        if gti_hdu is not None:
            chosen = [h for h in hdul if str(h.name).upper() == gti_hdu.upper()]
            if not chosen:
                raise self.fail("GTI extension not found", hdu=gti_hdu)
        else:
            chosen = [
                h for h in hdul
                if isinstance(h, fits.BinTableHDU) and (h.name.upper() == "GTI" or h.name.upper().startswith("STDGTI"))
            ]
        if not chosen:
            header = events.header
            if "TSTART" not in header or "TSTOP" not in header:
                raise self.fail("no GTI extension and no TSTART/TSTOP keywords", hdu=events.name)
            self.warn("no GTI extension; using [TSTART, TSTOP] as the only good time interval")
            zero = float(header.get("TIMEZERO", 0.0))
            return np.array([[float(header["TSTART"]) + zero, float(header["TSTOP"]) + zero]])
        parts = []
        for hdu in chosen:
            names = {n.lower(): n for n in hdu.columns.names} if isinstance(hdu, fits.BinTableHDU) else {}
            for key in ("start", "stop"):
                if key not in names:
                    raise self.fail("missing column", hdu.name, key.upper())
            zero = float(hdu.header.get("TIMEZERO", 0.0))
            start = self.column(hdu, names, "start", np.float64) + zero
            stop = self.column(hdu, names, "stop", np.float64) + zero
            if not (np.all(np.isfinite(start)) and np.all(np.isfinite(stop))):
                raise self.fail("non-finite GTI bounds", hdu.name, "START")
            parts.append(np.column_stack([start, stop]))
        merged = merge_intervals(np.concatenate(parts))
        if len(merged) == 0:
            raise self.fail("all good time intervals have zero length", hdu=chosen[0].name)
        return merged


def read_events(
    path: str | os.PathLike[str],
    calibration: str | None = None,
    *,
    dataset_id: str | None = None,
    dither_seed: int = 0,
    calibration_params: Mapping[str, float] | None = None,
    channel_column: str | None = None,
    sort_times: bool = False,
    gti_hdu: str | None = None,
    require_xy: bool = False,
    passthrough: bool = False,
    columns: Collection[str] | None = None,
    display_name: str | None = None,
) -> EventList:
    """Read an OGIP event list: GTI-filtered events with wavelengths.

    Parameters
    ----------
    path
        FITS event file (``.gz`` is read transparently). Never modified.
    calibration
        Calibration name (SPEC §6.2); ``None`` auto-detects it from the header.
    dataset_id
        Keys the dithering stream; defaults to the file name. Use the dataset id
        so re-reads give bit-identical wavelengths.
    dither_seed
        Seed of the dithering stream.
    calibration_params
        ``{offset_kev, slope_kev}`` for the ``linear`` calibration.
    channel_column
        ``"pi"`` or ``"pha"``; default PI, else PHA (with a warning).
    sort_times
        Sort events by time in memory instead of rejecting unsorted times.
    gti_hdu
        Use only this GTI extension.
    require_xy
        Raise if X/Y are missing (crop and mask need them).
    passthrough
        Also read every other scalar column (lower-cased names).
    columns
        Keep only these columns besides ``time`` and ``wavelength_nm`` (e.g. ``("x", "y")``;
        ``"energy_kev"`` to keep energies); None keeps all. Large analyses read less this way.
    display_name
        How errors name the file (default: the path).

    Returns
    -------
    EventList

    Raises
    ------
    DataError
        Unreadable file, missing HDU or column, NaN or unsorted times, no events left.
    MetadataError
        Calibration unknown or not detectable.

    Examples
    --------
    >>> events = read_events("acisf10027_evt2.fits")  # doctest: +SKIP
    >>> events.events.select("time", "wavelength_nm").head()  # doctest: +SKIP
    """
    path = Path(path)
    reader = _Reader(path, display_name or str(path))
    if not path.is_file():
        raise reader.fail("file not found")
    try:
        with warnings.catch_warnings():
            # Truncated or non-standard files surface as errors below, not as astropy warnings.
            warnings.simplefilter("error", AstropyWarning)
            # We own the handle, so it is closed even when astropy fails halfway through opening.
            with _open_binary(path) as handle, fits.open(handle, memmap=not path.name.endswith(".gz"),
                                                          mode="readonly", lazy_load_hdus=False) as hdul:
                wanted = None if columns is None else frozenset(columns) | ({"x", "y"} if require_xy else set())
                return _read(reader, handle, hdul, calibration, dataset_id, dither_seed, calibration_params,
                             channel_column, sort_times, gti_hdu, require_xy, passthrough, wanted)
    except LightlaneError:
        raise
    except AstropyWarning as exc:
        raise reader.fail(f"damaged FITS file: {exc}") from None
    except (OSError, ValueError, TypeError, IndexError, KeyError, EOFError, VerifyError) as exc:
        raise reader.fail(f"cannot read FITS file: {exc}") from None


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # noqa: SIM115


def _header_keywords(hdul: fits.HDUList, events: fits.BinTableHDU) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for source in (hdul[0].header, events.header):
        for key in KEYWORDS:
            if key in source:
                header[key] = source[key]
    return header


@dataclass(frozen=True)
class _Plan:
    """Which columns feed the event table, by lower-case name."""

    energy_mode: str  # "channels" | "energy-ev" | "wavelength"
    energy_column: str
    energy_kev_column: str | None
    extras: tuple[tuple[str, type], ...]  # (column, output dtype)


def _plan(reader: _Reader, names: Mapping[str, str], hdu_name: str, calibration: Calibration,
          channel_column: str | None) -> _Plan:
    extras: list[tuple[str, type]] = []
    if calibration.uses_channels:
        used = channel_column or ("pi" if "pi" in names else "pha" if "pha" in names else None)
        if used is None or used not in names:
            raise reader.fail(f"no ENERGY, PI or PHA column for calibration {calibration.name!r}", hdu_name, "PI")
        if used == "pha":
            reader.warn("using PHA: it is not gain-corrected; prefer PI when the file has it")
        mode, energy_column, energy_kev_column = "channels", used, None
        extras.append((used, np.int64))
    elif calibration.name == "energy-column":
        if "energy" not in names:
            raise reader.fail("missing column for calibration 'energy-column'", hdu_name, "ENERGY")
        mode, energy_column, energy_kev_column = "energy-ev", "energy", None
    else:  # stored-wavelength
        if "wavelength" not in names:
            raise reader.fail("missing column for calibration 'stored-wavelength'", hdu_name, "WAVELENGTH")
        mode, energy_column = "wavelength", "wavelength"
        energy_kev_column = "energy_kev" if "energy_kev" in names else None
        if "pi" in names:
            extras.append(("pi", np.int64))
    extras += [(axis, np.float64) for axis in ("x", "y") if axis in names]
    extras += [(column, dtype) for column, dtype in _LIGHTLANE_INT_COLUMNS.items() if column in names]
    return _Plan(mode, energy_column, energy_kev_column, tuple(extras))


def _fast_fields(hdu: fits.BinTableHDU, names: Mapping[str, str], plan: _Plan) -> dict[str, tuple[int, str]] | None:
    """Byte offset and type of every planned column, or None when the Rust path cannot read them."""
    dtype = hdu.columns.dtype  # from the header: the data are not loaded
    wanted = ["time", plan.energy_column, *([plan.energy_kev_column] if plan.energy_kev_column else [])]
    wanted += [column for column, _ in plan.extras]
    integer = {plan.energy_column} if plan.energy_mode == "channels" else set()
    integer |= {column for column, out in plan.extras if np.issubdtype(out, np.integer)}
    fields = {}
    for column in dict.fromkeys(wanted):
        actual = names[column]
        field_dtype, offset = dtype.fields[actual][:2]
        code = field_dtype.str[1:]
        fits_column = hdu.columns[actual]
        scaled = fits_column.bscale not in (None, 1) or fits_column.bzero not in (None, 0)
        if field_dtype.shape != () or code not in _FAST_TYPES or scaled:
            return None
        if column in integer and field_dtype.kind == "f":
            return None
        fields[column] = (int(offset), code)
    return fields


def _raw_rows(hdu: fits.BinTableHDU, handle: IO[bytes], rows: int, row_bytes: int) -> np.ndarray:
    """The table's raw big-endian bytes: memory-mapped from a plain file, else from astropy."""
    if isinstance(handle, io.BufferedReader):
        offset = int(hdu.fileinfo()["datLoc"])
        return np.memmap(handle, dtype=np.uint8, mode="r", offset=offset, shape=(rows * row_bytes,))
    records = np.ascontiguousarray(np.asarray(hdu.data))
    return records.view(np.uint8).reshape(-1)


def _read_fast(reader: _Reader, hdu: fits.BinTableHDU, handle: IO[bytes], fields: dict[str, tuple[int, str]],
               plan: _Plan, calibration: Calibration, dither_seed: int, dataset_key: int, gti: np.ndarray,
               wanted: frozenset[str] | None = None) -> tuple[dict[str, np.ndarray], int, int]:
    """One Rust pass over the raw big-endian rows: decode, check, dither, filter.

    Only the wanted columns are produced; the pages of a memory-mapped file are released
    as they are consumed, so a huge file never becomes resident as a whole.
    """
    rows, row_bytes = int(hdu.header["NAXIS2"]), int(hdu.header["NAXIS1"])
    raw = _raw_rows(hdu, handle, rows, row_bytes)
    plan_extras = [(c, out) for c, out in plan.extras if wanted is None or c in wanted]
    extras = [(fields[column][0], fields[column][1], bool(np.issubdtype(out, np.integer))) for column, out in plan_extras]
    with_energy = wanted is None or "energy_kev" in wanted
    time, energy, wavelength, extra_columns, outside, invalid = _core.ingest_table(
        raw, row_bytes, rows, fields["time"], float(hdu.header.get("TIMEZERO", 0.0)),
        plan.energy_mode, fields[plan.energy_column],
        fields[plan.energy_kev_column] if plan.energy_kev_column else None,
        calibration.name if calibration.uses_channels else "chandra-acis",
        calibration.offset_kev, calibration.slope_kev, dither_seed, dataset_key, extras,
        np.ascontiguousarray(gti[:, 0]), np.ascontiguousarray(gti[:, 1]),
        with_energy, isinstance(raw, np.memmap),
    )
    data = {"time": time, "wavelength_nm": wavelength}
    if with_energy:
        data["energy_kev"] = energy
    for (column, out), values in zip(plan_extras, extra_columns):
        data[column] = values if values.dtype == out else values.astype(out)
    return data, outside, invalid


def _read_numpy(reader: _Reader, hdu: fits.BinTableHDU, names: Mapping[str, str], plan: _Plan,
                calibration: Calibration, dither_seed: int, dataset_key: int, gti: np.ndarray,
                sort_times: bool, passthrough: bool) -> tuple[dict[str, np.ndarray], int, int]:
    """The general path: scaled or vector-free exotic columns, unsorted files, passthrough columns."""
    hdu_name = str(hdu.name)
    times = reader.column(hdu, names, "time", np.float64) + float(hdu.header.get("TIMEZERO", 0.0))
    if not np.all(np.isfinite(times)):
        bad = int(np.flatnonzero(~np.isfinite(times))[0])
        raise reader.fail(f"non-finite time at row {bad + 1}", hdu_name, names["time"])
    order = None
    decreasing = np.flatnonzero(times[1:] < times[:-1])
    if len(decreasing) and not sort_times:
        raise reader.fail(f"times are not non-decreasing at row {int(decreasing[0]) + 2}{_SORT_HINT}",
                          hdu_name, names["time"])
    if len(decreasing):
        order = np.argsort(times, kind="stable")

    columns: dict[str, np.ndarray] = {}
    for column, out in plan.extras:
        columns[column] = reader.column(hdu, names, column, out)
    if plan.energy_mode == "channels":
        energy_kev, wavelength_nm = calibration.dither(columns[plan.energy_column], dither_seed, dataset_key)
    elif plan.energy_mode == "energy-ev":
        energy_ev = reader.column(hdu, names, "energy", np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            energy_kev = np.where(energy_ev > 0, energy_ev / 1000.0, np.nan)
            wavelength_nm = HC_KEV_NM / energy_kev
    else:
        wavelength_nm = reader.column(hdu, names, "wavelength", np.float64)
        wavelength_nm = np.where(wavelength_nm > 0, wavelength_nm, np.nan)
        if plan.energy_kev_column:
            energy_kev = reader.column(hdu, names, plan.energy_kev_column, np.float64)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                energy_kev = HC_KEV_NM / wavelength_nm
        energy_kev = np.where(np.isfinite(wavelength_nm), energy_kev, np.nan)
    if passthrough:
        for lower, actual in names.items():
            raw = hdu.data.field(actual)
            if lower not in _KNOWN and lower not in columns and raw.ndim == 1:
                columns[lower] = np.asarray(raw).astype(raw.dtype.newbyteorder("="), copy=False)

    in_gti = _in_gtis_sorted(times if order is None else times[order], gti)
    keep = in_gti & np.isfinite(wavelength_nm if order is None else wavelength_nm[order])
    kept = int(np.count_nonzero(keep))
    outside = int(len(times) - np.count_nonzero(in_gti))
    selection = _as_slice(keep, kept) if order is None and kept else None

    def finish(values: np.ndarray) -> np.ndarray:
        if selection is not None:
            return values[selection]  # a view: no copy
        return (values if order is None else values[order])[keep]

    data = {"time": finish(times), "wavelength_nm": finish(wavelength_nm), "energy_kev": finish(energy_kev)}
    data.update({column: finish(values) for column, values in columns.items()})
    return data, outside, int(len(times) - outside - kept)


def _read(
    reader: _Reader,
    handle: IO[bytes],
    hdul: fits.HDUList,
    calibration_name: str | None,
    dataset_id: str | None,
    dither_seed: int,
    calibration_params: Mapping[str, float] | None,
    channel_column: str | None,
    sort_times: bool,
    gti_hdu: str | None,
    require_xy: bool,
    passthrough: bool,
    wanted: frozenset[str] | None,
) -> EventList:
    events_hdu = reader.events_hdu(hdul)
    hdu_name = str(events_hdu.name)
    names = {n.lower(): n for n in events_hdu.columns.names}
    header = _header_keywords(hdul, events_hdu)
    if "time" not in names:
        raise reader.fail("missing required column", hdu_name, "TIME")
    if require_xy:
        for axis in ("x", "y"):
            if axis not in names:
                raise reader.fail("missing column (needed by crop/mask)", hdu_name, axis.upper())
    name = calibration_name or detect_calibration(header, names, reader.shown)
    calibration = get_calibration(name, calibration_params, reader.shown)
    plan = _plan(reader, names, hdu_name, calibration, channel_column)
    raw_rows = int(events_hdu.header.get("NAXIS2", 0))
    if raw_rows == 0:
        raise reader.fail("no events in the file", hdu_name)
    for column in ("time", plan.energy_column, *(column for column, _ in plan.extras)):
        reader.check_column(events_hdu, names, column)
    gti = reader.gtis(hdul, events_hdu, gti_hdu)
    dataset_key = _core.str_u64(dataset_id if dataset_id is not None else reader.path.name)

    fields = None if passthrough else _fast_fields(events_hdu, names, plan)
    data = None
    if fields is not None:
        try:
            data, outside, invalid = _read_fast(reader, events_hdu, handle, fields, plan, calibration,
                                                dither_seed, dataset_key, gti, wanted)
        except DataError as exc:
            if not (sort_times and "non-decreasing" in str(exc)):
                hint = _SORT_HINT if "non-decreasing" in str(exc) else ""
                raise reader.fail(f"{exc}{hint}", hdu_name, names["time"]) from None
    if data is None:
        data, outside, invalid = _read_numpy(reader, events_hdu, names, plan, calibration, dither_seed,
                                             dataset_key, gti, sort_times, passthrough)
    omitted: tuple[str, ...] = ()
    if wanted is not None:
        omitted = tuple(c for c in data if c not in ("time", "wavelength_nm") and c not in wanted)
        omitted += tuple(c for c in ("x", "y") if c in names and c not in wanted and c not in omitted)
        data = {c: v for c, v in data.items() if c not in omitted}
    if outside:
        log.info("%s: dropped %d events outside the GTIs", reader.shown, outside)
    if invalid:
        reader.warn(f"dropped {invalid} events with E ≤ 0 or a channel outside the valid range")
    if len(data["time"]) == 0:
        raise reader.fail("no events left after GTI and energy filtering", hdu_name)
    used_channel = plan.energy_column if plan.energy_mode == "channels" else None
    telescope = str(header.get("TELESCOP", "")).strip()
    instrument = str(header.get("INSTRUME", "")).strip()
    return EventList(
        events=pl.DataFrame(data),
        gti=gti,
        header=header,
        mission=telescope,
        instrument=instrument,
        path=reader.path,
        calibration=name,
        channel_column=used_channel,
        raw_rows=raw_rows,
        dropped_outside_gti=outside,
        dropped_invalid_energy=invalid,
        warnings=tuple(reader.notes),
        omitted=omitted,
    )
