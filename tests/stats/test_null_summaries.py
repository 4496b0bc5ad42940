"""Tests of lightlane.stats.null_summaries: null summaries, the baseline set, thresholds, calibrated p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lightlane import stats
from lightlane.exceptions import DataError, PrerequisiteError
from lightlane.stats.null_summaries import (
    NullSummary,
    calibrated_columns,
    load_baseline_set,
    p1a_null_counts,
    require_baseline,
    store_null_summaries,
    tail_length,
    thresholds,
)
from lightlane.store.catalog import Catalog, utc_now
from lightlane.version import CODE_VERSION

P0 = 0.01


def _null(seed: int, n: int = 1000, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, n)


# ------------------------------------------------------------------ NullSummary


@pytest.mark.parametrize("n", [1, 7, 99, 1000, 1001, 2345])
def test_summary_numbers_match_numpy(n: int) -> None:
    values = _null(n, n)
    s = NullSummary.from_values("m", values, P0, p2=(-0.5, 0.1))
    ascending = np.sort(values)
    k = min(math.ceil(round(10 * P0 * n, 9)), n)
    assert s.n == n
    assert s.q == ascending[math.ceil(round((n - 1) * (1 - P0), 9))]
    assert s.mean == pytest.approx(np.mean(values), rel=0, abs=1e-15)
    assert s.median == np.median(values)
    assert s.neg_pos_ratio == np.count_nonzero(values < 0) / np.count_nonzero(values > 0)
    assert (s.p2_slope, s.p2_se) == (-0.5, 0.1)
    assert s.tail.size == k == tail_length(n, P0)
    np.testing.assert_array_equal(s.tail, ascending[::-1][:k])
    assert np.all(np.diff(s.tail) <= 0)
    assert s.tail_min == ascending[n - k] == s.tail[-1]
    assert not s.tail.flags.writeable


def test_tail_length_exact_products() -> None:
    # 10·0.001·1000 is 10.000000000000002 in floating point: still 10.
    assert tail_length(1000, 0.001) == 10
    assert tail_length(1001, 0.001) == 11
    assert tail_length(5, 0.5) == 5  # capped at n
    with pytest.raises(ValueError):
        tail_length(10, 0.0)


def test_summary_without_p2_and_without_positives() -> None:
    s = NullSummary.from_values("m", -np.arange(1.0, 51.0), 0.1)
    assert s.p2_slope is None and s.p2_se is None
    assert s.neg_pos_ratio is None
    with pytest.raises(ValueError):
        NullSummary.from_values("m", [], 0.1)
    with pytest.raises(ValueError):
        NullSummary.from_values("m", [1.0, np.nan], 0.1)


def test_row_blob_is_little_endian_float64() -> None:
    s = NullSummary.from_values("m", _null(1), P0)
    row = s.to_row("run1")
    assert row["tail"] == np.sort(_null(1))[::-1][:100].astype("<f8").tobytes()
    assert NullSummary.from_row(row) == s


# --------------------------------------------------------------- catalog round trip


def _add_run(catalog: Catalog, run_id: str, *, kind: str = "baseline", status: str = "done", index: int = 1,
             pipeline: str = "pipe", phash: str = "ab" * 32, version: str = CODE_VERSION,
             summaries: list[NullSummary] | None = None) -> None:
    with catalog.transaction() as cur:
        catalog.insert(cur, "runs", {
            "run_id": run_id, "kind": kind, "pipeline_id": pipeline, "processing_id": "proc",
            "processing_hash": phash, "run_index": index, "status": status, "started_at": utc_now(),
            "code_version": version,
        })
        if summaries:
            store_null_summaries(catalog, cur, run_id, summaries)


def test_blob_round_trip_and_baseline_set_filters(tmp_path) -> None:
    catalog = Catalog.open(tmp_path / "c.sqlite")
    made: dict[str, list[NullSummary]] = {}
    # Created out of index order: the set must come back ordered by run_index.
    for index in (3, 1, 2):
        run_id = f"b{index}"
        ss = [NullSummary.from_values(m, _null(10 * index + j), P0, p2=(-0.1 * index, 0.05))
              for j, m in enumerate(("alpha", "beta"))]
        made[run_id] = ss
        _add_run(catalog, run_id, index=index, summaries=ss)
    other = [NullSummary.from_values("alpha", _null(99), P0)]
    _add_run(catalog, "main", kind="pipeline", index=0, summaries=other)
    _add_run(catalog, "running", status="running", index=4, summaries=other)
    _add_run(catalog, "failed", status="failed", index=5, summaries=other)
    _add_run(catalog, "oldver", version="0.0.0-old", index=6, summaries=other)
    _add_run(catalog, "otherhash", phash="cd" * 32, index=7, summaries=other)
    _add_run(catalog, "otherpipe", pipeline="pipe2", index=8, summaries=other)

    got = load_baseline_set(catalog.connection, "pipe", "ab" * 32, CODE_VERSION)
    assert set(got) == {"alpha", "beta"}
    for j, metric in enumerate(("alpha", "beta")):
        assert got[metric] == [made[f"b{i}"][j] for i in (1, 2, 3)]
        assert got[metric][0].tail.dtype == np.float64
    # The run itself is left out; a Catalog works as the connection too.
    loo = load_baseline_set(catalog, "pipe", "ab" * 32, CODE_VERSION, exclude_run_id="b2")
    assert loo["alpha"] == [made["b1"][0], made["b3"][0]]
    # Filters: processing hash, pipeline and code version.
    assert load_baseline_set(catalog.connection, "pipe", "cd" * 32, CODE_VERSION) == {"alpha": [other[0]]}
    assert load_baseline_set(catalog.connection, "pipe", "ab" * 32, "0.0.0-old") == {"alpha": [other[0]]}
    assert load_baseline_set(catalog.connection, "nope", "ab" * 32, CODE_VERSION) == {}
    # Re-storing replaces rows (recomputation), code_version recorded.
    with catalog.transaction() as cur:
        store_null_summaries(catalog, cur, "b1", {"alpha": made["b1"][0]})
    rows = catalog.connection.execute("SELECT code_version FROM null_summaries WHERE run_id = 'b1'").fetchall()
    assert len(rows) == 2 and all(r[0] == CODE_VERSION for r in rows)
    catalog.close()


# ---------------------------------------------------------------- thresholds, S_r


def test_leave_one_out_thresholds_by_hand() -> None:
    qs = [1.0, 2.0, 4.0, 7.0]
    summaries = [NullSummary("m", 1, q, 0.0, 0.0, None, None, None, np.array([q]), q) for q in qs]
    q_bar, loo = thresholds(summaries)
    assert q_bar == pytest.approx(3.5)
    np.testing.assert_allclose(loo, [13 / 3, 12 / 3, 10 / 3, 7 / 3])
    q1, loo1 = thresholds(summaries[:1])
    assert q1 == 1.0 and np.isnan(loo1).all()
    with pytest.raises(ValueError):
        thresholds([])


def test_null_counts_from_tails_equal_full_counts() -> None:
    arrays = [_null(seed, n=2000 + 37 * seed) for seed in range(12)]
    summaries = [NullSummary.from_values("m", a, P0) for a in arrays]
    _, loo = thresholds(summaries)
    counts = p1a_null_counts(summaries, loo)
    full = [int(np.count_nonzero(a >= t)) for a, t in zip(arrays, loo)]
    assert counts.tolist() == full
    assert all(c > 0 for c in full)
    # Counting at an exact tail value (threshold == tail_min is covered).
    at_min = np.array([s.tail_min for s in summaries])
    assert p1a_null_counts(summaries, at_min).tolist() == [s.tail.size for s in summaries]


def test_threshold_below_tail_min_is_data_error() -> None:
    summaries = [NullSummary.from_values("m", _null(s), P0) for s in range(3)]
    _, loo = thresholds(summaries)
    low = loo.copy()
    low[1] = summaries[1].tail_min - 1e-9
    with pytest.raises(DataError, match="does not cover"):
        p1a_null_counts(summaries, low)
    # A baseline whose q values sit far below the other run's tail: run 0's q̄₋₀ < tail_min.
    far = NullSummary.from_values("m", _null(5, loc=100.0), P0)
    with pytest.raises(DataError):
        p1a_null_counts([far, summaries[0]], thresholds([far, summaries[0]])[1])


def test_prerequisite_error_text() -> None:
    require_baseline(3, "x", "p", "1a2b3c4d" + "0" * 56)
    with pytest.raises(PrerequisiteError) as info:
        require_baseline(0, "src_vs_poisson", "default", "1a2b3c4d" + "e" * 56)
    assert str(info.value) == (
        "pipeline 'src_vs_poisson' has no baseline runs for processing 'default' (hash 1a2b3c4d); "
        "create them with `lightlane baseline src_vs_poisson --runs 100`, or use `run --ensure-baseline 100`"
    )


# -------------------------------------------------------------------- calibrated


def _baseline(R: int, n: int = 2000) -> list[NullSummary]:
    return [NullSummary.from_values("m", _null(100 + r, n), P0, p2=(0.01 * (r - R / 2), 0.05)) for r in range(R)]


def test_calibrated_significant_with_r20_alpha05() -> None:
    summaries = _baseline(20)
    a = _null(7, 2000) + 0.5  # shifted: more exceedances, larger mean/median, fewer negatives
    out = calibrated_columns(a, summaries, p0=P0, alpha=0.05, signed=True, p2_slope_a=-1.0)
    assert out["baseline_runs"] == 20
    for test in ("p1a", "p1b", "p1c", "p1e", "p2"):
        assert out[f"{test}_p_calibrated"] == pytest.approx(1 / 21), test
        verdict_key = f"{test}_verdict_calibrated"
        assert out[verdict_key] == stats.SIGNIFICANT, test
    assert out["notes"] == []
    # Independent recomputation of the P1a p-value from the full arrays.
    q_bar, loo = thresholds(summaries)
    x = int(np.count_nonzero(a >= q_bar))
    s_r = [int(np.count_nonzero(_null(100 + r, 2000) >= loo[r])) for r in range(20)]
    assert out["p1a_p_calibrated"] == (1 + sum(s >= x for s in s_r)) / 21
    assert out["p1a_threshold"] == q_bar


def test_calibrated_inconclusive_with_r20_alpha01() -> None:
    out = calibrated_columns(_null(7, 2000) + 0.5, _baseline(20), p0=P0, alpha=0.01, signed=True, p2_slope_a=-1.0)
    for test in ("p1a", "p1b", "p1c", "p1e", "p2"):
        assert out[f"{test}_verdict_calibrated"] == stats.INCONCLUSIVE
        assert out[f"{test}_p_calibrated"] == pytest.approx(1 / 21)


def test_calibrated_null_like_and_opposite_direction() -> None:
    summaries = _baseline(20)
    # A drawn like B: calibrated p-values are not small.
    out = calibrated_columns(_null(12345, 2000), summaries, p0=P0, alpha=0.05, signed=True, p2_slope_a=0.0)
    hand_mean = (1 + sum(s.mean >= float(np.mean(_null(12345, 2000))) for s in summaries)) / 21
    assert out["p1b_p_calibrated"] == hand_mean
    assert out["p2_p_calibrated"] == (1 + sum(s.p2_slope <= 0.0 for s in summaries)) / 21
    # A shifted down: P1b/P1c extremes S_r ≥ S_A hold for every r → p = 1.
    low = calibrated_columns(_null(7, 2000) - 0.5, summaries, p0=P0, alpha=0.05, signed=True, p2_slope_a=0.5)
    assert low["p1b_p_calibrated"] == 1.0 and low["p1b_verdict_calibrated"] == stats.NOT_SIGNIFICANT
    assert low["p1e_p_calibrated"] == 1.0 and low["p2_p_calibrated"] == 1.0
    assert low["p2_verdict_calibrated"] == stats.NOT_SIGNIFICANT


def test_calibrated_predicted_direction_gates_significance() -> None:
    # Null slopes all very negative; A's slope is below them (extreme) but positive → not hardening.
    summaries = [NullSummary.from_values("m", _null(100 + r), P0, p2=(-5.0 + 0.01 * r, 0.05)) for r in range(20)]
    out = calibrated_columns(_null(7), summaries, p0=P0, alpha=0.05, signed=True, p2_slope_a=-6.0)
    assert out["p2_verdict_calibrated"] == stats.SIGNIFICANT
    # Own B reference steeper than A: b_A < b_B fails → NOT_SIGNIFICANT despite p_cal = 1/21.
    ref = NullSummary.from_values("m", _null(1), P0, p2=(-7.0, 0.05))
    out = calibrated_columns(_null(7), summaries, p0=P0, alpha=0.05, signed=True, p2_slope_a=-6.0, reference=ref)
    assert out["p2_p_calibrated"] == pytest.approx(1 / 21)
    assert out["p2_verdict_calibrated"] == stats.NOT_SIGNIFICANT
    positive = [NullSummary.from_values("m", _null(100 + r), P0, p2=(5.0 + r, 0.05)) for r in range(20)]
    out = calibrated_columns(_null(7), positive, p0=P0, alpha=0.05, signed=True, p2_slope_a=1.0)
    assert out["p2_p_calibrated"] == pytest.approx(1 / 21)
    assert out["p2_verdict_calibrated"] == stats.NOT_SIGNIFICANT  # b_A > 0 is not hardening


def test_calibrated_undefined_and_not_applicable() -> None:
    summaries = _baseline(20)
    out = calibrated_columns(np.abs(_null(7)), summaries, p0=P0, alpha=0.05, signed=False, p2_slope_a=None)
    assert out["p1e_verdict_calibrated"] == stats.NOT_APPLICABLE and out["p1e_p_calibrated"] is None
    assert out["p2_verdict_calibrated"] == stats.UNDEFINED and out["p2_p_calibrated"] is None
    assert any("P2" in note for note in out["notes"])
    # Baseline runs without a slope are dropped and noted.
    mixed = summaries[:10] + [NullSummary.from_values("m", _null(500 + r), P0) for r in range(10)]
    out = calibrated_columns(_null(7), mixed, p0=P0, alpha=0.05, signed=True, p2_slope_a=-1.0)
    assert out["p2_p_calibrated"] == pytest.approx(1 / 11)
    assert any("R = 10 used" in note for note in out["notes"])
    with pytest.raises(PrerequisiteError):
        calibrated_columns(_null(7), [], p0=P0, alpha=0.05, signed=True)
    one = calibrated_columns(_null(7), summaries[:1], p0=P0, alpha=0.05, signed=True, p2_slope_a=-1.0)
    assert one["p1a_verdict_calibrated"] == stats.INCONCLUSIVE and one["p1a_p_calibrated"] is None
