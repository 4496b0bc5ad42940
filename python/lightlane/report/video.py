"""Lanesheet videos (SPEC §16): the camera's view of one wavelength bin's lattice
scrolling along the true trajectory, photon flashes, and the running light curve.

Times are MET seconds (``t``) or seconds since the generation's tstart (``τ``);
lattice lengths are lattice units or light-seconds, as in the generation. Frames are
rendered from one Agg figure updated in place and streamed straight into ffmpeg
(H.264, yuv420p): memory does not grow with the number of frames.
"""

from __future__ import annotations

import json
import math
import secrets
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.ticker import MaxNLocator
from tqdm import tqdm

from .. import _core
from ..datasets.registered import read_dataset
from ..events.selection import select_events, wavelength_bins
from ..exceptions import MetadataError, PrerequisiteError
from ..lanesheet.simulation import generation_band, lanecount_trace, lanesheet_bins, path_spec
from ..metadata import DatasetMeta, GenerationParameters, ProcessingParameters
from ..metadata.values import MAX_SEED
from ..store.atomic import atomic_path, write_text
from ..store.workspace import Workspace
from ..version import CODE_VERSION
from .drawing.style import COLOR_A, FONT_SIZE, GRID_ALPHA, GRID_LINESTYLE, TITLE_SIZE, style_axes, title_for

__all__ = ["VideoOptions", "VideoPlan", "VideoResult", "FrameRenderer", "parse_size", "plan_video", "render_video",
           "video_path"]

#: Light-curve bins per span (SPEC §16).
LIGHT_CURVE_BINS = 200
#: Size limits: H.264 level 6.2 tops out at 8K.
MIN_SIZE_PX, MAX_WIDTH_PX, MAX_HEIGHT_PX = 64, 7680, 4320
#: Keeps a window's lattice points in the thousands; beyond this the dots are sub-pixel anyway.
MAX_VIEW = 200.0
# The layout is drawn at _DPI for 1280×720 and scaled with the frame, so text and markers keep
# their proportions at any size.
_DPI = 100
_REFERENCE_WIDTH_PX, _REFERENCE_HEIGHT_PX = 1280, 720
_FLASH_COLOR = "#e66100"
_LANE_COLOR = "#21918c"  # lattice points inside the circle, and N(t): the same quantity
_SHEET_COLOR = "0.6"


@dataclass(frozen=True)
class VideoOptions:
    """Everything that shapes a video besides the dataset and processing.

    Attributes
    ----------
    fps, duration_s
        Frames per second and video length; fps·duration frames (rounded, ≥ 1).
    span_s
        Data span (T0, T1) [MET s]; None = [tstart, tstart + 100 s] (clipped to tstop).
    size_px
        (width, height), both even.
    view
        Width of the shown lattice window in units of g_w.
    style
        ``dots`` or ``discs``.
    flash_s
        How long a photon flashes [video s], fading linearly; 0 shows no flashes.
    seed
        Seed of the flash positions; None draws one from OS entropy (it is recorded).
    """

    fps: float = 24.0
    duration_s: float = 10.0
    span_s: tuple[float, float] | None = None
    size_px: tuple[int, int] = (1280, 720)
    view: float = 12.0
    style: str = "dots"
    flash_s: float = 0.2
    seed: int | None = None

    @property
    def frame_count(self) -> int:
        return max(1, round(self.fps * self.duration_s))

    def validated(self) -> VideoOptions:
        """These options with the seed drawn; raises MetadataError naming the bad option."""
        for name, value in (("--fps", self.fps), ("--duration", self.duration_s)):
            if not (math.isfinite(value) and value > 0):
                raise MetadataError(f"{name}: expected a finite number > 0, got {value!r}")
        if self.fps > 240:
            raise MetadataError(f"--fps: expected at most 240, got {self.fps!r}")
        if self.frame_count > 1_000_000:
            raise MetadataError(f"--fps/--duration: {self.frame_count} frames exceed the limit of 1 000 000")
        if not (math.isfinite(self.view) and 0 < self.view <= MAX_VIEW):
            raise MetadataError(f"--view: expected a number in (0, {MAX_VIEW:g}] (lattice spacings), got {self.view!r}")
        if self.style not in ("dots", "discs"):
            raise MetadataError(f"--style: expected 'dots' or 'discs', got {self.style!r}")
        if not (math.isfinite(self.flash_s) and self.flash_s >= 0):
            raise MetadataError(f"--flash: expected a finite number ≥ 0 (video seconds), got {self.flash_s!r}")
        width, height = self.size_px
        if not (MIN_SIZE_PX <= width <= MAX_WIDTH_PX and MIN_SIZE_PX <= height <= MAX_HEIGHT_PX
                and width % 2 == 0 and height % 2 == 0):
            raise MetadataError(f"--size: expected even width and height in [{MIN_SIZE_PX}, {MAX_WIDTH_PX}] × "
                                f"[{MIN_SIZE_PX}, {MAX_HEIGHT_PX}] pixels, got {width}x{height}")
        if not 4 * height <= 3 * width <= 9 * height:
            raise MetadataError(f"--size: expected a landscape frame with width/height in [4/3, 3] (the square camera "
                                f"panel and the light curve sit side by side), got {width}x{height}")
        seed = self.seed
        if seed is None:
            seed = secrets.randbits(63)
        elif isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
            raise MetadataError(f"--seed: expected integer in [0, 2^63 − 1], got {seed!r}")
        return VideoOptions(self.fps, self.duration_s, self.span_s, (width, height), self.view, self.style,
                            self.flash_s, int(seed))


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` → (1280, 720); MetadataError naming ``--size`` otherwise (parity is checked later)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise MetadataError(f"--size: expected WIDTHxHEIGHT in pixels such as 1280x720, got {text!r}")
    return int(parts[0]), int(parts[1])


def _time_label(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".")


def video_path(workspace: Workspace, dataset: str, processing: str, span_s: tuple[float, float]) -> Path:
    """``results/videos/<dataset>_<processing>_<T0>-<T1>.mp4``."""
    t0, t1 = span_s
    return workspace.root / "results" / "videos" / f"{dataset}_{processing}_{_time_label(t0)}-{_time_label(t1)}.mp4"


@dataclass(frozen=True, eq=False)
class VideoPlan:
    """Everything a video needs, loaded and checked before anything is written.

    Attributes
    ----------
    dataset, processing, generation
        Ids of the inputs.
    options
        Validated options (seed drawn, span resolved).
    bin, wavelength_nm, spacing, mean_lanecount, receiving_radius
        The shown generation bin: index, centre λ_w, g_w, N̄_w and r_e.
    path, tstart_s
        The path (:func:`lightlane.simulate.path_spec`: θ0, θ′, v, x0, y0, D) and the
        generation's tstart [MET s].
    event_time_s, flash_x, flash_y
        Selected photons in the band and span; their flash lattice point (NaN: at the camera).
    trace_time_s, trace_count
        N(t) change points over the span.
    """

    dataset: str
    processing: str
    generation: str
    options: VideoOptions
    bin: int
    wavelength_nm: float
    spacing: float
    mean_lanecount: float
    receiving_radius: float
    path: _core.PathSpec
    tstart_s: float
    event_time_s: np.ndarray
    flash_x: np.ndarray
    flash_y: np.ndarray
    trace_time_s: np.ndarray
    trace_count: np.ndarray

    @property
    def span_s(self) -> tuple[float, float]:
        assert self.options.span_s is not None
        return self.options.span_s

    def frame_times(self) -> Iterator[float]:
        """t_f = T0 + f·(T1 − T0)/frames, one at a time."""
        t0, t1 = self.span_s
        frames = self.options.frame_count
        for f in range(frames):
            yield t0 + f * (t1 - t0) / frames

    def sidecar(self) -> dict[str, object]:
        """The JSON sidecar: inputs, every option and the seed, and the shown bin."""
        options = asdict(self.options)
        options["span_s"] = list(self.span_s)
        options["size_px"] = list(self.options.size_px)
        return {
            "schema": 1, "dataset": self.dataset, "processing": self.processing, "generation": self.generation,
            "options": options, "seed": self.options.seed, "frames": self.options.frame_count,
            "bin": self.bin, "wavelength_nm": self.wavelength_nm, "spacing": self.spacing,
            "mean_lanecount": self.mean_lanecount, "receiving_radius": self.receiving_radius,
            "photons": int(self.event_time_s.size), "codec": "libx264", "pix_fmt": "yuv420p",
            "code_version": CODE_VERSION,
        }


def _shown_bin(generation: GenerationParameters, processing: ProcessingParameters) -> tuple[int, object]:
    band = generation_band(generation, processing)
    centre = 0.5 * (processing.band.min_nm + processing.band.max_nm)
    w = int(wavelength_bins(np.array([centre]), band)[0])
    if w < 0:
        raise MetadataError(f"generation '{generation.id}': its band does not contain {centre:.6g} nm, "
                            f"the centre of processing '{processing.id}''s band")
    bins = lanesheet_bins(generation, band)
    if bins.isotropic[w]:
        raise MetadataError(
            f"generation '{generation.id}' has no lattice at bin {w} ({bins.centre_nm[w]:.4g} nm): N̄ = "
            f"{bins.mean_lanecount[w]:.4g} > n_iso = {generation.n_iso:g}, so its photons are homogeneous Poisson; "
            "a video needs a lanesheet generation (e.g. --generation sparse)"
        )
    return w, bins


def plan_video(workspace: Workspace, dataset: str, processing: str, generation: str | None = None,
               options: VideoOptions = VideoOptions()) -> VideoPlan:
    """Load and check every input of a video; nothing is written.

    Parameters
    ----------
    workspace
        An initialised workspace.
    dataset, processing
        Dataset and processing ids; the photons are the dataset's selected events in the band.
    generation
        Generation id of the lattice; None = the dataset's own generation.
    options
        Frame rate, duration, span, size, view, style, flash and seed.

    Returns
    -------
    VideoPlan

    Raises
    ------
    MetadataError
        Unknown ids, a bad option (the message names it), a span outside the data, or a
        shown bin without a lattice (isotropic).
    PrerequisiteError
        The dataset has no generation and none was given.
    DataError
        The dataset's event file is missing or changed.

    Examples
    --------
    >>> plan = plan_video(workspace, "demo_lane", "quick", options=VideoOptions(seed=1))  # doctest: +SKIP
    """
    options = options.validated()
    meta = workspace.load(DatasetMeta, dataset)
    params = workspace.load(ProcessingParameters, processing)
    generation_id = generation or meta.generation_id
    if generation_id is None:
        raise PrerequisiteError(f"dataset '{dataset}' is not synthetic and has no generation: "
                                "pass --generation G to choose the lattice")
    gen = workspace.load(GenerationParameters, generation_id)
    w, bins = _shown_bin(gen, params)
    lo, hi = max(meta.time.tstart_s, gen.time.tstart_s), min(meta.time.tstop_s, gen.time.tstop_s)
    if not lo < hi:
        raise MetadataError(f"--generation: generation '{gen.id}' spans [{gen.time.tstart_s:g}, {gen.time.tstop_s:g}] s, "
                            f"which does not overlap dataset '{dataset}' [{meta.time.tstart_s:g}, {meta.time.tstop_s:g}] s")
    if options.span_s is None:
        span = (lo, min(hi, lo + 100.0))
    else:
        span = (float(options.span_s[0]), float(options.span_s[1]))
        if not (all(math.isfinite(t) for t in span) and lo <= span[0] < span[1] <= hi):
            raise MetadataError(f"--span: expected T0 < T1 inside the data [{lo:.10g}, {hi:.10g}] s (MET), "
                                f"got {span[0]!r} {span[1]!r}")
    options = VideoOptions(options.fps, options.duration_s, span, options.size_px, options.view, options.style,
                           options.flash_s, options.seed)
    events = select_events(read_dataset(workspace, dataset).events, params, meta.coordinates, source=dataset)
    time = events["time"].to_numpy()
    index = np.flatnonzero((time >= span[0]) & (time <= span[1]))
    spec = path_spec(gen, bins.band)
    radius, spacing = bins.receiving_radius, float(bins.spacing[w])
    tau = np.ascontiguousarray(time[index] - gen.time.tstart_s, dtype=np.float64)
    # the event's index among all selected events keys its stream: independent of the span
    flash_x, flash_y = _core.flash_points(spacing, radius, spec, tau, index.astype(np.uint64), options.seed)
    trace = lanecount_trace(gen, w, span[0], span[1], params)
    return VideoPlan(
        dataset=dataset, processing=processing, generation=gen.id, options=options, bin=w,
        wavelength_nm=float(bins.centre_nm[w]), spacing=spacing, mean_lanecount=float(bins.mean_lanecount[w]),
        receiving_radius=radius, path=spec, tstart_s=gen.time.tstart_s, event_time_s=time[index].astype(np.float64),
        flash_x=flash_x, flash_y=flash_y, trace_time_s=trace["time_s"].to_numpy(),
        trace_count=trace["lanecount"].to_numpy().astype(np.int64),
    )


class FrameRenderer:
    """One Agg figure whose artists are updated in place for each data time.

    ``frame(t)`` returns a view of the canvas as an (height, width, 3) uint8 array,
    valid until the next call: callers stream it, never keep it.
    """

    def __init__(self, plan: VideoPlan) -> None:
        self.plan = plan
        width, height = plan.options.size_px
        self.dpi = _DPI * min(width / _REFERENCE_WIDTH_PX, height / _REFERENCE_HEIGHT_PX)
        self.figure = Figure(figsize=(width / self.dpi, height / self.dpi), dpi=self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        if self.canvas.get_width_height() != (width, height):  # float rounding of inches × dpi
            self.figure.set_size_inches((width + 0.01) / self.dpi, (height + 0.01) / self.dpi)
        t0, t1 = plan.span_s
        self.flash_data_s = plan.options.flash_s * (t1 - t0) / plan.options.duration_s
        self._build_camera_panel(width, height)
        self._build_light_curve_panel(width, height)
        self.figure.suptitle(f"video · {title_for([plan.dataset], plan.processing, None)} · generation {plan.generation}",
                             fontsize=TITLE_SIZE, x=0.02, ha="left")

    # ------------------------------------------------------------------ layout
    def _build_camera_panel(self, width: int, height: int) -> None:
        plan = self.plan
        side = 0.80 * height  # a square panel in pixels
        self.camera = self.figure.add_axes((0.03 * height / width, 0.07, side / width, side / height))
        ax = self.camera
        half = 0.5 * plan.options.view * plan.spacing
        self.half_view = half
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"lanesheet, bin {plan.bin}: λ = {plan.wavelength_nm:.4g} nm, g = {plan.spacing:.4g}, "
                      f"r_e = {plan.receiving_radius:.4g}", fontsize=FONT_SIZE)
        points_per_unit = side / (2 * half) * 72.0 / self.dpi
        if plan.options.style == "dots":
            diameter_pt = max(1.5, 0.14 * plan.spacing * points_per_unit)
            self.sheet = ax.scatter([], [], s=diameter_pt**2, linewidths=0, zorder=2)
            self.dot_size = diameter_pt**2
        else:
            self.sheet = EllipseCollection(
                widths=2 * plan.receiving_radius, heights=2 * plan.receiving_radius, angles=0.0, units="xy",
                offsets=np.zeros((0, 2)), offset_transform=ax.transData, linewidths=0.6, zorder=2,
            )
            ax.add_collection(self.sheet)
        ax.add_patch(Circle((0.0, 0.0), plan.receiving_radius, fill=False, edgecolor=COLOR_A, linewidth=1.6, zorder=4))
        ax.plot([0.0], [0.0], marker="+", color=COLOR_A, markersize=9, zorder=5)
        self.arrow = FancyArrowPatch((0, 0), (1, 0), arrowstyle="-|>", mutation_scale=14, color=COLOR_A,
                                     linewidth=1.4, zorder=5)
        ax.add_patch(self.arrow)
        self.arrow_length = min(1.8 * plan.receiving_radius, 0.8 * half)
        flash_pt = max(8.0, 1.1 * plan.receiving_radius * points_per_unit)
        self.flashes = ax.scatter([], [], s=flash_pt**2, marker="*", linewidths=0, zorder=6)
        self.status = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", ha="left", fontsize=FONT_SIZE,
                              family="monospace", zorder=7,
                              bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0})

    def _build_light_curve_panel(self, width: int, height: int) -> None:
        plan = self.plan
        t0, t1 = plan.span_s
        left = (0.03 * height + 0.80 * height) / width + 0.07
        self.curve = self.figure.add_axes((left, 0.12, 0.91 - left, 0.75))
        ax = self.curve
        style_axes(ax)
        ax.spines["right"].set_visible(True)  # the twin axis of N(t) needs it
        edges = np.linspace(0.0, t1 - t0, LIGHT_CURVE_BINS + 1)
        counts, _ = np.histogram(plan.event_time_s - t0, bins=edges)
        self.edges, self.rates = edges, counts / (edges[1] - edges[0])
        self.stairs = ax.stairs(np.zeros(0), edges[:1], color=COLOR_A, linewidth=1.0, label="photons")
        ax.set_xlim(0.0, t1 - t0)
        ax.set_ylim(0.0, max(1.0, float(self.rates.max(initial=0.0))) * 1.15)
        ax.set_xlabel("time since T0 (s)", fontsize=FONT_SIZE)
        ax.set_ylabel(f"rate (counts s⁻¹, {edges[1] - edges[0]:.3g} s bins)", fontsize=FONT_SIZE)
        self.now = ax.axvline(0.0, color="0.5", linewidth=0.8)
        twin = ax.twinx()
        self.twin = twin
        twin.spines["top"].set_visible(False)
        twin.spines["right"].set_color(_LANE_COLOR)
        twin.tick_params(axis="y", colors=_LANE_COLOR, labelsize=FONT_SIZE)
        twin.set_ylabel("N(t) lanes in the circle", color=_LANE_COLOR, fontsize=FONT_SIZE)
        twin.set_ylim(0.0, max(float(plan.trace_count.max(initial=0)), plan.mean_lanecount) * 1.25 + 1.0)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        twin.axhline(plan.mean_lanecount, color=_LANE_COLOR, linestyle="--", linewidth=0.9, alpha=0.8)
        (self.lanes,) = twin.plot([], [], color=_LANE_COLOR, linewidth=1.4, drawstyle="steps-post")
        ax.grid(True, linestyle=GRID_LINESTYLE, alpha=GRID_ALPHA)

    # ------------------------------------------------------------------ updates
    def frame(self, t: float) -> np.ndarray:
        """Draw data time ``t`` [MET s] and return the RGB pixels (a view, see the class doc)."""
        plan = self.plan
        tau = t - plan.tstart_s
        (px,), (py,) = _core.path_positions(plan.path, plan.receiving_radius, np.array([tau]))
        margin = plan.receiving_radius if plan.options.style == "discs" else 0.0
        qx, qy = _core.lattice_points(plan.spacing, (px, py), self.half_view + margin)
        dx, dy = qx - px, qy - py
        inside = dx * dx + dy * dy < plan.receiving_radius**2
        self.sheet.set_offsets(np.column_stack([dx, dy]))
        if plan.options.style == "dots":
            colors = np.where(inside[:, None], _rgba(_LANE_COLOR, 1.0), _rgba(_SHEET_COLOR, 1.0))
            self.sheet.set_facecolor(colors)
            self.sheet.set_sizes(np.where(inside, 2.2 * self.dot_size, self.dot_size))
        else:
            self.sheet.set_facecolor(np.where(inside[:, None], _rgba(_LANE_COLOR, 0.30), _rgba(_SHEET_COLOR, 0.12)))
            self.sheet.set_edgecolor(np.where(inside[:, None], _rgba(_LANE_COLOR, 0.9), _rgba(_SHEET_COLOR, 0.5)))
        heading = plan.path["theta0_rad"] + plan.path["theta_rate_rad_per_s"] * tau
        self.arrow.set_positions((0.0, 0.0), (self.arrow_length * math.cos(heading), self.arrow_length * math.sin(heading)))
        self._update_flashes(t, px, py)
        n_now = self._update_curves(t)
        self.status.set_text(f"t − T0 = {t - plan.span_s[0]:8.2f} s\nN = {n_now:d}   N̄ = {plan.mean_lanecount:.3g}")
        self.canvas.draw()
        pixels = np.asarray(self.canvas.buffer_rgba())[:, :, :3]
        if pixels.shape[:2] != (plan.options.size_px[1], plan.options.size_px[0]):
            raise RuntimeError(f"rendered {pixels.shape[1]}x{pixels.shape[0]}, expected {plan.options.size_px}")  # a bug
        return pixels

    def _update_flashes(self, t: float, px: float, py: float) -> None:
        plan = self.plan
        if self.flash_data_s <= 0:
            self.flashes.set_offsets(np.zeros((0, 2)))
            return
        times = plan.event_time_s
        lo, hi = np.searchsorted(times, [t - self.flash_data_s, t], side="right")
        age = (t - times[lo:hi]) / self.flash_data_s
        fx, fy = plan.flash_x[lo:hi] - px, plan.flash_y[lo:hi] - py
        at_camera = ~np.isfinite(fx)
        fx[at_camera], fy[at_camera] = 0.0, 0.0
        self.flashes.set_offsets(np.column_stack([fx, fy]))
        colors = np.tile(_rgba(_FLASH_COLOR, 1.0), (hi - lo, 1))
        colors[:, 3] = np.clip(1.0 - age, 0.0, 1.0)
        self.flashes.set_facecolor(colors)

    def _update_curves(self, t: float) -> int:
        plan = self.plan
        elapsed = t - plan.span_s[0]
        done = min(LIGHT_CURVE_BINS, int(np.searchsorted(self.edges, elapsed * (1 + 1e-12), side="right")) - 1)
        self.stairs.set_data(self.rates[:done], self.edges[:done + 1])
        self.now.set_xdata([elapsed, elapsed])
        i = int(np.searchsorted(plan.trace_time_s, t, side="right"))
        n_now = int(plan.trace_count[max(i - 1, 0)])
        x = np.append(plan.trace_time_s[:i], t) - plan.span_s[0]
        self.lanes.set_data(x, np.append(plan.trace_count[:i], n_now))
        return n_now


def _rgba(color: str, alpha: float) -> np.ndarray:
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(color, alpha))


@dataclass(frozen=True)
class VideoResult:
    """What :func:`render_video` wrote."""

    path: Path
    sidecar: Path
    frames: int
    seed: int


def render_video(plan: VideoPlan, output: str | Path, *, progress: bool = False) -> VideoResult:
    """Render every frame of ``plan`` and stream it into an H.264 mp4 (plus ``<name>.json``).

    Parameters
    ----------
    plan
        From :func:`plan_video`.
    output
        Target ``.mp4``; written under a temporary name and renamed when complete, then
        the JSON sidecar (options, seed, shown bin) next to it.
    progress
        Show a progress bar over frames (stderr, TTY only).

    Returns
    -------
    VideoResult

    Examples
    --------
    >>> render_video(plan_video(ws, "demo_lane", "quick"), "lane.mp4")  # doctest: +SKIP
    """
    import imageio_ffmpeg

    output = Path(output)
    width, height = plan.options.size_px
    renderer = FrameRenderer(plan)
    frames = plan.options.frame_count
    with atomic_path(output) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (width, height), fps=Fraction(plan.options.fps).limit_denominator(1001), codec="libx264",
            pix_fmt_in="rgb24", pix_fmt_out="yuv420p", macro_block_size=2, quality=7, ffmpeg_log_level="error",
            output_params=["-f", "mp4", "-movflags", "+faststart"],
        )
        writer.send(None)
        try:
            bar = tqdm(total=frames, unit="frame", desc=f"video {plan.dataset}", file=sys.stderr,
                       disable=not (progress and sys.stderr.isatty()))
            with bar:
                for t in plan.frame_times():
                    writer.send(np.ascontiguousarray(renderer.frame(t)))
                    bar.update()
        finally:
            writer.close()
    sidecar = output.with_suffix(".json")
    write_text(sidecar, json.dumps(plan.sidecar(), indent=2, sort_keys=True) + "\n")
    return VideoResult(path=output, sidecar=sidecar, frames=frames, seed=int(plan.options.seed or 0))
