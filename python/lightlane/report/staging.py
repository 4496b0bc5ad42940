"""PNG files staged and made visible together, and the forked workers that draw them (SPEC §4.3, §14 rev 2).

Nothing here imports matplotlib at import time. A run starts its :class:`DrawingWorkers`
before it reads a single event: they load the figure modules on the other core while the
run reads and analyses (the run itself never loads matplotlib), then each takes a figure
job as soon as it is free, while the run computes its tests and writes its datasets. Each
worker renders into temporary siblings of its targets; the run commits them with its own
:class:`FigureSet`, all or nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import pickle
import queue
import signal
import struct
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .. import _core
from ..store.atomic import fsync_dir, fsync_file, temp_name
from ..version import CODE_VERSION

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FigureSet", "DrawingWorkers", "write_png", "check_dpi", "house_text", "TEXT_HINTING"]

#: How every lightlane figure draws its text: unhinted, as PDF viewers do, glyph shapes that do not
#: bend to the pixel grid. At 150 dpi it reads as hinted text does, which takes a little longer
#: (``benches/bench.py drawing``).
TEXT_HINTING = "no_hinting"


def check_dpi(dpi: float) -> None:
    if not (math.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")


@contextlib.contextmanager
def house_text() -> Iterator[None]:
    """matplotlib's ``text.hinting`` set to :data:`TEXT_HINTING` while a figure is drawn or its texts
    measured (the one setting the house style takes from ``rcParams``: a text has no hinting of
    its own), and put back after."""
    import matplotlib

    previous = matplotlib.rcParams["text.hinting"]
    matplotlib.rcParams["text.hinting"] = TEXT_HINTING
    try:
        yield
    finally:
        matplotlib.rcParams["text.hinting"] = previous


def write_png(fig: Figure, path: str | os.PathLike[str], dpi: float) -> None:
    """Write ``fig`` to ``path`` as a PNG: matplotlib's Agg pixels, encoded by the Rust core.

    ``savefig`` hands PNGs to Pillow, whose encoding is a fifth of a figure's time; the core
    (zlib level 1, adaptive row filters) is 6–8× faster for files about 10 % larger
    (``benches/bench.py png``).
    The pixels are those of ``fig`` drawn at ``dpi`` on a
    :class:`~lightlane.report.drawing.canvas.HouseCanvas` under :func:`house_text` (the size is
    the figure's), read from the canvas without a copy.
    """
    import matplotlib
    import numpy as np

    from .drawing.canvas import house_canvas

    check_dpi(dpi)
    canvas = house_canvas(fig)
    shown = fig.dpi
    fig.set_dpi(dpi)
    try:
        with house_text():
            canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        software = f"lightlane {CODE_VERSION} (Matplotlib {matplotlib.__version__})"
        data = _core.encode_png(pixels, dpi, [("Software", software)])
    finally:
        fig.set_dpi(shown)
    Path(path).write_bytes(data)


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
        write_png(fig, tmp, self.dpi)
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


#: What a worker calls on each unit it is sent: ``draw(unit, folder, figures, state)``; ``state`` is one
#: dict per worker for its whole life (figure objects kept from one unit for the next).
DrawUnit = Callable[[Sequence[Any], Path, FigureSet, dict[str, Any]], None]

#: How much lower the workers' CPU priority is than the run's: drawing takes what the run leaves
#: (its imports, reading and analyses go first), so figures never slow the work they show.
WORKER_NICENESS = 10

#: The size asked for the pipes that carry figure inputs (Linux's limit for a user, by default).
_PIPE_BYTES = 1 << 20

#: A message on a pipe: its length (8 bytes, big-endian), then that many bytes of pickle. A worker
#: says it has drawn a unit with an empty message, and ends with its report.
_LENGTH = struct.Struct(">Q")


class DrawingWorkers:
    """Forked processes that import the drawing code now and draw what :meth:`submit` sends them later.

    One process is forked at construction, at a lower CPU priority (:data:`WORKER_NICENESS`); it
    imports ``entry``'s module (matplotlib and the figure modules, about half a second), calls
    ``prepare`` (what every worker would otherwise do on its first figures: load fonts, fill
    caches, make figure objects) and then forks its siblings, which inherit both and start
    from the state it returns. :meth:`submit` queues units of work (a list of jobs one worker
    draws in order); each worker takes a queued unit (the dearest, given costs) as soon as it
    has drawn the one before, so the workers end together whatever the units cost (a run
    submits what it can draw as soon as it can). :meth:`join` waits for them and takes their PNGs into a
    :class:`FigureSet`. Warnings raised while drawing are raised again here, at :meth:`join`.
    Drawing code must use only numpy, scipy and matplotlib on the inputs it is sent (and the
    core's single-threaded PNG encoder): no polars and no pooled core work, whose threads do
    not survive a fork. Without ``os.fork`` or with ``parallel=False`` the units are drawn
    here at :meth:`join`, in the order queued. A killed run takes its workers with it (Linux),
    so no worker writes into a folder a retry has swept.

    Parameters
    ----------
    entry
        ``"module:function"``, the :data:`DrawUnit` the workers call.
    prepare
        ``"module:function"`` called once with no arguments before the siblings fork, or None;
        it returns each worker's initial ``state`` (a copy each, by the fork).
    workers
        The number of worker processes.
    parallel
        Fork (True) or draw in this process (False).
    """

    def __init__(self, entry: str, *, prepare: str | None = None, workers: int = 2, parallel: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers!r}")
        self.entry, self.workers = entry, workers
        self._pid: int | None = None
        self._queue: queue.PriorityQueue[tuple[float, int, bytes | None]] = queue.PriorityQueue()
        self._queued = 0
        self._stop = threading.Event()
        self._links: list[_Link] = []
        self._sent = False
        self._local: list[tuple[Sequence[Sequence[Any]], Path]] = []
        if not (parallel and hasattr(os, "fork")):
            return
        pipes = [(*os.pipe(), *os.pipe()) for _ in range(workers)]  # (jobs r, jobs w, report r, report w)
        for _, jobs_w, _, _ in pipes:
            _widen(jobs_w)
        parent = os.getpid()
        with warnings.catch_warnings():
            # Python ≥ 3.12 warns about fork in a threaded process; the workers only draw.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            for _, jobs_w, report_r, _ in pipes:
                os.close(jobs_w)
                os.close(report_r)
            _serve(entry, prepare, [(jobs_r, report_w) for jobs_r, _, _, report_w in pipes], parent)
        for jobs_r, _, _, report_w in pipes:
            os.close(jobs_r)
            os.close(report_w)
        self._pid = pid
        self._links = [_Link(jobs_w, report_r, self._queue, self._stop) for _, jobs_w, report_r, _ in pipes]

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def submit(self, units: Sequence[Sequence[Any]], folder: Path, dpi: float,
               costs: Sequence[float] | None = None) -> None:
        """Queue ``units`` to draw into ``folder``, each for whichever worker is free first; returns at once.

        A free worker takes the dearest unit still queued (``costs``, one per unit; equal costs in
        the order queued), so the cheap ones come last and the workers end close together.
        Without ``costs`` the units are taken in the order queued.
        """
        check_dpi(dpi)
        if costs is not None and len(costs) != len(units):
            raise ValueError(f"{len(costs)} costs for {len(units)} units")
        if self._pid is None:
            self._local.append((units, Path(folder)))
            return
        for index, unit in enumerate(units):
            if unit:
                self._queued += 1
                payload = pickle.dumps((list(unit), str(folder), dpi), protocol=pickle.HIGHEST_PROTOCOL)
                self._queue.put((0.0 if costs is None else -float(costs[index]), self._queued, payload))
                self._sent = True
        for link in self._links:
            link.start()

    def join(self, figures: FigureSet) -> None:
        """Take the workers' PNGs into ``figures`` (or draw the units here when not forked).

        Raises
        ------
        Exception
            What a worker raised (its traceback in a note), or a RuntimeError naming the exit
            status of a worker that died without saying.
        """
        if self._pid is None:
            draw = _resolve(self.entry) if self._local else None
            state: dict[str, Any] = {}  # as one worker would keep it
            for units, folder in self._local:
                for unit in units:
                    if unit:
                        draw(unit, folder, figures, state)  # type: ignore[misc]
            self._local = []
            return
        staged, caught, error = self._collect()
        if error is not None:
            _unlink(staged)
            raise error
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
        figures.adopt(staged)

    def cancel(self) -> None:
        """Stop the workers and delete whatever they drew (after a failure elsewhere)."""
        if self._pid is None:
            self._local = []
            return
        self._stop.set()  # what is still queued is not drawn
        if not self._sent:  # nothing sent, so nothing drawn: no need to wait for an import
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)  # its siblings die with it
        _unlink(self._collect()[0])

    def _collect(self) -> tuple[list[tuple[Path, Path]], list[tuple[type[Warning], str]], BaseException | None]:
        """Wait for every worker: the (temporary, target) pairs they staged, their warnings, the first error."""
        for link in self._links:
            self._queued += 1
            self._queue.put((math.inf, self._queued, None))  # after what was queued: the link lets its worker finish
            link.start()
        try:
            for link in self._links:
                link.join()
        finally:
            _, status = os.waitpid(self._pid, 0)  # type: ignore[arg-type]
            self._pid = None
        staged: list[tuple[Path, Path]] = []
        caught: list[tuple[type[Warning], str]] = []
        error: BaseException | None = None
        for link in self._links:
            report = link.report
            staged += [(Path(tmp), Path(target)) for tmp, target in report.get("staged", [])]
            caught += report.get("warnings", [])
            if error is None and ("error" in report or "staged" not in report):
                error = _worker_error(report, status)
        self._links = []
        return staged, caught, error


class _Link:
    """One worker as the run sees it: a thread that sends it the next queued unit each time it says it
    has drawn one, and keeps its report.

    The thread waits on the worker's pipes without the GIL, so a unit goes out as soon as a
    worker is free, even while the run computes. A worker that fails or dies stops every
    link (``stop``): what is still queued would be deleted anyway.
    """

    def __init__(self, jobs_fd: int, report_fd: int, pending: queue.PriorityQueue[tuple[float, int, bytes | None]],
                 stop: threading.Event) -> None:
        self._jobs_fd, self._report_fd = jobs_fd, report_fd
        self._pending, self._stop = pending, stop
        self._thread: threading.Thread | None = None
        #: The worker's report: its staged files and warnings, or its error; empty when it died without one.
        self.report: dict[str, Any] = {}

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _serve(self) -> None:
        answer: bytes | None = b""
        with contextlib.suppress(OSError, EOFError):  # the worker is gone; its missing report says so
            while answer == b"" and (payload := self._pending.get()[2]) is not None and not self._stop.is_set():
                _write_message(self._jobs_fd, payload)
                answer = _read_message(self._report_fd)  # empty once drawn; a report if it failed; None if it died
        os.close(self._jobs_fd)  # the worker reads end-of-file, reports and stops
        if answer == b"":
            with contextlib.suppress(OSError, EOFError):
                answer = _read_message(self._report_fd)
        os.close(self._report_fd)
        self.report = _unpickle_report(answer or b"")
        if "staged" not in self.report:
            self._stop.set()


def _widen(fd: int) -> None:
    """Let the pipe ``fd`` hold 1 MiB (Linux; 64 KiB otherwise): a unit's figure inputs then go across in
    a few writes, each of which its link thread, sharing the run's GIL, waits to make."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _portable(category: type[Warning]) -> type[Warning]:
    """``category``, or UserWarning when it cannot be pickled (a class the run could not import)."""
    try:
        pickle.dumps(category)
    except Exception:  # noqa: BLE001
        return UserWarning
    return category


def _unpickle_report(message: bytes) -> dict[str, Any]:
    try:
        return pickle.loads(message) if message else {}
    except Exception:  # noqa: BLE001 - a torn report is a failed worker
        return {}


def _worker_error(report: dict[str, Any], status: int) -> BaseException:
    text = report.get("error", f"exit status {status}")
    error = report.get("exception")
    if not isinstance(error, BaseException):
        return RuntimeError("a drawing process failed:\n" + text)
    error.add_note("raised in a drawing process:\n" + text)
    return error


def _resolve(entry: str) -> Callable[..., Any]:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def _read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or None at end of file before the first of them."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            if missing == size:
                return None
            raise EOFError(f"a message ended {missing} bytes early")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int) -> bytes | None:
    """The next message on ``fd`` (see :data:`_LENGTH`), or None when the sender has closed it."""
    header = _read_exact(fd, _LENGTH.size)
    if header is None:
        return None
    payload = _read_exact(fd, _LENGTH.unpack(header)[0])
    if payload is None:
        raise EOFError("a message ended early")
    return payload


def _write_message(fd: int, payload: bytes) -> None:
    """Write ``payload`` to ``fd`` as one message (see :data:`_LENGTH`), however many writes it takes."""
    view = memoryview(_LENGTH.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


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


def _serve(entry: str, prepare: str | None, pipes: Sequence[tuple[int, int]], parent: int) -> NoReturn:
    """The first worker: import the drawing code and prepare, fork the others, draw the units it takes, wait, exit."""
    status, index, children = 1, 0, []
    try:
        _die_with(parent)
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)
        state: dict[str, Any] = {}
        try:
            draw: DrawUnit | BaseException = _resolve(entry)
            if prepare is not None:
                state = _resolve(prepare)()
        except BaseException as error:  # reported with the first unit
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
        status = _work(draw, state, *pipes[index])
        for pid in children:
            os.waitpid(pid, 0)
    finally:
        # No atexit handlers, no flushing of the run's buffers: this process only drew.
        os._exit(status)


def _work(draw: DrawUnit | BaseException, state: dict[str, Any], jobs_fd: int, report_fd: int) -> int:
    """Draw each unit read from ``jobs_fd``, starting from ``state``, saying so after each, until the pipe
    closes or a unit fails; then report the staged files and warnings, or the error."""
    staged: list[tuple[Path, Path]] = []
    report: dict[str, Any]
    try:
        with warnings.catch_warnings(record=True) as caught:  # the filters in force stay as they are
            while (message := _read_message(jobs_fd)) is not None:
                unit, folder, dpi = pickle.loads(message)
                figures = FigureSet(dpi)
                try:
                    if isinstance(draw, BaseException):
                        raise draw
                    draw(unit, Path(folder), figures, state)
                finally:
                    staged += figures._staged  # removed below if anything failed
                _write_message(report_fd, b"")  # drawn: the next unit, please
        report = {"staged": [(str(tmp), str(target)) for tmp, target in staged],
                  "warnings": [(_portable(w.category), str(w.message)) for w in caught]}
    except BaseException as error:
        _unlink(staged)
        report = {"error": traceback.format_exc(), "exception": error}
    try:
        data = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception or warning class that cannot be pickled
        data = pickle.dumps({"error": report.get("error", "a drawing process could not report its result")})
    with contextlib.suppress(OSError):
        _write_message(report_fd, data)
    os.close(report_fd)
    return 0 if "staged" in report else 1
