"""Sensitivity studies (SPEC §23): which lanesheets could this observation detect?

A study fixes a target dataset, a processing, a template generation, one numeric generation
parameter with the values it takes (``--vary NAME=v1,v2,…``), K replicates per value, R null
baseline runs and a seed; all are stored in ``sensitivity_studies`` and a resumed study must
repeat them (else :class:`~lightlane.exceptions.MetadataError` naming the option).

Units (independent, run through :func:`lightlane.scale.run_units`, inline or on Dask):

* **baseline r** (r = 0 … R−1), made once per study: B_r = poissonize(target) with the unit seed
  s = key(study seed, SENSITIVITY, 2³², r), analysed with analysis seed s; its null summaries
  (those of a pipeline baseline run's B) and, when this build has the P3 kernel, its P3 S_r.
* **replicate (i, k)** (value index i, replicate k): A = the target's mimic (the replicate recipe:
  its fitted spectrum, span, GTIs and the processing band) generated with NAME = v_i and seed
  s = key(study seed, SENSITIVITY, i, k); B = poissonize(A) with the task seed key(s, TASK, 1, 0)
  of a pipeline's B chain; both analysed with analysis seed s (common random numbers, as a run)
  and tested by the pipelines' :func:`~lightlane.pipelines.results.result_rows` against the R
  baselines. The unit keeps each test's calibrated verdict (:func:`.power.unit_tests`).

Seeds are masked to 63 bits (SPEC §1). The baseline index 2³² lies above every value index, so
the two kinds of unit never share a stream. Workers never write the catalog: the client records
one transaction per unit (running, then done/failed); a replicate unit's worker reads the
complete baseline set from the catalog once per process (it is final before any replicate is
planned, so the result does not depend on where or when the unit runs). Done units are skipped
on resume; ``running`` leftovers and failed units are redone. The caller holds the workspace lock.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .. import _core
from ..analysis.dataset_analysis import analyze_events
from ..datasets.registered import read_dataset
from ..datasets.synthetic import fit_dataset, new_seed
from ..events.calibrations import get_calibration
from ..events.event_list import EventList
from ..exceptions import DataError, MetadataError
from ..lanesheet.simulation import generation_band, mean_lanecount_at, simulate
from ..metadata import DatasetMeta, GenerationParameters, GenerationTime, ProcessingParameters, is_valid_id, to_json
from ..metadata.schema import Context, from_json
from ..metadata.values import MAX_SEED
from ..pipelines.results import null_summaries, p3_row, result_rows
from ..pipelines.tasks.nulls import poissonize
from ..pipelines.tasks.seeds import OP_GENERATE_DITHER, sub_seed, task_seed
from ..scale import Execution, run_units
from ..stats.null_summaries import NullSummary
from ..store.catalog import Catalog, utc_now
from ..store.hashing import sha256_json
from ..store.workspace import Workspace
from ..version import CODE_VERSION
from .power import unit_tests

__all__ = [
    "BASELINE_INDEX", "Vary", "SensitivityStudy", "UnitPlan", "UnitResult", "parse_vary", "variable_parameters",
    "min_baseline_runs", "default_baseline_runs", "with_value", "open_study", "unit_seed", "plan_units", "compute_unit",
    "run_study",
]

#: First key index of the baseline units: above every value index (SPEC §23 seeds).
BASELINE_INDEX = 2**32


# ----------------------------------------------------------------------------- the definition


@dataclass(frozen=True)
class Vary:
    """``--vary NAME=v1,v2,…``: the parameter and its values, in the order given."""

    parameter: str
    values: tuple[float, ...]

    def text(self) -> str:
        return f"{self.parameter}={','.join(repr(v) for v in self.values)}"


def parse_vary(text: str) -> Vary:
    """Parse ``NAME=v1,v2,…`` (at least one finite, distinct number).

    Examples
    --------
    >>> parse_vary("r_e_lu=0.4,0.8,1.6")
    Vary(parameter='r_e_lu', values=(0.4, 0.8, 1.6))
    """
    name, sep, listed = text.partition("=")
    name = name.strip()
    items = [item.strip() for item in listed.split(",")] if sep else []
    if not name or not items or any(not item for item in items):
        raise MetadataError(f"--vary: expected NAME=v1,v2,… (e.g. r_e_lu=0.4,0.8,1.6), got {text!r}")
    values = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise MetadataError(f"--vary {name}: expected finite numbers, got {item!r}")
        values.append(value)
    if len(set(values)) != len(values):
        raise MetadataError(f"--vary {name}: expected distinct values, got {listed!r}")
    return Vary(name, tuple(values))


def variable_parameters(template: GenerationParameters) -> dict[str, str]:
    """The numeric fields a study may vary → where they live (``model``, ``path`` or ``""``, the top level).

    The spectrum, span and GTIs come from the target and the seed from the study, so they are not
    among them.
    """
    out = {item.name: part for part in ("model", "path") for item in dataclasses.fields(getattr(template, part))
           if item.name != "kind"}
    out["n_iso"] = ""
    return out


def with_value(base: GenerationParameters, parameter: str, value: float) -> GenerationParameters:
    """``base`` with one parameter set, validated like a file (errors name ``--vary NAME=value``)."""
    part = variable_parameters(base)[parameter]
    changes: dict[str, Any] = {parameter: value}
    if part:
        changes = {part: dataclasses.replace(getattr(base, part), **changes)}
    changed = dataclasses.replace(base, **changes)
    return from_json(GenerationParameters, to_json(changed), Context(f"--vary {parameter}={value!r}"))


def _runs_allowing(exceedances: int, alpha: float) -> int:
    """The least R with (1 + exceedances)/(R + 1) < α: p_cal < α with that many baselines at or above A."""
    runs = max(1, math.floor((1 + exceedances) / alpha) - 1)
    while (1 + exceedances) / (runs + 1) >= alpha:
        runs += 1
    return runs


def min_baseline_runs(alpha: float) -> int:
    """The least R whose smallest calibrated p-value 1/(R + 1) is below α (SPEC §11.1)."""
    return _runs_allowing(0, alpha)


def default_baseline_runs(alpha: float) -> int:
    """The least R with 5/(R + 1) < α (100 for α = 0.05, 500 for 0.01), so the tests' size is just under α.

    Every replicate shares the one baseline set, and when p_cal < α allows h baselines at or above A,
    the size given the set scatters by about 1/√(h + 1) of itself: 45 % here (h = 4), 100 % at the
    least R (h = 0).
    """
    return _runs_allowing(4, alpha)


@dataclass(frozen=True)
class SensitivityStudy:
    """A study as stored in ``sensitivity_studies`` plus what its units need (made by the client)."""

    study_id: str
    root: str
    target: str
    processing: ProcessingParameters
    processing_hash: str
    generation: str
    vary: Vary
    replicates: int
    baseline_runs: int
    seed: int
    base: GenerationParameters  # template + the target's spectrum, span and GTIs + the processing band
    centre_nm: float
    mean_lanecounts: tuple[float, ...]  # N̄ at the band centre, per value

    @property
    def parameter(self) -> str:
        return self.vary.parameter

    @property
    def values(self) -> tuple[float, ...]:
        return self.vary.values

    def generation_at(self, value_index: int, seed: int) -> GenerationParameters:
        """The resolved generation of a replicate: base with NAME = v_i and the unit seed."""
        changed = with_value(self.base, self.parameter, self.values[value_index])
        return dataclasses.replace(changed, seed=seed)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _base_generation(workspace: Workspace, target: str, template: GenerationParameters,
                     processing: ProcessingParameters) -> GenerationParameters:
    _, events, fit = fit_dataset(workspace, target, processing)  # the replicate recipe
    gtis = tuple((float(a), float(b)) for a, b in events.gti)
    return dataclasses.replace(template, spectrum=fit.spectrum, band=generation_band(template, processing), seed=0,
                               time=GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis))


def _definition(study: SensitivityStudy) -> dict[str, Any]:
    """What a resumed study must repeat, by the option that sets it."""
    base = to_json(study.base)
    return {
        "--target": study.target,
        "--processing": f"{study.processing.id} (hash {study.processing_hash[:8]})",
        "--generation": f"{study.generation} (resolved on the target: {sha256_json(base)[:8]})",
        "--vary": study.vary.text(),
        "--replicates": study.replicates,
        "--baseline-runs": study.baseline_runs,
        "--seed": study.seed,
        "package version": CODE_VERSION,
    }


def open_study(workspace: Workspace, study_id: str, *, target: str, processing: str, generation: str,
               vary: str | Vary, replicates: int, baseline_runs: int | None = None,
               seed: int | None = None) -> SensitivityStudy:
    """Create a sensitivity study, or reopen it checking that its definition is the same.

    A missing ``seed`` is drawn from OS entropy and recorded (a reopened study keeps its own);
    ``baseline_runs`` defaults to :func:`default_baseline_runs` of the processing's α. Nothing is
    written unless every option is valid.

    Raises
    ------
    MetadataError
        A bad id or ``--vary``, a parameter that is not a numeric field of the template, a value
        the generation rejects, K < 1, an R too small for a calibrated p-value to fall below α,
        unknown ids, or a reopened study with another definition (names the differing options).
    DataError
        The target's spectrum cannot be fitted.
    """
    if not is_valid_id(study_id):
        raise MetadataError(f"--study: invalid id {study_id!r} (expected [a-z0-9_-]{{1,64}})")
    vary = parse_vary(vary) if isinstance(vary, str) else vary
    if isinstance(replicates, bool) or int(replicates) < 1:
        raise MetadataError(f"--replicates: expected an integer ≥ 1, got {replicates!r}")
    p = workspace.load(ProcessingParameters, processing)
    template = workspace.load(GenerationParameters, generation)
    workspace.load(DatasetMeta, target)
    names = variable_parameters(template)
    if vary.parameter not in names:
        raise MetadataError(f"--vary: {vary.parameter!r} is not a numeric parameter of generation {generation!r} "
                            f"(choose one of {', '.join(sorted(names))})")
    alpha = p.significance_level
    runs = default_baseline_runs(alpha) if baseline_runs is None else int(baseline_runs)
    if 1.0 / (runs + 1) >= alpha:
        raise MetadataError(f"--baseline-runs: expected an integer ≥ {min_baseline_runs(alpha)} so that a "
                            f"calibrated p-value (≥ 1/(R + 1)) can fall below α = {alpha:g} of processing {p.id!r}, "
                            f"got {runs}")
    with Catalog.open(workspace.catalog_path) as catalog:
        row = catalog.sensitivity_study_row(study_id)
    if row is not None and seed is None:
        seed = int(row["seed"])
    seed = new_seed() if seed is None else int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise MetadataError(f"--seed: expected an integer in [0, 2^63 − 1], got {seed!r}")
    base = _base_generation(workspace, target, template, p)
    centre = 0.5 * (p.band.min_nm + p.band.max_nm)
    nbar = tuple(mean_lanecount_at(with_value(base, vary.parameter, v), centre) for v in vary.values)
    study = SensitivityStudy(study_id=study_id, root=str(workspace.root), target=target, processing=p,
                             processing_hash=p.processing_hash(), generation=generation, vary=vary,
                             replicates=int(replicates), baseline_runs=runs, seed=seed, base=base,
                             centre_nm=centre, mean_lanecounts=nbar)
    given = _definition(study)
    if row is not None:
        stored = json.loads(row["definition_json"])
        changed = [k for k in given if stored.get(k) != given[k]]
        if changed:
            shown = "; ".join(f"{k}: stored {stored.get(k)!r}, given {given[k]!r}" for k in changed)
            raise MetadataError(f"catalog sensitivity_studies.{study_id}: resuming with another "
                                f"{', '.join(changed)} ({shown}); repeat the study's options or use a new --study")
        return study
    with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:
        catalog.insert_sensitivity_study(cursor, {
            "study_id": study_id, "target_dataset": target, "processing_id": p.id,
            "processing_hash": study.processing_hash, "generation": generation, "parameter": vary.parameter,
            "values_json": _canonical(list(vary.values)), "replicates": study.replicates,
            "baseline_runs": runs, "seed": seed, "definition_json": _canonical(given), "created_at": utc_now()})
    return study


# ----------------------------------------------------------------------------- units


def unit_seed(study_seed: int, first: int, second: int) -> int:
    """key(study seed, SENSITIVITY, first, second), masked to the 63-bit seed range of SPEC §1."""
    return int(_core.key(int(study_seed), _core.DOMAIN_SENSITIVITY, [int(first), int(second)])) & MAX_SEED


@dataclass(frozen=True)
class UnitPlan:
    """Everything a worker needs for one unit (picklable); ``value_index`` is −1 for a baseline."""

    root: str
    study_id: str
    kind: Literal["baseline", "replicate"]
    value_index: int
    replicate: int
    seed: int
    target: str
    processing: ProcessingParameters
    baseline_runs: int
    study_seed: int
    generation: GenerationParameters | None = None

    @property
    def label(self) -> str:
        return (f"{self.study_id}-baseline-{self.replicate}" if self.kind == "baseline"
                else f"{self.study_id}-v{self.value_index}-r{self.replicate}")


@dataclass(frozen=True)
class UnitResult:
    """What a worker returns: event counts, a replicate's tests, a baseline's null summaries (with P3's S_r)."""

    n_a: int | None
    n_b: int
    tests: Mapping[str, tuple[str, float | None]] = field(default_factory=dict)
    nulls: Mapping[str, NullSummary] = field(default_factory=dict)


_TARGETS: dict[tuple[str, str, str], EventList] = {}
_BASELINES: dict[tuple[str, str, int, int], dict[str, list[NullSummary]]] = {}


def _target_events(workspace: Workspace, target: str, processing: ProcessingParameters) -> EventList:
    """The target's events, read once per worker process (every baseline unit poissonizes them)."""
    key = (str(workspace.root), target, workspace.load(DatasetMeta, target).file_sha256)
    if key not in _TARGETS:
        _TARGETS.clear()
        _TARGETS[key] = read_dataset(workspace, target,
                                     require_xy=processing.crop is not None or processing.mask is not None)
    return _TARGETS[key]


def _baseline_set(plan: UnitPlan) -> dict[str, list[NullSummary]]:
    """metric → the R baselines' null summaries (each with its P3 S_r); read once per worker process."""
    key = (plan.root, plan.study_id, plan.study_seed, plan.baseline_runs)
    if key not in _BASELINES:
        with Catalog.open(Workspace.at(plan.root).catalog_path) as catalog:
            nulls = catalog.sensitivity_null_rows(plan.study_id)
            units = catalog.sensitivity_units(plan.study_id)
        summaries: dict[str, list[NullSummary]] = {}
        for row in nulls:
            summaries.setdefault(str(row["metric"]), []).append(NullSummary.from_row(row))
        done = [u for u in units if u["kind"] == "baseline" and u["status"] == "done"]
        if len(done) != plan.baseline_runs or any(len(v) != plan.baseline_runs for v in summaries.values()):
            raise DataError(f"sensitivity study {plan.study_id!r}: {len(done)} of {plan.baseline_runs} baseline "
                            f"runs are recorded; run the study again")
        _BASELINES.clear()
        _BASELINES[key] = summaries
    return _BASELINES[key]


def _mimic(generation: GenerationParameters, processing: ProcessingParameters) -> EventList:
    """A replicate's A: the photons of its resolved generation, channels dithered like the ``generate``
    task's (SPEC §7.6), so the analysis sees the instrument's wavelengths as for a real target."""
    photons = simulate(generation, processing)
    if "pi" in photons.columns:
        calibration = get_calibration(generation.instrument.calibration)
        energy, wavelength = calibration.dither(photons["pi"].to_numpy(),
                                                sub_seed(generation.seed, OP_GENERATE_DITHER), 0)
        photons = photons.with_columns(wavelength_nm=wavelength, energy_kev=energy)
        photons = photons.filter(photons["wavelength_nm"].is_finite())
    gti = np.asarray(generation.time.intervals(), dtype=np.float64).reshape(-1, 2)
    return EventList(events=photons, gti=gti, coordinates="synthetic", generation=generation)


def compute_unit(plan: UnitPlan) -> UnitResult:
    """Compute one unit without writing the catalog (runs inline or on a Dask worker)."""
    workspace = Workspace.at(plan.root)
    processing = plan.processing
    b_seed = task_seed(plan.seed, 1, 0)  # a pipeline's first B task (b_input = "a")

    def analyse(events: EventList, side: str, *, p3: bool) -> Any:
        # never cached (no cache_root); the events hash keys the analysis's P3 memo
        return analyze_events(events, processing, plan.seed, dataset_id=f"{plan.label}-{side}", p3=p3)

    if plan.kind == "baseline":  # B's P3 is its S_r, as in a pipeline's baseline run
        b = analyse(poissonize(_target_events(workspace, plan.target, processing), b_seed), "b", p3=True)
        return UnitResult(None, b.n_selected, nulls=null_summaries(processing, b.chunks,
                                                                   b.p3.stat if b.p3 else None))
    assert plan.generation is not None
    summaries = _baseline_set(plan)
    a_events = _mimic(plan.generation, processing)
    a, b = analyse(a_events, "a", p3=True), analyse(poissonize(a_events, b_seed), "b", p3=False)
    sizes = {"n_a": a.n_selected, "n_b": b.n_selected}
    rows = result_rows(plan.label, processing, a.chunks, b.chunks, summaries, **sizes)
    estimate = (a.p3.stat, a.p3.slope, a.p3.intercept_ln_hz) if a.p3 else None
    rows.append(p3_row(plan.label, processing, estimate, summaries, undefined=a.p3_undefined, **sizes))
    return UnitResult(a.n_selected, b.n_selected, tests=unit_tests(rows))


class _Recorder:
    """Client-side unit rows, one transaction each: running on start, done (with a baseline's null
    summaries) or failed when finished."""

    def __init__(self, workspace: Workspace) -> None:
        self.path = workspace.catalog_path
        self._started: dict[tuple[str, int, int], str] = {}

    def _row(self, plan: UnitPlan, status: str, **values: Any) -> dict[str, Any]:
        started = self._started.setdefault((plan.kind, plan.value_index, plan.replicate), utc_now())
        return {"study_id": plan.study_id, "kind": plan.kind, "value_index": plan.value_index,
                "replicate": plan.replicate, "seed": plan.seed, "status": status, "started_at": started,
                "finished_at": None if status == "running" else utc_now(), **values}

    def start(self, plan: UnitPlan) -> None:
        self._started[plan.kind, plan.value_index, plan.replicate] = utc_now()
        with Catalog.open(self.path) as catalog, catalog.transaction() as cursor:
            catalog.replace_sensitivity_unit(cursor, self._row(plan, "running"))

    def done(self, plan: UnitPlan, result: UnitResult) -> None:
        tests = {test: {"verdict": v, "p_calibrated": p} for test, (v, p) in result.tests.items()}
        row = self._row(plan, "done", n_a=result.n_a, n_b=result.n_b,
                        tests_json=_canonical(tests) if plan.kind == "replicate" else None)
        with Catalog.open(self.path) as catalog, catalog.transaction() as cursor:
            catalog.replace_sensitivity_unit(cursor, row)
            catalog.replace_sensitivity_nulls(cursor, plan.study_id, plan.replicate,
                                              [s.to_row(plan.label) for s in result.nulls.values()])

    def fail(self, plan: UnitPlan, error: BaseException) -> None:
        with Catalog.open(self.path) as catalog, catalog.transaction() as cursor:
            catalog.replace_sensitivity_unit(cursor, self._row(plan, "failed", error=f"{type(error).__name__}: {error}"))


def _done(workspace: Workspace, study_id: str) -> set[tuple[str, int, int]]:
    with Catalog.open(workspace.catalog_path) as catalog:
        rows = catalog.sensitivity_units(study_id)
    return {(r["kind"], int(r["value_index"]), int(r["replicate"])) for r in rows if r["status"] == "done"}


def plan_units(study: SensitivityStudy, kind: Literal["baseline", "replicate"],
               done: Collection[tuple[str, int, int]] = ()) -> list[UnitPlan]:
    """The unfinished units of one kind, in key order (baselines by r; replicates by value, then k)."""
    def plan(index: int, replicate: int, seed: int, generation: GenerationParameters | None = None) -> UnitPlan:
        return UnitPlan(root=study.root, study_id=study.study_id, kind=kind, value_index=index, replicate=replicate,
                        seed=seed, target=study.target, processing=study.processing,
                        baseline_runs=study.baseline_runs, study_seed=study.seed, generation=generation)

    if kind == "baseline":
        return [plan(-1, r, unit_seed(study.seed, BASELINE_INDEX, r)) for r in range(study.baseline_runs)
                if ("baseline", -1, r) not in done]
    plans = []
    for i in range(len(study.values)):
        for k in range(study.replicates):
            if ("replicate", i, k) not in done:
                seed = unit_seed(study.seed, i, k)
                plans.append(plan(i, k, seed, study.generation_at(i, seed)))
    return plans


def run_study(workspace: Workspace, study: SensitivityStudy, execution: Execution = Execution(),
              *, progress: bool = False) -> tuple[int, int]:
    """Run (or resume) every unit of a study: the R baselines, then the K replicates of every value.

    Returns
    -------
    (int, int)
        The baseline and replicate units computed by this call (0, 0 for a finished study).
    """
    recorder = _Recorder(workspace)
    baselines = plan_units(study, "baseline", _done(workspace, study.study_id))
    run_units(baselines, compute_unit, recorder.done, execution, start=recorder.start, fail=recorder.fail,
              progress="sensitivity baselines" if progress else None)
    replicates = plan_units(study, "replicate", _done(workspace, study.study_id))
    run_units(replicates, compute_unit, recorder.done, execution, start=recorder.start, fail=recorder.fail,
              progress="sensitivity replicates" if progress else None)
    return len(baselines), len(replicates)
