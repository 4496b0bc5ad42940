"""The statistical tests of SPEC §11: P1a–P1e, P2, verdicts, null summaries and calibrated p-values.

Modules: ``quantiles`` (the "higher" quantile rule), ``verdicts`` (the §11.8 vocabulary, calibrated
p-values and verdicts, merged result rows), ``p1`` (P1a–P1e), ``p2`` (hardening) and
``null_summaries`` (the baseline runs' null summaries, thresholds and calibrated columns).
Everything here is a pure function of arrays and stored summaries; nothing draws.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .null_summaries import (
        NullSummary,
        baseline_missing_message,
        calibrated_columns,
        leave_one_out,
        load_baseline_runs,
        load_baseline_set,
        p1a_null_counts,
        p3_calibrated,
        p3_null_values,
        require_baseline,
        store_null_summaries,
        tail_length,
        tail_values,
        thresholds,
    )
    from .p1 import (
        P1D_BINS,
        BootstrapIntervals,
        bootstrap_intervals,
        bootstrap_quantiles,
        clopper_pearson,
        mann_whitney,
        neg_pos_ratio,
        p1a,
        p1b_p1c,
        p1d,
        p1d_edges,
        p1d_zone,
        p1e,
    )
    from .p2 import P2Fit, fit_power_law, p2, p2_fit, p2_slope, top_chunks, top_count, top_counts
    from .quantiles import higher_quantile
    from .verdicts import (
        ANOMALOUS,
        P3_METRIC,
        CONFIRMED,
        CONTRAINDICATED,
        INCONCLUSIVE,
        NOT_APPLICABLE,
        NOT_SIGNIFICANT,
        PARTIAL,
        SIGNIFICANT,
        SILENT,
        STRONGLY_CONFIRMED,
        TREND,
        UNDEFINED,
        VERDICTS,
        calibrated_p,
        calibrated_verdict,
        merge_results,
    )

__all__ = [
    "SIGNIFICANT", "NOT_SIGNIFICANT", "INCONCLUSIVE", "STRONGLY_CONFIRMED", "CONFIRMED", "TREND", "PARTIAL",
    "SILENT", "CONTRAINDICATED", "ANOMALOUS", "NOT_APPLICABLE", "UNDEFINED", "VERDICTS",
    "higher_quantile",
    "p1a", "clopper_pearson", "BootstrapIntervals", "bootstrap_quantiles", "bootstrap_intervals", "mann_whitney",
    "p1b_p1c",
    "P1D_BINS", "p1d_edges", "p1d", "p1d_zone", "p1e", "neg_pos_ratio",
    "fit_power_law", "top_chunks", "top_count", "top_counts", "P2Fit", "p2_fit", "p2_slope", "p2",
    "calibrated_p", "calibrated_verdict", "merge_results",
    "NullSummary", "tail_length", "tail_values", "store_null_summaries", "load_baseline_set", "thresholds",
    "require_baseline", "baseline_missing_message", "p1a_null_counts", "calibrated_columns",
    "load_baseline_runs", "leave_one_out", "P3_METRIC", "p3_null_values", "p3_calibrated",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".null_summaries": ["NullSummary", "baseline_missing_message", "calibrated_columns", "load_baseline_set",
        "p1a_null_counts", "require_baseline", "store_null_summaries", "tail_length", "tail_values", "thresholds",
        "load_baseline_runs", "leave_one_out", "p3_null_values", "p3_calibrated"],
    ".p1": ["P1D_BINS", "BootstrapIntervals", "bootstrap_intervals", "bootstrap_quantiles", "clopper_pearson",
        "mann_whitney", "neg_pos_ratio", "p1a", "p1b_p1c", "p1d", "p1d_edges", "p1d_zone", "p1e"],
    ".p2": ["P2Fit", "fit_power_law", "p2", "p2_fit", "p2_slope", "top_chunks", "top_count", "top_counts"],
    ".quantiles": ["higher_quantile"],
    ".verdicts": ["ANOMALOUS", "CONFIRMED", "CONTRAINDICATED", "INCONCLUSIVE", "NOT_APPLICABLE", "NOT_SIGNIFICANT",
        "PARTIAL", "SIGNIFICANT", "SILENT", "STRONGLY_CONFIRMED", "TREND", "UNDEFINED", "VERDICTS", "calibrated_p",
        "calibrated_verdict", "merge_results", "P3_METRIC"],
})
