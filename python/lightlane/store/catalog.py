"""The SQLite catalog (SPEC §4.4): datasets, runs, test results, studies.

Schema changes are numbered migrations applied in order inside one
transaction each; ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..exceptions import MetadataError
from ..version import CODE_VERSION

__all__ = ["Catalog", "utc_now", "storage_error", "SCHEMA_VERSION", "TEST_RESULT_COLUMNS"]

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


#: SQLite primary result codes that mean "the file cannot be used", with the errno they amount to.
_STORAGE_CODES = {3: errno.EACCES, 5: errno.EBUSY, 6: errno.EBUSY, 8: errno.EROFS, 10: errno.EIO, 11: errno.EIO,
                  13: errno.ENOSPC, 14: errno.EACCES, 26: errno.EIO}
#: The same, recognised by message (errors raised without a result code).
_STORAGE_MESSAGES = {"disk is full": errno.ENOSPC, "readonly database": errno.EROFS, "disk i/o error": errno.EIO,
                     "unable to open database": errno.EACCES, "database is locked": errno.EBUSY,
                     "not a database": errno.EIO, "malformed": errno.EIO}


def storage_error(error: BaseException, path: str | os.PathLike[str] | None) -> OSError | None:
    """The environment failure behind an SQLite error, as an ``OSError`` naming the catalog; else None.

    A catalog that is full, read-only, locked, unreadable or damaged is an environment
    failure (the CLI's exit 4), not a bug; SQL mistakes (``no such table`` ...) are bugs.

    Parameters
    ----------
    error
        Any exception; only :class:`sqlite3.OperationalError` and :class:`sqlite3.DatabaseError`
        themselves are considered (an ``IntegrityError`` is a bug).
    path
        The catalog file, or None when unknown.

    Returns
    -------
    OSError or None

    Examples
    --------
    >>> storage_error(sqlite3.OperationalError("database or disk is full"), "ws/lightlane.sqlite").filename
    'ws/lightlane.sqlite'
    """
    if type(error) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error)
    if isinstance(code, int):
        number = _STORAGE_CODES.get(code & 0xFF)
    else:
        number = next((n for words, n in _STORAGE_MESSAGES.items() if words in text.lower()), None)
    if number is None:
        return None
    return OSError(number, f"catalog: {text}", str(path) if path is not None else "lightlane.sqlite")


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
        """Connect and apply pending migrations; a file SQLite cannot use raises an ``OSError`` naming it."""
        path = Path(path)
        connection = None
        try:
            connection = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA foreign_keys = ON")
            catalog = cls(connection, path)
            catalog._migrate()
        except sqlite3.Error as error:
            if connection is not None:
                connection.close()
            converted = storage_error(error, path)
            if converted is None:
                raise
            raise converted from error
        return catalog

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        """Close; an SQLite storage failure inside the block becomes an ``OSError`` naming this file."""
        self.close()
        converted = storage_error(error, self.path) if error is not None else None
        if converted is not None:
            raise converted from error

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
            cursor.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (disk full): never hide the first error behind a second
            if self.connection.in_transaction:
                with suppress(sqlite3.Error):
                    cursor.execute("ROLLBACK")
            raise

    def insert(self, cursor: sqlite3.Cursor, table: str, row: Mapping[str, Any], *, replace: bool = False) -> None:
        """Insert one row; ``code_version`` is filled in."""
        values = {"code_version": CODE_VERSION, **row}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        cursor.execute(f"{verb} INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))

    def dataset_row(self, dataset_id: str) -> sqlite3.Row | None:
        return self.connection.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()

    def forget_raw_dataset(self, cursor: sqlite3.Cursor, dataset_id: str) -> None:
        """Undo the row of an onboard that did not complete (raw rows only)."""
        cursor.execute("DELETE FROM datasets WHERE id = ? AND kind = 'raw'", (dataset_id,))
