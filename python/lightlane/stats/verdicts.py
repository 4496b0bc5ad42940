"""The verdicts of SPEC §11.8 and the calibrated p-values and verdicts of SPEC §11.1.

Verdicts are the exact strings of SPEC §11.8 (module constants below). Each test returns
a dict whose keys are the §11.7 column names it fills plus ``"notes"``;
:func:`merge_results` combines several such dicts into one row with the notes joined
by ``"; "``. The naive p-values treat the chunks as independent and are
anti-conservative (SPEC §11.1); :func:`calibrated_p` and :func:`calibrated_verdict`
give the honest, baseline-calibrated ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "P3_METRIC",
    "SIGNIFICANT",
    "NOT_SIGNIFICANT",
    "INCONCLUSIVE",
    "STRONGLY_CONFIRMED",
    "CONFIRMED",
    "TREND",
    "PARTIAL",
    "SILENT",
    "CONTRAINDICATED",
    "ANOMALOUS",
    "NOT_APPLICABLE",
    "UNDEFINED",
    "VERDICTS",
    "calibrated_p",
    "calibrated_verdict",
    "merge_results",
]

SIGNIFICANT = "SIGNIFICANT"
NOT_SIGNIFICANT = "NOT_SIGNIFICANT"
INCONCLUSIVE = "INCONCLUSIVE"
STRONGLY_CONFIRMED = "STRONGLY_CONFIRMED"
CONFIRMED = "CONFIRMED"
TREND = "TREND"
PARTIAL = "PARTIAL"
SILENT = "SILENT"
CONTRAINDICATED = "CONTRAINDICATED"
ANOMALOUS = "ANOMALOUS"
NOT_APPLICABLE = "NOT_APPLICABLE"
UNDEFINED = "UNDEFINED"

#: The fixed verdict vocabulary of SPEC §11.8.
VERDICTS: tuple[str, ...] = (
    SIGNIFICANT,
    NOT_SIGNIFICANT,
    INCONCLUSIVE,
    STRONGLY_CONFIRMED,
    CONFIRMED,
    TREND,
    PARTIAL,
    SILENT,
    CONTRAINDICATED,
    ANOMALOUS,
    NOT_APPLICABLE,
    UNDEFINED,
)


# -------------------------------------------------------------------- calibrated


#: The ``test_results`` metric of a run's one P3 row (SPEC §11.9).
P3_METRIC = "p3"


def calibrated_p(s_a: float, s_r: Iterable[float], extreme: str) -> float:
    """Calibrated p-value (SPEC §11.1): (1 + #{r : S_r at least as extreme as S_A})/(R + 1).

    Parameters
    ----------
    s_a
        A's whole-dataset statistic.
    s_r
        The R baseline runs' statistics (R ≥ 1, all finite).
    extreme
        ``"ge"``: S_r ≥ S_A is at least as extreme (P1a, P1b, P1c);
        ``"le"``: S_r ≤ S_A (P1e, P2).
    """
    values = np.asarray(list(s_r) if not isinstance(s_r, np.ndarray) else s_r, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("calibrated_p needs at least one baseline run (R ≥ 1)")
    if not np.all(np.isfinite(values)) or not math.isfinite(s_a):
        raise ValueError("calibrated_p needs finite statistics")
    if extreme == "ge":
        hits = int(np.count_nonzero(values >= s_a))
    elif extreme == "le":
        hits = int(np.count_nonzero(values <= s_a))
    else:
        raise ValueError(f"extreme must be 'ge' or 'le', not {extreme!r}")
    return (1 + hits) / (values.size + 1)


def calibrated_verdict(p_cal: float, R: int, alpha: float, predicted_direction_ok: bool) -> str:
    """Calibrated verdict (SPEC §11.1, §11.8).

    INCONCLUSIVE iff 1/(R + 1) ≥ α (the smallest reachable p_cal cannot go
    below α); else SIGNIFICANT iff p_cal < α and the effect is in the predicted
    direction; else NOT_SIGNIFICANT.
    """
    if 1.0 / (R + 1) >= alpha:
        return INCONCLUSIVE
    return SIGNIFICANT if p_cal < alpha and predicted_direction_ok else NOT_SIGNIFICANT


def merge_results(*results: Mapping[str, Any]) -> dict[str, Any]:
    """Merge test dicts into one row; their ``notes`` lists become one ``"; "``-joined string (or None)."""
    row: dict[str, Any] = {}
    notes: list[str] = []
    for result in results:
        for key, value in result.items():
            if key == "notes":
                notes.extend(value or [])
            else:
                row[key] = value
    row["notes"] = "; ".join(notes) if notes else None
    return row
