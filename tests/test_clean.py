"""``clean`` never removes raw data or files referenced by raw datasets (SPEC §21 property 23)."""

from __future__ import annotations

import hashlib
import re

from lightlane.cli import main
from lightlane.datasets.onboard import onboard_file
from lightlane.metadata import DatasetMeta, GenerationParameters

from .helpers import catalog_rows


def digests(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_clean_all_spares_raw_data_and_linked_files(workspace, make_events, tmp_path, capsys) -> None:
    copied = onboard_file(workspace, make_events(name="copied.fits"), "copied")
    linked_source = make_events(name="linked.fits")
    onboard_file(workspace, linked_source, "linked", link=True)
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "generate", "sparse", "--seed", "1"]) == 0
    (synthetic,) = [i for i in workspace.ids(DatasetMeta) if re.fullmatch(r"[0-9a-f]{8}", i)]
    cache_file = workspace.root / "cache" / "chunks" / "ab" / "x.parquet"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"cached")
    raw_files = [workspace.path(copied.event_file), linked_source]
    before = digests(raw_files)

    assert main(["--workspace", root, "clean", "--all", "--dry-run"]) == 0
    listing = capsys.readouterr().out
    assert f"data/synthetic/{synthetic}.fits" in listing and "data/raw" not in listing
    assert (workspace.root / "data" / "synthetic" / f"{synthetic}.fits").exists()  # dry run removed nothing

    assert main(["--workspace", root, "--quiet", "clean", "--all"]) == 0
    assert digests(raw_files) == before
    assert workspace.path(copied.event_file).is_file() and workspace.raw_dir("linked").joinpath("linked.fits").is_symlink()
    assert not (workspace.root / "data" / "synthetic" / f"{synthetic}.fits").exists()
    assert not workspace.exists(DatasetMeta, synthetic) and not workspace.exists(GenerationParameters, synthetic)
    assert workspace.exists(GenerationParameters, "sparse") and workspace.exists(DatasetMeta, "copied")
    assert not cache_file.exists() and not any((workspace.root / "results").rglob("*.png"))
    rows = {row[0]: row[10] for row in catalog_rows(workspace, "datasets")}
    assert rows[synthetic] is not None and rows["copied"] is None and rows["linked"] is None

    # what was removed can be made again, with the same id
    assert main(["--workspace", root, "--quiet", "generate", "sparse", "--seed", "1"]) == 0
    assert workspace.exists(DatasetMeta, synthetic)


def test_default_clean_is_the_cache_only(workspace, capsys) -> None:
    root = str(workspace.root)
    assert main(["--workspace", root, "--quiet", "generate", "sparse", "--seed", "2"]) == 0
    cache_file = workspace.root / "cache" / "spectra" / "cd" / "y.parquet"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"cached")
    assert main(["--workspace", root, "clean"]) == 0
    assert not cache_file.exists()
    assert len([i for i in workspace.ids(DatasetMeta)]) == 1
    assert main(["--workspace", root, "clean"]) == 0
    assert "nothing to clean" in capsys.readouterr().out
