"""``lightlane sensitivity --study ID --target D --processing P --generation G --vary NAME=v1,v2,…
--replicates K [--baseline-runs R] [--seed S] [--jobs J] [--scheduler ADDRESS]`` (SPEC §23)."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..scale import Execution
from .common import COUNT, JOBS, SEED, GlobalOptions, run_command, say
from .scale_options import JOBS_HELP, SCHEDULER_HELP


@dataclass(frozen=True)
class Options:
    """Power of the calibrated tests on mimics of a target whose lanesheet parameter NAME takes each value
    (SPEC §23): which lanesheets could this observation detect? Resumable: repeat the command."""

    study: str = field(metadata={"help": "study id (created on first use, resumed by the same command)"})
    target: str = field(metadata={"help": "the observation: its fitted spectrum, span, GTIs and band are mimicked"})
    processing: str = field(metadata={"help": "processing id"})
    generation: str = field(metadata={"help": "template generation of the mimics"})
    vary: str = field(metadata={"help": "NAME=v1,v2,…: a numeric model or path parameter of the generation "
                                        "(e.g. r_e_lu=0.2,0.4,0.8,1.6) and its values"})
    replicates: int = field(metadata={"help": "K mimics per value", "check": COUNT})
    baseline_runs: Optional[int] = field(default=None, metadata={
        "help": "R null runs from the target, made once per study (default: the least R with 5/(R + 1) < α, "
                "e.g. 100 for α = 0.05)", "check": COUNT})
    seed: Optional[int] = field(default=None, metadata={"help": "study seed (default: OS entropy, recorded)",
                                                        "check": SEED})
    jobs: int = field(default=1, metadata={"help": JOBS_HELP, "check": JOBS})
    scheduler: Optional[str] = field(default=None, metadata={"help": SCHEDULER_HELP})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: studies load polars, astropy and scipy (matplotlib and Dask when used),
    # which `lightlane sensitivity --help` does not need (SPEC §20).
    from ..report.html import write_workspace_page
    from ..sensitivity.outputs import summary_lines, write_outputs
    from ..sensitivity.study import open_study, parse_vary, run_study

    vary = parse_vary(options.vary)  # before the workspace is touched
    workspace = globals_.ws
    workspace.require_initialised()
    execution = Execution.from_options(options.jobs, options.scheduler, globals_.threads)
    with workspace.lock():
        study = open_study(workspace, options.study, target=options.target, processing=options.processing,
                           generation=options.generation, vary=vary, replicates=options.replicates,
                           baseline_runs=options.baseline_runs, seed=options.seed)
        baselines, replicates = run_study(workspace, study, execution, progress=not globals_.quiet)
        outputs = write_outputs(workspace, study)
        page = write_workspace_page(workspace)  # lists the study with its figure and tables
    say(f"study {study.study_id} (seed {study.seed}): {baselines} baseline and {replicates} replicate unit(s) "
        f"computed; {study.baseline_runs} baseline runs, {study.replicates} replicates × {len(study.values)} values")
    say(f"figure: {outputs.figure}")
    say(f"tables: {outputs.table}, {outputs.limits_table}")
    for line in summary_lines(study, outputs):
        say(line)
    say(f"report: {page}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane sensitivity", description=Options.__doc__ or "")
