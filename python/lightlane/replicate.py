"""Making synthetic datasets in a workspace: `generate` (a pure lanesheet dataset) and
`replicate` (a mimic whose spectrum, time span and GTIs come from a real dataset),
SPEC §8 `generate`, §9 replicate.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from .datasets import read_dataset
from .ingest import EventList
from .figures import save_lanecount_plot, save_spectrum_plot, spectrum_panel
from .metadata import DatasetMeta, GenerationParameters, GenerationTime, ProcessingParameters, TaskSpec
from .plots import title_for
from .selection import select_events
from .simulate import generation_band, simulate
from .spectrum_fit import SpectrumFit, fit_spectrum
from .synthetic import write_synthetic_dataset
from .workspace import Workspace

__all__ = ["SyntheticResult", "new_seed", "generate_dataset", "replicate_dataset"]


@dataclass(frozen=True)
class SyntheticResult:
    dataset: DatasetMeta
    plots: tuple[Path, ...]
    seed: int


def new_seed() -> int:
    """A seed from OS entropy, for runs where the user gave none (it is recorded)."""
    return secrets.randbits(63)


def _dataset_fit(workspace: Workspace, dataset_id: str,
                 processing: ProcessingParameters) -> tuple[DatasetMeta, EventList, SpectrumFit]:
    meta = workspace.load(DatasetMeta, dataset_id)
    events = read_dataset(workspace, dataset_id, require_xy=processing.crop is not None or processing.mask is not None)
    selected = select_events(events.events, processing, meta.coordinates, meta.event_file)
    return meta, events, fit_spectrum(selected["wavelength_nm"].to_numpy(), processing.band, meta.time.exposure_s)


def generate_dataset(workspace: Workspace, generation_id: str, processing_id: str, seed: int | None = None,
                     *, progress: bool = False) -> SyntheticResult:
    """Generate a pure synthetic dataset from a generation as it is (its own spectrum and time)."""
    template = workspace.load(GenerationParameters, generation_id)
    processing = workspace.load(ProcessingParameters, processing_id)
    seed = new_seed() if seed is None else seed
    resolved = replace(template, band=generation_band(template, processing), seed=seed)
    photons = simulate(resolved, processing, progress=progress)
    task = TaskSpec.of("generate", generation=generation_id, spectrum_from="generation", time_from="generation")
    meta = write_synthetic_dataset(workspace, resolved, photons, processing, tasks=(task,), label=f"{generation_id} lanesheet")
    plot = save_lanecount_plot(workspace.root / "results" / "generate" / meta.id / f"lanecount_{meta.id}.png",
                               meta, workspace.load(GenerationParameters, meta.generation_id or meta.id), processing)
    return SyntheticResult(meta, (plot,), seed)


def replicate_dataset(workspace: Workspace, dataset_id: str, generation_id: str, processing_id: str,
                      seed: int | None = None, *, progress: bool = False) -> SyntheticResult:
    """A mimic of a dataset: the template's lanesheet with the dataset's fitted spectrum,
    time span and GTIs, on the processing band; plus a real-vs-mimic spectrum plot."""
    template = workspace.load(GenerationParameters, generation_id)
    processing = workspace.load(ProcessingParameters, processing_id)
    real, events, real_fit = _dataset_fit(workspace, dataset_id, processing)
    gtis = tuple((float(a), float(b)) for a, b in events.gti)
    seed = new_seed() if seed is None else seed
    resolved = replace(
        template,
        spectrum=real_fit.spectrum,
        time=GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis),
        band=generation_band(template, processing),
        seed=seed,
    )
    photons = simulate(resolved, processing, progress=progress)
    task = TaskSpec.of("generate", generation=generation_id, spectrum_from="input", time_from="input")
    mimic = write_synthetic_dataset(workspace, resolved, photons, processing, tasks=(task,), parent_id=dataset_id,
                                    mjdref=real.time.mjdref, label=f"mimic of {dataset_id}")
    _, _, mimic_fit = _dataset_fit(workspace, mimic.id, processing)
    folder = workspace.root / "results" / "replicate" / f"{dataset_id}__{mimic.id}"
    spectrum_plot = save_spectrum_plot(
        folder / "spectrum_real_vs_mimic.png",
        spectrum_panel(f"A: {dataset_id} (real)", real_fit),
        spectrum_panel(f"B: {mimic.id} (mimic)", mimic_fit),
        title="apparent spectrum · " + title_for([dataset_id, mimic.id], processing.id, None),
    )
    lanecount_plot = save_lanecount_plot(folder / f"lanecount_{mimic.id}.png", mimic,
                                         workspace.load(GenerationParameters, mimic.id), processing)
    return SyntheticResult(mimic, (spectrum_plot, lanecount_plot), seed)
