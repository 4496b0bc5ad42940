"""Parameter search (SPEC §13): studies and trials that fit a lanesheet to a target dataset
(:mod:`.study`), scored by the objective J = D_var + D_spec (:mod:`.objective`)."""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
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

__getattr__, __dir__ = lazy_exports(__name__, {
    ".objective": ["Objective", "evaluate_objective", "objective_description", "wasserstein_1"],
    ".study": ["MIN_REFINE_TRIALS", "Study", "best_trials", "compute_trial", "materialize_trial", "open_study",
        "run_study", "save_progress_plot", "study_exists", "trial_rows"],
})
