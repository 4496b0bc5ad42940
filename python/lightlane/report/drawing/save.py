"""Saving figures as PNG, atomically (SPEC §4.3, §14)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from matplotlib.figure import Figure

from ...store.atomic import atomic_path
from .style import DPI

__all__ = ["save_figure"]


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
    if not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        # The temporary name ends in ".tmp-<pid>-<hex>", so the format must be
        # given explicitly; no bbox_inches="tight", so the pixel size is fixed.
        fig.savefig(tmp, format="png", dpi=dpi)
    return target
