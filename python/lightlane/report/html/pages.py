"""The HTML report (SPEC §14.1): a page per run and one for the workspace, rendered from jinja2 templates.

``results/pipelines/<pipeline>/run-<run_id>/index.html`` shows the run's verdict table
(calibrated verdicts first, coloured), its figures inline, its P3 result when it has one
and its provenance; ``results/index.html`` lists every pipeline's latest main run with
its headline verdict per metric, the datasets, the search studies and the tables. The
pages are static and self-contained in the results folder: relative links only, the CSS
inline, no script and nothing fetched from the network. Every text is HTML-escaped
(autoescaping) and every page is written atomically.

The templates ship in the package (``templates/``); the content comes from
:mod:`.gather`, so the pages can be written again at any time from the catalog and
the result folders (``lightlane report``) without recomputing anything.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ...exceptions import MetadataError
from ...store.atomic import write_text
from ...store.catalog import Catalog
from ...store.workspace import Workspace
from ...version import CODE_VERSION
from .gather import gather_run_page, gather_workspace_page
from .model import RunPage, WorkspacePage

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "PAGE_NAME",
    "load_templates",
    "render_run_page",
    "render_workspace_page",
    "write_run_page",
    "write_workspace_page",
    "write_report",
    "workspace_page_path",
]

#: The file name of every page.
PAGE_NAME = "index.html"


def _href(path: str) -> str:
    """A relative link, URL-quoted (``/`` kept); the template escapes it for HTML."""
    return quote(path, safe="/")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # loaded only when a page is written

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lightlane.report.html", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["href"] = _href
    environment.globals["version"] = CODE_VERSION
    return environment


def load_templates() -> None:
    """Import jinja2 and compile the page templates now (a run does it while its figures are drawn)."""
    for name in ("run.html", "workspace.html"):
        _environment().get_template(name)


def render_run_page(page: RunPage) -> str:
    """The HTML of one run's page.

    Parameters
    ----------
    page
        Its content (:func:`~lightlane.report.html.gather.gather_run_page`).

    Returns
    -------
    str

    Examples
    --------
    >>> from lightlane.report.html.model import RunPage
    >>> html = render_run_page(RunPage(title="p · run r <1>", pipeline_id="p", run_id="r", kind="main",
    ...     calibrated_headers=(), uncalibrated_headers=(), rows=(), provenance=(), figures=(), p3=None,
    ...     workspace_link="../../../index.html"))
    >>> "<title>p · run r &lt;1&gt;</title>" in html and "<script" not in html
    True
    """
    return _environment().get_template("run.html").render(page=page)


def render_workspace_page(page: WorkspacePage) -> str:
    """The HTML of ``results/index.html`` (see :func:`render_run_page`)."""
    return _environment().get_template("workspace.html").render(page=page)


def workspace_page_path(workspace: Workspace) -> Path:
    """``results/index.html``."""
    return workspace.root / "results" / PAGE_NAME


def write_run_page(workspace: Workspace, run_id: str, *, catalog: Catalog | None = None) -> Path:
    """Write ``index.html`` into the run's folder (created when missing), atomically.

    Parameters
    ----------
    workspace
        The workspace; the caller holds its lock.
    run_id
        A run in the catalog.
    catalog
        An open catalog to read from (default: open the workspace's).

    Returns
    -------
    Path
        The page.
    """
    if catalog is None:
        with Catalog.open(workspace.catalog_path) as opened:
            return write_run_page(workspace, run_id, catalog=opened)
    page = gather_run_page(workspace, catalog, run_id)
    target = workspace.run_folder(page.pipeline_id, run_id) / PAGE_NAME
    write_text(target, render_run_page(page))
    return target


def write_workspace_page(workspace: Workspace, *, catalog: Catalog | None = None) -> Path:
    """Write ``results/index.html`` atomically (links the run pages that exist: write those first)."""
    if catalog is None:
        with Catalog.open(workspace.catalog_path) as opened:
            return write_workspace_page(workspace, catalog=opened)
    target = workspace_page_path(workspace)
    write_text(target, render_workspace_page(gather_workspace_page(workspace, catalog)))
    return target


def _chosen_runs(workspace: Workspace, catalog: Catalog, run_ids: Sequence[str] | None, all_runs: bool) -> list[str]:
    """The runs whose pages ``write_report`` writes; every named run is checked before anything is written."""
    if run_ids is not None:
        for run_id in run_ids:
            row = catalog.run_row(run_id)
            if row is None:
                raise MetadataError(f"run {run_id!r}: no such run in the catalog")
            if row["kind"] not in ("pipeline", "baseline"):
                raise MetadataError(f"run {run_id!r}: an {row['kind']} run has no page (only pipeline and "
                                    f"baseline runs do)")
            if row["status"] != "done":
                raise MetadataError(f"run {run_id!r}: the run is {row['status']}, not done; it has no results")
        return list(dict.fromkeys(run_ids))
    rows = catalog.done_pipeline_runs() if all_runs else catalog.latest_main_runs()
    return [str(r["run_id"]) for r in rows
            if workspace.run_folder(str(r["pipeline_id"]), str(r["run_id"])).is_dir()]


def write_report(workspace: Workspace, run_ids: Iterable[str] | None = None, *, all_runs: bool = False) -> list[Path]:
    """Write run pages, then ``results/index.html``, from the catalog and the result folders (no recomputation).

    Parameters
    ----------
    workspace
        An initialised workspace; the caller holds its lock.
    run_ids
        These runs' pages (their folders are created when missing; none for an empty
        list). When None: every pipeline's latest main run (``all_runs`` False) or every
        done main and baseline run (``all_runs`` True) whose run folder exists.
    all_runs
        See ``run_ids``.

    Returns
    -------
    list of Path
        The pages written, the workspace page last.

    Raises
    ------
    MetadataError
        A named run is not in the catalog, not done, or not a pipeline/baseline run;
        nothing is written.

    Examples
    --------
    >>> with workspace.lock():  # doctest: +SKIP
    ...     pages = write_report(workspace)
    >>> pages[-1].name  # doctest: +SKIP
    'index.html'
    """
    written = []
    with Catalog.open(workspace.catalog_path) as catalog:
        chosen = _chosen_runs(workspace, catalog, None if run_ids is None else list(run_ids), all_runs)
        for run_id in chosen:
            written.append(write_run_page(workspace, run_id, catalog=catalog))
        written.append(write_workspace_page(workspace, catalog=catalog))
    return written
