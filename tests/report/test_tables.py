"""Result tables (SPEC §15) from a real-schema catalog."""

from __future__ import annotations

import csv
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from lightlane.report.tables import (
    GROUPS,
    TABLE_COLUMNS,
    TABLES,
    TableSection,
    build_sections,
    build_tables,
    empty_groups,
    format_p,
    format_sig3,
    headline_verdict,
    latex_escape,
    load_results,
    missing_sections,
    table_to_csv,
    write_tables,
)
from lightlane.store.catalog import TEST_RESULT_COLUMNS, Catalog
from lightlane.version import CODE_VERSION

HASH = "1a2b3c4d"
OLD_HASH = "99ff00ee"
OLD_VERSION = "0.0.1+old"

LANE = "demo_lane_vs_poisson"  # positive control
NULL = "demo_null_vs_poisson"  # negative control
TEST = "demo_vs_poisson"  # test

PIPELINES = {
    LANE: ("positive_control", HASH),
    NULL: ("negative_control", HASH),
    TEST: ("test", HASH),
}

# Per pipeline: one main run (index 0) and baseline runs 1..5, with the calibrated P1a verdict of each.
P1A_CAL = {
    LANE: ["SIGNIFICANT", "SIGNIFICANT", "SIGNIFICANT", "NOT_SIGNIFICANT", "SIGNIFICANT", "NOT_SIGNIFICANT"],
    NULL: ["NOT_SIGNIFICANT"] * 6,
    TEST: ["INCONCLUSIVE", "NOT_SIGNIFICANT", "NOT_SIGNIFICANT", None, "NOT_SIGNIFICANT", "INCONCLUSIVE"],
}


def result_row(pipeline: str, index: int, metric: str, *, shift: float = 0.0) -> dict[str, Any]:
    """Realistic values for one run × metric; ``shift`` marks rows that must be filtered out."""
    k = list(PIPELINES).index(pipeline) if pipeline in PIPELINES else 3
    i = index
    m = 100_000
    p0 = 0.01
    exceed = 1000 + 37 * i + 150 * (k == 0) + int(shift)
    cal = P1A_CAL.get(pipeline, P1A_CAL[NULL])[i % 6]
    return {
        "n_a": 120_000 + 11 * i,
        "n_b": 119_500 + 7 * i,
        "baseline_runs": 5,
        "notes": None,
        "p1a_q_run": 2.31 + 0.013 * i + k / 10,
        "p1a_threshold": 2.297 + 0.0071 * i + k / 10 + shift,
        "p1a_exceedances": exceed,
        "p1a_expected": m * p0,
        "p1a_rate": exceed / m,
        "p1a_enrichment": exceed / (m * p0) + shift,
        "p1a_p_binomial": 3.1e-7 * (i + 1) / (k + 1) + shift,
        "p1a_ci_low": 0.0094 + 0.0001 * i,
        "p1a_ci_high": 0.0107 + 0.0001 * i,
        "p1a_p_calibrated": (1 + i + 2 * k) / 6 / 7 + shift,
        "p1a_verdict": "SIGNIFICANT" if (i + k) % 3 else "NOT_SIGNIFICANT",
        "p1a_verdict_calibrated": cal,
        "p1b_mean_a": 0.1234567891 + 0.01 * i + shift,
        "p1b_mean_b": 0.1111111111 + 0.003 * i,
        "p1b_ci_low": 0.00123456789 * (i + 1) - 0.002,
        "p1b_ci_high": 0.0213 + 0.001 * i,
        "p1b_p_calibrated": 0.2 + 0.05 * i,
        "p1b_verdict": "CONFIRMED" if i % 2 else "NOT_SIGNIFICANT",
        "p1b_verdict_calibrated": "NOT_SIGNIFICANT" if i % 3 else "INCONCLUSIVE",
        "p1c_median_a": 0.0987654321 + 0.002 * i,
        "p1c_median_b": 0.0911 + 0.001 * i,
        "p1c_ci_low": -0.001,
        "p1c_ci_high": 0.015,
        "p1c_p_mw_greater": 1.234567e-12 * (i + 1),
        "p1c_p_mw_less": 1.0 - 1e-12 * (i + 1),
        "p1c_p_calibrated": 0.3 + 0.01 * i,
        "p1c_verdict": "CONFIRMED",
        "p1c_verdict_calibrated": None if i == 0 else "NOT_SIGNIFICANT",
        "p1d_neg_a": 812 - 10 * i - 60 * (k == 0),
        "p1d_neg_b": 830 + 3 * i,
        "p1d_pos_a": 905 + 12 * i,
        "p1d_pos_b": 860 + 2 * i,
        "p1d_ratio_neg": (812 - 10 * i - 60 * (k == 0)) / (830 + 3 * i),
        "p1d_ratio_pos": (905 + 12 * i) / (860 + 2 * i),
        "p1d_verdict": "CONFIRMED" if k == 0 else ("PARTIAL" if i % 2 else "SILENT"),
        "p1e_ratio_a": 0.871 - 0.004 * i,
        "p1e_ratio_b": 0.902 + 0.001 * i,
        "p1e_p_calibrated": 0.05 + 0.1 * i,
        "p1e_verdict": "TREND",
        "p1e_verdict_calibrated": "NOT_SIGNIFICANT" if i < 4 else "SIGNIFICANT",
        "p2_k_a": 1000,
        "p2_k_b": 1000,
        "p2_slope_a": -0.412 - 0.01 * i,
        "p2_se_a": 0.0871 + 0.001 * i,
        "p2_slope_b": -0.103 + 0.002 * i,
        "p2_se_b": 0.0902,
        "p2_z": -2.51 - 0.1 * i,
        "p2_p_z": 0.0121 / (i + 1),
        "p2_p_calibrated": 0.0123456 * (i + 1),
        "p2a_verdict": "NOT_SIGNIFICANT",
        "p2b_verdict": "TREND" if i % 2 else "CONFIRMED",
        "p2_verdict_calibrated": "SIGNIFICANT" if i == 2 else "NOT_SIGNIFICANT",
    }


def add_run(
    catalog: Catalog,
    run_id: str,
    kind: str,
    pipeline: str,
    index: int,
    *,
    processing_hash: str = HASH,
    version: str = CODE_VERSION,
    status: str = "done",
    shift: float = 0.0,
    metrics: tuple[str, ...] = ("vea", "vesa"),
) -> None:
    with catalog.transaction() as cursor:
        catalog.insert(
            cursor,
            "runs",
            {
                "run_id": run_id,
                "kind": kind,
                "pipeline_id": pipeline,
                "processing_id": "acis_default",
                "processing_hash": processing_hash,
                "run_index": index,
                "seed": 1000 + index,
                "status": status,
                "started_at": "2024-05-01T12:00:00Z",
                "finished_at": "2024-05-01T12:03:00Z",
                "code_version": version,
            },
        )
        for metric in metrics:
            row = {"run_id": run_id, "metric": metric, **result_row(pipeline, index, metric, shift=shift)}
            row["code_version"] = version
            catalog.insert(cursor, "test_results", row)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog.open(tmp_path / "c.sqlite")
    for pipeline in PIPELINES:
        for index in range(6):
            kind = "pipeline" if index == 0 else "baseline"
            add_run(cat, f"{pipeline}-r{index}", kind, pipeline, index)
        # Noise that must be filtered out: an old processing hash, an old package version,
        # an analyze run, a failed run.
        add_run(cat, f"{pipeline}-oldhash", "baseline", pipeline, 7, processing_hash=OLD_HASH, shift=1e6)
        add_run(cat, f"{pipeline}-oldver", "baseline", pipeline, 8, version=OLD_VERSION, shift=1e6)
        add_run(cat, f"{pipeline}-analyze", "analyze", pipeline, 9, shift=1e6)
        add_run(cat, f"{pipeline}-failed", "baseline", pipeline, 10, status="failed", shift=1e6)
    # A pipeline that is not asked for.
    add_run(cat, "other-r0", "pipeline", "other_vs_poisson", 0, shift=1e6)
    yield cat
    cat.close()


def expected_rows(pipeline: str, indices: range = range(6)) -> list[dict[str, Any]]:
    return [result_row(pipeline, i, "vea") for i in indices]


# ---------------------------------------------------------------------------------------------
# Loading


def test_load_filters_version_hash_and_kind(catalog: Catalog) -> None:
    frame = load_results(catalog.connection, PIPELINES, ["vea"], "all", CODE_VERSION)
    assert frame.height == 3 * 6
    assert set(frame["processing_hash"]) == {HASH}
    assert set(frame["code_version"]) == {CODE_VERSION}
    assert set(frame["metric"]) == {"vea"}
    assert set(frame["run_kind"]) == {"main", "baseline"}
    assert set(frame["pipeline_id"]) == set(PIPELINES)
    roles = dict(frame.select("pipeline_id", "role").unique().iter_rows())
    assert roles == {p: role for p, (role, _h) in PIPELINES.items()}
    # Every §11.7 column is present with its stored value.
    for name, _kind in TEST_RESULT_COLUMNS:
        assert name in frame.columns
    assert frame["p1a_threshold"].max() < 10  # the shifted rows are gone

    main = load_results(catalog.connection, PIPELINES, ["vea"], "main", CODE_VERSION)
    assert main.height == 3
    assert set(main["run_kind"]) == {"main"} and set(main["run_index"]) == {0}
    baseline = load_results(catalog.connection, PIPELINES, ["vea"], "baseline", CODE_VERSION)
    assert baseline.height == 3 * 5 and set(baseline["run_index"]) == {1, 2, 3, 4, 5}

    both = load_results(catalog.connection, PIPELINES, None, "all")
    assert both.height == 3 * 6 * 2  # default version = the running package's

    old = load_results(catalog.connection, PIPELINES, ["vea"], "all", OLD_VERSION)
    assert old.height == 3 and set(old["run_index"]) == {8}

    old_hash = {p: (role, OLD_HASH) for p, (role, _h) in PIPELINES.items()}
    frame = load_results(catalog.connection, old_hash, ["vea"], "all", CODE_VERSION)
    assert frame.height == 3 and set(frame["run_index"]) == {7}


def test_load_empty_and_bad_arguments(catalog: Catalog) -> None:
    empty = load_results(catalog.connection, {}, ["vea"], "all")
    assert empty.height == 0 and "role" in empty.columns and "p1a_verdict" in empty.columns
    assert load_results(catalog.connection, PIPELINES, [], "all").height == 0
    assert load_results(catalog.connection, PIPELINES, ["nope"], "all").height == 0
    with pytest.raises(ValueError):
        load_results(catalog.connection, PIPELINES, ["vea"], "some")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        load_results(catalog.connection, {LANE: ("control", HASH)}, ["vea"], "all")
    # Empty results build no tables at all.
    assert build_tables(empty, "vea") == {}
    assert empty_groups({}) == list(GROUPS)


# ---------------------------------------------------------------------------------------------
# Verdicts and grouping


def test_headline_verdict() -> None:
    row = {"p1a_verdict": "SIGNIFICANT", "p1a_verdict_calibrated": "INCONCLUSIVE"}
    assert headline_verdict(row) == "INCONCLUSIVE"
    assert headline_verdict({"p1a_verdict": "SIGNIFICANT", "p1a_verdict_calibrated": None}) == "SIGNIFICANT"
    assert headline_verdict({"p1a_verdict": "SIGNIFICANT"}) == "SIGNIFICANT"
    assert headline_verdict({"p1d_verdict": "PARTIAL"}, "p1d") == "PARTIAL"
    assert headline_verdict({"p2a_verdict": "SIGNIFICANT", "p2_verdict_calibrated": "NOT_SIGNIFICANT"}, "p2") == (
        "NOT_SIGNIFICANT"
    )
    assert headline_verdict({}, "p1e") is None
    with pytest.raises(ValueError):
        headline_verdict(row, "p9")


def test_grouping_medians_and_runs(catalog: Catalog) -> None:
    results = load_results(catalog.connection, PIPELINES, ["vea", "vesa"], "all")
    tables = build_tables(results, "vea")
    assert set(tables) == {(t, g) for t in TABLE_COLUMNS if t != "p3" for g in GROUPS}  # P3 rows make the p3 table
    assert empty_groups(tables) == []

    p1a = tables[("p1a", "positive_control")]
    assert p1a["pipeline"].to_list() == [LANE, LANE]
    assert p1a["verdict (calibrated)"].to_list() == ["NOT_SIGNIFICANT", "SIGNIFICANT"]
    rows = expected_rows(LANE)
    for verdict, want_runs in (("NOT_SIGNIFICANT", 2), ("SIGNIFICANT", 4)):
        sel = [r for r in rows if r["p1a_verdict_calibrated"] == verdict]
        got = p1a.filter(pl.col("verdict (calibrated)") == verdict).row(0, named=True)
        assert got["runs"] == want_runs == len(sel)
        assert got["median p_cal"] == pytest.approx(statistics.median(r["p1a_p_calibrated"] for r in sel))
        assert got["median p_binom"] == pytest.approx(statistics.median(r["p1a_p_binomial"] for r in sel))
        assert got["median threshold q̄"] == pytest.approx(statistics.median(r["p1a_threshold"] for r in sel))
        assert got["median exceedances"] == pytest.approx(statistics.median(r["p1a_exceedances"] for r in sel))
        assert got["expected (m·p0)"] == pytest.approx(1000.0)
        assert got["median enrichment"] == pytest.approx(statistics.median(r["p1a_enrichment"] for r in sel))

    # The test pipeline falls back to the naive verdict where no calibrated one is stored (run 3).
    test_p1a = tables[("p1a", "test")]
    rows = expected_rows(TEST)
    headlines = [headline_verdict(r) for r in rows]
    assert headlines[3] == rows[3]["p1a_verdict"]
    want = sorted(set(headlines))
    assert test_p1a["verdict (calibrated)"].to_list() == want
    assert test_p1a["runs"].to_list() == [headlines.count(v) for v in want]
    assert test_p1a["runs"].sum() == 6

    # Composite cells keep both medians at full precision.
    p1bc = tables[("p1bc", "negative_control")]
    rows = expected_rows(NULL)
    for got in p1bc.iter_rows(named=True):
        sel = [r for r in rows if headline_verdict(r, "p1b") == got["P1b verdict"]]
        assert got["runs"] == len(sel)
        low, high = got["Δ_mean interval"]
        assert low == pytest.approx(statistics.median(r["p1b_ci_low"] for r in sel))
        assert high == pytest.approx(statistics.median(r["p1b_ci_high"] for r in sel))
        assert got["MW p"] == pytest.approx(statistics.median(r["p1c_p_mw_greater"] for r in sel))
        assert got["P1c verdict"] in {"CONFIRMED", "NOT_SIGNIFICANT"}

    p2 = tables[("p2", "test")]
    assert p2["P2a"].to_list() == ["NOT_SIGNIFICANT", "SIGNIFICANT"]
    assert p2["runs"].to_list() == [5, 1]
    slope, se = p2.row(1, named=True)["slope A ± se"]
    assert (slope, se) == pytest.approx((-0.432, 0.0891))

    p1d = tables[("p1d", "positive_control")]
    assert p1d.height == 1 and p1d["runs"].to_list() == [6] and p1d["verdict"].to_list() == ["CONFIRMED"]
    neg_a, neg_b = p1d["neg peak A/B"][0]
    assert neg_a == statistics.median(r["p1d_neg_a"] for r in expected_rows(LANE))
    assert neg_b == statistics.median(r["p1d_neg_b"] for r in expected_rows(LANE))

    # Sorted by pipeline id, then verdict, across several pipelines of the same group.
    mixed = results.with_columns(pl.lit("test").alias("role"))
    p1e = build_tables(mixed, "vea")[("p1e", "test")]
    keys = list(zip(p1e["pipeline"], p1e["verdict"]))
    assert keys == sorted(keys)
    assert [k[0] for k in keys] == [LANE, LANE, NULL, NULL, TEST, TEST]


def test_exact_columns(catalog: Catalog) -> None:
    results = load_results(catalog.connection, PIPELINES, ["vea"], "all")
    tables = build_tables(results, "vea")
    assert TABLE_COLUMNS == {
        "p1a": (
            "pipeline", "runs", "median p_cal", "median p_binom", "median threshold q̄", "median exceedances",
            "expected (m·p0)", "median enrichment", "verdict (calibrated)", "verdict (naive)",
        ),
        "p1bc": (
            "pipeline", "runs", "mean A", "mean B", "Δ_mean interval", "P1b verdict", "median A", "median B",
            "MW p", "P1c verdict",
        ),
        "p1d": ("pipeline", "runs", "neg peak A/B", "pos peak A/B", "r_neg", "r_pos", "verdict"),
        "p1e": ("pipeline", "runs", "neg/pos A", "neg/pos B", "p_cal", "verdict"),
        "p2": ("pipeline", "runs", "slope A ± se", "slope B ± se", "p_z", "p_cal", "P2a", "P2b"),
        "p3": ("pipeline", "runs", "median S_max − 2", "median ŝ (1/nm)", "median ĉ (ln Hz)", "median p_cal",
               "verdict (calibrated)"),
    }  # fmt: skip
    for (table, _group), frame in tables.items():
        assert tuple(frame.columns) == TABLE_COLUMNS[table]


# ---------------------------------------------------------------------------------------------
# Formatting and files


def test_formatting_helpers() -> None:
    assert format_sig3(0.0123456) == "0.0123"
    assert format_sig3(1234.5) == "1230"
    assert format_sig3(2.297) == "2.30"
    assert format_sig3(-0.412) == "-0.412"
    assert format_sig3(1.234e-7) == "1.23e-07"
    assert format_sig3(None) == ""
    assert format_p(3.1e-7) == "3.10e-07"
    assert latex_escape("a_b & c% $d #e {f} ~g ^h \\i") == (
        r"a\_b \& c\% \$d \#e \{f\} \textasciitilde{}g \textasciicircum{}h \textbackslash{}i"
    )


def test_build_sections_orders_metric_then_group(catalog: Catalog) -> None:
    results = load_results(catalog.connection, PIPELINES, ["vea", "vesa"], "all")
    sections = build_sections(results, ["vesa", "vea"])
    assert list(sections) == [t for t in TABLES if t != "p3"]  # no P3 rows asked for
    for table, found in sections.items():
        assert [(s.metric, s.group) for s in found] == [(m, g) for m in ("vesa", "vea") for g in GROUPS]
        for section in found:
            assert section.frame.equals(build_tables(results, section.metric)[(table, section.group)])
    assert missing_sections(sections, ["vesa", "vea", "ev"]) == [("ev", g) for g in GROUPS]
    assert build_sections(results.clear(), ["vea"]) == {}


def test_write_tables_all_formats(catalog: Catalog, tmp_path: Path) -> None:
    results = load_results(catalog.connection, PIPELINES, ["vea", "vesa"], "all")
    root = tmp_path / "results" / "tables"
    sections = build_sections(results, ["vea", "vesa"])
    paths = write_tables(sections, root)
    # ONE file per table and format, every metric and group inside
    assert [p.name for p in paths] == [f"{t}.{f}" for t in TABLES if t != "p3" for f in ("tex", "csv", "md")]
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in paths)  # no temporary files left behind
    assert all(p.parent == root for p in paths)

    p1a = build_tables(results, "vea")[("p1a", "positive_control")]

    tex = (root / "p1a.tex").read_text()
    assert tex.startswith(r"\begin{table}")
    assert tex.rstrip().endswith(r"\end{table}")
    assert tex.count(r"\begin{table}") == 1 and tex.count(r"\begin{tabular}") == 1
    for marker in (r"\toprule", r"\midrule", r"\bottomrule", r"\caption{", r"\begin{tabular}"):
        assert marker in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert r"\label{tab:p1a}" in tex
    headings = re.findall(r"\\multicolumn\{10\}\{l\}\{\\emph\{metric \\texttt\{(\w+)\}, ([a-z ]+) pipelines\}\}", tex)
    assert headings == [(m, g.replace("_", " ")) for m in ("vea", "vesa") for g in GROUPS]
    assert tex.count(r"\midrule") == len(headings)
    assert r"demo\_lane\_vs\_poisson" in tex
    assert "demo_lane_vs_poisson" not in tex
    assert r"NOT\_SIGNIFICANT" in tex
    row = p1a.row(1, named=True)  # SIGNIFICANT
    assert f"{row['median p_cal']:.2e}" in tex
    assert f"{row['median p_binom']:.2e}" in tex
    assert format_sig3(row["median threshold q̄"]) in tex
    assert re.search(r"& 4 & \d\.\d\de-\d\d & \d\.\d\de-\d\d & \d\.\d\d & ", tex)
    assert "2.3034" not in tex  # no full precision in LaTeX

    p2_tex = (root / "p2.tex").read_text()
    assert r"$\pm$" in p2_tex and r"\label{tab:p2}" in p2_tex
    assert r"demo\_vs\_poisson" in p2_tex

    # CSV round-trips at full precision: one table, with the metric and group of each row
    with open(root / "p1a.csv", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert list(records[0]) == ["metric", "group", *TABLE_COLUMNS["p1a"]]
    expected = [(s.metric, s.group, r) for s in sections["p1a"] for r in s.frame.iter_rows(named=True)]
    assert len(records) == len(expected)
    for record, (metric, group, want) in zip(records, expected):
        assert (record["metric"], record["group"]) == (metric, group)
        assert record["pipeline"] == want["pipeline"]
        assert int(record["runs"]) == want["runs"]
        for name in ("median p_cal", "median p_binom", "median threshold q̄", "median enrichment"):
            assert float(record[name]) == want[name]  # exact
        assert record["verdict (calibrated)"] == want["verdict (calibrated)"]
    with open(root / "p1bc.csv", newline="") as handle:
        records = [r for r in csv.DictReader(handle) if r["metric"] == "vea" and r["group"] == "test"]
    p1bc = build_tables(results, "vea")[("p1bc", "test")]
    assert len(records) == p1bc.height
    for record, want in zip(records, p1bc.iter_rows(named=True)):
        low, high = (float(x) for x in record["Δ_mean interval"].strip("[]").split(", "))
        assert [low, high] == want["Δ_mean interval"]
        assert float(record["MW p"]) == want["MW p"]
    # Also readable by polars with the float columns intact.
    back = pl.read_csv(root / "p1e.csv")
    assert back.columns == ["metric", "group", *TABLE_COLUMNS["p1e"]]
    want = pl.concat([s.frame for s in sections["p1e"]])
    assert back["neg/pos A"].to_list() == want["neg/pos A"].to_list()

    # Markdown: a title, then a heading and a pipe table per section
    md = (root / "p1d.md").read_text().splitlines()
    assert md[0] == "# P1d shifted peaks"
    titles = [line for line in md if line.startswith("## ")]
    assert titles == [f"## {m} · {g.replace('_', ' ')} pipelines" for m in ("vea", "vesa") for g in GROUPS]
    header = "| " + " | ".join(TABLE_COLUMNS["p1d"]) + " |"
    assert md.count(header) == len(titles)
    at = md.index("## vea · negative control pipelines")
    table = md[at + 2:at + 4 + build_tables(results, "vea")[("p1d", "negative_control")].height]
    assert table[0] == header and re.fullmatch(r"\|(-{3,}:?\|)+", table[1])
    assert all(line.startswith("| ") and line.endswith(" |") for line in table[2:])
    assert NULL in table[2]
    assert all(line.count("|") == header.count("|") for line in md if line.startswith("|"))


def test_empty_groups_write_no_section(catalog: Catalog, tmp_path: Path) -> None:
    subset = {LANE: PIPELINES[LANE], TEST: PIPELINES[TEST]}
    results = load_results(catalog.connection, subset, ["vea"], "main")
    tables = build_tables(results, "vea")
    assert {g for _t, g in tables} == {"positive_control", "test"}
    assert empty_groups(tables) == ["negative_control"]
    sections = build_sections(results, ["vea", "missing"])
    assert missing_sections(sections, ["vea", "missing"]) == [("vea", "negative_control"),
                                                               *(("missing", g) for g in GROUPS)]
    folder = tmp_path / "results" / "tables"
    paths = write_tables(sections, folder, ("csv", "tex"))
    assert len(paths) == 5 * 2
    assert not list(folder.glob("*.md"))
    assert sorted(folder.iterdir()) == sorted(paths)
    for path in paths:
        text = path.read_text()
        assert "negative_control" not in text and "negative control" not in text and "missing" not in text
    with open(folder / "p1e.csv", newline="") as handle:
        assert {(r["metric"], r["group"]) for r in csv.DictReader(handle)} == {("vea", "positive_control"),
                                                                                ("vea", "test")}

    # No results at all: nothing is written.
    assert write_tables(build_sections(results, ["missing"]), tmp_path / "none") == []
    assert not (tmp_path / "none").exists()

    # Single-run groups are fine (medians of one value), only main runs are counted.
    p1a = tables[("p1a", "positive_control")]
    assert p1a["runs"].to_list() == [1]
    assert p1a["median p_cal"][0] == result_row(LANE, 0, "vea")["p1a_p_calibrated"]


def test_write_rejects_unknown_format(catalog: Catalog, tmp_path: Path) -> None:
    sections = build_sections(load_results(catalog.connection, PIPELINES, ["vea"], "all"), ["vea"])
    with pytest.raises(ValueError):
        write_tables(sections, tmp_path / "tables", ("pdf",))
    assert not (tmp_path / "tables").exists()
    # A section whose frame has the wrong columns is refused.
    with pytest.raises(ValueError):
        table_to_csv("p1a", [TableSection("vea", "test", pl.DataFrame({"x": [1]}))])
    with pytest.raises(ValueError):
        table_to_csv("p9", [])


def test_p3_rows_make_the_p3_table_only() -> None:
    """The run's one P3 row (metric ``p3``, SPEC §11.9) is summarised in the p3 table and nowhere else."""
    rows = [{"pipeline_id": LANE, "role": "positive_control", "metric": "p3", **dict.fromkeys(
        name for name, _ in TEST_RESULT_COLUMNS), "p3_stat": stat, "p3_slope": 2.0, "p3_intercept": -4.3,
        "p3_p_calibrated": p, "p3_verdict_calibrated": verdict}
        for stat, p, verdict in ((60.0, 0.01, "SIGNIFICANT"), (70.0, 0.03, "SIGNIFICANT"), (1.0, 0.5, "NOT_SIGNIFICANT"))]
    schema = {name: {"REAL": pl.Float64, "INTEGER": pl.Int64, "TEXT": pl.Utf8}[kind] for name, kind in TEST_RESULT_COLUMNS}
    results = pl.DataFrame(rows, schema={"pipeline_id": pl.Utf8, "role": pl.Utf8, "metric": pl.Utf8, **schema})
    tables = build_tables(results, "p3")
    assert list(tables) == [("p3", "positive_control")]
    frame = tables[("p3", "positive_control")]
    assert frame.columns == list(TABLE_COLUMNS["p3"])
    significant = frame.filter(pl.col("verdict (calibrated)") == "SIGNIFICANT").row(0, named=True)
    assert significant["runs"] == 2 and significant["median S_max − 2"] == 65.0 and significant["median p_cal"] == pytest.approx(0.02)
