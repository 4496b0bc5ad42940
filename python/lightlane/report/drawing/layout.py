"""Fixed figure layouts (SPEC §14 rev 2, "Figure cost"): every axes gets an explicit rectangle.

Constrained layout measures every artist of a figure several times before each save; in a run
it cost more than the drawing itself. Here the room around each axes is computed once, from
the house font sizes and the measured widths of the texts that are actually there (tick
labels, axis labels, titles, the legend), and every axes, colorbar, title and legend is put
at a fixed place in inches. No layout engine runs at draw time, the result depends only on
the texts (never on timing or on a previous draw), and ``savefig`` needs no
``bbox_inches="tight"``, so a PNG is exactly dpi × inches.

A plot function draws into axes made by :func:`~lightlane.report.drawing.style.new_figure`
or :func:`panel_figure` (or taken from a :class:`PanelFigure`, the one small-multiple figure
object the metric figures of a run share), puts the title and an optional
:func:`bottom_legend`, then calls :func:`arrange` last.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import cbook
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.text import Text

from ..staging import house_text
from .canvas import HouseCanvas

__all__ = [
    "EDGE_IN",
    "LINE_SPACING",
    "COLORBAR_WIDTH_IN",
    "Margins",
    "text_size_in",
    "text_width_in",
    "line_height_in",
    "decorations",
    "grid_shape",
    "panel_figure",
    "PanelFigure",
    "share_axes",
    "add_colorbar_axes",
    "make_ticks",
    "bottom_legend",
    "legend_columns",
    "arrange",
]

#: Free border kept at every figure edge [in].
EDGE_IN = 0.12
#: Line spacing of multi-line text, as matplotlib draws it (1.2 × the font size).
LINE_SPACING = 1.2
#: Width of a colorbar and its gap to the axes it belongs to [in].
COLORBAR_WIDTH_IN = 0.15
COLORBAR_PAD_IN = 0.1
# Between the title block or the legend and the nearest axes decoration [in].
_BLOCK_GAP_IN = 0.08
# Between the decorations of neighbouring panels [in].
_PANEL_GAP_IN = 0.22
# matplotlib's defaults for ticks and labels [pt]: major tick length + pad, label pad, title pad.
_TICK_PT = 3.5 + 3.5
_LABELPAD_PT = 4.0
_TITLEPAD_PT = 6.0
# Legend geometry in font-size units (matplotlib's defaults): border pad, row spacing,
# handle box height; columns: handle, handle–text pad and column spacing, plus slack.
_LEGEND_BORDERPAD = 0.4
_LEGEND_LABELSPACING = 0.5
_LEGEND_HANDLEHEIGHT = 0.7
_LEGEND_COLUMN_OVERHEAD_IN = 0.8
# Figures whose height follows their content are a multiple of this tall [in].
_HEIGHT_STEP_IN = 0.5
# Tick labels of an axes the house style has not touched (matplotlib's default) [pt].
_DEFAULT_TICK_SIZE = 10.0


@functools.cache
def _measuring_renderer() -> RendererAgg:
    # A tiny private Agg renderer at 72 dpi, so measured pixels are points.
    return RendererAgg(1, 1, 72)


@functools.cache
def _one_line_in(text: str, size: float) -> tuple[float, float]:
    if not text:
        return 0.0, 0.0
    ismath = cbook.is_math_text(text)
    with house_text():  # measured as it will be drawn
        width, height, _ = _measuring_renderer().get_text_width_height_descent(text, FontProperties(size=size),
                                                                               ismath=ismath)
    return width / 72.0, height / 72.0


def line_height_in(size: float) -> float:
    """Height of one line of text at ``size`` pt, line spacing included [in]."""
    return LINE_SPACING * size / 72.0


def text_size_in(text: str, size: float) -> tuple[float, float]:
    """(width, height) of ``text`` at ``size`` pt in inches, measured through Agg itself.

    Multi-line text is as wide as its widest line and one line height per line tall;
    mathtext (``$...$``, as log-axis tick labels are) is measured as mathtext.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        width, height = _one_line_in(text, size)
        return width, max(height, line_height_in(size) if text else 0.0)
    return max(_one_line_in(line, size)[0] for line in lines), len(lines) * line_height_in(size)


def text_width_in(text: str, size: float) -> float:
    """Rendered width of one line of plain ``text`` at ``size`` pt, in inches."""
    return _one_line_in(text, size)[0]


def _text_extent_in(text: Text) -> tuple[float, float]:
    if not text.get_visible() or not text.get_text():
        return 0.0, 0.0
    return text_size_in(text.get_text(), text.get_fontsize())


# ----------------------------------------------------------------------------- what surrounds one axes


@dataclass(frozen=True)
class Margins:
    """Room outside an axes box (or a figure's plotting area) on each side [in]."""

    left: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    top: float = 0.0


def _tick_labels(axis: Axis) -> list[str]:
    """The major tick labels the next draw will show: the locator's ticks inside the view, formatted."""
    locs = np.asarray(axis.get_majorticklocs(), dtype=np.float64)
    if locs.size == 0:
        return []
    transform = axis.get_transform()
    with np.errstate(all="ignore"):
        lo, hi = sorted(transform.transform(np.asarray(axis.get_view_interval(), dtype=np.float64)))
        scaled = transform.transform(locs)
    tolerance = 1e-10 * max(abs(hi - lo), 1e-300)
    inside = locs[np.isfinite(scaled) & (scaled >= lo - tolerance) & (scaled <= hi + tolerance)]
    return [label for label in axis.get_major_formatter().format_ticks(inside) if label]


def _labels_on(axis: Axis, side: str) -> bool:
    """Whether the tick labels of ``axis`` are drawn on ``side`` (left/right or bottom/top)."""
    return bool(axis.get_tick_params(which="major").get(f"label{side}", side in ("left", "bottom")))


def decorations(ax: Axes) -> Margins:
    """The room the tick labels, axis labels, offset texts and title of ``ax`` take outside its box [in].

    Tick labels are the ones the locator and formatter give for the current view, measured
    with the house fonts; a label or title spanning several lines counts every line.
    """
    return _measure(ax)[0]


def _measure(ax: Axes) -> tuple[Margins, dict[str, float]]:
    """:func:`decorations`, and for the x and y axis the distance from the axes box to its label [in]:
    past the tick labels on the label's side and the label pad, where matplotlib puts it."""
    sides = {"left": 0.0, "right": 0.0, "bottom": 0.0, "top": 0.0}
    label_at: dict[str, float] = {}
    if not ax.axison:
        return Margins(), label_at
    tick_in = _TICK_PT / 72.0
    labelpad_in = _LABELPAD_PT / 72.0
    for axis, near, far in ((ax.yaxis, "left", "right"), (ax.xaxis, "bottom", "top")):
        vertical = axis is ax.yaxis
        # The size from the tick parameters: asking for the tick labels themselves would build the ticks.
        size = float(axis.get_tick_params(which="major").get("labelsize", _DEFAULT_TICK_SIZE))
        labels = _tick_labels(axis) if (_labels_on(axis, near) or _labels_on(axis, far)) else []
        extents = [text_size_in(label, size) for label in labels]
        depth = max((w if vertical else h for w, h in extents), default=0.0)
        overhang = max((h if vertical else w for w, h in extents), default=0.0) / 2
        # A y label is rotated: its height is the room it takes across the axis, as for an x label.
        label_depth = _text_extent_in(axis.label)[1]
        # matplotlib puts the label past the boxes of the tick labels, a line of text as tall as "lp" at least.
        boxes = depth if vertical else max((max(_one_line_in(label, size)[1], _one_line_in("lp", size)[1])
                                            for label in labels), default=0.0)
        for side in (near, far):
            room = 0.0
            shown = bool(labels) and _labels_on(axis, side)
            if shown:
                room += tick_in + depth
            if axis.get_label_position() == side:
                label_at[axis.axis_name] = (tick_in + boxes if shown else 0.0) + labelpad_in
                if label_depth:
                    room += labelpad_in + label_depth
            sides[side] = max(sides[side], room)
        # The last tick label may stick out past the end of the axis by half its size.
        across = ("bottom", "top") if vertical else ("left", "right")
        for side in across:
            sides[side] = max(sides[side], overhang)
        offset = axis.get_major_formatter().get_offset() if labels else ""
        if offset:
            _, offset_h = text_size_in(offset, size)
            if vertical:
                sides["top"] = max(sides["top"], offset_h + tick_in)
            else:
                sides[near] = max(sides[near], tick_in + depth + offset_h + labelpad_in)
    title_h = _text_extent_in(ax.title)[1]  # the house plots use the centred title only
    if title_h:
        sides["top"] = max(sides["top"], title_h + _TITLEPAD_PT / 72.0)
    return Margins(**sides), label_at


def _pin_axis_labels(ax: Axes, label_at: dict[str, float]) -> None:
    """Fix the axis labels of ``ax`` at the distances :func:`_measure` gave, on their sides.

    matplotlib otherwise measures the tick labels of the axes and of its neighbours again at
    every draw to place each label, the same place as here.
    """
    fig = ax.get_figure(root=True)
    box = ax.get_position()
    width_in, height_in = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    for axis in (ax.xaxis, ax.yaxis):
        distance = label_at.get(axis.axis_name)
        if distance is None:
            continue
        side = axis.get_label_position()
        if axis is ax.xaxis:
            axis.set_label_coords(0.5, -distance / height_in if side == "bottom" else 1.0 + distance / height_in)
        else:
            axis.set_label_coords(-distance / width_in if side == "left" else 1.0 + distance / width_in, 0.5)


# ----------------------------------------------------------------------------- figures of panels


def grid_shape(n_panels: int, max_columns: int = 4) -> tuple[int, int]:
    """(rows, columns) of a small multiple of ``n_panels``: the fewest rows, then balanced columns.

    7 panels give 2 × 4, 5 give 2 × 3, 2 give 1 × 2.
    """
    if n_panels < 1:
        raise ValueError(f"a small multiple needs at least one panel, got {n_panels!r}")
    rows = math.ceil(n_panels / max_columns)
    return rows, math.ceil(n_panels / rows)


def panel_figure(n_panels: int, *, panel_width_in: float, min_width_in: float, max_columns: int = 4
                 ) -> tuple[Figure, list[Axes], tuple[int, int]]:
    """A figure with one axes per panel, in reading order, for :func:`arrange` to place.

    The width is ``max(min_width_in, columns × panel_width_in)``; the height is set by
    :func:`arrange` from the axes height it is given. Returns the figure, the axes and
    the (rows, columns) of the grid.
    """
    from .style import DPI, style_axes

    shape = grid_shape(n_panels, max_columns)
    fig = Figure(figsize=(max(min_width_in, shape[1] * panel_width_in), 1.0), dpi=DPI)
    HouseCanvas(fig)
    axes = [fig.add_axes((0.0, 0.0, 1.0, 1.0)) for _ in range(n_panels)]
    for ax in axes:
        style_axes(ax)
    return fig, axes, shape


class PanelFigure:
    """One small-multiple figure that the metric figures of a run draw into in turn (SPEC §14 rev 2).

    Axes and their ticks are the dearest part of a figure to make and to draw the first
    time; the metric figures of a run (histograms, P2 concentration, timescales of A and
    of B) all have one panel per test metric, so they share one figure object: each
    :meth:`take` returns the same figure and axes, cleared of the previous drawing (data
    artists, texts, titles, labels, legend, scales, limits) and styled as new, but for which
    tick labels show: each drawing sets those with :func:`share_axes`. The PNGs are the same
    bytes as those of new figures; save each drawing before the next.

    Example
    -------
    >>> panels = PanelFigure()
    >>> fig, axes, shape = panels.take(7)  # 2 × 4 panels, the last slot empty
    >>> shape
    (2, 4)
    """

    def __init__(self) -> None:
        self.figure: Figure | None = None
        self.axes: list[Axes] = []
        self.shape = (1, 1)
        #: The colorbar of the panels (timescales); hidden while a drawing has none.
        self.colorbar = None
        #: Each axis's linear scale, locators and formatters as :meth:`_clear` last installed them.
        self._linear: dict[Axis, tuple] = {}

    def take(self, n_panels: int) -> tuple[Figure, list[Axes], tuple[int, int]]:
        """The figure with ``n_panels`` clean axes in reading order, and the grid's (rows, columns)."""
        from .analysis import PANEL_WIDTH_IN
        from .style import WIDTH_IN

        if self.figure is None or len(self.axes) != n_panels:
            self.figure, self.axes, self.shape = panel_figure(n_panels, panel_width_in=PANEL_WIDTH_IN,
                                                              min_width_in=WIDTH_IN)
            self.colorbar = None
            self._linear = {}
        else:
            self._clear()
        return self.figure, self.axes, self.shape

    def _clear(self) -> None:
        from .style import GRID_ALPHA, GRID_LINESTYLE

        for legend in list(self.figure.legends):
            legend.remove()
        for ax in self.axes:
            for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
                artist.remove()
            ax.set_title("")
            ax.set_xlabel("")
            ax.set_ylabel("")
            # Set again only where the last drawing changed them: setting a scale makes new locators and
            # formatters, and setting the grid goes over every tick.
            self._make_linear(ax.xaxis, ax.set_xscale)
            self._make_linear(ax.yaxis, ax.set_yscale)
            if not (_grid_on(ax.xaxis) and _grid_on(ax.yaxis)):
                ax.grid(True, linestyle=GRID_LINESTYLE, alpha=GRID_ALPHA)
            # Limits as on a new axes, following the next drawing's data again (a drawing may
            # have fixed them, or made autoscaling tight).
            ax.relim()
            ax.autoscale_view(tight=False)
            ax.set_xlim(0.0, 1.0)
            ax.set_ylim(0.0, 1.0)
            ax.set_autoscale_on(True)
        if self.colorbar is not None:
            self.colorbar.ax.set_visible(False)

    def _make_linear(self, axis: Axis, set_scale: Callable[[str], object]) -> None:
        """A linear scale with its default locators and formatters, as on a new axes.

        A new scale makes new locators and formatters, and a formatter costs a font lookup to
        make; a drawing that only replaced them gets the ones made last back.
        """
        installed = self._linear.get(axis)
        if installed is None or axis.get_scale() != "linear":
            set_scale("linear")
            self._linear[axis] = _tickers(axis)
        elif any(now is not then for now, then in zip(_tickers(axis), installed)):
            major_locator, major_formatter, minor_locator, minor_formatter = installed
            axis.set_major_locator(major_locator)
            axis.set_major_formatter(major_formatter)
            axis.set_minor_locator(minor_locator)
            axis.set_minor_formatter(minor_formatter)
            # As a new scale leaves them (units may then install their own).
            axis.isDefault_majloc = axis.isDefault_majfmt = axis.isDefault_minloc = axis.isDefault_minfmt = True


def _tickers(axis: Axis) -> tuple:
    return (axis.get_major_locator(), axis.get_major_formatter(), axis.get_minor_locator(), axis.get_minor_formatter())


def _grid_on(axis: Axis) -> bool:
    return bool(axis.get_tick_params(which="major").get("gridOn"))


def share_axes(axes: Sequence[Axes], shape: tuple[int, int], *, x: bool = False, y: bool = False,
               among: Sequence[Axes] | None = None) -> None:
    """One x (and/or y) range for the panels of a small multiple, tick labels on the outer ones only.

    Panels on one scale read against each other at a glance, and the tick labels of the inner
    panels, the dearest texts of a figure to draw, are not drawn. Call it once the panels
    are drawn: the range is the union of their limits.

    Parameters
    ----------
    axes
        The panels in reading order, as given to :func:`arrange`.
    shape
        (rows, columns) of the grid.
    x, y
        Which axes to share.
    among
        The panels that share (default: all); a panel left out (one saying it has no data)
        keeps its own range and shows its tick labels.

    Every panel's bottom and left tick labels are set (shown, or not on an inner panel), so a
    :class:`PanelFigure` drawing ends with the labels it needs whatever the last one left.
    """
    member = [among is None or any(ax is chosen for chosen in among) for ax in axes]
    members = [ax for ax, shares in zip(axes, member) if shares]
    sharing = len(members) >= 2
    if sharing and x:
        lows, highs = zip(*(ax.get_xlim() for ax in members))
        for ax in members:
            ax.set_xlim(min(lows), max(highs))
    if sharing and y:
        lows, highs = zip(*(ax.get_ylim() for ax in members))
        for ax in members:
            ax.set_ylim(min(lows), max(highs))
    columns = shape[1]
    for index, ax in enumerate(axes):
        inner = sharing and member[index]
        row_start = index - index % columns
        # Labels left off where a panel to the left (or one below) shows the same ones.
        _show_tick_labels(ax, bottom=not (inner and x and any(member[index + columns::columns])),
                          left=not (inner and y and any(member[row_start:index])))


def _show_tick_labels(ax: Axes, *, bottom: bool, left: bool) -> None:
    """Tick labels of ``ax`` shown (or not) at the bottom and on the left; set only where they change,
    since each change goes over every tick of the axis."""
    if _labels_on(ax.xaxis, "bottom") != bottom:
        ax.xaxis.set_tick_params(labelbottom=bottom)
    if _labels_on(ax.yaxis, "left") != left:
        ax.yaxis.set_tick_params(labelleft=left)


def make_ticks(fig: Figure, count: int) -> None:
    """Make ``count`` major ticks on both axes of every axes of ``fig`` now, rather than when it is drawn.

    A drawing worker makes the ticks of the figures every worker draws before it forks the
    others, so they are made once rather than in each; ticks made before an axes is styled
    take its style as ticks made after do.
    """
    for ax in fig.axes:
        ax.xaxis.get_major_ticks(count)
        ax.yaxis.get_major_ticks(count)


def add_colorbar_axes(fig: Figure) -> Axes:
    """An axes for a colorbar; :func:`arrange` puts it right of the axes grid."""
    return fig.add_axes((0.0, 0.0, 1.0, 1.0))


def legend_columns(labels: Sequence[str], width_in: float, max_columns: int = 2) -> int:
    """How many legend columns (at most ``max_columns``) fit across ``width_in`` inches.

    Parameters
    ----------
    labels
        The legend texts (at the house 10 pt); multi-line labels count by their widest line.
    width_in
        Width available, normally the figure width.
    max_columns
        Upper limit on the result.

    Returns
    -------
    int
        The largest column count whose width fits, at least 1.
    """
    from .style import FONT_SIZE

    widest = max((text_width_in(line, FONT_SIZE) for label in labels for line in label.splitlines()), default=0.0)
    column_in = widest + _LEGEND_COLUMN_OVERHEAD_IN
    return max(1, min(max_columns, int((width_in - 2 * EDGE_IN) // column_in)))


def bottom_legend(fig: Figure, handles: list, max_columns: int, *, ncols: int | None = None) -> Legend:
    """One legend below the axes, as in every house plot, so it never hides data.

    Columns are filled one after the other (A's entries left, B's right, when two fit);
    :func:`arrange` reserves its height and anchors it at the bottom edge.
    """
    from .style import FONT_SIZE

    labels = [h.get_label() for h in handles]
    if ncols is None:
        ncols = legend_columns(labels, fig.get_figwidth(), max_columns=max_columns)
    return fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0.0,
                      frameon=False, fontsize=FONT_SIZE, ncols=ncols)


def _legend_height_in(legend: Legend) -> float:
    """Height of a frameless legend: its rows (the tallest label of each), row spacing and border pad."""
    texts = [t.get_text() for t in legend.get_texts()]
    if not texts:
        return 0.0
    size = legend.get_texts()[0].get_fontsize()
    columns = max(1, int(getattr(legend, "_ncols", 1)))
    rows = math.ceil(len(texts) / columns)
    em = size / 72.0
    row_heights = []
    for row in range(rows):
        lines = max(texts[column * rows + row].count("\n") + 1
                    for column in range(columns) if column * rows + row < len(texts))
        row_heights.append(max(lines * line_height_in(size), _LEGEND_HANDLEHEIGHT * em))
    return sum(row_heights) + (rows - 1) * _LEGEND_LABELSPACING * em + 2 * _LEGEND_BORDERPAD * em


def _with_header(margins: Margins, header_in: float) -> Margins:
    return Margins(margins.left, margins.right, margins.bottom, max(margins.top, header_in))


def _suptitle(fig: Figure) -> Text | None:
    title = fig.get_suptitle()
    if not title:
        return None
    return next((t for t in fig.texts if t.get_text() == title), None)


def arrange(fig: Figure, axes: Sequence[Axes], *, shape: tuple[int, int] = (1, 1), colorbar: Axes | None = None,
            axes_height_in: float | None = None, header_in: float = 0.0) -> None:
    """Put the title, the axes (a rows × columns grid, in reading order), a colorbar and the legend in place.

    Parameters
    ----------
    fig
        The figure, with its title (:func:`~lightlane.report.drawing.style.set_title`) and
        legend (:func:`bottom_legend`, at most one) already made.
    axes
        The axes of the grid in reading order; fewer than rows × columns leaves the last
        slots empty.
    shape
        (rows, columns) of the grid.
    colorbar
        An axes holding a colorbar for the whole grid, placed right of it over every row.
    axes_height_in
        Least height of every axes [in]; the figure height follows, rounded up to a
        whole number of half inches (the axes take the rest). None keeps the figure
        height and shares what is left of it among the rows.
    header_in
        Room to keep above every axes for texts a plot puts there itself (annotations
        in axes coordinates rather than a title) [in].

    Notes
    -----
    The axes are placed twice: the tick locators choose their ticks from the axes size, so
    the room for the tick labels is measured again once the axes have roughly their final
    size. The axis labels are then fixed past the final tick labels, where matplotlib
    would otherwise place them again at every draw. Column widths and row heights are
    equal; the room between them is the largest decoration in that column or row.
    """
    rows, columns = shape
    if len(axes) > rows * columns or not axes:
        raise ValueError(f"{len(axes)} axes do not fit a {rows} × {columns} grid")
    width = fig.get_figwidth()
    title = _suptitle(fig)
    title_h = _text_extent_in(title)[1] if title is not None else 0.0
    legend = fig.legends[0] if fig.legends else None
    legend_h = _legend_height_in(legend) if legend is not None else 0.0
    top_block = EDGE_IN + (title_h + _BLOCK_GAP_IN if title_h else 0.0)
    bottom_block = EDGE_IN + (legend_h + _BLOCK_GAP_IN if legend_h else 0.0)
    grid = [[axes[r * columns + c] if r * columns + c < len(axes) else None for c in range(columns)]
            for r in range(rows)]

    guess = Margins(left=0.6, right=0.15, bottom=0.5, top=max(0.1, header_in))
    margins = {id(ax): guess for ax in axes}
    for _ in range(2):
        col_left = [max(margins[id(ax)].left for ax in (row[c] for row in grid) if ax is not None) for c in range(columns)]
        col_right = [max(margins[id(ax)].right for ax in (row[c] for row in grid) if ax is not None)
                     for c in range(columns)]
        row_top = [max(margins[id(ax)].top for ax in row if ax is not None) for row in grid]
        row_bottom = [max(margins[id(ax)].bottom for ax in row if ax is not None) for row in grid]
        # A colorbar keeps clear of the last column's tick labels, which may stick out past its axes.
        colorbar_pad = max(COLORBAR_PAD_IN, col_right[-1])
        right_w = col_right[-1]
        if colorbar is not None:
            right_w = colorbar_pad + COLORBAR_WIDTH_IN + decorations(colorbar).right
        free_w = (width - 2 * EDGE_IN - sum(col_left) - sum(col_right[:-1]) - right_w - (columns - 1) * _PANEL_GAP_IN)
        axes_w = max(free_w / columns, 0.2)
        fixed_h = top_block + bottom_block + sum(row_top) + sum(row_bottom) + (rows - 1) * _PANEL_GAP_IN
        if axes_height_in is None:
            height = fig.get_figheight()
            axes_h = max((height - fixed_h) / rows, 0.2)
        else:
            # A whole number of half inches (exact in binary): the PNG is then exactly
            # dpi × inches pixels at every usual dpi; the rounding goes to the axes.
            height = math.ceil((fixed_h + rows * axes_height_in) / _HEIGHT_STEP_IN - 1e-9) * _HEIGHT_STEP_IN
            axes_h = (height - fixed_h) / rows
            fig.set_size_inches(width, height)
        x0 = [EDGE_IN + sum(col_left[:c + 1]) + sum(col_right[:c]) + c * (axes_w + _PANEL_GAP_IN)
              for c in range(columns)]
        y_top = [height - top_block - sum(row_top[:r + 1]) - sum(row_bottom[:r]) - r * (axes_h + _PANEL_GAP_IN)
                 for r in range(rows)]
        for r, row in enumerate(grid):
            for c, ax in enumerate(row):
                if ax is not None:
                    ax.set_position((x0[c] / width, (y_top[r] - axes_h) / height, axes_w / width, axes_h / height))
        if colorbar is not None:
            right = x0[-1] + axes_w + colorbar_pad
            low = y_top[-1] - axes_h
            colorbar.set_position((right / width, low / height, COLORBAR_WIDTH_IN / width, (y_top[0] - low) / height))
        measured = {id(ax): _measure(ax) for ax in axes}
        margins = {key: _with_header(found[0], header_in) for key, found in measured.items()}
    # The labels where the final tick labels put them (measured above, at the final sizes).
    for ax in axes:
        _pin_axis_labels(ax, measured[id(ax)][1])
    if colorbar is not None:
        _pin_axis_labels(colorbar, _measure(colorbar)[1])
    if title is not None:
        title.set_position((0.5, 1.0 - EDGE_IN / height))
        title.set_verticalalignment("top")
    if legend is not None:
        legend.set_bbox_to_anchor((0.5, EDGE_IN / height), transform=fig.transFigure)
