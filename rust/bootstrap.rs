//! Exact (ideal) bootstrap of Δ_mean and Δ_med (SPEC §11.3 rev 2).
//!
//! The ideal bootstrap resamples A (size m) and B (size n) independently with replacement,
//! infinitely often. Its distributions are computed here without a single random draw, so
//! the output depends on the values only (not on a seed, the thread count or the order of
//! the values). Units are those of the values.
//!
//! **Median.** Resampling indices uniformly is resampling the ranks 1..n of the sorted
//! sample; ties only make some ranks share a value, so the order statistics of a resample
//! are those of a tie-free sample mapped through the (monotone) rank → value map. With
//! N_c = #{draws of rank ≤ c} ~ Bin(n, c/n) and r the 1-based rank of the (lower) middle:
//! * P(X*₍ᵣ₎ ≤ x₍c₎) = P(N_c ≥ r) = I_{c/n}(r, n − r + 1), the binomial tail; a block of
//!   equal values with ranks c₀+1..c₁ gets W = I_{c₁/n} − I_{c₀/n}. The increments are
//!   integrals of the Beta(r, n − r + 1) density t^{r−1}(1 − t)^{n−r} over [(k−1)/n, k/n],
//!   evaluated with Gauss–Legendre on each rank interval (8 points up to n = 256: exact for
//!   n ≤ 16, where the density is a polynomial of degree < 16; 4 points beyond, where an
//!   interval is ≤ 1/8 standard deviation wide; below 10⁻¹³ relative throughout), in log space
//!   relative to the mode so n = 10⁵ neither overflows nor cancels, and normalised over a
//!   window of ±(5√n + 8) ranks around r (≥ 10 standard deviations: the mass outside is
//!   < 10⁻²²). Odd n: the median is X*₍ᵣ₎, r = (n + 1)/2, with mass W on each value.
//! * Even n: the median is (X*₍ᵣ₎ + X*₍ᵣ₊₁₎)/2, r = n/2. For values u < u′ (ranks c₀+1..c₁
//!   and c₀′+1..c₁′) the event {X*₍ᵣ₎ = u, X*₍ᵣ₊₁₎ = u′} says that exactly r draws are ≤ u, at
//!   least one of them = u, none lies strictly between u and u′ and at least one of the
//!   other n − r is u′; inclusion–exclusion over the multinomial gives the exact product
//!   C(n, r)·((c₁/n)^r − (c₀/n)^r)·(((n−c₀′)/n)^{n−r} − ((n−c₁′)/n)^{n−r}).
//!   Summing it over u′ > u telescopes to C(n, r)·((c₁/n)^r − (c₀/n)^r)·((n−c₁)/n)^{n−r},
//!   so P(X*₍ᵣ₎ = X*₍ᵣ₊₁₎ = u) = W(u) minus that sum. The support is the set of pairwise
//!   means of values, equal means merged. The products are taken in log space around
//!   p = 1/2 (ln1p, expm1) with ln(C(2r, r)/4^r) from Stirling's series, so every term is
//!   accurate to ~10⁻¹⁴ relative. Pairs are enumerated outwards from the diagonal and
//!   stopped by a rigorous bound (the second factor is ≤ ((n−c₀′)/n)^{n−r}, decreasing in u′).
//! * Atoms of mass ≤ 10⁻¹⁵ (SPEC: "evaluated only where the mass exceeds 10⁻¹⁵") are
//!   dropped; what is dropped sums to < 10⁻¹¹ (tested up to n = 10⁵), and is not renormalised.
//!
//! Δ_med = median(A*) − median(B*) is the difference of two independent discrete
//! distributions. Its value at a pair of atoms is the rounded f64 difference a − b, which
//! is monotone in both, so P(Δ ≤ t) is one merge-like pass over the two sorted supports.
//! The percentile at probability p is the **lower quantile** inf{t : P(Δ ≤ t) ≥ p}, found
//! among the atoms of Δ by a bracketing search (normal-score interpolation, safeguarded by
//! bisection) that ends, once the bracket holds at most 2¹⁷ atoms, by collecting them and
//! selecting the one where the cumulative mass reaches p. It is what `numpy.quantile` of R
//! Monte-Carlo resamples converges to as R → ∞ whenever P(Δ ≤ t) = p holds at no atom.
//! P is summed in a fixed order, so it is exact up to rounding (~10⁻¹⁶ relative).
//!
//! **Mean.** mean(X*) has cumulants κ₁ = x̄, κ₂ = m₂/n, κ₃ = m₃/n², κ₄ = (m₄ − 3m₂²)/n³, with
//! the plug-in (1/n) central moments m_k of the sample (the ideal bootstrap resamples the
//! empirical distribution itself). Δ_mean's cumulants are κ_k(A) + (−1)^k κ_k(B). Its
//! percentile is the Cornish–Fisher expansion with skewness γ₁ = κ₃/κ₂^{3/2} and excess
//! kurtosis γ₂ = κ₄/κ₂²: x_p = κ₁ + √κ₂·(z + (z² − 1)γ₁/6 + (z³ − 3z)γ₂/24 − (2z³ − 5z)γ₁²/36),
//! z = Φ⁻¹(p), kept inside the support [min A − max B, max A − min B].
//!
//! Cost: two O(n) selections per sample (only the 2–4·(5√n + 8) middle ranks are sorted),
//! one pass for the moments, O(√n) Beta-density evaluations, O(√n) (odd) or
//! O(√n·ln(1/10⁻¹⁵)) (even) atoms, and about four merge passes per percentile (the normal
//! guess, a Newton step, and one pass probing the secant's bracket while collecting its
//! atoms). [`bootstrap_quantiles_per_metric`] spreads the metrics over rayon, and each metric
//! joins its two samples and its two percentiles; every number comes from one fixed sequence
//! of operations whichever thread runs it, so the output is identical for any thread count.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// Atoms of the median distribution at or below this mass are dropped (SPEC §11.3).
pub const MASS_FLOOR: f64 = 1e-15;

/// A discrete distribution: ascending distinct values and their masses.
#[derive(Debug, Clone, PartialEq)]
pub struct Atoms {
    pub values: Vec<f64>,
    pub masses: Vec<f64>,
}

/// Exact bootstrap percentiles of Δ_mean and Δ_med at the requested probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapQuantiles {
    pub mean: Vec<f64>,
    pub median: Vec<f64>,
}

/// The bootstrap distribution of the median of one sample (odd n: the middle order
/// statistic; even n: the mean of the two middle ones), atoms of mass ≤ [`MASS_FLOOR`] dropped.
///
/// Errors when `values` is empty or holds a non-finite value.
pub fn median_distribution(values: &[f64]) -> CoreResult<Atoms> {
    check_sample(values, "the sample")?;
    Ok(median_atoms(values, MASS_FLOOR))
}

/// Exact bootstrap percentiles of mean(A*) − mean(B*) and median(A*) − median(B*).
///
/// Errors when A or B is empty or holds a non-finite value, or a probability is outside (0, 1).
pub fn bootstrap_quantiles(a: &[f64], b: &[f64], probabilities: &[f64]) -> CoreResult<BootstrapQuantiles> {
    check_probabilities(probabilities)?;
    check_sample(a, "A")?;
    check_sample(b, "B")?;
    let (sample_a, sample_b) = rayon::join(|| Prepared::new(a), || Prepared::new(b));
    Ok(BootstrapQuantiles {
        mean: probabilities.iter().map(|&p| mean_quantile(&sample_a.moments, &sample_b.moments, p)).collect(),
        median: median_difference_quantiles(&sample_a.median, &sample_b.median, probabilities),
    })
}

/// [`bootstrap_quantiles`] for several metrics' (A, B) pairs, in parallel over metrics.
///
/// The first failing metric's error (in metric order) is returned.
pub fn bootstrap_quantiles_per_metric(
    samples: &[(&[f64], &[f64])],
    probabilities: &[f64],
) -> CoreResult<Vec<BootstrapQuantiles>> {
    check_probabilities(probabilities)?;
    let results: Vec<CoreResult<BootstrapQuantiles>> =
        samples.par_iter().map(|(a, b)| bootstrap_quantiles(a, b, probabilities)).collect();
    results.into_iter().collect()
}

fn check_sample(values: &[f64], what: &str) -> CoreResult<()> {
    if values.is_empty() {
        return Err(CoreError::Data(format!("bootstrap needs at least one value in {what}")));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::Data(format!("bootstrap values of {what} must be finite")));
    }
    Ok(())
}

fn check_probabilities(probabilities: &[f64]) -> CoreResult<()> {
    match probabilities.iter().find(|p| !(**p > 0.0 && **p < 1.0)) {
        Some(p) => Err(CoreError::Parameter(format!("bootstrap probabilities must lie in (0, 1), got {p}"))),
        None => Ok(()),
    }
}

/// One sample's moments and median distribution.
struct Prepared {
    moments: Moments,
    median: Atoms,
}

impl Prepared {
    fn new(values: &[f64]) -> Self {
        Prepared { moments: Moments::new(values), median: median_atoms(values, MASS_FLOOR) }
    }
}

// ------------------------------------------------------------------------------------- mean

/// Plug-in (1/n) central moments, from two passes in index order.
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
    min: f64,
    max: f64,
}

impl Moments {
    fn new(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &x in values {
            let d = x - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
            min = min.min(x);
            max = max.max(x);
        }
        Moments { n, mean, m2: m2 / n, m3: m3 / n, m4: m4 / n, min, max }
    }

    /// The first four cumulants of mean(X*), the mean of n draws from the sample.
    fn mean_cumulants(&self) -> [f64; 4] {
        let n = self.n;
        [self.mean, self.m2 / n, self.m3 / (n * n), (self.m4 - 3.0 * self.m2 * self.m2) / (n * n * n)]
    }
}

/// Cornish–Fisher percentile of mean(A*) − mean(B*) at probability p.
fn mean_quantile(a: &Moments, b: &Moments, p: f64) -> f64 {
    let (ka, kb) = (a.mean_cumulants(), b.mean_cumulants());
    let (k1, k2, k3, k4) = (ka[0] - kb[0], ka[1] + kb[1], ka[2] - kb[2], ka[3] + kb[3]);
    let (low, high) = (a.min - b.max, a.max - b.min);
    if k2.is_nan() || k2 <= 0.0 {
        return k1 + 0.0;
    }
    let (g1, g2) = (k3 / k2.powf(1.5), k4 / (k2 * k2));
    let z = normal_quantile(p);
    let (z2, z3) = (z * z, z * z * z);
    let w = z + (z2 - 1.0) * g1 / 6.0 + (z3 - 3.0 * z) * g2 / 24.0 - (2.0 * z3 - 5.0 * z) * g1 * g1 / 36.0;
    // the ideal bootstrap never leaves [min A − max B, max A − min B]; a truncated expansion may
    (k1 + k2.sqrt() * w).max(low).min(high) + 0.0
}

// ----------------------------------------------------------------------------------- median

/// Runs of equal values (by `total_cmp`) among a window of the sorted sample, with their
/// exact rank ranges: value `values[u]` has ranks `below[u] + 1 ..= upto[u]` (1-based).
struct Blocks {
    values: Vec<f64>,
    below: Vec<usize>,
    upto: Vec<usize>,
}

impl Blocks {
    /// The blocks of the order statistics of ranks `first..=last` (1-based, 1 ≤ first ≤ last ≤ n).
    /// Selects twice and sorts only the window; edge blocks count their ties outside it.
    fn new(values: &[f64], first: usize, last: usize) -> Self {
        let n = values.len();
        let (lo, hi) = (first - 1, last - 1);
        let mut sorted = values.to_vec();
        if lo > 0 {
            sorted.select_nth_unstable_by(lo, f64::total_cmp);
        }
        if hi + 1 < n {
            sorted[lo..].select_nth_unstable_by(hi - lo, f64::total_cmp);
        }
        sorted[lo..=hi].sort_unstable_by(f64::total_cmp);
        let same = |x: f64, y: f64| x.total_cmp(&y).is_eq();
        let ties_below = sorted[..lo].iter().filter(|&&x| same(x, sorted[lo])).count();
        let ties_above = sorted[hi + 1..].iter().filter(|&&x| same(x, sorted[hi])).count();
        let mut blocks = Blocks { values: Vec::new(), below: Vec::new(), upto: Vec::new() };
        let mut i = lo;
        while i <= hi {
            let value = sorted[i];
            let mut j = i + 1;
            while j <= hi && same(sorted[j], value) {
                j += 1;
            }
            blocks.values.push(value);
            blocks.below.push(if i == lo { lo - ties_below } else { i });
            blocks.upto.push(if j > hi { j + ties_above } else { j });
            i = j;
        }
        blocks
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

/// Gauss–Legendre nodes and weights on [0, 1], 8 points (exact for polynomials of degree < 16).
const GAUSS_LEGENDRE_8: [(f64, f64); 8] = {
    const X: [f64; 4] =
        [0.183_434_642_495_649_8, 0.525_532_409_916_329, 0.796_666_477_413_626_7, 0.960_289_856_497_536_3];
    const W: [f64; 4] =
        [0.362_683_783_378_362, 0.313_706_645_877_887_3, 0.222_381_034_453_374_5, 0.101_228_536_290_376_3];
    [
        ((1.0 - X[3]) / 2.0, W[3] / 2.0),
        ((1.0 - X[2]) / 2.0, W[2] / 2.0),
        ((1.0 - X[1]) / 2.0, W[1] / 2.0),
        ((1.0 - X[0]) / 2.0, W[0] / 2.0),
        ((1.0 + X[0]) / 2.0, W[0] / 2.0),
        ((1.0 + X[1]) / 2.0, W[1] / 2.0),
        ((1.0 + X[2]) / 2.0, W[2] / 2.0),
        ((1.0 + X[3]) / 2.0, W[3] / 2.0),
    ]
};

/// Gauss–Legendre nodes and weights on [0, 1], 4 points. Beyond n = 256 a rank interval is
/// at most 1/8 of the density's standard deviation, where the 4-point rule's relative error
/// is below 10⁻¹⁴.
const GAUSS_LEGENDRE_4: [(f64, f64); 4] = {
    const X: [f64; 2] = [0.339_981_043_584_856_3, 0.861_136_311_594_052_6];
    const W: [f64; 2] = [0.652_145_154_862_546_1, 0.347_854_845_137_453_9];
    [
        ((1.0 - X[1]) / 2.0, W[1] / 2.0),
        ((1.0 - X[0]) / 2.0, W[0] / 2.0),
        ((1.0 + X[0]) / 2.0, W[0] / 2.0),
        ((1.0 + X[1]) / 2.0, W[1] / 2.0),
    ]
};

/// Half-width in ranks of the window where the middle order statistics carry mass: their
/// rank deviates from r by about √n/2, so this is ≥ 10 standard deviations.
fn half_window(n: usize) -> usize {
    5 * (n as f64).sqrt().ceil() as usize + 8
}

/// w_k = P(X*₍ᵣ₎ = x₍ₖ₎) of a tie-free sample of size n ≥ 2 for k in `first..=last`
/// (1-based), normalised over that window: integrals of the Beta(r, n − r + 1) density over
/// [(k − 1)/n, k/n], relative to its value at the mode t₀ = (r − 1)/(n − 1).
fn order_statistic_weights(n: usize, r: usize, first: usize, last: usize) -> Vec<f64> {
    // t − t₀ = (k − r + ξ − c)/n with c = (r − 1)/(n − 1), kept exact in its integer part;
    // n·t₀ = (r − 1) + c and n·(1 − t₀) = (n − r) + (n − r)/(n − 1)
    let (lower, upper) = ((r - 1) as f64, (n - r) as f64);
    let c = lower / (n - 1) as f64;
    let (scale_lower, scale_upper) = (lower + c, upper + upper / (n - 1) as f64);
    let log_density = |shift: f64| {
        let mut value = 0.0;
        if r > 1 {
            value += lower * (shift / scale_lower).ln_1p();
        }
        if n > r {
            value += upper * (-shift / scale_upper).ln_1p();
        }
        value
    };
    let rule: &[(f64, f64)] = if n <= 256 { &GAUSS_LEGENDRE_8 } else { &GAUSS_LEGENDRE_4 };
    let mut weights: Vec<f64> = (first..=last)
        .map(|k| {
            let offset = k as f64 - r as f64 - c;
            rule.iter().map(|&(xi, w)| w * log_density(offset + xi).exp()).sum()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    weights
}

/// The median distribution with atoms of mass ≤ `floor` dropped; `values` finite, non-empty.
fn median_atoms(values: &[f64], floor: f64) -> Atoms {
    let n = values.len();
    let h = half_window(n);
    // the (lower) middle rank; even n also needs the blocks above the window that pair with it
    let r = if n % 2 == 0 { n / 2 } else { n.div_ceil(2) };
    let (first, last) = (r.saturating_sub(h).max(1), (r + if n % 2 == 0 { 3 * h } else { h }).min(n));
    if let Some(atoms) = median_atoms_in(values, r, first, last, floor) {
        return atoms;
    }
    median_atoms_in(values, r, 1, n, floor).unwrap_or_else(|| Atoms { values: Vec::new(), masses: Vec::new() })
}

/// [`median_atoms`] from the sorted window of ranks `first..=last`; None when the window
/// turns out too narrow to bound the dropped mass (never for the full window 1..=n).
fn median_atoms_in(values: &[f64], r: usize, first: usize, last: usize, floor: f64) -> Option<Atoms> {
    let n = values.len();
    let blocks = Blocks::new(values, first, last);
    if n == 1 {
        return Some(Atoms { values: vec![blocks.values[0] + 0.0], masses: vec![1.0] });
    }
    // weights of the ranks within ±h of r, summed per block
    let h = half_window(n);
    let (w_first, w_last) = (r.saturating_sub(h).max(first), (r + h).min(last));
    let weights = order_statistic_weights(n, r, w_first, w_last);
    let block_mass: Vec<f64> = (0..blocks.len())
        .map(|u| {
            let (from, to) = ((blocks.below[u] + 1).max(w_first), blocks.upto[u].min(w_last));
            if from > to {
                0.0
            } else {
                weights[from - w_first..=to - w_first].iter().sum()
            }
        })
        .collect();
    let mut atoms: Vec<(f64, f64)> = Vec::new();
    if n % 2 == 1 {
        atoms.extend(blocks.values.iter().zip(&block_mass).map(|(&v, &m)| (v, m)));
    } else if !middle_pairs(n, &blocks, &block_mass, floor, &mut atoms) {
        return None;
    }
    Some(merge_atoms(atoms, floor))
}

/// ln(C(2r, r)/4^r) = −½·ln(πr) + stirlerr(2r) − 2·stirlerr(r), r ≥ 1.
fn ln_central_binomial(r: usize) -> f64 {
    -0.5 * (std::f64::consts::PI * r as f64).ln() + stirling_error(2 * r) - 2.0 * stirling_error(r)
}

/// stirlerr(k) = ln k! − (k + ½)·ln k + k − ½·ln 2π, k ≥ 1: a table (40-digit values) for
/// k < 16, Stirling's series beyond (first omitted term < 10⁻¹⁶ at k = 16).
fn stirling_error(k: usize) -> f64 {
    const TABLE: [f64; 15] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_3,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_093,
        0.016_644_691_189_821_193,
        0.013_876_128_823_070_748,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_096,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
        0.007_573_675_487_951_841,
        0.006_942_840_107_209_53,
        0.006_408_994_188_004_207,
        0.005_951_370_112_758_847_5,
        0.005_554_733_551_962_801,
    ];
    if let Some(&value) = k.checked_sub(1).and_then(|i| TABLE.get(i)) {
        return value;
    }
    let x = k as f64;
    let y = 1.0 / (x * x);
    (1.0 / 12.0 - y * (1.0 / 360.0 - y * (1.0 / 1260.0 - y * (1.0 / 1680.0 - y / 1188.0)))) / x
}

/// Even n, r = n/2: the atoms (mean of the two middle values, mass) of every pair of blocks
/// u ≤ u′ whose mass exceeds `floor`. False when the sorted window ends before the bound
/// does (the caller widens it).
fn middle_pairs(n: usize, blocks: &Blocks, block_mass: &[f64], floor: f64, atoms: &mut Vec<(f64, f64)>) -> bool {
    let r = n / 2;
    let (rf, nf) = (r as f64, n as f64);
    let ln_k = ln_central_binomial(r); // ln C(n, r) + n·ln ½, the ½ of every power factored out
    let ln_floor = floor.ln();
    // ln(2^r·P(N_{c₁} ≥ … ) differences) = ln(2^r((c₁/n)^r − (c₀/n)^r))
    let lower_factor = |c0: usize, c1: usize| {
        let head = rf * ((2.0 * c1 as f64 - nf) / nf).ln_1p();
        head + (-(rf * (-((c1 - c0) as f64) / c1 as f64).ln_1p()).exp_m1()).ln()
    };
    // ln(2^r·((n − c)/n)^r), the bound on the upper factor of every block above rank c
    let upper_bound = |c: usize| rf * ((nf - 2.0 * c as f64) / nf).ln_1p();
    let upper_factor: Vec<f64> = (0..blocks.len())
        .map(|u| {
            let (c0, c1) = (blocks.below[u], blocks.upto[u]);
            upper_bound(c0) + (-(rf * (-((c1 - c0) as f64) / (n - c0) as f64).ln_1p()).exp_m1()).ln()
        })
        .collect();
    let upper_start: Vec<f64> = blocks.below.iter().map(|&c| upper_bound(c)).collect();
    let last_upto = blocks.upto[blocks.len() - 1];
    // diagonal first, then pairs at growing block distance: each distance is an ascending
    // run of means, which the stable sort in `merge_atoms` merges cheaply
    let lower: Vec<f64> = (0..blocks.len()).map(|u| ln_k + lower_factor(blocks.below[u], blocks.upto[u])).collect();
    for u in 0..blocks.len() {
        let diagonal = block_mass[u] - (lower[u] + upper_bound(blocks.upto[u])).exp();
        if diagonal > floor {
            atoms.push((blocks.values[u], diagonal));
        }
    }
    let mut active: Vec<usize> = (0..blocks.len()).collect();
    let mut distance = 1;
    while !active.is_empty() {
        active.retain(|&u| {
            let v = u + distance;
            if v >= blocks.len() {
                // pairs with blocks beyond the window: bounded by the first rank above it
                return last_upto < n && lower[u] + upper_bound(last_upto) > ln_floor;
            }
            if lower[u] + upper_start[v] <= ln_floor {
                return false;
            }
            let ln_mass = lower[u] + upper_factor[v];
            if ln_mass > ln_floor {
                atoms.push((0.5 * (blocks.values[u] + blocks.values[v]), ln_mass.exp()));
            }
            true
        });
        if active.iter().any(|&u| u + distance >= blocks.len()) {
            return false;
        }
        distance += 1;
    }
    true
}

/// Sorts (value, mass) atoms, merges equal values (−0 and +0 alike) and drops masses ≤ `floor`.
fn merge_atoms(mut atoms: Vec<(f64, f64)>, floor: f64) -> Atoms {
    // by the integer image of `total_cmp`'s order: faster to compare, and the stable sort
    // merges the ascending runs `middle_pairs` writes
    let key = |x: f64| {
        let bits = x.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | 1 << 63
        }
    };
    atoms.sort_by_key(|atom| key(atom.0));
    let mut merged = Atoms { values: Vec::with_capacity(atoms.len()), masses: Vec::with_capacity(atoms.len()) };
    let mut i = 0;
    while i < atoms.len() {
        let (value, mut mass) = atoms[i];
        let mut j = i + 1;
        while j < atoms.len() && atoms[j].0 == value {
            mass += atoms[j].1;
            j += 1;
        }
        if mass > floor {
            merged.values.push(value + 0.0);
            merged.masses.push(mass);
        }
        i = j;
    }
    merged
}

// ---------------------------------------------------------------------- Δ_med percentiles

/// Atoms of B in ascending order between sentinels −∞ and +∞, with their upper tail
/// masses, so that P(Δ ≤ t) for Δ = a − b (rounded; monotone in a and in b) is one merge
/// pass over the two sorted supports.
struct DifferenceCdf<'a> {
    a: &'a Atoms,
    /// −∞, the values of B, +∞.
    b: Vec<f64>,
    /// The masses of B aligned with `b` (0 at the sentinels).
    b_mass: Vec<f64>,
    /// tail[j] = Σ_{k ≥ j} b_mass[k].
    tail: Vec<f64>,
}

/// P(Δ ≤ t) with the largest atom of Δ that is ≤ t (−∞ if none) and the smallest > t (+∞ if none).
#[derive(Debug, Clone, Copy)]
struct Point {
    t: f64,
    cdf: f64,
    below: f64,
    above: f64,
}

/// Largest number of atoms of Δ collected to finish a search by selection.
const SELECT_LIMIT: usize = 1 << 17;

/// Bracketing steps after which a search returns hi regardless (halving alone takes fewer
/// than 2100 between any two finite values; a non-finite Δ, from values near ±1.8·10³⁰⁸,
/// could otherwise stall it).
const MAX_STEPS: usize = 6400;

impl<'a> DifferenceCdf<'a> {
    fn new(a: &'a Atoms, b: &Atoms) -> Self {
        let len = b.values.len() + 2;
        let mut values = Vec::with_capacity(len);
        values.push(f64::NEG_INFINITY);
        values.extend_from_slice(&b.values);
        values.push(f64::INFINITY);
        let mut b_mass = Vec::with_capacity(len);
        b_mass.push(0.0);
        b_mass.extend_from_slice(&b.masses);
        b_mass.push(0.0);
        let mut tail = vec![0.0; len + 1];
        for j in (0..len).rev() {
            tail[j] = tail[j + 1] + b_mass[j];
        }
        DifferenceCdf { a, b: values, b_mass, tail }
    }

    fn total(&self) -> f64 {
        self.a.masses.iter().sum::<f64>() * self.tail[0]
    }

    /// The smallest and the largest atom of Δ.
    fn range(&self) -> (f64, f64) {
        let (a, b) = (&self.a.values, &self.b);
        (a[0] - b[b.len() - 2], a[a.len() - 1] - b[1])
    }

    fn eval(&self, t: f64) -> Point {
        let (b, tail) = (&self.b[..], &self.tail[..]);
        let (mut cdf, mut below, mut above) = (0.0, f64::NEG_INFINITY, f64::INFINITY);
        let mut j = 1;
        for (&a, &mass) in self.a.values.iter().zip(&self.a.masses) {
            j = advance(b, j, a, t);
            cdf += mass * tail[j];
            let (d_below, d_above) = (a - b[j], a - b[j - 1]);
            if d_below > below {
                below = d_below;
            }
            if d_above < above {
                above = d_above;
            }
        }
        Point { t, cdf, below, above }
    }

    /// [`Self::eval`] at t1 ≤ t2 in one pass, and the atoms of Δ in (t1, t2] (unordered)
    /// unless there are more than [`SELECT_LIMIT`].
    fn probe(&self, t1: f64, t2: f64) -> (Point, Point, Option<Vec<(f64, f64)>>) {
        let (b, tail) = (&self.b[..], &self.tail[..]);
        let (mut cdf1, mut below1, mut above1) = (0.0, f64::NEG_INFINITY, f64::INFINITY);
        let (mut cdf2, mut below2, mut above2) = (0.0, f64::NEG_INFINITY, f64::INFINITY);
        let mut atoms = Some(Vec::new());
        let (mut j1, mut j2) = (1, 1); // j2 ≤ j1: more of B lies within t2
        for (&a, &mass) in self.a.values.iter().zip(&self.a.masses) {
            j2 = advance(b, j2, a, t2);
            j1 = advance(b, j1.max(j2), a, t1);
            cdf1 += mass * tail[j1];
            cdf2 += mass * tail[j2];
            let (d_below1, d_above1, d_below2, d_above2) = (a - b[j1], a - b[j1 - 1], a - b[j2], a - b[j2 - 1]);
            if d_below1 > below1 {
                below1 = d_below1;
            }
            if d_above1 < above1 {
                above1 = d_above1;
            }
            if d_below2 > below2 {
                below2 = d_below2;
            }
            if d_above2 < above2 {
                above2 = d_above2;
            }
            if j1 > j2 {
                if let Some(list) = atoms.as_mut() {
                    if list.len() + (j1 - j2) > SELECT_LIMIT {
                        atoms = None;
                    } else {
                        list.extend(b[j2..j1].iter().zip(&self.b_mass[j2..j1]).map(|(&b, &m)| (a - b, mass * m)));
                    }
                }
            }
        }
        let low = Point { t: t1, cdf: cdf1, below: below1, above: above1 };
        (low, Point { t: t2, cdf: cdf2, below: below2, above: above2 }, atoms)
    }
}

/// The first index j′ ≥ j with a − b[j′] ≤ t; the +∞ sentinel ending `b` always qualifies.
#[inline]
fn advance(b: &[f64], mut j: usize, a: f64, t: f64) -> usize {
    let last = b.len() - 1;
    // j mostly moves by 0 or 1 from one atom of A to the next: that step is taken without a
    // branch (a mispredicted one costs more than the comparison), and the loop rarely runs
    j += usize::from((j < last) & (a - b[j] > t));
    while j < last && a - b[j] > t {
        j += 1;
    }
    j
}

/// The smallest value v with Σ_{atoms ≤ v} mass ≥ target (equal values, −0 and +0 alike,
/// counted together); None when the atoms fall short. One pass spreads the atoms over
/// buckets of equal width in value (a monotone map, so equal values share a bucket); only
/// the bucket where the cumulative mass reaches the target is sorted.
fn weighted_lower_quantile(atoms: Vec<(f64, f64)>, target: f64) -> Option<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(value, _) in &atoms {
        low = low.min(value);
        high = high.max(value);
    }
    let buckets = (atoms.len() / 16).clamp(1, 1 << 14);
    let scale = buckets as f64 / (high - low);
    let bucket = |value: f64| {
        let x = (value - low) * scale;
        // NaN (a single value, or an infinite range) and overflow fall into the end buckets
        if x >= 0.0 {
            (x as usize).min(buckets - 1)
        } else {
            0
        }
    };
    let mut masses = vec![0.0; buckets];
    for &(value, mass) in &atoms {
        masses[bucket(value)] += mass;
    }
    let mut cumulative = 0.0;
    for (k, &mass) in masses.iter().enumerate() {
        if cumulative + mass >= target {
            let mut inside: Vec<(f64, f64)> = atoms.into_iter().filter(|&(value, _)| bucket(value) == k).collect();
            inside.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
            for (i, &(value, mass)) in inside.iter().enumerate() {
                cumulative += mass;
                if cumulative >= target && inside.get(i + 1).is_none_or(|next| next.0 != value) {
                    return Some(value);
                }
            }
            return inside.last().map(|x| x.0); // the bucket's sum reached the target, its terms fell short by rounding
        }
        cumulative += mass;
    }
    None
}

/// Lower-quantile percentiles of median(A*) − median(B*).
fn median_difference_quantiles(a: &Atoms, b: &Atoms, probabilities: &[f64]) -> Vec<f64> {
    if a.values.is_empty() || b.values.is_empty() {
        return vec![f64::NAN; probabilities.len()];
    }
    let cdf = DifferenceCdf::new(a, b);
    let moments = |atoms: &Atoms| {
        let total: f64 = atoms.masses.iter().sum();
        let mean = atoms.values.iter().zip(&atoms.masses).map(|(v, m)| v * m).sum::<f64>() / total;
        let var = atoms.values.iter().zip(&atoms.masses).map(|(v, m)| (v - mean) * (v - mean) * m).sum::<f64>() / total;
        (mean, var)
    };
    let ((mean_a, var_a), (mean_b, var_b)) = (moments(a), moments(b));
    let (mean, sd) = (mean_a - mean_b, (var_a + var_b).sqrt());
    let quantile = |p: f64| LowerQuantile::new(&cdf, p).find(mean, sd) + 0.0;
    match probabilities {
        [low, high] => {
            let (low, high) = rayon::join(|| quantile(*low), || quantile(*high));
            vec![low, high]
        }
        _ => probabilities.iter().map(|&p| quantile(p)).collect(),
    }
}

/// The search for inf{t : P(Δ ≤ t) ≥ p} among the atoms of Δ.
///
/// Invariant: the answer lies in [lo, hi], both atoms of Δ; P(Δ ≤ hi) ≥ p, and every atom
/// below lo has P < p. Every evaluation moves lo or hi past at least one atom, and at least
/// every third one halves hi − lo, so the search ends ([`MAX_STEPS`] is a guard only).
struct LowerQuantile<'c, 'a> {
    cdf: &'c DifferenceCdf<'a>,
    p: f64,
    z_p: f64,
    lo: f64,
    hi: f64,
    /// Normal-score offsets z(P) − z(p) at lo and hi (infinite until evaluated).
    f_lo: f64,
    f_hi: f64,
    /// > 0: lo moved that many times in a row; < 0: hi did (the Illinois modification).
    kept: i32,
}

impl<'c, 'a> LowerQuantile<'c, 'a> {
    fn new(cdf: &'c DifferenceCdf<'a>, p: f64) -> Self {
        let (lo, hi) = cdf.range();
        let (f_lo, f_hi) = (f64::NEG_INFINITY, f64::INFINITY);
        LowerQuantile { cdf, p, z_p: normal_quantile(p), lo, hi, f_lo, f_hi, kept: 0 }
    }

    /// Whether [lo, hi] still holds more than one atom (false for NaN ends).
    fn open(&self) -> bool {
        self.lo < self.hi
    }

    fn score(&self, cdf: f64) -> f64 {
        normal_quantile(cdf.clamp(1e-300, 1.0 - 1e-16)) - self.z_p
    }

    /// Narrows [lo, hi] with an evaluated point.
    fn update(&mut self, point: Point) {
        let f = self.score(point.cdf);
        if point.cdf >= self.p {
            // some atom is ≤ t as the mass up to t is positive
            self.hi = point.below.max(self.lo).min(self.hi);
            self.f_hi = f;
            self.kept = self.kept.min(0) - 1;
        } else if point.above > self.lo {
            // some atom is > t as p ≤ the total mass
            self.lo = point.above.min(self.hi);
            self.f_lo = f;
            self.kept = self.kept.max(0) + 1;
        }
    }

    /// A point strictly inside [lo, hi): `t` when it is, else the middle (or lo).
    fn inside(&self, t: f64) -> f64 {
        if t >= self.lo && t < self.hi {
            return t;
        }
        let middle = self.lo / 2.0 + self.hi / 2.0;
        if middle < self.hi {
            middle
        } else {
            self.lo
        }
    }

    /// Steps: the normal approximation (mean, sd of Δ); a normal-model Newton step; the
    /// secant of those two, probed together with its predicted error bracket in one pass
    /// that also collects the atoms inside (usually the end: a weighted selection among
    /// them). Failing that, regula falsi on the normal scores (near-linear in t, as Δ is
    /// near-normal) with the Illinois modification, a bisection whenever two steps did not
    /// halve [lo, hi], each step collecting the atoms between lo and its point, which ends
    /// the search as soon as the answer lies there and they are few enough.
    fn find(mut self, mean: f64, sd: f64) -> f64 {
        if self.p >= self.cdf.total() {
            return self.hi; // p above the retained mass (< 10⁻¹¹ short of 1): the largest atom
        }
        let first = self.cdf.eval(self.inside(mean + sd * self.z_p));
        self.update(first);
        if !self.open() {
            return self.hi;
        }
        let second = self.cdf.eval(self.inside(first.t - sd * self.score(first.cdf)));
        self.update(second);
        let (e1, e2) = ((first.cdf - self.p).abs(), (second.cdf - self.p).abs());
        let slope = (second.cdf - first.cdf) / (second.t - first.t);
        if self.open() && e1 > 0.0 && slope > 0.0 && slope.is_finite() {
            let (z1, z2) = (self.score(first.cdf), self.score(second.cdf));
            let guess = second.t - z2 * (second.t - first.t) / (z2 - z1);
            // the secant's error is about e2²/e1; atoms of Δ make P lumpy at ~10⁻⁶
            let half = (2.0 * e2 * (e2 / e1).min(1.0) + 1e-6) / slope;
            let (t1, t2) = ((guess - half).max(self.lo), (guess + half).min(self.hi));
            if t1 < t2 {
                let (low, high, atoms) = self.cdf.probe(t1, t2);
                if low.cdf < self.p && high.cdf >= self.p {
                    if let Some(answer) = atoms.and_then(|atoms| weighted_lower_quantile(atoms, self.p - low.cdf)) {
                        return answer;
                    }
                }
                self.update(low);
                self.update(high);
            }
        }
        self.bracket_search()
    }

    fn bracket_search(mut self) -> f64 {
        let mut widths = [f64::INFINITY; 3];
        for step in 0..MAX_STEPS {
            if !self.open() {
                break;
            }
            let width = self.hi - self.lo;
            let halved = width <= widths[(step + 1) % 3] / 2.0;
            let t = if step >= 3 && !halved {
                f64::NAN // two steps did not halve the bracket: bisect
            } else if self.f_lo.is_finite() && self.f_hi.is_finite() {
                let f_lo = if self.kept <= -2 { self.f_lo / 2.0 } else { self.f_lo };
                let f_hi = if self.kept >= 2 { self.f_hi / 2.0 } else { self.f_hi };
                self.lo - f_lo * width / (f_hi - f_lo)
            } else {
                f64::NAN
            };
            widths[step % 3] = width;
            let t = self.inside(t);
            // evaluate at t and collect [lo, t]: the end whenever the answer lies there
            let (low, high, atoms) = self.cdf.probe(self.lo, t);
            if low.cdf < self.p && high.cdf >= self.p {
                if let Some(answer) = atoms.and_then(|atoms| weighted_lower_quantile(atoms, self.p - low.cdf)) {
                    return answer;
                }
            }
            if low.cdf >= self.p {
                return self.lo; // P just below lo is < p and P(lo) ≥ p
            }
            self.update(low);
            self.update(high);
        }
        self.hi
    }
}

// -------------------------------------------------------------------------- Φ⁻¹

/// Φ⁻¹(p) for 0 < p < 1, Wichura's AS 241 (PPND16), relative error ~10⁻¹⁶.
// the coefficients keep the published digits, so they can be checked against the paper
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    fn poly(c: &[f64; 8], x: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        133.141_667_891_784_377_45,
        1_971.590_950_306_551_442_7,
        13_731.693_765_509_461_125,
        45_921.953_931_549_871_457,
        67_265.770_927_008_700_853,
        33_430.575_583_588_128_105,
        2_509.080_928_730_122_672_7,
    ];
    const B: [f64; 8] = [
        1.0,
        42.313_330_701_600_911_252,
        687.187_007_492_057_908_3,
        5_394.196_021_424_751_107_7,
        21_213.794_301_586_595_867,
        39_307.895_800_092_710_61,
        28_729.085_735_721_942_674,
        5_226.495_278_852_854_561,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        0.241_780_725_177_450_611_77,
        0.022_723_844_989_269_184_583_3,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        0.689_767_334_985_100_004_55,
        0.148_103_976_427_480_074_59,
        0.015_198_666_563_616_457_196_6,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        0.296_560_571_828_504_891_23,
        0.026_532_189_526_576_123_093,
        0.001_242_660_947_388_078_438_6,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        0.599_832_206_555_887_937_69,
        0.136_929_880_922_735_805_31,
        0.014_875_361_290_850_614_852_5,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = (-(if q < 0.0 { p } else { 1.0 - p }).ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -x
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, domain};

    /// The bootstrap median distribution by enumerating all n^n resamples (n ≤ 6).
    fn brute_force(values: &[f64]) -> Vec<(f64, f64)> {
        let n = values.len();
        let total = n.pow(n as u32);
        let mut medians = Vec::with_capacity(total);
        let mut draw = vec![0.0; n];
        for code in 0..total {
            let mut c = code;
            for slot in draw.iter_mut() {
                *slot = values[c % n];
                c /= n;
            }
            draw.sort_by(f64::total_cmp);
            medians.push(if n % 2 == 1 { draw[n / 2] } else { 0.5 * (draw[n / 2 - 1] + draw[n / 2]) } + 0.0);
        }
        medians.sort_by(f64::total_cmp);
        // integer counts per value: the masses are exact ratios, not sums of rounded terms
        let mut atoms: Vec<(f64, usize)> = Vec::new();
        for m in medians {
            match atoms.last_mut() {
                Some((value, count)) if *value == m => *count += 1,
                _ => atoms.push((m, 1)),
            }
        }
        atoms.into_iter().map(|(value, count)| (value, count as f64 / total as f64)).collect()
    }

    #[test]
    fn median_distribution_equals_brute_force_enumeration() {
        let cases: &[&[f64]] = &[
            &[3.0],
            &[2.0, -1.0],
            &[5.0, 1.0, 3.0],
            &[4.0, 1.0, 3.0, 2.0],
            &[1.0, 1.0, 7.0, 7.0],
            &[0.5, 2.0, 2.0, 9.0, -3.0],
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
            &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0],
            &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
            &[0.0, -0.0, 0.0, 1.0, -1.0, 0.25],
            &[2.5; 6],
            &[1.0, 2.0, 3.0, 4.0, 5.0],
        ];
        for values in cases {
            let exact = median_atoms(values, 0.0);
            let brute = brute_force(values);
            assert_eq!(exact.values.len(), brute.len(), "{values:?}: {exact:?} vs {brute:?}");
            for ((v, m), (bv, bm)) in exact.values.iter().zip(&exact.masses).zip(&brute) {
                assert_eq!(v, bv, "{values:?}");
                assert!((m - bm).abs() <= 1e-14, "{values:?} at {v}: {m} vs {bm}");
            }
            let total: f64 = exact.masses.iter().sum();
            assert!((total - 1.0).abs() <= 1e-14, "{values:?}: total {total}");
        }
    }

    fn sample(seed: u64, n: usize, kind: u64) -> Vec<f64> {
        rng::uniforms(seed, domain::CHUNKS, &[kind], n)
            .into_iter()
            .map(|u| match kind {
                0 => -(1.0 - u).ln(),         // continuous, skewed
                1 => (u * 40.0).floor(),      // heavy ties
                _ => (u * 5.0).floor() * 0.5, // very heavy ties
            })
            .collect()
    }

    #[test]
    fn median_mass_sums_to_one_and_matches_the_order_statistic_tail() {
        for &n in &[7usize, 8, 101, 1000, 1001, 99_999, 100_000] {
            for kind in 0..3 {
                let values = sample(n as u64, n, kind);
                let atoms = median_distribution(&values).unwrap();
                let total: f64 = atoms.masses.iter().sum();
                assert!((total - 1.0).abs() < 1e-11, "n {n} kind {kind}: total {total}");
                assert!(atoms.values.windows(2).all(|w| w[0] < w[1]));
                assert!(atoms.masses.iter().all(|&m| m > MASS_FLOOR));
            }
        }
    }

    /// Bin(n, k/n) probabilities by the ratio recurrence outwards from the mode, normalised by
    /// their sum (relative error ~10⁻¹⁵, independent of the code under test).
    fn binomial_pmf(n: usize, k: usize) -> Vec<f64> {
        let mut pmf = vec![0.0; n + 1];
        if k == 0 || k == n {
            pmf[k] = 1.0;
            return pmf;
        }
        let p = k as f64 / n as f64;
        let odds = p / (1.0 - p);
        let mode = ((n + 1) as f64 * p).floor().min(n as f64) as usize;
        pmf[mode] = 1.0;
        for j in mode..n {
            pmf[j + 1] = pmf[j] * (n - j) as f64 / (j + 1) as f64 * odds;
        }
        for j in (1..=mode).rev() {
            pmf[j - 1] = pmf[j] * j as f64 / (n - j + 1) as f64 / odds;
        }
        let total: f64 = pmf.iter().sum();
        pmf.iter_mut().for_each(|x| *x /= total);
        pmf
    }

    #[test]
    fn odd_median_weights_are_binomial_tail_differences() {
        // P(X*_(r) ≤ x_(k)) = P(Bin(n, k/n) ≥ r)
        for &n in &[9usize, 51, 201, 257, 1001, 4001] {
            let r = n.div_ceil(2);
            let weights = order_statistic_weights(n, r, 1, n);
            let mut cumulative = 0.0;
            for k in 1..=n {
                cumulative += weights[k - 1];
                let expected: f64 = binomial_pmf(n, k)[r..].iter().sum();
                assert!((cumulative - expected).abs() < 2e-14, "n {n} k {k}: {cumulative} vs {expected}");
            }
        }
    }

    #[test]
    fn even_median_pairs_satisfy_the_binomial_identities() {
        // 20 distinct values 2^u, each twice (n = 40, r = 20): every pair mean (2^u + 2^v)/2
        // is distinct, so each atom names its pair. With N_i = #{draws ≤ value i} ~ Bin(n, c_i/n):
        // P(X*_(r) ≤ v_i < X*_(r+1)) = P(N_i = r) and P(X*_(r) ≤ v_i) = P(N_i ≥ r).
        let (n, r, distinct) = (40usize, 20usize, 20usize);
        let values: Vec<f64> = (0..n).map(|k| 2f64.powi((k / 2) as i32)).collect();
        let atoms = median_atoms(&values, 0.0);
        let mut pair = vec![vec![0.0; distinct]; distinct];
        for (&mean, &mass) in atoms.values.iter().zip(&atoms.masses) {
            let found = (0..distinct)
                .flat_map(|u| (u..distinct).map(move |v| (u, v)))
                .find(|&(u, v)| 0.5 * (2f64.powi(u as i32) + 2f64.powi(v as i32)) == mean);
            let (u, v) = found.expect("every atom is a pair mean");
            pair[u][v] += mass;
        }
        for i in 0..distinct {
            let pmf = binomial_pmf(n, 2 * (i + 1));
            let straddle: f64 =
                (0..=i).flat_map(|u| (i + 1..distinct).map(move |v| (u, v))).map(|(u, v)| pair[u][v]).sum();
            let lower: f64 = (0..=i).flat_map(|u| (u..distinct).map(move |v| (u, v))).map(|(u, v)| pair[u][v]).sum();
            assert!((straddle - pmf[r]).abs() < 1e-14, "i {i}: {straddle} vs {}", pmf[r]);
            let tail: f64 = pmf[r..].iter().sum();
            assert!((lower - tail).abs() < 1e-14, "i {i}: {lower} vs {tail}");
        }
    }

    #[test]
    fn stirling_and_normal_quantile_match_references() {
        // ln(C(2r, r)/4^r) from 40-digit arithmetic (mpmath), rounded to f64
        for (r, expected) in [
            (1, -std::f64::consts::LN_2),
            (2, -0.980_829_253_011_726_2),
            (7, -1.563_162_067_231_381_5),
            (15, -1.934_721_835_649_978),
            (16, -1.966_470_533_964_558_3),
            (17, -1.996_323_497_114_239_4),
            (50, -2.530_876_403_977_105),
            (50_000, -5.982_256_585_129_842),
        ] {
            assert!((ln_central_binomial(r) - expected).abs() < 2e-15, "r {r}: {}", ln_central_binomial(r));
        }
        // scipy.stats.norm.ppf
        for (p, expected) in [
            (0.005, -2.575_829_303_548_901),
            (0.025, -1.959_963_984_540_054_5),
            (0.3, -0.524_400_512_708_040_9),
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.999_999, 4.753_424_308_817_087),
            (1e-10, -6.361_340_902_404_056),
            (1e-300, -37.047_096_299_361_2),
        ] {
            let got = normal_quantile(p);
            assert!((got - expected).abs() <= 2e-15 * expected.abs().max(1.0), "p {p}: {got} vs {expected}");
        }
    }

    /// All atoms of Δ with their masses, by brute force over the pairs.
    fn brute_difference(a: &Atoms, b: &Atoms) -> Vec<(f64, f64)> {
        let mut pairs = Vec::new();
        for (x, mx) in a.values.iter().zip(&a.masses) {
            for (y, my) in b.values.iter().zip(&b.masses) {
                pairs.push((x - y, mx * my));
            }
        }
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
        pairs
    }

    #[test]
    fn median_difference_quantiles_equal_brute_force_lower_quantiles() {
        for (seed, (na, nb, kind)) in
            [(7, 9, 0), (30, 31, 1), (200, 151, 0), (64, 64, 2), (1, 12, 0), (400, 401, 1)].into_iter().enumerate()
        {
            let (a, b) = (sample(seed as u64, na, kind), sample(seed as u64 + 100, nb, kind));
            let (atoms_a, atoms_b) = (median_atoms(&a, MASS_FLOOR), median_atoms(&b, MASS_FLOOR));
            let pairs = brute_difference(&atoms_a, &atoms_b);
            let probabilities = [1e-6, 0.005, 0.025, 0.3, 0.5, 0.7, 0.975, 0.995, 0.999_999];
            let got = median_difference_quantiles(&atoms_a, &atoms_b, &probabilities);
            // the fallback search alone, from the widest bracket
            let cdf = DifferenceCdf::new(&atoms_a, &atoms_b);
            let fallback: Vec<f64> =
                probabilities.iter().map(|&p| LowerQuantile::new(&cdf, p).bracket_search() + 0.0).collect();
            assert_eq!(got, fallback, "seed {seed}");
            for (&p, &q) in probabilities.iter().zip(&got) {
                let mut cumulative = 0.0;
                let mut expected = f64::NAN;
                for (i, &(d, m)) in pairs.iter().enumerate() {
                    cumulative += m;
                    let last_of_value = i + 1 == pairs.len() || pairs[i + 1].0 != d;
                    if last_of_value && cumulative >= p {
                        expected = d;
                        break;
                    }
                }
                assert_eq!(q, expected, "seed {seed}, p {p}");
            }
        }
    }

    #[test]
    fn mean_quantiles_follow_the_cumulants() {
        // symmetric samples: no skewness, so the percentiles are symmetric about Δ
        let a: Vec<f64> = (0..101).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..50).map(|i| (i as f64) * 0.5).collect();
        let out = bootstrap_quantiles(&a, &b, &[0.025, 0.5, 0.975]).unwrap();
        let delta = 50.0 - 12.25;
        assert!((out.mean[1] - delta).abs() < 1e-12);
        assert!(((out.mean[0] + out.mean[2]) / 2.0 - delta).abs() < 1e-9);
        // nearly normal (tiny excess kurtosis): ±1.96 standard deviations of the plug-in variance
        let var = a.iter().map(|x| (x - 50.0) * (x - 50.0)).sum::<f64>() / 101.0 / 101.0
            + b.iter().map(|x| (x - 12.25) * (x - 12.25)).sum::<f64>() / 50.0 / 50.0;
        let half = (out.mean[2] - out.mean[0]) / 2.0;
        assert!((half / var.sqrt() - 1.96).abs() < 0.02, "{half} vs {}", 1.96 * var.sqrt());
    }

    #[test]
    fn constant_samples_give_exact_differences() {
        let out = bootstrap_quantiles(&[2.0; 5], &[0.5; 4], &[0.005, 0.995]).unwrap();
        assert_eq!(out.mean, vec![1.5, 1.5]);
        assert_eq!(out.median, vec![1.5, 1.5]);
        let single = bootstrap_quantiles(&[3.0], &[1.0, 1.0], &[0.1]).unwrap();
        assert_eq!(single, BootstrapQuantiles { mean: vec![2.0], median: vec![2.0] });
    }

    #[test]
    fn thread_count_and_value_order_do_not_change_the_output() {
        let a = sample(3, 20_001, 0);
        let b = sample(4, 19_998, 1);
        let mut reversed = a.clone();
        reversed.reverse();
        let probabilities = [0.005, 0.995];
        let run = |threads: usize, a: &[f64]| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let pairs = [(a, &b[..]), (&b[..], a)];
            pool.install(|| bootstrap_quantiles_per_metric(&pairs, &probabilities).unwrap())
        };
        let one = run(1, &a);
        assert_eq!(one, run(2, &a));
        assert_eq!(one, run(8, &a));
        // the median part is a function of the multiset; the mean part sums in index order
        assert_eq!(one[0].median, run(2, &reversed)[0].median);
    }

    #[test]
    fn extreme_values_neither_panic_nor_stall() {
        let huge = [1e308, -1e308, 1.7e308, f64::MAX, -f64::MAX, 0.0];
        for (a, b) in [(&huge[..], &huge[..2]), (&huge[2..], &huge[..]), (&huge[..5], &huge[3..])] {
            let out = bootstrap_quantiles(a, b, &[0.005, 0.5, 0.995]).unwrap();
            assert_eq!(out.mean.len(), 3);
            assert_eq!(out.median.len(), 3);
        }
        let tiny = [5e-324, -5e-324, 0.0, -0.0];
        let out = bootstrap_quantiles(&tiny, &tiny[1..], &[0.005, 0.995]).unwrap();
        assert!(out.median.iter().chain(&out.mean).all(|q| q.is_finite()));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(bootstrap_quantiles(&[], &[1.0], &[0.5]).is_err());
        assert!(bootstrap_quantiles(&[1.0], &[f64::NAN], &[0.5]).is_err());
        assert!(bootstrap_quantiles(&[1.0], &[f64::INFINITY], &[0.5]).is_err());
        for p in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(bootstrap_quantiles(&[1.0], &[1.0], &[p]).is_err());
        }
        assert!(median_distribution(&[]).is_err());
        let pairs: [(&[f64], &[f64]); 2] = [(&[1.0], &[2.0]), (&[], &[1.0])];
        assert!(bootstrap_quantiles_per_metric(&pairs, &[0.5]).is_err());
    }
}
