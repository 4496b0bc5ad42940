"""The SQLite catalog (SPEC §4.4): datasets, runs, test results, studies.

Schema changes are numbered migrations applied in order inside one
transaction each; ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .exceptions import MetadataError
from .version import CODE_VERSION

__all__ = ["Catalog", "utc_now", "SCHEMA_VERSION", "TEST_RESULT_COLUMNS"]

TEST_RESULT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, kind)
    for group in (
        "n_a:INTEGER n_b:INTEGER baseline_runs:INTEGER notes:TEXT",
        "p1a_q_run:REAL p1a_threshold:REAL p1a_exceedances:INTEGER p1a_expected:REAL p1a_rate:REAL "
        "p1a_enrichment:REAL p1a_p_binomial:REAL p1a_ci_low:REAL p1a_ci_high:REAL p1a_p_calibrated:REAL "
        "p1a_verdict:TEXT p1a_verdict_calibrated:TEXT",
        "p1b_mean_a:REAL p1b_mean_b:REAL p1b_ci_low:REAL p1b_ci_high:REAL p1b_p_calibrated:REAL "
        "p1b_verdict:TEXT p1b_verdict_calibrated:TEXT",
        "p1c_median_a:REAL p1c_median_b:REAL p1c_ci_low:REAL p1c_ci_high:REAL p1c_p_mw_greater:REAL "
        "p1c_p_mw_less:REAL p1c_p_calibrated:REAL p1c_verdict:TEXT p1c_verdict_calibrated:TEXT",
        "p1d_neg_a:INTEGER p1d_neg_b:INTEGER p1d_pos_a:INTEGER p1d_pos_b:INTEGER p1d_ratio_neg:REAL "
        "p1d_ratio_pos:REAL p1d_verdict:TEXT",
        "p1e_ratio_a:REAL p1e_ratio_b:REAL p1e_p_calibrated:REAL p1e_verdict:TEXT p1e_verdict_calibrated:TEXT",
        "p2_k_a:INTEGER p2_k_b:INTEGER p2_slope_a:REAL p2_se_a:REAL p2_slope_b:REAL p2_se_b:REAL p2_z:REAL "
        "p2_p_z:REAL p2_p_calibrated:REAL p2a_verdict:TEXT p2b_verdict:TEXT p2_verdict_calibrated:TEXT",
    )
    for name, kind in (item.split(":") for item in group.split())
)

_MIGRATION_1 = f"""
CREATE TABLE datasets (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('raw', 'derived', 'synthetic')),
    event_file TEXT NOT NULL, file_sha256 TEXT NOT NULL, events_hash TEXT, parent_id TEXT,
    generation_id TEXT, tasks_json TEXT NOT NULL DEFAULT '[]', seed INTEGER,
    created_at TEXT NOT NULL, deleted_at TEXT, code_version TEXT NOT NULL
);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('pipeline', 'baseline', 'analyze', 'trial')),
    pipeline_id TEXT, processing_id TEXT, processing_hash TEXT, run_index INTEGER, seed INTEGER,
    a_dataset TEXT, b_dataset TEXT, a_events_hash TEXT, b_events_hash TEXT, a_chunks_key TEXT,
    b_chunks_key TEXT, resolved_json TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')), error TEXT,
    started_at TEXT NOT NULL, finished_at TEXT, code_version TEXT NOT NULL
);
CREATE INDEX runs_by_pipeline ON runs (pipeline_id, processing_hash, kind);
CREATE TABLE test_results (
    run_id TEXT NOT NULL REFERENCES runs (run_id), metric TEXT NOT NULL,
    {", ".join(f"{name} {kind}" for name, kind in TEST_RESULT_COLUMNS)},
    code_version TEXT NOT NULL,
    PRIMARY KEY (run_id, metric)
);
CREATE TABLE null_summaries (
    run_id TEXT NOT NULL REFERENCES runs (run_id), metric TEXT NOT NULL,
    n INTEGER, q REAL, mean REAL, median REAL, neg_pos_ratio REAL, p2_slope REAL, p2_se REAL,
    tail BLOB, tail_min REAL, code_version TEXT NOT NULL,
    PRIMARY KEY (run_id, metric)
);
CREATE TABLE studies (
    study_id TEXT PRIMARY KEY, target_dataset TEXT, processing_id TEXT, processing_hash TEXT,
    template_generation TEXT, space_json TEXT, objective_json TEXT, seed INTEGER,
    created_at TEXT NOT NULL, code_version TEXT NOT NULL
);
CREATE TABLE trials (
    study_id TEXT NOT NULL REFERENCES studies (study_id), trial_index INTEGER NOT NULL,
    mode TEXT, params_json TEXT, generation_json TEXT, objective REAL, components_json TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')), run_id TEXT,
    started_at TEXT, finished_at TEXT, code_version TEXT NOT NULL,
    PRIMARY KEY (study_id, trial_index)
);
"""

MIGRATIONS: tuple[str, ...] = (_MIGRATION_1,)
SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> str:
    """ISO-8601 UTC timestamp with seconds."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Catalog:
    """A connection to ``lightlane.sqlite`` with migrations applied."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Catalog:
        path = Path(path)
        connection = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        catalog = cls(connection, path)
        catalog._migrate()
        return catalog

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def user_version(self) -> int:
        return int(self.connection.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.user_version
        if version > SCHEMA_VERSION:
            raise MetadataError(
                f"{self.path}: catalog schema {version} is newer than this lightlane ({SCHEMA_VERSION}); upgrade lightlane"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as cursor:
                for statement in MIGRATIONS[number - 1].split(";"):
                    if statement.strip():
                        cursor.execute(statement)
                cursor.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One logical write: everything or nothing."""
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT")

    def insert(self, cursor: sqlite3.Cursor, table: str, row: Mapping[str, Any], *, replace: bool = False) -> None:
        """Insert one row; ``code_version`` is filled in."""
        values = {"code_version": CODE_VERSION, **row}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        cursor.execute(f"{verb} INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))

    def dataset_row(self, dataset_id: str) -> sqlite3.Row | None:
        return self.connection.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
