"""Power of the calibrated tests and the detection limits of a sensitivity study (SPEC §23).

Pure functions: which tests a unit's ``test_results`` rows hold (:func:`unit_tests`), the power
of each test at each value with its Clopper–Pearson interval (:func:`power_rows`), and where a
power curve crosses a level (:func:`detection_limit`). Detection means a calibrated
SIGNIFICANT, so at a generation without lanesheet variability the power is the test's size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..stats.p1 import clopper_pearson
from ..stats.verdicts import NOT_APPLICABLE, P3_METRIC, SIGNIFICANT

__all__ = ["RUN_TESTS", "TEST_ORDER", "unit_tests", "ordering_key", "detection_power", "power_rows",
           "DetectionLimit", "detection_limit", "default_plotted"]

#: Tests stored once per run, in a ``test_results`` row whose metric is the test's own name (P3,
#: SPEC §11.9); their columns in the other rows are ignored.
RUN_TESTS: tuple[str, ...] = (P3_METRIC,)
#: The order tests are listed in: P1a and P3 lead (they are plotted), then the others.
TEST_ORDER: tuple[str, ...] = ("p1a", "p3", "p1b", "p1c", "p1e", "p2")
_SUFFIX = "_verdict_calibrated"


def unit_tests(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, float | None]]:
    """Every calibrated test of one unit's ``test_results`` rows: test → (verdict, p_cal).

    Generic over the columns, so a test added to the rows (P3) is picked up without a change
    here: each non-null ``<t>_verdict_calibrated`` column of a metric's row gives the test
    ``<t>:<metric>`` (``p1a:vesa``, ``p2:vea``), and a row whose metric is a run-level test
    (:data:`RUN_TESTS`) gives that test (``p3``). NOT_APPLICABLE verdicts (P1e of unsigned
    metrics) are not tests.

    Examples
    --------
    >>> unit_tests([{"metric": "vesa", "p1a_verdict_calibrated": "SIGNIFICANT", "p1a_p_calibrated": 0.02,
    ...              "p1e_verdict_calibrated": None, "p3_verdict_calibrated": None},
    ...             {"metric": "p3", "p3_verdict_calibrated": "NOT_SIGNIFICANT", "p3_p_calibrated": 0.4}])
    {'p1a:vesa': ('SIGNIFICANT', 0.02), 'p3': ('NOT_SIGNIFICANT', 0.4)}
    """
    found: dict[str, tuple[str, float | None]] = {}
    for row in rows:
        metric = str(row["metric"])
        for column, verdict in row.items():
            if not column.endswith(_SUFFIX) or verdict is None or verdict == NOT_APPLICABLE:
                continue
            test = column[: -len(_SUFFIX)]
            if test in RUN_TESTS and metric != test:
                continue
            p = row.get(f"{test}_p_calibrated")
            found[test if metric == test else f"{test}:{metric}"] = (str(verdict), None if p is None else float(p))
    return found


def ordering_key(test: str, metrics: Sequence[str] = ()) -> tuple[int, int, str]:
    """Order of tests in tables and legends: by :data:`TEST_ORDER`, then by the processing's metric order."""
    name, _, metric = test.partition(":")
    rank = TEST_ORDER.index(name) if name in TEST_ORDER else len(TEST_ORDER)
    position = list(metrics).index(metric) if metric in metrics else len(metrics)
    return rank, position, test


def default_plotted(tests: Iterable[str]) -> list[str]:
    """The tests a power figure shows by default: the P1a tests and P3 (the others are in the CSV)."""
    return [t for t in tests if t.startswith("p1a:") or t in RUN_TESTS]


def detection_power(detections: int, replicates: int, ci_level: float) -> tuple[float, float, float]:
    """Power = detections/K with its Clopper–Pearson interval at ``ci_level`` (the processing's).

    Examples
    --------
    >>> [round(v, 3) for v in detection_power(9, 10, 0.95)]
    [0.9, 0.555, 0.997]
    """
    low, high = clopper_pearson(int(detections), int(replicates), ci_level)
    return detections / replicates, low, high


def power_rows(values: Sequence[float], mean_lanecounts: Sequence[float], units: Iterable[tuple[int, Mapping[str, Any]]],
               replicates: int, ci_level: float, metrics: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The ``sensitivity`` rows: one per (value index, test), by value index then test order.

    Parameters
    ----------
    values, mean_lanecounts
        The varied parameter's values and N̄ at the band centre for each.
    units
        ``(value_index, tests)`` of every done replicate unit, ``tests`` as from :func:`unit_tests`
        (a mapping test → (verdict, p)).
    replicates
        K: a test missing from a unit (or a replicate not run) counts as no detection.
    ci_level
        Level of the Clopper–Pearson intervals.
    metrics
        The processing's test metrics, for the order of the tests.

    Returns
    -------
    list of dict
        ``value_index, value, mean_lanecount, test, detections, replicates, power, ci_low, ci_high``.
    """
    detections: dict[tuple[int, str], int] = {}
    tests: set[str] = set()
    for index, found in units:
        for test, (verdict, _p) in found.items():
            tests.add(test)
            detections[index, test] = detections.get((index, test), 0) + (verdict == SIGNIFICANT)
    rows = []
    for index, (value, nbar) in enumerate(zip(values, mean_lanecounts)):
        for test in sorted(tests, key=lambda t: ordering_key(t, metrics)):
            d = detections.get((index, test), 0)
            power, low, high = detection_power(d, replicates, ci_level)
            rows.append({"value_index": index, "value": float(value), "mean_lanecount": float(nbar), "test": test,
                         "detections": d, "replicates": int(replicates), "power": power, "ci_low": low, "ci_high": high})
    return rows


@dataclass(frozen=True)
class DetectionLimit:
    """Where a power curve leaves the region where power ≥ level.

    ``status`` is ``"crossed"`` (``x`` interpolated between the bracketing values), ``"beyond"``
    (the power is still ≥ level at the last value tried on that side, ``x`` is that value) or
    ``"not reached"`` (no value reaches the level, ``x`` None). ``side`` says which way the
    detectable region lies from ``x``: ``"below"`` (x' ≤ x detected: power falls as x grows) or
    ``"above"``.
    """

    level: float
    status: Literal["crossed", "beyond", "not reached"]
    side: Literal["below", "above"]
    x: float | None

    def text(self, digits: int = 3) -> str:
        """``≤ 12.3``, ``≥ 0.41``, ``> 130`` (detected up to the last value tried) or ``not reached``."""
        if self.x is None:
            return "not reached"
        shown = f"{self.x:.{digits}g}"
        if self.status == "beyond":
            return f"> {shown}" if self.side == "below" else f"< {shown}"
        return f"≤ {shown}" if self.side == "below" else f"≥ {shown}"


def detection_limit(x: Sequence[float], power: Sequence[float], level: float, *, log_x: bool | None = None) -> DetectionLimit:
    """The detection limit of one test at power ``level``.

    The values are taken in increasing x. The detectable side is the end with the higher power
    (lanesheets with more lanes in the receiving circle are smoother, so power usually falls as
    N̄ grows: the limit is then the *largest* N̄ detected). The limit is the outermost crossing
    on the other side: between the last value with power ≥ level and the next one, linear in
    power and in log x (or in x when ``log_x`` is False; default: log when every x > 0). A
    non-monotone curve is thus judged by its outermost crossing.

    Examples
    --------
    >>> detection_limit([1.0, 10.0, 100.0], [1.0, 0.7, 0.1], 0.5).text()
    '≤ 21.5'
    >>> detection_limit([1.0, 10.0], [0.2, 0.3], 0.5).text()
    'not reached'
    """
    xs = np.asarray(x, dtype=np.float64)
    ps = np.asarray(power, dtype=np.float64)
    if xs.shape != ps.shape or xs.size == 0:
        raise ValueError("x and power need the same, non-zero length")
    order = np.argsort(xs, kind="stable")
    xs, ps = xs[order], ps[order]
    side: Literal["below", "above"] = "below" if ps[0] >= ps[-1] else "above"
    detected = np.flatnonzero(ps >= level)
    if detected.size == 0:
        return DetectionLimit(level, "not reached", side, None)
    if side == "above":  # mirror, so the detectable side is always the low end
        xs, ps, detected = xs[::-1], ps[::-1], xs.size - 1 - detected[::-1]
    j = int(detected.max())
    if j == xs.size - 1:
        return DetectionLimit(level, "beyond", side, float(xs[j]))
    u = (ps[j] - level) / (ps[j] - ps[j + 1])  # ps[j] ≥ level > ps[j + 1]
    use_log = bool(np.all(xs > 0)) if log_x is None else log_x
    if use_log:
        value = math.exp(math.log(xs[j]) + u * (math.log(xs[j + 1]) - math.log(xs[j])))
    else:
        value = float(xs[j] + u * (xs[j + 1] - xs[j]))
    return DetectionLimit(level, "crossed", side, float(value))
