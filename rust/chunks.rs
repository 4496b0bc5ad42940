//! Monte-Carlo chunk sampler and per-chunk metrics (SPEC §10.3–10.5).
//!
//! Counts are photons per time bin (u32), one matrix C_k (J_k × W, row-major) per
//! time-bin width k. A chunk is L consecutive time bins of one wavelength bin; draw i
//! uses block ⌊i/4096⌋ of `stream(analysis_seed, CHUNKS, block)` and takes three
//! uniforms in order: width (among the widths with at least one valid start), wavelength
//! bin (among W_data), start (among S_k). An index is ⌊u·n⌋ (clamped to n − 1).
//!
//! Moments are accumulated exactly in integers, so s² − μ and s_d² − 2μ are the exact
//! rationals rounded once to f64: a Poisson chunk with s² = μ has ev = 0 exactly, not
//! ±1e-8 from cancellation. Blocks run in parallel, each writing its own rows of the
//! preallocated table, so the table is byte-identical for any thread count.

use std::ops::{Add, AddAssign, Mul, Sub};

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::memory::zeroed;
use crate::rng::{self, domain, CHUNK_BLOCK};

/// One time-bin width: its counts matrix, valid-bin flags and valid starts.
#[derive(Debug, Clone, Copy)]
pub struct WidthCounts<'a> {
    /// C_k[j, w] at `j * n_bins + w`; length `valid.len() * n_bins`.
    pub counts: &'a [u32],
    /// Bin j is fully exposed (SPEC §10.2); its length is J_k.
    pub valid: &'a [bool],
    /// S_k: starts s with bins s…s+L−1 all valid. Empty ⇒ the width is skipped.
    pub starts: &'a [u32],
}

/// The metrics and quantities of one chunk (SPEC §10.4–10.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkMetrics {
    pub mean_count: f64,
    pub total_variability: f64,
    pub shot_noise: f64,
    pub ev: f64,
    pub evs: f64,
    pub fel: f64,
    pub feg: f64,
    pub vea: f64,
    pub vesa: f64,
    pub oec: f64,
    pub fvar: f64,
    /// NaN where SPEC says null (fvar = 0 or μ = 0).
    pub fvar_err: f64,
    pub nxs: f64,
    pub fadj: f64,
    pub zero_count_bins: u16,
    pub one_count_bins: u16,
}

/// The f64 columns of SPEC §10.6, in the order of [`ChunkTable::values`].
pub const FLOAT_COLUMNS: [&str; 15] = [
    "mean_count",
    "global_mean_count",
    "total_variability",
    "shot_noise",
    "ev",
    "evs",
    "fel",
    "feg",
    "vea",
    "vesa",
    "oec",
    "fvar",
    "fvar_err",
    "nxs",
    "fadj",
];

impl ChunkMetrics {
    /// The f64 columns of this chunk, in [`FLOAT_COLUMNS`] order.
    fn floats(&self, global_mean: f64) -> [f64; 15] {
        [
            self.mean_count,
            global_mean,
            self.total_variability,
            self.shot_noise,
            self.ev,
            self.evs,
            self.fel,
            self.feg,
            self.vea,
            self.vesa,
            self.oec,
            self.fvar,
            self.fvar_err,
            self.nxs,
            self.fadj,
        ]
    }
}

/// The sampled chunks, one entry per draw in draw order (columns of SPEC §10.6).
///
/// The 15 f64 columns share one buffer, `values`, column after column: one large
/// allocation can be backed by huge pages, which matters because first-touch page
/// faults of fresh output cost as much as the metrics on virtual machines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkTable {
    pub width_index: Vec<u16>,
    pub wbin: Vec<u16>,
    pub start_bin: Vec<u32>,
    pub stop_bin: Vec<u32>,
    pub zero_count_bins: Vec<u16>,
    pub one_count_bins: Vec<u16>,
    /// Column `FLOAT_COLUMNS[c]` is `values[c * len .. (c + 1) * len]`.
    pub values: Vec<f64>,
}

impl ChunkTable {
    /// `n` rows of zeros, written in place by the blocks.
    fn zeroed(n: usize) -> Self {
        Self {
            width_index: zeroed(n),
            wbin: zeroed(n),
            start_bin: zeroed(n),
            stop_bin: zeroed(n),
            zero_count_bins: zeroed(n),
            one_count_bins: zeroed(n),
            values: zeroed(n * FLOAT_COLUMNS.len()),
        }
    }

    fn rows(&mut self) -> Rows<'_> {
        let n = self.len();
        Rows {
            width_index: &mut self.width_index,
            wbin: &mut self.wbin,
            start_bin: &mut self.start_bin,
            stop_bin: &mut self.stop_bin,
            zero_count_bins: &mut self.zero_count_bins,
            one_count_bins: &mut self.one_count_bins,
            values: self.values.chunks_exact_mut(n.max(1)).collect(),
        }
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.width_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.width_index.is_empty()
    }

    /// The f64 column `name` (one of [`FLOAT_COLUMNS`]).
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        let c = FLOAT_COLUMNS.iter().position(|&n| n == name)?;
        self.values.get(c * self.len()..(c + 1) * self.len())
    }
}

/// Mutable views of a run of rows of a [`ChunkTable`].
struct Rows<'a> {
    width_index: &'a mut [u16],
    wbin: &'a mut [u16],
    start_bin: &'a mut [u32],
    stop_bin: &'a mut [u32],
    zero_count_bins: &'a mut [u16],
    one_count_bins: &'a mut [u16],
    /// One slice per f64 column.
    values: Vec<&'a mut [f64]>,
}

impl<'a> Rows<'a> {
    fn len(&self) -> usize {
        self.width_index.len()
    }

    /// The first `n` rows and the rest (`n` ≤ len).
    fn split_at(self, n: usize) -> (Rows<'a>, Rows<'a>) {
        let (width_index, width_index_rest) = self.width_index.split_at_mut(n);
        let (wbin, wbin_rest) = self.wbin.split_at_mut(n);
        let (start_bin, start_bin_rest) = self.start_bin.split_at_mut(n);
        let (stop_bin, stop_bin_rest) = self.stop_bin.split_at_mut(n);
        let (zero_count_bins, zero_count_bins_rest) = self.zero_count_bins.split_at_mut(n);
        let (one_count_bins, one_count_bins_rest) = self.one_count_bins.split_at_mut(n);
        let (values, values_rest) = self.values.into_iter().map(|column| column.split_at_mut(n)).unzip();
        (
            Rows { width_index, wbin, start_bin, stop_bin, zero_count_bins, one_count_bins, values },
            Rows {
                width_index: width_index_rest,
                wbin: wbin_rest,
                start_bin: start_bin_rest,
                stop_bin: stop_bin_rest,
                zero_count_bins: zero_count_bins_rest,
                one_count_bins: one_count_bins_rest,
                values: values_rest,
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn set(&mut self, i: usize, width: u16, wbin: u16, start: u32, length: u32, global_mean: f64, m: &ChunkMetrics) {
        self.width_index[i] = width;
        self.wbin[i] = wbin;
        self.start_bin[i] = start;
        self.stop_bin[i] = start + length;
        self.zero_count_bins[i] = m.zero_count_bins;
        self.one_count_bins[i] = m.one_count_bins;
        for (column, value) in self.values.iter_mut().zip(m.floats(global_mean)) {
            column[i] = value;
        }
    }
}

/// sgnsqrt(z) = sign(z)·√|z| (SPEC §1), with sgnsqrt(0) = 0.
#[inline]
fn sgnsqrt(z: f64) -> f64 {
    if z < 0.0 {
        -(-z).sqrt()
    } else {
        z.sqrt()
    }
}

/// `a / b`, or 0 where SPEC says "0 if b = 0".
#[inline]
fn ratio_or_zero(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Signed integers wide enough for a chunk's exact moment numerators.
trait Exact: Copy + From<u32> + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + AddAssign {
    fn from_len(n: usize) -> Self;
    fn to_f64(self) -> f64;
}

impl Exact for i64 {
    #[inline]
    fn from_len(n: usize) -> Self {
        n as i64
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Exact for i128 {
    #[inline]
    fn from_len(n: usize) -> Self {
        n as i128
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// Whether `i64` holds every numerator of [`exact_metrics`] for counts ≤ `max_count`
/// (the largest is L·(L−1)·Σd² ≤ L³·c²); otherwise `i128` is used.
fn fits_i64(length: usize, max_count: u32) -> bool {
    let (l, c) = (length as u128, u128::from(max_count));
    l * l * l * c * c < 1u128 << 62
}

/// Metrics of one chunk `x` (length L, even, ≥ 4) with global mean μ_g of its column.
///
/// Callers guarantee `x.len()` is even and ≥ 4 ([`sample_chunks`] checks it); other
/// lengths give meaningless values (possibly NaN), never a panic.
pub fn chunk_metrics<I: IntoIterator<Item = u32>>(x: I, global_mean: f64) -> ChunkMetrics {
    exact_metrics::<i128, I>(x, global_mean)
}

#[inline]
fn exact_metrics<T: Exact, I: IntoIterator<Item = u32>>(x: I, global_mean: f64) -> ChunkMetrics {
    // Integer moments: Σx, Σx², Σ over odd 1-based positions, Σd², first and last value.
    let zero = T::from(0u32);
    let (mut s1, mut s2, mut d2, mut odd) = (zero, zero, zero, zero);
    let (mut first, mut last, mut n) = (0u32, 0u32, 0usize);
    let (mut zeros, mut ones) = (0u16, 0u16);
    for (i, v) in x.into_iter().enumerate() {
        let t = T::from(v);
        s1 += t;
        s2 += t * t;
        if i % 2 == 0 {
            odd += t;
        }
        if i == 0 {
            first = v;
        } else {
            let d = T::from(v.abs_diff(last));
            d2 += d * d;
        }
        zeros = zeros.saturating_add(u16::from(v == 0));
        ones = ones.saturating_add(u16::from(v == 1));
        last = v;
        n += 1;
    }
    let l = T::from_len(n);
    let one = T::from(1u32);
    let two = T::from(2u32);
    let lf = n as f64;

    let mean = s1.to_f64() / lf;
    // s² = (L·Σx² − (Σx)²) / (L(L−1));   s² − μ = (that numerator − (L−1)·Σx) / (L(L−1)).
    let var_num = l * s2 - s1 * s1;
    let var_den = (l * (l - one)).to_f64();
    let var = var_num.to_f64() / var_den;
    let excess = (var_num - (l - one) * s1).to_f64() / var_den;
    // Differences: m = L−1 values, Σd = x_L − x_1, s_d² = (m·Σd² − (Σd)²)/(m(m−1));
    // s_d² − 2μ over the common denominator L·m·(m−1).
    let m = l - one;
    let d1 = T::from(last) - T::from(first);
    let dvar_num = m * d2 - d1 * d1;
    let adjacent = (l * dvar_num - two * s1 * m * (m - one)).to_f64() / (l * m * (m - one)).to_f64();
    // oec: |m_o − m_e| = |Σ_odd − Σ_even|/h and m_o/n_o + m_e/n_e = Σx/h² (h = L/2), so
    // oec = |Σ_odd − Σ_even|/√Σx. The 10⁻¹² floor never binds: Σx ≥ 1 gives Σx/h² ≥ 1/32767²,
    // and Σx = 0 gives 0/0, which is 0 here.
    let contrast = (odd - (s1 - odd)).to_f64().abs();
    let oec = if contrast == 0.0 { 0.0 } else { contrast / s1.to_f64().sqrt() };

    // The metrics share one reciprocal of μ and of √μ (0 when μ = 0, giving the SPEC's zeros).
    let shot_noise = mean.sqrt();
    let (inv_mean, inv_shot) = if mean > 0.0 { (1.0 / mean, 1.0 / shot_noise) } else { (0.0, 0.0) };
    let ev = sgnsqrt(excess);
    let vea = sgnsqrt(adjacent);
    // μ·fvar = √(s² − μ) when s² > μ, so (1/(μ·fvar))² = 1/(s² − μ); s² > μ implies μ > 0.
    let fvar_err = if excess > 0.0 { (0.5 / (lf * excess) + inv_mean / lf).sqrt() } else { f64::NAN };
    let fel = excess * inv_mean;
    ChunkMetrics {
        mean_count: mean,
        total_variability: var.sqrt(),
        shot_noise,
        ev,
        evs: ev * inv_shot,
        fel,
        feg: ratio_or_zero(var - global_mean, global_mean),
        vea,
        vesa: vea * inv_shot,
        oec,
        fvar: ev.max(0.0) * inv_mean,
        fvar_err,
        nxs: fel * inv_mean,
        fadj: vea.max(0.0) * inv_mean,
        zero_count_bins: zeros,
        one_count_bins: ones,
    }
}

/// ⌊u·n⌋ for u ∈ [0, 1), clamped to n − 1 against rounding.
#[inline]
fn pick(u: f64, n: usize) -> usize {
    ((u * n as f64) as usize).min(n - 1)
}

/// A width ready for sampling: its original index and the μ_g of every wavelength bin.
struct Usable<'a> {
    index: u16,
    counts: &'a [u32],
    starts: &'a [u32],
    global_mean: Vec<f64>,
    /// Every chunk's exact moments fit in `i64` (hardware int → float conversion).
    narrow: bool,
}

fn check_width(k: usize, width: &WidthCounts<'_>, n_bins: usize, length: usize) -> CoreResult<()> {
    let rows = width.valid.len();
    if rows.checked_mul(n_bins) != Some(width.counts.len()) {
        return Err(CoreError::Data(format!(
            "width {k}: counts has {} values, expected {rows} bins × {n_bins} wavelength bins",
            width.counts.len()
        )));
    }
    if u32::try_from(rows).is_err() {
        return Err(CoreError::Data(format!("width {k}: {rows} time bins exceed the u32 range")));
    }
    // invalid[j] = number of invalid bins before j, so a chunk is clean iff the count is flat.
    let mut invalid = Vec::with_capacity(rows + 1);
    invalid.push(0u32);
    let mut bad = 0u32;
    for &v in width.valid {
        bad += u32::from(!v);
        invalid.push(bad);
    }
    for &s in width.starts {
        let s = s as usize;
        match invalid.get(s).zip(invalid.get(s + length)) {
            None => {
                return Err(CoreError::Data(format!(
                    "width {k}: start {s} + chunk length {length} exceeds its {rows} time bins"
                )))
            }
            Some((a, b)) if a != b => {
                return Err(CoreError::Data(format!(
                    "width {k}: the chunk starting at bin {s} touches a bin that is not fully exposed"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// μ_g[w] = mean of C_k[j, w] over the valid j (0 when no bin is valid), and the
/// largest count of a valid bin (only valid bins are ever sampled).
fn global_means(counts: &[u32], valid: &[bool], n_bins: usize) -> (Vec<f64>, u32) {
    let mut sums = vec![0u64; n_bins];
    let (mut rows, mut max_count) = (0u64, 0u32);
    for (row, _) in counts.chunks_exact(n_bins).zip(valid).filter(|(_, &v)| v) {
        rows += 1;
        for (sum, &c) in sums.iter_mut().zip(row) {
            *sum += u64::from(c);
            max_count = max_count.max(c);
        }
    }
    let means = sums.into_iter().map(|s| if rows == 0 { 0.0 } else { s as f64 / rows as f64 }).collect();
    (means, max_count)
}

/// Draw `chunk_count` chunks and compute every metric (SPEC §10.3–10.5).
///
/// `widths[k]` is width index k; widths with no valid start are skipped. Errors
/// (never panics) on malformed input: see the checks below.
pub fn sample_chunks(
    widths: &[WidthCounts<'_>],
    n_bins: usize,
    w_data: &[u16],
    chunk_length: usize,
    chunk_count: usize,
    analysis_seed: u64,
) -> CoreResult<ChunkTable> {
    if chunk_length % 2 != 0 || chunk_length < 4 || chunk_length > usize::from(u16::MAX) - 1 {
        return Err(CoreError::Parameter(format!("chunk_length must be even and in [4, 65534], got {chunk_length}")));
    }
    if chunk_count == 0 || u32::try_from(chunk_count).is_err() {
        return Err(CoreError::Parameter(format!("chunk_count must be in [1, 2^32 − 1], got {chunk_count}")));
    }
    if n_bins == 0 || n_bins > usize::from(u16::MAX) + 1 {
        return Err(CoreError::Data(format!("number of wavelength bins must be in [1, 65536], got {n_bins}")));
    }
    if w_data.is_empty() {
        return Err(CoreError::Data("no wavelength bin has a selected event (W_data is empty)".into()));
    }
    if let Some(&w) = w_data.iter().find(|&&w| usize::from(w) >= n_bins) {
        return Err(CoreError::Data(format!("W_data holds wavelength bin {w}, but there are only {n_bins} bins")));
    }
    if widths.len() > usize::from(u16::MAX) + 1 {
        return Err(CoreError::Data(format!("{} widths exceed the u16 width index", widths.len())));
    }
    for (k, width) in widths.iter().enumerate() {
        check_width(k, width, n_bins, chunk_length)?;
    }
    let usable: Vec<Usable<'_>> = widths
        .par_iter()
        .enumerate()
        .filter(|(_, w)| !w.starts.is_empty())
        .map(|(k, w)| {
            let (global_mean, max_count) = global_means(w.counts, w.valid, n_bins);
            Usable {
                index: k as u16,
                counts: w.counts,
                starts: w.starts,
                global_mean,
                narrow: fits_i64(chunk_length, max_count),
            }
        })
        .collect();
    if usable.is_empty() {
        return Err(CoreError::Data(format!("no width has L = {chunk_length} consecutive fully exposed bins")));
    }

    let mut table = ChunkTable::zeroed(chunk_count);
    let mut blocks = Vec::with_capacity(chunk_count.div_ceil(CHUNK_BLOCK));
    let mut rest = table.rows();
    while rest.len() > 0 {
        let n = CHUNK_BLOCK.min(rest.len());
        let (block, tail) = rest.split_at(n);
        blocks.push(block);
        rest = tail;
    }
    blocks
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut rows)| sample_block(&usable, n_bins, w_data, chunk_length, analysis_seed, b, &mut rows));
    Ok(table)
}

fn sample_block(
    usable: &[Usable<'_>],
    n_bins: usize,
    w_data: &[u16],
    length: usize,
    seed: u64,
    block: usize,
    rows: &mut Rows<'_>,
) {
    let mut rng = rng::stream(seed, domain::CHUNKS, &[block as u64]);
    for i in 0..rows.len() {
        let width = &usable[pick(rng::uniform(&mut rng), usable.len())];
        let w = w_data[pick(rng::uniform(&mut rng), w_data.len())];
        let start = width.starts[pick(rng::uniform(&mut rng), width.starts.len())];
        let column = usize::from(w);
        let global_mean = width.global_mean[column];
        // Validated: start + length ≤ J, so the strided walk stays inside the matrix.
        let x = width.counts[start as usize * n_bins + column..].iter().step_by(n_bins).take(length).copied();
        let metrics = if width.narrow {
            exact_metrics::<i64, _>(x, global_mean)
        } else {
            exact_metrics::<i128, _>(x, global_mean)
        };
        rows.set(i, width.index, w, start, length as u32, global_mean, &metrics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-13 * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn hand_computed_chunk() {
        // x = [0, 4, 0, 4]: μ = 2, s² = 16/3, d = [4, −4, 4], s_d² = 64/3, m_o = 0, m_e = 4.
        let m = chunk_metrics([0, 4, 0, 4], 2.0);
        assert!(close(m.mean_count, 2.0));
        assert!(close(m.total_variability, (16.0f64 / 3.0).sqrt()));
        assert!(close(m.ev, (10.0f64 / 3.0).sqrt()));
        assert!(close(m.fel, 5.0 / 3.0));
        assert!(close(m.feg, 5.0 / 3.0));
        assert!(close(m.vea, (52.0f64 / 3.0).sqrt()));
        assert!(close(m.oec, 4.0 / 2.0f64.sqrt()));
        assert!(close(m.fvar, (10.0f64 / 3.0).sqrt() / 2.0));
        // (1/8)·(3/10) + 1/8 = 0.1625
        assert!(close(m.fvar_err, 0.1625f64.sqrt()));
        assert!(close(m.nxs, 10.0 / 12.0));
        assert!(close(m.fadj, (52.0f64 / 3.0).sqrt() / 2.0));
        assert_eq!((m.zero_count_bins, m.one_count_bins), (2, 0));
    }

    #[test]
    fn zero_chunk_follows_special_cases() {
        let m = chunk_metrics([0u32; 12], 0.0);
        for v in [m.mean_count, m.ev, m.evs, m.fel, m.feg, m.vea, m.vesa, m.oec, m.fvar, m.nxs, m.fadj] {
            assert_eq!(v, 0.0);
        }
        assert!(m.fvar_err.is_nan());
        assert_eq!(m.zero_count_bins, 12);
    }

    #[test]
    fn poisson_like_tie_gives_exact_zero() {
        // [1, 1, 4, 2]: μ = 2 and s² = (1 + 1 + 4 + 0)/3 = 2 exactly.
        let m = chunk_metrics([1, 1, 4, 2], 1.0);
        assert_eq!(m.ev, 0.0);
        assert_eq!(m.fel, 0.0);
        assert!(m.fvar_err.is_nan());
    }

    #[test]
    fn narrow_and_wide_moments_agree() {
        assert!(fits_i64(12, 1 << 20) && !fits_i64(12, u32::MAX) && !fits_i64(1000, 1 << 26));
        for seed in 0..200u64 {
            let x: Vec<u32> = crate::rng::uniforms(seed, 0, &[], 12).iter().map(|u| (u * 30.0) as u32).collect();
            let a = exact_metrics::<i64, _>(x.iter().copied(), 3.5);
            let b = exact_metrics::<i128, _>(x.iter().copied(), 3.5);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        // counts near u32::MAX: i128 keeps the moments exact
        let big = chunk_metrics([u32::MAX, u32::MAX - 2, u32::MAX, u32::MAX - 2], 1.0);
        let mean = u32::MAX as f64 - 1.0;
        assert!(close(big.mean_count, mean));
        assert!(close(big.total_variability, (4.0f64 / 3.0).sqrt()));
        assert!(close(big.fel, (4.0 / 3.0 - mean) / mean));
    }

    fn matrix() -> (Vec<u32>, Vec<bool>, Vec<u32>) {
        let (rows, bins) = (300usize, 7usize);
        // column 6 is empty: μ = 0 chunks, whose fvar_err is NaN (null)
        let counts =
            (0..rows * bins).map(|i| if i % bins == 6 { 0 } else { ((i * 2654435761) % 17) as u32 % 9 }).collect();
        let valid: Vec<bool> = (0..rows).map(|j| !(100..110).contains(&j)).collect();
        let starts = (0..=rows - 12).filter(|&s| valid[s..s + 12].iter().all(|&v| v)).map(|s| s as u32).collect();
        (counts, valid, starts)
    }

    #[test]
    fn thread_count_and_prefix_invariance() {
        let (counts, valid, starts) = matrix();
        let widths = [
            WidthCounts { counts: &counts, valid: &valid, starts: &starts },
            WidthCounts { counts: &[], valid: &[], starts: &[] },
            WidthCounts { counts: &counts, valid: &valid, starts: &starts[..50] },
        ];
        let run = |threads: usize, m: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| sample_chunks(&widths, 7, &[0, 3, 6], 12, m, 42).unwrap())
        };
        // Bit patterns, so NaN (null fvar_err) compares equal to itself.
        let bits = |t: &ChunkTable, n: usize| -> Vec<Vec<u64>> {
            let mut columns: Vec<Vec<u64>> = FLOAT_COLUMNS
                .iter()
                .map(|name| t.column(name).unwrap()[..n].iter().map(|v| v.to_bits()).collect())
                .collect();
            for ints in [&t.width_index, &t.wbin, &t.zero_count_bins, &t.one_count_bins] {
                columns.push(ints[..n].iter().map(|&v| u64::from(v)).collect());
            }
            for ints in [&t.start_bin, &t.stop_bin] {
                columns.push(ints[..n].iter().map(|&v| u64::from(v)).collect());
            }
            columns
        };
        let m = 3 * CHUNK_BLOCK + 5;
        let one = run(1, m);
        assert_eq!(one.len(), m);
        assert_eq!(one.values.len(), m * FLOAT_COLUMNS.len());
        assert!(one.column("fvar_err").unwrap().iter().any(|v| v.is_nan()));
        assert_eq!(bits(&one, m), bits(&run(3, m), m));
        assert_eq!(bits(&one, CHUNK_BLOCK + 1), bits(&run(2, CHUNK_BLOCK + 1), CHUNK_BLOCK + 1));
        assert_eq!(bits(&one, 20), bits(&run(2, 20), 20));
        assert!(one.column("nope").is_none());
        assert!(!one.width_index.contains(&1));
        assert!(one.start_bin.iter().zip(&one.stop_bin).all(|(&a, &b)| b == a + 12 && !(a < 110 && b > 100)));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let (counts, valid, starts) = matrix();
        let good = WidthCounts { counts: &counts, valid: &valid, starts: &starts };
        let run = |w: &[WidthCounts<'_>], wd: &[u16], l: usize, m: usize| sample_chunks(w, 7, wd, l, m, 1);
        assert!(run(&[good], &[0], 12, 10).is_ok());
        assert!(matches!(run(&[good], &[0], 11, 10), Err(CoreError::Parameter(_))));
        assert!(matches!(run(&[good], &[0], 2, 10), Err(CoreError::Parameter(_))));
        assert!(matches!(run(&[good], &[0], 12, 0), Err(CoreError::Parameter(_))));
        assert!(matches!(run(&[good], &[], 12, 10), Err(CoreError::Data(_))));
        assert!(matches!(run(&[good], &[7], 12, 10), Err(CoreError::Data(_))));
        assert!(matches!(run(&[], &[0], 12, 10), Err(CoreError::Data(_))));
        let empty = WidthCounts { starts: &[], ..good };
        assert!(matches!(run(&[empty], &[0], 12, 10), Err(CoreError::Data(_))));
        let out_of_range = [289u32];
        let bad = WidthCounts { starts: &out_of_range, ..good };
        assert!(matches!(run(&[bad], &[0], 12, 10), Err(CoreError::Data(_))));
        let huge = [u32::MAX];
        let bad = WidthCounts { starts: &huge, ..good };
        assert!(matches!(run(&[bad], &[0], 12, 10), Err(CoreError::Data(_))));
        let straddle = [95u32];
        let bad = WidthCounts { starts: &straddle, ..good };
        assert!(matches!(run(&[bad], &[0], 12, 10), Err(CoreError::Data(_))));
        let short = WidthCounts { counts: &counts[1..], ..good };
        assert!(matches!(run(&[short], &[0], 12, 10), Err(CoreError::Data(_))));
    }
}
