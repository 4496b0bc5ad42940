"""Plots (SPEC §14): house style, atomic PNG saving, spectrum and lanecount figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from lightlane.metadata.values import Band, Spectrum
from lightlane.report.drawing import (
    COLOR_A,
    COLOR_B,
    LanecountTrace,
    SpectrumPanel,
    lanecount_window,
    new_figure,
    plot_lanecounts,
    plot_spectrum_comparison,
    quartile_bins,
    save_figure,
    save_figures,
    title_for,
)
from lightlane.report import staging
from lightlane.report.drawing.save import FigureSet

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TSTART = 4.0e8  # MET, large so that "time since tstart" must really subtract it


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, read back from the file."""
    image = mpimg.imread(path)
    return image.shape[1], image.shape[0]


def _assert_png(path: Path, width_in: float, height_in: float, dpi: float) -> None:
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert _png_size(path) == (round(width_in * dpi), round(height_in * dpi))


def _legend_texts(fig: Figure) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _panel(label: str, spectrum: Spectrum | None, r2: float | None, seed: int) -> SpectrumPanel:
    band = Band(min_nm=0.2, max_nm=2.0, bins=30)
    centres, width, exposure = band.centres_nm(), band.width_nm, 2000.0
    truth = spectrum or Spectrum(A=2.0, lambda0_nm=0.8, sigma=0.3, C=0.2)
    counts = np.random.default_rng(seed).poisson(truth.flux(centres) * width * exposure)
    return SpectrumPanel(
        label=label,
        centres_nm=centres,
        flux_density=counts / (exposure * width),
        flux_density_err=np.maximum(np.sqrt(counts), 1) / (exposure * width),
        fitted=spectrum,
        r2=r2,
    )


@pytest.fixture
def spectrum_figure() -> Figure:
    a = _panel("A: real-1", Spectrum(A=3.25, lambda0_nm=0.71, sigma=0.345, C=0.215), 0.9876, seed=1)
    b = _panel("B: mimic-1", Spectrum(A=2.9, lambda0_nm=0.756, sigma=0.3, C=0.25), 0.9512, seed=2)
    return plot_spectrum_comparison(a, b, title=title_for(["real-1", "mimic-1"], "proc-a", "run-0007"))


def _trace(k: int, wavelength: float, mean: float, seed: int, span: float = 1500.0) -> LanecountTrace:
    rng = np.random.default_rng(seed)
    inner = np.sort(rng.uniform(TSTART, TSTART + span, 30))
    times = np.concatenate([[TSTART], inner, [TSTART + span]])
    return LanecountTrace(
        bin=k, wavelength_nm=wavelength, times_s=times, counts=rng.poisson(mean, len(times)), mean_lanecount=mean
    )


@pytest.fixture
def lanecount_figure() -> Figure:
    traces = [_trace(k, 0.2 + 0.03 * k, 2.0 + k / 20, seed=k) for k in quartile_bins(60)]
    return plot_lanecounts(traces, tstart_s=TSTART, title=title_for(["gen-1"], "proc-a", "run-0007"))


# --- style -----------------------------------------------------------------------------------------


def test_title_names_datasets_processing_and_run() -> None:
    title = title_for(["real-1", "mimic-1"], "proc-a", "run-0007")
    for part in ("real-1", "mimic-1", "proc-a", "run-0007"):
        assert part in title
    assert title_for(["gen-1"], None, None) == "gen-1"
    assert title_for("gen-1", "p", None) == "gen-1 · processing p"
    with pytest.raises(ValueError):
        title_for([], "p", "r")


def test_new_figure_applies_house_style() -> None:
    fig, ax = new_figure()
    assert tuple(fig.get_size_inches()) == (7.0, 4.5)
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.spines["left"].get_visible() and ax.spines["bottom"].get_visible()
    gridlines = ax.xaxis.get_gridlines()
    assert gridlines and all(line.get_visible() for line in gridlines)
    assert all(line.get_linestyle() == "--" and line.get_alpha() == pytest.approx(0.3) for line in gridlines)
    assert ax.xaxis.label.get_fontsize() == 10 and ax.title.get_fontsize() == 11
    fig3, axes = new_figure(12.0, 4.0, ncols=3)
    assert len(axes) == 3 and tuple(fig3.get_size_inches()) == (12.0, 4.0)
    with pytest.raises(ValueError):
        new_figure(ncols=0)


# --- saving ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [150, 72])
def test_save_figure_writes_png_of_exact_size(tmp_path: Path, dpi: int) -> None:
    fig, ax = new_figure(4.0, 3.0)
    ax.plot([0, 1], [0, 1])
    target = tmp_path / "deep" / "folder" / "plot.png"  # parents are created
    written = save_figure(fig, target, dpi=dpi)
    assert written == target
    _assert_png(target, 4.0, 3.0, dpi)
    assert sorted(p.name for p in target.parent.iterdir()) == ["plot.png"]  # no temp files left


def test_failed_save_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fig, _ = new_figure()
    target = save_figure(fig, tmp_path / "plot.png")
    before = target.read_bytes()

    def broken_encode(*args, **kwargs):  # rendered, then the PNG cannot be made
        raise RuntimeError("disk full")

    monkeypatch.setattr(staging._core, "encode_png", broken_encode)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_save_figure_rejects_bad_dpi(tmp_path: Path) -> None:
    fig, _ = new_figure()
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "x.png", dpi=0)
    assert not list(tmp_path.iterdir())


def test_figure_set_renames_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure set is rendered into temporary siblings and renamed only when every PNG is complete."""
    fig, ax = new_figure(4.0, 3.0)
    ax.plot([0, 1], [0, 1])
    old = save_figure(fig, tmp_path / "b.png")
    before = old.read_bytes()
    with pytest.raises(RuntimeError, match="late failure"):
        with FigureSet(72) as figures:
            figures.add(fig, tmp_path / "a.png")
            figures.add(fig, tmp_path / "b.png")
            raise RuntimeError("late failure")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png"] and old.read_bytes() == before

    with FigureSet(72) as figures:
        assert figures.add(fig, tmp_path / "sub" / "a.png") == tmp_path / "sub" / "a.png"
        figures.add(fig, tmp_path / "b.png")
        assert not (tmp_path / "sub" / "a.png").exists()  # nothing visible before the set is complete
    assert figures.paths == [tmp_path / "sub" / "a.png", tmp_path / "b.png"]
    _assert_png(tmp_path / "sub" / "a.png", 4.0, 3.0, 72)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "sub"] and old.read_bytes() != before
    assert save_figures([(fig, tmp_path / "c.png")], dpi=72) == [tmp_path / "c.png"]
    with pytest.raises(ValueError):
        FigureSet(0)


def test_spectrum_figure_saves_at_default_size(spectrum_figure: Figure, tmp_path: Path) -> None:
    path = save_figure(spectrum_figure, tmp_path / "spectrum_a_vs_b.png")
    _assert_png(path, 7.0, 4.5, 150)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spectrum_a_vs_b.png"]


def test_spectrum_figure_texts(spectrum_figure: Figure) -> None:
    (ax,) = spectrum_figure.get_axes()
    assert ax.get_xlabel() == "λ (nm)"
    assert ax.get_ylabel() == "flux density (counts s⁻¹ nm⁻¹)"
    title = spectrum_figure.get_suptitle()
    for part in ("real-1", "mimic-1", "proc-a", "run-0007"):
        assert part in title
    legend = "\n".join(_legend_texts(spectrum_figure))
    assert "A: real-1" in legend and "B: mimic-1" in legend
    # Fitted parameters (A, λ0, σ, C) and R² of both fits.
    for expected in ("A = 3.25", "λ₀ = 0.71 nm", "σ = 0.345", "C = 0.215", "R² = 0.988"):
        assert expected in legend
    for expected in ("A = 2.9", "λ₀ = 0.756 nm", "σ = 0.3,", "C = 0.25", "R² = 0.951"):
        assert expected in legend


def test_spectrum_colours_and_dashed_fits(spectrum_figure: Figure) -> None:
    (ax,) = spectrum_figure.get_axes()
    fits = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [to_hex(line.get_color()) for line in fits] == [to_hex(COLOR_A), to_hex(COLOR_B)]
    # The dashed curves follow the fitted model.
    x, y = fits[0].get_data()
    np.testing.assert_allclose(y, Spectrum(A=3.25, lambda0_nm=0.71, sigma=0.345, C=0.215).flux(x))


def test_spectrum_without_fit_draws_points_only() -> None:
    a = _panel("A: real-1", None, None, seed=1)
    b = _panel("B: mimic-1", Spectrum(A=2.0, lambda0_nm=0.8, sigma=0.3, C=0.2), None, seed=2)
    fig = plot_spectrum_comparison(a, b, title="real-1 vs mimic-1")
    (ax,) = fig.get_axes()
    assert len([line for line in ax.get_lines() if line.get_linestyle() == "--"]) == 1
    legend = "\n".join(_legend_texts(fig))
    assert "R²" not in legend and "λ₀ = 0.8 nm" in legend


def test_spectrum_panel_validates_shapes() -> None:
    with pytest.raises(ValueError):
        SpectrumPanel("A", np.array([1.0, 2.0]), np.array([1.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError):
        SpectrumPanel("A", np.array([0.0, 2.0]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))


# --- lanecount ---------------------------------------------------------------------------------------------


def test_lanecount_figure_saves_at_default_size(lanecount_figure: Figure, tmp_path: Path) -> None:
    path = save_figure(lanecount_figure, tmp_path / "lanecount_gen-1.png", dpi=100)
    _assert_png(path, 7.0, 4.5, 100)


def test_lanecount_figure_texts_and_lines(lanecount_figure: Figure) -> None:
    (ax,) = lanecount_figure.get_axes()
    assert ax.get_xlabel() == "time since tstart (s)"
    assert ax.get_ylabel() == "N(t)"
    assert all(part in lanecount_figure.get_suptitle() for part in ("gen-1", "proc-a", "run-0007"))
    legend = _legend_texts(lanecount_figure)
    assert len(legend) == 4
    bins = quartile_bins(60)
    for k, text in zip(bins, legend):
        assert text.startswith(f"bin {k} (λ = ")
        assert f"N̄ = {2.0 + k / 20:.3g}" in text
    steps = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    means = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(steps) == len(means) == 4
    for step, mean, k in zip(steps, means, bins):
        assert step.get_color() is not None and to_hex(step.get_color()) == to_hex(mean.get_color())
        assert mean.get_ydata()[0] == pytest.approx(2.0 + k / 20)
        # x is time since tstart, starting at 0.
        assert step.get_xdata()[0] == pytest.approx(0.0)
    assert ax.get_xlim() == pytest.approx((0.0, 1500.0))


def test_plot_lanecounts_rejects_too_many_traces() -> None:
    traces = [_trace(k, 0.5, 2.0, seed=k) for k in range(5)]
    with pytest.raises(ValueError):
        plot_lanecounts(traces, tstart_s=TSTART, title="gen-1")
    with pytest.raises(ValueError):
        plot_lanecounts([], tstart_s=TSTART, title="gen-1")


def test_lanecount_trace_validates() -> None:
    with pytest.raises(ValueError):
        LanecountTrace(0, 0.5, np.array([0.0, 1.0]), np.array([1]), 1.0)
    with pytest.raises(ValueError):
        LanecountTrace(0, 0.5, np.array([2.0, 1.0]), np.array([1, 1]), 1.0)


@pytest.mark.parametrize("n_bins", [4, 5, 7, 8, 60, 100, 101, 10_000])
def test_quartile_bins(n_bins: int) -> None:
    bins = quartile_bins(n_bins)
    assert len(bins) == 4
    assert all(isinstance(b, int) for b in bins)
    assert bins == sorted(set(bins))
    assert 0 <= bins[0] and bins[-1] <= n_bins - 1
    # Bin q contains the middle of quarter q of the band: b/n ≤ (2q+1)/8 < (b+1)/n.
    for q, b in enumerate(bins):
        assert 8 * b <= (2 * q + 1) * n_bins < 8 * (b + 1)


def test_quartile_bins_small_bands() -> None:
    assert quartile_bins(100) == [12, 37, 62, 87]
    assert quartile_bins(1) == [0]
    assert quartile_bins(3) == [0, 1, 2]
    with pytest.raises(ValueError):
        quartile_bins(0)


def test_lanecount_window() -> None:
    assert lanecount_window(TSTART, TSTART + 500.0) == (TSTART, TSTART + 500.0)
    assert lanecount_window(TSTART, TSTART + 1e5) == (TSTART, TSTART + 2000.0)
    with pytest.raises(ValueError):
        lanecount_window(TSTART, TSTART)


def test_long_ids_stay_inside_the_figure(tmp_path: Path) -> None:
    """64-character ids: the title wraps and the legend falls back to one column."""
    long_a, long_b = "a" * 64, "b" * 64
    a = _panel(f"A: {long_a}", Spectrum(A=3.0, lambda0_nm=0.7, sigma=0.3, C=0.2), 0.9, seed=1)
    b = _panel(f"B: {long_b}", Spectrum(A=2.0, lambda0_nm=0.8, sigma=0.3, C=0.2), 0.8, seed=2)
    fig = plot_spectrum_comparison(a, b, title=title_for([long_a, long_b], "p" * 64, "r" * 20))
    path = save_figure(fig, tmp_path / "long.png")
    _assert_png(path, 7.0, 4.5, 150)
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    (title,) = [text for text in fig.texts if text.get_text() == fig.get_suptitle()]
    assert title.get_fontsize() == 11
    texts = [title, *fig.legends[0].get_texts()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= fig_box.x0 - 1 and box.x1 <= fig_box.x1 + 1, text.get_text()
    assert long_a in fig.get_suptitle()  # wrapped only at spaces


def test_figures_are_independent() -> None:
    """No pyplot/global state: building one figure leaves another untouched."""
    fig1, ax1 = new_figure()
    fig2, _ = new_figure(3.0, 2.0)
    assert fig1.get_axes() == [ax1] and tuple(fig1.get_size_inches()) == (7.0, 4.5)
    assert tuple(fig2.get_size_inches()) == (3.0, 2.0)
