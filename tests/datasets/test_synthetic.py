"""Synthetic datasets: generate/replicate commands, hex ids, FITS round trip (SPEC §4.2,
§6.4, §7.6, §21 properties 11 and 20)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from lightlane import LightlaneWarning, Workspace, read_events
from lightlane.cli import main
from lightlane.datasets.registered import read_dataset
from lightlane.datasets.synthetic import provenance_digest, synthetic_id
from lightlane.events.spectrum_fit import fit_spectrum
from lightlane.lanesheet.simulation import simulate
from lightlane.metadata import Band, DatasetMeta, GenerationParameters, GenerationTime, Instrument, ProcessingParameters

from ..helpers import catalog_rows, snapshot


def small_generation(workspace: Workspace, gen_id: str = "small", smear: float | None = None, **changes) -> GenerationParameters:
    base = workspace.load(GenerationParameters, "sparse")
    generation = replace(base, id=gen_id, time=GenerationTime(tstart_s=1000.0, tstop_s=4000.0,
                                                              gtis=((1000.0, 2000.0), (2500.0, 4000.0))),
                         instrument=Instrument(smear_fwhm_ev=smear, calibration="chandra-acis"), **changes)
    workspace.save(generation)
    return generation


def test_generate_round_trips_bit_exactly(workspace, capsys) -> None:
    generation = small_generation(workspace)
    assert main(["--workspace", str(workspace.root), "generate", "small", "--seed", "11"]) == 0
    out = capsys.readouterr().out
    dataset_id = re.search(r"generated ([0-9a-f]{8}):", out).group(1)
    meta = workspace.load(DatasetMeta, dataset_id)
    assert (meta.kind, meta.synthetic, meta.coordinates, meta.energy_calibration) == (
        "synthetic", True, "synthetic", "stored-wavelength")
    resolved = workspace.load(GenerationParameters, dataset_id)
    assert resolved.seed == 11 and resolved.band == workspace.load(ProcessingParameters, "default").band
    expected = simulate(generation, seed=11)
    back = read_dataset(workspace, dataset_id)
    for column in ("time", "wavelength_nm", "energy_kev", "x", "y", "bin", "lanecount"):
        got, want = back.events[column].to_numpy(), expected[column].to_numpy()
        assert got.tobytes() == want.astype(got.dtype).tobytes(), column
    assert back.gti.tolist() == [[1000.0, 2000.0], [2500.0, 4000.0]]
    assert back.header["LLDSID"] == dataset_id and back.header["LLGENID"] == dataset_id and back.header["LLSEED"] == 11
    assert back.header["LLHASH"] == back.events_hash() == catalog_rows(workspace, "datasets")[0][4]
    assert json.loads(back.header["LLTASKS"])[0]["generation"] == "small"
    assert meta.event_count == expected.height and meta.apparent_spectrum is not None
    assert (workspace.root / "results" / "generate" / dataset_id / f"lanecount_{dataset_id}.png").is_file()


def test_smeared_dataset_is_read_through_its_calibration(workspace) -> None:
    small_generation(workspace, smear=100.0)
    assert main(["--workspace", str(workspace.root), "--quiet", "generate", "small", "--seed", "3"]) == 0
    (meta_id,) = [i for i in workspace.ids(DatasetMeta)]
    meta = workspace.load(DatasetMeta, meta_id)
    assert meta.energy_calibration == "chandra-acis" and meta.channel_column == "pi"
    back = read_dataset(workspace, meta_id)
    raw = read_events(workspace.path(meta.event_file), "stored-wavelength", dataset_id=meta_id)
    assert np.array_equal(back.events["pi"].to_numpy(), raw.events["pi"].to_numpy())
    # the analysis sees dithered channel energies, the file keeps the true ones
    assert not np.array_equal(back.events["wavelength_nm"].to_numpy(), raw.events["wavelength_nm"].to_numpy())
    assert back.header["LLHASH"] == back.events_hash()


def test_hex_ids_are_deterministic_and_collisions_move_on(workspace) -> None:
    small_generation(workspace)
    args = ["--workspace", str(workspace.root), "--quiet", "generate", "small"]
    assert main([*args, "--seed", "1"]) == 0 and main([*args, "--seed", "1"]) == 0
    assert len(workspace.ids(DatasetMeta)) == 1
    assert main([*args, "--seed", "2"]) == 0
    first, second = workspace.ids(DatasetMeta)
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in (first, second))
    meta = workspace.load(DatasetMeta, first)
    digest = provenance_digest(workspace.load(GenerationParameters, first), meta.tasks)
    assert synthetic_id(workspace, digest) == (first, True)
    # another provenance whose digest starts like an existing id takes the next 8 digits
    clash = first + "f" * 56
    assert synthetic_id(workspace, clash) == ("ffffffff", False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda g: g.replace('"r_e_lu": 0.8', '"r_e_lu": -0.8'), "model.r_e_lu"),
        (lambda g: g.replace('"tstop_s": 24000.0', '"tstop_s": 0.0'), "time.tstop_s"),
        (lambda g: g.replace('"band": null', '"band": {"bins": 50, "max_nm": 1.0, "min_nm": 0.1}'), "band"),
    ],
)
def test_bad_generation_is_rejected_and_nothing_is_written(workspace, capsys, change, field) -> None:
    path = workspace.root / "meta" / "generation" / "broken.json"
    path.write_text(change((workspace.root / "meta" / "generation" / "sparse.json").read_text()).replace(
        '"id": "sparse"', '"id": "broken"'))
    before = snapshot(workspace.root)
    assert main(["--workspace", str(workspace.root), "generate", "broken", "--seed", "1"]) == 3
    assert field in capsys.readouterr().err
    assert snapshot(workspace.root) == before
    assert catalog_rows(workspace, "datasets") == []


def test_replicate_mimics_spectrum_time_and_gtis(workspace, make_events, capsys) -> None:
    from lightlane.datasets.onboard import onboard_file

    # a real-like file: ACIS channels with a peaked spectrum, two GTIs
    n = 20_000
    u = np.linspace(0, 1, n, endpoint=False)
    channels = (100 + 200 * np.abs(np.sin(997 * u)) ** 3).astype(np.int32)
    source = make_events(times=np.linspace(0.5, 999.5, n), columns={"PI": ("J", channels)},
                         gtis=[(0.0, 400.0), (450.0, 1000.0)])
    real = onboard_file(workspace, source, "real")
    assert real.apparent_spectrum is not None and real.apparent_spectrum.n_events > 0
    assert main(["--workspace", str(workspace.root), "replicate", "real", "--generation", "sparse", "--seed", "5"]) == 0
    mimic_id = re.search(r"mimic ([0-9a-f]{8}) of real", capsys.readouterr().out).group(1)
    mimic = workspace.load(DatasetMeta, mimic_id)
    resolved = workspace.load(GenerationParameters, mimic_id)
    assert mimic.parent_id == "real" and mimic.tasks[0].args.spectrum_from == "input"
    assert resolved.time.intervals() == [(0.0, 400.0), (450.0, 1000.0)]
    assert resolved.spectrum != workspace.load(GenerationParameters, "sparse").spectrum
    folder = workspace.root / "results" / "replicate" / f"real__{mimic_id}"
    assert (folder / "spectrum_real_vs_mimic.png").is_file()
    # the mimic's count rate matches the real one's within Poisson noise (its spectrum is the fit)
    expected = real.apparent_spectrum.n_events
    got = mimic.apparent_spectrum.n_events
    assert abs(got - expected) < 5 * np.sqrt(expected)


def test_spectrum_fit_recovers_generated_isotropic_data(workspace) -> None:
    """SPEC §21 property 20 on photons from the simulator itself."""
    isotropic = replace(workspace.load(GenerationParameters, "isotropic"), instrument=Instrument(None, "chandra-acis"))
    photons = simulate(isotropic, seed=7)
    truth = isotropic.spectrum
    fit = fit_spectrum(photons["wavelength_nm"].to_numpy(), Band(0.1, 1.0, 100), 24_000.0)
    for name, true_value in (("A", truth.A), ("lambda0_nm", truth.lambda0_nm), ("sigma", truth.sigma), ("C", truth.C)):
        estimate = getattr(fit.spectrum, name)
        assert abs(estimate - true_value) < 3 * fit.se[name], (name, estimate, true_value, fit.se[name])


def test_flat_spectrum_warns(workspace) -> None:
    flat = replace(workspace.load(GenerationParameters, "isotropic"),
                   spectrum=replace(workspace.load(GenerationParameters, "isotropic").spectrum, A=0.0, C=5.0),
                   instrument=Instrument(None, "chandra-acis"))
    photons = simulate(flat, seed=2)
    with pytest.warns(LightlaneWarning, match="nearly flat"):
        fit = fit_spectrum(photons["wavelength_nm"].to_numpy(), Band(0.1, 1.0, 100), 24_000.0)
    assert fit.flat_warning
