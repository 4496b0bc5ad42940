"""The quickstart demo content (SPEC §18 ``quickstart``): processing, datasets, pipelines.

The demo must show a real detection and an honest non-detection on a 2-core
machine in minutes, with no network and no user data. Hence:

* processing ``quick`` is the embedded ``default`` made small enough (20 000
  chunks, 10 widths; its bootstrap_resamples 200 is ignored since the bootstrap
  became exact, and kept so the processing hash is unchanged) and with α = 0.05,
  so that 20 baseline runs can already reach a calibrated SIGNIFICANT (1/21 < 0.05);
* ``demo_real`` plays the real observation: homogeneous Poisson photons
  (embedded ``isotropic``) with a gap between two GTIs, which exercises the
  exposure bookkeeping (SPEC §10.2) exactly as real data would;
* ``demo_lane`` is lanesheet data (embedded ``sparse``) with the same time span,
  GTIs and spectrum, so that the two controls differ in one thing only;
* the two pipelines compare A = select (the dataset as the analysis sees it)
  with B = poissonize of A: on ``demo_lane`` they must detect the lanesheet
  variability (positive control), on ``demo_real`` they must not (negative
  control). There is no ``flatten`` as in the §9 family: it would keep only
  ~10 % of the photons (the faintest band bin sets every bin's count) and the
  demo would need many more baseline runs to show the same thing.

Both datasets use fixed seeds that are recorded in their resolved generations,
so every quickstart produces the same events. :func:`build_demo` is idempotent:
what exists and is unchanged is reused without being rewritten (no file's
bytes or mtime change), which also makes an interrupted quickstart resumable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .datasets.synthetic import provenance_digest, write_synthetic_dataset
from .lanesheet.simulation import generation_band, simulate
from .metadata import (
    DatasetMeta,
    GenerationParameters,
    GenerationTime,
    Pipeline,
    ProcessingParameters,
    RandomWidths,
    TaskSpec,
    parse_document,
    to_json,
)
from .metadata.schema import Context, from_json
from .pipelines.definitions import create_pipeline, load_pipeline
from .store.workspace import Workspace, embedded_defaults

__all__ = [
    "Demo",
    "DEMO_PROCESSING",
    "DEMO_REAL",
    "DEMO_LANE",
    "DEMO_POSITIVE",
    "DEMO_NEGATIVE",
    "DEMO_TSTART_S",
    "DEMO_TSTOP_S",
    "DEMO_GTIS_S",
    "DEMO_REAL_SEED",
    "DEMO_LANE_SEED",
    "quick_processing",
    "build_demo",
]

DEMO_PROCESSING = "quick"
DEMO_REAL = "demo_real"
DEMO_LANE = "demo_lane"
DEMO_POSITIVE = "demo_lane_vs_poisson"
DEMO_NEGATIVE = "demo_real_vs_poisson"

#: Time span and GTIs of both demo datasets [s]: the 1000 s gap makes partial and
#: empty time bins that the chunk sampler must avoid (SPEC §10.2–§10.3).
DEMO_TSTART_S = 0.0
DEMO_TSTOP_S = 20_000.0
DEMO_GTIS_S: tuple[tuple[float, float], ...] = ((0.0, 9_000.0), (10_000.0, 20_000.0))

#: Fixed generation seeds: the quickstart is reproducible, and the seeds are
#: recorded in the resolved generations like any user-given seed (SPEC §1).
DEMO_REAL_SEED = 101
DEMO_LANE_SEED = 102


@dataclass(frozen=True)
class Demo:
    """Ids of the quickstart content written by :func:`build_demo`.

    Attributes
    ----------
    processing
        The processing id (``quick``).
    real_dataset, lane_dataset
        The homogeneous-Poisson ("real-like") and the lanesheet dataset ids.
    positive_pipeline, negative_pipeline
        The positive-control (lanesheet vs poissonize) and negative-control
        (real-like vs poissonize) pipeline ids.
    """

    processing: str = DEMO_PROCESSING
    real_dataset: str = DEMO_REAL
    lane_dataset: str = DEMO_LANE
    positive_pipeline: str = DEMO_POSITIVE
    negative_pipeline: str = DEMO_NEGATIVE

    @property
    def datasets(self) -> tuple[str, str]:
        """(real-like, lanesheet) dataset ids."""
        return (self.real_dataset, self.lane_dataset)

    @property
    def pipelines(self) -> tuple[str, str]:
        """(positive control, negative control) pipeline ids, in the order they are usually run."""
        return (self.positive_pipeline, self.negative_pipeline)


def _embedded(cls: type[Any], doc_id: str) -> Any:
    """An embedded default document: the demo must not depend on edits to the workspace copies."""
    folder = {ProcessingParameters: "processing", GenerationParameters: "generation"}[cls]
    for name, content in embedded_defaults()[folder]:
        if name == f"{doc_id}.json":
            return parse_document(cls, content, f"embedded defaults/{folder}/{name}", expected_id=doc_id)
    raise LookupError(f"no embedded {folder} document {doc_id!r}")  # a packaging bug, not user input


def quick_processing() -> ProcessingParameters:
    """The ``quick`` processing of SPEC §18: the embedded ``default``, made small.

    Returns
    -------
    ProcessingParameters
        ``default`` with chunk_count 20 000, 10 random widths in 20–300 s (the
        default's width distribution), bootstrap_resamples 200 (ignored: the
        bootstrap is exact) and significance_level 0.05.

    Examples
    --------
    >>> quick_processing().chunk_count
    20000
    """
    default = _embedded(ProcessingParameters, "default")
    distribution = getattr(default.time_bins, "distribution", "uniform")
    processing = dataclasses.replace(
        default, id=DEMO_PROCESSING, chunk_count=20_000,
        time_bins=RandomWidths(from_s=20.0, to_s=300.0, count=10, distribution=distribution),
        bootstrap_resamples=200, significance_level=0.05,
    )
    # re-validate what was built in code with the rules used for files
    return from_json(ProcessingParameters, to_json(processing), Context(f"processing {DEMO_PROCESSING!r}"))


def _ensure_processing(workspace: Workspace) -> ProcessingParameters:
    processing = quick_processing()
    if not workspace.exists(ProcessingParameters, processing.id) \
            or workspace.load(ProcessingParameters, processing.id) != processing:
        workspace.save(processing)
    return processing


def _demo_generation(template_id: str, seed: int, processing: ProcessingParameters) -> GenerationParameters:
    """An embedded generation resolved to the demo time span, GTIs, spectrum, band and seed."""
    template = _embedded(GenerationParameters, template_id)
    # both datasets share demo_real's spectrum, so the controls differ only in the lanesheet
    spectrum = _embedded(GenerationParameters, "isotropic").spectrum
    return dataclasses.replace(
        template,
        time=GenerationTime(tstart_s=DEMO_TSTART_S, tstop_s=DEMO_TSTOP_S, gtis=DEMO_GTIS_S),
        spectrum=spectrum, band=generation_band(template, processing), seed=seed,
    )


def _ensure_dataset(workspace: Workspace, dataset_id: str, template_id: str, seed: int, label: str,
                    processing: ProcessingParameters, progress: bool) -> DatasetMeta:
    resolved = _demo_generation(template_id, seed, processing)
    tasks = (TaskSpec.of("generate", generation=template_id, spectrum_from="generation", time_from="generation"),)
    if workspace.exists(DatasetMeta, dataset_id):
        meta = workspace.load(DatasetMeta, dataset_id)
        # the provenance digest is known before simulating: an unchanged dataset costs nothing
        if meta.generation_id is not None and workspace.exists(GenerationParameters, meta.generation_id):
            stored = workspace.load(GenerationParameters, meta.generation_id)
            if provenance_digest(stored, meta.tasks) == provenance_digest(resolved, tasks):
                return meta
    photons = simulate(resolved, processing, progress=progress)
    # a dataset of that id with another provenance (e.g. an older package version)
    # makes the writer raise DataError rather than replace it silently
    return write_synthetic_dataset(workspace, resolved, photons, processing, tasks=tasks, label=label,
                                   dataset_id=dataset_id)


def _ensure_pipeline(workspace: Workspace, document: dict[str, Any]) -> Pipeline:
    wanted = from_json(Pipeline, {"schema": 1, **document}, Context(f"pipeline {document['id']!r}"))
    if workspace.exists(Pipeline, wanted.id):
        existing = load_pipeline(workspace, wanted.id)
        # `outputs` is written by `run`; keeping it is what makes a rebuild a no-op
        if dataclasses.replace(existing, outputs=None) == wanted:
            return existing
    return create_pipeline(workspace, document, overwrite=True)


def build_demo(workspace: Workspace, *, progress: bool = False) -> Demo:
    """Write the quickstart content into an initialised workspace (SPEC §18); idempotent.

    Writes processing ``quick``, the datasets ``demo_real`` (embedded
    ``isotropic``) and ``demo_lane`` (embedded ``sparse``), both over
    0–20 000 s with GTIs [0, 9000] and [10 000, 20 000], the same spectrum and
    fixed seeds, and the pipelines ``demo_lane_vs_poisson`` (positive control)
    and ``demo_real_vs_poisson`` (negative control): A = select on the
    dataset, B = poissonize of A, processing ``quick``. Anything that already
    exists unchanged is left untouched (a pipeline's recorded ``outputs``
    included); runs and baselines are not made here.

    Parameters
    ----------
    workspace
        An initialised workspace; the caller holds its lock.
    progress
        Show generation progress bars (stderr, TTY only).

    Returns
    -------
    Demo
        The ids written.

    Raises
    ------
    PrerequisiteError
        The workspace is not initialised.
    DataError
        A dataset ``demo_real``/``demo_lane`` (or a generation of that id)
        exists with another provenance, e.g. made by another package version:
        remove it first (``lightlane clean --generated``).

    Examples
    --------
    >>> with workspace.lock():  # doctest: +SKIP
    ...     demo = build_demo(workspace)
    >>> demo.positive_pipeline  # doctest: +SKIP
    'demo_lane_vs_poisson'
    """
    workspace.require_initialised()
    demo = Demo()
    processing = _ensure_processing(workspace)
    _ensure_dataset(workspace, demo.real_dataset, "isotropic", DEMO_REAL_SEED,
                    "quickstart: real-like homogeneous Poisson data", processing, progress)
    _ensure_dataset(workspace, demo.lane_dataset, "sparse", DEMO_LANE_SEED,
                    "quickstart: sparse lanesheet data", processing, progress)
    for pipeline_id, role, source in ((demo.positive_pipeline, "positive_control", demo.lane_dataset),
                                      (demo.negative_pipeline, "negative_control", demo.real_dataset)):
        _ensure_pipeline(workspace, {
            "id": pipeline_id, "role": role, "source": {"dataset": source}, "processing": processing.id,
            "seed": 0, "a_tasks": ["select"], "b_input": "a", "b_tasks": ["poissonize"],
        })
    return demo
