"""Search progress (``search_progress_<study>.png``, SPEC §14): J per trial and the running best."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .layout import arrange, bottom_legend
from .style import COLOR_A, COLOR_B, new_figure, set_title, title_for

__all__ = ["MODE_COLORS", "plot_search_progress"]

#: Trial points are coloured by mode; the running best is drawn in black.
MODE_COLORS = {"search": "#5d3a9b", "refine": COLOR_B}


def plot_search_progress(indices: Sequence[int], objectives: Sequence[float | None], modes: Sequence[str], *,
                         study: str, target: str, processing: str) -> Figure:
    """Trial index vs J: one point per finite trial (coloured by mode) and the running best.

    Parameters
    ----------
    indices, objectives, modes
        One entry per trial; non-finite or missing J (failed, running) is not drawn.
    study, target, processing
        For the title (the target dataset, the processing id and the study).

    Returns
    -------
    Figure

    Examples
    --------
    >>> fig = plot_search_progress([0, 1], [2.0, 1.0], ["search", "search"], study="s", target="t", processing="p")
    """
    if not len(indices) == len(objectives) == len(modes):
        raise ValueError("indices, objectives and modes differ in length")
    index = np.asarray(indices, dtype=np.int64)
    j = np.array([math.nan if v is None else float(v) for v in objectives], dtype=np.float64)
    mode = np.asarray(modes, dtype=object)
    order = np.argsort(index, kind="stable")
    index, j, mode = index[order], j[order], mode[order]
    fig, ax = new_figure()
    finite = np.isfinite(j)
    for name in sorted(set(mode[finite].tolist())):
        pick = finite & (mode == name)
        ax.plot(index[pick], j[pick], "o", ms=4, color=MODE_COLORS.get(name, "grey"), label=f"{name} trials")
    if finite.any():
        best = np.minimum.accumulate(np.where(finite, j, np.inf))
        shown = np.isfinite(best)
        ax.step(index[shown], best[shown], where="post", color=COLOR_A, lw=1.2, label="running best")
        bottom_legend(fig, ax.get_legend_handles_labels()[0], 3)
    ax.set_xlabel("trial index")
    ax.set_ylabel("J = D_var + D_spec")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    failed = int(np.count_nonzero(~finite))
    note = f" · {failed} trial(s) without J" if failed else ""
    set_title(fig, f"search progress · study {study}{note}\n" + title_for([target], processing, None))
    arrange(fig, [ax])
    return fig
