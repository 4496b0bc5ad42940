"""Presentation (SPEC §14–§16): drawing, the standard figures, the HTML report, result tables, the verdict
summary, video.

Modules: ``drawing`` (matplotlib in the house style: arrays in, a figure out), ``figures``
(which figures ``generate``, ``replicate``, ``analyze`` and ``run`` write), ``html`` (the
run and workspace pages, §14.1), ``tables`` (§15), ``summary`` (the verdicts printed after
runs) and ``video`` (§16). Everything here is given its data; nothing computes a test.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:  # at run time each name is imported on first use (lazy_exports)
    from .figures import save_analysis_plots, save_run_plots, save_synthetic_plots
    from .html import write_report, write_run_page, write_workspace_page
    from .summary import verdict_summary
    from .tables import FORMATS, write_workspace_tables
    from .video import VideoOptions, plan_video, render_video

__all__ = [
    "FORMATS", "VideoOptions", "plan_video", "render_video", "save_analysis_plots", "save_run_plots",
    "save_synthetic_plots", "verdict_summary", "write_report", "write_run_page", "write_workspace_page",
    "write_workspace_tables",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    ".figures": ["save_analysis_plots", "save_run_plots", "save_synthetic_plots"],
    ".html": ["write_report", "write_run_page", "write_workspace_page"],
    ".summary": ["verdict_summary"],
    ".tables": ["FORMATS", "write_workspace_tables"],
    ".video": ["VideoOptions", "plan_video", "render_video"],
})
