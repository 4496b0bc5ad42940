"""Tasks (SPEC §8; §21 properties 2 and 15).

Inputs are small synthetic event tables built with a fixed numpy generator (test data
only; the package itself never uses numpy's RNG). Statistical checks use fixed seeds and
tolerances derived from the expected error, as noted beside each.
"""

from __future__ import annotations

import copy as deepcopy_module
import dataclasses
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from lightlane import DataError, LightlaneWarning, MetadataError, Workspace, _core, read_events
from lightlane.events.selection import select_events, wavelength_bins
from lightlane.metadata import Band, Crop, GenerationParameters, ProcessingParameters, TaskSpec
from lightlane.metadata.values import MAX_SEED
from lightlane.pipelines import tasks as T

HC = 1.239841984  # keV·nm (SPEC §1)
P_MIN = 1e-3  # KS / χ² p-value bound
GTIS = np.array([[100.0, 400.0], [500.0, 1000.0], [1200.0, 1300.0]])
BAND = Band(0.1, 1.0, 10)
PROCESSING = ProcessingParameters(id="task-test", band=BAND)
WIDTHS = np.array([20.0, 35.0, 50.0, 80.0, 120.0])


def make_frame(n: int, gti: np.ndarray = GTIS, *, seed: int = 1, sort: bool = True) -> pl.DataFrame:
    """Events uniform in the GTIs, peaked wavelengths in [0.05, 1.2] nm, a passthrough column."""
    rng = np.random.default_rng(seed)
    lengths = gti[:, 1] - gti[:, 0]
    which = rng.choice(len(gti), size=n, p=lengths / lengths.sum())
    times = gti[which, 0] + rng.random(n) * lengths[which]
    if sort:
        times = np.sort(times)
    wavelength = np.clip(np.exp(rng.normal(np.log(0.4), 0.5, n)), 0.05, 1.2)
    return pl.DataFrame({
        "time": times,
        "wavelength_nm": wavelength,
        "energy_kev": HC / wavelength,
        "pi": rng.integers(1, 1024, n).astype(np.int64),
        "x": rng.normal(4096.0, 20.0, n),
        "y": rng.normal(4096.0, 20.0, n),
        "status": rng.integers(0, 8, n).astype(np.int32),
    })


def make_set(n: int = 3000, gti: np.ndarray = GTIS, *, seed: int = 1, instrument: str = "ACIS",
             sort: bool = True) -> T.EventList:
    return T.EventList(events=make_frame(n, gti, seed=seed, sort=sort), gti=gti, mission="CHANDRA",
                      instrument=instrument, header={"MJDREF": 50814.0, "OBS_ID": "1"}, mjdref=50814.0,
                      source_id="src")


def context(seed: int = 5, **changes: object) -> T.TaskContext:
    values: dict[str, object] = {"processing": PROCESSING, "seed": seed, "width_set": WIDTHS}
    values.update(changes)
    return T.TaskContext(**values)  # type: ignore[arg-type]


def in_gtis(times: np.ndarray, gti: np.ndarray) -> np.ndarray:
    return ((times[:, None] >= gti[:, 0]) & (times[:, None] < gti[:, 1])).any(axis=1)


def union_cdf(gti: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """CDF of the uniform distribution over a GTI union (independent of the package)."""
    lengths = gti[:, 1] - gti[:, 0]

    def cdf(t: np.ndarray) -> np.ndarray:
        covered = np.clip(np.asarray(t)[:, None] - gti[:, 0], 0.0, lengths).sum(axis=1)
        return covered / lengths.sum()

    return cdf


def sorted_rows(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows of ``columns`` as a lexicographically sorted array (a multiset of tuples)."""
    data = np.column_stack([frame[c].to_numpy().astype(np.float64) for c in columns])
    return data[np.lexsort(data.T[::-1])]


# ---------------------------------------------------------------------------------------------
# chandrashift
# ---------------------------------------------------------------------------------------------


def test_chandrashift_moves_each_time_to_the_next_event() -> None:
    events = make_set(500, sort=False, instrument="HRC-I")
    ordered = events.events.sort("time", maintain_order=True)
    out = T.chandrashift(events)
    assert out.count == events.count - 1
    times = ordered["time"].to_numpy()
    np.testing.assert_array_equal(out.events["time"].to_numpy(), times[1:])
    # every other attribute stays with event i
    for column in ("wavelength_nm", "pi", "x", "status"):
        np.testing.assert_array_equal(out.events[column].to_numpy(), ordered[column].to_numpy()[:-1])
    np.testing.assert_array_equal(out.gti, events.gti)


def test_chandrashift_warns_unless_hrc() -> None:
    with pytest.warns(LightlaneWarning, match="not HRC"):
        T.chandrashift(make_set(10, instrument="ACIS"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.chandrashift(make_set(10, instrument="HRC-S"))


def test_chandrashift_of_no_events_is_empty() -> None:
    events = make_set(10, instrument="HRC-I")
    empty = events.with_events(events.events.head(0))
    assert T.chandrashift(empty).count == 0


# ---------------------------------------------------------------------------------------------
# poissonize
# ---------------------------------------------------------------------------------------------


def test_poissonize_keeps_everything_but_time() -> None:
    events = make_set(20_000)
    out = T.poissonize(events, seed=3)
    assert out.count == events.count
    np.testing.assert_array_equal(np.sort(out.events["wavelength_nm"].to_numpy()),
                                  np.sort(events.events["wavelength_nm"].to_numpy()))
    # whole rows without time are kept: each event keeps its wavelength, channel and position
    others = ["wavelength_nm", "energy_kev", "pi", "x", "y", "status"]
    np.testing.assert_array_equal(sorted_rows(out.events, others), sorted_rows(events.events, others))
    times = out.events["time"].to_numpy()
    assert np.all(np.diff(times) >= 0), "poissonize must re-sort by time"
    assert in_gtis(times, GTIS).all()
    np.testing.assert_array_equal(out.gti, events.gti)
    assert out.events.columns == events.events.columns


def test_poissonize_times_are_uniform_over_the_gti_union() -> None:
    out = T.poissonize(make_set(50_000), seed=11)
    times = out.events["time"].to_numpy()
    assert stats.kstest(times, union_cdf(GTIS)).pvalue > P_MIN
    # length weighting: GTI shares 300/900, 500/900, 100/900 within 5 binomial standard errors
    shares = np.array([np.count_nonzero((times >= a) & (times < b)) for a, b in GTIS]) / len(times)
    expected = (GTIS[:, 1] - GTIS[:, 0]) / (GTIS[:, 1] - GTIS[:, 0]).sum()
    assert np.all(np.abs(shares - expected) < 5 * np.sqrt(expected * (1 - expected) / len(times)))


def test_poissonize_follows_the_stream_contract() -> None:
    # event i takes draw i of stream (key(seed, TASK, 5), TASK, i / 65 536) scaled to the union
    events = make_set(100, gti=np.array([[10.0, 30.0]]))
    sub = _core.key(7, 3, [5])
    expected = np.sort(10.0 + _core.uniforms(sub, 3, [0], 100) * 20.0)
    np.testing.assert_array_equal(T.poissonize(events, seed=7).events["time"].to_numpy(), expected)


# ---------------------------------------------------------------------------------------------
# lcpreserve
# ---------------------------------------------------------------------------------------------


def window_index(times: np.ndarray, tstart: float, window: float) -> np.ndarray:
    return np.floor((times - tstart) / window).astype(np.int64)


def test_lcpreserve_keeps_times_and_window_spectra() -> None:
    events = make_set(8000, sort=False)
    window = 45.0
    out = T.lcpreserve(events, window, seed=2)
    ordered = events.events.sort("time", maintain_order=True)
    # the time multiset is kept exactly, with positions and passthrough columns attached
    np.testing.assert_array_equal(out.events["time"].to_numpy(), ordered["time"].to_numpy())
    for column in ("x", "y", "status"):
        np.testing.assert_array_equal(out.events[column].to_numpy(), ordered[column].to_numpy())
    k_in = window_index(ordered["time"].to_numpy(), events.tstart_s, window)
    k_out = window_index(out.events["time"].to_numpy(), events.tstart_s, window)
    spectral = ["wavelength_nm", "energy_kev", "pi"]
    for k in np.unique(k_in):
        np.testing.assert_array_equal(sorted_rows(out.events.filter(pl.Series(k_out == k)), spectral),
                                      sorted_rows(ordered.filter(pl.Series(k_in == k)), spectral))
    # wavelength and energy moved together, and something did move
    np.testing.assert_allclose(out.events["energy_kev"].to_numpy() * out.events["wavelength_nm"].to_numpy(), HC)
    moved = out.events["wavelength_nm"].to_numpy() != ordered["wavelength_nm"].to_numpy()
    assert moved.mean() > 0.9


def test_lcpreserve_moves_the_generation_bin_with_the_wavelength() -> None:
    frame = make_frame(2000)
    frame = frame.with_columns(pl.Series("bin", wavelength_bins(frame["wavelength_nm"].to_numpy(), BAND)
                                         .clip(0).astype(np.uint16)),
                               pl.Series("lanecount", np.arange(frame.height, dtype=np.int64)))
    events = T.EventList(events=frame, gti=GTIS, coordinates="synthetic")
    out = T.lcpreserve(events, 100.0, seed=4)
    bins = wavelength_bins(out.events["wavelength_nm"].to_numpy(), BAND).clip(0)
    np.testing.assert_array_equal(out.events["bin"].to_numpy(), bins)
    np.testing.assert_array_equal(out.events["lanecount"].to_numpy(), frame["lanecount"].to_numpy())
    assert out.events.schema == frame.schema


def test_lcpreserve_default_window_is_the_median_width() -> None:
    events = make_set(3000)
    by_task = T.apply_task(TaskSpec.of("lcpreserve"), events, context(seed=9))
    direct = T.lcpreserve(events, float(np.median(WIDTHS)), seed=context(seed=9).seed)
    assert by_task.events.equals(direct.events)


# ---------------------------------------------------------------------------------------------
# flatten
# ---------------------------------------------------------------------------------------------


def test_flatten_equalises_band_bin_counts() -> None:
    events = make_set(20_000)
    before = np.bincount(wavelength_bins(events.events["wavelength_nm"].to_numpy(), BAND).clip(-1) + 1,
                         minlength=BAND.bins + 1)[1:]
    out = T.flatten(events, BAND, seed=1)
    bins = wavelength_bins(out.events["wavelength_nm"].to_numpy(), BAND)
    assert np.all(bins >= 0), "events outside the band must be dropped"
    counts = np.bincount(bins, minlength=BAND.bins)
    assert np.all(counts == before.min())
    # a subset of the input rows, in input order
    assert np.all(np.diff(out.events["time"].to_numpy()) >= 0)
    assert set(out.events["x"].to_list()) <= set(events.events["x"].to_list())


def test_flatten_keeps_every_event_of_the_smallest_bin() -> None:
    events = make_set(5000)
    out = T.flatten(events, BAND, seed=1)
    bins_in = wavelength_bins(events.events["wavelength_nm"].to_numpy(), BAND)
    smallest = int(np.argmin(np.bincount(bins_in[bins_in >= 0], minlength=BAND.bins)))
    x_in = np.sort(events.events["x"].to_numpy()[bins_in == smallest])
    x_out = np.sort(out.events["x"].to_numpy()[wavelength_bins(out.events["wavelength_nm"].to_numpy(), BAND) == smallest])
    np.testing.assert_array_equal(x_in, x_out)


def test_flatten_names_the_empty_bins() -> None:
    events = make_set(5000)
    wavelength = events.events["wavelength_nm"].to_numpy()
    edges = BAND.edges_nm()
    hole = ((wavelength >= edges[3]) & (wavelength < edges[4])) | (wavelength >= edges[9])
    holed = events.with_events(events.events.filter(pl.Series(~hole)))
    with pytest.raises(DataError, match=r"flatten: 2 wavelength bin\(s\) are empty: 3 \[0\.37, 0\.46\) nm: 0; "
                                        r"9 \[0\.91, 1\] nm: 0"):
        T.flatten(holed, BAND, seed=1)


def test_flatten_min_per_bin() -> None:
    events = make_set(5000)
    counts = np.bincount(wavelength_bins(events.events["wavelength_nm"].to_numpy(), BAND).clip(-1) + 1)[1:]
    n_min = int(counts.min())
    assert T.flatten(events, BAND, seed=1, min_per_bin=n_min).count == n_min * BAND.bins
    with pytest.raises(DataError, match=f"fewer than min_per_bin = {n_min + 1}"):
        T.apply_task(TaskSpec.of("flatten", min_per_bin=n_min + 1), events, context())


# ---------------------------------------------------------------------------------------------
# trange, wrange, select, copy, prunecolumns
# ---------------------------------------------------------------------------------------------


def test_trange_absolute_intersects_gtis() -> None:
    events = make_set(4000)
    out = T.trange(events, 150.0, 1250.0, relative=False)
    np.testing.assert_array_equal(out.gti, [[150.0, 400.0], [500.0, 1000.0], [1200.0, 1250.0]])
    times = events.events["time"].to_numpy()
    expected = times[(times >= 150.0) & (times < 1250.0)]
    np.testing.assert_array_equal(out.events["time"].to_numpy(), expected)
    assert in_gtis(out.events["time"].to_numpy(), out.gti).all()


def test_trange_relative_uses_tstart() -> None:
    events = make_set(4000)
    out = T.apply_task(TaskSpec.of("trange", start_s=350.0, stop_s=850.0), events, context())
    np.testing.assert_array_equal(out.gti, [[500.0, 950.0]])
    times = out.events["time"].to_numpy()
    assert times.min() >= 500.0 and times.max() < 950.0
    assert out.tstart_s == 500.0 and out.tstop_s == 950.0


def test_trange_outside_the_data_is_a_data_error() -> None:
    with pytest.raises(DataError, match="does not overlap"):
        T.trange(make_set(100), 400.0, 480.0, relative=False)


def test_wrange_interval_rule_and_defaults() -> None:
    frame = pl.DataFrame({"time": [100.0, 101.0, 102.0, 103.0, 104.0],
                          "wavelength_nm": [0.0999, 0.1, 0.5, 1.0, 1.0001],
                          "energy_kev": HC / np.array([0.0999, 0.1, 0.5, 1.0, 1.0001])})
    events = T.EventList(events=frame, gti=[[100.0, 200.0]])
    out = T.apply_task(TaskSpec.of("wrange"), events, context())
    assert out.events["wavelength_nm"].to_list() == [0.1, 0.5, 1.0]
    out = T.apply_task(TaskSpec.of("wrange", min_nm=0.2, max_nm=0.5), events, context())
    assert out.events["wavelength_nm"].to_list() == [0.5]


def test_select_applies_crop_and_band() -> None:
    events = make_set(3000)
    processing = dataclasses.replace(PROCESSING, crop=Crop(x_px=4096.0, y_px=4096.0, radius_px=15.0))
    out = T.apply_task(TaskSpec.of("select"), events, context(processing=processing))
    expected = select_events(events.events, processing, "sky").drop("wbin")
    assert out.events.equals(expected)
    assert 0 < out.count < events.count
    # synthetic coordinates ignore the crop
    synthetic = dataclasses.replace(events, coordinates="synthetic")
    assert T.select(synthetic, processing).count == select_events(events.events, PROCESSING).height


def test_copy_and_prunecolumns() -> None:
    events = make_set(300)
    same = T.apply_task(TaskSpec.of("copy"), events, context())
    assert same.events.equals(events.events) and same is not events
    pruned = T.prunecolumns(events)
    assert "status" not in pruned.events.columns
    assert pruned.events.columns == [c for c in events.events.columns if c != "status"]
    assert events.passthrough_columns == ("status",) and pruned.passthrough_columns == ()


# ---------------------------------------------------------------------------------------------
# downsample, tthinning
# ---------------------------------------------------------------------------------------------


def test_downsample_sizes() -> None:
    events = make_set(1001)
    assert T.apply_task(TaskSpec.of("downsample", count=400), events, context()).count == 400
    assert T.apply_task(TaskSpec.of("downsample", fraction=0.5), events, context()).count == 501  # half up
    assert T.downsample(events, 1, count=1001).events.equals(events.events)
    assert T.downsample(events, 1, count=0).count == 0
    out = T.downsample(events, 1, fraction=0.1)
    assert np.all(np.diff(out.events["time"].to_numpy()) >= 0)
    assert np.isin(out.events["x"].to_numpy(), events.events["x"].to_numpy()).all()
    with pytest.raises(DataError, match="cannot keep 1002 of 1001"):
        T.downsample(events, 1, count=1002)
    with pytest.raises(MetadataError, match="exactly one"):
        T.downsample(events, 1)


def thinning_reference(events: T.EventList, width: float, seed: int, min_exposure: float
                       ) -> tuple[np.ndarray, np.ndarray, float, Callable[[np.ndarray], np.ndarray]]:
    """Edges, full-exposure flags and c̄ of the documented binning, computed with numpy."""
    u = _core.uniforms(seed, 3, [2], 1)[0]
    e0 = events.tstart_s - u * width
    n_bins = int(np.floor((events.tstop_s - e0) / width)) + 1
    edges = e0 + np.arange(n_bins + 1) * width
    overlap = np.clip(np.minimum(edges[1:, None], GTIS[:, 1]) - np.maximum(edges[:-1, None], GTIS[:, 0]), 0, None)
    full = overlap.sum(axis=1) / width >= min_exposure

    def counts(frame: pl.DataFrame) -> np.ndarray:
        return np.histogram(frame["time"].to_numpy(), bins=edges)[0]

    mean = counts(events.events)[full].mean()
    return edges, full, float(mean), lambda frame: counts(frame)


def test_tthinning_caps_bins_at_the_rounded_mean() -> None:
    base = make_frame(6000)
    # a flare in 600–700 s makes some bins stand out
    flare = make_frame(3000, np.array([[600.0, 700.0]]), seed=2)
    frame = pl.concat([base, flare]).sort("time", maintain_order=True)
    events = T.EventList(events=frame, gti=GTIS, instrument="ACIS")
    width, seed = 40.0, 12
    out = T.apply_task(TaskSpec.of("tthinning", width_s=width), events, context(seed=seed))
    _, full, mean, counts = thinning_reference(events, width, seed, PROCESSING.min_exposure)
    before, after = counts(events.events), counts(out.events)
    target = math.floor(mean + 0.5)
    assert np.all(after[full] <= target)
    thinned = before > mean
    assert thinned.any() and (~thinned & full).any()
    np.testing.assert_array_equal(after[thinned], target)
    np.testing.assert_array_equal(after[~thinned], before[~thinned])
    assert np.isin(out.events["x"].to_numpy(), frame["x"].to_numpy()).all()


def test_tthinning_default_width_and_no_full_bin() -> None:
    events = make_set(3000)
    by_task = T.apply_task(TaskSpec.of("tthinning"), events, context(seed=3))
    assert by_task.events.equals(T.tthinning(events, float(np.median(WIDTHS)), context(seed=3).seed).events)
    with pytest.raises(DataError, match="no time bin"):
        T.tthinning(events, 5000.0, 1)
    with pytest.raises(MetadataError, match="no width set"):
        T.apply_task(TaskSpec.of("tthinning"), events, context(width_set=()))


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.at(tmp_path / "ws")
    workspace.init()
    return workspace


def test_generate_from_input_spectrum_and_time(ws: Workspace) -> None:
    template = ws.load(GenerationParameters, "isotropic")
    gti = np.array([[1000.0, 2500.0], [3000.0, 4000.0]])
    short = dataclasses.replace(template, time=dataclasses.replace(template.time, tstart_s=1000.0, tstop_s=4000.0,
                                                                   gtis=((1000.0, 2500.0), (3000.0, 4000.0))))
    from lightlane.lanesheet.simulation import simulate

    source = T.EventList(events=simulate(short, PROCESSING, seed=1), gti=gti, coordinates="synthetic", mjdref=123.0)
    ctx = context(seed=2**63 + 17, workspace=ws)
    out = T.apply_task(TaskSpec.of("generate", generation="sparse"), source, ctx)
    assert out.coordinates == "synthetic" and out.mission == "LIGHTLANE" and out.instrument == "LANESHEET"
    np.testing.assert_array_equal(out.gti, gti)
    assert in_gtis(out.events["time"].to_numpy(), gti).all()
    resolved = out.generation
    assert resolved is not None and resolved.seed == ctx.seed & MAX_SEED
    assert resolved.time.gtis == ((1000.0, 2500.0), (3000.0, 4000.0))
    assert resolved.band == BAND and out.mjdref == 123.0
    # the fitted spectrum of an isotropic input is close to the true one
    assert abs(resolved.spectrum.lambda0_nm - template.spectrum.lambda0_nm) < 0.05
    # smeared: the analysis wavelengths are dithered channels, consistent with energy
    np.testing.assert_allclose(out.events["wavelength_nm"].to_numpy() * out.events["energy_kev"].to_numpy(), HC,
                               rtol=1e-14)
    assert out.tasks == (TaskSpec.of("generate", generation="sparse"),)
    again = T.apply_task(TaskSpec.of("generate", generation="sparse"), source, ctx)
    assert again.events.equals(out.events)


def test_generate_from_a_generation_source(ws: Workspace) -> None:
    template = ws.load(GenerationParameters, "sparse")
    short = dataclasses.replace(template, time=dataclasses.replace(template.time, tstop_s=500.0))
    ws.save(dataclasses.replace(short, id="short"))
    out = T.generate(T.EventList.empty(), context(seed=4, workspace=ws, source_generation="short"))
    assert out.generation is not None and out.generation.spectrum == template.spectrum
    np.testing.assert_array_equal(out.gti, [[0.0, 500.0]])
    assert out.count > 0 and out.mjdref is None
    with pytest.raises(DataError, match="spectrum_from 'input'"):
        T.generate(T.EventList.empty(), context(workspace=ws), generation="short", spectrum_from="input")
    with pytest.raises(MetadataError, match="argument 'generation' is required"):
        T.generate(T.EventList.empty(), context(workspace=ws))
    with pytest.raises(MetadataError, match="workspace"):
        T.generate(T.EventList.empty(), context(), generation="short")


# ---------------------------------------------------------------------------------------------
# Purity, seeds, threads
# ---------------------------------------------------------------------------------------------

RANDOM_TASKS = [
    TaskSpec.of("flatten"),
    TaskSpec.of("tthinning", width_s=30.0),
    TaskSpec.of("downsample", fraction=0.3),
    TaskSpec.of("poissonize"),
    TaskSpec.of("lcpreserve", window_s=60.0),
]
ALL_TASKS = [
    TaskSpec.of("copy"), TaskSpec.of("prunecolumns"), TaskSpec.of("trange", start_s=10.0, stop_s=700.0),
    TaskSpec.of("wrange"), TaskSpec.of("select"), TaskSpec.of("chandrashift"), *RANDOM_TASKS,
]


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.name)
def test_tasks_never_mutate_their_input(task: TaskSpec) -> None:
    events = make_set(3000, sort=False, instrument="HRC-I")
    frame_copy = events.events.clone()
    saved = deepcopy_module.deepcopy(events)
    times_view = events.events["time"].to_numpy()
    times_before = times_view.copy()
    out = T.apply_task(task, events, context())
    assert events.events.equals(frame_copy) and events.events.equals(saved.events)
    np.testing.assert_array_equal(events.gti, saved.gti)
    assert events.header == saved.header and events.tasks == () and out.tasks == (task,)
    np.testing.assert_array_equal(times_view, times_before)
    assert not out.gti.flags.writeable


def test_an_event_list_is_accepted_and_left_unchanged(make_events: Callable[..., Path]) -> None:
    times = np.linspace(1.0, 999.0, 400)
    listed = read_events(make_events(times=times), "chandra-acis")
    frame_copy = listed.events.clone()
    gti_copy = listed.gti.copy()
    out = T.apply_task(TaskSpec.of("poissonize"), listed, context())
    assert listed.events.equals(frame_copy)
    np.testing.assert_array_equal(listed.gti, gti_copy)
    assert out.count == listed.events.height and out.mission == "CHANDRA"


@pytest.mark.parametrize("task", RANDOM_TASKS, ids=lambda t: t.name)
def test_same_seed_same_output_other_seed_differs(task: TaskSpec) -> None:
    events = make_set(6000)
    first = T.apply_task(task, events, context(seed=21))
    assert T.apply_task(task, events, context(seed=21)).events.equals(first.events)
    assert not T.apply_task(task, events, context(seed=22)).events.equals(first.events)


@pytest.mark.parametrize("task", RANDOM_TASKS, ids=lambda t: t.name)
def test_tasks_are_identical_for_any_thread_count(task: TaskSpec) -> None:
    # > 65 536 events, so poissonize spans several blocks
    events = make_set(150_000, seed=3)
    outputs = []
    try:
        for threads in (1, 2, 8):
            _core.set_threads(threads)
            outputs.append(T.apply_task(task, events, context(seed=8)).events)
    finally:
        _core.set_threads(None)
    assert outputs[0].equals(outputs[1]) and outputs[0].equals(outputs[2])


def test_chain_seeds_follow_the_pipeline_contract() -> None:
    events = make_set(2000)
    chain = [TaskSpec.of("downsample", fraction=0.5), TaskSpec.of("poissonize")]
    out = T.apply_chain(chain, events, PROCESSING, run_seed=77, side=1, width_set=WIDTHS)
    manual = events
    for position, task in enumerate(chain):
        seed = _core.key(77, 3, [1, position])
        assert T.task_seed(77, 1, position) == seed
        manual = T.apply_task(task, manual, context(seed=seed))
    assert out.events.equals(manual.events) and out.tasks == tuple(chain)
    other_side = T.apply_chain(chain, events, PROCESSING, run_seed=77, side=0, width_set=WIDTHS)
    assert not other_side.events.equals(out.events)


def test_context_rejects_bad_seeds_and_widths() -> None:
    with pytest.raises(MetadataError, match="seed"):
        context(seed=-1)
    with pytest.raises(MetadataError, match="seed"):
        context(seed=2**64)
    with pytest.raises(MetadataError, match="width set"):
        context(width_set=[10.0, -1.0])


# ---------------------------------------------------------------------------------------------
# The Rust operations directly
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "m"), [(30, 9), (30, 21)])
def test_subset_without_replacement_is_uniform(n: int, m: int) -> None:
    seeds = 4000
    counts = np.zeros(n)
    for seed in range(seeds):
        chosen = _core.subset_indices(n, m, seed)
        assert len(np.unique(chosen)) == m and np.all(np.diff(chosen) > 0)
        counts[chosen] += 1
    # inclusion counts: Var c_i = S p(1 − p), Cov = −S p(1 − p)/(n − 1), so
    # Σ (c_i − Sp)² / (S p(1 − p) n/(n − 1)) is χ² with n − 1 degrees of freedom
    p = m / n
    statistic = np.sum((counts - seeds * p) ** 2) / (seeds * p * (1 - p) * n / (n - 1))
    assert stats.chi2.sf(statistic, n - 1) > P_MIN
    assert statistic > stats.chi2.ppf(P_MIN, n - 1)  # not suspiciously regular either


def test_subset_pairs_are_uniform() -> None:
    # every unordered pair of a 6-element set appears equally often in 2-subsets
    n, seeds = 6, 15_000
    pairs = np.zeros((n, n))
    for seed in range(seeds):
        a, b = _core.subset_indices(n, 2, seed)
        pairs[a, b] += 1
    observed = pairs[np.triu_indices(n, 1)]
    assert stats.chisquare(observed).pvalue > P_MIN


def test_rust_operations_reject_bad_input_with_package_errors() -> None:
    with pytest.raises(MetadataError):
        _core.subset_indices(3, 4, 0)
    with pytest.raises(DataError):
        _core.uniform_times_in_gtis(np.array([5.0]), np.array([1.0]), 3, 0)
    with pytest.raises(DataError):
        _core.window_permutation(np.array([2.0, 1.0]), 0.0, 1.0, 0)
    with pytest.raises(MetadataError):
        _core.window_permutation(np.array([1.0]), 0.0, 0.0, 0)
    with pytest.raises(MetadataError):
        _core.grouped_subset(np.array([0, 5], dtype=np.int64), np.array([1], dtype=np.int64), 0)
    with pytest.raises(MetadataError):
        _core.grouped_subset(np.array([0], dtype=np.int64), np.array([-1], dtype=np.int64), 0)


def test_window_permutation_stays_in_windows() -> None:
    times = np.sort(np.random.default_rng(0).uniform(0.0, 1000.0, 5000))
    source = _core.window_permutation(times, 0.0, 70.0, 3)
    np.testing.assert_array_equal(np.sort(source), np.arange(len(times)))
    np.testing.assert_array_equal(window_index(times[source], 0.0, 70.0), window_index(times, 0.0, 70.0))
