"""Independent units of work, run inline or on Dask distributed (SPEC §19).

Baseline runs, the pipelines of ``run --all`` and search trials are independent:
each one is a pure ``compute(unit)`` that reads the workspace and writes only its
own files (event files, cache entries, plots) and returns a picklable result.
Everything that touches the catalog happens in ``record(unit, result)``, which
this module calls in the client process only, one finished unit at a time — so
SQLite is never written concurrently, and an interrupted command loses at most
the units in flight.

``jobs = 1`` without a scheduler runs the units inline, in order, with no
cluster. Otherwise an embedded :class:`distributed.LocalCluster` of ``jobs``
worker processes is started (or the cluster at ``scheduler`` /
``$LIGHTLANE_DASK_SCHEDULER`` is used); at most ``2 × workers`` units are in
flight, so the client's "running" marks stay meaningful.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from . import _core
from .exceptions import LightlaneWarning, MetadataError, PrerequisiteError

__all__ = ["SCHEDULER_ENV", "CONNECT_TIMEOUT_S", "Execution", "run_units", "call_unit"]

#: Environment variable naming an existing Dask scheduler (SPEC §19).
SCHEDULER_ENV = "LIGHTLANE_DASK_SCHEDULER"
_NETWORK_SCHEMES = ("tcp", "tls", "ws", "wss")
#: How long to wait for a scheduler to answer: an unreachable one fails fast, not after Dask's 30 s.
CONNECT_TIMEOUT_S = 5.0

Unit = TypeVar("Unit")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Execution:
    """Where units run: ``jobs`` local worker processes, or an existing scheduler."""

    jobs: int = 1
    scheduler: str | None = None
    threads: int | None = None
    #: where ``scheduler`` came from, for messages: the option or the environment variable
    scheduler_source: str = "--scheduler"

    def __post_init__(self) -> None:
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise MetadataError(f"--jobs: expected an integer ≥ 1, got {self.jobs!r}")

    @classmethod
    def from_options(cls, jobs: int, scheduler: str | None, threads: int | None) -> Execution:
        """The execution the CLI options ask for; a scheduler must answer now, before anything is written.

        Raises
        ------
        MetadataError
            ``jobs`` < 1.
        PrerequisiteError
            The scheduler (``--scheduler`` or ``$LIGHTLANE_DASK_SCHEDULER``) does not answer
            within :data:`CONNECT_TIMEOUT_S`.
        """
        source = "--scheduler"
        if scheduler is None and os.environ.get(SCHEDULER_ENV):
            scheduler, source = os.environ[SCHEDULER_ENV], f"${SCHEDULER_ENV}"
        execution = cls(jobs=jobs, scheduler=scheduler or None, threads=threads, scheduler_source=source)
        if execution.scheduler is not None:
            _probe(execution.scheduler, execution.scheduler_source)
        return execution

    @property
    def inline(self) -> bool:
        return self.jobs == 1 and self.scheduler is None

    def worker_threads(self) -> int | None:
        """Rust threads per worker: ``--threads`` if given; else this machine's cores shared among the
        local workers; on an existing cluster the workers' own default (all their cores)."""
        if self.threads is not None or self.scheduler is not None:
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.jobs)


@dataclass(frozen=True)
class _Returned(Generic[Result]):
    """A unit's result with the warnings it raised (re-emitted by the client)."""

    value: Result
    warnings: tuple[str, ...]


#: Units of one worker process run one at a time: the warnings filter that collects a unit's
#: warnings is process-wide (two threads would record each other's or lose their own), and the
#: Rust core already keeps every core of the process busy.
_ONE_UNIT_AT_A_TIME = threading.Lock()


def call_unit(compute: Callable[[Unit], Result], unit: Unit, threads: int | None) -> _Returned[Result]:
    """Run one unit, collecting its lightlane warnings (they are shown by the client, once)."""
    with _ONE_UNIT_AT_A_TIME:
        if threads is not None:
            _core.set_threads(threads)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LightlaneWarning)
            value = compute(unit)
    messages = []
    for item in caught:
        if issubclass(item.category, LightlaneWarning):
            messages.append(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return _Returned(value, tuple(messages))


def _progress(total: int, description: str | None) -> Any:
    if description is None or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=description, disable=not sys.stderr.isatty(), file=sys.stderr)


def _deliver(returned: _Returned[Result], unit: Unit, record: Callable[[Unit, Result], None]) -> Result:
    for message in returned.warnings:
        warnings.warn(message, LightlaneWarning, stacklevel=3)
    record(unit, returned.value)
    return returned.value


def run_units(
    units: Sequence[Unit],
    compute: Callable[[Unit], Result],
    record: Callable[[Unit, Result], None],
    execution: Execution,
    *,
    start: Callable[[Unit], None] | None = None,
    fail: Callable[[Unit, BaseException], None] | None = None,
    progress: str | None = None,
) -> list[Result]:
    """Compute every unit and record each result in this process as it finishes.

    Parameters
    ----------
    units
        The units, in submission order.
    compute
        A picklable module-level function ``unit → result``; it never writes the catalog.
    record
        Called in the client for each finished unit (one catalog transaction).
    execution
        Inline, local cluster or existing scheduler.
    start, fail
        Optional client-side hooks when a unit is submitted / when it raised.
    progress
        A progress-bar description (tqdm on stderr, TTY only), or None for no bar.

    Returns
    -------
    list
        The results in the order of ``units``.

    Raises
    ------
    Exception
        The first unit error, after the units still in flight have finished and been
        recorded; no further unit is started after an error.
    """
    units = list(units)
    if not units:
        return []  # no cluster is started for nothing
    bar = _progress(len(units), progress)
    try:
        if execution.inline:
            return _run_inline(units, compute, record, start, fail, bar)
        with _client(execution) as client:
            return _run_distributed(client, units, compute, record, execution, start, fail, bar)
    finally:
        if bar is not None:
            bar.close()


def _run_inline(units, compute, record, start, fail, bar) -> list:
    results = []
    for unit in units:
        if start is not None:
            start(unit)
        try:
            returned = call_unit(compute, unit, None)
        except BaseException as error:
            if fail is not None:
                fail(unit, error)
            raise
        results.append(_deliver(returned, unit, record))
        if bar is not None:
            bar.update(1)
    return results


def _run_distributed(client, units, compute, record, execution, start, fail, bar) -> list:
    from distributed import as_completed

    window = 2 * max(1, len(client.scheduler_info().get("workers", {})) or execution.jobs)
    threads = execution.worker_threads()
    results: dict[int, Any] = {}
    indices: dict[str, int] = {}
    pending = iter(enumerate(units))
    first_error: BaseException | None = None

    def submit() -> Any:
        item = next(pending, None)
        if item is None:
            return None
        index, unit = item
        if start is not None:
            start(unit)
        future = client.submit(call_unit, compute, unit, threads, pure=False)
        indices[future.key] = index
        return future

    first = [f for f in (submit() for _ in range(window)) if f is not None]
    queue = as_completed(first, loop=client.loop)
    for future in queue:
        index = indices.pop(future.key)
        unit = units[index]
        try:
            returned = future.result()
        except Exception as error:  # a unit failed; Ctrl-C (BaseException) aborts at once
            if fail is not None:
                fail(unit, error)
            first_error = first_error or error
            continue
        finally:
            future.release()
        try:
            results[index] = _deliver(returned, unit, record)
        except Exception as error:  # a client-side check failed: finish what is in flight, start nothing
            first_error = first_error or error
            continue
        if bar is not None:
            bar.update(1)
        if first_error is None and (following := submit()) is not None:
            queue.add(following)
    if first_error is not None:
        raise first_error
    return [results[i] for i in range(len(units))]


def _unreachable(address: str, source: str, reason: object) -> PrerequisiteError:
    return PrerequisiteError(
        f"{source} {address}: no Dask scheduler reachable ({' '.join(str(reason).split()) or type(reason).__name__}); "
        f"start one (`dask scheduler`) or run locally without {source}")


def _probe(address: str, source: str) -> None:
    """Check a scheduler address's form, that something listens there, then that it is a Dask scheduler.

    A malformed address or a refused connection fails at once (the TCP connect needs no
    Dask import), a silent host or another server after :data:`CONNECT_TIMEOUT_S`.
    Other transports (``inproc://``, ``ucx://``) are left to Dask.
    """
    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        scheme, host, port = parts.scheme, parts.hostname, parts.port
    except ValueError as error:
        scheme, host, port, reason = None, None, None, error
    else:
        reason = "expected [tcp|tls|ws|wss]://HOST:PORT"
    if scheme in ("inproc", "ucx"):
        return
    if scheme not in _NETWORK_SCHEMES or not host or port is None:
        raise MetadataError(f"{source}: expected a scheduler address such as tcp://10.0.0.5:8786, "
                            f"got {address!r} ({reason})")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise _unreachable(address, source, error) from None
    if scheme in ("tls", "wss"):
        return  # the handshake needs the security settings only the Client is given
    import asyncio  # here: only a scheduler probe needs it (~40 ms to import), and `run --help` imports this module

    try:  # something listens: is it a Dask scheduler? (a bare comm: a failed Client lingers and logs on exit)
        asyncio.run(asyncio.wait_for(_handshake(address), CONNECT_TIMEOUT_S + 1.0))
    except OSError as error:
        raise _unreachable(address, source, error) from None
    except Exception:  # another server may answer anything (even a bogus 3 EiB frame length)
        raise _unreachable(address, source, "the server there does not speak the Dask protocol") from None


async def _handshake(address: str) -> None:
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_TIMEOUT_S)
    await comm.close()


@contextlib.contextmanager
def _client(execution: Execution) -> Iterator[Any]:
    """A Dask client on the given scheduler, or on an embedded LocalCluster of ``jobs`` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise MetadataError("--jobs > 1 and --scheduler need dask.distributed (pip install 'dask[distributed]')") from error
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if execution.scheduler is not None:
        try:
            client = Client(execution.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, ValueError, TypeError) as error:  # unreachable, or not a Dask scheduler
            raise _unreachable(execution.scheduler, execution.scheduler_source, error) from None
        cluster = None
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cluster start-up chatter (ports, deprecations) is not the user's concern
            cluster = LocalCluster(n_workers=execution.jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.close()
            if cluster is not None:
                cluster.close()
            # Dask's shutdown can orphan a comm's socket; collect it now, while its
            # "unclosed socket" ResourceWarning is silenced, rather than later in the caller's code.
            gc.collect()
