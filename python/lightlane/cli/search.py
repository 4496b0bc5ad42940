"""``lightlane search --target DATASET --processing P --generation TEMPLATE --study ID --mode search|refine
--trials N [--space FILE] [--seed S] [--jobs J] [--scheduler ADDRESS] [--best K] [--materialize INDEX]``."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..exceptions import MetadataError, PrerequisiteError
from ..scale import Execution
from ..store.workspace import Workspace
from .common import COUNT_OR_NONE, INDEX, JOBS, SEED, GlobalOptions, run_command, say
from .scale_options import JOBS_HELP, SCHEDULER_HELP


@dataclass(frozen=True)
class Options:
    """Search generation parameters whose data match a target dataset (SPEC §13); resumable."""

    study: str = field(metadata={"help": "study id (created on first use, resumed afterwards)"})
    target: Optional[str] = field(default=None, metadata={"help": "target dataset (new study; default: stored)"})
    processing: Optional[str] = field(default=None, metadata={"help": "processing id (new study; default: stored)"})
    generation: Optional[str] = field(default=None, metadata={"help": "template generation (new study; default: stored)"})
    mode: str = field(default="search", metadata={"choices": ["search", "refine"],
                                                  "help": "uniform sampling or multivariate TPE (needs 10 done trials)"})
    trials: int = field(default=0, metadata={"help": "run trial indices 0 … N−1 (finished ones are skipped)",
                                             "check": COUNT_OR_NONE})
    space: Optional[str] = field(default=None, metadata={"help": "search-space JSON file or meta/search id "
                                                                 "(default: embedded default)"})
    seed: Optional[int] = field(default=None, metadata={"help": "study seed (default: OS entropy, recorded)",
                                                        "check": SEED})
    jobs: int = field(default=1, metadata={"help": JOBS_HELP, "check": JOBS})
    scheduler: Optional[str] = field(default=None, metadata={"help": SCHEDULER_HELP})
    best: int = field(default=0, metadata={"help": "list the K best trials", "check": COUNT_OR_NONE})
    materialize: Optional[int] = field(default=None, metadata={"help": "write trial INDEX's resolved generation "
                                                                       "and dataset", "check": INDEX})


def _check_materialize(workspace: Workspace, options: Options) -> None:
    """--materialize names a trial this command runs or one already done: known before a study is written."""
    from ..search.study import trial_rows  # here: studies load polars and astropy; --help does not

    index = options.materialize
    if index is None or index < options.trials:
        return
    if not any(row["trial_index"] == index and row["status"] == "done" for row in trial_rows(workspace, options.study)):
        raise MetadataError(f"--materialize: trial {index} is neither done in study {options.study!r} nor among the "
                            f"--trials {options.trials} of this command; give --trials {index + 1}")


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: studies load polars and astropy (optuna, matplotlib and Dask when used),
    # which `lightlane search --help` does not need (SPEC §20).
    from ..search.study import (
        MIN_REFINE_TRIALS,
        best_trials,
        materialize_trial,
        open_study,
        run_study,
        save_progress_plot,
        study_exists,
    )

    workspace = globals_.ws
    workspace.require_initialised()
    execution = Execution.from_options(options.jobs, options.scheduler, globals_.threads)
    with workspace.lock():
        _check_materialize(workspace, options)
        if options.mode == "refine" and not study_exists(workspace, options.study):
            raise PrerequisiteError(f"study {options.study!r} does not exist: refine needs ≥ {MIN_REFINE_TRIALS} done "
                                    f"trials; start it with `lightlane search --study {options.study} --mode search "
                                    f"--trials {MIN_REFINE_TRIALS} --target … --processing … --generation …`")
        study = open_study(workspace, options.study, target=options.target, processing=options.processing,
                           generation=options.generation, space=options.space, seed=options.seed)
        computed = run_study(workspace, study, options.mode, options.trials, execution,  # type: ignore[arg-type]
                             progress=not globals_.quiet)
        plot = save_progress_plot(workspace, study)
        materialized = None if options.materialize is None else materialize_trial(workspace, study,
                                                                                  options.materialize)
        best = best_trials(workspace, study.study_id, options.best)
    say(f"study {study.study_id} (seed {study.seed}): {computed} trial(s) computed; plot: {plot}")
    if best:
        say(f"{'trial':>5}  {'mode':<6}  {'J':>9}  {'D_var':>9}  {'D_spec':>9}  parameters")
        for row in best:
            parts = json.loads(row["components_json"])
            params = ", ".join(f"{k}={v:.4g}" for k, v in json.loads(row["params_json"]).items())
            say(f"{row['trial_index']:>5}  {row['mode']:<6}  {row['objective']:>9.4f}  {parts['d_var']:>9.4f}  "
                f"{parts['d_spec']:>9.4f}  {params}")
    if materialized is not None:
        say(f"trial {options.materialize}: dataset {materialized.id} → {materialized.event_file}, "
            f"generation meta/generation/{materialized.id}.json")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane search", description=Options.__doc__ or "")
