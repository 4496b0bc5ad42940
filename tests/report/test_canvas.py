"""The house canvas: every text drawn as one cached bitmap, where matplotlib draws it (SPEC §14 rev 2)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lightlane.report.drawing import canvas
from lightlane.report.drawing.canvas import HouseCanvas, HouseRenderer, house_canvas


def _pixels(fig: Figure, canvas_class: type[FigureCanvasAgg]) -> np.ndarray:
    drawn = canvas_class(fig)
    drawn.draw()
    return np.asarray(drawn.buffer_rgba())[..., :3].astype(np.int64).copy()


def _one_text(text: str, **style) -> Figure:
    fig = Figure(figsize=(3.0, 2.0), dpi=150)
    fig.text(0.4, 0.45, text, **style)
    return fig


def _ink(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The box of the inked pixels (rows, columns) and the total ink."""
    darkness = 255 * 3 - pixels.sum(axis=2)
    rows, columns = np.nonzero(darkness > 96)
    return np.array([rows.min(), rows.max(), columns.min(), columns.max()]), float(darkness.sum())


@pytest.mark.skipif(not canvas.ONE_BITMAP_TEXT, reason="this matplotlib draws texts its own way")
@pytest.mark.parametrize("style", [
    {"fontsize": 9},
    {"fontsize": 14, "fontweight": "bold", "ha": "center", "va": "top"},
    {"fontsize": 10, "rotation": 90, "va": "center"},
    {"fontsize": 11, "rotation": 30, "ha": "right"},
], ids=["plain", "bold-centred", "vertical", "turned"])
def test_a_text_lands_where_matplotlib_draws_it(style: dict) -> None:
    """Whole-pixel placement moves a text by less than a pixel and inks it as much."""
    text = "λ = 0.25 nm · ±1,000 (k)"
    ours, theirs = (_ink(_pixels(_one_text(text, **style), kind)) for kind in (HouseCanvas, FigureCanvasAgg))
    assert np.abs(ours[0] - theirs[0]).max() <= 1, (ours[0], theirs[0])
    assert ours[1] == pytest.approx(theirs[1], rel=0.03)


def test_a_cached_text_is_drawn_again_the_same_in_another_colour() -> None:
    canvas._shaped.clear()
    _pixels(_one_text("0.25", color="red"), HouseCanvas)
    assert len(canvas._shaped) == 1
    from_cache = _pixels(_one_text("0.25", color="blue"), HouseCanvas)
    assert len(canvas._shaped) == 1  # the same bitmap, drawn in blue
    canvas._shaped.clear()
    fresh = _pixels(_one_text("0.25", color="blue"), HouseCanvas)
    assert np.array_equal(from_cache, fresh)
    inked = from_cache.sum(axis=2) < 600
    assert (from_cache[inked][:, 2] > from_cache[inked][:, 0]).all()  # blue, not the red it was made in


@pytest.mark.parametrize("text", ["0.25", "λ centre (nm)", "p_z = 1.36e-03, p_cal = n/a", ""])
@pytest.mark.parametrize("style", [{"size": 9}, {"size": 11, "weight": "bold"}])
def test_texts_measure_as_matplotlib_measures_them(text: str, style: dict) -> None:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(**style)
    for dpi in (72, 150):
        assert (HouseRenderer(10, 10, dpi).get_text_width_height_descent(text, prop, False)
                == RendererAgg(10, 10, dpi).get_text_width_height_descent(text, prop, False))


def test_a_text_in_another_size_or_weight_is_laid_out_again() -> None:
    canvas._shaped.clear()
    for style in ({"fontsize": 9}, {"fontsize": 12}, {"fontsize": 9, "fontweight": "bold"}):
        _pixels(_one_text("0.25", **style), HouseCanvas)
    assert len(canvas._shaped) == 3


def test_mathtext_is_drawn_by_matplotlib() -> None:
    fig = _one_text(r"$\lambda^2_{\rm ref}$", fontsize=12)
    assert np.array_equal(_pixels(fig, HouseCanvas), _pixels(fig, FigureCanvasAgg))


def test_without_the_one_bitmap_calls_texts_are_matplotlib_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canvas, "ONE_BITMAP_TEXT", False)
    fig = _one_text("λ = 0.25 nm", fontsize=10, rotation=30)
    assert np.array_equal(_pixels(fig, HouseCanvas), _pixels(fig, FigureCanvasAgg))


def test_the_renderer_is_made_again_only_when_the_size_changes() -> None:
    fig = _one_text("x")
    drawn = house_canvas(fig)
    assert house_canvas(fig) is drawn and isinstance(drawn.get_renderer(), HouseRenderer)
    first = drawn.get_renderer()
    assert drawn.get_renderer() is first
    fig.set_dpi(72)
    assert drawn.get_renderer() is not first
