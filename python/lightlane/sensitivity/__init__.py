"""Sensitivity (SPEC §23): which lanesheets could an observation detect? Studies of mimic replicates
run through the pipelines' tests (:mod:`.study`), their power and detection limits (:mod:`.power`)
and what a study writes (:mod:`.outputs`)."""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .outputs import LIMIT_LEVELS, StudyOutputs, results_folder, summary_lines, write_outputs
    from .power import DetectionLimit, detection_limit, detection_power, power_rows, unit_tests
    from .study import SensitivityStudy, Vary, compute_unit, open_study, parse_vary, run_study

__all__ = [
    "LIMIT_LEVELS", "DetectionLimit", "SensitivityStudy", "StudyOutputs", "Vary", "compute_unit", "detection_limit",
    "detection_power", "open_study", "parse_vary", "power_rows", "results_folder", "run_study", "summary_lines",
    "unit_tests", "write_outputs",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".outputs": ["LIMIT_LEVELS", "StudyOutputs", "results_folder", "summary_lines", "write_outputs"],
    ".power": ["DetectionLimit", "detection_limit", "detection_power", "power_rows", "unit_tests"],
    ".study": ["SensitivityStudy", "Vary", "compute_unit", "open_study", "parse_vary", "run_study"],
})
