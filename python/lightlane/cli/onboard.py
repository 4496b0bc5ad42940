"""``lightlane onboard FILE --id ID``: register a raw event file."""

# No `from __future__ import annotations` in CLI option modules: argparse-dataclass
# reads the field types at runtime (and needs typing.Optional, not `X | None`).


from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Validate, hash and copy (or link) an event file into data/raw/<id>/."""

    file: str = field(metadata={"args": ["file"], "help": "event file (FITS or FITS.gz)"})
    id: str = field(metadata={"help": "new dataset id, [a-z0-9_-]{1,64}"})
    calibration: Optional[str] = field(default=None, metadata={"help": "override the auto-detected calibration"})
    calibration_params: Optional[str] = field(
        default=None, metadata={"help": 'JSON {"offset_kev": o, "slope_kev": s} for --calibration linear'}
    )
    link: bool = field(default=False, metadata={"help": "symlink instead of copying"})
    sort_times: bool = field(default=False, metadata={"help": "sort unsorted times in memory"})
    gti_hdu: Optional[str] = field(default=None, metadata={"help": "use only this GTI extension"})
    processing: Optional[str] = field(default=None, metadata={"help": "processing whose band the spectrum uses"})
    energy_unit: Optional[str] = field(
        default=None, metadata={"choices": ["eV", "keV"], "help": "unit of an ENERGY column without TUNIT"}
    )
    no_verify_checksum: bool = field(
        default=False, metadata={"help": "accept a file whose CHECKSUM/DATASUM do not match (recorded)"}
    )
    no_hrc_time_fix: bool = field(default=False, metadata={"help": "do not apply the HRC time-tag fix at read"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: reading FITS loads astropy and polars, which `lightlane onboard --help` does not need.
    from ..datasets.onboard import OnboardOptions, onboard_file, parse_calibration_params

    params = None if options.calibration_params is None else parse_calibration_params(options.calibration_params)
    workspace = globals_.ws
    workspace.require_initialised()
    onboard_options = OnboardOptions(
        calibration=options.calibration, calibration_params=params, link=options.link, sort_times=options.sort_times,
        gti_hdu=options.gti_hdu, processing=options.processing, energy_unit=options.energy_unit,
        verify_checksum=not options.no_verify_checksum, hrc_time_fix=not options.no_hrc_time_fix,
    )
    with workspace.lock():
        meta = onboard_file(workspace, options.file, options.id, onboard_options)
    say(
        f"onboarded {meta.id}: {meta.event_count} events, {meta.time.gti_count} GTIs, "
        f"exposure {meta.time.exposure_s:.1f} s, calibration {meta.energy_calibration} → {meta.event_file}"
    )
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane onboard", description=Options.__doc__ or "")
