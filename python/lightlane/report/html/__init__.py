"""The HTML report (SPEC §14.1): static pages per run and for the workspace.

:mod:`.model` is what a page shows (plain frozen data), :mod:`.gather` reads it from the
catalog, the metadata and the result folders, :mod:`.pages` renders it with the jinja2
templates shipped in ``templates/`` and writes the pages atomically.
"""

from .gather import figure_groups, gather_run_page, gather_workspace_page, verdict_tone
from .model import RunPage, WorkspacePage
from .pages import (
    PAGE_NAME,
    load_templates,
    render_run_page,
    render_workspace_page,
    workspace_page_path,
    write_report,
    write_run_page,
    write_workspace_page,
)

__all__ = [
    "PAGE_NAME", "RunPage", "WorkspacePage", "figure_groups", "gather_run_page", "gather_workspace_page",
    "load_templates", "render_run_page", "render_workspace_page", "verdict_tone", "workspace_page_path", "write_report",
    "write_run_page", "write_workspace_page",
]
