"""PNG files staged and made visible together, and the forked workers that draw them (SPEC §4.3, §14 rev 2).

Nothing here imports matplotlib. A run starts its :class:`DrawingWorkers` before it reads a
single event: they load the figure modules on the other core while the run reads and
analyses (the run itself never loads matplotlib), then draw the figure jobs they are sent
while the run writes its datasets. Each worker renders into temporary siblings of its
targets; the run commits them with its own :class:`FigureSet`, all or nothing.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import math
import os
import pickle
import signal
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..store.atomic import fsync_dir, fsync_file, temp_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FigureSet", "DrawingWorkers", "PNG_OPTIONS", "check_dpi"]

#: zlib level 3 instead of Pillow's 6: about half the encoding time for PNGs some 10 % larger
#: (flat colours and text compress well at any level); the pixels are the same.
PNG_OPTIONS = {"compress_level": 3}


def check_dpi(dpi: float) -> None:
    if not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")


class FigureSet:
    """Figures rendered one at a time into temporary siblings, then made visible together.

    Each :meth:`add` renders its PNG at once (so a figure object can be changed and
    added again under another name); :meth:`commit` syncs every file, renames each
    over its target and syncs each folder once: one journal commit for a whole figure
    set instead of two per PNG. Used as a context manager it commits on success and
    otherwise removes every temporary file, leaving all targets untouched.

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

    def __init__(self, dpi: float) -> None:
        check_dpi(dpi)
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
        _unlink(self._staged)
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


#: What a worker calls on each batch it is sent: ``draw(batch, folder, figures)``.
DrawBatch = Callable[[Sequence[Any], Path, FigureSet], None]


class DrawingWorkers:
    """Forked processes that import the drawing code now and draw what :meth:`submit` sends them later.

    One process is forked at construction; it imports ``entry``'s module (matplotlib and the
    figure modules, about half a second) and then forks its siblings, which inherit the
    import. Each worker draws one batch into temporary files and reports them; :meth:`join`
    takes them into a :class:`FigureSet`. Drawing code must use only numpy and matplotlib on
    the inputs it is sent: no polars and no lightlane core, whose thread pools do not survive
    a fork. Without ``os.fork`` or with ``parallel=False`` the batches are drawn here at
    :meth:`join`. A killed run takes its workers with it (Linux), so no worker writes into a
    folder a retry has swept.

    Parameters
    ----------
    entry
        ``"module:function"``, the :data:`DrawBatch` the workers call.
    workers
        The number of worker processes (batches).
    parallel
        Fork (True) or draw in this process (False).
    """

    def __init__(self, entry: str, *, workers: int = 2, parallel: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers!r}")
        self.entry, self.workers = entry, workers
        self._pid: int | None = None
        self._send: list[int] = []
        self._reports: list[int] = []
        self._sender: threading.Thread | None = None
        self._local: tuple[Sequence[Sequence[Any]], Path, float] | None = None
        if not (parallel and hasattr(os, "fork")):
            return
        pipes = [(*os.pipe(), *os.pipe()) for _ in range(workers)]  # (jobs r, jobs w, report r, report w)
        parent = os.getpid()
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns about fork in a threaded process; the workers only draw.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            for _, jobs_w, report_r, _ in pipes:
                os.close(jobs_w)
                os.close(report_r)
            _serve(entry, [(jobs_r, report_w) for jobs_r, _, _, report_w in pipes], parent)
        for jobs_r, _, _, report_w in pipes:
            os.close(jobs_r)
            os.close(report_w)
        self._pid = pid
        self._send = [jobs_w for _, jobs_w, _, _ in pipes]
        self._reports = [report_r for _, _, report_r, _ in pipes]

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def submit(self, batches: Sequence[Sequence[Any]], folder: Path, dpi: float) -> None:
        """Send each worker its batch (at most ``workers`` of them) to draw into ``folder``; returns at once."""
        check_dpi(dpi)
        if len(batches) > self.workers:
            raise ValueError(f"{len(batches)} batches for {self.workers} workers")
        if self._pid is None:
            self._local = (batches, Path(folder), dpi)
            return
        padded = list(batches) + [[]] * (self.workers - len(batches))
        payloads = [pickle.dumps((list(batch), str(folder), dpi), protocol=pickle.HIGHEST_PROTOCOL)
                    for batch in padded]
        # Written by a thread: a worker still importing reads nothing yet, and a pipe holds 64 KiB.
        self._sender = threading.Thread(target=_send_all, args=(self._send, payloads), daemon=True)
        self._send = []
        self._sender.start()

    def join(self, figures: FigureSet) -> None:
        """Take the workers' PNGs into ``figures`` (or draw the batches here when not forked).

        Raises
        ------
        Exception
            What a worker raised (its traceback in a note), or a RuntimeError naming the exit
            status of a worker that died without saying.
        """
        if self._pid is None:
            if self._local is not None:
                batches, folder, _ = self._local
                draw = _resolve(self.entry)
                for batch in batches:
                    draw(batch, folder, figures)
            return
        staged, error = self._collect()
        if error is not None:
            _unlink(staged)
            raise error
        figures.adopt(staged)

    def cancel(self) -> None:
        """Stop the workers and delete whatever they drew (after a failure elsewhere)."""
        if self._pid is None:
            return
        if self._sender is None:  # nothing sent, so nothing drawn: no need to wait for an import
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)  # its siblings die with it
        _unlink(self._collect()[0])

    def _collect(self) -> tuple[list[tuple[Path, Path]], BaseException | None]:
        """Wait for every worker: the (temporary, target) pairs they staged, and the first error."""
        for fd in self._send:  # never submitted: a worker reading end-of-file stops
            os.close(fd)
        self._send = []
        messages: list[bytes] = []
        try:
            for fd in self._reports:
                messages.append(_read_all(fd))
        finally:
            for fd in self._reports:
                os.close(fd)
            self._reports = []
            _, status = os.waitpid(self._pid, 0)  # type: ignore[arg-type]
            self._pid = None
            if self._sender is not None:
                self._sender.join()
                self._sender = None
        staged: list[tuple[Path, Path]] = []
        error: BaseException | None = None
        for message in messages:
            report = json.loads(message) if message else {}
            staged += [(Path(tmp), Path(target)) for tmp, target in report.get("staged", [])]
            if error is None and ("error" in report or "staged" not in report):
                error = _worker_error(report, status)
        return staged, error


def _worker_error(report: dict[str, Any], status: int) -> BaseException:
    text = report.get("error", f"exit status {status}")
    try:
        error = pickle.loads(base64.b64decode(report["exception"]))
        error.add_note("raised in a drawing process:\n" + text)
    except Exception:
        error = RuntimeError("a drawing process failed:\n" + text)
    return error


def _resolve(entry: str) -> DrawBatch:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def _send_all(fds: Sequence[int], payloads: Sequence[bytes]) -> None:
    for fd, data in zip(fds, payloads):
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            pass  # that worker is gone; its missing report says so
        finally:
            os.close(fd)


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
    """Make this forked process end when ``parent`` does (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the request above
        os._exit(1)


def _serve(entry: str, pipes: Sequence[tuple[int, int]], parent: int) -> NoReturn:
    """The first worker: import the drawing code, fork the others, draw batch 0, wait for them, exit."""
    status, index, children = 1, 0, []
    try:
        _die_with(parent)
        try:
            draw: DrawBatch | BaseException = _resolve(entry)
        except BaseException as error:  # reported with the first batch
            draw = error
        first = os.getpid()
        for number in range(1, len(pipes)):
            pid = os.fork()
            if pid == 0:
                index, children = number, []
                _die_with(first)
                break
            children.append(pid)
        for number, (jobs_fd, report_fd) in enumerate(pipes):
            if number != index:
                os.close(jobs_fd)
                os.close(report_fd)
        status = _work(draw, *pipes[index])
        for pid in children:
            os.waitpid(pid, 0)
    finally:
        # No atexit handlers, no flushing of the run's buffers: this process only drew.
        os._exit(status)


def _work(draw: DrawBatch | BaseException, jobs_fd: int, report_fd: int) -> int:
    """Draw the batch read from ``jobs_fd``; write the staged files (or the error) to ``report_fd``."""
    status = 1
    staged: FigureSet | None = None
    report: dict[str, Any]
    try:
        message = _read_all(jobs_fd)
        if not message:  # cancelled before anything was sent
            report, status = {"staged": []}, 0
        else:
            batch, folder, dpi = pickle.loads(message)
            staged = FigureSet(dpi)
            if isinstance(draw, BaseException):
                raise draw
            draw(batch, Path(folder), staged)
            report, status = {"staged": [[str(tmp), str(target)] for tmp, target in staged._staged]}, 0
    except BaseException as error:
        if staged is not None:
            staged.discard()
        report = {"error": traceback.format_exc()}
        with contextlib.suppress(Exception):  # the same exception in the run when it unpickles
            report["exception"] = base64.b64encode(pickle.dumps(error)).decode("ascii")
    data = memoryview(json.dumps(report).encode())
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(report_fd, data):]
    os.close(report_fd)
    return status
