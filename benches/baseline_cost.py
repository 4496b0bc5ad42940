"""``bench.py baseline``: what one baseline run costs against the work it cannot avoid.

On the quickstart content (processing ``quick``, pipeline ``demo_lane_vs_poisson``:
A = select of ``demo_lane``, B = poissonize of A), times ``baseline --runs R`` in a
fresh workspace (R runs, then the leave-one-out recomputation of every run's tests)
and divides by R. Beside it, in the same process, the floor of one run: reading A and B
(the source file, then A and B built by the pipeline's tasks, as a baseline run must),
then selecting, binning and chunking both (no cache, no tests, no fit, no catalog), with
a new seed per repeat.

SPEC §20 target: a baseline run ≤ 2× that floor.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

PIPELINE = "demo_lane_vs_poisson"
TARGET_RATIO = 2.0


def _floor_once(workspace, pipeline, processing, seed: int) -> float:
    """Read the source, build A and B by the pipeline's tasks, select + bin + chunk both [s]."""
    import numpy as np

    from lightlane.analysis.binning import bin_events, width_set
    from lightlane.analysis.chunks import WidthCounts, chunk_table
    from lightlane.datasets.registered import read_dataset
    from lightlane.events.selection import selected_bins
    from lightlane.pipelines.tasks import apply_chain

    widths = width_set(processing)
    start = time.perf_counter()
    source = read_dataset(workspace, pipeline.source.dataset)
    a = apply_chain(pipeline.a_tasks, source, processing, seed, 0, width_set=widths, workspace=workspace)
    b = apply_chain(pipeline.b_tasks, a if pipeline.b_input == "a" else source, processing, seed, 1,
                    width_set=widths, workspace=workspace)
    for events in (a, b):
        wbin = selected_bins(events.events, processing, events.coordinates, events.label)
        binnings = bin_events(events.events["time"].to_numpy(), wbin, processing.band, widths, seed,
                              events.tstart_s, events.tstop_s, events.gti, processing.min_exposure,
                              processing.chunk_length)
        w_data = np.flatnonzero(binnings[0].counts.sum(axis=0) > 0).astype(np.uint16)
        counts = [WidthCounts(x.width_s, x.origin_s, x.counts, x.valid, x.valid_starts) for x in binnings]
        chunk_table(counts, w_data, processing.band, processing.chunk_length, processing.chunk_count, seed)
    return time.perf_counter() - start


def bench_baseline(runs: int, repeat: int) -> None:
    from lightlane.cli import main as lightlane_main
    from lightlane.demo import build_demo
    from lightlane.metadata import ProcessingParameters
    from lightlane.pipelines import load_pipeline
    from lightlane.store.workspace import Workspace

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "workspace"
        if lightlane_main(["--workspace", str(root), "--quiet", "init"]) != 0:
            raise SystemExit("lightlane init failed")
        workspace = Workspace.at(root)
        with workspace.lock():
            build_demo(workspace)
        pipeline = load_pipeline(workspace, PIPELINE)
        processing = workspace.load(ProcessingParameters, pipeline.processing)
        floors = [_floor_once(workspace, pipeline, processing, 10_000 + index) for index in range(repeat)]
        start = time.perf_counter()
        code = lightlane_main(["--workspace", str(root), "--quiet", "baseline", PIPELINE, "--runs", str(runs)])
        total = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"lightlane baseline failed with exit code {code}")
    floor = statistics.median(floors)
    per_run = total / runs
    print(f"[baseline {PIPELINE}] `baseline --runs {runs}`: {total:.2f} s = {per_run:.3f} s per run "
          f"(runs plus the leave-one-out recomputation of all {runs})")
    print(f"floor of one run (read the source, build A and B by their tasks, select + bin + chunk both; median "
          f"of {repeat}): {floor:.3f} s "
          f"(each: {', '.join(f'{f:.3f}' for f in floors)})")
    print(f"baseline run / floor = {per_run / floor:.2f}x (target ≤ {TARGET_RATIO:.0f}x)")
