"""The catalog is the repository (SPEC §3): no module outside ``lightlane.store`` holds SQL.

Every read and write of ``lightlane.sqlite`` is a named :class:`~lightlane.store.catalog.Catalog`
method; this scans the package source so a query written elsewhere fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import lightlane
from lightlane.store.catalog import Catalog

PACKAGE = Path(lightlane.__file__).resolve().parent
STORE = PACKAGE / "store"

#: An SQL statement: a keyword that starts one, then the clause word it needs.
_SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\b.*\bINTO|UPDATE\b.*\bSET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|"
    r"DROP\s+(TABLE|INDEX)|ALTER\s+TABLE|PRAGMA\s+\w+|BEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)|ROLLBACK|COMMIT)\b",
    re.DOTALL,
)
_EXECUTE = {"execute", "executemany", "executescript"}
_TABLES = {"datasets", "runs", "test_results", "null_summaries", "studies", "trials", "run_commands",
           "sensitivity_studies", "sensitivity_units", "sensitivity_nulls", "sensitivity"}


def _modules_outside_store() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STORE not in p.parents)


def _strings(node: ast.AST) -> list[str]:
    """The literal text of every string constant (f-string parts included) below ``node``."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _offences(source: str, where: str) -> list[str]:
    """Every ``.execute*`` call, generic ``insert`` naming a table, and SQL string literal
    (docstrings aside) in one module's ``source``."""
    tree = ast.parse(source, filename=where)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in _EXECUTE:
                found.append(f"{where}:{node.lineno}: .{name}(...) outside lightlane.store")
            elif name == "insert" and node.args[1:2] and isinstance(node.args[1], ast.Constant) \
                    and node.args[1].value in _TABLES:
                found.append(f"{where}:{node.lineno}: catalog.insert(..., {node.args[1].value!r}, ...): "
                             f"use the named Catalog method")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and _SQL.search(node.value)):
            found.append(f"{where}:{node.lineno}: SQL in a string literal: {node.value[:60]!r}")
    return found


def test_no_sql_outside_store() -> None:
    offences = [o for path in _modules_outside_store()
                for o in _offences(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))]
    assert not offences, "SQL belongs in lightlane.store.catalog:\n" + "\n".join(offences)


def test_the_scan_sees_sql() -> None:
    """The scan itself: each way SQL could slip in is caught; prose is not."""
    cases = {
        "execute": 'conn.execute("SELECT 1")\n',
        "fstring": 'q = f"SELECT * FROM runs WHERE run_id IN ({marks})"\n',
        "update": 'cursor.execute("UPDATE datasets SET deleted_at = ? WHERE id = ?", (now, i))\n',
        "insert": 'catalog.insert(cursor, "runs", row)\n',
        "delete": 's = "DELETE FROM trials WHERE study_id = ?"\n',
    }
    for name, source in cases.items():
        assert _offences(source, f"probe_{name}.py"), name
    prose = '"""Select the rows from the catalog; update the datasets."""\nmessage = "run failed"\nxs.insert(0, 1)\n'
    assert not _offences(prose, "probe_prose.py")


def test_every_table_has_named_methods() -> None:
    """Each table is read and written through methods named for it (grouped by table in the class)."""
    names = set(dir(Catalog))
    expected = {
        "dataset_row", "insert_dataset", "forget_raw_dataset", "mark_datasets_deleted",
        "run_row", "done_run_row", "run_status", "replace_run", "mark_run_failed", "baseline_runs",
        "baseline_elsewhere",
        "test_result_rows", "runs_with_result", "max_baseline_runs", "count_stale_results", "results_with_runs",
        "insert_test_result", "delete_test_results", "clear_results",
        "replace_null_summary", "baseline_null_summaries",
        "study_exists", "study_row", "insert_study",
        "replace_trial", "trials_of", "trials_in_order", "done_trials",
    }
    assert expected <= names, sorted(expected - names)
