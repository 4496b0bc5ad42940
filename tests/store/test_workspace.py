"""Workspace layout, catalog, lock and onboarding (SPEC §4, §18 init/onboard)."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from lightlane import DataError, MetadataError, PrerequisiteError, Workspace
from lightlane.datasets.onboard import onboard_file
from lightlane.exceptions import WorkspaceLockedError
from lightlane.metadata import DatasetMeta, ProcessingParameters
from lightlane.store.catalog import SCHEMA_VERSION, TEST_RESULT_COLUMNS, Catalog
from lightlane.store.workspace import LAYOUT

from ..helpers import catalog_rows, snapshot


def test_init_creates_layout_catalog_and_defaults(workspace: Workspace) -> None:
    for folder in LAYOUT:
        assert (workspace.root / folder).is_dir(), folder
    assert workspace.ids(ProcessingParameters) == ["default"]
    with sqlite3.connect(workspace.catalog_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {row[1] for row in connection.execute("PRAGMA table_info(test_results)")}
    assert tables == {"datasets", "runs", "test_results", "null_summaries", "studies", "trials", "run_commands",
                      "sensitivity_studies", "sensitivity_units", "sensitivity_nulls", "sensitivity"}
    assert {name for name, _ in TEST_RESULT_COLUMNS} <= columns and len(TEST_RESULT_COLUMNS) == 56 + 5  # SPEC §11.7 and P3's §11.9


def test_init_keeps_edits_unless_forced(workspace: Workspace) -> None:
    path = workspace.meta_path(ProcessingParameters, "default")
    path.write_text(path.read_text().replace('"seed": 0', '"seed": 5'))
    workspace.init()
    assert workspace.load(ProcessingParameters, "default").seed == 5
    workspace.init(force=True)
    assert workspace.load(ProcessingParameters, "default").seed == 0


def test_an_old_catalog_is_migrated_keeping_every_value(tmp_path) -> None:
    """Migrations 2 (``run_commands``), 3 (P3 columns) and 4 (sensitivity tables) only add: a version-1
    catalog keeps its rows, its runs have no command, its results and null summaries no P3 value, and it
    has no sensitivity study."""
    from lightlane.store.catalog import MIGRATIONS, command_line, recording_command

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        connection.execute("INSERT INTO runs (run_id, kind, pipeline_id, status, started_at, code_version) "
                           "VALUES ('r1', 'pipeline', 'p', 'done', '2024-01-01T00:00:00Z', '0.0.1')")
        connection.execute("INSERT INTO test_results (run_id, metric, n_a, code_version) VALUES ('r1', 'vea', 7, '0.0.1')")
        connection.execute("INSERT INTO null_summaries (run_id, metric, q, code_version) VALUES ('r1', 'vea', 0.5, '0.0.1')")
        before = {t: connection.execute(f"SELECT * FROM {t}").fetchall() for t in ("runs", "datasets")}
    with Catalog.open(path) as catalog:
        assert catalog.user_version == 4
        assert catalog.sensitivity_study_row("s") is None and catalog.sensitivity_units("s") == []
        assert catalog.sensitivity_null_rows("s") == [] and catalog.sensitivity_rows("s") == []
        result = dict(catalog.test_result_rows("r1")[0])
        assert result["n_a"] == 7 and result["p3_stat"] is None and result["p3_verdict_calibrated"] is None
        assert [tuple(r) for r in catalog.connection.execute("SELECT q, p3 FROM null_summaries")] == [(0.5, None)]
        assert catalog.run_command_line("r1") is None
        assert [r["run_id"] for r in catalog.latest_main_runs()] == ["r1"]
        with catalog.transaction() as cursor:
            catalog.record_run_command(cursor, "r1", "lightlane run p")
            catalog.record_run_command(cursor, "r1", "lightlane run p --seed 2")  # a repeat replaces it
        assert catalog.run_command_line("r1") == "lightlane run p --seed 2"
    with sqlite3.connect(path) as connection:
        assert {t: connection.execute(f"SELECT * FROM {t}").fetchall() for t in ("runs", "datasets")} == before
    assert command_line() is None
    with recording_command("lightlane run p"):
        assert command_line() == "lightlane run p"
    assert command_line() is None


def test_catalog_refuses_newer_schema(workspace: Workspace) -> None:
    with sqlite3.connect(workspace.catalog_path) as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(MetadataError, match="newer than this lightlane"):
        Catalog.open(workspace.catalog_path)


def test_lock_is_exclusive(workspace: Workspace) -> None:
    with workspace.lock():
        with pytest.raises(WorkspaceLockedError, match="another lightlane command"):
            with workspace.lock():
                pass
    with workspace.lock():
        pass


def test_uninitialised_workspace_is_a_prerequisite_error(tmp_path) -> None:
    with pytest.raises(PrerequisiteError, match="lightlane --workspace .* init"):
        Workspace.at(tmp_path).require_initialised()


def test_unknown_ids_name_the_file(workspace: Workspace) -> None:
    with pytest.raises(MetadataError, match="meta/processing/nope.json: no such processing id 'nope'"):
        workspace.load(ProcessingParameters, "nope")
    with pytest.raises(MetadataError, match="invalid id"):
        workspace.load(ProcessingParameters, "../../etc")


def test_onboard_copies_hashes_and_registers(workspace: Workspace, make_events) -> None:
    source = make_events(name="acisf1_evt2.fits")
    source_bytes = source.read_bytes()
    meta = onboard_file(workspace, source, "obs1")
    assert source.read_bytes() == source_bytes
    copied = workspace.path(meta.event_file)
    assert meta.event_file == "data/raw/obs1/acisf1_evt2.fits" and copied.read_bytes() == source_bytes
    assert meta.file_sha256 == hashlib.sha256(source_bytes).hexdigest()
    assert workspace.load(DatasetMeta, "obs1") == meta
    assert (meta.kind, meta.mission, meta.instrument, meta.energy_calibration) == ("raw", "CHANDRA", "ACIS", "chandra-acis")
    assert meta.event_count == 200 and meta.time.exposure_s == 1000.0
    rows = catalog_rows(workspace, "datasets")
    assert len(rows) == 1 and rows[0][0] == "obs1" and rows[0][3] == meta.file_sha256


def test_onboard_link(workspace: Workspace, make_events) -> None:
    source = make_events(name="linked.fits")
    meta = onboard_file(workspace, source, "linked", link=True)
    placed = workspace.path(meta.event_file)
    assert placed.is_symlink() and placed.resolve() == source.resolve()


@pytest.mark.parametrize(
    ("kwargs", "dataset_id", "error", "pattern"),
    [
        ({"times": [3.0, 2.0, 1.0], "columns": {"PI": ("J", [5, 6, 7])}}, "bad", DataError, "not non-decreasing"),
        ({}, "Bad-Id", MetadataError, "invalid dataset id"),
        ({"header": {"TELESCOP": "ROSAT"}}, "rosat", MetadataError, "--calibration"),
    ],
)
def test_failed_onboard_leaves_workspace_unchanged(workspace, make_events, kwargs, dataset_id, error, pattern) -> None:
    import numpy as np

    if "times" in kwargs:
        kwargs = {"times": np.array(kwargs["times"]), "columns": {"PI": ("J", np.array([5, 6, 7], dtype=np.int32))}}
    source = make_events(**kwargs)
    before = snapshot(workspace.root)
    with pytest.raises(error, match=pattern):
        onboard_file(workspace, source, dataset_id)
    assert snapshot(workspace.root) == before
    assert catalog_rows(workspace, "datasets") == []


def test_onboard_rolls_back_when_the_catalog_write_fails(workspace, make_events, monkeypatch) -> None:
    source = make_events()
    before = snapshot(workspace.root)

    def broken_insert(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Catalog, "insert", broken_insert)
    with pytest.raises((sqlite3.OperationalError, OSError)):  # the catalog names its file in an OSError
        onboard_file(workspace, source, "obs1")
    assert snapshot(workspace.root) == before
    assert not workspace.raw_dir("obs1").exists()


def test_duplicate_id_is_refused(workspace, make_events) -> None:
    onboard_file(workspace, make_events(), "obs1")
    before = snapshot(workspace.root)
    with pytest.raises(MetadataError, match="already exists"):
        onboard_file(workspace, make_events(), "obs1")
    assert snapshot(workspace.root) == before


def test_onboard_rejects_unknown_processing(workspace, make_events) -> None:
    with pytest.raises(MetadataError, match="meta/processing/nope.json"):
        onboard_file(workspace, make_events(), "obs1", processing="nope")


def test_read_dataset_matches_onboarding_and_checks_the_hash(workspace, make_events) -> None:
    from lightlane.datasets.registered import read_dataset
    from lightlane.events.reading import read_events

    source = make_events()
    meta = onboard_file(workspace, source, "obs1")
    events = read_dataset(workspace, "obs1")
    assert events.events.equals(read_events(source, dataset_id="obs1").events)
    assert events.events_hash() == catalog_rows(workspace, "datasets")[0][4]
    placed = workspace.path(meta.event_file)
    placed.write_bytes(placed.read_bytes()[:-1] + b"\x01")
    with pytest.raises(DataError, match="the file changed after onboarding"):
        read_dataset(workspace, "obs1")
