"""Imports are cheap and the public API is whole (SPEC §20: ``import lightlane`` ≤ 0.4 s, ``lightlane --help``
≤ 0.5 s).

Package ``__init__`` modules re-export lazily (:mod:`lightlane.lazy`) and heavy libraries load inside the
functions and commands that use them. These are behaviour tests (which modules a fresh process loads), not
timings: ``benches/bench.py imports`` times them.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import lightlane
from lightlane.cli import COMMANDS

#: Libraries no import of the package and no ``--help`` may load (each costs 0.1–1 s).
HEAVY = ("dask", "distributed", "optuna", "astropy", "scipy", "matplotlib", "imageio", "imageio_ffmpeg")
#: Also kept out of ``import lightlane`` and ``lightlane --help`` (every subcommand's ``--help`` may need them).
NUMERIC = ("polars", "numpy")

PACKAGES = ["lightlane"] + sorted(
    info.name for info in pkgutil.walk_packages(lightlane.__path__, "lightlane.") if info.ispkg
)


def _fresh(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a new interpreter (the installed package, not the source tree of the current directory)."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _imported(stderr: str) -> set[str]:
    """Top-level names of every module a ``-X importtime`` run imported."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "[us]" not in line:  # not the header line
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_import_lightlane_loads_no_heavy_library(tmp_path: Path) -> None:
    listed = ", ".join(repr(m) for m in HEAVY + NUMERIC)
    code = f"import lightlane, sys; print(sorted(m for m in ({listed}) if m in sys.modules))"
    result = _fresh(sys.executable, "-c", code, cwd=tmp_path)
    assert result.stdout.strip() == "[]"


def _help_commands() -> list[object]:
    commands = [pytest.param([sys.executable, "-m", "lightlane", "--help"], id="python -m lightlane --help")]
    script = Path(sys.executable).with_name("lightlane")  # this environment's console script, not another's
    if script.is_file():
        commands.append(pytest.param([str(script), "--help"], id="lightlane --help"))
    return commands


@pytest.mark.parametrize("command", _help_commands())
def test_help_loads_no_heavy_library(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = _fresh(*command, env=env, cwd=tmp_path)
    assert "quickstart" in result.stdout  # the help itself still lists the commands
    imported = _imported(result.stderr)
    assert "lightlane" in imported
    assert sorted(imported & set(HEAVY + NUMERIC)) == []


def test_every_subcommand_help_loads_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from lightlane.cli import COMMANDS, main\n"
        "codes, texts = {}, {}\n"
        "for name in COMMANDS:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        codes[name] = main([name, '--help'])\n"
        "    texts[name] = out.getvalue()\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps({'codes': codes, 'texts': texts, 'heavy': heavy}))\n"
    )
    report = json.loads(_fresh(sys.executable, "-c", code, cwd=tmp_path).stdout.strip().splitlines()[-1])
    assert report["codes"] == dict.fromkeys(COMMANDS, 0)
    assert all("usage" in text for text in report["texts"].values()), report["texts"]
    assert report["heavy"] == []


# -- the public API: every name of every package's __all__, as before the imports became lazy --------------


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_imports(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    assert len(set(module.__all__)) == len(module.__all__), f"{package}.__all__ repeats a name"
    for name in module.__all__:
        namespace: dict[str, object] = {}
        exec(f"from {package} import {name}", namespace)  # the statement users write
        value = namespace[name]
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
        assert getattr(module, name) is value
        assert name in dir(module)


def _lazy_parts(package: str) -> tuple[dict[str, str], dict[str, str]] | None:
    """(TYPE_CHECKING imports, lazy_exports mapping) of a package ``__init__``, each name → relative module."""
    path = Path(importlib.import_module(package).__file__ or "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checked: dict[str, str] = {}
    mapping: dict[str, str] | None = None
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.level >= 1, ast.unparse(item)
                for alias in item.names:
                    checked[alias.asname or alias.name] = "." * item.level + (item.module or "")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", None) == "lazy_exports":
            exports = ast.literal_eval(node.value.args[1])
            mapping = {name: relative for relative, names in exports.items() for name in names}
    return None if mapping is None else (checked, mapping)


@pytest.mark.parametrize("package", PACKAGES)
def test_lazy_exports_match_type_checking_imports_and_all(package: str) -> None:
    parts = _lazy_parts(package)
    if parts is None:
        pytest.skip(f"{package} re-exports eagerly")
    checked, mapping = parts
    assert checked == mapping, "the `if TYPE_CHECKING:` imports and the lazy_exports mapping must name the same"
    module = importlib.import_module(package)
    assert set(mapping) <= set(module.__all__)
    for name in mapping:  # each lazy name is the object its module defines, not one of the same name elsewhere
        assert getattr(module, name) is getattr(importlib.import_module(mapping[name], package), name)


def test_public_names_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """Submodules named like a public name of their package imported first (``datasets.download`` defines
    ``download``, ``stats.p2`` defines ``p2``, ``cli.run`` is the command beside ``cli.run()``), then every
    ``__all__`` from the top layer down: each name is still the public object, never the submodule."""
    code = (
        "import importlib, sys, types\n"
        "import lightlane.cli.run, lightlane.datasets.download, lightlane.stats.p2\n"
        "from lightlane.datasets import download\n"
        "from lightlane.stats import p2\n"
        "for public in (download, p2, lightlane.cli.run):\n"
        "    assert callable(public) and not isinstance(public, types.ModuleType), public\n"
        "assert lightlane.datasets.download is download and lightlane.stats.p2 is p2\n"
        "assert sys.modules['lightlane.cli.run'].main is not None  # the command module itself is intact\n"
        f"for package in {sorted(PACKAGES, reverse=True)!r}:\n"
        "    namespace = {}\n"
        "    exec(f'from {package} import *', namespace)\n"
        "    modules = [n for n, v in namespace.items() if isinstance(v, types.ModuleType)]\n"
        "    assert not modules, (package, modules)\n"
        "    assert set(namespace) - {'__builtins__'} == set(importlib.import_module(package).__all__), package\n"
        "print('ok')\n"
    )
    assert _fresh(sys.executable, "-c", code, cwd=tmp_path).stdout.strip() == "ok"


def test_submodules_are_attributes(tmp_path: Path) -> None:
    """Eager ``__init__`` imports used to leave subpackages bound (``import lightlane`` then
    ``lightlane.metadata.Band``); now any submodule is imported on its first use as an attribute."""
    code = (
        "import lightlane\n"
        "assert lightlane.metadata.Band.__module__ == 'lightlane.metadata.values'\n"
        "assert lightlane.store.catalog.Catalog.__name__ == 'Catalog'\n"
        "assert lightlane.pipelines.tasks.seeds.task_seed is lightlane.pipelines.tasks.task_seed\n"
        "assert not hasattr(lightlane, 'no_such_module') and not hasattr(lightlane.store, 'no_such_module')\n"
        "print('ok')\n"
    )
    assert _fresh(sys.executable, "-c", code, cwd=tmp_path).stdout.strip() == "ok"


def test_unknown_names_still_raise_attribute_error() -> None:
    import lightlane.metadata

    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        lightlane.metadata.NoSuchName  # noqa: B018
    with pytest.raises(ImportError):
        exec("from lightlane import NoSuchName", {})
