//! Photon synthesis from the lanesheet (SPEC §7.5). Times are MET seconds, wavelengths
//! nm, energies keV, positions in synthetic units U[−1, 1).
//!
//! Work is split into fixed units, each with its own stream: (bin w, window k) with
//! stream (seed, GENERATE, w, k) for lattice bins, and (bin w, GTI g) with stream
//! (seed, GENERATE, w, 2³² + g) for isotropic bins. Within a unit the draws for one
//! photon come in a fixed order: time, wavelength (rejection), x, y, smearing. Units
//! are concatenated in (bin, unit) order and stably sorted by (time, bin), so the output
//! is bit-identical for any thread count.

use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::calibration::{Calibration, HC_KEV_NM};
use crate::crossing::window_pieces;
use crate::error::{CoreError, CoreResult};
use crate::lattice::Lattice;
use crate::path::TelescopePath;
use crate::rng::{domain, stream, uniform};

/// FWHM = 2√(2 ln 2)·σ.
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949_3;
const ISOTROPIC_UNIT_OFFSET: u64 = 1 << 32;

/// f(λ) = A·exp(−(ln(λ/λ0)/σ)²) + C [counts s⁻¹ nm⁻¹].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spectrum {
    pub amplitude: f64,
    pub lambda0_nm: f64,
    pub sigma: f64,
    pub floor: f64,
}

impl Spectrum {
    #[inline]
    pub fn flux(&self, wavelength_nm: f64) -> f64 {
        let z = (wavelength_nm / self.lambda0_nm).ln() / self.sigma;
        self.amplitude * (-z * z).exp() + self.floor
    }
}

/// One wavelength bin of the generation band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinSpec {
    pub lo_nm: f64,
    pub hi_nm: f64,
    /// Lattice spacing g_w at the bin centre.
    pub spacing: f64,
    /// F_w = f(λ_w)·w [counts s⁻¹].
    pub flux_per_s: f64,
    /// Generated as homogeneous Poisson (N̄_w > n_iso).
    pub isotropic: bool,
}

/// The bins of a band from per-bin columns of equal length.
pub fn bin_specs(
    lo_nm: &[f64],
    hi_nm: &[f64],
    spacing: &[f64],
    flux_per_s: &[f64],
    isotropic: &[bool],
) -> CoreResult<Vec<BinSpec>> {
    let n = lo_nm.len();
    if [hi_nm.len(), spacing.len(), flux_per_s.len(), isotropic.len()].iter().any(|&len| len != n) {
        return Err(CoreError::Parameter("bin arrays must have equal lengths".into()));
    }
    Ok(lo_nm
        .iter()
        .zip(hi_nm)
        .zip(spacing)
        .zip(flux_per_s)
        .zip(isotropic)
        .map(|((((&lo_nm, &hi_nm), &spacing), &flux_per_s), &isotropic)| BinSpec {
            lo_nm,
            hi_nm,
            spacing,
            flux_per_s,
            isotropic,
        })
        .collect())
}

/// Gaussian smearing of the photon energy into instrument channels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smearing {
    pub fwhm_kev: f64,
    pub calibration: Calibration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Generation<'a> {
    pub bins: &'a [BinSpec],
    pub spectrum: Spectrum,
    pub receiving_radius: f64,
    pub path: TelescopePath,
    pub tstart_s: f64,
    /// Sorted, disjoint good time intervals [MET s].
    pub gtis: &'a [(f64, f64)],
    pub smearing: Option<Smearing>,
    pub seed: u64,
}

/// Photons in output order; `channel` is empty without smearing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Photons {
    pub time_s: Vec<f64>,
    pub wavelength_nm: Vec<f64>,
    pub energy_kev: Vec<f64>,
    pub channel: Vec<i64>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub bin: Vec<u16>,
    pub lanecount: Vec<i64>,
}

impl Photons {
    fn len(&self) -> usize {
        self.time_s.len()
    }

    fn with_capacity(n: usize, smeared: bool) -> Self {
        Photons {
            time_s: Vec::with_capacity(n),
            wavelength_nm: Vec::with_capacity(n),
            energy_kev: Vec::with_capacity(n),
            channel: Vec::with_capacity(if smeared { n } else { 0 }),
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
            bin: Vec::with_capacity(n),
            lanecount: Vec::with_capacity(n),
        }
    }

    fn append(&mut self, other: &mut Photons) {
        self.time_s.append(&mut other.time_s);
        self.wavelength_nm.append(&mut other.wavelength_nm);
        self.energy_kev.append(&mut other.energy_kev);
        self.channel.append(&mut other.channel);
        self.x.append(&mut other.x);
        self.y.append(&mut other.y);
        self.bin.append(&mut other.bin);
        self.lanecount.append(&mut other.lanecount);
    }
}

/// One unit of work: a window of a lattice bin, or a GTI of an isotropic bin.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Window { bin: usize, window: usize },
    Gti { bin: usize, gti: usize },
}

impl Generation<'_> {
    fn validate(&self) -> CoreResult<()> {
        let s = &self.spectrum;
        let spectrum_ok = s.amplitude >= 0.0 && s.lambda0_nm > 0.0 && s.sigma > 0.0 && s.floor >= 0.0;
        if !spectrum_ok || ![s.amplitude, s.lambda0_nm, s.sigma, s.floor].iter().all(|v| v.is_finite()) {
            return Err(CoreError::Parameter(format!("invalid spectrum {s:?}")));
        }
        if !(self.receiving_radius > 0.0 && self.receiving_radius.is_finite()) {
            return Err(CoreError::Parameter(format!("receiving radius must be > 0, got {}", self.receiving_radius)));
        }
        let mut previous = f64::NEG_INFINITY;
        for &(a, b) in self.gtis {
            if !(a.is_finite() && b.is_finite() && a < b && a >= previous) {
                return Err(CoreError::Parameter("GTIs must be finite, sorted and disjoint".into()));
            }
            previous = b;
        }
        for (w, bin) in self.bins.iter().enumerate() {
            let ok = bin.lo_nm > 0.0 && bin.hi_nm > bin.lo_nm && bin.flux_per_s >= 0.0 && bin.flux_per_s.is_finite();
            if !ok || !(bin.isotropic || (bin.spacing > 0.0 && bin.spacing.is_finite())) {
                return Err(CoreError::Parameter(format!("invalid bin {w}: {bin:?}")));
            }
        }
        if self.bins.len() > usize::from(u16::MAX) {
            return Err(CoreError::Parameter("at most 65 535 wavelength bins".into()));
        }
        if let Some(smearing) = self.smearing {
            if !(smearing.fwhm_kev > 0.0 && smearing.fwhm_kev.is_finite()) {
                return Err(CoreError::Parameter("smearing FWHM must be > 0".into()));
            }
        }
        // The mean lanecount is N̄ on every lattice, so this is the expected photon count; refuse
        // before allocating anything when it cannot fit (a span of 1e308 s overflows to inf).
        let exposure_s: f64 = self.gtis.iter().map(|(a, b)| b - a).sum();
        let expected = self.bins.iter().map(|bin| bin.flux_per_s).sum::<f64>() * exposure_s;
        if !(expected.is_finite() && expected <= f64::from(u32::MAX)) {
            return Err(CoreError::Parameter(format!(
                "the generation would make about {expected:.3e} photons ({exposure_s:.3e} s of GTIs), more than the 2³² of one generation"
            )));
        }
        Ok(())
    }

    /// (f_min, f_max) of f over the bin: f is unimodal, so the maximum is at clamp(λ0, lo, hi)
    /// and the minimum at an edge.
    fn bin_flux_range(&self, bin: usize) -> (f64, f64) {
        let spec = &self.bins[bin];
        let f_max = self.spectrum.flux(self.spectrum.lambda0_nm.clamp(spec.lo_nm, spec.hi_nm));
        let f_min = self.spectrum.flux(spec.lo_nm).min(self.spectrum.flux(spec.hi_nm));
        (f_min.min(f_max), f_max)
    }

    fn units(&self) -> Vec<Unit> {
        let windows = self.path.window_count(self.receiving_radius);
        let mut units = Vec::new();
        for (bin, spec) in self.bins.iter().enumerate() {
            if spec.flux_per_s == 0.0 {
                continue;
            }
            if spec.isotropic {
                units.extend((0..self.gtis.len()).map(|gti| Unit::Gti { bin, gti }));
            } else {
                units.extend((0..windows).map(|window| Unit::Window { bin, window }));
            }
        }
        units
    }

    fn run_unit(&self, unit: Unit) -> CoreResult<Photons> {
        let smeared = self.smearing.is_some();
        let mut out;
        match unit {
            Unit::Window { bin, window } => {
                let spec = &self.bins[bin];
                let lattice = Lattice::new(spec.spacing)?;
                let rate_per_lane = spec.flux_per_s / lattice.mean_lanecount(self.receiving_radius);
                let windows = self.path.window_count(self.receiving_radius);
                let (tau_a, tau_b) = self.path.window(window, windows);
                let pieces = window_pieces(&lattice, &self.path, self.receiving_radius, tau_a, tau_b);
                let mut rng = stream(self.seed, domain::GENERATE, &[bin as u64, window as u64]);
                // Reserve for the expected count (+5σ) so the columns never regrow.
                let expected = spec.flux_per_s * (tau_b - tau_a);
                out = Photons::with_capacity((expected + 5.0 * expected.sqrt() + 16.0) as usize, smeared);
                let mut segments = Vec::new();
                let f_range = self.bin_flux_range(bin);
                for (k, piece) in pieces.iter().enumerate() {
                    if piece.count == 0 {
                        continue;
                    }
                    let start = self.tstart_s + tau_a + piece.start;
                    let stop = self.tstart_s + pieces.get(k + 1).map_or(tau_b, |next| tau_a + next.start);
                    covered_segments(self.gtis, start, stop, &mut segments);
                    let covered: f64 = segments.iter().map(|(a, b)| b - a).sum();
                    let expected = rate_per_lane * f64::from(piece.count) * covered;
                    let n = poisson(&mut rng, expected)?;
                    for _ in 0..n {
                        self.photon(&mut rng, &segments, covered, bin, f_range, i64::from(piece.count), &mut out);
                    }
                }
            }
            Unit::Gti { bin, gti } => {
                let spec = &self.bins[bin];
                let (start, stop) = self.gtis[gti];
                let mut rng = stream(self.seed, domain::GENERATE, &[bin as u64, ISOTROPIC_UNIT_OFFSET + gti as u64]);
                let n = poisson(&mut rng, spec.flux_per_s * (stop - start))?;
                out = Photons::with_capacity(n as usize, smeared);
                let segments = [(start, stop)];
                let f_range = self.bin_flux_range(bin);
                for _ in 0..n {
                    self.photon(&mut rng, &segments, stop - start, bin, f_range, -1, &mut out);
                }
            }
        }
        Ok(out)
    }

    /// Draw one photon: time, wavelength, x, y, then smearing, in that order.
    #[allow(clippy::too_many_arguments)]
    fn photon(
        &self,
        rng: &mut Pcg64Mcg,
        segments: &[(f64, f64)],
        covered: f64,
        bin: usize,
        (f_min, f_max): (f64, f64),
        lanecount: i64,
        out: &mut Photons,
    ) {
        let spec = &self.bins[bin];
        let mut offset = uniform(rng) * covered;
        let mut time = segments.last().map_or(0.0, |s| s.1);
        for &(a, b) in segments {
            if offset < b - a {
                time = a + offset;
                break;
            }
            offset -= b - a;
        }
        let wavelength = loop {
            let proposal = spec.lo_nm + uniform(rng) * (spec.hi_nm - spec.lo_nm);
            let threshold = uniform(rng) * f_max;
            // Squeeze: f ≥ f_min in the bin, so below f_min the answer is known without
            // evaluating f (same decisions, same draws; narrow bins almost never need f).
            if threshold < f_min || threshold < self.spectrum.flux(proposal) {
                break proposal;
            }
        };
        let energy = HC_KEV_NM / wavelength;
        out.time_s.push(time);
        out.wavelength_nm.push(wavelength);
        out.energy_kev.push(energy);
        out.x.push(2.0 * uniform(rng) - 1.0);
        out.y.push(2.0 * uniform(rng) - 1.0);
        if let Some(smearing) = self.smearing {
            let noise: f64 = rng.sample(StandardNormal);
            let smeared = energy + noise * smearing.fwhm_kev / FWHM_PER_SIGMA;
            out.channel.push(smearing.calibration.energy_to_channel(smeared));
        }
        out.bin.push(bin as u16);
        out.lanecount.push(lanecount);
    }
}

/// Means below this are drawn by inversion (one uniform); larger ones by rand_distr.
const SMALL_POISSON_MEAN: f64 = 10.0;

/// n ~ Poisson(mean). Dense lanesheets need tens of millions of draws with tiny means
/// (one per piece), where building a `rand_distr::Poisson` per draw dominated the run
/// time; inversion of the cumulative distribution with a single uniform is exact and
/// cheap there.
fn poisson(rng: &mut Pcg64Mcg, mean: f64) -> CoreResult<u64> {
    if mean <= 0.0 {
        return Ok(0);
    }
    if mean < SMALL_POISSON_MEAN {
        let u = uniform(rng);
        // e^(−μ) > 1 − μ: below that bound n = 0 is certain without evaluating exp, which
        // is the common case for the tiny means of dense lanesheets.
        if u < (1.0 - mean) * (1.0 - 4.0 * f64::EPSILON) {
            return Ok(0);
        }
        let mut n = 0u64;
        let mut term = (-mean).exp();
        let mut cumulative = term;
        while u >= cumulative {
            n += 1;
            term *= mean / n as f64;
            let next = cumulative + term;
            if next == cumulative {
                break; // the remaining tail is below f64 resolution
            }
            cumulative = next;
        }
        return Ok(n);
    }
    let distribution =
        Poisson::new(mean).map_err(|e| CoreError::Parameter(format!("Poisson mean {mean} out of range: {e}")))?;
    Ok(distribution.sample(rng) as u64)
}

/// The parts of [start, stop) covered by the GTIs.
fn covered_segments(gtis: &[(f64, f64)], start: f64, stop: f64, out: &mut Vec<(f64, f64)>) {
    out.clear();
    let first = gtis.partition_point(|g| g.1 <= start);
    for &(a, b) in &gtis[first..] {
        if a >= stop {
            break;
        }
        let (lo, hi) = (a.max(start), b.min(stop));
        if lo < hi {
            out.push((lo, hi));
        }
    }
}

/// Synthesize all photons of a generation, sorted by (time, bin, generation order).
pub fn synthesize(generation: &Generation<'_>) -> CoreResult<Photons> {
    generation.validate()?;
    let units = generation.units();
    let batches: Vec<Photons> = units.par_iter().map(|&unit| generation.run_unit(unit)).collect::<CoreResult<_>>()?;
    let total: usize = batches.iter().map(Photons::len).sum();
    if total > u32::MAX as usize {
        return Err(CoreError::Parameter(format!("{total} photons exceed the 2³² limit of one generation")));
    }
    let mut all = Photons::with_capacity(total, generation.smearing.is_some());
    for mut batch in batches {
        all.append(&mut batch);
    }
    Ok(sorted(all))
}

/// Bits of an f64 that sort like the numbers (negative values included).
fn ordered_bits(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn sorted(photons: Photons) -> Photons {
    // One u128 key per photon: (time, bin, generation index). The index makes keys
    // unique, so an unstable sort gives exactly the stable (time, bin) order.
    let mut keys: Vec<u128> = (0..photons.len())
        .map(|i| (u128::from(ordered_bits(photons.time_s[i])) << 64) | (u128::from(photons.bin[i]) << 32) | i as u128)
        .collect();
    keys.par_sort_unstable();
    let order: Vec<u32> = keys.iter().map(|&key| key as u32).collect();
    let take_f = |values: &[f64]| order.iter().map(|&i| values[i as usize]).collect::<Vec<_>>();
    Photons {
        time_s: take_f(&photons.time_s),
        wavelength_nm: take_f(&photons.wavelength_nm),
        energy_kev: take_f(&photons.energy_kev),
        channel: if photons.channel.is_empty() {
            Vec::new()
        } else {
            order.iter().map(|&i| photons.channel[i as usize]).collect()
        },
        x: take_f(&photons.x),
        y: take_f(&photons.y),
        bin: order.iter().map(|&i| photons.bin[i as usize]).collect(),
        lanecount: order.iter().map(|&i| photons.lanecount[i as usize]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sparse_like(bins: &[BinSpec], gtis: &[(f64, f64)], seed: u64) -> CoreResult<Photons> {
        let path = TelescopePath::new(0.51, 0.0, 0.12, (0.0, 0.0), 5000.0, 0.8)?;
        let generation = Generation {
            bins,
            spectrum: Spectrum { amplitude: 40.0, lambda0_nm: 0.38, sigma: 0.6, floor: 2.0 },
            receiving_radius: 0.8,
            path,
            tstart_s: 100.0,
            gtis,
            smearing: Some(Smearing { fwhm_kev: 0.1, calibration: Calibration::ChandraAcis }),
            seed,
        };
        synthesize(&generation)
    }

    fn bins() -> Vec<BinSpec> {
        (0..10)
            .map(|w| {
                let lo = 0.1 + 0.09 * w as f64;
                BinSpec {
                    lo_nm: lo,
                    hi_nm: lo + 0.09,
                    spacing: 5.0 * (-2.0 * (lo + 0.045)).exp(),
                    flux_per_s: 1.0,
                    isotropic: w == 9,
                }
            })
            .collect()
    }

    #[test]
    fn photons_respect_gtis_bins_and_order() {
        let gtis = [(100.0, 2000.0), (2500.0, 5100.0)];
        let out = sparse_like(&bins(), &gtis, 7).unwrap();
        assert!(out.time_s.len() > 1000);
        assert!(out.time_s.windows(2).all(|w| w[0] <= w[1]));
        for i in 0..out.time_s.len() {
            let t = out.time_s[i];
            assert!(gtis.iter().any(|g| g.0 <= t && t < g.1), "time {t} outside GTIs");
            let spec = bins()[usize::from(out.bin[i])];
            assert!(spec.lo_nm <= out.wavelength_nm[i] && out.wavelength_nm[i] < spec.hi_nm);
            assert_eq!(out.lanecount[i] == -1, spec.isotropic);
            assert!(out.lanecount[i] != 0, "no photon from an empty disc");
            assert!((-1.0..1.0).contains(&out.x[i]) && (-1.0..1.0).contains(&out.y[i]));
            assert!((1..=1024).contains(&out.channel[i]));
        }
    }

    #[test]
    fn zero_flux_bins_emit_nothing_and_seeds_matter() {
        let mut specs = bins();
        specs.iter_mut().for_each(|b| b.flux_per_s = 0.0);
        assert_eq!(sparse_like(&specs, &[(100.0, 5100.0)], 1).unwrap().time_s.len(), 0);
        let a = sparse_like(&bins(), &[(100.0, 5100.0)], 1).unwrap();
        let b = sparse_like(&bins(), &[(100.0, 5100.0)], 2).unwrap();
        assert_ne!(a.time_s, b.time_s);
    }

    #[test]
    fn small_mean_poisson_matches_its_distribution() {
        // χ² of 200 000 draws against the pmf, for means on both sides of the switch.
        for mean in [0.003f64, 0.7, 4.0, 9.5, 10.5, 30.0] {
            let mut rng = stream(5, domain::GENERATE, &[mean.to_bits()]);
            let n = 200_000;
            let mut counts = vec![0u64; 200];
            for _ in 0..n {
                let k = poisson(&mut rng, mean).unwrap() as usize;
                counts[k.min(199)] += 1;
            }
            let mut pmf = (-mean).exp();
            let (mut chi2, mut cells) = (0.0, 0);
            for (k, &observed) in counts.iter().enumerate().take(150) {
                if k > 0 {
                    pmf *= mean / k as f64;
                }
                let expected = pmf * n as f64;
                if expected >= 20.0 {
                    chi2 += (observed as f64 - expected).powi(2) / expected;
                    cells += 1;
                }
            }
            // mean of χ²_ν is ν with sd √(2ν): allow 5 sd
            let dof = (cells as f64 - 1.0).max(1.0);
            assert!(chi2 < dof + 5.0 * (2.0 * dof).sqrt() + 5.0, "mean {mean}: χ² {chi2} on {dof} dof");
            let average = counts.iter().enumerate().map(|(k, &c)| k as f64 * c as f64).sum::<f64>() / n as f64;
            assert!((average - mean).abs() < 5.0 * (mean / n as f64).sqrt(), "mean {mean}: average {average}");
        }
    }

    #[test]
    fn bin_specs_zip_equal_columns() {
        let expected = bins();
        let column = |f: fn(&BinSpec) -> f64| expected.iter().map(f).collect::<Vec<f64>>();
        let (lo, hi, g, flux) =
            (column(|b| b.lo_nm), column(|b| b.hi_nm), column(|b| b.spacing), column(|b| b.flux_per_s));
        let iso: Vec<bool> = expected.iter().map(|b| b.isotropic).collect();
        assert_eq!(bin_specs(&lo, &hi, &g, &flux, &iso).unwrap(), expected);
        assert!(bin_specs(&lo, &hi[1..], &g, &flux, &iso).is_err());
        assert!(bin_specs(&lo, &hi, &g, &flux, &iso[1..]).is_err());
    }

    #[test]
    fn invalid_inputs_are_errors_not_panics() {
        let mut specs = bins();
        specs[0].spacing = -1.0;
        assert!(sparse_like(&specs, &[(100.0, 5100.0)], 1).is_err());
        assert!(sparse_like(&bins(), &[(200.0, 100.0)], 1).is_err());
        assert!(sparse_like(&bins(), &[(100.0, 300.0), (200.0, 400.0)], 1).is_err());
    }
}
