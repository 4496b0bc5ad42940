"""The HTML report (SPEC §14.1): run pages, the workspace page, ``lightlane report``, and a real browser.

The browser test opens the pages of a real run in headless Chromium over the DevTools protocol:
the page loads, every image resolves (``naturalWidth > 0``), the verdict table has one row per
test metric, and nothing is requested from outside the results folder.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lightlane import Workspace
from lightlane.cli import main
from lightlane.metadata import ProcessingParameters
from lightlane.report.html import figure_groups, render_run_page, render_workspace_page, verdict_tone, write_report
from lightlane.report.html.model import (
    Fact,
    FigureGroup,
    FigureRef,
    P3Result,
    PipelineEntry,
    RunPage,
    VerdictCell,
    VerdictRow,
    WorkspacePage,
)
from lightlane.store.catalog import Catalog

from ..browser import find_browser, headless_page, require
from ..helpers import build_event_file, catalog_rows, make_small_pipeline

METRICS = ("ev", "oec", "vea")  # the test metrics of the small processing (tests/helpers.py)
COMMAND = ["run", "src_null", "--ensure-baseline", "2"]


class _Page(html.parser.HTMLParser):
    """What the tests read from a page: images, links, scripts and the verdict table's body rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.external: list[str] = []
        self.verdict_rows: list[str] = []
        self._table: list[str | None] = []
        self._in_tbody = False
        self._row_header: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes["src"] or "")
        elif tag == "a":
            self.links.append(attributes["href"] or "")
        elif tag in ("script", "iframe", "object", "embed"):
            self.scripts += 1
        elif tag == "link":
            self.external.append(attributes.get("href") or "")
        elif tag == "table":
            self._table.append(attributes.get("id"))
        elif tag == "tbody":
            self._in_tbody = bool(self._table) and self._table[-1] == "verdicts"
        elif tag == "th" and self._in_tbody:
            self._row_header = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._table:
            self._table.pop()
        elif tag == "tbody":
            self._in_tbody = False
        elif tag == "th" and self._row_header is not None:
            self.verdict_rows.append("".join(self._row_header).strip())
            self._row_header = None

    def handle_data(self, data: str) -> None:
        if self._row_header is not None:
            self._row_header.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


# ----------------------------------------------------------------------------- content without a run


def test_figure_groups_take_old_and_new_names_in_kind_order() -> None:
    old = ["timescales_vea_b.png", "metric_hist_vea.png", "p2_concentration_ev.png", "timescales_ev_a.png",
           "metric_hist_ev.png", "timescales_vea_a.png", "timescales_ev_b.png", "p2_concentration_vea.png"]
    new = ["timescales_b.png", "metric_hist.png", "p2_concentration.png", "timescales_a.png"]
    common = ["lanecount_demo_lane.png", "heatmap_b.png", "spectrum_a_vs_b.png", "heatmap_a.png",
              "counts_hist_wavelength.png", "zz_extra.png", "aa_extra.png", "notes.txt", "p3_run.png"]
    for names, expected in (
        (old, [["metric_hist_ev.png", "metric_hist_vea.png"], ["p2_concentration_ev.png", "p2_concentration_vea.png"],
               ["timescales_ev_a.png", "timescales_ev_b.png", "timescales_vea_a.png", "timescales_vea_b.png"]]),
        (new, [["metric_hist.png"], ["p2_concentration.png"], ["timescales_a.png", "timescales_b.png"]]),
    ):
        groups, p3 = figure_groups(common + names, ["ev", "vea"])
        assert [g.title for g in groups] == [
            "Apparent spectrum", "Counts per wavelength bin", "Heatmaps", "Metric histograms", "P2 concentration",
            "Timescales of the top chunks", "Lanecount", "Other figures"]
        sources = [[f.src for f in g.figures] for g in groups]
        assert sources[:3] == [["spectrum_a_vs_b.png"], ["counts_hist_wavelength.png"], ["heatmap_a.png", "heatmap_b.png"]]
        assert sources[3:6] == expected
        assert sources[6:] == [["lanecount_demo_lane.png"], ["aa_extra.png", "zz_extra.png"]]
        assert [f.src for f in p3] == ["p3_run.png"]
    # per-metric files follow the run's metric order, unknown metrics after them
    groups, _ = figure_groups(["metric_hist_b.png", "metric_hist_zz.png", "metric_hist_a.png"], ["b", "a"])
    assert [f.src for f in groups[0].figures] == ["metric_hist_b.png", "metric_hist_a.png", "metric_hist_zz.png"]
    assert figure_groups([], []) == ((), ())


def test_templates_ship_in_the_package() -> None:
    from importlib import resources

    folder = resources.files("lightlane.report.html") / "templates"
    assert sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".html")) == [
        "base.html", "macros.html", "run.html", "workspace.html"]


def test_verdict_colours() -> None:
    assert [verdict_tone(v) for v in ("SIGNIFICANT", "NOT_SIGNIFICANT", "INCONCLUSIVE", "CONFIRMED", "UNDEFINED",
                                      None)] == ["significant", "not-significant", "inconclusive", "neutral",
                                                 "neutral", "none"]


def _page(**changes: Any) -> RunPage:
    cell = VerdictCell("SIGNIFICANT", "p = 0.0476", "significant")
    row = VerdictRow("vea", (cell,), (VerdictCell("TREND", "", "neutral"),), "10", "11", "20",
                     "<script>alert(1)</script> & notes")
    fields: dict[str, Any] = {
        "title": "p · run <r>", "pipeline_id": "p<x>", "run_id": "r&1", "kind": "main",
        "calibrated_headers": ("P1a tail",), "uncalibrated_headers": ("P1d peaks",), "rows": (row,),
        "provenance": (Fact("command line", "lightlane run 'a b' <c>"),),
        "figures": (FigureGroup("Heatmaps", (FigureRef("heatmap a#1.png", "A: <counts>"),)),), "p3": None,
        "workspace_link": "../../../index.html", "alpha": "0.05"}
    fields.update(changes)
    return RunPage(**fields)


def test_run_page_escapes_text_needs_no_script_and_shows_p3_only_when_stored(tmp_path: Path) -> None:
    text = render_run_page(_page())
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; notes" in text
    assert "lightlane run &#39;a b&#39; &lt;c&gt;" in text and "<title>p · run &lt;r&gt;</title>" in text
    assert 'src="heatmap%20a%231.png"' in text  # a file name is a URL path: quoted, then HTML-escaped
    assert 'class="verdict tone-significant"' in text and 'class="verdict tone-neutral"' in text
    assert "P3" not in text  # no P3 result stored: nothing about it
    (tmp_path / "index.html").write_text(text)
    page = parse(tmp_path / "index.html")
    assert page.scripts == 0 and page.external == [] and page.verdict_rows == ["vea"]
    assert page.images == ["heatmap%20a%231.png"]

    p3 = P3Result(VerdictCell("NOT_SIGNIFICANT", "p = 0.4", "not-significant"), (Fact("p3_stat", "1.25"),),
                  (FigureRef("p3_r.png", "S(s, c)"),), summary="S_max − 2 = 1.25",
                  row=VerdictRow("p3", (), (), "10", "11", "20", ""))
    text = render_run_page(_page(p3=p3, figures=()))
    assert 'id="p3"' in text and "p3_stat" in text and 'src="p3_r.png"' in text
    assert "No figures were drawn" in text
    (tmp_path / "index.html").write_text(text)
    assert parse(tmp_path / "index.html").verdict_rows == ["vea", "P3"]  # P3 is a row of the verdict table too


def test_workspace_page_marks_runs_without_a_page() -> None:
    cell = VerdictCell("NOT_SIGNIFICANT", "p = 0.5", "not-significant")
    page = WorkspacePage(
        title="lightlane results", version="0", metrics=("ev", "vea"), datasets=(), studies=(), tables=(),
        pipelines=(PipelineEntry("a", "test", "default", "a-run", "pipelines/a/run-a-run/index.html", (("vea", cell),)),
                   PipelineEntry("b", "test", "default", "b-run", None, ()),
                   PipelineEntry("c", "test", "default", None, None, (), "no main run yet")))
    text = render_workspace_page(page)
    assert 'href="pipelines/a/run-a-run/index.html"' in text and "(no page)" in text and "no main run yet" in text
    assert "No tables written yet" in text and "No parameter-search studies." in text
    assert "No sensitivity studies" in text


def test_gathered_run_page_keeps_p3_out_of_the_verdict_table(workspace: Workspace) -> None:
    """A stored P3 result (metric ``p3``, SPEC §11.9) gets its own section; the figures of this
    version's names are embedded in kind order; a run whose pipeline JSON is gone still has a page."""
    from lightlane.report.html import gather_run_page

    with Catalog.open(workspace.catalog_path) as catalog:
        with catalog.transaction() as cursor:
            catalog.replace_run(cursor, {"run_id": "r1", "kind": "pipeline", "pipeline_id": "gone", "run_index": 0,
                                         "processing_id": "default", "processing_hash": "ab" * 32, "seed": 7,
                                         "status": "done", "started_at": "2024-01-01T00:00:00Z",
                                         "a_dataset": "gone_a", "a_events_hash": "c" * 64})
            for metric, verdict in (("vea", "SIGNIFICANT"), ("p3", "NOT_SIGNIFICANT"), ("ev", None)):
                catalog.insert_test_result(cursor, {"run_id": "r1", "metric": metric, "baseline_runs": 20,
                                                    "p1a_verdict_calibrated": verdict, "p1a_p_calibrated": 0.01})
        folder = workspace.run_folder("gone", "r1")
        folder.mkdir(parents=True)
        for name in ("timescales_b.png", "metric_hist.png", "timescales_a.png", "spectrum_a_vs_b.png", "p3_r1.png"):
            (folder / name).write_bytes(b"")
        page = gather_run_page(workspace, catalog, "r1")
    assert [row.metric for row in page.rows] == ["ev", "vea"]
    assert page.rows[1].calibrated[0] == VerdictCell("SIGNIFICANT", "p = 0.01", "significant")
    assert page.rows[0].calibrated[0] == VerdictCell(None, "", "none")
    assert page.p3 is not None and [f.src for f in page.p3.figures] == ["p3_r1.png"]
    assert [[f.src for f in g.figures] for g in page.figures] == [
        ["spectrum_a_vs_b.png"], ["metric_hist.png"], ["timescales_a.png", "timescales_b.png"]]
    facts = {fact.label: fact.value for fact in page.provenance}
    assert facts["A events hash"] == "c" * 64 and facts["B dataset"] == "not kept"
    assert facts["baseline set size R"] == "20" and facts["command line"] == "not recorded"
    text = render_run_page(page)
    assert 'id="p3"' in text and text.count("<tr>") >= 2


def test_workspace_page_content_from_the_catalog(workspace: Workspace) -> None:
    """Latest main run per pipeline (by finish time), studies with their trials and figures, tables written."""
    from lightlane.report.html import gather_workspace_page

    with Catalog.open(workspace.catalog_path) as catalog:
        with catalog.transaction() as cursor:
            for run_id, finished in (("p-old", "2024-01-02T00:00:00Z"), ("p-new", "2024-03-01T00:00:00Z"),
                                     ("p-tie", "2024-03-01T00:00:00Z")):
                catalog.replace_run(cursor, {"run_id": run_id, "kind": "pipeline", "pipeline_id": "p", "run_index": 0,
                                             "status": "done", "started_at": finished, "finished_at": finished})
                catalog.insert_test_result(cursor, {"run_id": run_id, "metric": "vea", "p1a_verdict": "SIGNIFICANT",
                                                    "p1a_p_binomial": 0.001})
            catalog.replace_run(cursor, {"run_id": "p-failed", "kind": "pipeline", "pipeline_id": "p", "run_index": 0,
                                         "status": "failed", "started_at": "2025-01-01T00:00:00Z",
                                         "finished_at": "2025-01-01T00:00:00Z"})
            catalog.insert_study(cursor, {"study_id": "s1", "target_dataset": "demo_lane", "processing_id": "quick",
                                          "template_generation": "sparse", "created_at": "2024-01-01T00:00:00Z"})
            for index, (status, objective) in enumerate((("done", 2.5), ("done", 1.25), ("failed", None))):
                catalog.replace_trial(cursor, {"study_id": "s1", "trial_index": index, "status": status,
                                               "objective": objective})
            catalog.insert_sensitivity_study(cursor, {
                "study_id": "v1", "target_dataset": "demo_real", "processing_id": "quick", "processing_hash": "ab" * 32,
                "generation": "sparse", "parameter": "r_e_lu", "values_json": "[1.2, 2.4]", "replicates": 3,
                "baseline_runs": 2, "seed": 1, "definition_json": "{}", "created_at": "2024-01-01T00:00:00Z",
                "code_version": "0"})
            for kind, value_index, replicate, status in (("baseline", 0, 0, "done"), ("baseline", 0, 1, "running"),
                                                         ("replicate", 0, 0, "done"), ("replicate", 1, 2, "done"),
                                                         ("replicate", 1, 0, "failed")):
                catalog.replace_sensitivity_unit(cursor, {
                    "study_id": "v1", "kind": kind, "value_index": value_index, "replicate": replicate, "seed": 1,
                    "status": status, "started_at": "2024-01-01T00:00:00Z", "code_version": "0"})
        sensitivity = workspace.root / "results" / "sensitivity" / "v1"
        sensitivity.mkdir(parents=True)
        for name in ("power_v1.png", "sensitivity_v1.csv", "power_v1.png.tmp-1-ab"):
            (sensitivity / name).write_bytes(b"")
        (workspace.root / "results" / "search" / "s1").mkdir(parents=True)
        (workspace.root / "results" / "search" / "s1" / "search_progress_s1.png").write_bytes(b"")
        (workspace.root / "results" / "tables" / "p2.md").write_text("# P2\n")
        page = gather_workspace_page(workspace, catalog)
    (entry,) = page.pipelines
    assert entry.run_id == "p-tie" and entry.run_link is None and entry.role == "–"  # no page, no pipeline JSON
    assert entry.verdicts == (("vea", VerdictCell("SIGNIFICANT", "p = 0.001", "significant")),)  # naive headline
    (study,) = page.studies
    assert (study.done_trials, study.best_objective, [f.src for f in study.figures]) == (
        2, "1.25", ["search/s1/search_progress_s1.png"])
    assert [(t.name, t.links) for t in page.tables] == [("p2", (("md", "tables/p2.md"),))]
    (varied,) = page.sensitivity
    assert (varied.parameter, varied.values, varied.replicates, varied.baselines) == ("r_e_lu", "1.2, 2.4", "2 of 6",
                                                                                      "1 of 2")
    assert [f.src for f in varied.files] == ["sensitivity/v1/power_v1.png", "sensitivity/v1/sensitivity_v1.csv"]
    text = render_workspace_page(page)
    assert 'href="search/s1/search_progress_s1.png"' in text and 'href="tables/p2.md"' in text
    assert 'href="sensitivity/v1/power_v1.png"' in text and "<code>r_e_lu</code>" in text


# ----------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace with a calibrated main run of ``src_null`` (2 baseline runs), its figures, tables and pages."""
    root = tmp_path_factory.mktemp("report")
    workspace = Workspace.at(root / "ws")
    workspace.init()
    counter = iter(range(100))

    def make_events(name: str | None = None, **kwargs: Any) -> Path:
        return build_event_file(root / (name or f"events_{next(counter)}.fits"), **kwargs)

    make_small_pipeline(workspace, make_events)
    assert main(["--workspace", str(workspace.root), "--quiet", *COMMAND]) == 0
    assert main(["--workspace", str(workspace.root), "--quiet", "tables"]) == 0
    return workspace


def _run(workspace: Workspace) -> sqlite3.Row:
    with Catalog.open(workspace.catalog_path) as catalog:
        (row,) = catalog.latest_main_runs()
    return row


def _pages(workspace: Workspace) -> tuple[Path, Path]:
    run = _run(workspace)
    return workspace.run_folder("src_null", run["run_id"]) / "index.html", workspace.root / "results" / "index.html"


@pytest.mark.slow
def test_run_writes_its_page_and_the_workspace_page(reported: Workspace) -> None:
    run_page, workspace_page = _pages(reported)
    run = _run(reported)
    page = parse(run_page)
    assert page.verdict_rows == [*METRICS, "P3"]  # one row per test metric plus P3 (property 33)
    folder = run_page.parent
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert len(pngs) >= 4 and sorted(page.images) == pngs  # every figure of the folder, inline
    assert page.images[0].startswith("p3_")  # in the P3 section, above the figures
    assert page.images[1:5] == ["spectrum_a_vs_b.png", "counts_hist_wavelength.png", "heatmap_a.png", "heatmap_b.png"]
    assert page.scripts == 0 and page.external == []
    for link in page.links:
        assert "://" not in link and (folder / link).resolve().is_file(), link
    text = run_page.read_text()
    with Catalog.open(reported.catalog_path) as catalog:
        command = catalog.run_command_line(run["run_id"])
    assert command == "lightlane --quiet " + " ".join(COMMAND)  # --workspace is not part of it
    for value in (run["a_events_hash"], run["b_events_hash"], str(run["seed"]), run["processing_hash"], "small",
                  run["a_dataset"], run["b_dataset"], command, run["code_version"]):
        assert f"<code>{value}</code>" in text, value
    assert re.search(r"baseline set size R</th><td>2</td>", text)
    assert "P3 · lanesheet spectral-timing test" in text and "S_max − 2 = " in text  # P3 is stored for every run
    for path in (run_page, workspace_page):
        assert str(reported.root) not in path.read_text()  # nothing absolute: the folder can move

    overview = parse(workspace_page)
    assert f"pipelines/src_null/run-{run['run_id']}/index.html" in overview.links
    tables = [link for link in overview.links if link.startswith("tables/")]
    assert sorted(tables) == sorted(f"tables/{t}.{f}" for t in ("p1a", "p1bc", "p1d", "p1e", "p2", "p3")
                                    for f in ("tex", "csv", "md"))
    for link in overview.links:
        assert (workspace_page.parent / link).is_file(), link
    text = workspace_page.read_text()
    for dataset in ("src", "src_null_a", "src_null_b"):
        assert f"<code>{dataset}</code>" in text
    assert "3,000" in text  # the source's event count


@pytest.mark.slow
def test_report_command_rewrites_the_pages_without_recomputing(reported: Workspace, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    workspace = Workspace.at(tmp_path / "copy")
    shutil.copytree(reported.root, workspace.root)
    run_page, workspace_page = _pages(workspace)
    before = {p: p.read_bytes() for p in (run_page, workspace_page)}
    figures = {p: p.stat().st_mtime_ns for p in run_page.parent.glob("*.png")}
    rows = {t: catalog_rows(workspace, t) for t in ("runs", "test_results", "null_summaries", "run_commands")}
    for page in before:
        page.unlink()
    root = str(workspace.root)
    capsys.readouterr()
    assert main(["--workspace", root, "report"]) == 0
    out = capsys.readouterr().out
    assert f"report: {workspace_page}" in out
    assert {p: p.read_bytes() for p in before} == before  # the same bytes, from the catalog alone
    assert {p: p.stat().st_mtime_ns for p in figures} == figures
    assert {t: catalog_rows(workspace, t) for t in rows} == rows

    # named runs and --all; a page for a run without a folder is written into a new folder
    assert main(["--workspace", root, "--quiet", "report", _run(workspace)["run_id"]]) == 0
    with Catalog.open(workspace.catalog_path) as catalog:
        baseline = catalog.baseline_runs("src_null", _run(workspace)["processing_hash"])[0]["run_id"]
    assert main(["--workspace", root, "--quiet", "report", "--all"]) == 0
    assert not workspace.run_folder("src_null", baseline).exists()  # --all: runs with figures only
    assert main(["--workspace", root, "--quiet", "report", baseline]) == 0
    baseline_page = parse(workspace.run_folder("src_null", baseline) / "index.html")
    assert baseline_page.verdict_rows == [*METRICS, "P3"] and baseline_page.images == []

    # unknown runs and slips: one line, exit 3, nothing written
    for argv, needle in ((["report", "nope"], "run 'nope': no such run"), (["report", baseline, "--all"], "--all")):
        before = {p: p.read_bytes() for p in workspace.root.rglob("index.html")}
        assert main(["--workspace", root, *argv]) == 3
        assert needle in capsys.readouterr().err
        assert {p: p.read_bytes() for p in workspace.root.rglob("index.html")} == before


@pytest.mark.slow
def test_pages_in_headless_chromium(reported: Workspace) -> None:
    browser = find_browser()
    require(browser is not None, "no chromium binary found (Debian: apt-get install chromium)")
    try:
        import websocket  # noqa: F401  (the `websocket-client` package, in the test extra)
    except ImportError:
        require(False, "websocket-client is not installed (pip install '.[test]')")
    assert browser is not None
    run_page, workspace_page = _pages(reported)
    checks = """JSON.stringify({
        ready: document.readyState,
        title: document.title,
        images: Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,
                                                        width: i.naturalWidth, height: i.naturalHeight})),
        rows: Array.from(document.querySelectorAll('table#verdicts > tbody > tr'))
                   .map(r => r.querySelector('th').textContent.trim()),
        scripts: document.scripts.length,
        links: Array.from(document.links).map(a => a.href),
        pipelines: document.querySelectorAll('table#pipelines > tbody > tr').length,
    })"""
    with headless_page(browser) as page:
        seen: dict[str, dict[str, Any]] = {}
        requested: list[str] = []
        for path in (run_page, workspace_page):
            page.open(path.as_uri())
            seen[path.name if path == workspace_page else "run"] = json.loads(page.evaluate(checks))
            requested += page.requested_urls()
    run, overview = seen["run"], seen["index.html"]
    assert run["ready"] == "complete" and run["title"].startswith("src_null · run ")
    assert len(run["images"]) == len(list(run_page.parent.glob("*.png"))) >= 4
    for image in run["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert run["rows"] == [*METRICS, "P3"]  # one row per test metric plus P3 (SPEC §21 property 33)
    assert run["scripts"] == 0 and overview["scripts"] == 0
    assert overview["ready"] == "complete" and overview["pipelines"] == 1
    assert all(image["width"] > 0 for image in overview["images"])
    assert run_page.as_uri() in overview["links"]
    assert requested and all(url.startswith("file://") for url in requested), requested  # no network


# ----------------------------------------------------------------------------- written by the commands


@pytest.mark.slow
def test_baseline_plots_write_pages_after_the_leave_one_out_pass(workspace: Workspace, small_pipeline,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    small_pipeline(workspace)
    assert main(["--workspace", str(workspace.root), "baseline", "src_null", "--runs", "2", "--plots"]) == 0
    assert f"report: {workspace.root / 'results' / 'index.html'}" in capsys.readouterr().out
    with Catalog.open(workspace.catalog_path) as catalog:
        runs = catalog.baseline_runs("src_null", workspace.load(ProcessingParameters, "small").processing_hash())
    assert len(runs) == 2
    for run in runs:
        text = (workspace.run_folder("src_null", run["run_id"]) / "index.html").read_text()
        assert "baseline run" in text and re.search(r"baseline set size R</th><td>1</td>", text)  # R − 1
    overview = (workspace.root / "results" / "index.html").read_text()
    assert "no main run yet" in overview


def test_write_report_checks_named_runs_before_writing(workspace: Workspace) -> None:
    from lightlane.exceptions import MetadataError

    with pytest.raises(MetadataError, match="no such run"):
        write_report(workspace, ["missing"])
    assert not (workspace.root / "results" / "index.html").exists()
    (page,) = write_report(workspace)
    assert page == workspace.root / "results" / "index.html"
    assert "No pipelines yet" in page.read_text() and "No datasets yet." in page.read_text()


def _no_chromium(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("LIGHTLANE_CHROMIUM", raising=False)
    return lambda: require(find_browser() is not None, "no chromium")


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    check = _no_chromium(monkeypatch)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        check()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        check()
    assert os.environ["CI"] == "true"
