"""``lightlane analyze DATASET --processing P [--quicklook-bin K] [--export]``."""

# No `from __future__ import annotations`: argparse-dataclass reads field types at runtime.

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..exceptions import MetadataError
from ..metadata import ProcessingParameters
from ..store.atomic import atomic_path
from .common import GlobalOptions, run_command, say


@dataclass(frozen=True)
class Options:
    """Analyse one dataset: selection, binning, chunk metrics, spectrum fit and plots."""

    dataset: str = field(metadata={"args": ["dataset"], "help": "dataset id"})
    processing: str = field(default="default", metadata={"help": "processing id"})
    quicklook_bin: Optional[int] = field(default=None, metadata={"help": "wavelength bin of the quicklook (default: most counts)"})
    export: bool = field(default=False, metadata={"help": "also write the chunk table as parquet and CSV"})


def _execute(options: Options, globals_: GlobalOptions) -> int:
    # Here, not at the top: the analysis and its figures load polars, astropy, scipy and matplotlib,
    # which `lightlane analyze --help` does not need (SPEC §20).
    import numpy as np

    from ..analysis.dataset_analysis import analyze_dataset
    from ..report.figures import save_analysis_plots

    workspace = globals_.ws
    workspace.require_initialised()
    bins = workspace.load(ProcessingParameters, options.processing).band.bins
    if options.quicklook_bin is not None and not 0 <= options.quicklook_bin < bins:  # before the cache is written
        raise MetadataError(f"--quicklook-bin: expected an integer in [0, {bins - 1}] (the bins of processing "
                            f"'{options.processing}'), got {options.quicklook_bin}")
    with workspace.lock():
        analysis = analyze_dataset(workspace, options.dataset, options.processing)
        folder = workspace.root / "results" / "analyze" / f"{options.dataset}__{options.processing}"
        plots = save_analysis_plots(folder, analysis, analysis.processing.test_metrics, options.quicklook_bin)
        exports = []
        if options.export:
            for suffix, write in (("parquet", analysis.chunks.write_parquet), ("csv", analysis.chunks.write_csv)):
                target = folder / f"chunks_{options.dataset}.{suffix}"
                with atomic_path(target) as tmp:
                    write(tmp)
                exports.append(target)
    say(f"{options.dataset} on processing '{options.processing}' (analysis seed {analysis.analysis_seed}): "
        f"{analysis.n_selected} selected events in {analysis.processing.band.bins} bins, exposure {analysis.exposure_s:.1f} s")
    say(f"  widths: {analysis.usable_widths} of {len(analysis.binnings)} usable "
        f"({analysis.widths_s.min():.1f}–{analysis.widths_s.max():.1f} s); "
        f"{analysis.chunks.height} chunks of {analysis.processing.chunk_length} bins"
        f"{' (from cache)' if analysis.cache_hit else ''}")
    say(f"  {'metric':<8} {'median':>10} {'q05':>10} {'q95':>10}")
    for metric in analysis.processing.test_metrics:
        values = analysis.chunks[metric].drop_nulls().to_numpy()
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95]) if values.size else (np.nan,) * 3
        say(f"  {metric:<8} {median:>10.4g} {q05:>10.4g} {q95:>10.4g}")
    for path in [*plots, *exports]:
        say(f"  wrote {path}")
    return 0


def main(argv: Sequence[str]) -> int:
    return run_command(Options, argv, _execute, prog="lightlane analyze", description=Options.__doc__ or "")
