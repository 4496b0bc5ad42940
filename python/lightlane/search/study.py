"""Parameter search (SPEC §13): studies and trials that fit a lanesheet to a target dataset.

A *study* fixes the target dataset, the processing (and its hash), the template
generation, the search space and the study seed; all are stored in ``studies`` and a
resumed study must repeat them (else :class:`~lightlane.exceptions.MetadataError`).
Trial ``i`` resolves the template with the trial's parameter values, the target's
fitted spectrum, time span and GTIs (as in replicate), the processing band and
seed = study seed (common random numbers), generates B in memory, analyses it with
analysis seed = processing seed and scores J (:mod:`.objective`).

* ``search`` — trial i samples uniformly in the (log-)scaled box from
  ``stream(study seed, SEARCH, i)`` (one uniform per range parameter, in name order).
  Trials are independent and run through :func:`lightlane.scale.run_units`.
* ``refine`` — sequential: trial i fills an in-memory optuna study with the catalog's
  done trials of index < i (the catalog is the only store) and asks one point of a
  multivariate TPE sampler seeded with ``key(study seed, SEARCH, i) mod 2³²`` (numpy's
  seed range), ``n_startup_trials = 0``. It needs ≥ 10 done trials. Refine trials run
  one at a time on the scheduler when one is given, else inline (a local cluster
  would only add start-up time to sequential work).

``--trials N`` asks for trial indices 0 … N−1: done trials (and trials whose J was
+∞, a deterministic failure) are skipped, ``running`` leftovers and trials that
raised are redone — so an interrupted study resumes to the uninterrupted result.
The worker (:func:`compute_trial`) never writes the catalog; the client writes one
transaction per trial (running, then done/failed).

The caller holds the workspace lock; this module never takes it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .. import _core
from ..analysis.dataset_analysis import analyze_dataset, analyze_events
from ..datasets.synthetic import fit_dataset, new_seed, provenance_digest, write_synthetic_dataset
from ..events.calibrations import get_calibration
from ..events.event_list import EventList
from ..exceptions import DataError, MetadataError, PrerequisiteError
from ..lanesheet.simulation import generation_band, simulate
from ..metadata import (
    DatasetMeta,
    GenerationParameters,
    GenerationTime,
    ProcessingParameters,
    SearchFixed,
    SearchRange,
    SearchSpace,
    TaskSpec,
    from_json,
    is_valid_id,
    to_json,
)
from ..metadata.documents import parse_document
from ..metadata.schema import Context
from ..metadata.values import MAX_SEED
from ..scale import Execution, run_units
from ..store.catalog import Catalog, utc_now
from ..store.workspace import Workspace
from .objective import Objective, evaluate_objective, objective_description

__all__ = [
    "MIN_REFINE_TRIALS", "Study", "TrialPlan", "TrialResult",
    "load_space", "study_exists", "open_study", "sample_search", "plan_trials", "compute_trial", "run_study",
    "trial_rows", "best_trials", "materialize_trial", "dataset_objective", "save_progress_plot",
]

#: Done trials refine needs before it can model the objective (SPEC §13).
MIN_REFINE_TRIALS = 10

Mode = Literal["search", "refine"]


# ----------------------------------------------------------------------------- space and study


def load_space(workspace: Workspace, space: str | None) -> tuple[SearchSpace, str]:
    """The search space and how to name it: a JSON file path, a ``meta/search`` id, or the default."""
    if space is None:
        return workspace.load(SearchSpace, "default"), "meta/search/default.json"
    path = Path(space)
    if path.is_file():
        return parse_document(SearchSpace, path.read_bytes(), str(path)), str(path)
    if workspace.exists(SearchSpace, space):
        return workspace.load(SearchSpace, space), f"meta/search/{space}.json"
    raise MetadataError(f"--space: no such file or meta/search id {space!r}")


def _template_values(template: GenerationParameters) -> dict[str, tuple[str, float]]:
    """Searchable parameter → (part, template value), part "model" or "path"."""
    out = {}
    for part in ("model", "path"):
        obj = getattr(template, part)
        for item in dataclasses.fields(obj):
            if item.name != "kind":
                out[item.name] = (part, float(getattr(obj, item.name)))
    return out


def _resolved_space(space: SearchSpace, shown: str, template: GenerationParameters) -> dict[str, Any]:
    """Canonical space of this template: name → {"low", "high", "scale"} or {"fixed": value}."""
    known = _template_values(template)
    out: dict[str, Any] = {}
    for name, entry in sorted(space.entries().items()):
        if name not in known:
            raise MetadataError(f"{shown}: parameters.{name}: expected a parameter of template "
                                f"{template.id!r} ({', '.join(sorted(known))}), got {name!r}")
        if isinstance(entry, SearchFixed):
            value = known[name][1] if entry.fixed == "template" else float(entry.fixed)
            out[name] = {"fixed": value}
        else:
            assert isinstance(entry, SearchRange)
            out[name] = {"low": float(entry.low), "high": float(entry.high), "scale": entry.scale}
    if not any("low" in v for v in out.values()):
        raise MetadataError(f"{shown}: parameters: expected at least one range to search, got only fixed values")
    return out


@dataclass(frozen=True)
class Study:
    """A study as stored in ``studies`` plus what its trials need (made by the client)."""

    study_id: str
    root: str
    target: str
    processing: ProcessingParameters
    processing_hash: str
    template: str
    space: Mapping[str, Any]
    seed: int
    base: GenerationParameters  # template + target spectrum/time/GTIs + band + seed

    def ranges(self) -> list[tuple[str, Mapping[str, Any]]]:
        return [(name, entry) for name, entry in self.space.items() if "low" in entry]

    def resolve(self, params: Mapping[str, float]) -> GenerationParameters:
        """The trial's resolved generation: base with the fixed and sampled values."""
        values = {name: entry["fixed"] for name, entry in self.space.items() if "fixed" in entry}
        values.update(params)
        parts = _template_values(self.base)
        model = {n: v for n, v in values.items() if parts[n][0] == "model"}
        path = {n: v for n, v in values.items() if parts[n][0] == "path"}
        return dataclasses.replace(self.base, model=dataclasses.replace(self.base.model, **model),
                                   path=dataclasses.replace(self.base.path, **path))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _base_generation(workspace: Workspace, target: str, template: GenerationParameters,
                     processing: ProcessingParameters, seed: int) -> GenerationParameters:
    _, events, fit = fit_dataset(workspace, target, processing)  # the replicate recipe: spectrum, time and GTIs
    gtis = tuple((float(a), float(b)) for a, b in events.gti)
    return dataclasses.replace(
        template, spectrum=fit.spectrum,
        time=GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis),
        band=generation_band(template, processing), seed=seed)


def study_exists(workspace: Workspace, study_id: str) -> bool:
    with Catalog.open(workspace.catalog_path) as catalog:
        return catalog.study_exists(study_id)


def open_study(workspace: Workspace, study_id: str, *, target: str | None = None, processing: str | None = None,
               generation: str | None = None, space: str | None = None, seed: int | None = None) -> Study:
    """Create a study, or reopen it checking that it is the same study.

    A new study needs ``target``, ``processing`` and ``generation``; a missing ``seed``
    is drawn from OS entropy and recorded. On reopening, omitted values come from the
    ``studies`` row and given ones must equal it.

    Raises
    ------
    MetadataError
        Unknown ids, a bad space (names the file and field), or a reopened study with
        another target, template, processing hash, space or seed.
    """
    if not is_valid_id(study_id):
        raise MetadataError(f"--study: invalid id {study_id!r} (expected [a-z0-9_-]{{1,64}})")
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.study_row(study_id)
    if row is not None:
        target = target or row["target_dataset"]
        processing = processing or row["processing_id"]
        generation = generation or row["template_generation"]
    elif target is None or processing is None or generation is None:
        raise MetadataError(f"study {study_id!r} does not exist: a new study needs --target, --processing and "
                            f"--generation")
    processing_id = processing
    p = workspace.load(ProcessingParameters, processing_id)
    template = workspace.load(GenerationParameters, generation)
    workspace.load(DatasetMeta, target)
    if row is not None and space is None:
        resolved_space = json.loads(row["space_json"])
    else:
        document, shown = load_space(workspace, space)
        resolved_space = _resolved_space(document, shown, template)
    p_hash = p.processing_hash()
    if row is not None:
        stored = {"target": row["target_dataset"], "generation": row["template_generation"],
                  "processing hash": row["processing_hash"], "space": _canonical(json.loads(row["space_json"])),
                  "seed": int(row["seed"])}
        given = {"target": target, "generation": generation, "processing hash": p_hash,
                 "space": _canonical(resolved_space), "seed": int(row["seed"] if seed is None else seed)}
        changed = [k for k in stored if stored[k] != given[k]]
        if changed:
            raise MetadataError(f"catalog studies.{study_id}: resuming with another {', '.join(changed)} "
                                f"(stored {', '.join(f'{k} {stored[k]!r}' for k in changed)}); use a new --study")
        seed = int(row["seed"])
    else:
        seed = new_seed() if seed is None else int(seed)
        if not 0 <= seed <= MAX_SEED:
            raise MetadataError(f"--seed: expected an integer in [0, 2^63 − 1], got {seed!r}")
    base = _base_generation(workspace, target, template, p, seed)
    study = Study(study_id=study_id, root=str(workspace.root), target=target, processing=p, processing_hash=p_hash,
                  template=generation, space=resolved_space, seed=seed, base=base)
    if row is None:
        with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
            catalog.insert_study(cursor, {
                "study_id": study_id, "target_dataset": target, "processing_id": p.id, "processing_hash": p_hash,
                "template_generation": generation, "space_json": _canonical(resolved_space),
                "objective_json": _canonical(objective_description(p.primary_metric)), "seed": seed,
                "created_at": utc_now()})
    return study


# ----------------------------------------------------------------------------- sampling


def sample_search(study: Study, trial_index: int) -> dict[str, float]:
    """Trial ``i``'s point: uniform in the (log-)scaled box from stream(study seed, SEARCH, i)."""
    ranges = study.ranges()
    u = _core.uniforms(study.seed, _core.DOMAIN_SEARCH, [int(trial_index)], len(ranges))
    params = {}
    for (name, entry), ui in zip(ranges, u):
        low, high = float(entry["low"]), float(entry["high"])
        if entry["scale"] == "log":
            params[name] = float(math.exp(math.log(low) + float(ui) * (math.log(high) - math.log(low))))
        else:
            params[name] = low + float(ui) * (high - low)
    return params


def _done_trials(catalog: Catalog, study_id: str, below: int | None = None) -> list[tuple[int, dict[str, float], float]]:
    rows = catalog.done_trials(study_id)
    return [(int(r[0]), json.loads(r[1]), float(r[2])) for r in rows if below is None or r[0] < below]


def sample_refine(study: Study, trial_index: int, done: Sequence[tuple[int, Mapping[str, float], float]]) -> dict[str, float]:
    """Trial ``i``'s point from multivariate TPE filled with ``done`` (index, params, J) trials."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    distributions = {name: FloatDistribution(float(e["low"]), float(e["high"]), log=e["scale"] == "log")
                     for name, e in study.ranges()}
    seed = int(_core.key(study.seed, _core.DOMAIN_SEARCH, [int(trial_index)])) % 2**32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna's ExperimentalWarning for multivariate TPE
        sampler = optuna.samplers.TPESampler(multivariate=True, n_startup_trials=0, seed=seed)
        model = optuna.create_study(direction="minimize", sampler=sampler)
        for _, params, value in done:
            model.add_trial(optuna.trial.create_trial(
                params={n: float(params[n]) for n in distributions}, distributions=distributions, value=value))
        asked = model.ask(distributions)
    return {name: float(asked.params[name]) for name in distributions}


# ----------------------------------------------------------------------------- trials


@dataclass(frozen=True)
class TrialPlan:
    """Everything a worker needs for one trial (picklable)."""

    root: str
    study_id: str
    trial_index: int
    mode: str
    target: str
    processing: ProcessingParameters
    params: Mapping[str, float]
    generation: GenerationParameters


@dataclass(frozen=True)
class TrialResult:
    """What a worker returns: J and its components, or the reason J is undefined."""

    objective: Objective | None
    error: str | None = None


def _trial_tasks(study_template: str) -> tuple[TaskSpec, ...]:
    return (TaskSpec.of("generate", generation=study_template, spectrum_from="input", time_from="input"),)


_TARGETS: dict[tuple[str, str, str], tuple[Any, np.ndarray]] = {}


def _target_side(workspace: Workspace, target: str, processing: ProcessingParameters) -> tuple[Any, np.ndarray]:
    """A's chunk table and count spectrum, kept per worker process (every trial needs them)."""
    key = (str(workspace.root), target, processing.processing_hash())
    if key not in _TARGETS:
        analysis = analyze_dataset(workspace, target, processing)
        _TARGETS.clear()
        _TARGETS[key] = analysis.chunks, analysis.selected_counts
    return _TARGETS[key]


def candidate_events(generation: GenerationParameters, processing: ProcessingParameters, tasks: Sequence[TaskSpec]) -> tuple[EventList, str]:
    """B in memory, exactly as ``--materialize`` would write it: (events, would-be dataset id).

    With smearing the channels are dithered with the dataset key of the hex id the
    materialised dataset gets (SPEC §4.2), so its analysis equals the trial's.
    """
    dataset_id = provenance_digest(generation, tasks)[:8]
    photons = simulate(generation, processing)
    if "pi" in photons.columns:
        calibration = get_calibration(generation.instrument.calibration)
        _, wavelength = calibration.dither(photons["pi"].to_numpy(), 0, _core.str_u64(dataset_id))
        photons = photons.with_columns(wavelength_nm=wavelength).filter(np.isfinite(wavelength))
    gti = np.asarray(generation.time.intervals(), dtype=np.float64).reshape(-1, 2)
    return EventList(events=photons, gti=gti, coordinates="synthetic"), dataset_id


def compute_trial(plan: TrialPlan) -> TrialResult:
    """Generate B, analyse it and score J; never writes the catalog (runs on any worker)."""
    workspace = Workspace.at(plan.root)
    processing = plan.processing
    try:
        a_chunks, a_counts = _target_side(workspace, plan.target, processing)
        events, dataset_id = candidate_events(plan.generation, processing, _trial_tasks(plan.generation.id))
        b = analyze_events(events, processing, processing.seed, dataset_id=dataset_id,
                           events_hash="trial:" + dataset_id)  # never cached: no cache_root
        objective = evaluate_objective(a_chunks, a_counts, b.chunks, b.selected_counts, processing.primary_metric,
                                       processing.band.bins)
    except DataError as error:  # a candidate with nothing to analyse: the trial fails, the study goes on
        return TrialResult(None, str(error))
    if not objective.ok:
        return TrialResult(objective, f"only {objective.qualifying} of {objective.bins} bins have ≥ 20 chunks "
                                      f"in A and B (need 50 %)")
    return TrialResult(objective)


def _finished(row: Any) -> bool:
    """Done, or failed deterministically (J = +∞ / no data): not redone on resume."""
    return row["status"] == "done" or (row["status"] == "failed" and row["components_json"] is not None)


class _Recorder:
    """Client-side rows of a trial, in one transaction each time: the ``trials`` row and its ``runs``
    row (kind ``trial``, run id ``<study>-trial-<index>``) — running on start, done/failed when finished."""

    def __init__(self, workspace: Workspace) -> None:
        self.path = workspace.catalog_path
        self._started: dict[int, str] = {}

    def _write(self, plan: TrialPlan, status: str, **trial: Any) -> None:
        run_id = f"{plan.study_id}-trial-{plan.trial_index}"
        started = self._started.setdefault(plan.trial_index, utc_now())
        finished = None if status == "running" else utc_now()
        run = {"run_id": run_id, "kind": "trial", "processing_id": plan.processing.id,
               "processing_hash": plan.processing.processing_hash(), "run_index": plan.trial_index,
               "seed": int(plan.generation.seed), "a_dataset": plan.target, "status": status,
               "error": trial.get("error"), "resolved_json": _canonical({"generation": to_json(plan.generation)}),
               "started_at": started, "finished_at": finished}
        row = {"study_id": plan.study_id, "trial_index": plan.trial_index, "mode": plan.mode,
               "params_json": _canonical(dict(plan.params)), "generation_json": _canonical(to_json(plan.generation)),
               "status": status, "run_id": run_id, "started_at": started, "finished_at": finished,
               **{k: v for k, v in trial.items() if k != "error"}}
        with Catalog.open(self.path) as catalog, catalog.transaction() as cursor:
            catalog.replace_run(cursor, run)
            catalog.replace_trial(cursor, row)

    def start(self, plan: TrialPlan) -> None:
        self._started[plan.trial_index] = utc_now()
        self._write(plan, "running")

    def done(self, plan: TrialPlan, result: TrialResult) -> None:
        objective = result.objective
        components = objective.components() if objective is not None else {}
        if result.error is not None:
            components["error"] = result.error
            self._write(plan, "failed", objective=math.inf, components_json=_canonical(components), error=result.error)
        else:
            self._write(plan, "done", objective=objective.j,  # type: ignore[union-attr]
                        components_json=_canonical(components))

    def fail(self, plan: TrialPlan, error: BaseException) -> None:
        self._write(plan, "failed", error=f"{type(error).__name__}: {error}")


def plan_trials(study: Study, mode: Mode, trials: int, existing: Mapping[int, Any]) -> list[TrialPlan]:
    """Search-mode plans of the unfinished indices below ``trials``."""
    return [_plan(study, i, mode, sample_search(study, i)) for i in range(trials)
            if i not in existing or not _finished(existing[i])]


def _plan(study: Study, index: int, mode: str, params: Mapping[str, float]) -> TrialPlan:
    return TrialPlan(root=study.root, study_id=study.study_id, trial_index=index, mode=mode, target=study.target,
                     processing=study.processing, params=dict(params), generation=study.resolve(params))


def _existing(workspace: Workspace, study_id: str) -> dict[int, Any]:
    with Catalog.open(workspace.catalog_path) as catalog:
        rows = catalog.trials_of(study_id)
    return {int(r["trial_index"]): r for r in rows}


def run_study(workspace: Workspace, study: Study, mode: Mode, trials: int, execution: Execution,
              *, progress: bool = False) -> int:
    """Run (or resume) trials 0 … ``trials``−1 of a study; returns how many were computed.

    Raises
    ------
    PrerequisiteError
        ``refine`` with fewer than 10 done trials (nothing is written).
    MetadataError
        An unknown mode or a negative trial count.
    """
    if mode not in ("search", "refine"):
        raise MetadataError(f"--mode: expected 'search' or 'refine', got {mode!r}")
    if trials < 0:
        raise MetadataError(f"--trials: expected an integer ≥ 0, got {trials}")
    logging.getLogger("optuna").setLevel(logging.ERROR)
    recorder = _Recorder(workspace)
    existing = _existing(workspace, study.study_id)
    if mode == "search":
        plans = plan_trials(study, mode, trials, existing)
        run_units(plans, compute_trial, recorder.done, execution, start=recorder.start, fail=recorder.fail,
                  progress="search trials" if progress else None)
        return len(plans)
    pending = [i for i in range(trials) if i not in existing or not _finished(existing[i])]
    with Catalog.open(workspace.catalog_path) as catalog:
        done = _done_trials(catalog, study.study_id, pending[0] if pending else None)
    if pending and len(done) < MIN_REFINE_TRIALS:
        raise PrerequisiteError(f"refine needs ≥ {MIN_REFINE_TRIALS} done trials before trial {pending[0]} of "
                                f"study {study.study_id!r}, found {len(done)}; run `lightlane search --study "
                                f"{study.study_id} --mode search --trials {MIN_REFINE_TRIALS}` first")
    sequential = execution if execution.scheduler is not None else Execution(1, None, execution.threads)
    for index in pending:
        with Catalog.open(workspace.catalog_path) as catalog:
            done = _done_trials(catalog, study.study_id, index)
        plan = _plan(study, index, mode, sample_refine(study, index, done))
        run_units([plan], compute_trial, recorder.done, sequential, start=recorder.start, fail=recorder.fail)
    return len(pending)


# ----------------------------------------------------------------------------- results


def trial_rows(workspace: Workspace, study_id: str) -> list[dict[str, Any]]:
    """Every trial row of a study, in index order (plain dicts)."""
    with Catalog.open(workspace.catalog_path) as catalog:
        rows = catalog.trials_in_order(study_id)
    return [dict(r) for r in rows]


def best_trials(workspace: Workspace, study_id: str, k: int) -> list[dict[str, Any]]:
    """The ``k`` done trials of lowest J (ties: lower index first)."""
    done = [r for r in trial_rows(workspace, study_id) if r["status"] == "done"]
    return sorted(done, key=lambda r: (r["objective"], r["trial_index"]))[:max(0, int(k))]


def materialize_trial(workspace: Workspace, study: Study, index: int) -> DatasetMeta:
    """Write trial ``index``'s resolved generation and dataset (hex id; the same B the trial scored).

    Raises
    ------
    PrerequisiteError
        The trial is not done.
    """
    rows = {r["trial_index"]: r for r in trial_rows(workspace, study.study_id)}
    row = rows.get(int(index))
    if row is None or row["status"] != "done":
        state = "does not exist" if row is None else f"is {row['status']}"
        raise PrerequisiteError(f"trial {index} of study {study.study_id!r} {state}; run `lightlane search --study "
                                f"{study.study_id} --trials {int(index) + 1}` first")
    generation = from_json(GenerationParameters, json.loads(row["generation_json"]),
                           Context(f"catalog trials.{study.study_id}.{index}.generation_json"))
    tasks = _trial_tasks(generation.id)
    photons = simulate(generation, study.processing)
    target = workspace.load(DatasetMeta, study.target)
    return write_synthetic_dataset(workspace, generation, photons, study.processing, tasks=tasks,
                                   parent_id=study.target, mjdref=target.time.mjdref,
                                   label=f"search {study.study_id} trial {index}")


def dataset_objective(workspace: Workspace, target: str, candidate: str, processing_id: str) -> Objective:
    """J of a workspace dataset against the target, both analysed with the processing seed."""
    processing = workspace.load(ProcessingParameters, processing_id)
    a_chunks, a_counts = _target_side(workspace, target, processing)
    b = analyze_dataset(workspace, candidate, processing)
    return evaluate_objective(a_chunks, a_counts, b.chunks, b.selected_counts, processing.primary_metric,
                              processing.band.bins)


def progress_plot_path(workspace: Workspace, study_id: str) -> Path:
    return workspace.root / "results" / "search" / study_id / f"search_progress_{study_id}.png"


def save_progress_plot(workspace: Workspace, study: Study) -> Path:
    """``results/search/<study>/search_progress_<study>.png`` (SPEC §14)."""
    from ..report.drawing import save_figure
    from ..report.drawing.search import plot_search_progress

    rows = trial_rows(workspace, study.study_id)
    fig = plot_search_progress([r["trial_index"] for r in rows], [r["objective"] for r in rows],
                               [r["mode"] for r in rows], study=study.study_id, target=study.target,
                               processing=study.processing.id)
    return save_figure(fig, progress_plot_path(workspace, study.study_id))
