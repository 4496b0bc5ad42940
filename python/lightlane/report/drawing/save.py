"""Saving figures as PNG, atomically (SPEC §4.3, §14)."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import pickle
import signal
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ...store.atomic import atomic_path, fsync_dir, fsync_file, temp_name
from .style import DPI

__all__ = ["FigureSet", "DrawingProcess", "save_figure", "save_figures", "render_split", "PNG_OPTIONS"]

#: zlib level 3 instead of Pillow's 6: about half the encoding time for PNGs some 10 % larger
#: (flat colours and text compress well at any level); the pixels are the same.
PNG_OPTIONS = {"compress_level": 3}


def _check_dpi(dpi: float) -> None:
    if not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")


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
    _check_dpi(dpi)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        # The temporary name ends in ".tmp-<pid>-<hex>", so the format must be
        # given explicitly; no bbox_inches="tight", so the pixel size is fixed.
        fig.savefig(tmp, format="png", dpi=dpi, pil_kwargs=dict(PNG_OPTIONS))
    return target


class FigureSet:
    """Figures rendered one at a time into temporary siblings, then made visible together.

    Each :meth:`add` renders its PNG at once (so a figure object can be changed and
    added again under another name); :meth:`commit` syncs every file, renames each
    over its target and syncs each folder once: one journal commit for a whole figure
    set instead of two per PNG, as :func:`save_figure` pays. Used as a context manager
    it commits on success and otherwise removes every temporary file, leaving all
    targets untouched.

    Parameters
    ----------
    dpi
        Output resolution in dots per inch.

    Example
    -------
    >>> with FigureSet(150) as figures:  # doctest: +SKIP
    ...     figures.add(fig, folder / "spectrum.png")
    >>> figures.paths  # doctest: +SKIP
    """

    def __init__(self, dpi: float = DPI) -> None:
        _check_dpi(dpi)
        self.dpi = dpi
        self._staged: list[tuple[Path, Path]] = []
        self.paths: list[Path] = []

    def add(self, fig: Figure, path: str | os.PathLike[str]) -> Path:
        """Render ``fig`` now into a temporary sibling of ``path`` (its folder is created)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(target)
        self._staged.append((tmp, target))
        # Explicit format: the temporary name does not end in ".png".
        fig.savefig(tmp, format="png", dpi=self.dpi, pil_kwargs=dict(PNG_OPTIONS))
        return target

    def adopt(self, staged: Sequence[tuple[Path, Path]]) -> None:
        """Take over PNGs rendered elsewhere: (temporary file, target) pairs, committed with this set."""
        self._staged.extend((Path(tmp), Path(target)) for tmp, target in staged)

    def commit(self) -> list[Path]:
        """Sync and rename every staged PNG into place; returns the targets in the order added."""
        for tmp, _ in self._staged:
            fsync_file(tmp)
        for tmp, target in self._staged:
            os.replace(tmp, target)
        for folder in dict.fromkeys(target.parent for _, target in self._staged):
            fsync_dir(folder)
        self.paths = [target for _, target in self._staged]
        self._staged = []
        return self.paths

    def discard(self) -> None:
        """Remove every temporary file not yet renamed."""
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged = []

    def __enter__(self) -> FigureSet:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise


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


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _unlink(staged: Sequence[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _die_with(parent: int) -> None:
    """Make this forked process end when ``parent`` does (Linux), so that a killed run leaves no drawer
    writing into a folder its retry has swept."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the request above
        os._exit(1)


def _child(draw: Callable[[FigureSet], None], dpi: float, write_fd: int, parent: int) -> None:
    """The forked drawing process: render, report the staged files (or the error) on the pipe, exit."""
    status = 1
    try:
        _die_with(parent)
        staged = FigureSet(dpi)
        try:
            draw(staged)
            report = {"staged": [[str(tmp), str(target)] for tmp, target in staged._staged]}
            status = 0
        except BaseException as error:
            staged.discard()
            report = {"error": traceback.format_exc()}
            with contextlib.suppress(Exception):  # the same exception in the parent when it pickles
                report["exception"] = base64.b64encode(pickle.dumps(error)).decode("ascii")
        data = json.dumps(report).encode()
        while data:
            data = data[os.write(write_fd, data):]
    finally:
        # No atexit handlers, no flushing of the parent's buffers: this process only drew.
        os._exit(status)


class DrawingProcess:
    """Figures drawn in a forked process while this one goes on (SPEC §14 rev 2: off the critical path).

    ``draw`` runs at once in a child made by ``os.fork`` and renders into temporary files,
    which :meth:`join` takes into a :class:`FigureSet` (committed with it, all or nothing);
    each PNG is the same bytes whichever process drew it. ``draw`` must use only numpy and
    matplotlib on inputs computed before: no polars and no lightlane core, whose thread
    pools do not survive a fork. Without ``os.fork`` or with ``parallel=False``, ``draw``
    runs in this process when joined.

    Parameters
    ----------
    draw
        Adds its figures to the :class:`FigureSet` it is given.
    dpi
        Output resolution.
    parallel
        Fork (True) or draw at :meth:`join` in this process (False).
    """

    def __init__(self, draw: Callable[[FigureSet], None], dpi: float = DPI, *, parallel: bool = True) -> None:
        _check_dpi(dpi)
        self._draw = draw
        self._pid: int | None = None
        self._fd: int | None = None
        if not (parallel and hasattr(os, "fork")):
            return
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns about fork in a threaded process; the child only draws.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(draw, dpi, write_fd, parent)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def _report(self) -> tuple[list[tuple[Path, Path]], BaseException | None]:
        """Wait for the child: its staged (temporary, target) pairs, and its error if it failed."""
        assert self._pid is not None and self._fd is not None
        try:
            message = _read_all(self._fd)
        finally:
            os.close(self._fd)
            _, status = os.waitpid(self._pid, 0)
            self._pid = self._fd = None
        report = json.loads(message) if message else {}
        staged = [(Path(tmp), Path(target)) for tmp, target in report.get("staged", [])]
        if status == 0 and "error" not in report and "staged" in report:
            return staged, None
        text = report.get("error", f"exit status {status}")
        try:
            error = pickle.loads(base64.b64decode(report["exception"]))
            error.add_note("raised in the drawing process:\n" + text)
        except Exception:
            error = RuntimeError("the drawing process failed:\n" + text)
        return staged, error

    def join(self, figures: FigureSet) -> None:
        """Take the child's PNGs into ``figures`` (or draw them here when not forked).

        Raises
        ------
        Exception
            What the drawing process raised (its traceback in a note), or a RuntimeError
            naming its exit status when it died without saying.
        """
        if self._pid is None:
            self._draw(figures)
            return
        staged, error = self._report()
        if error is not None:
            _unlink(staged)
            raise error
        figures.adopt(staged)

    def cancel(self) -> None:
        """Wait for the child and delete what it drew (after a failure elsewhere)."""
        if self._pid is not None:
            # Not killed: it reports what it staged (or discards it on Ctrl-C, which it receives
            # too), so no temporary file of it is left behind.
            _unlink(self._report()[0])


def render_split(figures: FigureSet, here: Callable[[FigureSet], None], elsewhere: Callable[[FigureSet], None],
                 *, parallel: bool = True) -> None:
    """Draw ``elsewhere`` in a forked :class:`DrawingProcess` while this process draws ``here``.

    Both halves are staged in ``figures``; on any failure neither leaves a file behind.
    """
    other = DrawingProcess(elsewhere, figures.dpi, parallel=parallel)
    try:
        here(figures)
    except BaseException:
        other.cancel()
        raise
    other.join(figures)
