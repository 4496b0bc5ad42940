"""lightlane Python benchmarks: each result is a ratio to a baseline measured in the same run.

Usage::

    python benches/bench.py ingest [--events 10000000] [--repeat 3]
    python benches/bench.py simulate [--repeat 3]
    python benches/bench.py run [--events 1200000] [--repeat 3] [--workspace DIR --pipeline ID]
                                [--baseline-code DIR]
    python benches/bench.py bootstrap [--repeat 3]
    python benches/bench.py p3 [--events 550000] [--repeat 7]
    python benches/bench.py baseline [--runs 20] [--repeat 3]
    python benches/bench.py search [--trials 12]
    python benches/bench.py video [--frames 240] [--memory-frames 240 2400] [--memory-size 640x360]
    python benches/bench.py imports [--repeat 11]
    python benches/bench.py png [--repeat 7]
    python benches/bench.py drawing [--events 600000] [--repeat 7]
    python benches/bench.py gc [--events 1200000] [--repeat 9]

``ingest`` writes a Chandra-like evt2 file (TIME, PI, X, Y, CCD_ID; two GTIs),
then times ``lightlane.read_events`` (read, GTI filter, dither, wavelength)
against a plain ``astropy.io.fits`` read of the same columns into native
arrays. Two settings, both reported:

* fresh: each read in a new subprocess (what one ``onboard`` pays, including
  the kernel zeroing every newly touched page); its max RSS is the peak memory;
* warm: both readers alternate inside one process after a warm-up (what
  repeated reads inside a pipeline pay).

SPEC §20 target: read_events ≥ 0.7× the astropy speed.

``simulate`` times ``lightlane.lanesheet.simulate`` on the embedded generations
``sparse`` and ``dense`` (0–24 000 s, 100 bins of the default band) against a
vectorised numpy, Stingray-style reference that simulates events from the same
expected rate curve: r_w(t) = ρ_w·N_w(t) of every bin w, integrated exactly over
1 s time bins (from ``lanecount_trace``; computed before the timer starts),
Poisson counts per time bin, event times by inverse-CDF sampling of the
cumulative light curve (``np.searchsorted`` on the cumsum with uniforms),
wavelengths by inverse CDF of f over a fine grid inside each bin, then a sort by
time. The reference makes only time, wavelength and bin; lightlane also makes
true energy, smeared PI, x, y and lanecount. Peak memory is the max RSS of one
``simulate`` call in a fresh subprocess.

SPEC §20 targets: sparse ≥ 3·10⁷ photons/s and ≥ 3× the numpy reference;
dense ≤ 10× the sparse time.

``run`` builds a temporary workspace through the CLI (``init``; a Chandra-like
evt2 file of ``--events`` rows over 100 ks with a 5 ks GTI gap, ``onboard``; the
pipeline ``bench_vs_poisson`` = A: select, flatten; B (from A): poissonize, on
the ``default`` processing; an untimed ``baseline --runs 2``), then times
``lightlane run bench_vs_poisson --seed S`` in fresh subprocesses, one new seed
per run (so A, B and their chunk tables are never cache hits), each repeat once
with every figure and once with ``--no-plots`` (the baseline of the figure cost,
SPEC §20), alternating which goes first. Each child reports its import time
(``lightlane.cli.run``), the time inside ``run`` and its own peak memory
(VmHWM); the parent adds the wall time of the whole process. An import-only
child gives the fixed cost of a process. The command goes through the CLI, so
the bench measures whatever ``run`` does (plots, Dask options) at the time.
``--workspace DIR --pipeline ID`` times ``run ID`` in an existing workspace
instead (e.g. one made by ``lightlane quickstart``), with the pipeline's own seed
as a user would run it again (its chunk tables then come from the cache, which
makes the figures a larger share). ``--baseline-code DIR`` times every mode with the ``lightlane`` package
found in DIR too, in the same rounds (e.g. ``git worktree add /tmp/prev HEAD~1`` and its ``python/``
folder with this checkout's built ``_core`` copied in, when the Rust core did not change), so a change's
effect on the figure cost is measured beside it. The ratio is given twice: of the median walls, and
as the median over the rounds of each round's own ratio, with a 95 % bootstrap interval (this
machine's speed drifts by up to 2× within minutes, more between rounds than within one).

SPEC §20 targets: one ``run`` with every figure ≤ 1.3× the same run with
``--no-plots`` (medians, process wall time); one ``run`` (2 datasets, tests,
plots), excluding baseline, ≤ 15 s; peak memory ≤ 1 GB (10⁹ bytes).

``bootstrap`` makes the chunk tables of two independent 1 M-event data sets
(the default processing: chunk_count 100 000, L = 12; untimed), then times the
exact P1b/P1c bootstrap of SPEC §11.3 rev 2 for the 7 default test metrics (A vs
B, finite values, as ``run`` calls it: ``lightlane.stats.bootstrap_intervals``,
one call, rayon over metrics; and ``_core.exact_bootstrap_quantiles`` alone)
against the rev-1 kernel it replaced, measured in the same run: per metric
``_core.monte_carlo_bootstrap_differences`` with 1000 resamples and numpy
percentile intervals of its output. Repeats interleave the two; the exact kernel
runs 5 times per repeat (its time is the median). The full P1b/P1c step
(``lightlane.stats.p1b_p1c``, which adds the Mann–Whitney test) is reported for
information, and so is the agreement of the exact and rev-1 intervals.

SPEC §20 targets: exact ≤ 50 ms and ≥ 50× the rev-1 1000-resample kernel.

``p3`` builds a synthetic run (untimed): datasets A and B of ``--events`` events each (default
550 000, 1.1 M in all) over 24 ks with a 500 s GTI gap, 100 bins of 0.1–1 nm; B homogeneous
Poisson, A the same with 10 % of its events moved to the crests of a modulation at f_j = 0.01 Hz·
e^{2λ_j} in bin j (a slope of 2). It then times P3 on both datasets (``lightlane.analysis.p3_statistic`` at dt = 1 s with the
defaults: 512 log steps, 251 slopes; one call per dataset, as a run makes them), the median of
``--repeat`` runs, and ``_core.p3_statistic`` alone beside it. There is no baseline to measure:
the target is absolute.

SPEC §20 target: P3 on a 1.1 M-event run (both datasets) ≤ 0.5 s.

``baseline`` (benches/baseline_cost.py) times ``baseline demo_lane_vs_poisson --runs R``
on the quickstart content in a fresh workspace, per run, against reading that pipeline's
A and B (the source file and the tasks that build them) + selecting, binning and chunking
both alone. SPEC §20 target: ≤ 2×.

``search`` builds the quickstart demo in a temporary workspace (processing
``quick``, target ``demo_lane``, template ``sparse``), runs one untimed warm-up
trial (it caches the target's chunk table), then times ``--trials`` search
trials of a new study with ``--jobs 1`` (inline) and ``--jobs 2`` (an embedded
Dask LocalCluster, its start-up included) and prints trials per minute for both.

``video`` builds the quickstart demo in a temporary workspace and renders
``demo_lane`` on ``quick`` (span 0–100 s) in fresh subprocesses: ``--frames``
frames at 1280×720 streamed into ffmpeg (libx264, yuv420p) against the baseline
of rendering the same frames with the same renderer without encoding (the pixels
are only touched), giving frames/s of both and the encoding overhead. Memory:
``--memory-frames`` videos at ``--memory-size``, each child resetting its VmHWM
after loading the data, so the peak is that of rendering and streaming alone;
flat memory means the peaks agree within allocator noise (SPEC §16: frames are
never accumulated).

``imports`` times fresh processes, interleaved round by round so all see the
same machine state: ``python -c pass`` (the baseline: interpreter start-up),
``python -c "import lightlane"``, ``python -m lightlane --help`` and, when
installed next to this interpreter, the ``lightlane --help`` console script.
Each is the median wall time of ``--repeat`` (≥ 7) runs after one untimed
warm-up, with the median CPU time (user + system) beside it (less inflated by
other load); the cost of lightlane is the difference to the baseline.

SPEC §20 targets: ``import lightlane`` ≤ 0.4 s and ``lightlane --help`` ≤ 0.5 s
above ``python -c pass`` (heavy imports deferred to the commands that use them).

``png`` draws three run-like figures from synthetic inputs (a heatmap and two 7-panel small
multiples, 150 dpi; untimed), then encodes their RGBA pixels with the Rust core
(``_core.encode_png``, what every lightlane PNG uses) and, in the same run, with Pillow as
``savefig`` does (its default zlib level 6, and level 3, lightlane's setting before the core),
alternating, ``--repeat`` times; medians, file sizes, and a check that all decode to the same pixels.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
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
    """Run one measurement and print {seconds, max_rss_mb} as JSON (max_rss_mb = this process's VmHWM)."""
    seconds = {"astropy": _astropy_read, "lightlane": _lightlane_read}[kind](path)
    print(json.dumps({"seconds": seconds, "max_rss_mb": _vm_hwm_mb()}))


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
    from lightlane.events.examples import ExampleObservation, write_chandra_like

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


# -- simulate ---------------------------------------------------------------------

GENERATIONS = ("sparse", "dense")
#: Fine time grid of the reference light curve [s] and wavelength sub-bins per bin.
REFERENCE_DT_S = 1.0
WAVELENGTH_SUBBINS = 64
#: Bytes per output photon of simulate (time, wavelength, energy, pi, x, y as 8 bytes, bin u16, lanecount i64).
PHOTON_BYTES = 6 * 8 + 2 + 8


def _load_generation(name: str):
    from lightlane.metadata import GenerationParameters, parse_document
    from lightlane.store.workspace import embedded_defaults

    (content,) = [text for file, text in embedded_defaults()["generation"] if file == f"{name}.json"]
    return parse_document(GenerationParameters, content, name)


def _lightlane_simulate(generation, seed: int) -> tuple[float, int]:
    from lightlane.lanesheet.simulation import simulate

    start = time.perf_counter()
    photons = simulate(generation, seed=seed)
    elapsed = time.perf_counter() - start
    assert photons.height > 0
    return elapsed, photons.height


class _Reference:
    """Stingray-style event simulation from the binned expected light curve of a generation.

    Built (untimed): the expected counts μ[w, i] = ρ_w·∫ N_w dt over 1 s time bins, exact
    from the piecewise-constant lanecount trace, and per-bin wavelength CDFs of f.
    """

    def __init__(self, generation) -> None:
        import numpy as np

        from lightlane.lanesheet.simulation import generation_band, lanecount_trace, lanesheet_bins

        tstart, tstop = generation.time.tstart_s, generation.time.tstop_s
        intervals = generation.time.intervals()
        assert len(intervals) == 1 and tuple(intervals[0]) == (tstart, tstop), "reference assumes one GTI"
        band = generation_band(generation, None)
        bins = lanesheet_bins(generation, band)
        assert not bins.isotropic.any(), "reference assumes lattice bins only"
        self.n_time = int(round((tstop - tstart) / REFERENCE_DT_S))
        self.edges = tstart + REFERENCE_DT_S * np.arange(self.n_time + 1)
        self.edges[-1] = tstop
        rate_per_lane = bins.flux_per_s / bins.mean_lanecount  # ρ_w = F_w / N̄_w
        expected = np.empty((len(rate_per_lane), self.n_time))
        for w in range(len(rate_per_lane)):
            trace = lanecount_trace(generation, w, tstart, tstop)
            times = trace["time_s"].to_numpy()
            counts = trace["lanecount"].to_numpy().astype(np.float64)
            integral = np.concatenate([[0.0], np.cumsum(counts[:-1] * np.diff(times))])  # ∫ N dt up to each row
            expected[w] = rate_per_lane[w] * np.diff(np.interp(self.edges, times, integral))
        self.expected = expected.ravel()  # bin-major: flat index = w·n_time + i
        self.mean_photons = float(self.expected.sum())
        # Wavelength CDF of f over WAVELENGTH_SUBBINS sub-bins of each bin, offset by w so that one
        # strictly increasing table serves every bin: searchsorted(table, w + u).
        fractions = np.linspace(0.0, 1.0, WAVELENGTH_SUBBINS + 1)
        sub_edges = bins.lo_nm[:, None] + (bins.hi_nm - bins.lo_nm)[:, None] * fractions[None, :]
        density = generation.spectrum.flux(0.5 * (sub_edges[:, 1:] + sub_edges[:, :-1]))
        cdf = np.concatenate([np.zeros((len(density), 1)), np.cumsum(density, axis=1)], axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        self.wavelength_cdf = (cdf[:, 1:] + np.arange(len(density))[:, None]).ravel()  # upper edges, offset by w
        self.sub_lo = sub_edges[:, :-1].ravel()
        self.sub_width = (sub_edges[:, 1:] - sub_edges[:, :-1]).ravel()
        self.cdf_lo = (cdf[:, :-1] + np.arange(len(density))[:, None]).ravel()

    def simulate(self, seed: int):
        """(time, wavelength_nm, bin) of one realisation, sorted by time."""
        import numpy as np

        rng = np.random.default_rng(seed)
        counts = rng.poisson(self.expected)  # Poisson counts per (bin, time bin)
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1])
        # inverse CDF of the cumulative light curve, linear inside each time bin
        target = rng.random(total) * total
        flat = np.searchsorted(cumulative, target, side="right")
        inside = (target - (cumulative[flat] - counts[flat])) / counts[flat]
        w, i = np.divmod(flat, self.n_time)
        times = self.edges[i] + inside * (self.edges[i + 1] - self.edges[i])
        # wavelength: inverse CDF of f over the bin's sub-grid, linear inside each sub-bin
        u = w + rng.random(total)
        sub = np.searchsorted(self.wavelength_cdf, u, side="right")
        sub = np.minimum(sub, len(self.wavelength_cdf) - 1)
        local = (u - self.cdf_lo[sub]) / (self.wavelength_cdf[sub] - self.cdf_lo[sub])
        wavelength = self.sub_lo[sub] + local * self.sub_width[sub]
        order = np.argsort(times, kind="stable")
        return times[order], wavelength[order], w[order].astype(np.uint16)


def _reference_simulate(reference: _Reference, seed: int) -> tuple[float, int]:
    start = time.perf_counter()
    times, wavelength, bins = reference.simulate(seed)
    elapsed = time.perf_counter() - start
    assert len(times) == len(wavelength) == len(bins) > 0
    return elapsed, len(times)


def _child_simulate(name: str, seed: int) -> None:
    """One simulate call (or only the imports and the generation, seed < 0); print {seconds, photons, max_rss_mb}."""
    generation = _load_generation(name)
    import lightlane.lanesheet.simulation  # noqa: F401  (same imports in both cases)

    seconds, photons = _lightlane_simulate(generation, seed) if seed >= 0 else (0.0, 0)
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "photons": photons, "max_rss_mb": max_rss_mb, "vm_hwm_mb": _vm_hwm_mb()}))


def _vm_hwm_mb() -> float:
    """This process's own RSS high-water mark (VmHWM; Linux), NaN elsewhere.

    ru_maxrss also counts the parent's high-water mark, which a child started by vfork/posix_spawn
    inherits at exec; that is why the fresh processes run before the parent grows.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _measure_simulate(name: str, seed: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "_child_simulate", name, str(seed)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_simulate(repeat: int) -> None:
    # Fresh processes first, while this process is still small (see _vm_hwm_mb).
    idle = _measure_simulate("sparse", -1)
    fresh = {name: _measure_simulate(name, 0) for name in GENERATIONS}
    from lightlane import _core

    print(f"lightlane._core.thread_count() = {_core.thread_count()}")
    best: dict[str, dict[str, float]] = {}
    for name in GENERATIONS:
        generation = _load_generation(name)
        start = time.perf_counter()
        reference = _Reference(generation)
        print(f"[{name}] reference setup (untimed: {len(reference.expected):,} expected counts from lanecount "
              f"traces, {REFERENCE_DT_S:g} s bins): {time.perf_counter() - start:.2f} s; "
              f"expected photons {reference.mean_photons:,.0f}")
        _lightlane_simulate(generation, seed=1_000)  # warm-up
        _reference_simulate(reference, seed=1_000)
        seconds: dict[str, list[float]] = {"lightlane": [], "reference": []}
        photons: dict[str, list[int]] = {"lightlane": [], "reference": []}
        for seed in range(repeat):  # interleaved so both see the same machine state
            for kind, run in (("lightlane", lambda s: _lightlane_simulate(generation, s)),
                              ("reference", lambda s: _reference_simulate(reference, s))):
                elapsed, n = run(seed)
                seconds[kind].append(elapsed)
                photons[kind].append(n)
        best[name] = {kind: min(values) for kind, values in seconds.items()}
        median = {kind: statistics.median(values) for kind, values in seconds.items()}
        mean_photons = {kind: statistics.fmean(values) for kind, values in photons.items()}
        ll, ref = best[name]["lightlane"], best[name]["reference"]
        print(f"[{name}] lightlane.lanesheet.simulate: best {ll:.4f} s, median {median['lightlane']:.4f} s, "
              f"{mean_photons['lightlane']:,.0f} photons  [{mean_photons['lightlane'] / ll / 1e6:.1f} M photons/s"
              f"{'; target ≥ 30 M/s' if name == 'sparse' else ''}]")
        print(f"[{name}] numpy inverse-CDF reference (baseline): best {ref:.4f} s, median {median['reference']:.4f} s, "
              f"{mean_photons['reference']:,.0f} photons  [{mean_photons['reference'] / ref / 1e6:.1f} M photons/s]")
        target = "target ≥ 3x" if name == "sparse" else "SPEC targets only dense/sparse ≤ 10x"
        print(f"[{name}] speed ratio reference/lightlane = {ref / ll:.2f}x ({target})")
    ratio = best["dense"]["lightlane"] / best["sparse"]["lightlane"]
    ref_ratio = best["dense"]["reference"] / best["sparse"]["reference"]
    print(f"dense/sparse lightlane time = {ratio:.2f}x (target ≤ 10x); reference dense/sparse = {ref_ratio:.2f}x")
    for name in GENERATIONS:
        row = fresh[name]
        print(f"[{name}] fresh process: simulate {row['seconds']:.4f} s, {row['photons']:,} photons, "
              f"peak RSS {row['max_rss_mb']:.0f} MiB (VmHWM {row['vm_hwm_mb']:.0f} MiB; import-only process "
              f"{idle['max_rss_mb']:.0f} MiB; output columns {row['photons'] * PHOTON_BYTES / 2**20:.0f} MiB)")


# --------------------------------------------------------------------------- analysis


def _binning_inputs(n_events: int, seed: int = 1):
    """Sorted times over 100 ks with a GTI gap, wavelengths over the default band."""
    import numpy as np

    from lightlane import _core
    from lightlane.events.selection import wavelength_bins
    from lightlane.metadata import Band, ProcessingParameters

    band = Band(0.1, 1.0, 100)
    times = np.sort(_core.uniforms(seed, _core.DOMAIN_GENERATE, [0], n_events) * 100_000.0)
    wavelength = 0.1 + 0.9 * _core.uniforms(seed, _core.DOMAIN_GENERATE, [1], n_events)
    gti = np.array([[0.0, 40_000.0], [45_000.0, 100_000.0]])
    keep = (times < 40_000.0) | (times >= 45_000.0)
    times, wavelength = times[keep], wavelength[keep]
    processing = ProcessingParameters(id="bench")
    return band, processing, times, wavelength, wavelength_bins(wavelength, band).astype(np.uint16), gti


def bench_binning(sizes: list[int], repeat: int) -> None:
    import numpy as np

    from lightlane.analysis.binning import bin_events, width_set

    for n in sizes:
        band, processing, times, wavelength, wbin, gti = _binning_inputs(n)
        widths = width_set(processing)

        def lightlane_run():
            return bin_events(times, wbin, band, widths, 0, 0.0, 100_000.0, gti, processing.min_exposure,
                              processing.chunk_length)

        binnings = lightlane_run()
        edges = [b.edges for b in binnings]

        def numpy_run():
            return [np.histogram2d(times, wavelength, bins=[e, band.edges_nm()])[0] for e in edges]

        reference = numpy_run()
        assert all(np.array_equal(b.counts, r) for b, r in zip(binnings, reference)), "counts differ from numpy"
        best_ll = min(_timed(lightlane_run) for _ in range(repeat))
        best_np = min(_timed(numpy_run) for _ in range(max(1, repeat // 2)))
        rate = len(times) * len(widths) / best_ll
        print(f"[binning {len(times):,} events × {len(widths)} widths × {band.bins} bins] lightlane {best_ll:.3f} s "
              f"(counts + exposure + valid starts; {rate:.2e} events·widths/s, target ≥ 5e8), "
              f"numpy.histogram2d {best_np:.3f} s → {best_np / best_ll:.1f}x (target ≥ 20x)")


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _numpy_chunk_metrics(binnings, w_data, chunk_length: int, chunk_count: int, seed: int) -> dict:
    """A vectorised numpy reference of the sampler and every metric (numpy's own RNG)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    usable = [b for b in binnings if b.usable]
    k = rng.integers(0, len(usable), chunk_count)
    w = np.asarray(w_data)[rng.integers(0, len(w_data), chunk_count)]
    x = np.empty((chunk_count, chunk_length))
    mu_g = np.empty(chunk_count)
    offsets = np.arange(chunk_length)
    for index, binning in enumerate(usable):
        rows = np.flatnonzero(k == index)
        starts = binning.valid_starts[rng.integers(0, len(binning.valid_starts), len(rows))]
        x[rows] = binning.counts[starts[:, None] + offsets[None, :], w[rows][:, None]]
        mu_g[rows] = binning.counts[binning.valid].mean(axis=0)[w[rows]]
    mu = x.mean(axis=1)
    s2 = x.var(axis=1, ddof=1)
    d = np.diff(x, axis=1)
    sd2 = d.var(axis=1, ddof=1)
    m_o, m_e = x[:, 0::2].mean(axis=1), x[:, 1::2].mean(axis=1)
    half = chunk_length / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ev = np.sign(s2 - mu) * np.sqrt(np.abs(s2 - mu))
        vea = np.sign(sd2 - 2 * mu) * np.sqrt(np.abs(sd2 - 2 * mu))
        root_mu = np.sqrt(mu)
        fvar = np.where(mu > 0, np.sqrt(np.maximum(s2 - mu, 0)) / mu, 0.0)
        return {
            "ev": ev, "evs": np.where(mu > 0, ev / root_mu, 0.0), "fel": np.where(mu > 0, (s2 - mu) / mu, 0.0),
            "feg": np.where(mu_g > 0, (s2 - mu_g) / mu_g, 0.0), "vea": vea,
            "vesa": np.where(mu > 0, vea / root_mu, 0.0),
            "oec": np.abs(m_o - m_e) / np.sqrt(np.maximum(m_o / half + m_e / half, 1e-12)), "fvar": fvar,
            "fvar_err": np.sqrt(1 / (2 * chunk_length) * (1 / (mu * fvar)) ** 2 + 1 / (chunk_length * mu)),
            "nxs": np.where(mu > 0, (s2 - mu) / mu**2, 0.0),
            "fadj": np.where(mu > 0, np.sqrt(np.maximum(sd2 - 2 * mu, 0)) / mu, 0.0),
        }


def bench_chunks(repeat: int, chunk_count: int = 100_000) -> None:
    import numpy as np

    from lightlane.analysis.binning import bin_events, width_set
    from lightlane.analysis.chunks import WidthCounts, chunk_table

    band, processing, times, _, wbin, gti = _binning_inputs(1_000_000)
    binnings = bin_events(times, wbin, band, width_set(processing), 0, 0.0, 100_000.0, gti,
                          processing.min_exposure, processing.chunk_length)
    widths = [WidthCounts(b.width_s, b.origin_s, b.counts, b.valid, b.valid_starts) for b in binnings]
    w_data = np.unique(wbin)

    def lightlane_run():
        return chunk_table(widths, w_data, band, processing.chunk_length, chunk_count, 0)

    def numpy_run():
        return _numpy_chunk_metrics(binnings, w_data, processing.chunk_length, chunk_count, 0)

    lightlane_run(), numpy_run()
    best_ll = min(_timed(lightlane_run) for _ in range(repeat))
    best_np = min(_timed(numpy_run) for _ in range(repeat))
    print(f"[chunks {chunk_count:,} × 11 metrics, L = {processing.chunk_length}] lightlane.chunk_table "
          f"{best_ll * 1e3:.1f} ms (target ≤ 50 ms) vs vectorised numpy {best_np * 1e3:.1f} ms "
          f"→ {best_np / best_ll:.1f}x (target ≥ 20x)")


def _child_memory(path: str) -> None:
    """The analysis path of a big file: read, select, bin; print this process's peak memory."""
    from lightlane.analysis.dataset_analysis import analyze_events
    from lightlane.events.reading import read_events
    from lightlane.metadata import ProcessingParameters

    start = time.perf_counter()
    events = read_events(path, dataset_id="big", columns=())  # what `analyze` reads without crop/mask
    processing = ProcessingParameters(id="bench", chunk_count=1000)
    analysis = analyze_events(events, processing, 0, dataset_id="big", events_hash="0" * 64)
    print(f"[memory] read + select + bin + 1000 chunks of {analysis.n_selected:,} selected events "
          f"({events.raw_rows:,} rows) in {time.perf_counter() - start:.1f} s: peak memory (VmHWM) "
          f"{_vm_hwm_mb() / 1024:.2f} GiB (target ≤ 3 GiB at 10⁸ events)")


def bench_memory(n_events: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "big_evt2.fits"
        start = time.perf_counter()
        writer = ("import sys; from lightlane.events.examples import ExampleObservation, write_chandra_like; "
                  "write_chandra_like(sys.argv[1], ExampleObservation(n_events=int(sys.argv[2]), duration_s=1e6, "
                  "gap_s=(4e5, 4.5e5)))")
        subprocess.run([sys.executable, "-c", writer, str(path), str(n_events)], check=True)
        print(f"wrote {n_events:,} events ({path.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - start:.0f} s")
        result = subprocess.run([sys.executable, __file__, "_child_memory", str(path)], capture_output=True,
                                text=True, check=True)
    print(result.stdout.strip())


# --------------------------------------------------------------------------- run

RUN_PIPELINE = "bench_vs_poisson"
RUN_SOURCE = "bench"
RUN_TARGET_S = 15.0
RUN_TARGET_BYTES = 1e9
FIGURES_TARGET_RATIO = 1.3


def _cli(workspace: Path, *arguments: str) -> None:
    from lightlane.cli import main as lightlane_main

    code = lightlane_main(["--workspace", str(workspace), "--quiet", *arguments])
    if code != 0:
        raise SystemExit(f"lightlane {' '.join(arguments)} failed with exit code {code}")


def _child_run(workspace: str, pipeline: str, mode: str, seed: int) -> None:
    """``lightlane run`` with figures (mode "plots"), without ("no-plots"), or only its imports ("import"),
    as the console script runs it; "no-plots-unfrozen" as a caller's process would (nothing kept out of
    the garbage collector, ``bench gc``).

    ``seed`` < 0 runs with the pipeline's own seed. Prints {code, import_s, run_s, cpu_s, vm_hwm_mb}.
    """
    start = time.perf_counter()
    import lightlane.cli
    import lightlane.cli.run  # noqa: F401  (the command's own imports, outside the run timer)
    from lightlane.cli.common import own_process

    frozen = mode != "no-plots-unfrozen"
    if frozen:
        own_process()  # this process is the command's, as under the console script
    imported = time.perf_counter()
    code = 0
    if mode != "import":
        arguments = ["--workspace", workspace, "--quiet", "run", pipeline]
        arguments += ["--seed", str(seed)] if seed >= 0 else []
        arguments += ["--no-plots"] if mode.startswith("no-plots") else []
        code = lightlane.cli.main(arguments)
    finished = time.perf_counter()
    # Every thread of this process since its start, and its waited-for children (the forked figure drawer).
    cpu_s = sum(usage.ru_utime + usage.ru_stime
                for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    print(json.dumps({"code": code, "import_s": imported - start, "run_s": finished - imported,
                      "cpu_s": cpu_s, "vm_hwm_mb": _vm_hwm_mb()}))
    if frozen:
        gc.freeze()  # and it ends as the console script ends


def _measure_run(workspace: Path, pipeline: str, mode: str, seed: int, code: Path | None = None) -> dict[str, float]:
    """One run child; ``code``: a folder holding another ``lightlane`` package to run instead of this one."""
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "_child_run", str(workspace), pipeline, mode, str(seed)],
                            capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"run child failed ({result.returncode}):\n{result.stderr}")
    row = json.loads(result.stdout.strip().splitlines()[-1])
    if row["code"] != 0:
        raise SystemExit(f"lightlane run failed with exit code {row['code']}:\n{result.stderr}")
    return {**row, "wall_s": wall}


def _bench_workspace(scratch: Path, events: int) -> Path:
    """The temporary workspace of ``bench run``: one onboarded evt2 file, the pipeline and 2 baseline runs."""
    from lightlane.events.examples import ExampleObservation, write_chandra_like
    from lightlane.metadata import DatasetMeta
    from lightlane.store.workspace import Workspace

    workspace = scratch / "workspace"
    start = time.perf_counter()
    _cli(workspace, "init")
    path = write_chandra_like(scratch / "acisf12345_evt2.fits", ExampleObservation(
        n_events=events, duration_s=100_000.0, gap_s=(40_000.0, 45_000.0), obs_id="12345"))
    _cli(workspace, "onboard", str(path), "--id", RUN_SOURCE)
    _cli(workspace, "pipeline", "create", RUN_PIPELINE, "--processing", "default", "--source-dataset",
         RUN_SOURCE, "--a-tasks", "select,flatten", "--b-tasks", "poissonize", "--b-input", "a")
    meta = Workspace.at(workspace).load(DatasetMeta, RUN_SOURCE)
    print(f"workspace: {events:,} rows written, {meta.event_count:,} events onboarded "
          f"({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    _cli(workspace, "baseline", RUN_PIPELINE, "--runs", "2")
    print(f"baseline {RUN_PIPELINE} --runs 2 (untimed setup): {time.perf_counter() - start:.1f} s")
    return workspace


def _time_runs(workspace: Path, pipeline: str, repeat: int, fresh_seeds: bool,
               baseline_code: Path | None = None) -> dict[str, list[dict[str, float]]]:
    """``repeat`` runs with figures and as many with ``--no-plots``, alternating which goes first; with
    ``baseline_code``, as many of each with that code too, in the same rounds ("baseline plots", ...)."""
    modes = [("plots", None), ("no-plots", None)]
    if baseline_code is not None:
        modes += [("baseline plots", baseline_code), ("baseline no-plots", baseline_code)]
    rows: dict[str, list[dict[str, float]]] = {name: [] for name, _ in modes}
    for index in range(repeat):
        order = modes[index % len(modes):] + modes[:index % len(modes)]
        for offset, (name, code) in enumerate(order):
            mode = name.removeprefix("baseline ")
            seed = 1_000 + len(modes) * index + offset if fresh_seeds else -1
            row = _measure_run(workspace, pipeline, mode, seed, code)
            rows[name].append(row)
            print(f"[repeat {index + 1}/{repeat}, {name:>8}{f', seed {seed}' if seed >= 0 else ''}] process wall "
                  f"{row['wall_s']:.2f} s, import {row['import_s']:.2f} s, inside run {row['run_s']:.2f} s, "
                  f"process CPU {row['cpu_s']:.1f} s, peak memory (VmHWM) {row['vm_hwm_mb']:.0f} MiB", flush=True)
    return rows


def bench_run(events: int, repeat: int, workspace: Path | None = None, pipeline: str | None = None,
              baseline_code: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        if workspace is None:
            workspace, pipeline, fresh = _bench_workspace(Path(scratch), events), RUN_PIPELINE, True
        else:
            pipeline, fresh = pipeline or RUN_PIPELINE, False
            print(f"workspace {workspace}, pipeline {pipeline} (its own seed: chunk tables from the cache)")
        idle = [_measure_run(workspace, pipeline, "import", -1) for _ in range(2)]
        load = os.getloadavg()[0]
        rows = _time_runs(workspace, pipeline, repeat, fresh, baseline_code)
        load = (load, os.getloadavg()[0])
    median = {mode: {key: statistics.median(row[key] for row in mode_rows)
                     for key in ("wall_s", "import_s", "run_s", "cpu_s", "vm_hwm_mb")}
              for mode, mode_rows in rows.items()}
    idle_wall = statistics.median(row["wall_s"] for row in idle)
    idle_hwm = max(row["vm_hwm_mb"] for row in idle)
    idle_import = statistics.median(row["import_s"] for row in idle)
    print(f"import-only process: wall {idle_wall:.2f} s, import {idle_import:.2f} s, VmHWM {idle_hwm:.0f} MiB")
    print(f"1-min load average {load[0]:.1f} before, {load[1]:.1f} after the timed runs ({os.cpu_count()} CPUs; "
          f"other processes inflate wall times, process CPU less so)")
    plots, bare = median["plots"], median["no-plots"]
    ratio = plots["wall_s"] / bare["wall_s"]
    print(f"lightlane run {pipeline} with every figure vs --no-plots (medians of {repeat}): process wall "
          f"{plots['wall_s']:.2f} s vs {bare['wall_s']:.2f} s = {ratio:.2f}x ({ratio / FIGURES_TARGET_RATIO:.2f}x the "
          f"{FIGURES_TARGET_RATIO}x target); inside run {plots['run_s']:.2f} s vs {bare['run_s']:.2f} s = "
          f"{plots['run_s'] / bare['run_s']:.2f}x; process CPU {plots['cpu_s']:.1f} s vs {bare['cpu_s']:.1f} s = "
          f"{plots['cpu_s'] / bare['cpu_s']:.2f}x")
    rounds = _round_ratios(rows["plots"], rows["no-plots"])
    print(f"per round (the two runs timed in one round, the machine's speed drifting less within a round than "
          f"between rounds): median ratio {rounds[0]:.2f}x, 95 % bootstrap interval {rounds[1]:.2f}–{rounds[2]:.2f}x"
          + ("" if baseline_code is None else "; baseline code {:.2f}x ({:.2f}–{:.2f}x)".format(
              *_round_ratios(rows["baseline plots"], rows["baseline no-plots"]))))
    if baseline_code is not None:
        old_plots, old_bare = median["baseline plots"], median["baseline no-plots"]
        old_ratio = old_plots["wall_s"] / old_bare["wall_s"]
        print(f"the same with the baseline code ({baseline_code}), in the same rounds: process wall "
              f"{old_plots['wall_s']:.2f} s vs {old_bare['wall_s']:.2f} s = {old_ratio:.2f}x; the figures cost "
              f"{plots['wall_s'] - bare['wall_s']:+.2f} s now vs {old_plots['wall_s'] - old_bare['wall_s']:+.2f} s "
              f"(process CPU {plots['cpu_s'] - bare['cpu_s']:+.2f} s vs {old_plots['cpu_s'] - old_bare['cpu_s']:+.2f} s)")
    print(f"lightlane run {pipeline} with figures (median of {repeat}): process wall {plots['wall_s']:.2f} s = "
          f"{plots['wall_s'] / RUN_TARGET_S:.2f}x the 15 s target; inside run {plots['run_s']:.2f} s = "
          f"{plots['run_s'] / RUN_TARGET_S:.2f}x the target (import {plots['import_s']:.2f} s excluded)")
    peak_bytes = max(row["vm_hwm_mb"] for mode_rows in rows.values() for row in mode_rows) * 2**20
    print(f"peak memory (max VmHWM of {sum(map(len, rows.values()))} runs) {peak_bytes / 1e9:.3f} GB ({peak_bytes / 2**20:.0f} MiB) "
          f"= {peak_bytes / RUN_TARGET_BYTES:.2f}x the 1 GB target; median with figures {plots['vm_hwm_mb']:.0f} MiB, "
          f"without {bare['vm_hwm_mb']:.0f} MiB")


def _round_ratios(plots: list[dict], bare: list[dict]) -> tuple[float, float, float]:
    """Median over the rounds of (wall with figures / wall without), with its 95 % bootstrap interval
    (2,000 resamples of the rounds, seeded)."""
    ratios = [with_figures["wall_s"] / without["wall_s"] for with_figures, without in zip(plots, bare)]
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return statistics.median(ratios), medians[49], medians[1949]


def bench_gc(events: int, repeat: int) -> None:
    """``run --no-plots`` as the console script runs it (imports and, at exit, everything kept out of the
    garbage collector) vs as a caller's process would, alternating in the same run."""
    with tempfile.TemporaryDirectory() as scratch:
        workspace = _bench_workspace(Path(scratch), events)
        walls: dict[str, list[float]] = {"no-plots": [], "no-plots-unfrozen": []}
        for index in range(repeat):
            for offset, mode in enumerate(list(walls)[::1 if index % 2 == 0 else -1]):
                walls[mode].append(_measure_run(workspace, RUN_PIPELINE, mode, 2_000 + 2 * index + offset)["wall_s"])
    frozen, unfrozen = (statistics.median(walls[mode]) for mode in ("no-plots", "no-plots-unfrozen"))
    print(f"[gc] lightlane run {RUN_PIPELINE} --no-plots, process wall, medians of {repeat}: {frozen:.2f} s as the "
          f"console script runs it vs {unfrozen:.2f} s without gc.freeze = {frozen / unfrozen:.2f}x "
          f"({unfrozen - frozen:+.2f} s saved)")


# --------------------------------------------------------------------------- bootstrap

#: The rev-1 kernel's resamples (the default bootstrap_resamples, now ignored).
REV1_RESAMPLES = 1000
BOOTSTRAP_TARGET_S = 0.050
BOOTSTRAP_TARGET_RATIO = 50.0


def _bootstrap_inputs():
    """(processing, {metric: (a, b)}): finite metric values of two default-size chunk tables."""
    import numpy as np

    from lightlane.analysis.binning import bin_events, width_set
    from lightlane.analysis.chunks import WidthCounts, chunk_table

    tables = []
    for seed in (1, 2):  # A and B: two independent data sets
        band, processing, times, _, wbin, gti = _binning_inputs(1_000_000, seed)
        binnings = bin_events(times, wbin, band, width_set(processing), 0, 0.0, 100_000.0, gti,
                              processing.min_exposure, processing.chunk_length)
        widths = [WidthCounts(b.width_s, b.origin_s, b.counts, b.valid, b.valid_starts) for b in binnings]
        tables.append(chunk_table(widths, np.unique(wbin), band, processing.chunk_length, processing.chunk_count,
                                  seed))
    values = {}
    for metric in processing.test_metrics:
        a, b = (table[metric].to_numpy() for table in tables)
        values[metric] = (np.ascontiguousarray(a[np.isfinite(a)]), np.ascontiguousarray(b[np.isfinite(b)]))
    return processing, values


def bench_bootstrap(repeat: int) -> None:
    import numpy as np
    from scipy.stats import mannwhitneyu

    from lightlane import _core, stats
    from lightlane.analysis.chunks import METRICS

    start = time.perf_counter()
    processing, values = _bootstrap_inputs()
    alpha = processing.significance_level
    tail = alpha / 2.0
    pairs = list(values.values())
    sizes = ", ".join(f"{metric} {a.size:,}/{b.size:,} ({np.unique(a).size:,}/{np.unique(b).size:,} distinct)"
                      for metric, (a, b) in values.items())
    print(f"chunk tables (untimed): {time.perf_counter() - start:.1f} s; finite values A/B: {sizes}")
    print(f"lightlane._core.thread_count() = {_core.thread_count()}")

    def rev1() -> list[tuple[float, float, float, float]]:
        out = []
        for metric, (a, b) in values.items():
            mean_d, median_d = _core.monte_carlo_bootstrap_differences(a, b, REV1_RESAMPLES, 0, METRICS.index(metric))
            out.append((*np.quantile(mean_d, [tail, 1 - tail]), *np.quantile(median_d, [tail, 1 - tail])))
        return out

    def exact_kernel() -> None:
        _core.exact_bootstrap_quantiles(pairs, [tail, 1.0 - tail])

    def exact() -> list:
        return stats.bootstrap_intervals(pairs, 1.0 - alpha)

    def mann_whitney() -> None:
        for a, b in pairs:
            stats.mann_whitney(a, b)

    def scipy_mann_whitney() -> None:  # the pooled ranking the rev-1 code did, as scipy does it
        for a, b in pairs:
            mannwhitneyu(a, b, method="asymptotic", use_continuity=False, alternative="greater")

    def p1b_p1c() -> None:
        intervals = stats.bootstrap_intervals(pairs, 1.0 - alpha)
        for (a, b), interval in zip(pairs, intervals):
            stats.p1b_p1c(a, b, alpha, interval)

    load = os.getloadavg()[0]
    intervals, rev1_intervals = exact(), rev1()  # warm-up, and the intervals compared below
    totals: dict[str, list[float]] = {"exact": [], "exact_kernel": [], "rev1": [], "p1b_p1c": [], "mann_whitney": [],
                                      "scipy_mann_whitney": []}
    for _ in range(repeat):
        # interleaved so that both kernels see the same machine state
        totals["exact"].append(statistics.median(_timed(exact) for _ in range(5)))
        totals["exact_kernel"].append(statistics.median(_timed(exact_kernel) for _ in range(5)))
        totals["rev1"].append(_timed(rev1))
        totals["p1b_p1c"].append(_timed(p1b_p1c))
        totals["mann_whitney"].append(_timed(mann_whitney))
        totals["scipy_mann_whitney"].append(_timed(scipy_mann_whitney))
    load = (load, os.getloadavg()[0])
    median = {kind: statistics.median(times) for kind, times in totals.items()}
    label = f"P1b + P1c bootstrap, {len(values)} metrics × 2 datasets × ~{pairs[0][0].size:,} values"
    print(f"[{label}] runs: " + "; ".join(
        f"{kind} " + ", ".join(f"{1e3 * t:.1f}" for t in times) + " ms" for kind, times in totals.items()))
    ratio = median["rev1"] / median["exact"]
    print(f"[{label}] exact (stats.bootstrap_intervals, as run calls it): median {1e3 * median['exact']:.1f} ms = "
          f"{median['exact'] / BOOTSTRAP_TARGET_S:.2f}x the 50 ms target; _core.exact_bootstrap_quantiles alone "
          f"{1e3 * median['exact_kernel']:.1f} ms")
    print(f"[{label}] rev-1 Monte-Carlo kernel ({REV1_RESAMPLES} resamples, baseline): median "
          f"{1e3 * median['rev1']:.0f} ms → rev-1/exact {ratio:.0f}x (target ≥ {BOOTSTRAP_TARGET_RATIO:.0f}x)")
    print(f"[{label}] whole P1b/P1c step (exact intervals + Mann–Whitney, information): median "
          f"{1e3 * median['p1b_p1c']:.0f} ms; of it Mann–Whitney {1e3 * median['mann_whitney']:.0f} ms vs "
          f"scipy.stats.mannwhitneyu (pooled ranking, baseline) {1e3 * median['scipy_mann_whitney']:.0f} ms → "
          f"{median['scipy_mann_whitney'] / median['mann_whitney']:.1f}x")
    print("intervals at level 1 − α (exact vs rev-1 Monte Carlo, seed 0):")
    for metric, interval, old in zip(values, intervals, rev1_intervals):
        print(f"  {metric:5s} Δ_mean [{interval.mean_low:.6g}, {interval.mean_high:.6g}] vs [{old[0]:.6g}, "
              f"{old[1]:.6g}];  Δ_med [{interval.median_low:.6g}, {interval.median_high:.6g}] vs "
              f"[{old[2]:.6g}, {old[3]:.6g}]")
    print(f"peak memory of this process (VmHWM): {_vm_hwm_mb():.0f} MiB; 1-min load average {load[0]:.1f} before, "
          f"{load[1]:.1f} after ({os.cpu_count()} CPUs)")


P3_TARGET_S = 0.5


def _p3_inputs(events: int):
    """(band, gti, {"A": (time, wbin), "B": (time, wbin)}): A carries a slope-2 signal, B none."""
    import numpy as np

    from lightlane.metadata import Band

    band, span = Band(0.1, 1.0, 100), 24_000.0
    gti = np.array([[0.0, 11_000.0], [11_500.0, span]])
    frequency = 0.01 * np.exp(2.0 * band.centres_nm())
    rng = np.random.default_rng(3)
    datasets = {}
    for name, fraction in (("A", 0.1), ("B", 0.0)):
        wbin = rng.integers(0, band.bins, events).astype(np.uint16)
        time = rng.uniform(0.0, span - 500.0, events)
        time[time >= 11_000.0] += 500.0  # into the GTIs
        # the signal: a share of the events moved to the crests of their bin's modulation
        moved = rng.uniform(size=events) < fraction
        period = 1.0 / frequency[wbin[moved]]
        crest = np.floor(time[moved] / period) * period + rng.normal(0.0, 0.1, moved.sum()) * period
        inside = ((crest >= 0.0) & (crest < 11_000.0)) | ((crest >= 11_500.0) & (crest < span))
        time[np.flatnonzero(moved)[inside]] = crest[inside]
        order = np.argsort(time, kind="stable")
        datasets[name] = (np.ascontiguousarray(time[order]), np.ascontiguousarray(wbin[order]))
    return band, gti, datasets


def bench_p3(events: int, repeat: int) -> None:
    import numpy as np

    from lightlane import _core, analysis

    start = time.perf_counter()
    band, gti, datasets = _p3_inputs(events)
    print(f"inputs (untimed): {time.perf_counter() - start:.1f} s; lightlane._core.thread_count() = "
          f"{_core.thread_count()}")
    spec: _core.P3Spec = {
        "n_wbins": band.bins, "centres_nm": band.centres_nm(), "gti_start_s": np.ascontiguousarray(gti[:, 0]),
        "gti_stop_s": np.ascontiguousarray(gti[:, 1]), "dt_s": 1.0, "log_bins": 512, "slope_min": -1.0,
        "slope_max": 4.0, "slope_count": 251,
    }

    def run() -> dict:
        return {name: analysis.p3_statistic(t, w, band, gti, 1.0) for name, (t, w) in datasets.items()}

    def kernel() -> None:
        for t, w in datasets.values():
            _core.p3_statistic(t, w, spec)

    results = run()  # warm-up
    load = os.getloadavg()[0]
    totals: dict[str, list[float]] = {"p3": [], "kernel": []}
    for _ in range(repeat):
        totals["p3"].append(_timed(run))
        totals["kernel"].append(_timed(kernel))
    load = (load, os.getloadavg()[0])
    median = {kind: statistics.median(times) for kind, times in totals.items()}
    total = sum(t.size for t, _ in datasets.values())
    label = f"P3, {len(datasets)} datasets × {events:,} events ({total:,}), 24 ks at dt = 1 s, {band.bins} bins"
    print(f"[{label}] runs: " + "; ".join(
        f"{kind} " + ", ".join(f"{1e3 * t:.0f}" for t in times) + " ms" for kind, times in totals.items()))
    verdict = "meets" if median["p3"] <= P3_TARGET_S else "MISSES"
    print(f"[{label}] analysis.p3_statistic on both: median {median['p3']:.3f} s = "
          f"{median['p3'] / P3_TARGET_S:.2f}x the {P3_TARGET_S} s target ({verdict} it); _core.p3_statistic alone "
          f"{median['kernel']:.3f} s")
    for name, result in results.items():
        print(f"  {name}: S_max {result.stat:.3f}, ŝ {result.slope:.2f} /nm, ĉ {result.intercept_ln_hz:.3f} ln Hz "
              f"(signal: slope 2, ln 0.01 = {np.log(0.01):.3f}); image {result.image.shape}, "
              f"N = {result.n_time_bins}")
    print(f"peak memory of this process (VmHWM): {_vm_hwm_mb():.0f} MiB; 1-min load average {load[0]:.1f} before, "
          f"{load[1]:.1f} after ({os.cpu_count()} CPUs)")


def bench_search(trials: int) -> None:
    """Search trials per minute at the quickstart size, ``--jobs 1`` then ``--jobs 2`` (same run)."""
    from lightlane import Workspace
    from lightlane.demo import DEMO_LANE, DEMO_PROCESSING, build_demo
    from lightlane.scale import Execution
    from lightlane.search.study import open_study, run_study

    with tempfile.TemporaryDirectory(prefix="lightlane-bench-search-") as folder:
        workspace = Workspace.at(Path(folder) / "ws")
        workspace.init()
        build_demo(workspace)

        def study(name: str):
            return open_study(workspace, name, target=DEMO_LANE, processing=DEMO_PROCESSING, generation="sparse",
                              seed=1)

        start = time.perf_counter()
        run_study(workspace, study("warm"), "search", 1, Execution(1))  # the target's chunk table, cached
        print(f"[search] warm-up trial (incl. the target analysis): {time.perf_counter() - start:.2f} s")
        load = os.getloadavg()[0]
        rates = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            run_study(workspace, study(f"jobs{jobs}"), "search", trials, Execution(jobs))
            elapsed = time.perf_counter() - start
            rates[jobs] = 60.0 * trials / elapsed
            print(f"[search] --jobs {jobs}: {trials} trials in {elapsed:.2f} s (incl. cluster start-up) → "
                  f"{rates[jobs]:.1f} trials/min")
        print(f"[search] --jobs 2 / --jobs 1: {rates[2] / rates[1]:.2f}x; target {DEMO_LANE}, processing "
              f"{DEMO_PROCESSING}, template sparse; 1-min load {load:.1f} before ({os.cpu_count()} CPUs)")


def _child_video(workspace: str, frames: int, size: str, mode: str) -> None:
    """Render ``frames`` frames of demo_lane (mode ``encode`` or ``render``); print {seconds, vm_hwm_mb, ...}."""
    import numpy as np

    from lightlane import Workspace
    from lightlane.report.video import FrameRenderer, VideoOptions, parse_size, plan_video, render_video

    options = VideoOptions(fps=24.0, duration_s=frames / 24.0, span_s=(0.0, 100.0), size_px=parse_size(size), seed=1)
    plan = plan_video(Workspace.at(workspace), "demo_lane", "quick", options=options)
    loaded_mb = _vm_hwm_mb()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on: rendering (and streaming) only
    start = time.perf_counter()
    if mode == "encode":
        with tempfile.TemporaryDirectory(prefix="lightlane-bench-video-") as folder:
            render_video(plan, Path(folder) / "bench.mp4")
    else:
        renderer = FrameRenderer(plan)
        checksum = 0
        for t in plan.frame_times():
            checksum += int(np.ascontiguousarray(renderer.frame(t))[::97, ::89].sum())
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "frames": plan.options.frame_count, "vm_hwm_mb": _vm_hwm_mb(),
                      "loaded_vm_hwm_mb": loaded_mb}))


def _measure_video(workspace: Path, frames: int, size: str, mode: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, "_child_video", str(workspace), str(frames), size, mode],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_video(frames: int, memory_frames: list[int], memory_size: str) -> None:
    """Video frames/s at 1280×720 (encode vs render-only baseline) and peak memory vs frame count."""
    from lightlane import Workspace
    from lightlane.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="lightlane-bench-video-") as folder:
        workspace = Workspace.at(Path(folder) / "ws")
        workspace.init()
        build_demo(workspace)
        load = os.getloadavg()[0]
        speed = {mode: _measure_video(workspace.root, frames, "1280x720", mode) for mode in ("render", "encode")}
        fps = {mode: r["frames"] / r["seconds"] for mode, r in speed.items()}
        print(f"[video 1280x720] render only (baseline): {frames} frames in {speed['render']['seconds']:.2f} s → "
              f"{fps['render']:.1f} frames/s")
        print(f"[video 1280x720] render + libx264 stream: {frames} frames in {speed['encode']['seconds']:.2f} s → "
              f"{fps['encode']:.1f} frames/s = {fps['encode'] / fps['render']:.2f}x the render-only rate")
        peaks = {n: _measure_video(workspace.root, n, memory_size, "encode") for n in memory_frames}
        for n, r in peaks.items():
            print(f"[video {memory_size}] {n} frames: {r['seconds']:.1f} s, peak while rendering (VmHWM, reset after "
                  f"loading) {r['vm_hwm_mb']:.1f} MiB (loading peaked at {r['loaded_vm_hwm_mb']:.1f} MiB)")
        first, last = memory_frames[0], memory_frames[-1]
        print(f"[video {memory_size}] peak difference {last} − {first} frames: "
              f"{peaks[last]['vm_hwm_mb'] - peaks[first]['vm_hwm_mb']:+.1f} MiB (keeping the extra frames would cost "
              f"{(last - first) * _frame_mb(memory_size):.0f} MiB); 1-min load {load:.1f} before ({os.cpu_count()} CPUs)")


def _frame_mb(size: str) -> float:
    width, height = (int(v) for v in size.lower().split("x"))
    return width * height * 3 / 2**20


# --------------------------------------------------------------------------- imports

#: command label → target in seconds above ``python -c pass`` (SPEC §20)
IMPORT_TARGETS_S = {"import lightlane": 0.4, "python -m lightlane --help": 0.5, "lightlane --help": 0.5}
MIN_IMPORT_REPEAT = 7


def _console_script() -> str | None:
    """The ``lightlane`` script of this interpreter's environment (one on PATH may run another installation)."""
    beside = Path(sys.executable).with_name("lightlane")
    return str(beside) if beside.is_file() else None


def _wall_cpu_s(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_imports(repeat: int) -> None:
    """Fresh-process wall time of ``import lightlane`` and ``--help`` against ``python -c pass``."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import lightlane": [sys.executable, "-c", "import lightlane"],
        "python -m lightlane --help": [sys.executable, "-m", "lightlane", "--help"],
    }
    script = _console_script()
    if script is not None:
        commands["lightlane --help"] = [script, "--help"]
    for command in commands.values():  # warm-up: page cache, .pyc files
        _wall_cpu_s(command)
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {label: [] for label in commands}
    cpu: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):  # interleaved round by round so every command sees the same machine state
        for label, command in commands.items():
            wall, used = _wall_cpu_s(command)
            times[label].append(wall)
            cpu[label].append(used)
    load = (load, os.getloadavg()[0])
    median = {label: statistics.median(values) for label, values in times.items()}
    median_cpu = {label: statistics.median(values) for label, values in cpu.items()}
    baseline = median["python -c pass"]
    print(f"[imports] python: {sys.executable}" + (f"; console script: {script}" if script else
                                                    "; no `lightlane` console script beside it"))
    print(f"[imports] python -c pass (baseline): median {baseline * 1e3:.0f} ms, best "
          f"{min(times['python -c pass']) * 1e3:.0f} ms, CPU {median_cpu['python -c pass'] * 1e3:.0f} ms "
          f"({repeat} fresh processes)")
    for label, target in IMPORT_TARGETS_S.items():
        if label not in median:
            continue
        extra = median[label] - baseline
        print(f"[imports] {label}: median {median[label] * 1e3:.0f} ms, best {min(times[label]) * 1e3:.0f} ms, "
              f"CPU {median_cpu[label] * 1e3:.0f} ms; {extra * 1e3:+.0f} ms over the baseline = "
              f"{median[label] / baseline:.2f}x its time; target ≤ {target * 1e3:.0f} ms over it → "
              f"{extra / target:.2f}x the target")
    print(f"[imports] 1-min load average {load[0]:.1f} before, {load[1]:.1f} after ({os.cpu_count()} CPUs)")


def bench_png(repeat: int) -> None:
    """PNG encoding of rendered figures: the Rust core vs Pillow (savefig's encoder) on the same pixels."""
    import io

    import numpy as np
    from PIL import Image

    from lightlane import _core
    from lightlane.report.drawing import MetricHistogram, TimescalesPanel, plot_heatmap, plot_metric_histograms
    from lightlane.report.drawing.run import plot_timescales

    rng = np.random.default_rng(7)
    counts = rng.poisson(20.0, size=(400, 100)).astype(float)
    metrics = ["ev", "evs", "fel", "feg", "vea", "vesa", "oec"]
    figures = [
        plot_heatmap(counts, np.ones(400), np.ones(400, dtype=bool), np.linspace(0, 4e4, 401), np.linspace(0.1, 1, 101),
                     title="heatmap · synthetic"),
        plot_metric_histograms([MetricHistogram(m, rng.normal(size=100_000), rng.normal(size=100_000), 2.0)
                                for m in metrics], labels=("A: a", "B: b"), title="metric histograms · synthetic"),
        plot_timescales([TimescalesPanel(m, rng.uniform(0.1, 1, 500), rng.choice([25.0, 50, 100, 200], 500))
                         for m in metrics], title="timescales · synthetic"),
    ]
    pixels = []
    for fig in figures:
        fig.set_dpi(150)
        fig.canvas.draw()
        pixels.append(np.asarray(fig.canvas.buffer_rgba()).copy())
    megapixels = sum(p.shape[0] * p.shape[1] for p in pixels) / 1e6
    encoders = {
        "lightlane core (zlib 1, adaptive filters)": lambda rgba: _core.encode_png(rgba, 150.0),
        "Pillow, savefig's default (zlib 6)": lambda rgba: _pillow_png(Image, io, rgba, 6),
        "Pillow, zlib 3": lambda rgba: _pillow_png(Image, io, rgba, 3),
    }
    times: dict[str, list[float]] = {name: [] for name in encoders}
    sizes: dict[str, int] = {}
    for _ in range(repeat):
        for name, encode in encoders.items():
            start = time.perf_counter()
            files = [encode(rgba) for rgba in pixels]
            times[name].append(time.perf_counter() - start)
            sizes[name] = sum(len(f) for f in files)
    for name, encode in encoders.items():  # every encoder keeps the pixels
        for rgba in pixels:
            if not np.array_equal(np.asarray(Image.open(io.BytesIO(encode(rgba)))), rgba):
                raise SystemExit(f"{name}: the decoded PNG differs from the rendered pixels")
    median = {name: float(np.median(values)) for name, values in times.items()}
    core = "lightlane core (zlib 1, adaptive filters)"
    print(f"[png] 3 figures, {megapixels:.1f} megapixels at 150 dpi; medians of {repeat}; pixels identical after "
          f"decoding for every encoder")
    for name in encoders:
        print(f"[png] {name}: {median[name] * 1e3:.0f} ms, {sizes[name] / 1e6:.2f} MB; "
              f"{median[name] / median[core]:.1f}x the core's time, {sizes[name] / sizes[core]:.2f}x its size")


#: ``bench drawing`` variants: (text hinting, texts laid out once by the house canvas or by matplotlib).
DRAWING_VARIANTS = {"lightlane (unhinted, each text laid out once)": ("house", "once"),
                    "matplotlib's text (laid out at each use, drawn glyph by glyph)": ("house", "matplotlib"),
                    "hinted text (matplotlib's default hinting)": ("default", "once")}


def _drawing_jobs(path: Path, events: int) -> None:
    """Pickle to ``path`` the figure jobs of one run on two ``events``-row Chandra-like datasets."""
    import pickle

    from lightlane.analysis.dataset_analysis import analyze_events
    from lightlane.events.examples import ExampleObservation, write_chandra_like
    from lightlane.events.reading import read_events
    from lightlane.metadata import ProcessingParameters
    from lightlane.pipelines.results import result_rows
    from lightlane.report.run_figures import run_figure_jobs

    processing = ProcessingParameters(id="default")  # the default processing: 100 000 chunks, 7 test metrics
    analyses = []
    for seed, name in ((1, "bench_a"), (2, "bench_b")):
        evt2 = write_chandra_like(path.parent / f"{name}.fits", ExampleObservation(
            n_events=events, duration_s=100_000.0, gap_s=(40_000.0, 45_000.0), seed=seed))
        analyses.append(analyze_events(read_events(evt2), processing, 7, dataset_id=name, events_hash=f"{seed:064x}"))
    a, b = analyses
    rows = result_rows("bench-run", processing, a.chunks, b.chunks, {}, n_a=a.n_selected, n_b=b.n_selected)
    path.write_bytes(pickle.dumps(run_figure_jobs(run_id="bench-run", a=a, b=b, rows=rows)))


def _child_drawing(jobs_path: str, hinting: str, text: str) -> None:
    """A drawing worker's life: import, warm up, draw every job; prints its drawing CPU time."""
    import pickle

    from lightlane.report import staging
    from lightlane.report.drawing import canvas, run_jobs

    if hinting == "default":
        staging.TEXT_HINTING = "default"  # matplotlib's own, as before house_text
    if text == "matplotlib":
        canvas.ONE_BITMAP_TEXT = False  # matplotlib measures and draws every text
    state = run_jobs.warm_up()
    jobs = pickle.loads(Path(jobs_path).read_bytes())
    start = time.process_time()
    for job in jobs:
        staging.write_png(run_jobs.DRAWERS[job.kind](job.inputs, state), os.devnull, 150.0)
    print(json.dumps({"cpu_s": time.process_time() - start, "figures": len(jobs)}))


def bench_drawing(events: int, repeat: int) -> None:
    """CPU time of drawing one run's figures in a fresh warmed-up worker, with lightlane's text (unhinted,
    each laid out once), matplotlib's own and hinted text, in turns in the same run."""
    with tempfile.TemporaryDirectory() as scratch:
        jobs_path = Path(scratch) / "jobs.pickle"
        _drawing_jobs(jobs_path, events)
        cpu: dict[str, list[float]] = {name: [] for name in DRAWING_VARIANTS}
        for index in range(repeat):
            names = list(DRAWING_VARIANTS)
            for name in names[index % len(names):] + names[:index % len(names)]:
                done = subprocess.run([sys.executable, __file__, "_child_drawing", str(jobs_path), *DRAWING_VARIANTS[name]],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"drawing child failed:\n{done.stderr}")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                cpu[name].append(row["cpu_s"])
    median = {name: statistics.median(values) for name, values in cpu.items()}
    ours = cpu[next(iter(DRAWING_VARIANTS))]
    print(f"[drawing] {row['figures']} figures of one run on 2 × {events:,} events at 150 dpi, each variant in "
          f"{repeat} fresh warmed-up processes, in turns; medians of drawing CPU time, and of its ratio to "
          f"lightlane's in the same turn (the machine's speed drifts between turns)")
    for name in DRAWING_VARIANTS:
        paired = statistics.median(value / base for value, base in zip(cpu[name], ours))
        print(f"[drawing] {name}: {median[name]:.2f} CPU-s, {paired:.2f}x lightlane's")


def _pillow_png(image_module, io_module, rgba, level: int) -> bytes:
    out = io_module.BytesIO()
    image_module.fromarray(rgba).save(out, format="png", compress_level=level)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        _child(argv[1], argv[2])
        return 0
    if argv[:1] == ["_child_memory"]:
        _child_memory(argv[1])
        return 0
    if argv[:1] == ["_child_simulate"]:
        _child_simulate(argv[1], int(argv[2]))
        return 0
    if argv[:1] == ["_child_drawing"]:
        _child_drawing(argv[1], argv[2], argv[3])
        return 0
    if argv[:1] == ["_child_run"]:
        _child_run(argv[1], argv[2], argv[3], int(argv[4]))
        return 0
    if argv[:1] == ["_child_video"]:
        _child_video(argv[1], int(argv[2]), argv[3], argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", required=True)
    ingest = sub.add_parser("ingest", help="read_events vs astropy on a Chandra-like evt2 file")
    ingest.add_argument("--events", type=int, default=10_000_000)
    ingest.add_argument("--repeat", type=int, default=3)
    simulate = sub.add_parser("simulate", help="lightlane.lanesheet.simulate vs a numpy inverse-CDF event simulation")
    simulate.add_argument("--repeat", type=int, default=3)
    binning = sub.add_parser("binning", help="counts matrices with exposure vs numpy.histogram2d over the same widths")
    binning.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    binning.add_argument("--repeat", type=int, default=3)
    chunks = sub.add_parser("chunks", help="100 000 chunks with every metric vs a vectorised numpy reference")
    chunks.add_argument("--repeat", type=int, default=5)
    memory = sub.add_parser("memory", help="peak memory of reading, selecting and binning a big file")
    memory.add_argument("--events", type=int, default=100_000_000)
    run = sub.add_parser("run", help="`lightlane run` with every figure and with --no-plots, each in a fresh process: "
                                      "times, their ratio and peak memory")
    run.add_argument("--events", type=int, default=1_200_000)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--workspace", type=Path, default=None,
                     help="time an existing workspace's pipeline instead of building one (e.g. a quickstart's)")
    run.add_argument("--pipeline", default=None, help=f"the pipeline to run (default {RUN_PIPELINE})")
    run.add_argument("--baseline-code", type=Path, default=None,
                     help="a folder holding another lightlane package (an older checkout's python/, its _core "
                          "built or copied in) to time in the same rounds")
    bootstrap = sub.add_parser("bootstrap", help="exact P1b/P1c bootstrap, 7 metrics × 2 datasets, vs the rev-1 kernel")
    bootstrap.add_argument("--repeat", type=int, default=3)
    p3 = sub.add_parser("p3", help="P3 on a synthetic 1.1 M-event run (both datasets), target ≤ 0.5 s")
    p3.add_argument("--events", type=int, default=550_000, help="events per dataset")
    p3.add_argument("--repeat", type=int, default=7)
    baseline = sub.add_parser("baseline", help="one baseline run vs reading + binning + chunking its A and B")
    baseline.add_argument("--runs", type=int, default=20)
    baseline.add_argument("--repeat", type=int, default=3)
    search = sub.add_parser("search", help="search trials per minute at the quickstart size, --jobs 1 and 2")
    search.add_argument("--trials", type=int, default=12)
    video = sub.add_parser("video", help="video frames/s at 1280x720 (vs render only) and peak memory vs frames")
    video.add_argument("--frames", type=int, default=240)
    video.add_argument("--memory-frames", type=int, nargs="+", default=[240, 2400])
    video.add_argument("--memory-size", default="640x360")
    imports = sub.add_parser("imports", help="`import lightlane` and `lightlane --help` vs `python -c pass`")
    imports.add_argument("--repeat", type=int, default=11,
                         help=f"fresh processes per command (≥ {MIN_IMPORT_REPEAT})")
    png = sub.add_parser("png", help="PNG encoding of rendered figures: the Rust core vs Pillow (savefig's encoder)")
    png.add_argument("--repeat", type=int, default=7)
    gc_parser = sub.add_parser("gc", help="run --no-plots with the console script's gc.freeze vs without")
    gc_parser.add_argument("--events", type=int, default=1_200_000)
    gc_parser.add_argument("--repeat", type=int, default=9)
    drawing = sub.add_parser("drawing", help="drawing one run's figures: lightlane's text vs matplotlib's vs hinted")
    drawing.add_argument("--events", type=int, default=600_000)
    drawing.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args(argv)
    if options.bench == "ingest":
        bench_ingest(options.events, options.repeat)
    elif options.bench == "simulate":
        bench_simulate(options.repeat)
    elif options.bench == "binning":
        bench_binning(options.events, options.repeat)
    elif options.bench == "chunks":
        bench_chunks(options.repeat)
    elif options.bench == "memory":
        bench_memory(options.events)
    elif options.bench == "run":
        code = options.baseline_code
        if code is not None and not (code / "lightlane" / "__init__.py").is_file():
            parser.error(f"--baseline-code {code}: no lightlane package there (give the python/ folder of a checkout)")
        if code is not None and not any((code / "lightlane").glob("_core*")):
            parser.error(f"--baseline-code {code}: lightlane/_core is missing (build it, or copy this checkout's)")
        bench_run(options.events, options.repeat, options.workspace, options.pipeline, code)
    elif options.bench == "bootstrap":
        bench_bootstrap(options.repeat)
    elif options.bench == "p3":
        bench_p3(options.events, options.repeat)
    elif options.bench == "baseline":
        from baseline_cost import bench_baseline  # benches/ is the script's folder, first on sys.path

        bench_baseline(options.runs, options.repeat)
    elif options.bench == "search":
        bench_search(options.trials)
    elif options.bench == "video":
        bench_video(options.frames, options.memory_frames, options.memory_size)
    elif options.bench == "imports":
        if options.repeat < MIN_IMPORT_REPEAT:
            parser.error(f"imports: --repeat must be ≥ {MIN_IMPORT_REPEAT}")
        bench_imports(options.repeat)
    elif options.bench == "png":
        bench_png(options.repeat)
    elif options.bench == "gc":
        bench_gc(options.events, options.repeat)
    elif options.bench == "drawing":
        bench_drawing(options.events, options.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
