"""Saving figures as PNG, atomically (SPEC §4.3, §14)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ...store.atomic import atomic_path
from ..staging import FigureSet, check_dpi, write_png
from .style import DPI

__all__ = ["FigureSet", "save_figure", "save_figures"]


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: float = DPI) -> Path:
    """Write ``fig`` to ``path`` as a PNG of exactly ``dpi`` × figure-size pixels.

    The PNG is rendered into a temporary sibling and renamed over ``path`` only
    when complete, so a reader never sees a half-written image and a failure
    leaves any previous file untouched. Missing parent folders are created.

    Parameters
    ----------
    fig
        The figure to save (typically from a ``plot_*`` function).
    path
        Target file, conventionally ending in ``.png``.
    dpi
        Output resolution in dots per inch (SPEC §14 default 150, ``--dpi``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    check_dpi(dpi)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        write_png(fig, tmp, dpi)
    return target


def save_figures(figures: Sequence[tuple[Figure, str | os.PathLike[str]]], dpi: float = DPI) -> list[Path]:
    """Write several figures as PNGs, all complete before any is renamed into place (:class:`FigureSet`).

    Parameters
    ----------
    figures
        (figure, target path) pairs; parent folders are created.
    dpi
        Output resolution in dots per inch.

    Returns
    -------
    list of Path
        The targets, in the given order.
    """
    with FigureSet(dpi) as staged:
        for fig, path in figures:
            staged.add(fig, path)
    return staged.paths
