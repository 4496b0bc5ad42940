"""SPEC §21 property 34 on the quickstart workspace: the power of every calibrated test at the null
generation (`isotropic`) is its size α, and at the quickstart positive control's lanesheet (`sparse`)
P1a on vesa (and P3 when the build has it) detects with power ≥ 0.9. Fixed seeds."""

from __future__ import annotations

import dataclasses

import pytest
from scipy.stats import beta

from lightlane import Workspace
from lightlane.demo import build_demo
from lightlane.metadata import ProcessingParameters
from lightlane.scale import Execution
from lightlane.sensitivity import study as sens
from lightlane.sensitivity.outputs import write_outputs

pytestmark = pytest.mark.slow


def _study(workspace: Workspace, study_id: str, **options) -> list[dict]:
    with workspace.lock():
        study = sens.open_study(workspace, study_id, target="demo_real", seed=2024, **options)
        sens.run_study(workspace, study, Execution())
        return list(write_outputs(workspace, study).rows)


def test_power_at_the_null_generation_is_the_size_alpha(workspace: Workspace) -> None:
    """`isotropic` mimics of demo_real with α = 0.2 (quick otherwise), K = 50, R = 100: each test's detections
    are compatible with its size.

    p_cal < α allows h = 19 of the R baselines at or above A, so the size is (h + 1)/(R + 1) = 0.198 ≈ α.
    The baseline set is shared by every replicate, so given the set the size is Beta(h + 1, R − h) and the
    detections are beta-binomial, with intra-class correlation 1/(R + 2): the binomial interval is taken at
    the effective K/(1 + (K − 1)/(R + 2)) ≈ 34, at level 1 − 0.01/(number of tests) (Bonferroni: a 1 %
    chance that any test of a correct study fails).
    """
    alpha, k, r = 0.2, 50, 100
    with workspace.lock():
        build_demo(workspace)
        quick = workspace.load(ProcessingParameters, "quick")
        workspace.save(dataclasses.replace(quick, id="quick_a20", significance_level=alpha))
    rows = _study(workspace, "null", processing="quick_a20", generation="isotropic", vary="r_e_lu=0.8",
                  replicates=k, baseline_runs=r)
    assert len(rows) >= 34  # P1a–P1c and P2 on 7 metrics, P1e on the 6 signed ones
    effective = k / (1 + (k - 1) / (r + 2))
    level = 1 - 0.01 / len(rows)
    outside = []
    for row in rows:
        d = row["detections"] * effective / k
        low = beta.ppf((1 - level) / 2, d, effective - d + 1) if d > 0 else 0.0
        high = beta.ppf((1 + level) / 2, d + 1, effective - d)
        if not low <= alpha <= high:
            outside.append((row["test"], row["detections"]))
    assert outside == []
    total = sum(row["detections"] for row in rows)
    assert 0.5 * alpha < total / (k * len(rows)) < 1.5 * alpha  # no test family drifts off as a whole


def test_the_quickstart_positive_control_is_detected(workspace: Workspace) -> None:
    """`sparse` (demo_lane's lanesheet, r_e = 0.8) mimicking demo_real on processing quick (α = 0.05), K = 20,
    R = 20 (the least that can reach α): P1a on vesa and P3 detect in ≥ 18 of 20 (SPEC §21 property 34)."""
    with workspace.lock():
        build_demo(workspace)
    rows = _study(workspace, "positive", processing="quick", generation="sparse", vary="r_e_lu=0.8", replicates=20,
                  baseline_runs=20)
    power = {row["test"]: row["power"] for row in rows}
    assert power["p1a:vesa"] >= 0.9 and power["p3"] >= 0.9
