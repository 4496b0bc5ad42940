"""The HTML pages' content (SPEC §14.1), gathered from the catalog, the metadata and the result folders.

Every catalog read is a named :class:`~lightlane.store.catalog.Catalog` method; nothing is
computed again: the pages show what ``run``, ``baseline``, ``tables`` and ``search`` stored.
No wall-clock time is shown, so a page depends only on what was recorded (a repeated or
resumed command writes the same bytes).

Figures are the PNG files found in the run folder, in the SPEC §14 kind order: the run
figures of this package version (``metric_hist.png``, ``p2_concentration.png``,
``timescales_a.png``/``_b.png``: one small-multiple per kind) and the earlier per-metric
names (``metric_hist_<metric>.png`` …) alike, then any other PNG by name.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...exceptions import MetadataError
from ...metadata import DatasetMeta, Pipeline, ProcessingParameters
from ...stats.verdicts import INCONCLUSIVE, NOT_SIGNIFICANT, P3_METRIC, SIGNIFICANT
from ...store.catalog import Catalog
from ...store.workspace import Workspace
from ...version import CODE_VERSION
from ..tables.content import TABLES
from ..tables.formats import FORMATS, TABLE_TITLES
from .model import (
    DatasetEntry,
    Fact,
    FigureGroup,
    FigureRef,
    P3Result,
    PipelineEntry,
    RunPage,
    SensitivityEntry,
    StudyEntry,
    TableEntry,
    VerdictCell,
    VerdictRow,
    WorkspacePage,
)

__all__ = [
    "CALIBRATED_COLUMNS",
    "UNCALIBRATED_COLUMNS",
    "P3_METRIC",
    "verdict_tone",
    "verdict_cell",
    "figure_groups",
    "gather_run_page",
    "gather_workspace_page",
]

#: (header, verdict column, p-value column): the calibrated verdicts lead the run page (SPEC §11.8).
CALIBRATED_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("P1a tail", "p1a_verdict_calibrated", "p1a_p_calibrated"),
    ("P1b mean", "p1b_verdict_calibrated", "p1b_p_calibrated"),
    ("P1c median", "p1c_verdict_calibrated", "p1c_p_calibrated"),
    ("P1e neg/pos", "p1e_verdict_calibrated", "p1e_p_calibrated"),
    ("P2 hardening", "p2_verdict_calibrated", "p2_p_calibrated"),
)
#: The verdicts of the uncalibrated tests and the descriptive P1d (SPEC §11.2–§11.6).
UNCALIBRATED_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("P1a binomial", "p1a_verdict", "p1a_p_binomial"),
    ("P1b", "p1b_verdict", None),
    ("P1c", "p1c_verdict", "p1c_p_mw_greater"),
    ("P1d peaks", "p1d_verdict", None),
    ("P1e", "p1e_verdict", None),
    ("P2a", "p2a_verdict", "p2_p_z"),
    ("P2b", "p2b_verdict", None),
)

_TONES = {SIGNIFICANT: "significant", NOT_SIGNIFICANT: "not-significant", INCONCLUSIVE: "inconclusive"}


def verdict_tone(verdict: str | None) -> str:
    """The colour class of a verdict: SIGNIFICANT red, NOT_SIGNIFICANT grey, INCONCLUSIVE amber, others neutral.

    Examples
    --------
    >>> verdict_tone("SIGNIFICANT"), verdict_tone("TREND"), verdict_tone(None)
    ('significant', 'neutral', 'none')
    """
    if verdict is None:
        return "none"
    return _TONES.get(verdict, "neutral")


def _p_text(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"p = {number:.3g}" if math.isfinite(number) else ""


def verdict_cell(row: Mapping[str, Any], verdict_column: str, p_column: str | None = None) -> VerdictCell:
    """One verdict of a ``test_results`` row with its p-value (missing columns read as NULL)."""
    verdict = row.get(verdict_column)
    verdict = None if verdict in (None, "") else str(verdict)
    p_value = _p_text(row.get(p_column)) if p_column is not None and verdict is not None else ""
    return VerdictCell(verdict, p_value, verdict_tone(verdict))


def _count(value: Any) -> str:
    return "–" if value is None else str(int(value))


def _verdict_row(row: Mapping[str, Any]) -> VerdictRow:
    return VerdictRow(
        metric=str(row["metric"]),
        calibrated=tuple(verdict_cell(row, v, p) for _, v, p in CALIBRATED_COLUMNS),
        uncalibrated=tuple(verdict_cell(row, v, p) for _, v, p in UNCALIBRATED_COLUMNS),
        n_a=_count(row.get("n_a")), n_b=_count(row.get("n_b")), baseline_runs=_count(row.get("baseline_runs")),
        notes=str(row.get("notes") or ""),
    )


# ----------------------------------------------------------------------------- figures

_Match = Callable[[str], "tuple[Any, ...] | None"]


def _pattern(expression: str) -> _Match:
    compiled = re.compile(expression)

    def match(name: str) -> tuple[Any, ...] | None:
        found = compiled.fullmatch(name)
        return None if found is None else tuple(g or "" for g in found.groups())

    return match


#: (heading, how a file name matches, caption of a match); SPEC §14 order. A per-metric name
#: (earlier versions) and the small multiple (one panel per metric) both belong to their kind.
_KINDS: tuple[tuple[str, _Match, Callable[[tuple[Any, ...]], str]], ...] = (
    ("Apparent spectrum", _pattern(r"spectrum_a_vs_b\.png"), lambda g: "A vs B with the fitted spectra"),
    ("Counts per wavelength bin", _pattern(r"counts_hist_wavelength\.png"), lambda g: "A vs B over the band bins"),
    ("Heatmaps", _pattern(r"heatmap_([ab])\.png"), lambda g: f"{g[0].upper()}: counts per time × wavelength bin"),
    ("Metric histograms", _pattern(r"metric_hist(?:_(.+))?\.png"),
     lambda g: f"{g[0]}: A vs B" if g[0] else "A vs B, every test metric"),
    ("P2 concentration", _pattern(r"p2_concentration(?:_(.+))?\.png"),
     lambda g: f"{g[0]}: top-chunk counts with power laws" if g[0] else "top-chunk counts, every test metric"),
    ("Timescales of the top chunks", _pattern(r"timescales(?:_(.+))?_([ab])\.png"),
     lambda g: f"{g[0]} · {g[1].upper()}" if g[0] else f"{g[1].upper()}, every test metric"),
    ("Lanecount", _pattern(r"lanecount_(.+)\.png"), lambda g: f"N(t) of {g[0]}"),
)
_P3_FIGURE = _pattern(r"p3_(.+)\.png")


def _sort_key(groups: tuple[Any, ...], metrics: Sequence[str]) -> tuple[Any, ...]:
    """Small multiples first, then per-metric files in the run's metric order, sides A then B."""
    if not groups or not groups[0]:
        return (0, 0, "", *groups)
    metric = groups[0]
    rank = metrics.index(metric) if metric in metrics else len(metrics)
    return (1, rank, metric, *groups[1:])


def figure_groups(names: Sequence[str], metrics: Sequence[str] = ()) -> tuple[tuple[FigureGroup, ...], tuple[FigureRef, ...]]:
    """The PNGs of a run folder, grouped by kind in SPEC §14 order, and its P3 figures.

    Parameters
    ----------
    names
        File names in the folder (anything not ending in ``.png`` is ignored).
    metrics
        The run's test metrics, in the order per-metric figures are shown.

    Returns
    -------
    tuple
        (groups, P3 figures): non-empty groups, with "Other figures" last.

    Examples
    --------
    >>> groups, _ = figure_groups(["heatmap_b.png", "metric_hist_vea.png", "heatmap_a.png", "x.png"], ["vea"])
    >>> [(g.title, [f.src for f in g.figures]) for g in groups]
    [('Heatmaps', ['heatmap_a.png', 'heatmap_b.png']), ('Metric histograms', ['metric_hist_vea.png']), ('Other figures', ['x.png'])]
    """
    found: list[list[tuple[tuple[Any, ...], FigureRef]]] = [[] for _ in _KINDS]
    p3: list[FigureRef] = []
    others: list[FigureRef] = []
    for name in sorted(n for n in names if n.endswith(".png")):
        for index, (_, match, caption) in enumerate(_KINDS):
            groups = match(name)
            if groups is not None:
                found[index].append((_sort_key(groups, metrics), FigureRef(name, caption(groups))))
                break
        else:
            p3_groups = _P3_FIGURE(name)
            if p3_groups is not None:
                p3.append(FigureRef(name, "S(s, c) with its maximum, and the stacked rows at ŝ"))
            else:
                others.append(FigureRef(name, name))
    result = [FigureGroup(title, tuple(ref for _, ref in sorted(items, key=lambda item: item[0])))
              for (title, _, _), items in zip(_KINDS, found) if items]
    if others:
        result.append(FigureGroup("Other figures", tuple(others)))
    return tuple(result), tuple(p3)


def _file_names(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """The complete files of ``folder`` with one of ``suffixes`` (no temporary files), by name."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in suffixes and p.is_file() and ".tmp-" not in p.name)


# ----------------------------------------------------------------------------- the run page


def _task_names(tasks: Any) -> str:
    if not isinstance(tasks, list) or not tasks:
        return "–"
    names = [t.get("task", "?") if isinstance(t, dict) else str(t) for t in tasks]
    return " → ".join(str(n) for n in names)


def _pipeline(workspace: Workspace, pipeline_id: str | None) -> Pipeline | None:
    if pipeline_id is None or not workspace.exists(Pipeline, pipeline_id):
        return None
    try:
        return workspace.load(Pipeline, pipeline_id)
    except MetadataError:  # an edited, now invalid JSON: the page still shows what the catalog holds
        return None


def _processing(workspace: Workspace, processing_id: str | None) -> ProcessingParameters | None:
    if processing_id is None or not workspace.exists(ProcessingParameters, processing_id):
        return None
    try:
        return workspace.load(ProcessingParameters, processing_id)
    except MetadataError:
        return None


def _dataset_fact(label: str, dataset: str | None, events_hash: str | None) -> list[Fact]:
    return [Fact(f"{label} dataset", dataset if dataset else "not kept", bool(dataset)),
            Fact(f"{label} events hash", events_hash or "–")]


def _provenance(workspace: Workspace, catalog: Catalog, run: sqlite3.Row, rows: Sequence[Mapping[str, Any]],
                processing: ProcessingParameters | None) -> tuple[Fact, ...]:
    resolved: dict[str, Any] = {}
    if run["resolved_json"]:
        try:
            resolved = json.loads(run["resolved_json"])
        except ValueError:
            resolved = {}
    pipeline = _pipeline(workspace, run["pipeline_id"])
    used = [int(r["baseline_runs"]) for r in rows if r.get("baseline_runs") is not None]
    facts = [Fact("pipeline", str(run["pipeline_id"]))]
    if pipeline is not None:
        facts.append(Fact("role", pipeline.role.replace("_", " "), code=False))
    facts += [
        Fact("run", str(run["run_id"])),
        Fact("run kind and index", f"{'main' if run['kind'] == 'pipeline' else run['kind']} run, index "
             f"{run['run_index']}", code=False),
    ]
    if pipeline is not None:
        source = pipeline.source
        facts.append(Fact("source", f"dataset {source.dataset}" if source.dataset is not None
                          else f"generation {source.generation}"))
    facts += _dataset_fact("A", run["a_dataset"], run["a_events_hash"])
    facts += _dataset_fact("B", run["b_dataset"], run["b_events_hash"])
    if resolved:  # the whole chain behind each output (B's includes A's when B is made from A)
        facts.append(Fact("A task chain", _task_names(resolved.get("a_tasks"))))
        facts.append(Fact("B task chain", _task_names(resolved.get("b_tasks"))))
    facts += [
        Fact("run seed", "–" if run["seed"] is None else str(run["seed"])),
        Fact("analysis seed", str(resolved.get("analysis_seed", run["seed"]))),
        Fact("processing", str(run["processing_id"])),
        Fact("processing hash", str(run["processing_hash"])),
    ]
    if resolved.get("width_set_s"):
        facts.append(Fact("time-bin widths (s)", ", ".join(f"{float(w):g}" for w in resolved["width_set_s"])))
    if processing is not None:
        facts.append(Fact("significance level α", f"{processing.significance_level:g}", code=False))
    facts += [
        Fact("baseline set size R", str(max(used)) if used else "0", code=False),
        Fact("package version", str(run["code_version"])),
        Fact("command line", catalog.run_command_line(run["run_id"]) or "not recorded"),
    ]
    return tuple(facts)


def _p3(rows: Sequence[Mapping[str, Any]], figures: tuple[FigureRef, ...]) -> P3Result | None:
    """The P3 result of a run when one is stored (metric ``p3``, SPEC §11.9); None otherwise."""
    found = [r for r in rows if r.get("metric") == P3_METRIC]
    if not found:
        return None
    row = found[0]
    values = tuple(Fact(label, _value_text(row.get(key))) for key, label in _P3_FACTS if row.get(key) is not None)
    summary = ("not computed" if row.get("p3_stat") is None else
               f"S_max − 2 = {_value_text(row['p3_stat'])} at slope ŝ = {_value_text(row['p3_slope'])} per nm")
    return P3Result(verdict_cell(row, "p3_verdict_calibrated", "p3_p_calibrated"), values, figures,
                    summary=summary, row=_verdict_row(row))


_P3_FACTS = (("p3_stat", "S_max − 2 (largest mean Leahy power of the stack, minus the Poisson 2)"),
             ("p3_slope", "slope ŝ (ln Hz per nm; estimates −lucretius)"),
             ("p3_intercept", "intercept ĉ (ln f at λ = 0, ln Hz)"),
             ("p3_p_calibrated", "calibrated p-value"), ("baseline_runs", "baseline runs R"))


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def gather_run_page(workspace: Workspace, catalog: Catalog, run_id: str) -> RunPage:
    """The content of one run's page: verdicts per test metric, figures found in its folder, provenance.

    Parameters
    ----------
    workspace
        The workspace (metadata and the run folder).
    catalog
        Its open catalog.
    run_id
        A run recorded in the catalog.

    Returns
    -------
    RunPage

    Raises
    ------
    KeyError
        The run is not in the catalog (the caller words the error).
    """
    run = catalog.run_row(run_id)
    if run is None:
        raise KeyError(run_id)
    rows = [dict(r) for r in catalog.test_result_rows(run_id)]
    metrics = [str(r["metric"]) for r in rows if r["metric"] != P3_METRIC]
    folder = workspace.run_folder(run["pipeline_id"], run_id)
    groups, p3_figures = figure_groups(_file_names(folder, (".png",)), metrics)
    processing = _processing(workspace, run["processing_id"])
    if processing is not None and processing.processing_hash() != run["processing_hash"]:
        processing = None  # edited since: its α is not the one this run was tested with
    return RunPage(
        title=f"{run['pipeline_id']} · run {run_id}",
        pipeline_id=str(run["pipeline_id"]),
        run_id=run_id,
        kind="main" if run["kind"] == "pipeline" else str(run["kind"]),
        calibrated_headers=tuple(h for h, _, _ in CALIBRATED_COLUMNS),
        uncalibrated_headers=tuple(h for h, _, _ in UNCALIBRATED_COLUMNS),
        rows=tuple(_verdict_row(r) for r in rows if r["metric"] != P3_METRIC),
        provenance=_provenance(workspace, catalog, run, rows, processing),
        figures=groups,
        p3=_p3(rows, p3_figures),
        workspace_link="../../../index.html",
        alpha="" if processing is None else f"{processing.significance_level:g}",
    )


# ----------------------------------------------------------------------------- the workspace page


def _pipeline_entries(workspace: Workspace, catalog: Catalog) -> tuple[tuple[PipelineEntry, ...], tuple[str, ...]]:
    latest = {str(r["pipeline_id"]): r for r in catalog.latest_main_runs()}
    ids = sorted(set(workspace.ids(Pipeline)) | set(latest))
    metrics: list[str] = []
    entries = []
    for pipeline_id in ids:
        pipeline = _pipeline(workspace, pipeline_id)
        run = latest.get(pipeline_id)
        role = pipeline.role.replace("_", " ") if pipeline is not None else "–"
        processing_id = pipeline.processing if pipeline is not None else (run["processing_id"] if run else "–")
        if run is None:
            entries.append(PipelineEntry(pipeline_id, role, str(processing_id), None, None, (), "no main run yet"))
            continue
        rows = [dict(r) for r in catalog.test_result_rows(run["run_id"]) if r["metric"] != P3_METRIC]
        verdicts = []
        for row in rows:
            metric = str(row["metric"])
            if metric not in metrics:
                metrics.append(metric)
            cell = verdict_cell(row, "p1a_verdict_calibrated", "p1a_p_calibrated")
            if cell.verdict is None:  # the headline is the calibrated verdict where one exists (SPEC §11.8)
                cell = verdict_cell(row, "p1a_verdict", "p1a_p_binomial")
            verdicts.append((metric, cell))
        page = workspace.run_folder(pipeline_id, run["run_id"]) / "index.html"
        link = f"pipelines/{pipeline_id}/run-{run['run_id']}/index.html" if page.is_file() else None
        note = ""
        current = _processing(workspace, pipeline.processing) if pipeline is not None else None
        if run["processing_id"] != processing_id or (current is not None
                                                      and current.processing_hash() != run["processing_hash"]):
            note = f"processing changed since this run ({run['processing_id']} {str(run['processing_hash'])[:8]})"
        elif run["code_version"] != CODE_VERSION:
            note = f"made by lightlane {run['code_version']}"
        entries.append(PipelineEntry(pipeline_id, role, str(processing_id), str(run["run_id"]), link,
                                     tuple(verdicts), note))
    return tuple(entries), tuple(sorted(metrics))


def _dataset_entries(workspace: Workspace, catalog: Catalog) -> tuple[DatasetEntry, ...]:
    entries = []
    for row in catalog.live_dataset_rows():
        dataset_id = str(row["id"])
        events, exposure, label = "–", "–", ""
        if workspace.exists(DatasetMeta, dataset_id):
            try:
                meta = workspace.load(DatasetMeta, dataset_id)
            except MetadataError:  # an invalid JSON: list what the catalog knows
                meta = None
            if meta is not None:
                events, exposure, label = f"{meta.event_count:,}", f"{meta.time.exposure_s:,.1f}", meta.label
        entries.append(DatasetEntry(dataset_id, str(row["kind"]), events, exposure, label))
    return tuple(entries)


def _study_entries(workspace: Workspace, catalog: Catalog) -> tuple[StudyEntry, ...]:
    entries = []
    for row in catalog.study_summaries():
        study_id = str(row["study_id"])
        folder = workspace.root / "results" / "search" / study_id
        figures = tuple(FigureRef(f"search/{study_id}/{name}", name) for name in _file_names(folder, (".png",)))
        best = row["best_objective"]
        entries.append(StudyEntry(study_id, str(row["target_dataset"] or "–"), str(row["processing_id"] or "–"),
                                  str(row["template_generation"] or "–"), int(row["done_trials"] or 0),
                                  "–" if best is None else f"{float(best):.4g}", figures))
    return tuple(entries)


def _sensitivity_entries(workspace: Workspace, catalog: Catalog) -> tuple[SensitivityEntry, ...]:
    entries = []
    for row in catalog.sensitivity_summaries():
        study_id = str(row["study_id"])
        folder = workspace.root / "results" / "sensitivity" / study_id
        names = _file_names(folder, (".png", ".csv"))
        files = tuple(FigureRef(f"sensitivity/{study_id}/{name}", name) for name in names)
        varied = json.loads(row["values_json"])
        values = ", ".join(f"{value:g}" if isinstance(value, (int, float)) else str(value) for value in varied)
        planned = int(row["replicates"]) * len(varied)
        entries.append(SensitivityEntry(
            study_id, str(row["target_dataset"]), str(row["processing_id"]), str(row["generation"]),
            str(row["parameter"]), values, f"{int(row['done_replicates'])} of {planned}",
            f"{int(row['done_baselines'])} of {int(row['baseline_runs'])}", files))
    return tuple(entries)


def _table_entries(workspace: Workspace) -> tuple[TableEntry, ...]:
    folder = workspace.root / "results" / "tables"
    entries = []
    for table in TABLES:
        links = tuple((fmt, f"tables/{table}.{fmt}") for fmt in FORMATS if (folder / f"{table}.{fmt}").is_file())
        if links:
            entries.append(TableEntry(table, TABLE_TITLES[table], links))
    return tuple(entries)


def gather_workspace_page(workspace: Workspace, catalog: Catalog) -> WorkspacePage:
    """The content of ``results/index.html``: each pipeline's latest main run with its headline verdict
    per metric (calibrated P1a, else naive), the datasets, the search and sensitivity studies and the
    tables written.

    A run page is linked when it exists, so write the run pages first.
    """
    pipelines, metrics = _pipeline_entries(workspace, catalog)
    return WorkspacePage(
        title="lightlane results",
        version=CODE_VERSION,
        pipelines=pipelines,
        metrics=metrics,
        datasets=_dataset_entries(workspace, catalog),
        studies=_study_entries(workspace, catalog),
        tables=_table_entries(workspace),
        sensitivity=_sensitivity_entries(workspace, catalog),
    )
