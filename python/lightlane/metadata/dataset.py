"""DatasetMeta (SPEC §5.2): one event file and how to read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .documents import Document
from .schema import Check, Context, at_least, greater, spec
from .tasks import TaskSpec
from .values import Band, Spectrum, id_check, relative_path_check, seed_check

__all__ = ["CALIBRATIONS", "DatasetTime", "LinearCalibration", "ApparentSpectrum", "DatasetMeta"]

CalibrationName = Literal[
    "chandra-acis", "chandra-hrc", "xmm-epic", "nustar", "linear", "energy-column", "stored-wavelength"
]
CALIBRATIONS: tuple[str, ...] = (
    "chandra-acis", "chandra-hrc", "xmm-epic", "nustar", "linear", "energy-column", "stored-wavelength",
)

_hex64 = Check(lambda v: len(v) == 64 and all(c in "0123456789abcdef" for c in v), "64 lowercase hex digits")


@dataclass(frozen=True)
class DatasetTime:
    """Times in MET seconds after TIMEZERO; exposure is the summed GTI length."""

    tstart_s: float
    tstop_s: float
    gti_count: int = spec(check=at_least(1))
    exposure_s: float = spec(check=greater(0))
    header_tstart_s: float | None = None
    header_tstop_s: float | None = None
    mjdref: float | None = None


@dataclass(frozen=True)
class LinearCalibration:
    offset_kev: float
    slope_kev: float = spec(check=greater(0))


@dataclass(frozen=True)
class ApparentSpectrum:
    """The §12 fit stored at creation, on the band of the processing then in effect."""

    band: Band
    spectrum: Spectrum
    r2: float | None = None  # null when undefined (a flat spectrum, e.g. after flatten)
    flat_warning: bool = False
    n_events: int = spec(0, check=at_least(0))
    exposure_s: float = spec(0.0, check=at_least(0))


@dataclass(frozen=True)
class DatasetMeta(Document):
    """Provenance and reading instructions of one event file."""

    FOLDER: ClassVar[str] = "datasets"

    id: str = spec(check=id_check())
    kind: Literal["raw", "derived", "synthetic"] = spec()
    event_file: str = spec(check=relative_path_check)
    file_sha256: str = spec(check=_hex64)
    synthetic: bool = spec()
    time: DatasetTime = spec()
    event_count: int = spec(check=at_least(0))
    energy_calibration: CalibrationName = spec()
    label: str = ""
    mission: str = ""
    instrument: str = ""
    obs_id: str | None = None
    object: str | None = None
    generation_id: str | None = spec(None, check=id_check())
    parent_id: str | None = spec(None, check=id_check())
    tasks: tuple[TaskSpec, ...] = ()
    coordinates: Literal["sky", "synthetic"] = "sky"
    calibration_params: LinearCalibration | None = None
    channel_column: Literal["pi", "pha"] | None = None
    sort_times: bool = False
    dither_seed: int = spec(0, check=seed_check)
    gti_hdu: str | None = None  # onboard --gti-hdu: the one GTI extension every read uses
    energy_unit: Literal["eV", "keV"] | None = None  # onboard --energy-unit: ENERGY without TUNIT
    time_shift_s: float = 0.0  # (0.5 − TIMEPIXR)·TIMEDEL added to every time at read (SPEC §6.1 rev 2)
    time_tag_fix: Literal["hrc-next-event"] | None = None  # the HRC fix is in these times (raw: applied at read)
    checksum: Literal["verified", "absent", "skipped"] = "absent"  # CHECKSUM/DATASUM at onboard
    apparent_spectrum: ApparentSpectrum | None = None
    created_at: str = ""
    code_version: str = ""
    schema: Literal[1] = 1

    def _validate(self, ctx: Context) -> None:
        if self.synthetic != (self.kind == "synthetic"):
            raise ctx.child("synthetic").error(f"{str(self.kind == 'synthetic').lower()} for kind {self.kind!r}", self.synthetic)
        if self.synthetic and self.generation_id is None:
            raise ctx.child("generation_id").error("required for a synthetic dataset")
        if (self.energy_calibration == "linear") != (self.calibration_params is not None):
            raise ctx.child("calibration_params").error(
                "an object {offset_kev, slope_kev} exactly when energy_calibration is 'linear'", None
                if self.calibration_params is None else "object"
            )
        # Each kind has one place for its file (SPEC §4.1 rev 2): `clean` relies on it to tell
        # generated files from raw ones, and a hand-edited "data" or "." can never name a folder.
        parts = self.event_file.split("/")
        if self.kind == "raw":
            if not (parts[:3] == ["data", "raw", self.id] and len(parts) > 3 and "." not in parts):
                expected = f"a file inside data/raw/{self.id}/ for a raw dataset"
                raise ctx.child("event_file").error(expected, self.event_file)
        elif self.event_file != f"data/{self.kind}/{self.id}.fits":
            expected = f"data/{self.kind}/{self.id}.fits for a {self.kind} dataset"
            raise ctx.child("event_file").error(expected, self.event_file)
