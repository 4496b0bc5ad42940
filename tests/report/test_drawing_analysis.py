"""Analysis figures (SPEC §14): heatmap, P1d metric histograms and the quicklook."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure

from lightlane.report.drawing import (
    COLOR_A,
    COLOR_B,
    BinnedMetricHistogram,
    HeatmapFigure,
    MetricHistogram,
    plot_heatmap,
    plot_metric_histograms,
    plot_quicklook,
    save_figure,
    title_for,
)
from lightlane.report.drawing.analysis import GAP_COLOR
from lightlane.report.framing import metric_histogram
from lightlane.report.staging import write_png
from lightlane.stats import p1d_edges

TITLE = title_for(["real-1", "mimic-1"], "proc-a", "run-0007")
TITLE_PARTS = ("real-1", "proc-a", "run-0007")


def _png_size(path: Path) -> tuple[int, int]:
    image = mpimg.imread(path)
    return image.shape[1], image.shape[0]


def _save_and_check(fig: Figure, path: Path, width_in: float, height_in: float, dpi: int = 150) -> None:
    save_figure(fig, path, dpi=dpi)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _png_size(path) == (round(width_in * dpi), round(height_in * dpi))


def _legend_texts(fig: Figure) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _rgba(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())


def _pixel(fig: Figure, ax, x: float, y: float) -> np.ndarray:
    """RGB (0–255) of the rendered pixel at data point (x, y) of ``ax``."""
    image = _rgba(fig)
    px, py = ax.transData.transform((x, y))
    # Display coordinates start at the bottom left, image rows at the top.
    return image[int(image.shape[0] - py), int(px), :3].astype(int)


# --- heatmap -------------------------------------------------------------------------------------------

J, W, WIDTH_S = 40, 12, 50.0
GAP = slice(15, 22)  # a GTI gap: time bins 15…21 have no exposure


@pytest.fixture
def heatmap_inputs() -> dict:
    rng = np.random.default_rng(3)
    offset = 20.0
    exposure = np.ones(J)
    exposure[0] = (WIDTH_S - offset) / WIDTH_S  # the first bin starts before tstart
    exposure[GAP] = 0.0
    exposure[GAP.stop] = 0.3  # partly exposed, below min_exposure = 0.9
    counts = rng.poisson(np.linspace(0.5, 30.0, W), size=(J, W))
    counts[:, 0] = 0  # an empty wavelength bin: drawn dark, not blank
    counts[GAP, :] = 0
    return {
        "counts": counts,
        "exposure": exposure,
        "valid": exposure >= 0.9,
        "time_edges_s": -offset + WIDTH_S * np.arange(J + 1),
        "wavelength_edges_nm": np.linspace(0.2, 2.0, W + 1),
    }


@pytest.fixture
def heatmap_figure(heatmap_inputs: dict) -> Figure:
    return plot_heatmap(**heatmap_inputs, title="heatmap · " + TITLE)


def test_heatmap_saves_at_10_by_5(heatmap_figure: Figure, tmp_path: Path) -> None:
    _save_and_check(heatmap_figure, tmp_path / "heatmap_a.png", 10.0, 5.0)
    _save_and_check(heatmap_figure, tmp_path / "heatmap_a_72.png", 10.0, 5.0, dpi=72)


def test_heatmap_texts(heatmap_figure: Figure) -> None:
    ax, colorbar_ax = heatmap_figure.get_axes()
    assert ax.get_xlabel() == "time since tstart (s)"
    assert ax.get_ylabel() == "λ (nm)"
    assert colorbar_ax.get_ylabel() == "counts per bin"
    assert all(part in heatmap_figure.get_suptitle() for part in TITLE_PARTS)
    assert any("min_exposure" in text for text in _legend_texts(heatmap_figure))
    assert ax.get_xlim() == pytest.approx((-20.0, -20.0 + J * WIDTH_S))
    assert ax.get_ylim() == pytest.approx((0.2, 2.0))


def test_heatmap_uses_magma_on_a_log_scale(heatmap_figure: Figure) -> None:
    ax = heatmap_figure.get_axes()[0]
    (mesh,) = ax.collections
    assert mesh.get_cmap().name.startswith("magma")
    norm = mesh.norm
    # Zero counts map to the low end of the scale (not masked), and the scale
    # is logarithmic above one count: each decade takes the same space.
    assert norm(0.0) == pytest.approx(0.0) and not np.ma.is_masked(norm(0.0))
    assert norm(10.0) - norm(1.0) == pytest.approx(norm(30.0) - norm(3.0))


def test_heatmap_gap_cells_are_grey(heatmap_figure: Figure, heatmap_inputs: dict) -> None:
    ax = heatmap_figure.get_axes()[0]
    t_edges = heatmap_inputs["time_edges_s"]
    w_edges = heatmap_inputs["wavelength_edges_nm"]
    grey = np.round(np.array(to_rgb(GAP_COLOR)) * 255).astype(int)
    magma = np.round(matplotlib.colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(int)

    def centre(j: int, w: int) -> tuple[float, float]:
        return (t_edges[j] + t_edges[j + 1]) / 2, (w_edges[w] + w_edges[w + 1]) / 2

    # Inside the GTI gap and in the partly exposed bin after it: neutral grey,
    # far from every magma colour.
    for j in (GAP.start, (GAP.start + GAP.stop) // 2, GAP.stop):
        for w in (0, W // 2, W - 1):
            rgb = _pixel(heatmap_figure, ax, *centre(j, w))
            assert np.all(np.abs(rgb - grey) <= 2), (j, w, rgb)
            assert np.abs(magma - rgb).sum(axis=1).min() > 30
    # A valid cell with counts is a magma colour, clearly not grey.
    for j in (2, GAP.stop + 5):
        rgb = _pixel(heatmap_figure, ax, *centre(j, W - 1))
        assert np.abs(rgb - grey).max() > 30
        assert rgb.max() - rgb.min() > 30  # coloured, not neutral
    # A valid cell with zero counts is drawn at magma's dark end, not blank/white.
    rgb = _pixel(heatmap_figure, ax, *centre(2, 0))
    assert np.all(np.abs(rgb - magma[0]) <= 3), rgb


def test_heatmap_greys_unexposed_bins_even_if_valid(heatmap_inputs: dict) -> None:
    """With min_exposure = 0 every bin is valid, but a bin without exposure has no data to show."""
    inputs = dict(heatmap_inputs, valid=np.ones(J, dtype=bool))
    fig = plot_heatmap(**inputs, title="t")
    ax = fig.get_axes()[0]
    t = (inputs["time_edges_s"][GAP.start] + inputs["time_edges_s"][GAP.start + 1]) / 2
    w = (inputs["wavelength_edges_nm"][3] + inputs["wavelength_edges_nm"][4]) / 2
    rgb = _pixel(fig, ax, t, w)
    assert np.all(np.abs(rgb - np.round(np.array(to_rgb(GAP_COLOR)) * 255)) <= 2)


def test_heatmap_all_invalid_and_all_zero(tmp_path: Path, heatmap_inputs: dict) -> None:
    zero = dict(heatmap_inputs, counts=np.zeros((J, W), dtype=np.uint32))
    _save_and_check(plot_heatmap(**zero, title="zeros"), tmp_path / "zeros.png", 10.0, 5.0)
    none = dict(heatmap_inputs, valid=np.zeros(J, dtype=bool))
    _save_and_check(plot_heatmap(**none, title="none"), tmp_path / "none.png", 10.0, 5.0)


def test_heatmap_figure_reused_for_b_draws_what_a_new_one_would(heatmap_inputs: dict, tmp_path: Path) -> None:
    """One figure object per kind (SPEC §14 rev 2): B drawn into A's figure gives B's PNG byte for byte."""
    other = dict(heatmap_inputs, counts=heatmap_inputs["counts"] * 40, valid=np.ones(J, dtype=bool),
                 time_edges_s=heatmap_inputs["time_edges_s"] * 3)
    reused = HeatmapFigure()
    first = plot_heatmap(**heatmap_inputs, title="A: " + TITLE, reuse=reused)
    save_figure(first, tmp_path / "heatmap_a.png")
    second = plot_heatmap(**other, title="B: " + TITLE, reuse=reused)
    assert second is first and len(second.axes[0].collections) == 1
    save_figure(second, tmp_path / "heatmap_b.png")
    save_figure(plot_heatmap(**other, title="B: " + TITLE), tmp_path / "heatmap_b_new.png")
    assert (tmp_path / "heatmap_b.png").read_bytes() == (tmp_path / "heatmap_b_new.png").read_bytes()


def test_heatmap_validates_shapes(heatmap_inputs: dict) -> None:
    with pytest.raises(ValueError):
        plot_heatmap(**dict(heatmap_inputs, time_edges_s=heatmap_inputs["time_edges_s"][:-1]), title="t")
    with pytest.raises(ValueError):
        plot_heatmap(**dict(heatmap_inputs, wavelength_edges_nm=heatmap_inputs["wavelength_edges_nm"][::-1]), title="t")
    with pytest.raises(ValueError):
        plot_heatmap(**dict(heatmap_inputs, valid=heatmap_inputs["valid"][1:]), title="t")
    with pytest.raises(ValueError):
        plot_heatmap(**dict(heatmap_inputs, counts=heatmap_inputs["counts"][:, :, None]), title="t")
    with pytest.raises(ValueError):
        plot_heatmap(**dict(heatmap_inputs, counts=-heatmap_inputs["counts"] - 1), title="t")


# --- P1d edges ---------------------------------------------------------------------------------------------


def test_p1d_edges_straddling_zero() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.3, 1.0, 20_000), rng.normal(0.0, 1.2, 20_000)
    edges = p1d_edges(a, b)
    lo, hi = np.quantile(np.concatenate([a, b]), [0.001, 0.999])
    h = (hi - lo) / 100
    assert 0.0 in edges  # exactly, not approximately
    np.testing.assert_allclose(np.diff(edges), h, rtol=1e-9)
    # The edges are multiples of h that cover [lo, hi] with at most one bin to spare at each end.
    np.testing.assert_allclose(edges / h, np.round(edges / h), atol=1e-6)
    assert edges[0] <= lo < edges[0] + h and edges[-1] - h < hi <= edges[-1]
    assert 101 <= len(edges) <= 103


def test_p1d_edges_one_sided_and_missing_datasets() -> None:
    values = np.random.default_rng(6).exponential(2.0, 5000) + 3.0
    edges = p1d_edges(values, None)
    lo, hi = np.quantile(values, [0.001, 0.999])
    assert edges[0] <= lo and edges[-1] >= hi and edges[0] > 0
    np.testing.assert_allclose(np.diff(edges), (hi - lo) / 100, rtol=1e-9)
    np.testing.assert_array_equal(p1d_edges(np.array([]), values), edges)
    # Nulls (NaN) are ignored rather than poisoning the quantiles.
    np.testing.assert_array_equal(p1d_edges(np.append(values, np.nan), None), edges)
    with pytest.raises(ValueError):
        p1d_edges(None, np.array([]))
    with pytest.raises(ValueError):
        p1d_edges(np.array([np.nan]), None)


@pytest.mark.parametrize("value", [0.0, 2.5, -4.0])
def test_p1d_edges_constant_values_give_one_bin(value: float) -> None:
    edges = p1d_edges(np.full(50, value), np.full(10, value))
    assert len(edges) == 2 and edges[0] < value < edges[1]
    assert (edges[0] + edges[1]) / 2 == pytest.approx(value)


# --- metric histogram --------------------------------------------------------------------------------------


@pytest.fixture
def metric_values() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(0.2, 1.0, 4000), rng.normal(0.0, 1.0, 4000)


def _dashed(ax) -> list:
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def _steps(ax) -> list:
    """The step histograms of a panel: solid lines (see ``stairs_line``)."""
    return [line for line in ax.get_lines() if line.get_linestyle() == "-"]


def _edges_and_values(line) -> tuple[np.ndarray, np.ndarray]:
    """(edges, values) of a step outline drawn by ``stairs_line``."""
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert y[0] == 0 and y[-1] == 0  # down to the baseline at both ends, as ax.stairs draws
    return x[::2], y[1:-1:2]


def test_metric_histogram_figure(metric_values, tmp_path: Path) -> None:
    a, b = metric_values
    panels = [MetricHistogram("vesa", a, b, 1.234), MetricHistogram("fvar", b, a, None)]
    fig = plot_metric_histograms(panels, labels=("A: real-1", "B: mimic-1"), title=TITLE)
    _save_and_check(fig, tmp_path / "metric_hist.png", 7.0, fig.get_figheight())
    vesa, fvar = fig.get_axes()
    assert vesa.get_xlabel() == "vesa" and vesa.get_ylabel() == "chunks"
    assert fvar.get_xlabel() == "fvar" and fvar.get_ylabel() == ""  # y label in the first column only
    assert vesa.get_title() == "vesa · q̄ = 1.234" and fvar.get_title() == "fvar"
    assert vesa.get_yscale() == "log" and fvar.get_yscale() == "log"
    assert all(part in fig.get_suptitle() for part in TITLE_PARTS)
    legend = _legend_texts(fig)
    assert legend == ["A: real-1 (n = 4,000)", "B: mimic-1 (n = 4,000)", "q̄: calibrated P1a threshold"]
    # A black, B orange, both on the P1d edges with the histogram counts.
    steps = _steps(vesa)
    assert [to_hex(line.get_color()) for line in steps] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    edges = p1d_edges(a, b)
    for step, values in zip(steps, (a, b)):
        step_edges, step_values = _edges_and_values(step)
        np.testing.assert_array_equal(step_edges, edges)
        np.testing.assert_array_equal(step_values, np.histogram(values, bins=edges)[0])
    # The threshold is a vertical dashed line at q̄; a panel without q̄ has none.
    (line,) = _dashed(vesa)
    assert np.all(np.asarray(line.get_xdata()) == 1.234)
    assert _dashed(fvar) == []


def test_metric_histograms_grid_and_layout(metric_values, tmp_path: Path) -> None:
    """Seven metrics: 2 rows of 4 panels, every panel and text inside the figure, no panels overlapping."""
    a, b = metric_values
    metrics = ("ev", "evs", "fel", "feg", "vea", "vesa", "oec")
    fig = plot_metric_histograms([MetricHistogram(m, a * (i + 1), b, 0.5) for i, m in enumerate(metrics)],
                                 labels=("A: real-1", "B: mimic-1"), title=TITLE)
    axes = fig.get_axes()
    assert len(axes) == 7 and fig.get_figwidth() == 14.0 and fig.get_figheight() % 0.5 == 0
    boxes = [ax.get_position() for ax in axes]
    assert len({round(box.y0, 6) for box in boxes}) == 2 and len({round(box.x0, 6) for box in boxes}) == 4
    _save_and_check(fig, tmp_path / "metric_hist.png", fig.get_figwidth(), fig.get_figheight())
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    extents = [ax.get_tightbbox(renderer) for ax in axes]
    for box in extents:
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 <= box.y1 <= figure_box.y1
    for i, first in enumerate(extents):
        for second in extents[i + 1:]:
            assert not first.overlaps(second)
    legend = fig.legends[0].get_window_extent(renderer)
    title = [t for t in fig.texts if t.get_text() == fig.get_suptitle()][0].get_window_extent(renderer)
    assert all(legend.y1 <= box.y0 for box in extents) and all(box.y1 <= title.y0 for box in extents)


@pytest.mark.parametrize("missing", [None, np.array([])])
def test_metric_histogram_single_dataset(metric_values, missing, tmp_path: Path) -> None:
    a, _ = metric_values
    fig = plot_metric_histograms([MetricHistogram("ev", a, missing)], labels=("A: real-1", "B"), title="real-1")
    _save_and_check(fig, tmp_path / "metric_hist.png", 7.0, fig.get_figheight())
    (ax,) = fig.get_axes()
    assert [to_hex(line.get_color()) for line in _steps(ax)] == [to_hex(COLOR_A)]
    assert not _dashed(ax)
    legend = _legend_texts(fig)
    assert legend == ["A: real-1 (n = 4,000)"]
    # B alone works too (drawn in B's orange).
    fig_b = plot_metric_histograms([MetricHistogram("ev", None, a, 0.5)], labels=("A", "B: mimic-1"), title="mimic-1")
    assert [to_hex(line.get_color()) for line in _steps(fig_b.get_axes()[0])] == [to_hex(COLOR_B)]


def test_metric_histogram_panel_without_values_says_so(metric_values, tmp_path: Path) -> None:
    a, b = metric_values
    fig = plot_metric_histograms([MetricHistogram("vesa", a, b), MetricHistogram("fvar", np.full(3, np.nan), None)],
                                 labels=("A: real-1", "B: mimic-1"), title=TITLE)
    _, empty = fig.get_axes()
    assert [t.get_text() for t in empty.texts] == ["no finite fvar values"] and not empty.get_lines()
    assert _legend_texts(fig)[:2] == ["A: real-1 (n = 4,000)", "B: mimic-1 (n = 4,000)"]
    _save_and_check(fig, tmp_path / "metric_hist.png", 7.0, fig.get_figheight())


def test_a_run_sends_counts_that_draw_what_the_values_draw(metric_values, tmp_path: Path) -> None:
    """A run's drawing workers get each panel counted on its P1d bins (framing.metric_histogram), not
    every chunk's value: the same PNG as the values would give."""
    a, b = metric_values
    a = np.concatenate([a, [np.nan, np.inf, 1e9]])  # not finite: ignored; 1e9: counted in n, beyond the bins
    raw = [MetricHistogram("vesa", a, b, 1.5), MetricHistogram("ev", None, b),
           MetricHistogram("fvar", np.full(2, np.nan), None)]
    sent = [metric_histogram("vesa", a, b, 1.5), metric_histogram("ev", None, b),
            metric_histogram("fvar", np.full(2, np.nan), None)]
    assert (sent[0]["n_a"], sent[0]["n_b"]) == (a.size - 2, b.size) and sent[0]["counts_a"].sum() < a.size - 2
    assert sent[1]["n_a"] == 0 and sent[2]["edges"] is None
    binned = [BinnedMetricHistogram(**fields) for fields in sent]
    for name, panels in (("values", raw), ("counts", binned)):
        write_png(plot_metric_histograms(panels, labels=("A: real-1", "B: mimic-1"), title=TITLE),
                  tmp_path / f"{name}.png", 100)
    assert (tmp_path / "values.png").read_bytes() == (tmp_path / "counts.png").read_bytes()
    assert _legend_texts(plot_metric_histograms(binned[:1], labels=("A", "B"), title="t"))[0] == "A (n = 4,001)"


def test_metric_histogram_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="at least one"):
        plot_metric_histograms([], labels=("A", "B"), title="t")
    with pytest.raises(ValueError, match="threshold"):
        MetricHistogram("ev", np.ones(3), None, float("nan"))
    with pytest.raises(ValueError, match="threshold"):
        BinnedMetricHistogram(**metric_histogram("ev", np.ones(3), None, float("inf")))
    with pytest.raises(ValueError, match="labels"):
        plot_metric_histograms([MetricHistogram("ev", np.ones(3), None)], labels=("A",), title="t")


# --- quicklook ----------------------------------------------------------------------------------------------


@pytest.fixture
def quicklook_inputs() -> dict:
    rng = np.random.default_rng(9)
    n, width = 120, 30.0
    valid = np.ones(n, dtype=bool)
    valid[40:55] = False
    counts = rng.poisson(7.0, n).astype(np.uint32)
    centres = np.linspace(0.25, 1.95, 18)
    flux = 2.0 * np.exp(-0.5 * (np.log(centres / 0.8) / 0.3) ** 2) + 0.1
    return {
        "times_s": -5.0 + width * np.arange(n),
        "counts": counts,
        "valid": valid,
        "width_s": width,
        "spectrum_centres_nm": centres,
        "spectrum_flux_density": flux,
        "spectrum_err": 0.05 * np.ones_like(flux),
        "highlight_bin": 7,
    }


def test_quicklook_figure(quicklook_inputs: dict, tmp_path: Path) -> None:
    fig = plot_quicklook(**quicklook_inputs, title="quicklook · " + TITLE)
    _save_and_check(fig, tmp_path / "quicklook_real-1_w7.png", 12.0, 4.0)
    lc, hist, spec = fig.get_axes()
    assert (lc.get_xlabel(), lc.get_ylabel()) == ("time since tstart (s)", "counts per bin")
    assert (hist.get_xlabel(), hist.get_ylabel()) == ("counts per bin", "time bins")
    assert spec.get_xlabel() == "λ (nm)" and spec.get_ylabel().startswith("flux density")
    assert "bin 7" in lc.get_title() and "Δ = 30 s" in lc.get_title()
    assert all(part in fig.get_suptitle() for part in TITLE_PARTS)
    valid, counts = quicklook_inputs["valid"], quicklook_inputs["counts"]
    mean = counts[valid].mean()
    legend = "\n".join(_legend_texts(fig))
    assert f"μ = {mean:.3g}" in legend and "Poisson" in legend and "bin 7" in legend and "not valid" in legend

    # (1) Invalid bins are gaps (NaN), not zeros; valid bins keep their counts.
    (curve,) = [line for line in lc.get_lines() if line.get_drawstyle() == "steps-post"]
    y = np.asarray(curve.get_ydata(), dtype=float)[:-1]
    assert np.all(np.isnan(y[~valid]))
    np.testing.assert_array_equal(y[valid], counts[valid])
    assert lc.get_xlim() == pytest.approx((-5.0, -5.0 + 120 * 30.0))

    # (2) The histogram holds exactly the valid bins, and the model is N·pmf at their mean.
    (bars,) = _steps(hist)
    assert _edges_and_values(bars)[1].sum() == valid.sum()
    (model,) = [line for line in hist.get_lines() if line.get_linestyle() == "--"]
    from scipy.stats import poisson

    x, expected = model.get_data()
    np.testing.assert_allclose(expected, valid.sum() * poisson.pmf(np.asarray(x), mean), rtol=1e-9)

    # (3) Bin 7 is highlighted by a shaded band around its centre.
    centre = quicklook_inputs["spectrum_centres_nm"][7]
    bands = [p for p in spec.patches if p.get_alpha() is not None]
    assert len(bands) == 1
    x0, x1 = bands[0].get_x(), bands[0].get_x() + bands[0].get_width()
    assert x0 < centre < x1 and x1 - x0 == pytest.approx(0.1)


def test_quicklook_edge_cases(quicklook_inputs: dict, tmp_path: Path) -> None:
    # Every bin valid, highlighting the last bin; all counts zero.
    inputs = dict(quicklook_inputs, valid=np.ones(120, dtype=bool), counts=np.zeros(120), highlight_bin=17)
    _save_and_check(plot_quicklook(**inputs, title="zeros"), tmp_path / "zeros.png", 12.0, 4.0)
    # No valid bin at all: the light curve is one gap and the histogram says so.
    inputs = dict(quicklook_inputs, valid=np.zeros(120, dtype=bool), highlight_bin=0)
    fig = plot_quicklook(**inputs, title="none")
    _save_and_check(fig, tmp_path / "none.png", 12.0, 4.0)
    assert any(text.get_text() == "no valid time bins" for text in fig.get_axes()[1].texts)
    # Bright bins: bars several counts wide, and the model still sums to ~N.
    bright = dict(quicklook_inputs, counts=np.random.default_rng(1).poisson(5000.0, 120))
    fig = plot_quicklook(**bright, title="bright")
    hist = fig.get_axes()[1]
    assert len(_edges_and_values(_steps(hist)[0])[1]) <= 61
    (model,) = [line for line in hist.get_lines() if line.get_linestyle() == "--"]
    assert model.get_ydata().sum() == pytest.approx(bright["valid"].sum(), rel=0.01)


def test_quicklook_validates(quicklook_inputs: dict) -> None:
    with pytest.raises(ValueError):
        plot_quicklook(**dict(quicklook_inputs, highlight_bin=18), title="t")
    with pytest.raises(ValueError):
        plot_quicklook(**dict(quicklook_inputs, counts=quicklook_inputs["counts"][1:]), title="t")
    with pytest.raises(ValueError):
        plot_quicklook(**dict(quicklook_inputs, width_s=0.0), title="t")
    with pytest.raises(ValueError):
        plot_quicklook(**dict(quicklook_inputs, spectrum_err=np.ones(3)), title="t")
