"""Pipelines (SPEC §5.5, §8, §9, §11.1, §19): definitions, task chains, runs, baselines and outputs.

Modules: ``definitions`` (create, validate, load; the default family), ``tasks`` (seeded
transformations events → events), ``outputs`` (the written A and B of a chain), ``results``
(a run's ``test_results`` rows and null summaries), ``runs`` (plan and compute a run anywhere),
``recording`` (record runs in the client, execute them inline or on Dask) and ``baselines``
(top a baseline up, leave-one-out tests, retests).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .baselines import (
        NO_RANDOM_TASK_MESSAGE,
        ensure_baseline,
        ensure_baselines,
        recompute_baseline_tests,
        retest_run,
    )
    from .definitions import (
        create_pipeline,
        default_family,
        load_pipeline,
        parse_task_list,
        task_json,
        validate_pipeline,
    )
    from .outputs import TaskOutput, task_output_id, write_task_output
    from .recording import execute_run, execute_runs, stored_outcome, sweep_staging, unfinished_attempt
    from .results import SIGNED_METRICS, null_summaries, result_rows
    from .runs import ComputedRun, RunOutcome, RunPlan, compute_run, plan_run, run_folder, run_id_for, run_seed

__all__ = [
    "NO_RANDOM_TASK_MESSAGE", "SIGNED_METRICS", "ComputedRun", "RunOutcome", "RunPlan", "TaskOutput",
    "compute_run", "create_pipeline", "default_family", "ensure_baseline", "ensure_baselines", "execute_run",
    "execute_runs", "load_pipeline", "null_summaries", "parse_task_list", "plan_run",
    "recompute_baseline_tests", "result_rows", "retest_run", "run_folder", "run_id_for", "run_seed", "stored_outcome",
    "sweep_staging", "task_json", "task_output_id", "unfinished_attempt", "validate_pipeline", "write_task_output",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".baselines": ["NO_RANDOM_TASK_MESSAGE", "ensure_baseline", "ensure_baselines", "recompute_baseline_tests",
        "retest_run"],
    ".definitions": ["create_pipeline", "default_family", "load_pipeline", "parse_task_list", "task_json",
        "validate_pipeline"],
    ".outputs": ["TaskOutput", "task_output_id", "write_task_output"],
    ".recording": ["execute_run", "execute_runs", "stored_outcome", "sweep_staging", "unfinished_attempt"],
    ".results": ["SIGNED_METRICS", "null_summaries", "result_rows"],
    ".runs": ["ComputedRun", "RunOutcome", "RunPlan", "compute_run", "plan_run", "run_folder", "run_id_for",
        "run_seed"],
})
