"""Task seeds and sub-streams (SPEC §1, §9): the one place that keys a task's randomness.

All sub-stream ids live in one table so that no two random operations of a task can
share a stream by accident.
"""

from __future__ import annotations

import numpy as np

from ... import _core
from ...exceptions import MetadataError

__all__ = [
    "OP_FLATTEN", "OP_TTHINNING_OFFSET", "OP_TTHINNING", "OP_DOWNSAMPLE", "OP_POISSONIZE",
    "OP_LCPRESERVE", "OP_GENERATE_DITHER", "task_seed", "sub_seed", "checked_u64",
]

# Sub-stream ids: key(task_seed, TASK, [op]) with TASK = _core.DOMAIN_TASK (SPEC §1).
# Changing one changes that task's output.
OP_FLATTEN = 1
OP_TTHINNING_OFFSET = 2
OP_TTHINNING = 3
OP_DOWNSAMPLE = 4
OP_POISSONIZE = 5
OP_LCPRESERVE = 6
OP_GENERATE_DITHER = 7
_MAX_U64 = 2**64 - 1


def sub_seed(seed: int, op: int) -> int:
    """The sub-stream ``key(seed, TASK, [op])`` of one random operation of a task."""
    return _core.key(seed, _core.DOMAIN_TASK, [op])


def checked_u64(seed: object, what: str) -> int:
    """``seed`` as an int in [0, 2⁶⁴ − 1]; otherwise a MetadataError naming ``what``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _MAX_U64:
        raise MetadataError(f"{what}: expected an integer seed in [0, 2^64 − 1], got {seed!r}")
    return int(seed)


def task_seed(run_seed: int, side: int, position: int) -> int:
    """The seed of one task of a chain: ``key(run_seed, TASK, side, position)`` (SPEC §9).

    Parameters
    ----------
    run_seed
        The run seed.
    side
        0 for the A chain, 1 for the B chain.
    position
        0-based position of the task in its chain.

    Returns
    -------
    int
        A seed in [0, 2⁶⁴ − 1].

    Examples
    --------
    >>> task_seed(7, 1, 0) == task_seed(7, 1, 0) != task_seed(7, 0, 0)
    True
    """
    return _core.key(checked_u64(run_seed, "run seed"), _core.DOMAIN_TASK, [int(side), int(position)])
