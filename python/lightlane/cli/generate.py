"""``lightlane generate GENERATION --processing P [--seed S]``: a pure synthetic dataset."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from .common import SEED, GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Generate a lanesheet dataset from a generation (its own spectrum and time span)."""

    generation: str = field(metadata={"args": ["generation"], "help": "generation id (meta/generation/<id>.json)"})
    processing: str = field(default="default", metadata={"help": "processing whose band is used"})
    seed: Optional[int] = field(default=None, metadata={"help": "seed (default: drawn from OS entropy and recorded)",
                                                        "check": SEED})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: generating and plotting load polars, astropy, scipy and matplotlib,
    # which `lightlane generate --help` does not need (SPEC §20).
    from ..datasets.synthetic import generate_dataset
    from ..report.figures import save_synthetic_plots

    workspace = globals_.ws
    workspace.require_initialised()
    with workspace.lock():
        result = generate_dataset(workspace, options.generation, options.processing, options.seed,
                                  progress=not globals_.quiet)
        plots = save_synthetic_plots(workspace, result)
    meta = result.dataset
    say(f"generated {meta.id}: {meta.event_count} photons, {meta.time.gti_count} GTIs, "
        f"exposure {meta.time.exposure_s:.0f} s, seed {result.seed} → {meta.event_file}")
    for plot in plots:
        say(f"  plot: {plot}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane generate", description=Options.__doc__ or "")
