"""What the HTML pages show (SPEC §14.1), as plain frozen data: no catalog, no files.

:mod:`.gather` fills these from the catalog, the metadata and the result folders;
:mod:`.pages` renders them with the package's jinja2 templates. Links are relative
to the page that shows them, ``/``-separated and not yet URL-quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "VerdictCell",
    "VerdictRow",
    "FigureRef",
    "FigureGroup",
    "Fact",
    "P3Result",
    "RunPage",
    "PipelineEntry",
    "DatasetEntry",
    "StudyEntry",
    "SensitivityEntry",
    "TableEntry",
    "WorkspacePage",
]


@dataclass(frozen=True)
class VerdictCell:
    """One verdict of one metric: the word (None when not stored), a p-value text and its colour class."""

    verdict: str | None
    p_value: str = ""
    tone: str = "none"


@dataclass(frozen=True)
class VerdictRow:
    """One test metric of a run: calibrated verdicts first, then the uncalibrated ones."""

    metric: str
    calibrated: tuple[VerdictCell, ...]
    uncalibrated: tuple[VerdictCell, ...]
    n_a: str
    n_b: str
    baseline_runs: str
    notes: str


@dataclass(frozen=True)
class FigureRef:
    """A PNG next to the page: ``src`` is its file name, ``caption`` what it shows."""

    src: str
    caption: str


@dataclass(frozen=True)
class FigureGroup:
    """Figures of one kind (SPEC §14 table order), under one heading."""

    title: str
    figures: tuple[FigureRef, ...]


@dataclass(frozen=True)
class Fact:
    """A provenance line: a label, its value, and whether the value is code-like (ids, hashes)."""

    label: str
    value: str
    code: bool = True


@dataclass(frozen=True)
class P3Result:
    """The stored P3 values of a run (SPEC §11.9), shown only when the run has them."""

    verdict: VerdictCell
    values: tuple[Fact, ...]
    figures: tuple[FigureRef, ...] = ()
    summary: str = ""  # its line in the verdict table
    row: VerdictRow | None = None  # event counts, R and notes, formatted as the metric rows'


@dataclass(frozen=True)
class RunPage:
    """``results/pipelines/<pipeline>/run-<run_id>/index.html``."""

    title: str
    pipeline_id: str
    run_id: str
    kind: str
    calibrated_headers: tuple[str, ...]
    uncalibrated_headers: tuple[str, ...]
    rows: tuple[VerdictRow, ...]
    provenance: tuple[Fact, ...]
    figures: tuple[FigureGroup, ...]
    p3: P3Result | None
    workspace_link: str
    alpha: str = ""


@dataclass(frozen=True)
class PipelineEntry:
    """One pipeline of the workspace page and its latest main run (None: not run yet)."""

    pipeline_id: str
    role: str
    processing: str
    run_id: str | None
    run_link: str | None
    verdicts: tuple[tuple[str, VerdictCell], ...]
    note: str = ""


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of the workspace (counts and exposure from its JSON, blank when unknown)."""

    dataset_id: str
    kind: str
    events: str
    exposure_s: str
    label: str = ""


@dataclass(frozen=True)
class StudyEntry:
    """One parameter-search study: target, trials done, best objective, its figures."""

    study_id: str
    target: str
    processing: str
    template: str
    done_trials: int
    best_objective: str
    figures: tuple[FigureRef, ...] = ()


@dataclass(frozen=True)
class SensitivityEntry:
    """One sensitivity study (SPEC §23): what varied over which values, units done, its figure and tables."""

    study_id: str
    target: str
    processing: str
    generation: str
    parameter: str
    values: str
    replicates: str
    baselines: str
    files: tuple[FigureRef, ...] = ()


@dataclass(frozen=True)
class TableEntry:
    """One result table kind (SPEC §15) with a link per format written."""

    name: str
    title: str
    links: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WorkspacePage:
    """``results/index.html``: pipelines with their latest main run, datasets, studies, tables."""

    title: str
    version: str
    pipelines: tuple[PipelineEntry, ...]
    metrics: tuple[str, ...]
    datasets: tuple[DatasetEntry, ...]
    studies: tuple[StudyEntry, ...]
    tables: tuple[TableEntry, ...]
    sensitivity: tuple[SensitivityEntry, ...] = ()
