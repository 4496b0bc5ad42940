"""The analysis of one dataset: `analyze`, the chunk-table cache (SPEC §10.7, §21 property 22)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from lightlane import DataError, MetadataError
from lightlane.analysis.dataset_analysis import analyze_dataset, analyze_events
from lightlane.cli import main
from lightlane.datasets.registered import read_dataset
from lightlane.events import fit_selected_spectrum
from lightlane.metadata import ListWidths, ProcessingParameters
from lightlane.store import cache

from ..helpers import snapshot


@pytest.fixture
def dataset(workspace, capsys) -> str:
    """A small synthetic dataset with a GTI gap, and a quick processing `q`."""
    assert main(["--workspace", str(workspace.root), "generate", "sparse", "--seed", "4"]) == 0
    dataset_id = re.search(r"generated ([0-9a-f]{8})", capsys.readouterr().out).group(1)
    quick = replace(workspace.load(ProcessingParameters, "default"), id="q", chunk_count=2000)
    workspace.save(quick)
    return dataset_id


@pytest.mark.slow
def test_analyze_writes_plots_summary_and_export(workspace, dataset, capsys) -> None:
    root = str(workspace.root)
    assert main(["--workspace", root, "analyze", dataset, "--processing", "q", "--export", "--quicklook-bin", "40"]) == 0
    out = capsys.readouterr().out
    assert "selected events" in out and "widths: 30 of 30 usable" in out and "2000 chunks" in out
    assert re.search(r"vesa\s+-?\d", out)
    folder = workspace.root / "results" / "analyze" / f"{dataset}__q"
    names = {p.name for p in folder.iterdir()}
    assert {"spectrum.png", "heatmap.png", "metric_hist.png", f"quicklook_{dataset}_w40.png",
            f"chunks_{dataset}.parquet", f"chunks_{dataset}.csv"} <= names
    exported = pl.read_parquet(folder / f"chunks_{dataset}.parquet")
    assert exported.height == 2000 and exported.columns[:4] == ["chunk", "width_index", "width_s", "wbin"]
    assert pl.read_csv(folder / f"chunks_{dataset}.csv").height == 2000
    # the second run comes from the cache and says so
    assert main(["--workspace", root, "analyze", dataset, "--processing", "q"]) == 0
    assert "(from cache)" in capsys.readouterr().out


def test_cache_hit_equals_recomputation(workspace, dataset) -> None:
    first = analyze_dataset(workspace, dataset, "q")
    assert not first.cache_hit
    second = analyze_dataset(workspace, dataset, "q")
    assert second.cache_hit and second.chunks_key == first.chunks_key
    events = read_dataset(workspace, dataset)
    fresh = analyze_events(events, first.processing, first.analysis_seed, dataset_id=dataset)
    assert second.chunks.equals(fresh.chunks) and first.chunks.equals(fresh.chunks)


def test_cache_key_changes_with_every_input(workspace, dataset, monkeypatch) -> None:
    processing = workspace.load(ProcessingParameters, "q")
    base = cache.chunk_key("a" * 64, processing, 0)
    assert cache.chunk_key("a" * 64, replace(processing, id="renamed"), 0).digest == base.digest
    changed = [
        cache.chunk_key("b" * 64, processing, 0),
        cache.chunk_key("a" * 64, processing, 1),
        cache.chunk_key("a" * 64, replace(processing, chunk_count=2001), 0),
        cache.chunk_key("a" * 64, replace(processing, min_exposure=0.98), 0),
        cache.chunk_key("a" * 64, replace(processing, seed=3), 0),
    ]
    monkeypatch.setattr(cache, "CODE_VERSION", "9.9.9")
    changed.append(cache.chunk_key("a" * 64, processing, 0))
    assert len({k.digest for k in changed} | {base.digest}) == len(changed) + 1


def test_damaged_or_foreign_cache_files_are_misses(workspace, dataset) -> None:
    first = analyze_dataset(workspace, dataset, "q")
    key = cache.chunk_key(read_dataset(workspace, dataset).events_hash(), first.processing, first.analysis_seed)
    path = key.path(workspace.root / "cache")
    assert path.is_file()
    path.write_bytes(b"not parquet")
    again = analyze_dataset(workspace, dataset, "q")
    assert not again.cache_hit and again.chunks.equals(first.chunks)
    # a file holding another key's table at this path is not a hit either
    other = cache.chunk_key("f" * 64, first.processing, 0)
    cache.store(other, first.chunks.head(5), workspace.root / "cache")
    other.path(workspace.root / "cache").replace(path)
    assert not analyze_dataset(workspace, dataset, "q").cache_hit


def test_bad_processing_is_rejected_without_writing(workspace, dataset, capsys) -> None:
    root = str(workspace.root)
    bad = workspace.meta_path(ProcessingParameters, "q")
    bad.write_text(bad.read_text().replace('"chunk_length": 12', '"chunk_length": 13'))
    before = snapshot(workspace.root)
    assert main(["--workspace", root, "analyze", dataset, "--processing", "q"]) == 3
    assert "field 'chunk_length'" in capsys.readouterr().err
    assert snapshot(workspace.root) == before


def test_widths_longer_than_the_data_and_empty_bands(workspace, dataset) -> None:
    processing = workspace.load(ProcessingParameters, "q")
    too_long = replace(processing, id="long", time_bins=ListWidths(widths_s=(5000.0,)))
    workspace.save(too_long)
    with pytest.raises(MetadataError, match="time_bins: every width × chunk_length"):
        analyze_dataset(workspace, dataset, "long")
    empty = replace(processing, id="empty", band=replace(processing.band, min_nm=20.0, max_nm=30.0))
    workspace.save(empty)
    with pytest.raises(DataError, match="no events left after selection"):
        analyze_dataset(workspace, dataset, "empty")


def test_spectrum_is_fitted_on_first_use_from_the_selected_counts(workspace, dataset) -> None:
    analysis = analyze_dataset(workspace, dataset, "q")
    assert "fit" not in analysis.__dict__  # a run without figures never pays for the fit
    events = read_dataset(workspace, dataset)
    direct = fit_selected_spectrum(events, analysis.processing)
    assert analysis.fit is not None and analysis.fit.spectrum == direct.spectrum  # same counts, same fit
    assert np.array_equal(analysis.selected_counts, direct.counts)
