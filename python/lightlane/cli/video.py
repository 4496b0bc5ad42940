"""``lightlane video DATASET --processing P [--generation G] [--fps 24] [--duration 10] [--span T0 T1]
[--size 1280x720] [--view 12] [--style dots|discs] [--flash 0.2] [--seed S]`` (SPEC §16)."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import List, Optional

from .common import SEED, GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Render the lanesheet video of a dataset: camera, scrolling lattice, photon flashes, light curve and N(t)."""

    dataset: str = field(metadata={"args": ["dataset"], "help": "dataset id"})
    processing: str = field(default="default", metadata={"help": "processing id (band and selection)"})
    generation: Optional[str] = field(default=None, metadata={"help": "generation of the lattice (default: the dataset's)"})
    fps: float = field(default=24.0, metadata={"help": "frames per second"})
    duration: float = field(default=10.0, metadata={"help": "video length (s)"})
    span: Optional[List[float]] = field(default=None, metadata={
        "nargs": 2, "type": float, "metavar": ("T0", "T1"),
        "help": "data span in MET s (default: tstart … tstart + 100 s)"})
    size: str = field(default="1280x720", metadata={"help": "WIDTHxHEIGHT in pixels, both even"})
    view: float = field(default=12.0, metadata={"help": "shown lattice window width in lattice spacings g_w"})
    style: str = field(default="dots", metadata={"choices": ["dots", "discs"], "help": "draw lattice points as dots or r_e discs"})
    flash: float = field(default=0.2, metadata={"help": "photon flash length (video s, linear fade; 0: none)"})
    seed: Optional[int] = field(default=None, metadata={"help": "seed of the flash positions (default: OS entropy, recorded)",
                                                        "check": SEED})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: the renderer loads matplotlib, polars and astropy, which `lightlane video --help`
    # does not need (SPEC §20).
    from ..report.video import VideoOptions, parse_size, plan_video, render_video, video_path

    workspace = globals_.ws
    workspace.require_initialised()
    video = VideoOptions(
        fps=options.fps, duration_s=options.duration,
        span_s=None if options.span is None else (options.span[0], options.span[1]),
        size_px=parse_size(options.size), view=options.view, style=options.style, flash_s=options.flash,
        seed=options.seed,
    )
    with workspace.lock():
        plan = plan_video(workspace, options.dataset, options.processing, options.generation, video)
        target = video_path(workspace, options.dataset, options.processing, plan.span_s)
        result = render_video(plan, target, progress=not globals_.quiet)
    width, height = plan.options.size_px
    say(f"video of {options.dataset} on '{options.processing}': {result.frames} frames {width}x{height} at "
        f"{plan.options.fps:g} fps, bin {plan.bin} ({plan.wavelength_nm:.4g} nm) of generation '{plan.generation}', "
        f"{plan.event_time_s.size} photons, seed {result.seed}")
    say(f"  wrote {result.path}")
    say(f"  wrote {result.sidecar}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane video", description=Options.__doc__ or "")
