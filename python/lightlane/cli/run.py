"""``lightlane run PIPELINE... [--seed S] [--ensure-baseline N]`` (SPEC §18)."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..runs import ensure_baseline, execute_run
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Run pipelines: build A and B, analyse both, run every test against the baseline."""

    pipelines: str = field(metadata={"args": ["pipelines"], "nargs": "+", "type": str, "help": "pipeline ids"})
    seed: Optional[int] = field(default=None, metadata={"help": "override the run seed (recorded)"})
    ensure_baseline: int = field(default=0, metadata={"help": "first top the baseline up to N runs"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        for pipeline_id in options.pipelines:
            if options.ensure_baseline:
                ensure_baseline(workspace, pipeline_id, options.ensure_baseline, progress=not globals_.quiet)
            outcome = execute_run(workspace, pipeline_id, seed=options.seed)
            say(f"{pipeline_id}: run {outcome.run_id} (seed {outcome.seed}), A = {outcome.a_dataset}, B = {outcome.b_dataset}")
            say(f"  {'metric':<8} {'P1a cal.':<16} {'p_cal':>9} {'P1b':<16} {'P1d':<18} {'P2b':<16}")
            for row in outcome.rows:
                p_cal = row.get("p1a_p_calibrated")
                say(f"  {row['metric']:<8} {str(row.get('p1a_verdict_calibrated')):<16} "
                    f"{(f'{p_cal:.3g}' if p_cal is not None else 'n/a'):>9} {str(row.get('p1b_verdict')):<16} "
                    f"{str(row.get('p1d_verdict')):<18} {str(row.get('p2b_verdict')):<16}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane run", description=Options.__doc__ or "")
