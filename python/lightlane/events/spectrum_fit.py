"""Apparent-spectrum fit of one dataset's selected events (SPEC §12).

The events are binned on the band's wavelength bins (exactly like
``numpy.histogram``) and the log-normal-peak-plus-floor model of SPEC §5.1,

    f(λ) = A·exp(−(ln(λ/λ0)/σ)²) + C      [counts s⁻¹ nm⁻¹],

is fitted to the bin counts k_w by Poisson maximum likelihood with expected
counts μ_w = T·w·f(λ_w) at the bin centres λ_w. A weighted least-squares fit
of the flux densities y_w = k_w/(T·w) is available for comparison.

Gradients and Hessians of both objectives are analytic: the gradient drives
L-BFGS-B (and the least-squares solver), the Hessian polishes the optimum with
a few projected Newton steps and gives the standard errors. The standard
errors use the *observed* information, the exact Hessian of the objective at
the optimum (Poisson: H = Σ (k_w/μ_w²)∇μ_w∇μ_wᵀ + Σ (1 − k_w/μ_w)∇²μ_w;
wls: the Hessian of ½χ², JᵀJ plus the residual-curvature term), not the
expected Fisher information; at the optimum of a well-fitting model the two
agree closely.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np

from ..exceptions import DataError, LightlaneWarning
from ..memo import remembered
from ..metadata import ApparentSpectrum, Band, Spectrum

__all__ = ["PARAMETER_NAMES", "SpectrumFit", "fit_apparent_spectrum", "fit_binned_spectrum", "fit_spectrum"]

#: Names of the fitted parameters, in the order used by every vector and matrix here.
PARAMETER_NAMES: tuple[str, str, str, str] = ("A", "lambda0_nm", "sigma", "C")

MIN_BINS_WITH_COUNTS = 5
SIGMA_INITIAL = 0.15
SIGMA_BOUNDS = (0.03, 0.7)
FLAT_SIGMA = 0.65
FLAT_PEAK_RATIO = 0.1
FLAT_MESSAGE = "spectrum is nearly flat; λ0 and σ are poorly constrained"

# A smooth floor added to every expected count so that log μ stays finite where
# the Gaussian factor underflows and C = 0. Being additive (not max(μ, floor))
# it keeps the gradient non-zero there, so the optimiser is pushed out of such
# regions instead of being stranded; 10⁻¹² counts per bin changes no fit.
_MU_EPSILON = 1e-12
# A parameter within this fraction of its scale from a bound counts as "on" it.
_BOUND_RTOL = 1e-6
# Eigenvalues of the (scale-normalised) Hessian below this fraction of the
# largest are treated as zero: the direction is not constrained by the data.
_SINGULAR_RTOL = 1e-12

# (θ, hessian=...) → (value, gradient, Hessian or None).
Objective = Callable[..., tuple[float, np.ndarray, np.ndarray | None]]


@dataclass(frozen=True, eq=False)
class SpectrumFit:
    """The result of :func:`fit_spectrum`.

    Attributes
    ----------
    spectrum
        The fitted parameters (A, λ0, σ, C).
    se
        Standard errors by parameter name (``"A"``, ``"lambda0_nm"``, ``"sigma"``,
        ``"C"``) from the inverse Hessian of the objective; ``nan`` where the
        Hessian is singular along a direction involving the parameter.
    r2
        Weighted R² of y_w against the fitted f(λ_w) with weights 1/σ_w²
        (``nan`` when all y_w are equal, so the denominator vanishes).
    deviance_per_dof
        Poisson deviance of the fitted model divided by bins − 4 (``nan`` when
        bins ≤ 4); also for ``method="wls"``, so the two fits compare directly.
    at_bounds
        Names of the parameters that sit on a bound.
    flat_warning
        σ > 0.65 or A < 0.1·C: λ0 and σ are poorly constrained.
    n_events
        Events inside the band.
    exposure_s
        Exposure T used to turn counts into flux densities [s].
    band
        The band whose bins were fitted.
    counts
        k_w, the events per bin.
    flux_density
        y_w = k_w/(T·w) [counts s⁻¹ nm⁻¹].
    flux_density_err
        σ_w = max(√k_w, 1)/(T·w) [counts s⁻¹ nm⁻¹].
    method
        ``"poisson"`` or ``"wls"``.
    """

    spectrum: Spectrum
    se: dict[str, float]
    r2: float
    deviance_per_dof: float
    at_bounds: tuple[str, ...]
    flat_warning: bool
    n_events: int
    exposure_s: float
    band: Band
    counts: np.ndarray
    flux_density: np.ndarray
    flux_density_err: np.ndarray
    method: Literal["poisson", "wls"]

    def to_apparent_spectrum(self) -> ApparentSpectrum:
        """The subset of this fit stored in a DatasetMeta (SPEC §5.2).

        Returns
        -------
        ApparentSpectrum
            Band, spectrum, R², flat warning, event count and exposure.
        """
        return ApparentSpectrum(
            band=self.band,
            spectrum=self.spectrum,
            r2=float(self.r2) if math.isfinite(self.r2) else None,
            flat_warning=bool(self.flat_warning),
            n_events=int(self.n_events),
            exposure_s=float(self.exposure_s),
        )


def fit_spectrum(
    wavelength_nm: np.ndarray,
    band: Band,
    exposure_s: float,
    *,
    method: Literal["poisson", "wls"] = "poisson",
) -> SpectrumFit:
    """Fit the apparent spectrum f(λ) = A·exp(−(ln(λ/λ0)/σ)²) + C to event wavelengths.

    Parameters
    ----------
    wavelength_nm
        Wavelengths of the selected events [nm]. Events outside the band (and
        non-finite values) are ignored.
    band
        The band; its bins are half-open except the last, which is closed,
        exactly like ``numpy.histogram(wavelength_nm, bins=band.edges_nm())``.
    exposure_s
        Exposure T [s], > 0.
    method
        ``"poisson"`` (maximum likelihood, the default) or ``"wls"`` (weighted
        least squares of y_w with weights 1/σ_w², for comparison).

    Returns
    -------
    SpectrumFit
        Parameters, standard errors, goodness of fit and the binned data.

    Raises
    ------
    DataError
        If ``exposure_s`` is not a positive finite number, no event lies in
        the band, or fewer than 5 bins have counts.
    ValueError
        If ``method`` is not ``"poisson"`` or ``"wls"``.

    Warns
    -----
    LightlaneWarning
        When a parameter sits on a bound (naming it), and when the spectrum is
        nearly flat.

    Notes
    -----
    * Poisson: L-BFGS-B with the analytic gradient in variables scaled to
      O(1) (A and C by max y_w, λ0 by its start, σ by 0.1), tight tolerances,
      then projected Newton steps with the analytic Hessian. WLS:
      ``scipy.optimize.least_squares`` (trf, same bounds, analytic Jacobian),
      then the same Newton polish on ½χ².
    * Standard errors come from the observed information (exact Hessian at the
      optimum); see the module docstring.
    * Every μ_w gets 10⁻¹² counts added so that log μ_w is always finite.
    * The initial values are those of SPEC §12, except that a 10th percentile
      of 0 starts C at one event per band instead (the optimum is unchanged).

    Examples
    --------
    >>> import numpy as np
    >>> from lightlane.metadata import Band, Spectrum
    >>> band = Band(min_nm=0.1, max_nm=1.0, bins=90)
    >>> truth = Spectrum(A=40.0, lambda0_nm=0.38, sigma=0.3, C=2.0)
    >>> counts = np.round(1000.0 * band.width_nm * truth.flux(band.centres_nm())).astype(int)
    >>> fit = fit_spectrum(np.repeat(band.centres_nm(), counts), band, exposure_s=1000.0)
    >>> round(fit.spectrum.lambda0_nm, 2), round(fit.spectrum.sigma, 2)
    (0.38, 0.3)
    """
    lam = np.asarray(wavelength_nm, dtype=np.float64).ravel()
    lam = lam[np.isfinite(lam)]
    counts, _ = np.histogram(lam, bins=band.edges_nm())
    return fit_binned_spectrum(counts, band, exposure_s, method=method, events_in_total=lam.size)


def fit_apparent_spectrum(dataset_id: str, counts: np.ndarray, band: Band, exposure_s: float) -> SpectrumFit | None:
    """:func:`fit_binned_spectrum` for a figure: None with a warning naming ``dataset_id`` when the
    spectrum cannot be fitted (the figure then shows the counts alone), notes on the fit left to its legend."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LightlaneWarning)  # bound/flat notes belong to the plot legend
            return fit_binned_spectrum(counts, band, exposure_s)
    except DataError as exc:
        warnings.warn(f"{dataset_id}: apparent spectrum not fitted: {exc}", LightlaneWarning, stacklevel=3)
        return None


def fit_binned_spectrum(counts: np.ndarray, band: Band, exposure_s: float, *, method: str = "poisson",
                        events_in_total: int | None = None) -> SpectrumFit:
    """:func:`fit_spectrum` from the counts per band bin (what an analysis already holds).

    ``events_in_total`` (events before the band cut) only completes the message of an empty band.
    """
    if method not in ("poisson", "wls"):
        raise ValueError(f"unknown spectrum fit method {method!r}; expected 'poisson' or 'wls'")
    exposure = float(exposure_s)
    if not (math.isfinite(exposure) and exposure > 0):
        raise DataError(f"spectrum fit: exposure must be a positive number of seconds, got {exposure_s!r}")
    counts = np.asarray(counts).astype(np.int64)
    if counts.shape != (band.bins,):
        raise ValueError(f"spectrum fit: expected {band.bins} bin counts, got shape {counts.shape}")
    n_events = int(counts.sum())
    if n_events == 0:
        total = f" ({events_in_total} events in total)" if events_in_total is not None else ""
        raise DataError(f"spectrum fit: no events in the band [{band.min_nm:g}, {band.max_nm:g}] nm{total}")
    bins_with_counts = int(np.count_nonzero(counts))
    if bins_with_counts < MIN_BINS_WITH_COUNTS:
        raise DataError(
            f"spectrum fit: only {bins_with_counts} of {band.bins} wavelength bins have counts; "
            f"at least {MIN_BINS_WITH_COUNTS} are needed to fit 4 parameters"
        )
    fit = remembered(_FITS, (counts.tobytes(), band, exposure, method),
                     lambda: _fit_counts(counts, band, exposure, method), _FITS_KEPT)
    if fit.at_bounds:
        warnings.warn(
            f"spectrum fit: {', '.join(fit.at_bounds)} at a bound of the fit; "
            "the standard errors of parameters on a bound are not reliable",
            LightlaneWarning,
            stacklevel=2,
        )
    if fit.flat_warning:
        warnings.warn(FLAT_MESSAGE, LightlaneWarning, stacklevel=2)
    return fit


#: The last fits of this process, by their counts, band, exposure and method: a run fits each
#: dataset's apparent spectrum for its figure and again when it writes the dataset.
_FITS: dict[tuple[bytes, Band, float, str], SpectrumFit] = {}
_FITS_KEPT = 8


def _fit_counts(counts: np.ndarray, band: Band, exposure: float, method: str) -> SpectrumFit:
    """The fit of :func:`fit_binned_spectrum` on checked inputs (int64 counts), without its warnings."""
    n_events = int(counts.sum())
    centres = band.centres_nm()
    exposure_width = np.full(band.bins, exposure * band.width_nm)
    k = counts.astype(np.float64)
    y = k / exposure_width
    y_err = np.maximum(np.sqrt(k), 1.0) / exposure_width

    lower, upper = _bounds(band)
    start = _initial_values(centres, k, y, lower, upper, floor_flux=1.0 / (exposure * (band.max_nm - band.min_nm)))
    scale = _scales(start, y, exposure_width)

    objective: Objective
    if method == "poisson":
        objective = partial(_poisson_objective, k=k, exposure_width=exposure_width, lam=centres)
    else:
        objective = partial(_wls_objective, y=y, y_err=y_err, lam=centres)

    def fit_from(initial: np.ndarray) -> np.ndarray:
        if method == "poisson":
            theta = _fit_poisson(objective, initial, lower, upper, scale)
        else:
            theta = _fit_wls(y, y_err, centres, initial, lower, upper, scale)
        return _newton_polish(objective, theta, lower, upper)

    # The SPEC §12 start first. At low counts the optimiser can collapse onto A = 0, where
    # λ0 and σ lose their gradient; then a few more peak positions and widths are tried
    # and the best likelihood wins (the SPEC start wins ties) — unless the collapsed (flat)
    # fit already describes the counts within 3σ of the deviance's χ² spread: then there is
    # no peak to find (flattened task outputs are exactly flat).
    candidates = [fit_from(start)]
    collapsed = _on_bound(candidates[0][0], lower[0], upper[0], scale[0]) and not _fits_within_noise(
        candidates[0], k, exposure_width, centres)
    for quantile in (0.2, 0.4, 0.6, 0.8) if collapsed else ():
        for sigma in (0.15, 0.4):
            alternative = start.copy()
            alternative[1] = band.min_nm + quantile * (band.max_nm - band.min_nm)
            alternative[2] = sigma
            alternative[0] = max(start[0], float(np.max(y)) - start[3], 1e-12)
            candidates.append(fit_from(np.clip(alternative, lower, upper)))
    values = [objective(theta)[0] for theta in candidates]
    theta = candidates[int(np.argmin(values))]

    _, _, hessian = objective(theta, hessian=True)
    assert hessian is not None
    se = _standard_errors(hessian)
    fitted = Spectrum(A=float(theta[0]), lambda0_nm=float(theta[1]), sigma=float(theta[2]), C=float(theta[3]))
    y_hat = fitted.flux(centres)
    r2 = _weighted_r2(y, y_hat, y_err)
    dof = band.bins - len(PARAMETER_NAMES)
    deviance = _poisson_deviance(k, exposure_width * y_hat + _MU_EPSILON)
    deviance_per_dof = deviance / dof if dof > 0 else math.nan

    at_bounds = tuple(
        name
        for name, value, lo, hi, s in zip(PARAMETER_NAMES, theta, lower, upper, scale)
        if _on_bound(value, lo, hi, s)
    )
    flat = bool(fitted.sigma > FLAT_SIGMA or fitted.A < FLAT_PEAK_RATIO * fitted.C)
    return SpectrumFit(
        spectrum=fitted,
        se=dict(zip(PARAMETER_NAMES, (float(v) for v in se))),
        r2=r2,
        deviance_per_dof=float(deviance_per_dof),
        at_bounds=at_bounds,
        flat_warning=flat,
        n_events=n_events,
        exposure_s=exposure,
        band=band,
        counts=_frozen(counts),
        flux_density=_frozen(y),
        flux_density_err=_frozen(y_err),
        method=method,
    )


# --------------------------------------------------------------------------- model


def _model(theta: np.ndarray, lam: np.ndarray, *, hessian: bool = False) -> tuple[np.ndarray, ...]:
    """f(λ), its gradient (n, 4) and optionally its Hessian (n, 4, 4) in (A, λ0, σ, C)."""
    a, lam0, sigma, _c = (float(v) for v in theta)
    u = np.log(lam / lam0) / sigma
    g = np.exp(-(u * u))
    f = a * g + theta[3]
    grad = np.empty((lam.size, 4))
    grad[:, 0] = g
    grad[:, 1] = 2.0 * a * u * g / (lam0 * sigma)
    grad[:, 2] = 2.0 * a * u * u * g / sigma
    grad[:, 3] = 1.0
    if not hessian:
        return f, grad
    hess = np.zeros((lam.size, 4, 4))
    d_a_lam0 = 2.0 * u * g / (lam0 * sigma)
    d_a_sigma = 2.0 * u * u * g / sigma
    d_lam0_lam0 = -2.0 * a * g / (sigma * lam0 * lam0) * ((1.0 - 2.0 * u * u) / sigma + u)
    d_lam0_sigma = -4.0 * a * u * g * (1.0 - u * u) / (lam0 * sigma * sigma)
    d_sigma_sigma = -2.0 * a * u * u * g * (3.0 - 2.0 * u * u) / (sigma * sigma)
    hess[:, 0, 1] = hess[:, 1, 0] = d_a_lam0
    hess[:, 0, 2] = hess[:, 2, 0] = d_a_sigma
    hess[:, 1, 1] = d_lam0_lam0
    hess[:, 1, 2] = hess[:, 2, 1] = d_lam0_sigma
    hess[:, 2, 2] = d_sigma_sigma
    return f, grad, hess


def _poisson_objective(
    theta: np.ndarray, k: np.ndarray, exposure_width: np.ndarray, lam: np.ndarray, *, hessian: bool = True
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Half the Poisson deviance Σ[μ − k − k·ln(μ/k)], its gradient and (observed) Hessian.

    This differs from the negative log-likelihood Σ(μ − k·ln μ) by a constant,
    so it has the same optimum, gradient and Hessian; it is ≈ bins/2 at the
    optimum instead of ≈ −N·ln N, which keeps L-BFGS-B's relative ``ftol``
    meaningful for large N.
    """
    f, grad_f, *hess_f = _model(theta, lam, hessian=hessian)
    mu = exposure_width * f + _MU_EPSILON
    grad_mu = grad_f * exposure_width[:, None]
    positive = k > 0
    value = float(np.sum(mu - k) - np.sum(k[positive] * np.log(mu[positive] / k[positive])))
    residual = 1.0 - k / mu
    grad = np.einsum("wi,w->i", grad_mu, residual)
    if not hessian:
        return value, grad, None
    hess_mu = hess_f[0] * exposure_width[:, None, None]
    hess = np.einsum("w,wi,wj->ij", k / (mu * mu), grad_mu, grad_mu) + np.einsum("w,wij->ij", residual, hess_mu)
    return value, grad, hess


def _wls_objective(
    theta: np.ndarray, y: np.ndarray, y_err: np.ndarray, lam: np.ndarray, *, hessian: bool = True
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """½χ² = ½Σ((f(λ_w) − y_w)/σ_w)², its gradient and (full) Hessian."""
    f, grad_f, *hess_f = _model(theta, lam, hessian=hessian)
    r = (f - y) / y_err
    jac = grad_f / y_err[:, None]
    value = 0.5 * float(np.sum(r * r))
    grad = np.einsum("wi,w->i", jac, r)
    if not hessian:
        return value, grad, None
    hess = np.einsum("wi,wj->ij", jac, jac) + np.einsum("w,wij->ij", r / y_err, hess_f[0])
    return value, grad, hess


def _fits_within_noise(theta: np.ndarray, k: np.ndarray, exposure_width: np.ndarray, lam: np.ndarray) -> bool:
    """Poisson deviance ≤ dof + 3·√(2·dof) (dof = bins − 1 for the flat model)."""
    dof = max(k.size - 1, 1)
    mu = exposure_width * _model(theta, lam)[0] + _MU_EPSILON
    return _poisson_deviance(k, mu) <= dof + 3.0 * math.sqrt(2.0 * dof)


def _poisson_deviance(k: np.ndarray, mu: np.ndarray) -> float:
    """2Σ[k·ln(k/μ) − (k − μ)] with 0·ln 0 = 0."""
    positive = k > 0
    log_term = np.zeros_like(mu)
    log_term[positive] = k[positive] * np.log(k[positive] / mu[positive])
    return float(2.0 * np.sum(log_term - (k - mu)))


def _weighted_r2(y: np.ndarray, y_hat: np.ndarray, y_err: np.ndarray) -> float:
    weights = 1.0 / (y_err * y_err)
    y_bar = float(np.sum(weights * y) / np.sum(weights))
    total = float(np.sum(weights * (y - y_bar) ** 2))
    residual = float(np.sum(weights * (y - y_hat) ** 2))
    # Identical y_w leave only rounding noise in the denominator: R² is undefined.
    if not total > 1e-20 * float(np.sum(weights * y * y)):
        return math.nan
    return 1.0 - residual / total


# ------------------------------------------------------------------ optimisation


def _bounds(band: Band) -> tuple[np.ndarray, np.ndarray]:
    lower = np.array([0.0, max(0.9 * band.min_nm, 1e-6), SIGMA_BOUNDS[0], 0.0])
    upper = np.array([math.inf, 1.1 * band.max_nm, SIGMA_BOUNDS[1], math.inf])
    return lower, upper


def _initial_values(
    centres: np.ndarray, k: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, floor_flux: float
) -> np.ndarray:
    """SPEC §12 starting point: √k-weighted median λ, 10th percentile floor, σ = 0.15.

    When more than a tenth of the bins are empty the 10th percentile is 0; the
    floor then starts at ``floor_flux`` (one event over the whole band)
    instead. A start with C = 0 can put counted bins where the peak has
    underflowed, and the log-likelihood there is so steep in C that L-BFGS-B's
    line search fails on its first step. The start does not change the
    estimator, only whether the optimiser reaches it.
    """
    weights = np.sqrt(k)
    cumulative = np.cumsum(weights)
    # Lower weighted median: the first centre where half of the weight is reached.
    lam0 = float(centres[int(np.searchsorted(cumulative, 0.5 * cumulative[-1]))])
    c = float(np.percentile(y, 10))
    y_max = float(np.max(y))
    a = max(y_max - c, 0.25 * y_max)
    c = c if c > 0 else min(floor_flux, 0.01 * y_max)
    return np.clip(np.array([a, lam0, SIGMA_INITIAL, c]), lower, upper)


def _scales(start: np.ndarray, y: np.ndarray, exposure_width: np.ndarray) -> np.ndarray:
    """Typical magnitudes of (A, λ0, σ, C), so the optimiser sees O(1) variables."""
    flux = max(float(np.max(y)), float(np.min(1.0 / exposure_width)))
    return np.array([flux, float(start[1]), 0.1, flux])


def _fit_poisson(
    objective: Objective, start: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    def scaled(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad, _ = objective(z * scale, hessian=False)
        return value, grad * scale

    from scipy.optimize import minimize  # scipy is imported when fitting, so `import lightlane` stays cheap

    bounds = [(lo / s, None if math.isinf(hi) else hi / s) for lo, hi, s in zip(lower, upper, scale)]
    result = minimize(
        scaled,
        start / scale,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-13, "gtol": 1e-10, "maxiter": 5000, "maxfun": 20000, "maxcor": 20},
    )
    return np.clip(np.asarray(result.x) * scale, lower, upper)


def _fit_wls(
    y: np.ndarray,
    y_err: np.ndarray,
    lam: np.ndarray,
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray:
    def residuals(theta: np.ndarray) -> np.ndarray:
        f, _ = _model(theta, lam)
        return (f - y) / y_err

    def jacobian(theta: np.ndarray) -> np.ndarray:
        _, grad_f = _model(theta, lam)
        return grad_f / y_err[:, None]

    from scipy.optimize import least_squares

    # least_squares needs a strictly feasible start.
    inner = lower + 1e-9 * scale
    x0 = np.maximum(start, inner)
    x0 = np.where(np.isfinite(upper), np.minimum(x0, upper - 1e-9 * scale), x0)
    result = least_squares(
        residuals,
        x0,
        jac=jacobian,
        bounds=(lower, upper),
        method="trf",
        x_scale=scale,
        ftol=1e-14,
        xtol=1e-14,
        gtol=1e-14,
        max_nfev=5000,
    )
    return np.clip(np.asarray(result.x), lower, upper)


def _newton_polish(
    objective: Objective, theta: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_steps: int = 25
) -> np.ndarray:
    """Projected Newton steps from a first-order optimum, with backtracking.

    L-BFGS-B stops on relative criteria that leave visible error when the
    parameters are badly scaled; a few Newton steps on the free parameters
    (those not held on a bound by the gradient) converge quadratically. Steps
    that do not lower the objective are never taken, so the result is never
    worse than the input.
    """
    theta = np.clip(np.asarray(theta, dtype=np.float64), lower, upper)
    value, grad, hess = objective(theta, hessian=True)
    assert hess is not None
    for _ in range(max_steps):
        held = ((theta <= lower) & (grad > 0)) | ((theta >= upper) & (grad < 0))
        free = ~held
        if not free.any():
            break
        h_free = hess[np.ix_(free, free)]
        try:
            np.linalg.cholesky(h_free)
            step = -np.linalg.solve(h_free, grad[free])
        except np.linalg.LinAlgError:
            break
        decrement = float(-grad[free] @ step)
        if not (decrement > 1e-15 * max(1.0, abs(value))):
            break
        t = 1.0
        for _ in range(40):
            candidate = theta.copy()
            candidate[free] += t * step
            candidate = np.clip(candidate, lower, upper)
            c_value, c_grad, c_hess = objective(candidate, hessian=True)
            if c_value <= value:
                break
            t *= 0.5
        else:
            break
        if c_value == value and np.array_equal(candidate, theta):
            break
        assert c_hess is not None
        theta, value, grad, hess = candidate, c_value, c_grad, c_hess
    return theta


def _standard_errors(hessian: np.ndarray) -> np.ndarray:
    """√diag(H⁻¹); ``nan`` for parameters in a direction the data do not constrain.

    The Hessian is normalised to unit diagonal first so that parameters of very
    different magnitude do not make it look singular. A parameter with a zero
    (or negative) diagonal, or with weight in an eigenvector of a zero or
    negative eigenvalue, gets ``nan``; the rest use the pseudo-inverse.
    """
    n = hessian.shape[0]
    se = np.full(n, math.nan)
    diag = np.diag(hessian)
    if not np.all(np.isfinite(hessian)):
        return se
    usable = diag > 0
    if not usable.any():
        return se
    idx = np.flatnonzero(usable)
    d = 1.0 / np.sqrt(diag[idx])
    normalised = hessian[np.ix_(idx, idx)] * np.outer(d, d)
    normalised = 0.5 * (normalised + normalised.T)
    eigenvalues, eigenvectors = np.linalg.eigh(normalised)
    good = eigenvalues > _SINGULAR_RTOL * max(float(eigenvalues.max()), 0.0)
    affected = np.zeros(idx.size, dtype=bool)
    if not good.all():
        affected = np.any(np.abs(eigenvectors[:, ~good]) > 1e-6, axis=1)
    inverse = (eigenvectors[:, good] / eigenvalues[good]) @ eigenvectors[:, good].T
    variance = np.diag(inverse) * d * d
    with np.errstate(invalid="ignore"):
        values = np.where(affected | ~(variance > 0), math.nan, np.sqrt(np.abs(variance)))
    se[idx] = values
    return se


def _on_bound(value: float, lo: float, hi: float, scale: float) -> bool:
    tol_lo = _BOUND_RTOL * max(abs(lo), scale)
    tol_hi = _BOUND_RTOL * max(abs(hi), scale) if math.isfinite(hi) else 0.0
    return bool(value - lo <= tol_lo or (math.isfinite(hi) and hi - value <= tol_hi))


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array
