"""Parameter search (SPEC §13): studies and trials that fit a lanesheet to a target dataset
(:mod:`.study`), scored by the objective J = D_var + D_spec (:mod:`.objective`)."""

from .objective import Objective, evaluate_objective, objective_description, wasserstein_1
from .study import (
    MIN_REFINE_TRIALS,
    Study,
    best_trials,
    compute_trial,
    materialize_trial,
    open_study,
    run_study,
    save_progress_plot,
    study_exists,
    trial_rows,
)

__all__ = [
    "MIN_REFINE_TRIALS", "Objective", "Study", "best_trials", "compute_trial", "evaluate_objective",
    "materialize_trial", "objective_description", "open_study", "run_study", "save_progress_plot", "study_exists",
    "trial_rows", "wasserstein_1",
]
