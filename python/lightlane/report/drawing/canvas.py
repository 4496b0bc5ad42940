"""The canvas every lightlane figure is drawn on: matplotlib's Agg, each text laid out once.

matplotlib 3.11 lays a text out (libraqm) every time it measures or draws it, and draws it
glyph by glyph, placing each at a sub-pixel position through several Python calls.
:class:`HouseCanvas` lays each text out once per process and keeps its size and its bitmap,
placed on whole pixels as matplotlib did up to 3.10: a tick label measured for the layout
and drawn on several panels and figures is laid out once. matplotlib's own text takes
1.2–1.3× the drawing time of a run's figures (``benches/bench.py drawing``); everything but plain
text (mathtext, OpenType features, a language) is measured and drawn by matplotlib.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font

__all__ = ["HouseCanvas", "HouseRenderer", "ONE_BITMAP_TEXT", "house_canvas"]

#: Whether this matplotlib offers what :class:`HouseRenderer` needs; without it texts are drawn by
#: matplotlib's own code.
ONE_BITMAP_TEXT = (all(hasattr(FT2Font, name) for name in ("set_text", "draw_glyphs_to_bitmap", "get_image",
                                                           "get_bitmap_offset", "get_descent"))
                   and hasattr(RendererAgg, "_prepare_font"))

#: How many laid-out texts a process keeps (a run's figures measure and draw a few hundred).
_CACHE_SIZE = 4096


class _Shaped(NamedTuple):
    """A text laid out once by FreeType: its size and descent (for the layout) and its coverage
    bitmap with the bitmap's offset (for drawing), in pixels."""

    width: float
    height: float
    descent: float
    image: np.ndarray
    offset_x: float
    offset_y: float


#: Laid-out texts by (font, size in points, dpi, FreeType load flags, antialiased, text).
_shaped: dict[tuple[Any, ...], _Shaped] = {}


def _plain(ismath: Any, mtext: Any) -> bool:
    """Whether a text is drawn without mathtext, OpenType features or a language (matplotlib ≥ 3.11)."""
    if ismath is not False or not ONE_BITMAP_TEXT:
        return False
    if mtext is None:
        return True
    features, language = getattr(mtext, "get_fontfeatures", None), getattr(mtext, "get_language", None)
    return (features is None or features() is None) and (language is None or language() is None)


class HouseRenderer(RendererAgg):
    """matplotlib's Agg renderer, measuring and drawing a plain text from one cached layout
    (mathtext, and texts with OpenType features or a language set, as matplotlib does)."""

    def _shape(self, text: str, prop: Any, antialiased: bool = True) -> _Shaped:
        font = self._prepare_font(prop)  # matplotlib's font for prop, sized for this dpi
        flags = get_hinting_flag()
        key = (font, prop.get_size_in_points(), self.dpi, flags, antialiased, text)
        shaped = _shaped.get(key)
        if shaped is None:
            font.set_text(text, 0.0, flags=flags)  # unrotated: draw_text_image turns the bitmap
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            width, height = font.get_width_height()
            offset_x, offset_y = font.get_bitmap_offset()
            shaped = _Shaped(width / 64.0, height / 64.0, font.get_descent() / 64.0, font.get_image(),
                             offset_x / 64.0, offset_y / 64.0)
            if len(_shaped) >= _CACHE_SIZE:
                _shaped.clear()
            _shaped[key] = shaped
        return shaped

    def get_text_width_height_descent(self, s, prop, ismath):  # noqa: D102 (RendererAgg's)
        if not _plain(ismath, None):
            return super().get_text_width_height_descent(s, prop, ismath)
        shaped = self._shape(s, prop)
        return shaped.width, shaped.height, shaped.descent

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: D102 (RendererAgg's)
        if not _plain(ismath, mtext):
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        shaped = self._shape(s, prop, bool(gc.get_antialiased()))
        # As matplotlib ≤ 3.10: the descent turned with the text, the bitmap on whole pixels.
        x = round(x + shaped.offset_x + shaped.descent * math.sin(math.radians(angle)))
        y = round(y + shaped.offset_y + shaped.descent * math.cos(math.radians(angle)))
        self._renderer.draw_text_image(shaped.image, x, y + 1, angle, gc)


class HouseCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer is a :class:`HouseRenderer` (made again when the size or dpi changes)."""

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:  # None until the first draw
            self.renderer = HouseRenderer(width, height, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def house_canvas(fig: Any) -> HouseCanvas:
    """``fig``'s canvas, made a :class:`HouseCanvas` when it is not one."""
    canvas = fig.canvas
    return canvas if isinstance(canvas, HouseCanvas) else HouseCanvas(fig)
