"""lightlane Python benchmarks: each result is a ratio to a baseline measured in the same run.

Usage::

    python benches/bench.py ingest [--events 10000000] [--repeat 3]

``ingest`` writes a Chandra-like evt2 file (TIME, PI, X, Y, CCD_ID; two GTIs),
then times ``lightlane.read_events`` (read, GTI filter, dither, wavelength)
against a plain ``astropy.io.fits`` read of the same columns into native
arrays. Two settings, both reported:

* fresh: each read in a new subprocess (what one ``onboard`` pays, including
  the kernel zeroing every newly touched page); its max RSS is the peak memory;
* warm: both readers alternate inside one process after a warm-up (what
  repeated reads inside a pipeline pay).

SPEC §20 target: read_events ≥ 0.7× the astropy speed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ("time", "pi", "x", "y")


def _astropy_read(path: str) -> float:
    import numpy as np
    from astropy.io import fits

    start = time.perf_counter()
    with fits.open(path, memmap=True) as hdul:
        data = hdul["EVENTS"].data
        arrays = {
            "time": np.asarray(data.field("time"), dtype=np.float64),
            "pi": np.asarray(data.field("pi"), dtype=np.int64),
            "x": np.asarray(data.field("x"), dtype=np.float64),
            "y": np.asarray(data.field("y"), dtype=np.float64),
        }
        gti = np.column_stack([np.asarray(hdul["GTI"].data.field(c), dtype=np.float64) for c in ("START", "STOP")])
    elapsed = time.perf_counter() - start
    assert len(arrays["time"]) > 0 and len(gti) > 0
    return elapsed


def _lightlane_read(path: str) -> float:
    import lightlane

    start = time.perf_counter()
    events = lightlane.read_events(path, dataset_id="bench")
    elapsed = time.perf_counter() - start
    assert events.events.height > 0
    return elapsed


def _child(kind: str, path: str) -> None:
    """Run one measurement and print {seconds, max_rss_mb} as JSON."""
    seconds = {"astropy": _astropy_read, "lightlane": _lightlane_read}[kind](path)
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "max_rss_mb": max_rss_mb}))


def _measure(kind: str, path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "_child", kind, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _warm(path: Path, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"astropy": [], "lightlane": []}
    _astropy_read(str(path))
    _lightlane_read(str(path))
    for _ in range(repeat):
        times["astropy"].append(_astropy_read(str(path)))
        times["lightlane"].append(_lightlane_read(str(path)))
    return times


def bench_ingest(events: int, repeat: int) -> None:
    from lightlane.examples import ExampleObservation, write_chandra_like

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench_evt2.fits"
        start = time.perf_counter()
        write_chandra_like(path, ExampleObservation(n_events=events, duration_s=100_000.0, gap_s=(40_000.0, 45_000.0)))
        print(f"wrote {events:,} events ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.1f} s")
        fresh: dict[str, list[dict[str, float]]] = {"astropy": [], "lightlane": []}
        _measure("astropy", path)  # warm the page cache
        for _ in range(repeat):  # interleaved so both see the same machine state
            for kind in fresh:
                fresh[kind].append(_measure(kind, path))
        warm = _warm(path, repeat)
    for label, seconds in (("fresh process", {k: [r["seconds"] for r in v] for k, v in fresh.items()}),
                           ("warm process", warm)):
        best = {kind: min(values) for kind, values in seconds.items()}
        median = {kind: statistics.median(values) for kind, values in seconds.items()}
        print(f"[{label}] astropy read of {', '.join(COLUMNS)} (baseline): best {best['astropy']:.3f} s, "
              f"median {median['astropy']:.3f} s")
        print(f"[{label}] lightlane.read_events (+GTI filter, dither, wavelength): best {best['lightlane']:.3f} s, "
              f"median {median['lightlane']:.3f} s  [{events / best['lightlane'] / 1e6:.1f} M events/s]")
        print(f"[{label}] speed ratio lightlane/astropy = {best['astropy'] / best['lightlane']:.2f}x (target ≥ 0.7x)")
    rss = {kind: max(r["max_rss_mb"] for r in rows) for kind, rows in fresh.items()}
    print(f"peak RSS: astropy {rss['astropy']:.0f} MiB, lightlane {rss['lightlane']:.0f} MiB "
          f"(output columns: {events * 6 * 8 / 2**20:.0f} MiB)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        _child(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", required=True)
    ingest = sub.add_parser("ingest", help="read_events vs astropy on a Chandra-like evt2 file")
    ingest.add_argument("--events", type=int, default=10_000_000)
    ingest.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args(argv)
    if options.bench == "ingest":
        bench_ingest(options.events, options.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
