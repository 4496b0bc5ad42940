"""Tasks: pure, seeded transformations events → events (SPEC §8).

A task never mutates its input: every task returns a new :class:`EventList`
whose frame is a new polars DataFrame and whose GTI array is a new read-only array.
Times are MET seconds, wavelengths nm, energies keV.

Randomness follows SPEC §1. A task's seed is ``key(run_seed, TASK, side, position)``
(:func:`task_seed`); each random operation of a task draws from its own sub-stream
``key(task_seed, TASK, op)`` with a fixed ``op`` constant, split by the Rust core into
fixed units (blocks of 65 536 events, wavelength or time bins, time windows), so the
output is identical for any thread count.

Every :class:`EventList` keeps one invariant: ``wavelength_nm`` (and ``energy_kev``)
hold what the analysis uses. Data read from files already satisfy it (channels are
dithered on read); ``generate`` dithers the smeared channels of its photons itself.

Modules: ``seeds`` (task seeds, sub-stream ids), ``frames`` (row helpers),
``context`` (what a task may use), ``shaping`` (deterministic tasks), ``thinning`` and
``nulls`` (seeded tasks), ``generation`` (``generate``), ``chain`` (dispatch).
"""

from typing import TYPE_CHECKING

from ...lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .chain import TASK_FUNCTIONS, apply_chain, apply_task
    from ...events.event_list import KNOWN_COLUMNS, EventList
    from .context import TaskContext
    from .generation import generate
    from .nulls import SPECTRAL_COLUMNS, lcpreserve, poissonize
    from .seeds import task_seed
    from .shaping import chandrashift, copy, prunecolumns, select, trange, wrange
    from .thinning import downsample, flatten, tthinning

__all__ = [
    "KNOWN_COLUMNS", "SPECTRAL_COLUMNS", "TASK_FUNCTIONS",
    "EventList", "TaskContext", "task_seed", "apply_task", "apply_chain",
    "copy", "prunecolumns", "trange", "wrange", "select", "chandrashift", "flatten", "tthinning",
    "downsample", "poissonize", "lcpreserve", "generate",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".chain": ["TASK_FUNCTIONS", "apply_chain", "apply_task"],
    "...events.event_list": ["KNOWN_COLUMNS", "EventList"],
    ".context": ["TaskContext"],
    ".generation": ["generate"],
    ".nulls": ["SPECTRAL_COLUMNS", "lcpreserve", "poissonize"],
    ".seeds": ["task_seed"],
    ".shaping": ["chandrashift", "copy", "prunecolumns", "select", "trange", "wrange"],
    ".thinning": ["downsample", "flatten", "tthinning"],
})
