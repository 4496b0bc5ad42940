"""Run figures (SPEC §11.6, §14): counts per bin, P2 concentration, timescales hexbin."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.colors import LogNorm, to_hex
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from lightlane.report.drawing import (
    COLOR_A,
    COLOR_B,
    MetricHistogram,
    P2Panel,
    PanelFigure,
    TimescalesPanel,
    plot_counts_per_bin,
    plot_metric_histograms,
    plot_p2_concentration,
    plot_timescales,
    save_figure,
    title_for,
)
from lightlane.report.drawing.layout import share_axes
from lightlane.report.drawing.run import bin_edges_from_centres, format_p, power_law, power_law_label

TITLE = title_for(["real-1", "mimic-1"], "proc-a", "run-0007")
LABELS = ("A: real-1", "B: mimic-1")
PREVIEW = Path("/tmp/plots_preview")


def _save_and_check(fig: Figure, path: Path, width_in: float = 7.0, height_in: float = 4.5, dpi: int = 150) -> None:
    save_figure(fig, path, dpi=dpi)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(path)
    assert (image.shape[1], image.shape[0]) == (round(width_in * dpi), round(height_in * dpi))


def _legend_texts(fig: Figure) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _title(fig: Figure) -> str:
    return fig.get_suptitle()


@pytest.fixture
def centres() -> np.ndarray:
    return np.linspace(0.1045, 0.9955, 100)


# --- helpers --------------------------------------------------------------------------------------------


def test_bin_edges_from_centres_uniform_and_single() -> None:
    edges = bin_edges_from_centres(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(edges, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(bin_edges_from_centres(np.array([2.0])), [1.9, 2.1])
    with pytest.raises(ValueError, match="at least one"):
        bin_edges_from_centres(np.array([]))
    with pytest.raises(ValueError, match="increasing"):
        bin_edges_from_centres(np.array([1.0, 1.0]))


def test_format_p_and_fit_label() -> None:
    assert format_p(3.1e-9) == "3.10e-09"
    assert format_p(0.5) == "5.00e-01"
    assert format_p(None) == "n/a"
    assert format_p(math.nan) == "n/a"
    assert power_law_label((1.0, -0.812, 0.0456)) == "fit: b = -0.812 ± 0.0456"
    assert power_law_label(None) == "fit: b = n/a"
    assert power_law_label((1.0, 0.5, math.nan)) == "fit: b = 0.5 ± n/a"


# --- counts per bin ------------------------------------------------------------------------------------


def test_counts_per_bin_saves_with_steps_and_labels(centres: np.ndarray, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.poisson(100, size=100), rng.poisson(110, size=100)
    fig = plot_counts_per_bin(centres, a, b, labels=LABELS, title=TITLE)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "λ (nm)"
    assert ax.get_ylabel() == "counts per bin"
    for part in ("real-1", "proc-a", "run-0007"):
        assert part in _title(fig)
    steps = [line for line in ax.get_lines() if line.get_label().startswith(("A:", "B:"))]
    assert [to_hex(line.get_color()) for line in steps] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    # Step outlines (stairs drawn as lines): every edge twice, each count twice, zero at both ends.
    edges = bin_edges_from_centres(centres)
    for line, counts in zip(steps, (a, b)):
        np.testing.assert_allclose(line.get_xdata(), np.repeat(edges, 2))
        np.testing.assert_array_equal(line.get_ydata(), np.concatenate([[0], np.repeat(counts, 2), [0]]))
    texts = _legend_texts(fig)
    assert texts[0] == f"A: real-1 ({a.sum():,} events)"
    assert texts[1] == f"B: mimic-1 ({b.sum():,} events)"
    # The steps span the whole band, halfway between centres.
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(centres[0] - (centres[1] - centres[0]) / 2)
    assert hi == pytest.approx(centres[-1] + (centres[-1] - centres[-2]) / 2)
    _save_and_check(fig, tmp_path / "counts_hist_wavelength.png")
    _save_and_check(fig, tmp_path / "counts_hist_wavelength_100.png", dpi=100)
    save_figure(fig, PREVIEW / "test_counts_hist_wavelength.png")


def test_counts_per_bin_single_dataset(centres: np.ndarray, tmp_path: Path) -> None:
    fig = plot_counts_per_bin(centres, np.zeros(100), None, labels=LABELS, title=TITLE)
    assert _legend_texts(fig) == ["A: real-1 (0 events)"]
    _save_and_check(fig, tmp_path / "single.png")


def test_counts_per_bin_rejects_bad_inputs(centres: np.ndarray) -> None:
    with pytest.raises(ValueError, match="at least one wavelength bin"):
        plot_counts_per_bin(np.array([]), np.array([]), np.array([]), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="100 entries"):
        plot_counts_per_bin(centres, np.ones(99), np.ones(100), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="non-negative"):
        plot_counts_per_bin(centres, -np.ones(100), np.ones(100), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="labels"):
        plot_counts_per_bin(centres, np.ones(100), np.ones(100), labels=("A",), title=TITLE)


# --- P2 concentration ----------------------------------------------------------------------------------


@pytest.fixture
def p2_inputs(centres: np.ndarray) -> dict:
    rng = np.random.default_rng(1)
    ref = float(np.exp(np.log(centres).mean()))
    a = rng.poisson(12 * (centres / ref) ** -0.8).astype(float)
    b = rng.poisson(10 * (centres / ref) ** 0.2).astype(float)
    a[:3] = np.nan  # outside A's W_data
    return {"centres_nm": centres, "counts_a": a, "counts_b": b, "lambda_ref_nm": ref}


def _fit_lines(ax) -> list:
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def _header(ax) -> list[tuple[str, str]]:
    """The texts above a P2 panel, top to bottom, with their colours."""
    notes = sorted((t for t in ax.texts if isinstance(t, Annotation)), key=lambda t: -t.xyann[1])
    return [(t.get_text(), to_hex(t.get_color())) for t in notes]


def _p2(p2_inputs: dict, metric: str = "vesa", **fields) -> P2Panel:
    return P2Panel(metric, p2_inputs["counts_a"], p2_inputs["counts_b"], **fields)


def test_p2_concentration_lines_are_the_power_laws(p2_inputs: dict, tmp_path: Path) -> None:
    fit_a, fit_b = (12.1, -0.81, 0.05), (10.2, 0.19, 0.06)
    ref = p2_inputs["lambda_ref_nm"]
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"],
        [_p2(p2_inputs, fit_a=fit_a, fit_b=fit_b, lambda_ref_nm=ref, p_z=3.1e-9, p_cal=0.004)],
        labels=LABELS,
        title=TITLE,
    )
    (ax,) = fig.axes
    assert ax.get_xlabel() == "λ (nm)"
    assert ax.get_ylabel() == "top-chunk count"
    lines = _fit_lines(ax)
    assert [to_hex(line.get_color()) for line in lines] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    for line, (a, b, _), counts in zip(lines, (fit_a, fit_b), (p2_inputs["counts_a"], p2_inputs["counts_b"])):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(y, a * (x / ref) ** b, rtol=1e-12)
        np.testing.assert_allclose(y, power_law(x, a, b, ref), rtol=1e-12)
        # Over the dataset's own drawn bins only: no extrapolation.
        used = p2_inputs["centres_nm"][np.isfinite(counts)]
        assert x.min() == pytest.approx(used.min()) and x.max() == pytest.approx(used.max())
    # The points are the counts of the used bins, NaN bins left out.
    points = [line for line in ax.get_lines() if line.get_linestyle() in ("None", "none", "")]
    points = [line for line in points if len(line.get_xdata())]
    assert len(points) == 2
    np.testing.assert_array_equal(points[0].get_ydata(), p2_inputs["counts_a"][3:])
    np.testing.assert_array_equal(points[1].get_ydata(), p2_inputs["counts_b"])
    assert [to_hex(line.get_color()) for line in points] == [to_hex(COLOR_A), to_hex(COLOR_B)]

    k_a = int(np.nansum(p2_inputs["counts_a"]))
    k_b = int(np.sum(p2_inputs["counts_b"]))
    # Above the panel: the metric, A's and B's fitted index in their colours, then the p-values.
    assert _header(ax) == [
        ("vesa", to_hex(COLOR_A)),
        (f"A: b = -0.81 ± 0.05 (k = {k_a:,})", to_hex(COLOR_A)),
        (f"B: b = 0.19 ± 0.06 (k = {k_b:,})", to_hex(COLOR_B)),
        ("p_z = 3.10e-09, p_cal = 4.00e-03", to_hex(COLOR_A)),
    ]
    # One legend below: A's points and fit in the first column, B's in the second.
    assert _legend_texts(fig) == [
        "A: real-1 (top chunks per bin)",
        "fit to A: c = a·(λ/λ_ref)^b",
        "B: mimic-1 (top chunks per bin)",
        "fit to B: c = a·(λ/λ_ref)^b",
    ]
    _save_and_check(fig, tmp_path / "p2_concentration.png", 7.0, fig.get_figheight())
    save_figure(fig, PREVIEW / "test_p2_concentration.png")


def test_p2_concentration_separate_references(p2_inputs: dict) -> None:
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"], [_p2(p2_inputs, "ev", fit_a=(5.0, -1.0, 0.1), fit_b=(6.0, 0.5, 0.1),
                                      lambda_ref_nm=(0.4, 0.6))],
        labels=LABELS, title=TITLE,
    )
    for line, (a, b, ref) in zip(_fit_lines(fig.axes[0]), ((5.0, -1.0, 0.4), (6.0, 0.5, 0.6))):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(y, a * (x / ref) ** b, rtol=1e-12)


def test_p2_concentration_missing_fits_and_p_values(p2_inputs: dict, tmp_path: Path) -> None:
    panels = [
        _p2(p2_inputs, fit_b=(10.2, 0.19, 0.06), lambda_ref_nm=p2_inputs["lambda_ref_nm"]),
        # No fits at all: no λ_ref needed, no curves.
        _p2(p2_inputs, "ev"),
    ]
    fig = plot_p2_concentration(p2_inputs["centres_nm"], panels, labels=LABELS, title=TITLE)
    one_fit, no_fit = fig.axes
    assert [to_hex(line.get_color()) for line in _fit_lines(one_fit)] == [to_hex(COLOR_B)]
    texts = [text for text, _ in _header(one_fit)]
    assert texts[1].startswith("A: b = n/a") and texts[2].startswith("B: b = 0.19 ± 0.06")
    assert texts[3] == "p_z = n/a, p_cal = n/a"
    assert _fit_lines(no_fit) == []
    assert [text.split(" (")[0] for text, _ in _header(no_fit)[1:3]] == ["A: b = n/a", "B: b = n/a"]
    assert no_fit.get_ylabel() == ""  # the y label only in the first column
    _save_and_check(fig, tmp_path / "p2_na.png", 7.0, fig.get_figheight())


def test_p2_concentration_grid_has_room_for_headers(p2_inputs: dict, tmp_path: Path) -> None:
    """Seven panels, 2 × 4: each header sits between its axes and the row (or title) above, clear of the others."""
    ref = p2_inputs["lambda_ref_nm"]
    panels = [_p2(p2_inputs, f"m{i}", fit_a=(12.1, -0.81, 0.05), fit_b=(10.2, 0.19, 0.06), lambda_ref_nm=ref,
                  p_z=1e-3, p_cal=0.05) for i in range(7)]
    fig = plot_p2_concentration(p2_inputs["centres_nm"], panels, labels=LABELS, title=TITLE)
    _save_and_check(fig, tmp_path / "p2_grid.png", 14.0, fig.get_figheight())
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]  # includes the header annotations
    for i, first in enumerate(boxes):
        assert fig.bbox.x0 <= first.x0 and first.x1 <= fig.bbox.x1 and fig.bbox.y0 <= first.y0
        for second in boxes[i + 1:]:
            assert not first.overlaps(second)
    title = [t for t in fig.texts if t.get_text() == fig.get_suptitle()][0].get_window_extent(renderer)
    assert all(box.y1 <= title.y0 for box in boxes)


def test_p2_concentration_rejects_bad_inputs(p2_inputs: dict) -> None:
    centres, a, b = p2_inputs["centres_nm"], p2_inputs["counts_a"], p2_inputs["counts_b"]
    common = {"labels": LABELS, "title": TITLE}
    with pytest.raises(ValueError, match="at least one wavelength bin"):
        plot_p2_concentration(np.array([]), [P2Panel("vesa", np.array([]), np.array([]))], **common)
    with pytest.raises(ValueError, match="at least one metric panel"):
        plot_p2_concentration(centres, [], **common)
    with pytest.raises(ValueError, match="lambda_ref_nm is required"):
        plot_p2_concentration(centres, [P2Panel("vesa", a, b, (1.0, 0.0, 0.1))], **common)
    with pytest.raises(ValueError, match="lambda_ref_nm"):
        plot_p2_concentration(centres, [P2Panel("vesa", a, b, (1.0, 0.0, 0.1), lambda_ref_nm=-1.0)], **common)
    with pytest.raises(ValueError, match="fit_a"):
        plot_p2_concentration(centres, [P2Panel("vesa", a, b, (0.0, 0.0, 0.1), lambda_ref_nm=0.5)], **common)
    with pytest.raises(ValueError, match="fit_b"):
        plot_p2_concentration(centres, [P2Panel("vesa", a, b, None, (1.0, 0.0), lambda_ref_nm=0.5)], **common)
    with pytest.raises(ValueError, match="100 entries"):
        plot_p2_concentration(centres, [P2Panel("vesa", a[:10], b)], **common)


def test_p2_concentration_all_bins_unused(centres: np.ndarray, tmp_path: Path) -> None:
    nan = np.full(100, np.nan)
    fig = plot_p2_concentration(centres, [P2Panel("vesa", nan, nan, (1.0, 0.0, 0.1), None, 0.5)], labels=LABELS,
                                title=TITLE)
    (ax,) = fig.axes
    assert _fit_lines(ax) == []
    assert _header(ax)[1][0] == "A: b = 0 ± 0.1 (k = 0)"  # fitted, yet nothing to draw
    assert "no finite vesa values" in [t.get_text() for t in ax.texts]
    edges = bin_edges_from_centres(centres)
    assert ax.get_xlim() == pytest.approx((edges[0], edges[-1]))
    _save_and_check(fig, tmp_path / "p2_empty.png", 7.0, fig.get_figheight())


# --- timescales ----------------------------------------------------------------------------------------


def _chunks(n: int, widths: np.ndarray, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.linspace(0.1045, 0.9955, 100)
    x = centres[np.minimum((rng.beta(2, 5, n) * 100).astype(int), 99)]
    y = widths[rng.integers(0, len(widths), n)]
    return x, y


def test_timescales_hexbin(tmp_path: Path) -> None:
    widths = np.sort(np.random.default_rng(5).uniform(20, 300, 30))
    x, y = _chunks(1000, widths)
    x2, y2 = _chunks(300, widths, seed=3)
    fig = plot_timescales([TimescalesPanel("vesa", x, y), TimescalesPanel("fvar", x2, y2)], title=TITLE)
    ax, ax2, colorbar_ax = fig.axes
    assert ax.get_xlabel() == "λ centre (nm)" and ax2.get_xlabel() == "λ centre (nm)"
    assert ax.get_ylabel() == "time-bin width (s)" and ax2.get_ylabel() == ""
    assert ax.get_yscale() == "linear"
    (cells,) = ax.collections
    counts = np.asarray(cells.get_array())
    # mincnt = 1: only hexagons holding chunks are drawn, and every chunk is in one.
    assert counts.min() >= 1
    assert counts.sum() == 1000
    assert isinstance(cells.norm, LogNorm) and cells.norm.vmin == 1
    assert cells.get_cmap().name == "magma"
    # One colour scale for every panel, shown once.
    assert ax2.collections[0].norm is cells.norm and cells.norm.vmax >= counts.max()
    assert colorbar_ax.get_ylabel() == "chunks per hexagon"
    assert ax.get_title() == "vesa: 1,000 top chunks" and ax2.get_title() == "fvar: 300 top chunks"
    for part in ("real-1", "proc-a", "run-0007"):
        assert part in _title(fig)
    _save_and_check(fig, tmp_path / "timescales_a.png", 7.0, fig.get_figheight())
    save_figure(fig, PREVIEW / "test_timescales_a.png")


def test_timescales_gridsize_and_log_widths(tmp_path: Path) -> None:
    widths = np.geomspace(1.0, 1000.0, 30)
    x, y = _chunks(500, widths)
    coarse = plot_timescales([TimescalesPanel("vesa", x, y)], gridsize=10, title=TITLE)
    fine = plot_timescales([TimescalesPanel("vesa", x, y)], title=TITLE)
    assert fine.axes[0].get_yscale() == "log"
    n_coarse = len(coarse.axes[0].collections[0].get_array())
    n_fine = len(fine.axes[0].collections[0].get_array())
    assert n_coarse < n_fine
    assert np.asarray(fine.axes[0].collections[0].get_array()).sum() == 500
    _save_and_check(fine, tmp_path / "timescales_log.png", 7.0, fine.get_figheight())


def test_timescales_empty_and_single(tmp_path: Path) -> None:
    fig = plot_timescales([TimescalesPanel("vesa", np.array([]), np.array([]))], title=TITLE)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no top chunks"]
    assert len(fig.axes) == 1  # no colorbar without counts
    _save_and_check(fig, tmp_path / "timescales_empty.png", 7.0, fig.get_figheight())

    fig = plot_timescales([TimescalesPanel("vesa", np.array([0.5]), np.array([100.0])),
                           TimescalesPanel("fvar", np.array([]), np.array([]))], title=TITLE)
    assert np.asarray(fig.axes[0].collections[0].get_array()).tolist() == [1]
    assert fig.axes[0].get_title() == "vesa: 1 top chunk" and fig.axes[1].get_title() == "fvar: 0 top chunks"
    assert len(fig.axes) == 3  # a colorbar for the panel that has chunks
    _save_and_check(fig, tmp_path / "timescales_one.png", 7.0, fig.get_figheight())


def test_timescales_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        TimescalesPanel("vesa", np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="positive"):
        TimescalesPanel("vesa", np.ones(3), np.array([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="positive"):
        TimescalesPanel("vesa", np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="gridsize"):
        plot_timescales([TimescalesPanel("vesa", np.ones(3), np.ones(3))], gridsize=0, title=TITLE)
    with pytest.raises(ValueError, match="at least one metric panel"):
        plot_timescales([], title=TITLE)


def test_panel_figure_reused_by_every_metric_figure_draws_what_new_ones_would(p2_inputs: dict, tmp_path: Path
                                                                               ) -> None:
    """One small-multiple figure object for the run's metric figures (SPEC §14 rev 2): histograms (log y), P2,
    then the timescales of A (a log and an empty panel) and of B (linear), and the histograms again (whose inner
    panels show the x tick labels the timescales hid, and whose grid they turned off), each the same PNG bytes as
    in a new figure."""
    ref = p2_inputs["lambda_ref_nm"]
    p2 = [_p2(p2_inputs, "vesa", fit_a=(12.1, -0.81, 0.05), lambda_ref_nm=ref, p_z=0.01),
          _p2(p2_inputs, "fvar", fit_b=(10.2, 0.19, 0.06), lambda_ref_nm=ref)]
    log_widths, linear_widths = np.geomspace(1.0, 1000.0, 30), np.linspace(100.0, 300.0, 30)
    a = [TimescalesPanel("vesa", *_chunks(400, log_widths)), TimescalesPanel("fvar", np.array([]), np.array([]))]
    b = [TimescalesPanel("vesa", *_chunks(200, linear_widths, seed=4)),
         TimescalesPanel("fvar", *_chunks(50, linear_widths, seed=5))]
    rng = np.random.default_rng(8)
    histograms = [MetricHistogram("vesa", rng.normal(size=500), rng.normal(size=400), 1.5),
                  MetricHistogram("fvar", rng.gamma(2.0, size=300), None)]
    drawings = [
        ("hist", lambda reuse: plot_metric_histograms(histograms, labels=LABELS, title=TITLE, reuse=reuse)),
        ("p2", lambda reuse: plot_p2_concentration(p2_inputs["centres_nm"], p2, labels=LABELS, title=TITLE,
                                                   reuse=reuse)),
        ("a", lambda reuse: plot_timescales(a, title="A: " + TITLE, reuse=reuse)),
        ("b", lambda reuse: plot_timescales(b, title="B: " + TITLE, reuse=reuse)),
        ("hist_again", lambda reuse: plot_metric_histograms(histograms, labels=LABELS, title=TITLE, reuse=reuse)),
    ]
    shared = PanelFigure()
    figures = []
    for name, draw in drawings:
        figures.append(draw(shared))
        save_figure(figures[-1], tmp_path / f"{name}_reused.png")
        save_figure(draw(None), tmp_path / f"{name}_new.png")
        assert (tmp_path / f"{name}_reused.png").read_bytes() == (tmp_path / f"{name}_new.png").read_bytes(), name
        if name == "b":
            assert len(shared.figure.axes) == 3  # two panels, a colorbar
            assert [ax.get_yscale() for ax in shared.axes] == ["linear", "linear"]  # A's were logarithmic
            assert not shared.figure.legends and not shared.axes[1].texts  # P2's legend and texts are gone
    assert all(figure is figures[0] for figure in figures)


# --- shared scales of the small multiples ------------------------------------------------------------------


def _tick_labels_shown(axis) -> bool:
    return any(label.get_visible() and label.get_text() for label in axis.get_ticklabels())


def test_shared_panels_get_the_tick_labels_of_each_drawing_whatever_the_last_one_left() -> None:
    """A reused small multiple: share_axes sets every panel's labels, showing those a drawing sharing less hid."""
    panels = PanelFigure()
    sharings = [{"x": True, "y": True}, {"y": True}, {}, {"x": True}]
    below = [False, False, False, True, True, True]  # x labels of the lower row only
    expected_x = [below, [True] * 6, [True] * 6, below]
    expected_y = [[True, False, False, True, False, False], [True, False, False, True, False, False], [True] * 6,
                  [True] * 6]
    for sharing, shown_x, shown_y in zip(sharings, expected_x, expected_y):
        fig, axes, shape = panels.take(6)  # 2 × 3
        for ax in axes:
            ax.plot([0.0, 1.0], [0.0, 1.0])
        share_axes(axes, shape, **sharing)
        fig.canvas.draw()
        assert [_tick_labels_shown(ax.xaxis) for ax in axes] == shown_x, sharing
        assert [_tick_labels_shown(ax.yaxis) for ax in axes] == shown_y, sharing


def test_small_multiples_share_scales_and_label_the_outer_panels(p2_inputs: dict) -> None:
    """Panels on one scale (SPEC §14 rev 2): the union of their ranges, tick labels on the first panel of each row
    (y) and the lowest panel of each column (x); a panel without data keeps its own range and labels."""
    centres = p2_inputs["centres_nm"]
    panels = [_p2(p2_inputs, f"m{i}") for i in range(5)]
    scaled = P2Panel("m5", panels[0].counts_a * 3.0, panels[0].counts_b)  # the tallest panel sets every y range
    nan = np.full(centres.size, np.nan)
    fig = plot_p2_concentration(centres, [*panels[:2], scaled, *panels[2:4], P2Panel("empty", nan, nan)],
                                labels=LABELS, title=TITLE)
    axes = fig.axes  # 2 × 3 grid
    drawn = axes[:5]
    assert len({ax.get_ylim() for ax in drawn}) == 1 and axes[0].get_ylim()[1] >= np.nanmax(scaled.counts_a)
    assert len({ax.get_xlim() for ax in drawn}) == 1
    fig.canvas.draw()
    assert [_tick_labels_shown(ax.yaxis) for ax in drawn] == [True, False, False, True, False]
    # x labels where no panel with data is below: row 2 and the third column (its lower panel has none).
    assert [_tick_labels_shown(ax.xaxis) for ax in drawn] == [False, False, True, True, True]
    empty = axes[5]
    assert _tick_labels_shown(empty.xaxis) and _tick_labels_shown(empty.yaxis) and empty.get_ylim() == (0.0, 1.0)


def test_timescales_share_one_width_scale() -> None:
    """A panel of narrow widths is logarithmic too when another panel's widths span more than a factor 20."""
    x, y = _chunks(300, np.linspace(100.0, 300.0, 30))
    x2, y2 = _chunks(300, np.geomspace(1.0, 1000.0, 30), seed=3)
    fig = plot_timescales([TimescalesPanel("narrow", x, y), TimescalesPanel("wide", x2, y2)], title=TITLE)
    narrow, wide = fig.axes[:2]
    assert narrow.get_yscale() == wide.get_yscale() == "log"
    assert narrow.get_ylim() == wide.get_ylim() and narrow.get_xlim() == wide.get_xlim()
    assert narrow.get_ylim()[0] <= 1.0 and narrow.get_ylim()[1] >= 1000.0
    # One grid: hexagons of one size in every panel, however far each panel's chunks spread.
    hexagons = [ax.collections[0].get_paths()[0].vertices for ax in (narrow, wide)]
    np.testing.assert_allclose(hexagons[0], hexagons[1])


def test_axis_labels_sit_past_the_tick_labels_at_the_label_pad(p2_inputs: dict) -> None:
    """The layout fixes each axis label where matplotlib would put it: the label pad (4 pt) beyond the tick
    labels of its side, so that no draw measures the tick labels again to place it."""
    fig = plot_counts_per_bin(p2_inputs["centres_nm"], np.arange(100.0), np.arange(100.0)[::-1], labels=LABELS,
                              title=TITLE)
    timescales = plot_timescales([TimescalesPanel("vesa", *_chunks(300, np.linspace(20.0, 300.0, 30)))],
                                 title=TITLE)
    for figure in (fig, timescales):
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        pad_px = 4.0 * figure.dpi / 72.0
        for ax in figure.axes:
            for axis, vertical in ((ax.xaxis, False), (ax.yaxis, True)):
                if not axis.get_label_text():
                    continue
                assert axis.label.get_transform() == ax.transAxes  # placed by the layout, not at draw time
                low, high = sorted(axis.get_view_interval())
                ticks = [t.get_window_extent(renderer) for t in axis.get_ticklabels()  # those drawn
                         if t.get_text() and low <= t.get_position()[1 if vertical else 0] <= high]
                label = axis.label.get_window_extent(renderer)
                if vertical and axis.get_label_position() == "left":
                    gap = min(b.x0 for b in ticks) - label.x1
                elif vertical:
                    gap = label.x0 - max(b.x1 for b in ticks)
                else:
                    gap = min(b.y0 for b in ticks) - label.y1
                assert pad_px - 1.5 <= gap <= pad_px + 2.0, (axis.get_label_text(), gap)


def test_p3_figure_stacks_its_two_panels_on_one_intercept_axis(tmp_path: Path) -> None:
    from lightlane.report.drawing.p3 import P3Panel, plot_p3

    rng = np.random.default_rng(11)
    slopes, intercepts = np.linspace(-1.0, 4.0, 21), np.linspace(-10.0, -1.0, 90)
    image = 2.0 + rng.random((21, 90))
    image[0, :5] = np.nan  # undefined cells stay blank
    fig = plot_p3(P3Panel(slopes, intercepts, image, stat=1.2, slope=0.5, intercept_ln_hz=-8.0,
                          verdict="P3 SIGNIFICANT"), title=TITLE)
    top, bottom, colorbar = fig.axes
    half = (intercepts[1] - intercepts[0]) / 2
    assert top.get_xlim() == bottom.get_xlim() == pytest.approx((-10.0 - half, -1.0 + half))  # the image's cells
    (marker,) = top.get_lines()
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == (-8.0, 0.5)
    assert top.get_xlabel() == "" and bottom.get_xlabel() == "intercept c: ln f at λ = 0 (ln Hz)"
    assert "P3 SIGNIFICANT" in bottom.get_title() and colorbar.get_ylabel() == "mean Leahy power − 2"
    fig.canvas.draw()
    assert not _tick_labels_shown(top.xaxis) and _tick_labels_shown(bottom.xaxis)
    _save_and_check(fig, tmp_path / "p3.png", 7.0, 6.5)
