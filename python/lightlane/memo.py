"""The last few results of an expensive computation, kept in a process (no disk, no expiry but size).

A run asks some questions twice: its figures and its tests rank the same chunk table, its
figure and its written dataset fit the same spectrum, its figure and its P1d test count the same
values, its baseline runs compute P3 of the same A. Each such place keeps a small dict of its
latest results here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["remembered"]

_T = TypeVar("_T")


def remembered(results: dict[Hashable, _T], key: Hashable, compute: Callable[[], _T], limit: int) -> _T:
    """``results[key]``, computed by ``compute()`` when missing; at most ``limit`` kept, the oldest dropped first.

    >>> kept: dict = {}
    >>> remembered(kept, "a", lambda: 1, 2), remembered(kept, "a", lambda: 2, 2)
    (1, 1)
    >>> remembered(kept, "b", lambda: 3, 2), remembered(kept, "c", lambda: 4, 2), sorted(kept)
    (3, 4, ['b', 'c'])
    """
    if key in results:
        return results[key]
    result = compute()  # an exception keeps nothing
    while len(results) >= limit:
        del results[next(iter(results))]
    results[key] = result
    return result
