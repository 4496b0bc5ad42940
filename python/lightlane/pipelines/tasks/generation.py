"""The ``generate`` task: replace the events by lanesheet photons of a resolved generation."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import polars as pl

from ...events.calibrations import get_calibration
from ...events.event_list import EventList
from ...events.selection import fit_selected_spectrum
from ...exceptions import DataError, MetadataError
from ...lanesheet.simulation import generation_band, simulate
from ...metadata import GenerationParameters, GenerationTime
from ...metadata.values import MAX_SEED
from .context import TaskContext

from .seeds import OP_GENERATE_DITHER, sub_seed

__all__ = ["generate"]


def generate(
    events: EventList,
    context: TaskContext,
    generation: str | None = None,
    spectrum_from: Literal["input", "generation"] | None = None,
    time_from: Literal["input", "generation"] | None = None,
) -> EventList:
    """Replace the events by lanesheet photons (SPEC §7) of a resolved generation.

    The resolved generation is the named one with: spectrum = the apparent-spectrum fit
    (§12) of the input's selected events on the processing band if ``spectrum_from`` is
    "input"; tstart/tstop/GTIs = the input's if ``time_from`` is "input"; band = the
    generation band or else the processing band; seed = the task seed (its low 63 bits,
    the seed range of SPEC §1). Both choices default to "input" when the input has
    events, else "generation". With smearing, the photons' channels are dithered into
    ``wavelength_nm``/``energy_kev`` (stream (key(seed, TASK, 7), DITHER, 0, block)), so
    later tasks and the analysis see the instrument's wavelengths; ``bin`` and
    ``lanecount`` keep the generation's truth.

    Parameters
    ----------
    events
        The input (its events are ignored except for the "input" choices); never modified.
    context
        Supplies the processing, the task seed, the workspace and the default generation.
    generation
        Generation id; defaults to ``context.source_generation``.
    spectrum_from, time_from
        "input" or "generation"; see above.

    Returns
    -------
    EventList
        Synthetic events (coordinates "synthetic"), with the resolved generation in
        ``generation``.

    Raises
    ------
    MetadataError
        No generation id, no workspace, an unknown generation or an incompatible band.
    DataError
        An "input" choice with an input that has no events (spectrum) or no GTIs (time),
        or an input spectrum that cannot be fitted.

    Examples
    --------
    >>> mimic = generate(event_set, context, generation="sparse")  # doctest: +SKIP
    """
    where = f"{context.where}: generate"
    generation_id = generation or context.source_generation
    if generation_id is None:
        raise MetadataError(f"{where}: argument 'generation' is required unless the source is a generation")
    if context.workspace is None:
        raise MetadataError(f"{where}: a workspace is needed to load generation {generation_id!r}")
    has_events = events.count > 0
    spectrum_from = spectrum_from or ("input" if has_events else "generation")
    time_from = time_from or ("input" if has_events else "generation")
    processing = context.processing
    template = context.workspace.load(GenerationParameters, generation_id)
    changes: dict[str, Any] = {"band": generation_band(template, processing), "seed": context.seed & MAX_SEED}
    if spectrum_from == "input":
        if not has_events:
            raise DataError(f"{where}: spectrum_from 'input' but the input has no events")
        changes["spectrum"] = fit_selected_spectrum(events, processing).spectrum
    if time_from == "input":
        if len(events.gti) == 0:
            raise DataError(f"{where}: time_from 'input' but the input has no good time intervals")
        gtis = tuple((float(a), float(b)) for a, b in events.gti)
        changes["time"] = GenerationTime(tstart_s=events.tstart_s, tstop_s=events.tstop_s, gtis=gtis)
    resolved = dataclasses.replace(template, **changes)
    photons = simulate(resolved, processing)
    if "pi" in photons.columns:
        calibration = get_calibration(resolved.instrument.calibration)
        energy, wavelength = calibration.dither(photons["pi"].to_numpy(), sub_seed(context.seed, OP_GENERATE_DITHER), 0)
        photons = photons.with_columns(pl.Series("wavelength_nm", wavelength), pl.Series("energy_kev", energy))
        photons = photons.filter(pl.Series(np.isfinite(wavelength)))
    gti = np.asarray(resolved.time.intervals(), dtype=np.float64).reshape(-1, 2)
    return EventList(
        events=photons, gti=gti, mission="LIGHTLANE", instrument="LANESHEET", coordinates="synthetic",
        header={"TELESCOP": "LIGHTLANE", "INSTRUME": "LANESHEET"},
        mjdref=events.mjdref if time_from == "input" else None, source_id=events.source_id,
        generation=resolved, tasks=events.tasks,
    )
