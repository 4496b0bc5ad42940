"""Run figures (SPEC §11.6, §14): counts per bin, P2 concentration, timescales hexbin."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.colors import LogNorm, to_hex
from matplotlib.figure import Figure

from lightlane.report.drawing import (
    COLOR_A,
    COLOR_B,
    plot_counts_per_bin,
    plot_p2_concentration,
    plot_timescales,
    save_figure,
    title_for,
)
from lightlane.report.drawing.run import bin_edges_from_centres, format_p, power_law, power_law_label

TITLE = title_for(["real-1", "mimic-1"], "proc-a", "run-0007")
LABELS = ("A: real-1", "B: mimic-1")
PREVIEW = Path("/tmp/plots_preview")


def _save_and_check(fig: Figure, path: Path, width_in: float = 7.0, height_in: float = 4.5, dpi: int = 150) -> None:
    save_figure(fig, path, dpi=dpi)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(path)
    assert (image.shape[1], image.shape[0]) == (round(width_in * dpi), round(height_in * dpi))


def _legend_texts(fig: Figure) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _title(fig: Figure) -> str:
    return fig.get_suptitle()


@pytest.fixture
def centres() -> np.ndarray:
    return np.linspace(0.1045, 0.9955, 100)


# --- helpers --------------------------------------------------------------------------------------------


def test_bin_edges_from_centres_uniform_and_single() -> None:
    edges = bin_edges_from_centres(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(edges, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(bin_edges_from_centres(np.array([2.0])), [1.9, 2.1])
    with pytest.raises(ValueError, match="at least one"):
        bin_edges_from_centres(np.array([]))
    with pytest.raises(ValueError, match="increasing"):
        bin_edges_from_centres(np.array([1.0, 1.0]))


def test_format_p_and_fit_label() -> None:
    assert format_p(3.1e-9) == "3.10e-09"
    assert format_p(0.5) == "5.00e-01"
    assert format_p(None) == "n/a"
    assert format_p(math.nan) == "n/a"
    assert power_law_label((1.0, -0.812, 0.0456)) == "fit: b = -0.812 ± 0.0456"
    assert power_law_label(None) == "fit: b = n/a"
    assert power_law_label((1.0, 0.5, math.nan)) == "fit: b = 0.5 ± n/a"


# --- counts per bin ------------------------------------------------------------------------------------


def test_counts_per_bin_saves_with_steps_and_labels(centres: np.ndarray, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.poisson(100, size=100), rng.poisson(110, size=100)
    fig = plot_counts_per_bin(centres, a, b, labels=LABELS, title=TITLE)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "λ (nm)"
    assert ax.get_ylabel() == "counts per bin"
    for part in ("real-1", "proc-a", "run-0007"):
        assert part in _title(fig)
    steps = [p for p in ax.patches if p.get_label().startswith(("A:", "B:"))]
    assert [to_hex(p.get_edgecolor()) for p in steps] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    texts = _legend_texts(fig)
    assert texts[0] == f"A: real-1 ({a.sum():,} events)"
    assert texts[1] == f"B: mimic-1 ({b.sum():,} events)"
    # The steps span the whole band, halfway between centres.
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(centres[0] - (centres[1] - centres[0]) / 2)
    assert hi == pytest.approx(centres[-1] + (centres[-1] - centres[-2]) / 2)
    _save_and_check(fig, tmp_path / "counts_hist_wavelength.png")
    _save_and_check(fig, tmp_path / "counts_hist_wavelength_100.png", dpi=100)
    save_figure(fig, PREVIEW / "test_counts_hist_wavelength.png")


def test_counts_per_bin_single_dataset(centres: np.ndarray, tmp_path: Path) -> None:
    fig = plot_counts_per_bin(centres, np.zeros(100), None, labels=LABELS, title=TITLE)
    assert _legend_texts(fig) == ["A: real-1 (0 events)"]
    _save_and_check(fig, tmp_path / "single.png")


def test_counts_per_bin_rejects_bad_inputs(centres: np.ndarray) -> None:
    with pytest.raises(ValueError, match="at least one wavelength bin"):
        plot_counts_per_bin(np.array([]), np.array([]), np.array([]), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="100 entries"):
        plot_counts_per_bin(centres, np.ones(99), np.ones(100), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="non-negative"):
        plot_counts_per_bin(centres, -np.ones(100), np.ones(100), labels=LABELS, title=TITLE)
    with pytest.raises(ValueError, match="labels"):
        plot_counts_per_bin(centres, np.ones(100), np.ones(100), labels=("A",), title=TITLE)


# --- P2 concentration ----------------------------------------------------------------------------------


@pytest.fixture
def p2_inputs(centres: np.ndarray) -> dict:
    rng = np.random.default_rng(1)
    ref = float(np.exp(np.log(centres).mean()))
    a = rng.poisson(12 * (centres / ref) ** -0.8).astype(float)
    b = rng.poisson(10 * (centres / ref) ** 0.2).astype(float)
    a[:3] = np.nan  # outside A's W_data
    return {"centres_nm": centres, "counts_a": a, "counts_b": b, "lambda_ref_nm": ref}


def _fit_lines(fig: Figure) -> list:
    return [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]


def test_p2_concentration_lines_are_the_power_laws(p2_inputs: dict, tmp_path: Path) -> None:
    fit_a, fit_b = (12.1, -0.81, 0.05), (10.2, 0.19, 0.06)
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"],
        p2_inputs["counts_a"],
        p2_inputs["counts_b"],
        fit_a,
        fit_b,
        p2_inputs["lambda_ref_nm"],
        3.1e-9,
        0.004,
        metric="vesa",
        labels=LABELS,
        title=TITLE,
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "λ (nm)"
    assert ax.get_ylabel() == "top-chunk count"
    assert "vesa" in ax.get_title()
    lines = _fit_lines(fig)
    assert [to_hex(line.get_color()) for line in lines] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    ref = p2_inputs["lambda_ref_nm"]
    for line, (a, b, _), counts in zip(lines, (fit_a, fit_b), (p2_inputs["counts_a"], p2_inputs["counts_b"])):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(y, a * (x / ref) ** b, rtol=1e-12)
        np.testing.assert_allclose(y, power_law(x, a, b, ref), rtol=1e-12)
        # Over the dataset's own drawn bins only: no extrapolation.
        used = p2_inputs["centres_nm"][np.isfinite(counts)]
        assert x.min() == pytest.approx(used.min()) and x.max() == pytest.approx(used.max())
    # The points are the counts of the used bins, NaN bins left out.
    points = [line for line in ax.get_lines() if line.get_linestyle() in ("None", "none", "")]
    points = [line for line in points if len(line.get_xdata())]
    assert len(points) == 2
    np.testing.assert_array_equal(points[0].get_ydata(), p2_inputs["counts_a"][3:])
    np.testing.assert_array_equal(points[1].get_ydata(), p2_inputs["counts_b"])
    assert [to_hex(line.get_color()) for line in points] == [to_hex(COLOR_A), to_hex(COLOR_B)]

    texts = _legend_texts(fig)
    joined = "\n".join(texts)
    assert "fit: b = -0.81 ± 0.05" in texts
    assert "fit: b = 0.19 ± 0.06" in texts
    assert "p_z = 3.10e-09" in joined
    assert "p_cal = 4.00e-03" in joined
    k_a = int(np.nansum(p2_inputs["counts_a"]))
    k_b = int(np.sum(p2_inputs["counts_b"]))
    # Two columns filled column by column: A's entries and p_z left, B's and p_cal right.
    assert texts == [
        f"A: real-1 (k = {k_a:,})",
        "fit: b = -0.81 ± 0.05",
        "p_z = 3.10e-09",
        f"B: mimic-1 (k = {k_b:,})",
        "fit: b = 0.19 ± 0.06",
        "p_cal = 4.00e-03",
    ]
    _save_and_check(fig, tmp_path / "p2_concentration_vesa.png")
    save_figure(fig, PREVIEW / "test_p2_concentration_vesa.png")


def test_p2_concentration_separate_references(p2_inputs: dict) -> None:
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"], p2_inputs["counts_a"], p2_inputs["counts_b"],
        (5.0, -1.0, 0.1), (6.0, 0.5, 0.1), (0.4, 0.6), None, None,
        metric="ev", labels=LABELS, title=TITLE,
    )
    for line, (a, b, ref) in zip(_fit_lines(fig), ((5.0, -1.0, 0.4), (6.0, 0.5, 0.6))):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(y, a * (x / ref) ** b, rtol=1e-12)


def test_p2_concentration_missing_fits_and_p_values(p2_inputs: dict, tmp_path: Path) -> None:
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"],
        p2_inputs["counts_a"],
        p2_inputs["counts_b"],
        None,
        (10.2, 0.19, 0.06),
        p2_inputs["lambda_ref_nm"],
        None,
        None,
        metric="vesa",
        labels=LABELS,
        title=TITLE,
    )
    lines = _fit_lines(fig)
    assert [to_hex(line.get_color()) for line in lines] == [to_hex(COLOR_B)]
    texts = _legend_texts(fig)
    joined = "\n".join(texts)
    assert "fit: b = n/a" in texts
    assert "p_z = n/a" in joined and "p_cal = n/a" in joined
    _save_and_check(fig, tmp_path / "p2_na.png")

    # No fits at all: no λ_ref needed, no curves.
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"], p2_inputs["counts_a"], p2_inputs["counts_b"], None, None, None, None, None,
        metric="vesa", labels=LABELS, title=TITLE,
    )
    assert _fit_lines(fig) == []
    assert sum(text == "fit: b = n/a" for text in _legend_texts(fig)) == 2
    _save_and_check(fig, tmp_path / "p2_nofit.png")


def test_p2_concentration_long_labels_fall_back_to_one_column(p2_inputs: dict, tmp_path: Path) -> None:
    long = ("A: " + "real-observation-" * 4, "B: " + "mimic-generation-" * 4)
    fig = plot_p2_concentration(
        p2_inputs["centres_nm"], p2_inputs["counts_a"], p2_inputs["counts_b"],
        (12.1, -0.81, 0.05), (10.2, 0.19, 0.06), p2_inputs["lambda_ref_nm"], 0.0123, 0.5,
        metric="vesa", labels=long, title=TITLE,
    )
    texts = _legend_texts(fig)
    assert texts[-1] == "p_z = 1.23e-02, p_cal = 5.00e-01"
    assert texts[0].startswith("A: ") and texts[2].startswith("B: ")
    _save_and_check(fig, tmp_path / "p2_long.png")


def test_p2_concentration_rejects_bad_inputs(p2_inputs: dict) -> None:
    centres, a, b = p2_inputs["centres_nm"], p2_inputs["counts_a"], p2_inputs["counts_b"]
    common = {"metric": "vesa", "labels": LABELS, "title": TITLE}
    with pytest.raises(ValueError, match="at least one wavelength bin"):
        plot_p2_concentration(np.array([]), np.array([]), np.array([]), None, None, None, None, None, **common)
    with pytest.raises(ValueError, match="lambda_ref_nm is required"):
        plot_p2_concentration(centres, a, b, (1.0, 0.0, 0.1), None, None, None, None, **common)
    with pytest.raises(ValueError, match="lambda_ref_nm"):
        plot_p2_concentration(centres, a, b, (1.0, 0.0, 0.1), None, -1.0, None, None, **common)
    with pytest.raises(ValueError, match="fit_a"):
        plot_p2_concentration(centres, a, b, (0.0, 0.0, 0.1), None, 0.5, None, None, **common)
    with pytest.raises(ValueError, match="fit_b"):
        plot_p2_concentration(centres, a, b, None, (1.0, 0.0), 0.5, None, None, **common)
    with pytest.raises(ValueError, match="100 entries"):
        plot_p2_concentration(centres, a[:10], b, None, None, None, None, None, **common)


def test_p2_concentration_all_bins_unused(centres: np.ndarray, tmp_path: Path) -> None:
    nan = np.full(100, np.nan)
    fig = plot_p2_concentration(
        centres, nan, nan, (1.0, 0.0, 0.1), None, 0.5, None, None, metric="vesa", labels=LABELS, title=TITLE
    )
    assert _fit_lines(fig) == []
    assert "A: real-1 (k = 0)" in _legend_texts(fig)
    _save_and_check(fig, tmp_path / "p2_empty.png")


# --- timescales ----------------------------------------------------------------------------------------


def _chunks(n: int, widths: np.ndarray, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.linspace(0.1045, 0.9955, 100)
    x = centres[np.minimum((rng.beta(2, 5, n) * 100).astype(int), 99)]
    y = widths[rng.integers(0, len(widths), n)]
    return x, y


def test_timescales_hexbin(tmp_path: Path) -> None:
    widths = np.sort(np.random.default_rng(5).uniform(20, 300, 30))
    x, y = _chunks(1000, widths)
    fig = plot_timescales(x, y, title=TITLE)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "λ centre (nm)"
    assert ax.get_ylabel() == "time-bin width (s)"
    assert ax.get_yscale() == "linear"
    (cells,) = ax.collections
    counts = np.asarray(cells.get_array())
    # mincnt = 1: only hexagons holding chunks are drawn, and every chunk is in one.
    assert counts.min() >= 1
    assert counts.sum() == 1000
    assert isinstance(cells.norm, LogNorm) and cells.norm.vmin == 1
    assert cells.get_cmap().name == "magma"
    colorbar_axes = [other for other in fig.axes if other is not ax]
    assert len(colorbar_axes) == 1 and colorbar_axes[0].get_ylabel() == "chunks"
    assert "1,000 top chunks" == ax.get_title()
    for part in ("real-1", "proc-a", "run-0007"):
        assert part in _title(fig)
    _save_and_check(fig, tmp_path / "timescales_vesa_a.png")
    save_figure(fig, PREVIEW / "test_timescales_vesa_a.png")


def test_timescales_gridsize_and_log_widths(tmp_path: Path) -> None:
    widths = np.geomspace(1.0, 1000.0, 30)
    x, y = _chunks(500, widths)
    coarse = plot_timescales(x, y, gridsize=10, title=TITLE)
    fine = plot_timescales(x, y, title=TITLE)
    assert fine.axes[0].get_yscale() == "log"
    n_coarse = len(coarse.axes[0].collections[0].get_array())
    n_fine = len(fine.axes[0].collections[0].get_array())
    assert n_coarse < n_fine
    assert np.asarray(fine.axes[0].collections[0].get_array()).sum() == 500
    _save_and_check(fine, tmp_path / "timescales_log.png")


def test_timescales_empty_and_single(tmp_path: Path) -> None:
    fig = plot_timescales(np.array([]), np.array([]), title=TITLE)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no top chunks"]
    assert len(fig.axes) == 1  # no colorbar without counts
    _save_and_check(fig, tmp_path / "timescales_empty.png")

    fig = plot_timescales(np.array([0.5]), np.array([100.0]), title=TITLE)
    assert np.asarray(fig.axes[0].collections[0].get_array()).tolist() == [1]
    assert fig.axes[0].get_title() == "1 top chunk"
    _save_and_check(fig, tmp_path / "timescales_one.png")


def test_timescales_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        plot_timescales(np.ones(3), np.ones(2), title=TITLE)
    with pytest.raises(ValueError, match="positive"):
        plot_timescales(np.ones(3), np.array([1.0, 0.0, 2.0]), title=TITLE)
    with pytest.raises(ValueError, match="positive"):
        plot_timescales(np.array([1.0, np.nan]), np.ones(2), title=TITLE)
    with pytest.raises(ValueError, match="gridsize"):
        plot_timescales(np.ones(3), np.ones(3), gridsize=0, title=TITLE)
