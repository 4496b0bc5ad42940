"""The house style of every lightlane plot (SPEC §14), kept in one place.

Figures are built with :class:`matplotlib.figure.Figure` and an Agg canvas
directly, and the style is applied to each figure's own artists rather than
through ``matplotlib.rcParams`` or pyplot: plots drawn in the same process
can then never influence one another, and no display is ever needed. The one
exception is text hinting, which matplotlib takes only from ``rcParams``: it is
set while a figure is drawn or its texts are measured, and put back after
(:func:`lightlane.report.staging.house_text`).
"""

from __future__ import annotations


import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..framing import DPI, title_for
from .canvas import HouseCanvas
from .layout import bottom_legend, legend_columns, text_width_in

__all__ = [
    "DPI",
    "WIDTH_IN",
    "HEIGHT_IN",
    "FONT_SIZE",
    "TITLE_SIZE",
    "COLOR_A",
    "COLOR_B",
    "FIT_LINESTYLE",
    "GRID_LINESTYLE",
    "GRID_ALPHA",
    "CMAP_LINEAR",
    "CMAP_COUNTS",
    "new_figure",
    "style_axes",
    "set_title",
    "title_for",
    "legend_columns",
    "bottom_legend",
    "vector",
    "text_width_in",
    "stairs_line",
]

#: Default figure size in inches.
WIDTH_IN = 7.0
HEIGHT_IN = 4.5
#: Font sizes in points: all text, and titles.
FONT_SIZE = 10.0
TITLE_SIZE = 11.0
#: Dataset A is always black and dataset B always orange, in every plot.
COLOR_A = "black"
COLOR_B = "#e66100"
#: Fitted models are drawn dashed so they never read as data.
FIT_LINESTYLE = "--"
GRID_LINESTYLE = "--"
GRID_ALPHA = 0.3
#: Colour maps: viridis for linear quantities, magma for (log-scaled) counts.
CMAP_LINEAR = "viridis"
CMAP_COUNTS = "magma"

# Room kept free at the figure edges when wrapping titles [in].
_EDGE_MARGIN_IN = 0.25


def _wrap(line: str, size: float, width_in: float) -> list[str]:
    """Greedy word wrap at spaces only, so ids are never split across lines.

    Each line takes the most words that fit (at least one); a line only widens with each word,
    so that count is found by bisection, a few measurements per line rather than one per word.
    """
    words = line.split(" ")
    out: list[str] = []
    while words:
        while len(words) > 1 and not words[0]:
            words.pop(0)  # no line starts with the space it was broken at
        fit, too_many = 1, len(words) + 1  # fit words fit; too_many do not (or are more than there are)
        if text_width_in(" ".join(words), size) <= width_in:
            fit = len(words)
        while too_many - fit > 1:
            middle = (fit + too_many) // 2
            if text_width_in(" ".join(words[:middle]), size) <= width_in:
                fit = middle
            else:
                too_many = middle
        out.append(" ".join(words[:fit]))
        words = words[fit:]
    return out


def style_axes(ax: Axes) -> None:
    """Apply the house style to one axes: no top/right spines, dashed grid, 10 pt text.

    Parameters
    ----------
    ax
        The axes to style in place.
    """
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, linestyle=GRID_LINESTYLE, alpha=GRID_ALPHA)
    # Keep the grid behind the data so it never hides error bars or steps.
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.xaxis.label.set_fontsize(FONT_SIZE)
    ax.yaxis.label.set_fontsize(FONT_SIZE)
    # A fixed title position (y given): otherwise matplotlib measures every tick
    # label at each draw to lift the title over top-side ticks, which no house
    # plot has; the room for titles is kept by layout.arrange.
    ax.set_title("", y=1.0)
    ax.title.set_fontsize(TITLE_SIZE)


def new_figure(width_in: float = WIDTH_IN, height_in: float = HEIGHT_IN, ncols: int = 1) -> tuple[Figure, Axes | np.ndarray]:
    """Create a styled figure with an Agg canvas and ``ncols`` side-by-side axes.

    Parameters
    ----------
    width_in, height_in
        Figure size in inches (SPEC §14: 7 × 4.5 unless a plot states otherwise).
    ncols
        Number of panels in one row.

    Returns
    -------
    (Figure, axes)
        ``axes`` is a single :class:`~matplotlib.axes.Axes` when ``ncols == 1``,
        otherwise a 1-D object array of axes.
    """
    if not (np.isfinite(width_in) and width_in > 0 and np.isfinite(height_in) and height_in > 0):
        raise ValueError(f"figure size must be positive, got {width_in!r} × {height_in!r} in")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols!r}")
    # The figure's own dpi only matters for on-screen sizes; save_figure sets
    # the output resolution. No layout engine: the plot function calls
    # layout.arrange last, which gives every axes a fixed rectangle, so the
    # saved PNG is exactly dpi × inches and nothing is re-measured at save time.
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    HouseCanvas(fig)
    created = [fig.add_axes((0.0, 0.0, 1.0, 1.0)) for _ in range(ncols)]
    for ax in created:
        style_axes(ax)
    axes = created[0] if ncols == 1 else np.array(created, dtype=object)
    return fig, axes


def set_title(fig: Figure, title: str) -> None:
    """Put ``title`` above the plot at 11 pt, wrapped to the figure's width.

    It is a figure title, centred on the figure rather than on the axes, so
    the width available for wrapping is simply the figure width. Wrapping
    happens only at spaces, so ids are never split across lines.

    Parameters
    ----------
    fig
        A figure made by :func:`new_figure`.
    title
        The text, usually from :func:`title_for`.
    """
    available = fig.get_figwidth() - 2 * _EDGE_MARGIN_IN
    lines = [wrapped for line in title.splitlines() for wrapped in _wrap(line, TITLE_SIZE, available)]
    # Anchored by its top edge; layout.arrange moves it to the figure's top border.
    fig.suptitle("\n".join(lines), fontsize=TITLE_SIZE, va="top", y=0.98)


def stairs_line(ax: Axes, values: np.ndarray, edges: np.ndarray, **style) -> Line2D:
    """A step histogram drawn as ``ax.stairs`` draws it (baseline 0 at both ends), but as one line.

    A :class:`~matplotlib.patches.StepPatch` gets its data limits from a Python loop over
    every step of its path, which cost more than drawing a whole panel of steps; a line
    takes them from its vertices at once. The line's data are the step outline:
    ``x = e0, e0, e1, e1, …, en, en`` and ``y = 0, v0, v0, v1, …, v(n-1), 0``.

    Parameters
    ----------
    ax
        The axes to draw on.
    values, edges
        The histogram: n values and n + 1 increasing edges.
    **style
        Line properties (colour, width, label).

    Returns
    -------
    Line2D
        The step outline.
    """
    values = np.asarray(values, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.shape != (values.size + 1,):
        raise ValueError(f"stairs need one more edge than values, got {edges.size} edges for {values.size} values")
    x = np.repeat(edges, 2)
    y = np.concatenate([[0.0], np.repeat(values, 2), [0.0]])
    (line,) = ax.plot(x, y, **style)
    return line


def vector(name: str, values: object, dtype: type = np.float64) -> np.ndarray:
    """``values`` as a one-dimensional array, or a ValueError naming the argument."""
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array
