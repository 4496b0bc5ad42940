"""``lightlane quickstart [DIR]``: a self-contained demo on the embedded defaults.

It needs no network and no user data: it creates a workspace, writes an
example Chandra-like observation (two GTIs around a gap) and onboards it.
"""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..examples import ExampleObservation, write_chandra_like
from ..metadata import DatasetMeta
from ..onboard import onboard_file
from ..workspace import Workspace
from .common import GlobalOptions, run_command, say

DEMO_DATASET = "demo_real"


@dataclass(frozen=True)
class Options:
    """Create a demo workspace in DIR (default ./lightlane-quickstart) and onboard an example observation."""

    directory: str = field(
        default="lightlane-quickstart", metadata={"args": ["directory"], "nargs": "?", "type": str, "metavar": "DIR"}
    )


def _execute(options: Options, globals_: GlobalOptions) -> int:
    workspace = Workspace.at(Path(globals_.workspace) / options.directory)
    with workspace.lock():
        workspace.init()
        if workspace.exists(DatasetMeta, DEMO_DATASET):
            meta = workspace.load(DatasetMeta, DEMO_DATASET)
            say(f"{DEMO_DATASET} already onboarded")
        else:
            with tempfile.TemporaryDirectory() as scratch:
                example = write_chandra_like(Path(scratch) / "acisf99999_evt2.fits", ExampleObservation())
                meta = onboard_file(workspace, example, DEMO_DATASET)
    say(f"workspace: {workspace.root}")
    say(
        f"dataset {meta.id}: {meta.event_count} events in {meta.time.gti_count} GTIs, "
        f"exposure {meta.time.exposure_s:.0f} s, {meta.mission}/{meta.instrument}, calibration {meta.energy_calibration}"
    )
    say(f"  metadata: {workspace.root / 'meta' / 'datasets' / (meta.id + '.json')}")
    say(f"  events:   {workspace.path(meta.event_file)}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane quickstart", description=Options.__doc__ or "")
