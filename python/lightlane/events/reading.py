"""Reading OGIP event lists (SPEC §6.1–6.3): events in GTIs, with wavelengths.

astropy parses the headers; the rows themselves are read by one of two paths
that give identical results:

* fast: the raw big-endian rows (memory-mapped) go to one Rust call that
  decodes, checks, dithers and GTI-filters only the needed columns;
* general: numpy column reads, for scaled (TZERO/TSCAL) columns, unsorted
  files read with ``sort_times``, passthrough columns, the HRC time-tag fix
  and events dropped by the per-CCD GTI rule.

Rules of SPEC §6.1 rev 2 that decide what a file means: the ENERGY unit comes
from its TUNIT (never guessed outside Chandra/XMM), times move to the centre
of their time-tag bin (TIMEPIXR/TIMEDEL), several GTI extensions are
intersected (:mod:`lightlane.events.gti`), and the HRC fix works on the raw rows.
The file is never written.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import warnings
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

import numpy as np
import polars as pl
from astropy.io import fits
from astropy.io.fits.verify import VerifyError
from astropy.utils.exceptions import AstropyWarning

from .. import _core
from ..exceptions import DataError, LightlaneError, UnsortedTimesError
from ..metadata.dataset import CalibrationName
from .calibrations import HC_KEV_NM, Calibration, detect_calibration, get_calibration
from .event_list import EventList, FileRead
from .gti import merge_intervals
from .ogip import OgipFile

__all__ = ["KEYWORDS", "EventList", "merge_intervals", "read_events"]

log = logging.getLogger("lightlane.ingest")

#: Header keywords kept in :attr:`EventList.header` when present.
KEYWORDS = (
    "TSTART", "TSTOP", "MJDREF", "MJDREFI", "MJDREFF", "TIMEZERO", "TIMEPIXR", "TIMEDEL", "TIMESYS", "TIMEUNIT",
    "TELESCOP", "INSTRUME",
    "OBS_ID", "OBJECT", "LIVETIME", "DTCOR", "EXPOSURE", "CREATOR",
    "LLSCHEMA", "LLDSID", "LLPARENT", "LLGENID", "LLSEED", "LLHASH", "LLTASKS",
)
#: Columns that carry meaning for lightlane; everything else is passthrough.
_KNOWN = ("time", "energy", "pi", "pha", "x", "y", "wavelength", "energy_kev", "bin", "lanecount")
_LIGHTLANE_INT_COLUMNS = {"bin": np.uint16, "lanecount": np.int64}
_SORT_HINT = "; onboard with --sort-times to sort them in memory"
_FAST_TYPES = {"u1", "i2", "i4", "i8", "f4", "f8"}
#: Header keywords that must be finite numbers when present.
_NUMERIC_KEYWORDS = ("TSTART", "TSTOP", "MJDREF", "MJDREFI", "MJDREFF", "TIMEZERO", "TIMEPIXR", "TIMEDEL")
HRC_TIME_TAG_FIX = "hrc-next-event"


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


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file (the arguments of :func:`read_events` after ``path``)."""

    calibration: str | None = None
    dataset_id: str | None = None
    dither_seed: int = 0
    calibration_params: Mapping[str, float] | None = None
    channel_column: str | None = None
    sort_times: bool = False
    gti_hdu: str | None = None
    require_xy: bool = False
    passthrough: bool = False
    wanted: frozenset[str] | None = None
    energy_unit: str | None = None
    time_tag_fix: bool | None = None
    verify_checksum: bool = False


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
    energy_unit: str | None = None,
    time_tag_fix: bool | None = None,
    verify_checksum: bool = False,
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
    energy_unit
        ``"eV"`` or ``"keV"``: the unit of an ENERGY column without TUNIT (needed outside
        Chandra/XMM); contradicting a TUNIT is an error.
    time_tag_fix
        Apply the HRC time-tag fix to the raw rows (t′ᵢ = tᵢ₊₁ after a stable sort, last
        row dropped). None: on for CHANDRA/HRC* files not written by lightlane.
    verify_checksum
        Check the CHECKSUM/DATASUM keywords present; a mismatch is a DataError.

    Returns
    -------
    EventList

    Raises
    ------
    DataError
        Unreadable file, missing HDU or column, NaN or unsorted times, no events left,
        checksum mismatch, an ENERGY unit other than eV/keV.
    MetadataError
        Calibration unknown or not detectable; ENERGY without a unit outside Chandra/XMM.

    Examples
    --------
    >>> events = read_events("acisf10027_evt2.fits")  # doctest: +SKIP
    >>> events.events.select("time", "wavelength_nm").head()  # doctest: +SKIP
    """
    path = Path(path)
    reader = OgipFile(path, display_name or str(path))
    if path.is_dir():
        raise reader.fail("is a folder, not an event file")
    if not path.is_file():
        raise reader.fail("file not found")
    wanted = None if columns is None else frozenset(columns) | ({"x", "y"} if require_xy else set())
    options = ReadOptions(calibration, dataset_id, dither_seed, calibration_params, channel_column, sort_times,
                          gti_hdu, require_xy, passthrough, wanted, energy_unit, time_tag_fix, verify_checksum)
    try:
        with warnings.catch_warnings():
            # Truncated or non-standard files surface as errors below, not as astropy warnings.
            warnings.simplefilter("error", AstropyWarning)
            # We own the handle, so it is closed even when astropy fails halfway through opening.
            with _open_binary(path) as handle, fits.open(handle, memmap=not path.name.endswith(".gz"),
                                                          mode="readonly", lazy_load_hdus=False) as hdul:
                return _read(reader, handle, hdul, options)
    except LightlaneError:
        raise
    except AstropyWarning as exc:
        raise reader.fail(f"damaged FITS file: {_first_line(exc)}") from None
    except (OSError, ValueError, TypeError, IndexError, KeyError, EOFError, VerifyError, zlib.error) as exc:
        raise reader.fail(f"cannot read FITS file: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """Errors are one line: astropy's messages sometimes run over several."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


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

    energy_mode: str  # "channels" | "energy-ev" | "energy-kev" | "wavelength"
    energy_column: str
    energy_kev_column: str | None
    extras: tuple[tuple[str, type], ...]  # (column, output dtype)

    @property
    def energy_unit(self) -> str | None:
        return {"energy-ev": "eV", "energy-kev": "keV"}.get(self.energy_mode)


def _plan(reader: OgipFile, hdu: fits.BinTableHDU, names: Mapping[str, str], header: Mapping[str, Any],
          calibration: Calibration, options: ReadOptions) -> _Plan:
    hdu_name, channel_column = str(hdu.name), options.channel_column
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
        unit = reader.energy_unit(hdu, names["energy"], header, options.energy_unit)
        mode, energy_column, energy_kev_column = f"energy-{unit.lower()}", "energy", None
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


@dataclass(frozen=True)
class _Timing:
    """How raw TIME values become event times, and which raw rows take part."""

    offset_s: float  # TIMEZERO + (0.5 − TIMEPIXR)·TIMEDEL, added to every TIME
    shift_s: float  # the time-tag part of the offset
    hrc_fix: bool  # t′ᵢ = tᵢ₊₁ on the time-sorted raw rows, last row dropped
    on_ccd: np.ndarray | None  # raw rows on a CCD whose GTIs were used (None: all)


def _timing(reader: OgipFile, hdu: fits.BinTableHDU, header: Mapping[str, Any], on_ccd: np.ndarray | None,
            options: ReadOptions) -> _Timing:
    own = hdu.header
    zero = reader.timezero(own, hdu.name)
    pixr, delta = reader.number(own, "TIMEPIXR", hdu.name), reader.number(own, "TIMEDEL", hdu.name)
    shift = (0.5 - pixr) * delta if pixr is not None and delta is not None else 0.0
    if pixr is not None and not 0.0 <= pixr <= 1.0:
        raise reader.fail(f"keyword TIMEPIXR: expected a number in [0, 1], got {pixr!r}", hdu=hdu.name)
    hrc_fix = options.time_tag_fix
    if hrc_fix is None:
        telescope = str(header.get("TELESCOP", "")).strip().upper()
        instrument = str(header.get("INSTRUME", "")).strip().upper()
        hrc_fix = telescope == "CHANDRA" and instrument.startswith("HRC") and "LLSCHEMA" not in header
    return _Timing(zero + shift, shift, hrc_fix, on_ccd)


def _read_fast(reader: OgipFile, hdu: fits.BinTableHDU, handle: IO[bytes], fields: dict[str, tuple[int, str]],
               plan: _Plan, calibration: Calibration, dither_seed: int, dataset_key: int, gti: np.ndarray,
               offset_s: float, wanted: frozenset[str] | None = None) -> tuple[dict[str, np.ndarray], int, int]:
    """One Rust pass over the raw big-endian rows: decode, check, dither, filter.

    Only the wanted columns are produced. When the rows are a read-only memory map of the
    file, the extension itself sees that and releases their pages as they are consumed, so
    a huge file never becomes resident as a whole.
    """
    rows, row_bytes = int(hdu.header["NAXIS2"]), int(hdu.header["NAXIS1"])
    raw = _raw_rows(hdu, handle, rows, row_bytes)
    plan_extras = [(c, out) for c, out in plan.extras if wanted is None or c in wanted]
    with_energy = wanted is None or "energy_kev" in wanted

    def field(column: str) -> _core.FieldSpec:
        offset, code = fields[column]
        return {"offset": offset, "code": code}

    spec: _core.IngestSpec = {
        "row_bytes": row_bytes, "rows": rows, "time_field": field("time"), "timezero_s": offset_s,
        "energy_mode": plan.energy_mode, "energy_field": field(plan.energy_column),
        "energy_kev_field": field(plan.energy_kev_column) if plan.energy_kev_column else None,
        "calibration_name": calibration.name if calibration.uses_channels else "chandra-acis",
        "offset_kev": calibration.offset_kev, "slope_kev": calibration.slope_kev,
        "dither_seed": dither_seed, "dataset_key": dataset_key,
        "extra": [{"offset": fields[column][0], "code": fields[column][1],
                   "integer": bool(np.issubdtype(out, np.integer))} for column, out in plan_extras],
        "with_energy": with_energy,
    }
    time, energy, wavelength, extra_columns, outside, invalid = _core.ingest_table(
        raw, spec, np.ascontiguousarray(gti[:, 0]), np.ascontiguousarray(gti[:, 1]))
    data = {"time": time, "wavelength_nm": wavelength}
    if with_energy:
        data["energy_kev"] = energy
    for (column, out), values in zip(plan_extras, extra_columns):
        data[column] = values if values.dtype == out else values.astype(out)
    return data, outside, invalid


def _row_order(reader: OgipFile, times: np.ndarray, timing: _Timing, sort_times: bool,
               hdu_name: str, column: str) -> tuple[np.ndarray | None, np.ndarray]:
    """Raw rows in output order (None: file order) and their event times.

    The HRC fix gives each time-sorted raw row its successor's time and drops the
    last row, before any filtering, so no event borrows the time of a dropped one.
    """
    if not np.all(np.isfinite(times)):
        bad = int(np.flatnonzero(~np.isfinite(times))[0])
        raise reader.fail(f"non-finite time at row {bad + 1}", hdu_name, column)
    decreasing = np.flatnonzero(times[1:] < times[:-1])
    if timing.hrc_fix:
        order = np.argsort(times, kind="stable") if len(decreasing) else np.arange(len(times))
        return order[:-1], times[order][1:]
    if len(decreasing) and not sort_times:
        raise reader.fail(f"times are not non-decreasing at row {int(decreasing[0]) + 2}{_SORT_HINT}", hdu_name, column)
    if len(decreasing):
        order = np.argsort(times, kind="stable")
        return order, times[order]
    return None, times


def _read_numpy(reader: OgipFile, hdu: fits.BinTableHDU, names: Mapping[str, str], plan: _Plan,
                calibration: Calibration, dither_seed: int, dataset_key: int, gti: np.ndarray,
                timing: _Timing, options: ReadOptions) -> tuple[dict[str, np.ndarray], int, int, int]:
    """The general path: scaled or exotic columns, unsorted files, passthrough, HRC fix, per-CCD rows."""
    hdu_name = str(hdu.name)
    raw_times = reader.column(hdu, names, "time", np.float64) + timing.offset_s
    order, times = _row_order(reader, raw_times, timing, options.sort_times, hdu_name, names["time"])

    columns: dict[str, np.ndarray] = {}
    for column, out in plan.extras:
        columns[column] = reader.column(hdu, names, column, out)
    if plan.energy_mode == "channels":
        energy_kev, wavelength_nm = calibration.dither(columns[plan.energy_column], dither_seed, dataset_key)
    elif plan.energy_unit is not None:
        energy = reader.column(hdu, names, "energy", np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            energy_kev = np.where(energy > 0, energy / (1000.0 if plan.energy_unit == "eV" else 1.0), np.nan)
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
    if options.passthrough:
        for lower, actual in names.items():
            raw = hdu.data.field(actual)
            if lower not in _KNOWN and lower not in columns and raw.ndim == 1:
                columns[lower] = np.asarray(raw).astype(raw.dtype.newbyteorder("="), copy=False)

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    on_ccd = np.ones(len(times), dtype=bool) if timing.on_ccd is None else ordered(timing.on_ccd)
    in_gti = _in_gtis_sorted(times, gti)
    keep = on_ccd & in_gti & np.isfinite(ordered(wavelength_nm))
    kept = int(np.count_nonzero(keep))
    other_ccds = int(len(times) - np.count_nonzero(on_ccd))
    outside = int(np.count_nonzero(on_ccd & ~in_gti))
    selection = _as_slice(keep, kept) if order is None and kept else None

    def finish(values: np.ndarray) -> np.ndarray:
        if selection is not None:
            return values[selection]  # a view: no copy
        return ordered(values)[keep]

    data = {"time": times[selection] if selection is not None else times[keep],
            "wavelength_nm": finish(wavelength_nm), "energy_kev": finish(energy_kev)}
    data.update({column: finish(values) for column, values in columns.items()})
    return data, outside, int(len(times) - other_ccds - outside - kept), other_ccds


def _read(reader: OgipFile, handle: IO[bytes], hdul: fits.HDUList, options: ReadOptions) -> EventList:
    checksum = reader.verify_checksums(hdul) if options.verify_checksum else "skipped"
    events_hdu = reader.events_hdu(hdul)
    hdu_name = str(events_hdu.name)
    names = reader.column_names(events_hdu)
    header = _header_keywords(hdul, events_hdu)
    for key in _NUMERIC_KEYWORDS:
        reader.number(header, key, hdu_name)
    if "time" not in names:
        raise reader.fail("missing required column", hdu_name, "TIME")
    if options.require_xy:
        for axis in ("x", "y"):
            if axis not in names:
                raise reader.fail("missing column (needed by crop/mask)", hdu_name, axis.upper())
    name = options.calibration or detect_calibration(header, names, reader.shown)
    calibration = get_calibration(name, options.calibration_params, reader.shown)
    plan = _plan(reader, events_hdu, names, header, calibration, options)
    raw_rows = int(events_hdu.header.get("NAXIS2", 0))
    if raw_rows == 0:
        raise reader.fail("no events in the file", hdu_name)
    for column in ("time", plan.energy_column, *(column for column, _ in plan.extras)):
        reader.check_column(events_hdu, names, column)
    gti, on_ccd = reader.gtis(hdul, events_hdu, names, options.gti_hdu)
    timing = _timing(reader, events_hdu, header, on_ccd, options)
    dataset_key = _core.str_u64(options.dataset_id if options.dataset_id is not None else reader.path.name)

    general = options.passthrough or timing.hrc_fix or timing.on_ccd is not None
    fields = None if general else _fast_fields(events_hdu, names, plan)
    data = None
    other_ccds = 0
    if fields is not None:
        try:
            data, outside, invalid = _read_fast(reader, events_hdu, handle, fields, plan, calibration,
                                                options.dither_seed, dataset_key, gti, timing.offset_s, options.wanted)
        except UnsortedTimesError as exc:
            if not options.sort_times:  # else the general path below sorts them
                raise reader.fail(f"{exc}{_SORT_HINT}", hdu_name, names["time"]) from None
        except DataError as exc:
            raise reader.fail(str(exc), hdu_name, names["time"]) from None
    if data is None:
        data, outside, invalid, other_ccds = _read_numpy(reader, events_hdu, names, plan, calibration,
                                                         options.dither_seed, dataset_key, gti, timing, options)
    omitted: tuple[str, ...] = ()
    wanted = options.wanted
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
    # The reader checked these strings against their vocabularies; the casts only say so to the type checker.
    read = FileRead(
        path=reader.path, calibration=cast(CalibrationName, name),
        channel_column=cast(Literal["pi", "pha"] | None, used_channel), raw_rows=raw_rows,
        dropped_outside_gti=outside, dropped_invalid_energy=invalid, warnings=tuple(reader.notes), omitted=omitted,
        dropped_other_ccds=other_ccds, time_shift_s=timing.shift_s,
        energy_unit=cast(Literal["eV", "keV"] | None, plan.energy_unit),
        checksum=cast(Literal["verified", "absent", "skipped"], checksum),
    )
    return EventList(events=pl.DataFrame(data), gti=gti, mission=telescope, instrument=instrument, header=header,
                     mjdref=_mjdref(header), time_tag_fix="hrc-next-event" if timing.hrc_fix else None, read=read)


def _mjdref(header: Mapping[str, Any]) -> float | None:
    if "MJDREF" in header:
        return float(header["MJDREF"])
    if "MJDREFI" in header:
        return float(header["MJDREFI"]) + float(header.get("MJDREFF", 0.0))
    return None
