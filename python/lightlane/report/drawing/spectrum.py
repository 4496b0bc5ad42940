"""Apparent spectra of A and B with their fits (``spectrum_a_vs_b.png``, SPEC §12, §14).

The same figure serves replicate's "real vs mimic" comparison: A is the real
dataset, B the generated mimic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ...metadata.values import Spectrum
from .layout import arrange, bottom_legend
from .style import COLOR_A, COLOR_B, FIT_LINESTYLE, new_figure, set_title, vector

__all__ = ["SpectrumPanel", "plot_spectrum_comparison", "fit_label"]

# Points per fitted curve: enough that the log-normal peak looks smooth for
# any number of bins, yet cheap.
_CURVE_POINTS = 400


# eq=False: the fields are numpy arrays, whose elementwise == would make the
# generated __eq__ raise; identity equality is what callers can rely on.
@dataclass(frozen=True, eq=False)
class SpectrumPanel:
    """One dataset's apparent spectrum as measured and as fitted.

    Parameters
    ----------
    label
        Legend name of the dataset, e.g. ``"A: obs-1234"``.
    centres_nm
        Wavelength bin centres λ_w [nm], all positive.
    flux_density
        y_w = k_w / (T·w) [counts s⁻¹ nm⁻¹].
    flux_density_err
        σ_w = max(√k_w, 1) / (T·w) [counts s⁻¹ nm⁻¹], non-negative.
    fitted
        The fitted f(λ), or None when no fit is available.
    r2
        Weighted R² of the fit (SPEC §12), or None.
    """

    label: str
    centres_nm: np.ndarray
    flux_density: np.ndarray
    flux_density_err: np.ndarray
    fitted: Spectrum | None = None
    r2: float | None = None

    def __post_init__(self) -> None:
        centres = vector("centres_nm", self.centres_nm)
        flux = vector("flux_density", self.flux_density)
        err = vector("flux_density_err", self.flux_density_err)
        if not (len(centres) == len(flux) == len(err)):
            raise ValueError(
                f"centres_nm, flux_density and flux_density_err differ in length ({len(centres)}, {len(flux)}, {len(err)})"
            )
        if len(centres) == 0:
            raise ValueError("a spectrum needs at least one bin")
        # f(λ) uses ln(λ/λ0), so non-positive wavelengths cannot be drawn.
        if not np.all(np.isfinite(centres) & (centres > 0)):
            raise ValueError("centres_nm must be finite and positive")
        if np.any(err < 0):
            raise ValueError("flux_density_err must be non-negative")
        # Frozen: store the validated float arrays through object.__setattr__.
        object.__setattr__(self, "centres_nm", centres)
        object.__setattr__(self, "flux_density", flux)
        object.__setattr__(self, "flux_density_err", err)


def _g(value: float) -> str:
    """Three significant digits, without a spurious exponent for ordinary values."""
    return f"{value:.3g}"


def fit_label(panel: SpectrumPanel) -> str:
    """Legend text of ``panel``'s fit: its parameters (A, λ0, σ, C) and R².

    Two short lines without the dataset name: the legend puts each fit
    directly under its own data entry, in the same colour, which keeps two
    legend columns narrower than the figure. Units follow SPEC §1 (A and C
    in counts s⁻¹ nm⁻¹).

    Parameters
    ----------
    panel
        A panel whose ``fitted`` is not None.

    Returns
    -------
    str
        E.g. ``"fit: A = 12.3, λ₀ = 0.456 nm,\\nσ = 0.15, C = 1.2, R² = 0.987"``.
    """
    fit = panel.fitted
    if fit is None:
        raise ValueError(f"{panel.label!r} has no fitted spectrum")
    first = f"fit: A = {_g(fit.A)}, λ₀ = {_g(fit.lambda0_nm)} nm,"
    second = f"σ = {_g(fit.sigma)}, C = {_g(fit.C)}"
    if panel.r2 is not None:
        second += f", R² = {panel.r2:.3f}"
    return f"{first}\n{second}"


def plot_spectrum_comparison(a: SpectrumPanel, b: SpectrumPanel | None, *, title: str) -> Figure:
    """Draw y_w ± σ_w of A (black) and B (orange) with their fitted f(λ) dashed.

    Parameters
    ----------
    a, b
        The two spectra; A is always black, B always orange (SPEC §14). B may be
        None for a single dataset (``analyze``).
    title
        Figure title, normally from :func:`~lightlane.report.drawing.style.title_for`.

    Returns
    -------
    Figure
        A 7 × 4.5 in figure; x is λ (nm), y the flux density in counts s⁻¹ nm⁻¹.
    """
    fig, ax = new_figure()
    # One common, fine grid over the measured range of both datasets: the
    # curves stay smooth and never extrapolate beyond any data shown.
    panels = [(a, COLOR_A, 1.0)] + ([(b, COLOR_B, 0.85)] if b is not None else [])
    lo = min(panel.centres_nm.min() for panel, _, _ in panels)
    hi = max(panel.centres_nm.max() for panel, _, _ in panels)
    grid = np.linspace(lo, hi, _CURVE_POINTS) if hi > lo else np.array([lo])

    # Many bins mean many points: small markers without caps keep B visible
    # where it overlaps A, and the B points are slightly translucent. Fits are
    # drawn after both data sets (higher zorder) so no points hide them.
    handles = []
    for panel, color, alpha in panels:
        handles.append(
            ax.errorbar(
                panel.centres_nm,
                panel.flux_density,
                yerr=panel.flux_density_err,
                fmt="o",
                markersize=3,
                elinewidth=0.8,
                capsize=0,
                color=color,
                alpha=alpha,
                label=f"{panel.label}: y ± σ",
            )
        )
        if panel.fitted is not None:
            (line,) = ax.plot(
                grid,
                panel.fitted.flux(grid),
                linestyle=FIT_LINESTYLE,
                linewidth=1.5,
                color=color,
                zorder=3,
                label=fit_label(panel),
            )
            handles.append(line)

    ax.set_xlabel("λ (nm)")
    ax.set_ylabel("flux density (counts s⁻¹ nm⁻¹)")
    # Flux densities are non-negative; anchoring at zero shows the continuum C
    # honestly instead of exaggerating small differences.
    ax.set_ylim(bottom=0)
    # Below the plot, so the legend (with its long fit labels) never hides
    # data. Two columns filled column by column put A's data and fit on the
    # left and B's on the right, unless long dataset labels would make two
    # columns wider than the figure.
    bottom_legend(fig, handles, 2)
    set_title(fig, title)
    arrange(fig, [ax])
    return fig
