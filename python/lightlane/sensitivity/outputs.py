"""What a finished sensitivity study produces (SPEC §23): the ``sensitivity`` table, its CSV files,
the power figure and the printed summary.

The power curves are drawn against N̄ at the processing band's centre (the lanesheet's mean
lanecount there, SPEC §7.1) when the varied parameter moves N̄, else against the parameter itself
(a velocity or a heading leaves N̄ unchanged). Detection limits are interpolated on the same axis
(:func:`.power.detection_limit`: linear in power, in log x when every x > 0).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import PrerequisiteError
from ..store.atomic import write_text
from ..store.catalog import Catalog
from ..store.workspace import Workspace
from .power import DetectionLimit, default_plotted, detection_limit, power_rows, ordering_key
from .study import SensitivityStudy

__all__ = ["LIMIT_LEVELS", "StudyOutputs", "results_folder", "write_outputs", "summary_lines"]

#: Power levels of the printed detection limits.
LIMIT_LEVELS: tuple[float, ...] = (0.5, 0.9)

_CSV_COLUMNS = ("study", "parameter", "value_index", "value", "mean_lanecount", "test", "detections", "replicates",
                "power", "ci_low", "ci_high")


@dataclass(frozen=True)
class StudyOutputs:
    """The power table of a study and where it was written."""

    rows: tuple[dict[str, Any], ...]
    tests: tuple[str, ...]
    x: tuple[float, ...]
    x_name: str  # "mean_lanecount" or the varied parameter
    x_label: str
    limits: dict[str, tuple[DetectionLimit, ...]]
    figure: Path
    table: Path
    limits_table: Path


def results_folder(workspace: Workspace, study_id: str) -> Path:
    """``results/sensitivity/<study>/``."""
    return workspace.root / "results" / "sensitivity" / study_id


def _replicate_tests(workspace: Workspace, study: SensitivityStudy) -> list[tuple[int, dict[str, tuple[str, Any]]]]:
    with Catalog.open(workspace.catalog_path) as catalog:
        rows = [r for r in catalog.sensitivity_units(study.study_id) if r["kind"] == "replicate" and r["status"] == "done"]
    wanted = len(study.values) * study.replicates
    if len(rows) != wanted:
        raise PrerequisiteError(f"sensitivity study {study.study_id!r}: {len(rows)} of {wanted} replicate units are "
                                f"done; run the same `lightlane sensitivity` command again to finish it")
    out = []
    for row in rows:
        tests = json.loads(row["tests_json"])
        out.append((int(row["value_index"]), {t: (v["verdict"], v["p_calibrated"]) for t, v in tests.items()}))
    return out


def _axis(study: SensitivityStudy) -> tuple[tuple[float, ...], str, str, bool]:
    """(x, its name, axis label, log scale): N̄ when every value has its own N̄, else the parameter's values."""
    if len(set(study.mean_lanecounts)) == len(study.values):
        x, name, label = study.mean_lanecounts, "mean_lanecount", f"N̄ at λ = {study.centre_nm:.4g} nm (band centre)"
    else:
        x, name, label = study.values, study.parameter, study.parameter
    return x, name, label, min(x) > 0 and max(x) / min(x) >= 10.0


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else repr(v) if isinstance(v, float) else v for v in row] for row in rows])
    return buffer.getvalue()


def write_outputs(workspace: Workspace, study: SensitivityStudy) -> StudyOutputs:
    """Aggregate the done replicate units into the ``sensitivity`` rows (one transaction), the CSV
    files and ``power_<study>.png`` under :func:`results_folder` (each written atomically).

    Raises
    ------
    PrerequisiteError
        Some replicate unit is not done.
    """
    from ..report.drawing import save_figure  # matplotlib loads only when a study is drawn
    from ..report.drawing.sensitivity import PowerCurve, plot_power_curves

    metrics = study.processing.test_metrics
    rows = power_rows(study.values, study.mean_lanecounts, _replicate_tests(workspace, study), study.replicates,
                      study.processing.ci_level, metrics)
    with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
        catalog.replace_sensitivity(cursor, study.study_id, rows)
    tests = tuple(sorted({r["test"] for r in rows}, key=lambda t: ordering_key(t, metrics)))
    x, axis_name, x_label, log_x = _axis(study)
    by_test = {t: [r for r in rows if r["test"] == t] for t in tests}  # value-index order
    limits = {t: tuple(detection_limit(x, [r["power"] for r in by_test[t]], level) for level in LIMIT_LEVELS)
              for t in tests}

    folder = results_folder(workspace, study.study_id)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / f"sensitivity_{study.study_id}.csv"
    ordered = [r for t in tests for r in by_test[t]]
    write_text(table, _csv(_CSV_COLUMNS, [[study.study_id, study.parameter, *(r[c] for c in _CSV_COLUMNS[2:])]
                                          for r in ordered]))
    limits_table = folder / f"limits_{study.study_id}.csv"
    write_text(limits_table, _csv(("study", "test", "power_level", "axis", "status", "side", "limit"),
                                  [[study.study_id, t, lim.level, axis_name, lim.status, lim.side, lim.x]
                                   for t in tests for lim in limits[t]]))
    plotted = default_plotted(tests)
    curves = [PowerCurve(t, *([r[c] for r in by_test[t]] for c in ("power", "ci_low", "ci_high"))) for t in plotted]
    others = len(tests) - len(plotted)
    note = (f"{study.parameter} varied, K = {study.replicates}, R = {study.baseline_runs}"
            + (f"; {others} other tests in {table.name}" if others else ""))
    fig = plot_power_curves(x, curves, alpha=study.processing.significance_level, x_label=x_label, log_x=log_x,
                            study=study.study_id, target=study.target, processing=study.processing.id, note=note)
    figure = save_figure(fig, folder / f"power_{study.study_id}.png")
    return StudyOutputs(rows=tuple(rows), tests=tests, x=tuple(x), x_name=axis_name, x_label=x_label, limits=limits, figure=figure,
                        table=table, limits_table=limits_table)


def _width(text: str) -> int:
    """Printed width: N̄'s bar is a combining character."""
    return sum(not unicodedata.combining(c) for c in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def summary_lines(study: SensitivityStudy, outputs: StudyOutputs) -> list[str]:
    """The printed table: detections of K per value and test, and the detection limits."""
    limit_on = "N̄" if outputs.x_name == "mean_lanecount" else study.parameter
    nbar_head = f"N̄ at {study.centre_nm:.4g} nm"
    head = max([len(t) for t in outputs.tests] + [len(study.parameter), _width(nbar_head), len("test")]) + 2
    width = max(8, len(f"{study.replicates}/{study.replicates}") + 2)
    limit_heads = [f"{limit_on} limit {level * 100:.0f} %" for level in LIMIT_LEVELS]
    limit_width = max(15, *(_width(h) + 3 for h in limit_heads))

    def line(first: str, values: Sequence[str], limits: Sequence[str] = ()) -> str:
        return (_left(first, head) + "".join(_right(v, width) for v in values)
                + "".join(_right(v, limit_width) for v in limits)).rstrip()

    lines = [
        line(study.parameter, [f"{v:.4g}" for v in study.values]),
        line(nbar_head, [f"{n:.3g}" for n in study.mean_lanecounts]),
        line("test", ["" for _ in study.values], limit_heads),
    ]
    for test in outputs.tests:
        found = {r["value_index"]: r["detections"] for r in outputs.rows if r["test"] == test}
        counts = [f"{found.get(i, 0)}/{study.replicates}" for i in range(len(study.values))]
        lines.append(line(test, counts, [lim.text() for lim in outputs.limits[test]]))
    lines.append(f"detections of K = {study.replicates} per value (calibrated SIGNIFICANT, R = {study.baseline_runs} "
                 f"baseline runs, α = {study.processing.significance_level:g}); limit ≤ x: detected with that power "
                 f"up to {limit_on} = x, ≥ x: from x on, > x / < x: at every value tried")
    return lines
