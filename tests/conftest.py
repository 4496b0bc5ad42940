"""Shared fixtures: tiny FITS event files built with astropy, fresh workspaces, a small pipeline.

Plain helpers live in ``helpers.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lightlane import Workspace

from .helpers import build_event_file, make_small_pipeline


@pytest.fixture
def make_events(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(name: str | None = None, **kwargs: Any) -> Path:
        return build_event_file(tmp_path / (name or f"events_{next(counter)}.fits"), **kwargs)

    return make


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.at(tmp_path / "ws")
    ws.init()
    return ws


@pytest.fixture
def small_pipeline(make_events: Callable[..., Path]) -> Callable[..., Any]:
    """``small_pipeline(workspace, **options)``: onboard a 3000-event dataset ``src`` with a small
    processing ``small`` (once per workspace) and create a pipeline on it (default ``src_null``:
    select, flatten | a | poissonize)."""

    def make(workspace: Workspace, **options: Any) -> Any:
        return make_small_pipeline(workspace, make_events, **options)

    return make
