"""``lightlane replicate DATASET --generation G --processing P [--seed S]``: a mimic dataset."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from .common import SEED, GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Generate a mimic of DATASET: the generation's lanesheet with the dataset's spectrum, time span and GTIs."""

    dataset: str = field(metadata={"args": ["dataset"], "help": "dataset id to mimic"})
    generation: str = field(metadata={"help": "template generation id"})
    processing: str = field(default="default", metadata={"help": "processing whose band and selection are used"})
    seed: Optional[int] = field(default=None, metadata={"help": "seed (default: drawn from OS entropy and recorded)",
                                                        "check": SEED})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: fitting, generating and plotting load polars, astropy, scipy and matplotlib,
    # which `lightlane replicate --help` does not need (SPEC §20).
    from ..datasets.synthetic import replicate_dataset
    from ..report.figures import save_synthetic_plots

    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        result = replicate_dataset(workspace, options.dataset, options.generation, options.processing, options.seed,
                                   progress=not globals_.quiet)
        plots = save_synthetic_plots(workspace, result)
    meta = result.dataset
    say(f"mimic {meta.id} of {options.dataset}: {meta.event_count} photons, seed {result.seed} → {meta.event_file}")
    for plot in plots:
        say(f"  plot: {plot}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane replicate", description=Options.__doc__ or "")
