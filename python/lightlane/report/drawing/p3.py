"""The P3 figure (SPEC §11.9, §14): the stacked power S(s, c) and its profile at the best slope.

Top: S(s, c) − 2 as an image over intercept c (ln f at λ = 0) and slope s, the maximum marked;
a lanesheet shows one bright spot at (ĉ, ŝ), a null dataset only noise. Bottom: the stack at
ŝ, S(ŝ, c) − 2 against c, where the lanesheet's striations add up into one peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from .layout import add_colorbar_axes, arrange, share_axes
from .style import CMAP_LINEAR, COLOR_A, FONT_SIZE, new_figure, set_title

__all__ = ["P3Panel", "plot_p3"]

P3_SIZE_IN = (7.0, 6.5)


@dataclass(frozen=True, eq=False)
class P3Panel:
    """What the P3 figure shows of one dataset (arrays only: it may be drawn in another process).

    Attributes
    ----------
    slopes, intercepts_ln_hz
        The image axes s_i [1/nm] and c_k [ln Hz].
    image
        S(s_i, c_k), shape (slopes, intercepts), NaN where undefined.
    stat, slope, intercept_ln_hz
        S_max − 2 and its argmax (ŝ, ĉ).
    verdict
        A one-line verdict text for the figure (calibrated verdict and p-value), or "".
    """

    slopes: np.ndarray
    intercepts_ln_hz: np.ndarray
    image: np.ndarray
    stat: float
    slope: float
    intercept_ln_hz: float
    verdict: str = ""


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around equally spaced centres (one cell of width 1 when there is one centre)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    half = 0.5 * (centres[1] - centres[0])
    return np.concatenate([[centres[0] - half], centres + half])


def plot_p3(panel: P3Panel, *, title: str) -> Figure:
    """The P3 figure of one dataset (see the module docstring)."""
    image = np.asarray(panel.image, dtype=np.float64)
    slopes = np.asarray(panel.slopes, dtype=np.float64)
    intercepts = np.asarray(panel.intercepts_ln_hz, dtype=np.float64)
    if image.shape != (slopes.size, intercepts.size):
        raise ValueError(f"image must be {slopes.size} × {intercepts.size}, got {image.shape}")
    fig, (top, bottom) = new_figure(*P3_SIZE_IN, ncols=2)  # two axes; arrange stacks them
    top.grid(False)  # no grid over an image
    finite = image[np.isfinite(image)]
    low, high = (float(finite.min()) - 2.0, float(finite.max()) - 2.0) if finite.size else (0.0, 1.0)
    x_edges, y_edges = _edges(intercepts), _edges(slopes)
    # One image rather than a mesh of 251 × ~700 quads: the grid is regular, and it renders in a fraction.
    mesh = top.imshow(np.ma.masked_invalid(image - 2.0), cmap=CMAP_LINEAR, vmin=low, vmax=max(high, low + 1e-12),
                      origin="lower", aspect="auto", interpolation="nearest",
                      extent=(x_edges[0], x_edges[-1], y_edges[0], y_edges[-1]))
    top.plot([panel.intercept_ln_hz], [panel.slope], marker="x", color="white", markersize=9, markeredgewidth=2,
             linestyle="none")
    top.set_ylabel("slope s (ln Hz per nm)")
    top.set_title(f"S(s, c) − 2; maximum {panel.stat:.3g} at ŝ = {panel.slope:.3g} /nm (×)", fontsize=FONT_SIZE)
    colorbar_ax = add_colorbar_axes(fig)
    colorbar = fig.colorbar(mesh, cax=colorbar_ax)
    colorbar.set_label("mean Leahy power − 2", fontsize=FONT_SIZE)
    colorbar.ax.tick_params(labelsize=FONT_SIZE)

    row = image[int(np.argmin(np.abs(slopes - panel.slope)))] - 2.0
    bottom.plot(intercepts, row, color=COLOR_A, linewidth=1.0, drawstyle="steps-mid")
    bottom.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    bottom.axvline(panel.intercept_ln_hz, color="grey", linewidth=0.8, linestyle=":")
    bottom.set_xlim(top.get_xlim())
    share_axes([top, bottom], (2, 1), x=True)  # one intercept axis, labelled under the lower panel
    bottom.set_xlabel("intercept c: ln f at λ = 0 (ln Hz)")
    bottom.set_ylabel("S(ŝ, c) − 2")
    bottom.set_title(f"bins stacked along ln f = c + ŝ·λ{' · ' + panel.verdict if panel.verdict else ''}",
                     fontsize=FONT_SIZE)
    set_title(fig, title)
    arrange(fig, [top, bottom], shape=(2, 1), colorbar=colorbar_ax, header_in=0.3)
    return fig

