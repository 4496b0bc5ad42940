"""Null-summary tails keep every value tied with their minimum (SPEC §4.4, §11.2).

S_r = #{B_r ≥ q̄₋ᵣ} is counted from the stored tail. A tail cut inside a run of equal values
undercounts S_r at q̄₋ᵣ == tail_min (anti-conservative); discrete metrics tie often.
"""

from __future__ import annotations

import numpy as np
import pytest

from lightlane.exceptions import DataError
from lightlane.stats.null_summaries import (
    NullSummary,
    calibrated_columns,
    p1a_null_counts,
    tail_length,
    tail_values,
)

P0 = 0.01


def _tied_b() -> np.ndarray:
    """n = 1000 (nominal tail 100): 50 values 5.0, 200 values 2.0 (the cut falls inside them), 750 below."""
    rng = np.random.default_rng(7)
    values = np.concatenate([np.full(50, 5.0), np.full(200, 2.0), rng.uniform(0.0, 1.0, 750)])
    return rng.permutation(values)


def _old_rule_count(values: np.ndarray, threshold: float) -> int:
    """S_r from a tail of exactly ⌈10·p0·n⌉ values (the rule before ties were kept)."""
    old_tail = np.sort(values)[::-1][:tail_length(values.size, P0)]
    return int(np.count_nonzero(old_tail >= threshold))


def test_ties_at_the_cut_are_kept_and_counts_are_exact() -> None:
    b = _tied_b()
    summary = NullSummary.from_values("m", b, P0)
    assert tail_length(b.size, P0) == 100
    assert summary.tail_min == 2.0 and summary.tail.size == 250
    np.testing.assert_array_equal(summary.tail, np.sort(b)[::-1][:250])

    t = summary.tail_min
    exact = int(np.count_nonzero(b >= t))
    assert exact == 250
    assert _old_rule_count(b, t) == 100  # the old tail undercounted S_r by 150
    assert p1a_null_counts([summary], [t]).tolist() == [exact]

    for threshold in (np.nextafter(t, np.inf), np.nextafter(5.0, -np.inf), 5.0, np.nextafter(5.0, np.inf), 9.0):
        assert p1a_null_counts([summary], [threshold]).tolist() == [int(np.count_nonzero(b >= threshold))]
    with pytest.raises(DataError, match="does not cover the threshold"):
        p1a_null_counts([summary], [np.nextafter(t, -np.inf)])


def test_discrete_values_count_exactly_at_every_covered_threshold() -> None:
    rng = np.random.default_rng(11)
    arrays = [rng.poisson(3.0, size=2000).astype(np.float64) for _ in range(5)]
    summaries = [NullSummary.from_values("m", a, P0) for a in arrays]
    for values, summary in zip(arrays, summaries):
        assert summary.tail.size >= tail_length(values.size, P0)
        assert np.count_nonzero(values == summary.tail_min) == np.count_nonzero(summary.tail == summary.tail_min)
        for threshold in np.unique(summary.tail):
            for t in (threshold, np.nextafter(threshold, np.inf)):
                assert p1a_null_counts([summary], [t])[0] == np.count_nonzero(values >= t)


def test_calibrated_p1a_uses_the_exact_counts() -> None:
    """Two identical tied baselines: q̄₋ᵣ == q == tail_min would be undercounted by a cut tail."""
    b = np.concatenate([np.full(900, 1.0), np.full(100, 0.0)])  # q = tail_min = 1.0, 900 ties
    summaries = [NullSummary.from_values("m", b, P0) for _ in range(3)]
    assert summaries[0].q == summaries[0].tail_min == 1.0 and summaries[0].tail.size == 900
    a = np.concatenate([np.full(800, 1.0), np.full(200, 0.0)])  # x = 800 < S_r = 900: not extreme
    out = calibrated_columns(a, summaries, p0=P0, alpha=0.05, signed=False)
    assert out["p1a_p_calibrated"] == 1.0
    # The old rule: S_r = 100 < x for every r, so p_cal = 1/(R + 1) = 1/4 (anti-conservative).
    assert _old_rule_count(b, 1.0) == 100
    cut = [NullSummary.from_row(dict(s.to_row("r"), tail=s.tail[:100].astype("<f8").tobytes())) for s in summaries]
    assert calibrated_columns(a, cut, p0=P0, alpha=0.05, signed=False)["p1a_p_calibrated"] == 0.25


def test_row_round_trip_and_old_rows_load() -> None:
    summary = NullSummary.from_values("m", _tied_b(), P0, p2=(-0.5, 0.1))
    row = summary.to_row("run-1")
    assert len(row["tail"]) == 8 * 250
    assert NullSummary.from_row(row) == summary
    # A row stored by the old rule (exactly ⌈10·p0·n⌉ values) still loads as it was stored.
    old = dict(row, tail=summary.tail[:100].astype("<f8").tobytes())
    loaded = NullSummary.from_row(old)
    assert loaded.tail.size == 100 and loaded.tail_min == summary.tail_min


def test_no_ties_at_the_cut_keeps_the_nominal_tail() -> None:
    values = np.random.default_rng(3).normal(size=1234)
    k = tail_length(values.size, P0)
    np.testing.assert_array_equal(tail_values(values, P0), np.sort(values)[::-1][:k])
    assert tail_values(values, P0).size == k
