"""Power, Clopper–Pearson intervals, generic test extraction and detection limits (SPEC §23):
lightlane.sensitivity.power."""

from __future__ import annotations

import math

import pytest
from scipy.stats import beta

from lightlane.sensitivity.power import (
    default_plotted,
    detection_limit,
    detection_power,
    power_rows,
    ordering_key,
    unit_tests,
)

METRICS = ("ev", "vea", "vesa", "oec")


@pytest.mark.parametrize("detections, replicates, level", [(0, 10, 0.95), (3, 10, 0.95), (10, 10, 0.95),
                                                           (1, 1, 0.9), (17, 40, 0.99), (49, 50, 0.6)])
def test_power_and_clopper_pearson_match_scipy_beta(detections: int, replicates: int, level: float) -> None:
    power, low, high = detection_power(detections, replicates, level)
    tail = (1.0 - level) / 2.0
    assert power == detections / replicates
    expected_low = 0.0 if detections == 0 else beta.ppf(tail, detections, replicates - detections + 1)
    expected_high = 1.0 if detections == replicates else beta.ppf(1.0 - tail, detections + 1, replicates - detections)
    assert low == pytest.approx(expected_low, rel=1e-12, abs=1e-15)
    assert high == pytest.approx(expected_high, rel=1e-12, abs=1e-15)
    assert low <= power <= high


def _row(metric: str, **verdicts: str | None) -> dict[str, object]:
    """A test_results row as result_rows makes it: every verdict column present, NULL unless given."""
    row: dict[str, object] = {"metric": metric}
    for test in ("p1a", "p1b", "p1c", "p1e", "p2", "p3"):
        row[f"{test}_verdict_calibrated"] = verdicts.get(test)
        row[f"{test}_p_calibrated"] = None if verdicts.get(test) is None else 0.25
    row["p1a_verdict"] = "SIGNIFICANT"  # a naive verdict is not a test of the study
    return row


def test_tests_are_read_generically_from_the_rows_including_a_p3_row() -> None:
    rows = [
        _row("vesa", p1a="SIGNIFICANT", p1b="NOT_SIGNIFICANT", p1c="INCONCLUSIVE", p1e="UNDEFINED", p2="SIGNIFICANT"),
        _row("oec", p1a="NOT_SIGNIFICANT", p1e="NOT_APPLICABLE", p2="NOT_SIGNIFICANT"),
        _row("ev", p1a="SIGNIFICANT", p3="UNDEFINED"),  # P3 columns outside the p3 row are not a test
        _row("p3", p3="SIGNIFICANT"),  # a fabricated P3 row (SPEC §11.9: metric "p3")
    ]
    found = unit_tests(rows)
    assert found == {
        "p1a:vesa": ("SIGNIFICANT", 0.25), "p1b:vesa": ("NOT_SIGNIFICANT", 0.25), "p1c:vesa": ("INCONCLUSIVE", 0.25),
        "p1e:vesa": ("UNDEFINED", 0.25), "p2:vesa": ("SIGNIFICANT", 0.25), "p1a:oec": ("NOT_SIGNIFICANT", 0.25),
        "p2:oec": ("NOT_SIGNIFICANT", 0.25), "p1a:ev": ("SIGNIFICANT", 0.25), "p3": ("SIGNIFICANT", 0.25),
    }
    # a future run-level column pair is picked up the same way
    assert unit_tests([{"metric": "vea", "p9_verdict_calibrated": "SIGNIFICANT"}]) == {"p9:vea": ("SIGNIFICANT", None)}
    ordered = sorted(found, key=lambda t: ordering_key(t, METRICS))
    assert ordered[:4] == ["p1a:ev", "p1a:vesa", "p1a:oec", "p3"]
    assert default_plotted(ordered) == ["p1a:ev", "p1a:vesa", "p1a:oec", "p3"]


def test_power_rows_count_significant_only_and_missing_tests_as_misses() -> None:
    units = [
        (0, {"p1a:vesa": ("SIGNIFICANT", 0.01), "p3": ("SIGNIFICANT", 0.01)}),
        (0, {"p1a:vesa": ("SIGNIFICANT", 0.02), "p3": ("INCONCLUSIVE", None)}),
        (0, {"p1a:vesa": ("NOT_SIGNIFICANT", 0.5)}),  # this unit has no P3 row
        (1, {"p1a:vesa": ("UNDEFINED", None), "p3": ("SIGNIFICANT", 0.01)}),
    ]
    rows = power_rows([0.5, 2.0], [0.1, 1.6], units, replicates=3, ci_level=0.95, metrics=METRICS)
    assert [(r["value_index"], r["test"], r["detections"]) for r in rows] == [
        (0, "p1a:vesa", 2), (0, "p3", 1), (1, "p1a:vesa", 0), (1, "p3", 1)]
    first = rows[0]
    assert (first["value"], first["mean_lanecount"], first["replicates"]) == (0.5, 0.1, 3)
    assert (first["power"], first["ci_low"], first["ci_high"]) == detection_power(2, 3, 0.95)


def test_detection_limit_interpolates_in_log_x_where_power_falls() -> None:
    x, power = [0.1, 1.0, 10.0, 100.0], [1.0, 0.95, 0.6, 0.0]
    at_90 = detection_limit(x, power, 0.9)
    u = (0.95 - 0.9) / (0.95 - 0.6)
    assert (at_90.status, at_90.side) == ("crossed", "below")
    assert at_90.x == pytest.approx(10 ** (0 + u * 1))
    at_50 = detection_limit(x, power, 0.5)
    assert at_50.x == pytest.approx(10 ** (1 + (0.6 - 0.5) / 0.6))
    assert at_50.text() == f"≤ {at_50.x:.3g}"
    linear = detection_limit(x, power, 0.9, log_x=False)
    assert linear.x == pytest.approx(1.0 + u * 9.0)
    # order of the values given does not matter
    assert detection_limit(x[::-1], power[::-1], 0.9) == at_90


def test_detection_limit_where_power_rises_is_a_lower_limit() -> None:
    limit = detection_limit([1.0, 2.0, 4.0], [0.0, 0.4, 1.0], 0.5)
    assert (limit.status, limit.side) == ("crossed", "above")
    assert limit.x == pytest.approx(math.exp(math.log(2.0) + (0.5 - 0.4) / 0.6 * math.log(2.0)))
    assert limit.text().startswith("≥ ")


def test_detection_limit_not_reached_and_beyond_the_values_tried() -> None:
    not_reached = detection_limit([1.0, 2.0, 3.0], [0.1, 0.4, 0.2], 0.5)
    assert (not_reached.status, not_reached.x, not_reached.text()) == ("not reached", None, "not reached")
    everywhere = detection_limit([1.0, 2.0, 3.0], [1.0, 0.95, 0.92], 0.9)
    assert (everywhere.status, everywhere.x, everywhere.text()) == ("beyond", 3.0, "> 3")
    assert detection_limit([5.0], [1.0], 0.5).text() == "> 5"
    assert detection_limit([5.0], [0.0], 0.5).text() == "not reached"
    # rising power with every value detected: detected down to the smallest value tried
    assert detection_limit([1.0, 2.0], [0.95, 1.0], 0.9).text() == "< 1"


def test_a_non_monotone_curve_is_judged_by_its_outermost_crossing() -> None:
    x = [1.0, 2.0, 4.0, 8.0, 16.0]
    dip = detection_limit(x, [1.0, 0.3, 1.0, 0.95, 0.0], 0.9)  # detected again after a dip
    assert (dip.status, dip.side) == ("crossed", "below")
    assert dip.x == pytest.approx(8.0 * 2.0 ** ((0.95 - 0.9) / 0.95))
    # zero crossing through x ≤ 0: interpolated linearly in x
    signed = detection_limit([-1.0, 0.0, 1.0], [1.0, 1.0, 0.0], 0.5)
    assert signed.x == pytest.approx(0.5)
    with pytest.raises(ValueError):
        detection_limit([1.0, 2.0], [0.5], 0.5)
