"""Sensitivity studies (SPEC §23): definition, units, resumability, outputs and the CLI —
lightlane.sensitivity.study, lightlane.sensitivity.outputs, `lightlane sensitivity`."""

from __future__ import annotations

import csv
import dataclasses
import sqlite3

import numpy as np
import pytest

from lightlane import Workspace, _core
from lightlane.cli import main as cli
from lightlane.datasets.synthetic import generate_dataset
from lightlane.exceptions import MetadataError
from lightlane.lanesheet import mean_lanecount_at
from lightlane.metadata import Band, GenerationParameters, GenerationTime, ListWidths, ProcessingParameters
from lightlane.metadata.values import MAX_SEED
from lightlane.scale import Execution
from lightlane.sensitivity import study as sens
from lightlane.sensitivity.outputs import results_folder, summary_lines, write_outputs
from lightlane.stats.p1 import clopper_pearson
from lightlane.store.catalog import Catalog

from ..helpers import snapshot

VARY = "r_e_lu=0.3,3.0"
SEED = 7


def _setup(workspace: Workspace) -> str:
    """Processing `tiny` (10 bins, 3 widths, 2000 chunks, α = 0.3 so R = 3 can calibrate) and a 4000 s
    homogeneous-Poisson target (embedded `isotropic`, seed 5)."""
    default = workspace.load(ProcessingParameters, "default")
    workspace.save(dataclasses.replace(default, id="tiny", band=Band(0.1, 1.0, 10), chunk_count=2000,
                                       time_bins=ListWidths(widths_s=(10.0, 20.0, 40.0)), significance_level=0.3,
                                       test_metrics=("vea", "vesa", "oec")))
    isotropic = workspace.load(GenerationParameters, "isotropic")
    workspace.save(dataclasses.replace(isotropic, id="real", time=GenerationTime(tstop_s=4000.0)))
    return generate_dataset(workspace, "real", "tiny", seed=5).dataset.id


def _open(workspace: Workspace, study_id: str, target: str, **changes) -> sens.SensitivityStudy:
    options = dict(target=target, processing="tiny", generation="sparse", vary=VARY, replicates=2, baseline_runs=3,
                   seed=SEED)
    options.update(changes)
    return sens.open_study(workspace, study_id, **options)


def _power(workspace: Workspace, study_id: str) -> list[tuple]:
    with Catalog.open(workspace.catalog_path) as catalog:
        return [tuple(row)[1:] for row in catalog.sensitivity_rows(study_id)]  # without study_id


def _units(workspace: Workspace, study_id: str) -> list[tuple]:
    with Catalog.open(workspace.catalog_path) as catalog:
        rows = catalog.sensitivity_units(study_id)
    return [(r["kind"], r["value_index"], r["replicate"], r["seed"], r["status"], r["n_a"], r["n_b"], r["tests_json"])
            for r in rows]


def _run(workspace: Workspace, study: sens.SensitivityStudy, execution: Execution = Execution()) -> tuple[int, int]:
    with workspace.lock():
        return sens.run_study(workspace, study, execution)


# ----------------------------------------------------------------------------- definition


@pytest.mark.parametrize("text, words", [
    ("r_e_lu", "NAME=v1,v2"), ("=1,2", "NAME=v1,v2"), ("r_e_lu=", "NAME=v1,v2"), ("r_e_lu=1,,2", "NAME=v1,v2"),
    ("r_e_lu=1,x", "finite numbers"), ("r_e_lu=nan", "finite numbers"), ("r_e_lu=inf", "finite numbers"),
    ("r_e_lu=1,1.0", "distinct"),
])
def test_vary_is_parsed_strictly(text: str, words: str) -> None:
    with pytest.raises(MetadataError, match=f"--vary.*{words}"):
        sens.parse_vary(text)
    assert sens.parse_vary(" alpha_lu = 1e-1, 2 ") == sens.Vary("alpha_lu", (0.1, 2.0))


def test_unit_seeds_follow_the_rng_contract() -> None:
    assert sens.unit_seed(SEED, 1, 0) == _core.key(SEED, _core.DOMAIN_SENSITIVITY, [1, 0]) & MAX_SEED
    assert _core.DOMAIN_SENSITIVITY == 11  # SPEC §1
    seeds = {sens.unit_seed(SEED, i, k) for i in range(3) for k in range(3)}
    seeds |= {sens.unit_seed(SEED, sens.BASELINE_INDEX, r) for r in range(3)}
    assert len(seeds) == 12


def test_baseline_runs_default_and_minimum_follow_alpha() -> None:
    for alpha in (0.3, 0.2, 0.05, 0.03, 0.01):
        low, default = sens.min_baseline_runs(alpha), sens.default_baseline_runs(alpha)
        assert 1 / (low + 1) < alpha <= 1 / low
        assert 5 / (default + 1) < alpha <= 5 / default  # p_cal < α allows 4 exceedances, and R is the least
    assert (sens.min_baseline_runs(0.05), sens.default_baseline_runs(0.05), sens.default_baseline_runs(0.01)) == \
        (20, 100, 500)


def test_a_new_study_records_its_definition_and_mean_lanecounts(workspace: Workspace) -> None:
    target = _setup(workspace)
    study = _open(workspace, "s", target, seed=None, baseline_runs=None)
    assert 0 <= study.seed <= MAX_SEED and study.baseline_runs == sens.default_baseline_runs(0.3) == 16
    assert study.centre_nm == pytest.approx(0.55)
    for value, nbar in zip(study.values, study.mean_lanecounts):
        changed = dataclasses.replace(study.base, model=dataclasses.replace(study.base.model, r_e_lu=value))
        assert nbar == mean_lanecount_at(changed, 0.55)
    spacing = 5.0 * np.exp(-2.0 * 0.55)  # sparse: g = α·exp(lucretius·λ) at the band centre
    assert study.mean_lanecounts[0] == pytest.approx(2 * np.pi * 0.3**2 / (np.sqrt(3) * spacing**2), rel=1e-12)
    assert study.mean_lanecounts[1] == pytest.approx(100 * study.mean_lanecounts[0])  # N̄ ∝ r_e²
    reopened = _open(workspace, "s", target, seed=None, baseline_runs=None)  # the stored seed, the default R
    assert (reopened.seed, reopened.base) == (study.seed, study.base)
    generation = study.generation_at(1, 99)
    assert (generation.model.r_e_lu, generation.seed, generation.time.tstop_s) == (3.0, 99, 4000.0)


@pytest.mark.parametrize("changes, named", [
    ({"replicates": 3}, "--replicates"), ({"vary": "r_e_lu=0.3,3.1"}, "--vary"), ({"seed": 8}, "--seed"),
    ({"baseline_runs": 4}, "--baseline-runs"), ({"generation": "dense"}, "--generation"),
])
def test_resuming_with_another_definition_names_the_option(workspace: Workspace, changes: dict, named: str) -> None:
    target = _setup(workspace)
    _open(workspace, "s", target)
    with pytest.raises(MetadataError, match=f"sensitivity_studies.s: resuming with another {named}"):
        _open(workspace, "s", target, **changes)


@pytest.mark.parametrize("argv, code, words", [
    (["--vary", "r_e_lu"], 3, "--vary: expected NAME=v1,v2"),
    (["--vary", "spectrum=1,2"], 3, "--vary: 'spectrum' is not a numeric parameter of generation 'sparse'"),
    (["--vary", "seed=1,2"], 3, "--vary: 'seed' is not a numeric parameter"),
    (["--vary", "r_e_lu=-1,2"], 3, "--vary r_e_lu=-1.0: field 'model.r_e_lu': expected number > 0"),
    (["--replicates", "0"], 3, "--replicates: expected an integer in"),
    (["--baseline-runs", "2"], 3, "--baseline-runs: expected an integer ≥ 3 so that a calibrated p-value"),
    (["--baseline-runs", "0"], 3, "--baseline-runs: expected an integer in"),
    (["--seed", "-1"], 3, "--seed: expected an integer in"),
    (["--study", "Bad Id"], 3, "--study: invalid id"),
    (["--target", "nope"], 3, "nope"),
    (["--generation", "nope"], 3, "nope"),
    (["--jobs", "0"], 3, "--jobs"),
    (["--replicates", "x"], 2, "--replicates"),
])
def test_bad_options_fail_in_one_line_and_write_nothing(workspace: Workspace, capsys, argv: list[str], code: int,
                                                        words: str) -> None:
    target = _setup(workspace)
    options = {"--study": "s", "--target": target, "--processing": "tiny", "--generation": "sparse",
               "--vary": VARY, "--replicates": "2"}
    options.update(dict(zip(argv[::2], argv[1::2])))
    before = snapshot(workspace.root)
    capsys.readouterr()
    assert cli(["--workspace", str(workspace.root), "sensitivity", *(w for kv in options.items() for w in kv)]) == code
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert snapshot(workspace.root) == before
    with Catalog.open(workspace.catalog_path) as catalog:
        assert catalog.sensitivity_study_row("s") is None


# ----------------------------------------------------------------------------- units and outputs


def test_a_study_runs_its_units_and_writes_power_tables_and_figure(workspace: Workspace) -> None:
    target = _setup(workspace)
    study = _open(workspace, "s", target)
    assert _run(workspace, study) == (3, 4)
    units = _units(workspace, "s")
    assert [u[:3] for u in units] == [("baseline", -1, 0), ("baseline", -1, 1), ("baseline", -1, 2),
                                      ("replicate", 0, 0), ("replicate", 0, 1), ("replicate", 1, 0),
                                      ("replicate", 1, 1)]
    assert [u[3] for u in units[3:]] == [sens.unit_seed(SEED, i, k) for i in range(2) for k in range(2)]
    assert all(u[4] == "done" for u in units) and all(u[5] is None and u[6] > 0 for u in units[:3])
    with Catalog.open(workspace.catalog_path) as catalog:
        nulls = catalog.sensitivity_null_rows("s")
    assert sorted({(r["baseline_index"], r["metric"]) for r in nulls}) == [(r, m) for r in range(3)
                                                                           for m in ("oec", "vea", "vesa")]
    with workspace.lock():
        outputs = write_outputs(workspace, study)
    # every calibrated test of the pipelines' rows, P1e not for the unsigned oec, and P3
    expected = {f"{t}:{m}" for t in ("p1a", "p1b", "p1c", "p2") for m in ("vea", "vesa", "oec")}
    assert set(outputs.tests) == expected | {"p1e:vea", "p1e:vesa", "p3"}
    assert outputs.tests[:3] == ("p1a:vea", "p1a:vesa", "p1a:oec")
    rows = _power(workspace, "s")
    assert len(rows) == 2 * len(outputs.tests)
    for index, test, value, nbar, detections, replicates, power, low, high, _ in rows:
        assert (value, nbar) == (study.values[index], study.mean_lanecounts[index])
        assert replicates == 2 and 0 <= detections <= 2 and power == detections / 2
        assert (low, high) == clopper_pearson(detections, 2, 0.95)
    assert outputs.figure == results_folder(workspace, "s") / "power_s.png" and outputs.figure.stat().st_size > 0
    with outputs.table.open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows) and table[0]["test"] == "p1a:vea" and table[0]["parameter"] == "r_e_lu"
    assert {(int(r["value_index"]), r["test"], int(r["detections"])) for r in table} == {r[:2] + (r[4],) for r in rows}
    with outputs.limits_table.open() as handle:
        limits = list(csv.DictReader(handle))
    assert len(limits) == 2 * len(outputs.tests) and {r["axis"] for r in limits} == {"mean_lanecount"}
    lines = summary_lines(study, outputs)
    assert lines[0].split() == ["r_e_lu", "0.3", "3"] and lines[1].startswith("N̄ at 0.55 nm")
    assert lines[2].split() == ["test", "N̄", "limit", "50", "%", "N̄", "limit", "90", "%"]
    assert any(line.startswith("p1a:vesa ") for line in lines)


def test_an_interrupted_study_resumes_to_the_uninterrupted_result(workspace: Workspace, monkeypatch) -> None:
    """SPEC §23: a unit raising midway (and a `running` leftover) — the same command completes the study with
    the rows of an uninterrupted one."""
    target = _setup(workspace)
    whole = _open(workspace, "whole", target)
    _run(workspace, whole)
    with workspace.lock():
        write_outputs(workspace, whole)

    split = _open(workspace, "split", target)
    original = sens.compute_unit

    def interrupted(plan: sens.UnitPlan) -> sens.UnitResult:
        if plan.kind == "replicate" and (plan.value_index, plan.replicate) == (1, 0):
            raise KeyboardInterrupt  # as a Ctrl-C would
        return original(plan)

    monkeypatch.setattr(sens, "compute_unit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(workspace, split)
    monkeypatch.undo()
    states = {(u[0], u[1], u[2]): u[4] for u in _units(workspace, "split")}
    assert states[("replicate", 1, 0)] == "failed" and ("replicate", 1, 1) not in states
    assert list(states.values()).count("done") == 5
    with Catalog.open(workspace.catalog_path) as catalog, catalog.transaction() as cursor:  # a killed worker's row
        catalog.replace_sensitivity_unit(cursor, {"study_id": "split", "kind": "replicate", "value_index": 0,
                                                  "replicate": 1, "seed": 0, "status": "running",
                                                  "started_at": "2024-01-01T00:00:00Z"})
    again = _open(workspace, "split", target)  # the same command: the stored seed, the same definition
    assert _run(workspace, again) == (0, 3)
    with workspace.lock():
        write_outputs(workspace, again)
    assert _power(workspace, "split") == _power(workspace, "whole")
    assert _units(workspace, "split") == _units(workspace, "whole")
    assert _run(workspace, again) == (0, 0)  # finished: nothing is recomputed


def test_p3_is_a_test_of_the_study(workspace: Workspace) -> None:
    """Baselines store their B's S_r with their null summaries, replicates get a `p3` row and the study a
    test `p3`, after the P1a tests (SPEC §11.9, §23)."""
    target = _setup(workspace)
    study = _open(workspace, "p3", target, vary="r_e_lu=0.3", replicates=3, baseline_runs=4)
    _run(workspace, study)
    with Catalog.open(workspace.catalog_path) as catalog:
        nulls = catalog.sensitivity_null_rows("p3")
    assert nulls and all(row["p3"] is not None for row in nulls)
    assert all('"p3"' in u[7] for u in _units(workspace, "p3") if u[0] == "replicate")
    with workspace.lock():
        outputs = write_outputs(workspace, study)
    assert "p3" in outputs.tests and outputs.tests.index("p3") == 3  # after the P1a tests, before the others


def test_the_cli_prints_the_table_and_resumes(workspace: Workspace, capsys) -> None:
    target = _setup(workspace)
    argv = ["--workspace", str(workspace.root), "sensitivity", "--study", "c", "--target", target, "--processing",
            "tiny", "--generation", "sparse", "--vary", VARY, "--replicates", "2", "--baseline-runs", "3", "--seed",
            str(SEED)]
    assert cli(argv) == 0
    out = capsys.readouterr().out
    assert "3 baseline and 4 replicate unit(s) computed" in out and "power_c.png" in out
    assert "p1a:vesa" in out and "N̄ limit 90 %" in out
    page = (workspace.root / "results" / "index.html").read_text()  # the workspace page lists the study
    assert 'id="sensitivity"' in page and 'href="sensitivity/c/power_c.png"' in page and "4 of 4" in page
    assert cli(argv) == 0
    again = capsys.readouterr().out
    assert "0 baseline and 0 replicate unit(s) computed" in again
    assert again.splitlines()[3:] == out.splitlines()[3:]
    assert cli(argv[:-2]) == 0  # without --seed: the stored one


@pytest.mark.slow
def test_jobs_do_not_change_the_results(workspace: Workspace) -> None:
    target = _setup(workspace)
    for study_id, execution in (("one", Execution()), ("two", Execution(jobs=2))):
        study = _open(workspace, study_id, target)
        _run(workspace, study, execution)
        with workspace.lock():
            write_outputs(workspace, study)
    assert _power(workspace, "two") == _power(workspace, "one")
    assert [u[:8] for u in _units(workspace, "two")] == [u[:8] for u in _units(workspace, "one")]


def test_units_never_write_the_catalog(workspace: Workspace) -> None:
    """compute_unit only reads (the client records): the catalog's bytes do not change while it runs."""
    target = _setup(workspace)
    study = _open(workspace, "s", target, vary="r_e_lu=0.3", replicates=1)
    _run(workspace, study)
    with sqlite3.connect(workspace.catalog_path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = workspace.catalog_path.read_bytes()
    plan = sens.plan_units(study, "replicate")[0]
    result = sens.compute_unit(plan)
    assert workspace.catalog_path.read_bytes() == before
    stored = {u[:3]: u for u in _units(workspace, "s")}[("replicate", 0, 0)]
    assert (result.n_a, result.n_b) == stored[5:7] and result.tests
