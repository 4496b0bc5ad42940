"""The SQLite catalog (SPEC §4.4): datasets, runs, test results, studies.

Schema changes are numbered migrations applied in order inside one
transaction each; ``PRAGMA user_version`` records the last one applied.
Migrations only add: an older workspace opens, is migrated, and keeps every
row and value it had.

Migration 2 adds ``run_commands (run_id PK, command_line)``: the command line
that computed a run (SPEC §14.1 provenance), recorded in the run's recording
transaction. A separate table rather than a ``runs`` column, so no existing
row changes; runs recorded before it (or outside the CLI) simply have no row.

Migration 3 adds P3 (SPEC §11.9): the ``p3_*`` columns of ``test_results`` (filled in a run's
row with metric ``p3``) and ``null_summaries.p3``, a baseline run's S_r, stored in every
metric row of the run. Rows recorded before it read NULL there.

Migration 4 adds the sensitivity studies (SPEC §23): ``sensitivity_studies`` (the definition a
resumed study must repeat), ``sensitivity_units`` (one row per baseline or replicate unit, its
status and, once done, its calibrated verdicts), ``sensitivity_nulls`` (a baseline unit's null
summaries, the columns of ``null_summaries``) and ``sensitivity`` (power per value and test).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import errno
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..exceptions import MetadataError
from ..version import CODE_VERSION

__all__ = ["Catalog", "utc_now", "storage_error", "SCHEMA_VERSION", "TEST_RESULT_COLUMNS", "P3_RESULT_COLUMNS",
           "command_line", "recording_command"]

def _columns(*groups: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, kind) for group in groups for name, kind in (item.split(":") for item in group.split()))


#: The §11.7 columns, as migration 1 created them.
_TEST_RESULT_COLUMNS_1: tuple[tuple[str, str], ...] = _columns(
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
#: P3's columns (SPEC §11.9), filled in the run's one row with metric ``p3``; added by migration 3.
P3_RESULT_COLUMNS: tuple[tuple[str, str], ...] = _columns(
    "p3_stat:REAL p3_slope:REAL p3_intercept:REAL p3_p_calibrated:REAL p3_verdict_calibrated:TEXT")
TEST_RESULT_COLUMNS: tuple[tuple[str, str], ...] = _TEST_RESULT_COLUMNS_1 + P3_RESULT_COLUMNS

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
    {", ".join(f"{name} {kind}" for name, kind in _TEST_RESULT_COLUMNS_1)},
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

_MIGRATION_2 = """
CREATE TABLE run_commands (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id), command_line TEXT NOT NULL, code_version TEXT NOT NULL
)
"""

_MIGRATION_3 = ";".join(
    [f"ALTER TABLE test_results ADD COLUMN {name} {kind}" for name, kind in P3_RESULT_COLUMNS]
    + ["ALTER TABLE null_summaries ADD COLUMN p3 REAL"]
)

_MIGRATION_4 = """
CREATE TABLE sensitivity_studies (
    study_id TEXT PRIMARY KEY, target_dataset TEXT NOT NULL, processing_id TEXT NOT NULL,
    processing_hash TEXT NOT NULL, generation TEXT NOT NULL, parameter TEXT NOT NULL, values_json TEXT NOT NULL,
    replicates INTEGER NOT NULL, baseline_runs INTEGER NOT NULL, seed INTEGER NOT NULL,
    definition_json TEXT NOT NULL, created_at TEXT NOT NULL, code_version TEXT NOT NULL
);
CREATE TABLE sensitivity_units (
    study_id TEXT NOT NULL REFERENCES sensitivity_studies (study_id),
    kind TEXT NOT NULL CHECK (kind IN ('baseline', 'replicate')), value_index INTEGER NOT NULL,
    replicate INTEGER NOT NULL, seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    n_a INTEGER, n_b INTEGER, tests_json TEXT, error TEXT, started_at TEXT NOT NULL, finished_at TEXT,
    code_version TEXT NOT NULL,
    PRIMARY KEY (study_id, kind, value_index, replicate)
);
CREATE TABLE sensitivity_nulls (
    study_id TEXT NOT NULL REFERENCES sensitivity_studies (study_id), baseline_index INTEGER NOT NULL,
    metric TEXT NOT NULL, n INTEGER, q REAL, mean REAL, median REAL, neg_pos_ratio REAL, p2_slope REAL,
    p2_se REAL, tail BLOB, tail_min REAL, p3 REAL, code_version TEXT NOT NULL,
    PRIMARY KEY (study_id, baseline_index, metric)
);
CREATE TABLE sensitivity (
    study_id TEXT NOT NULL REFERENCES sensitivity_studies (study_id), value_index INTEGER NOT NULL,
    test TEXT NOT NULL, value REAL NOT NULL, mean_lanecount REAL, detections INTEGER NOT NULL,
    replicates INTEGER NOT NULL, power REAL NOT NULL, ci_low REAL NOT NULL, ci_high REAL NOT NULL,
    code_version TEXT NOT NULL,
    PRIMARY KEY (study_id, value_index, test)
)
"""

MIGRATIONS: tuple[str, ...] = (_MIGRATION_1, _MIGRATION_2, _MIGRATION_3, _MIGRATION_4)
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


_COMMAND_LINE: contextvars.ContextVar[str | None] = contextvars.ContextVar("lightlane_command_line", default=None)


def command_line() -> str | None:
    """The command line being run (set by the CLI with :func:`recording_command`), or None.

    Examples
    --------
    >>> command_line() is None
    True
    >>> with recording_command("lightlane run m82_vs_poisson"):
    ...     command_line()
    'lightlane run m82_vs_poisson'
    """
    return _COMMAND_LINE.get()


@contextmanager
def recording_command(line: str | None) -> Iterator[None]:
    """Within the block, runs are recorded with ``line`` as their command line (``run_commands``)."""
    token = _COMMAND_LINE.set(line)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


class Catalog:
    """A connection to ``lightlane.sqlite`` with migrations applied, and the repository of its tables.

    This is the only place that holds SQL (SPEC §3): every read and write of the catalog
    is a named method below, grouped by table. Methods that write take the cursor of the
    caller's :meth:`transaction`, so a logical write stays one transaction.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
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
            # WAL with NORMAL: a commit is atomic and the file never corrupts; only a power cut may roll the
            # last commits back (every command is retryable), and a commit costs no fsync (SPEC §20).
            connection.execute("PRAGMA synchronous = NORMAL")
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
        """Insert one row; ``code_version`` is filled in.

        The one generic writer, behind the named ones below (and used by tests to seed
        rows); code outside :mod:`lightlane.store` calls the named methods instead.
        """
        values = {"code_version": CODE_VERSION, **row}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        cursor.execute(f"{verb} INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))

    @classmethod
    def wrap(cls, source: Catalog | sqlite3.Connection) -> Catalog:
        """``source`` itself, or a Catalog around an open connection (callers that still pass
        ``Catalog.connection``); no migration is run."""
        return source if isinstance(source, Catalog) else cls(source, None)

    # ------------------------------------------------------------------------------- datasets

    def dataset_row(self, dataset_id: str) -> sqlite3.Row | None:
        """The dataset's row (deleted ones included), or None."""
        return self.connection.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()

    def insert_dataset(self, cursor: sqlite3.Cursor, row: Mapping[str, Any], *, replace: bool = False) -> None:
        """Register a dataset; ``replace`` for re-runs and datasets brought back after ``clean``."""
        self.insert(cursor, "datasets", row, replace=replace)

    def forget_raw_dataset(self, cursor: sqlite3.Cursor, dataset_id: str) -> None:
        """Undo the row of an onboard that did not complete (raw rows only)."""
        cursor.execute("DELETE FROM datasets WHERE id = ? AND kind = 'raw'", (dataset_id,))

    def mark_datasets_deleted(self, cursor: sqlite3.Cursor, dataset_ids: Iterable[str], now: str) -> None:
        """``clean``: the rows stay (ids are never reused for other data), stamped ``deleted_at``
        unless they already were."""
        for dataset_id in dataset_ids:
            cursor.execute("UPDATE datasets SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (now, dataset_id))

    def live_dataset_rows(self) -> list[sqlite3.Row]:
        """Every dataset not removed by ``clean`` (no ``deleted_at``), by id (the workspace report)."""
        return self.connection.execute("SELECT * FROM datasets WHERE deleted_at IS NULL ORDER BY id").fetchall()

    # ------------------------------------------------------------------------------- runs

    def run_row(self, run_id: str) -> sqlite3.Row | None:
        """The run's row whatever its status, or None."""
        return self.connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def done_run_row(self, run_id: str) -> sqlite3.Row | None:
        """The run's row when it finished (``status = 'done'``), else None."""
        return self.connection.execute("SELECT * FROM runs WHERE run_id = ? AND status = 'done'",
                                       (run_id,)).fetchone()

    def run_status(self, cursor: sqlite3.Cursor, run_id: str) -> str | None:
        """The run's status read inside the caller's transaction (decides whether a repeat may
        overwrite it), or None when there is no row."""
        row = cursor.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row[0])

    def replace_run(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Write the run's row, replacing an earlier one with the same id (starts, repeats, trials)."""
        self.insert(cursor, "runs", row, replace=True)

    def mark_run_failed(self, cursor: sqlite3.Cursor, run_id: str, error: str, finished_at: str) -> None:
        """Record a failure; a done row stays (a repeated run's results are still the valid ones)."""
        cursor.execute("UPDATE runs SET status = 'failed', error = ?, finished_at = ? "
                       "WHERE run_id = ? AND status != 'done'", (error, finished_at, run_id))

    def latest_main_runs(self) -> list[sqlite3.Row]:
        """Each pipeline's most recently finished done main run (kind ``pipeline``), by pipeline id.

        Ties of ``finished_at`` (stamped to the second) go to the larger ``run_id``.
        """
        return self.connection.execute(
            "SELECT * FROM runs AS r WHERE r.kind = 'pipeline' AND r.status = 'done' AND NOT EXISTS ("
            "SELECT 1 FROM runs AS o WHERE o.kind = 'pipeline' AND o.status = 'done' "
            "AND o.pipeline_id = r.pipeline_id AND (o.finished_at > r.finished_at "
            "OR (o.finished_at = r.finished_at AND o.run_id > r.run_id))) ORDER BY r.pipeline_id").fetchall()

    def done_pipeline_runs(self) -> list[sqlite3.Row]:
        """``(run_id, pipeline_id, kind)`` of every done main and baseline run, by pipeline, index and id."""
        return self.connection.execute(
            "SELECT run_id, pipeline_id, kind FROM runs WHERE status = 'done' AND kind IN ('pipeline', 'baseline') "
            "ORDER BY pipeline_id, run_index, run_id").fetchall()

    def baseline_runs(self, pipeline_id: str, processing_hash: str,
                      code_version: str = CODE_VERSION) -> list[sqlite3.Row]:
        """The baseline set (SPEC §11.1): done baseline runs of this pipeline, processing hash and
        package version, by ``run_index`` then ``run_id``."""
        cursor = self.connection.execute(
            "SELECT * FROM runs WHERE kind = 'baseline' AND status = 'done' AND pipeline_id = ? "
            "AND processing_hash = ? AND code_version = ? ORDER BY run_index, run_id",
            (pipeline_id, processing_hash, code_version))
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    def baseline_elsewhere(self, pipeline_id: str, processing_hash: str) -> sqlite3.Row | None:
        """``(processing_hash, count)`` of the other processing hash with the most done baseline runs
        of the pipeline, or None: says why a baseline is missing after its processing changed."""
        return self.connection.execute(
            "SELECT processing_hash, COUNT(*) FROM runs WHERE kind = 'baseline' AND status = 'done' "
            "AND pipeline_id = ? AND processing_hash != ? GROUP BY processing_hash ORDER BY 2 DESC",
            (pipeline_id, processing_hash)).fetchone()

    # ------------------------------------------------------------------------------- run_commands

    def record_run_command(self, cursor: sqlite3.Cursor, run_id: str, line: str) -> None:
        """Store the command line that computed the run (inside its recording transaction),
        replacing the one of an earlier attempt."""
        self.insert(cursor, "run_commands", {"run_id": run_id, "command_line": line}, replace=True)

    def run_command_line(self, run_id: str) -> str | None:
        """The recorded command line of the run, or None (recorded before migration 2, or not by the CLI)."""
        row = self.connection.execute("SELECT command_line FROM run_commands WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------------------- test_results

    def test_result_rows(self, run_id: str) -> list[sqlite3.Row]:
        """The run's stored test results, one per metric, by metric."""
        return self.connection.execute("SELECT * FROM test_results WHERE run_id = ? ORDER BY metric",
                                       (run_id,)).fetchall()

    def runs_with_result(self, run_ids: Sequence[str], metric: str) -> set[str]:
        """Those of ``run_ids`` that have a ``test_results`` row for ``metric``."""
        found: set[str] = set()
        for start in range(0, len(run_ids), 500):  # SQLite limits the number of parameters
            part = list(run_ids[start:start + 500])
            marks = ", ".join("?" * len(part))
            found.update(r[0] for r in self.connection.execute(
                f"SELECT run_id FROM test_results WHERE metric = ? AND run_id IN ({marks})", [metric, *part]))
        return found

    def max_baseline_runs(self, run_id: str) -> int | None:
        """The largest baseline set size the run's tests were made against; None without results."""
        used = self.connection.execute("SELECT MAX(baseline_runs) FROM test_results WHERE run_id = ?",
                                       (run_id,)).fetchone()[0]
        return None if used is None else int(used)

    def count_stale_results(self, run_ids: Sequence[str], baseline_runs: int) -> int:
        """How many results of these runs were not made against ``baseline_runs`` baseline runs
        (leave-one-out results that a grown or interrupted baseline left behind)."""
        marks = ", ".join("?" for _ in run_ids)
        return int(self.connection.execute(
            f"SELECT COUNT(*) FROM test_results WHERE run_id IN ({marks}) "
            f"AND (baseline_runs IS NULL OR baseline_runs != ?)", (*run_ids, baseline_runs)).fetchone()[0])

    def results_with_runs(self, code_version: str, kinds: Sequence[str], pipeline_ids: Sequence[str],
                          metrics: Sequence[str] | None = None) -> list[sqlite3.Row]:
        """Results of done runs joined with their runs, for the tables (SPEC §15).

        Columns: ``run_id``, the run kind (``pipeline`` shown as ``main``), ``pipeline_id``,
        ``processing_hash``, ``run_index``, ``metric``, every §11.7 column, ``code_version``;
        ``metrics`` None keeps every metric. Unordered: the caller sorts.
        """
        result_columns = ", ".join(f"t.{name}" for name, _ in TEST_RESULT_COLUMNS)
        where = [
            "t.code_version = ?",
            "r.status = 'done'",
            f"r.kind IN ({', '.join('?' for _ in kinds)})",
            f"r.pipeline_id IN ({', '.join('?' for _ in pipeline_ids)})",
        ]
        params: list[Any] = [code_version, *kinds, *pipeline_ids]
        if metrics is not None:
            where.append(f"t.metric IN ({', '.join('?' for _ in metrics)})")
            params.extend(metrics)
        sql = (
            "SELECT t.run_id, CASE r.kind WHEN 'pipeline' THEN 'main' ELSE r.kind END, r.pipeline_id, "
            f"r.processing_hash, r.run_index, t.metric, {result_columns}, t.code_version "
            "FROM test_results AS t JOIN runs AS r ON r.run_id = t.run_id "
            f"WHERE {' AND '.join(where)}"
        )
        return self.connection.execute(sql, params).fetchall()

    def insert_test_result(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Store one (run, metric) result; the run's old rows were cleared first in the same transaction."""
        self.insert(cursor, "test_results", row)

    def delete_test_results(self, cursor: sqlite3.Cursor, run_id: str) -> None:
        """Drop the run's results before they are replaced (retest)."""
        cursor.execute("DELETE FROM test_results WHERE run_id = ?", (run_id,))

    def clear_results(self, cursor: sqlite3.Cursor, run_id: str) -> None:
        """Drop the run's results and null summaries: a (re)started run keeps none of an old attempt's."""
        self.delete_test_results(cursor, run_id)
        cursor.execute("DELETE FROM null_summaries WHERE run_id = ?", (run_id,))

    # ------------------------------------------------------------------------------- null_summaries

    def replace_null_summary(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Store one (run, metric) null summary of a baseline run, replacing an earlier one."""
        self.insert(cursor, "null_summaries", row, replace=True)

    def baseline_null_summaries(self, pipeline_id: str, processing_hash: str, code_version: str) -> list[sqlite3.Row]:
        """The null summaries of the baseline runs (see :meth:`baseline_runs`), by ``run_index``,
        ``run_id`` then metric."""
        cursor = self.connection.execute(
            "SELECT s.* FROM runs AS r JOIN null_summaries AS s ON s.run_id = r.run_id "
            "WHERE r.kind = 'baseline' AND r.status = 'done' AND r.pipeline_id = ? "
            "AND r.processing_hash = ? AND r.code_version = ? "
            "ORDER BY r.run_index, r.run_id, s.metric",
            (pipeline_id, processing_hash, code_version))
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    # ------------------------------------------------------------------------------- studies

    def study_exists(self, study_id: str) -> bool:
        """Whether the study has a row (a new study needs its target, processing and template)."""
        return self.connection.execute("SELECT 1 FROM studies WHERE study_id = ?", (study_id,)).fetchone() is not None

    def study_row(self, study_id: str) -> sqlite3.Row | None:
        """The study's row (what a reopened study must match), or None."""
        return self.connection.execute("SELECT * FROM studies WHERE study_id = ?", (study_id,)).fetchone()

    def insert_study(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Create the study's row (once: it fixes target, space and seed for every resume)."""
        self.insert(cursor, "studies", row)

    def study_summaries(self) -> list[sqlite3.Row]:
        """Every study with ``done_trials`` (count) and ``best_objective`` (lowest J of its done
        trials, or NULL), by study id."""
        return self.connection.execute(
            "SELECT s.*, COUNT(t.trial_index) AS done_trials, MIN(t.objective) AS best_objective "
            "FROM studies AS s LEFT JOIN trials AS t ON t.study_id = s.study_id AND t.status = 'done' "
            "GROUP BY s.study_id ORDER BY s.study_id").fetchall()

    # ------------------------------------------------------------------------------- trials

    def replace_trial(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Write the trial's row, replacing the previous state of the same index."""
        self.insert(cursor, "trials", row, replace=True)

    def trials_of(self, study_id: str) -> list[sqlite3.Row]:
        """Every trial row of the study (any status)."""
        return self.connection.execute("SELECT * FROM trials WHERE study_id = ?", (study_id,)).fetchall()

    def trials_in_order(self, study_id: str) -> list[sqlite3.Row]:
        """Every trial row of the study (any status), by trial index."""
        return self.connection.execute("SELECT * FROM trials WHERE study_id = ? ORDER BY trial_index",
                                       (study_id,)).fetchall()

    def done_trials(self, study_id: str) -> list[sqlite3.Row]:
        """``(trial_index, params_json, objective)`` of the study's done trials by index (refine's history)."""
        return self.connection.execute(
            "SELECT trial_index, params_json, objective FROM trials WHERE study_id = ? AND status = 'done' "
            "ORDER BY trial_index", (study_id,)).fetchall()

    # ------------------------------------------------------------------------------- sensitivity (migration 4)

    def sensitivity_study_row(self, study_id: str) -> sqlite3.Row | None:
        """The sensitivity study's definition row (what a resumed study must repeat), or None."""
        return self.connection.execute("SELECT * FROM sensitivity_studies WHERE study_id = ?",
                                       (study_id,)).fetchone()

    def insert_sensitivity_study(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Create the study's row (once: it fixes the definition of every resume)."""
        self.insert(cursor, "sensitivity_studies", row)

    def replace_sensitivity_unit(self, cursor: sqlite3.Cursor, row: Mapping[str, Any]) -> None:
        """Write a unit's row (running, then done/failed), replacing the previous state of the same unit."""
        self.insert(cursor, "sensitivity_units", row, replace=True)

    def sensitivity_units(self, study_id: str) -> list[sqlite3.Row]:
        """Every unit row of the study (any status), by kind, value index and replicate."""
        return self.connection.execute(
            "SELECT * FROM sensitivity_units WHERE study_id = ? ORDER BY kind, value_index, replicate",
            (study_id,)).fetchall()

    def replace_sensitivity_nulls(self, cursor: sqlite3.Cursor, study_id: str, baseline_index: int,
                                  rows: Iterable[Mapping[str, Any]]) -> None:
        """Store a baseline unit's null summaries (``null_summaries`` rows without ``run_id``)."""
        for row in rows:
            values = {k: v for k, v in row.items() if k != "run_id"}
            self.insert(cursor, "sensitivity_nulls",
                        {"study_id": study_id, "baseline_index": int(baseline_index), **values}, replace=True)

    def sensitivity_null_rows(self, study_id: str) -> list[sqlite3.Row]:
        """The null summaries of the study's done baseline units, by baseline index then metric."""
        return self.connection.execute(
            "SELECT s.* FROM sensitivity_nulls AS s JOIN sensitivity_units AS u ON u.study_id = s.study_id "
            "AND u.kind = 'baseline' AND u.replicate = s.baseline_index AND u.status = 'done' "
            "WHERE s.study_id = ? ORDER BY s.baseline_index, s.metric", (study_id,)).fetchall()

    def replace_sensitivity(self, cursor: sqlite3.Cursor, study_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the study's power table by ``rows`` (one per value and test)."""
        cursor.execute("DELETE FROM sensitivity WHERE study_id = ?", (study_id,))
        for row in rows:
            self.insert(cursor, "sensitivity", {"study_id": study_id, **row})

    def sensitivity_summaries(self) -> list[sqlite3.Row]:
        """Every sensitivity study's definition with its done replicate and baseline units
        (``done_replicates``, ``done_baselines``), by study id."""
        return self.connection.execute(
            "SELECT s.*, "
            "(SELECT COUNT(*) FROM sensitivity_units AS u WHERE u.study_id = s.study_id AND u.status = 'done' "
            "AND u.kind = 'replicate') AS done_replicates, "
            "(SELECT COUNT(*) FROM sensitivity_units AS u WHERE u.study_id = s.study_id AND u.status = 'done' "
            "AND u.kind = 'baseline') AS done_baselines "
            "FROM sensitivity_studies AS s ORDER BY s.study_id").fetchall()

    def sensitivity_rows(self, study_id: str) -> list[sqlite3.Row]:
        """The study's power table, by value index then test."""
        return self.connection.execute("SELECT * FROM sensitivity WHERE study_id = ? ORDER BY value_index, test",
                                       (study_id,)).fetchall()
