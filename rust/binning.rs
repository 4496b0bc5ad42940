//! Time × wavelength binning with exposure (SPEC §10.2–10.3).
//!
//! Times are in seconds (MET), widths Δ_k in seconds, offsets u_k are fractions of a
//! width in [0, 1). Width k has the grid e_j = e_0 + j·Δ_k with e_0 = tstart − u_k·Δ_k
//! and J_k = ⌊(tstop − e_0)/Δ_k⌋ + 1 bins. Every edge is computed as exactly that
//! expression (one multiply, one add), the same arithmetic numpy uses for
//! `e0 + arange(J + 1) * width`, and events are binned by comparing against those edges
//! like `numpy.histogram`: bin j holds e_j ≤ t < e_{j+1}, the last bin also holds
//! t = e_J. This is ⌊(t − e_0)/Δ_k⌋ except within an ulp of an edge, where the
//! rounded division and the rounded edge can disagree (at MET magnitudes, for a large
//! share of events placed exactly on edges); there the edges win, so the counts always
//! equal `numpy.histogram2d` with the edges a caller sees. Should rounding leave
//! e_J below tstop, J grows by one so the edges always cover [tstart, tstop]. Nothing
//! is ever clipped or dropped: an event outside [e_0, e_J] is a `CoreError::Data`.
//!
//! Events are sorted by time, so each bin is a contiguous run of events: a width is
//! split into fixed blocks of [`BIN_BLOCK`] bins, each block finds its first event by
//! bisection and then moves from bin boundary to bin boundary (searching first where the
//! previous bin's event count predicts it), counting each run's wavelength bins: per
//! event only a load and an increment, no division or search. Blocks write disjoint
//! rows, so the counts never depend on the number of threads and need no merging.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};
use crate::memory::zeroed;
use crate::rng::{domain, stream, uniform, EVENT_BLOCK};

/// Time bins per parallel work unit of one width (fixed, never sized by thread count).
pub const BIN_BLOCK: usize = 256;
/// Most counts cells (all widths together) one call may allocate: 8 GiB of u32.
pub const MAX_CELLS: usize = 1 << 31;
/// Most widths one width set may hold.
pub const MAX_WIDTHS: usize = 1 << 24;

/// The time grid of one width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// e_0 = tstart − u·Δ [s].
    pub origin_s: f64,
    /// Δ [s].
    pub width_s: f64,
    /// J, the number of bins; the edges are e_0 … e_J.
    pub bins: usize,
}

impl Grid {
    /// The grid of width `width_s` with offset fraction `offset` covering [tstart, tstop].
    pub fn new(width_s: f64, offset: f64, tstart_s: f64, tstop_s: f64) -> CoreResult<Self> {
        if !(tstart_s.is_finite() && tstop_s.is_finite() && tstart_s <= tstop_s) {
            return Err(CoreError::Data(format!(
                "time span must be finite with tstart ≤ tstop, got [{tstart_s}, {tstop_s}]"
            )));
        }
        // Δ must span at least 32 ulps of the times, so consecutive edges always differ.
        let scale = tstart_s.abs().max(tstop_s.abs()).max(f64::MIN_POSITIVE);
        if !(width_s.is_finite() && width_s > 0.0) {
            return Err(CoreError::Parameter(format!("time_bins: widths must be finite and > 0 s, got {width_s}")));
        }
        if width_s < scale * f64::EPSILON * 32.0 {
            return Err(CoreError::Parameter(format!(
                "time_bins: width {width_s} s is below the time resolution at {scale} s"
            )));
        }
        if !(offset.is_finite() && (0.0..1.0).contains(&offset)) {
            return Err(CoreError::Parameter(format!("offset fractions must lie in [0, 1), got {offset}")));
        }
        let origin_s = tstart_s - offset * width_s;
        let span = ((tstop_s - origin_s) / width_s).floor();
        if span >= MAX_CELLS as f64 {
            return Err(CoreError::Parameter(format!(
                "time_bins: width {width_s} s gives {span} bins over [{tstart_s}, {tstop_s}]"
            )));
        }
        let mut grid = Self { origin_s, width_s, bins: span as usize + 1 };
        // Rounding may leave e_J a hair below tstop; one more bin restores e_J ≥ tstop.
        while grid.edge(grid.bins) < tstop_s {
            grid.bins += 1;
        }
        Ok(grid)
    }

    /// Edge e_j = e_0 + j·Δ, exactly as numpy computes `e0 + arange(J + 1) * width`.
    #[inline]
    pub fn edge(&self, j: usize) -> f64 {
        self.origin_s + j as f64 * self.width_s
    }

    /// The bin holding time `t` (clamped to the grid), by the same comparisons as the counts.
    fn locate(&self, t: f64) -> usize {
        let last = self.bins - 1;
        let guess = ((t - self.origin_s) / self.width_s).floor();
        let mut j = if guess >= 0.0 { (guess as usize).min(last) } else { 0 };
        while j > 0 && self.edge(j) > t {
            j -= 1;
        }
        while j < last && self.edge(j + 1) <= t {
            j += 1;
        }
        j
    }
}

/// One grid per width, widths[k] with offset fraction offsets[k], all covering [tstart, tstop].
pub fn grids(widths_s: &[f64], offsets: &[f64], tstart_s: f64, tstop_s: f64) -> CoreResult<Vec<Grid>> {
    if widths_s.len() != offsets.len() {
        return Err(CoreError::Parameter(format!(
            "{} widths but {} offsets: one offset per width",
            widths_s.len(),
            offsets.len()
        )));
    }
    let grids = widths_s
        .iter()
        .zip(offsets)
        .map(|(&width, &offset)| Grid::new(width, offset, tstart_s, tstop_s))
        .collect::<CoreResult<Vec<_>>>()?;
    let cells = grids.iter().try_fold(0usize, |sum, g| sum.checked_add(g.bins));
    if cells.is_none_or(|bins| bins > MAX_CELLS) {
        return Err(CoreError::Parameter("time_bins: the widths give too many time bins in total".into()));
    }
    Ok(grids)
}

/// `count` widths [s] from one stream (seed, WIDTHS), uniform in [from, to) or
/// log-uniform (exp of uniform in [ln from, ln to)), sorted ascending.
pub fn width_set(seed: u64, from_s: f64, to_s: f64, count: usize, log_uniform: bool) -> CoreResult<Vec<f64>> {
    if !(from_s.is_finite() && to_s.is_finite() && 0.0 < from_s && from_s < to_s) {
        return Err(CoreError::Parameter(format!(
            "time_bins: need 0 < from_s < to_s, got from_s={from_s}, to_s={to_s}"
        )));
    }
    if !(1..=MAX_WIDTHS).contains(&count) {
        return Err(CoreError::Parameter(format!("time_bins: count must be in 1…{MAX_WIDTHS}, got {count}")));
    }
    let mut rng = stream(seed, domain::WIDTHS, &[]);
    let (lo, hi) = if log_uniform { (from_s.ln(), to_s.ln()) } else { (from_s, to_s) };
    let mut widths: Vec<f64> = (0..count)
        .map(|_| {
            let x = lo + uniform(&mut rng) * (hi - lo);
            // exp/rounding can land a hair outside; keep every width inside [from, to].
            let width = if log_uniform { x.exp() } else { x };
            width.clamp(from_s, to_s)
        })
        .collect();
    widths.sort_by(f64::total_cmp);
    Ok(widths)
}

/// Offset fractions u_k ∈ [0, 1): the first draw of stream(analysis_seed, OFFSETS, k).
pub fn offsets(analysis_seed: u64, count: usize) -> CoreResult<Vec<f64>> {
    if count > MAX_WIDTHS {
        return Err(CoreError::Parameter(format!("at most {MAX_WIDTHS} offsets, got {count}")));
    }
    Ok((0..count).map(|k| uniform(&mut stream(analysis_seed, domain::OFFSETS, &[k as u64]))).collect())
}

/// The first i with time[i] > time[i + 1] or a NaN among them. Each block runs a
/// branch-free (vectorisable) check first and only searches when it fails.
fn first_unsorted(time_s: &[f64]) -> Option<usize> {
    let n = time_s.len();
    let blocks: Vec<Option<usize>> = (0..n.div_ceil(EVENT_BLOCK))
        .into_par_iter()
        .map(|b| {
            let start = b * EVENT_BLOCK;
            // One element past the block, so the pair across the boundary is checked too.
            let pairs = &time_s[start..(start + EVENT_BLOCK + 1).min(n)];
            let sorted = pairs.windows(2).fold(true, |ok, pair| ok & (pair[0] <= pair[1]));
            if sorted {
                return None;
            }
            let bad = |pair: &[f64]| pair[0].partial_cmp(&pair[1]).is_none_or(|order| order.is_gt());
            pairs.windows(2).position(bad).map(|i| start + i)
        })
        .collect();
    blocks.into_iter().flatten().next()
}

/// Marks an event that the selection dropped: it is neither counted nor checked, so the
/// caller need not copy the selected events out of the full columns.
pub const UNSELECTED: u16 = u16::MAX;

/// The first selected event whose wavelength bin is not below `n_wbins`.
fn first_out_of_band(wbin: &[u16], n_wbins: usize) -> Option<usize> {
    let out_of_band = |w: u16| w != UNSELECTED && usize::from(w) >= n_wbins;
    let blocks: Vec<Option<usize>> = wbin
        .par_chunks(EVENT_BLOCK)
        .enumerate()
        .map(|(b, block)| block.iter().position(|&w| out_of_band(w)).map(|i| b * EVENT_BLOCK + i))
        .collect();
    blocks.into_iter().flatten().next()
}

/// Check events against every grid: equal lengths, sorted finite times inside the
/// edges (nothing may be dropped), wavelength bins below `n_wbins`. With no grids it
/// checks the events alone.
pub(crate) fn check_events(time_s: &[f64], wbin: &[u16], n_wbins: usize, grids: &[Grid]) -> CoreResult<()> {
    if n_wbins == 0 || n_wbins > usize::from(UNSELECTED) {
        return Err(CoreError::Parameter(format!("the band must have 1…65535 wavelength bins, got {n_wbins}")));
    }
    let bins: usize = grids.iter().map(|g| g.bins).sum();
    if bins.checked_mul(n_wbins).is_none_or(|cells| cells > MAX_CELLS) {
        return Err(CoreError::Parameter(format!(
            "time_bins: {bins} time bins × {n_wbins} wavelength bins exceed {MAX_CELLS} counts cells"
        )));
    }
    if time_s.len() != wbin.len() {
        return Err(CoreError::Data(format!("{} times but {} wavelength bins", time_s.len(), wbin.len())));
    }
    if let Some(i) = first_unsorted(time_s) {
        return Err(CoreError::Data(format!(
            "times must be finite and sorted non-decreasing: time[{i}] = {}, time[{}] = {}",
            time_s[i],
            i + 1,
            time_s[i + 1]
        )));
    }
    if let (Some(&first), Some(&last)) = (time_s.first(), time_s.last()) {
        for grid in grids {
            let (lo, hi) = (grid.edge(0), grid.edge(grid.bins));
            if !(lo <= first && last <= hi) {
                return Err(CoreError::Data(format!(
                    "event times [{first}, {last}] fall outside the binned span [{lo}, {hi}] of width {} s",
                    grid.width_s
                )));
            }
        }
    }
    if let Some(i) = first_out_of_band(wbin, n_wbins) {
        return Err(CoreError::Data(format!("wavelength bin {} of event {i} is not below {n_wbins}", wbin[i])));
    }
    Ok(())
}

/// First index ≥ `from` whose time is ≥ `edge`: exponential probe, then bisection.
#[inline]
fn gallop(time_s: &[f64], from: usize, edge: f64) -> usize {
    let rest = &time_s[from..];
    let mut hi = 1;
    while hi <= rest.len() && rest[hi - 1] < edge {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(rest.len());
    from + lo + rest[lo..hi].partition_point(|&t| t < edge)
}

/// Events inspected next to the guessed bin end before falling back to a wider search.
const NEAR: usize = 32;

/// First index ≥ `from` whose time is ≥ `edge`, looked for first near `from + hint`
/// (`hint` = the previous bin's event count): neighbouring bins hold similar counts, so
/// the end usually lies within a few cache lines of the guess, where a bisection of
/// [`NEAR`] events costs no cache misses. Otherwise bisect back or gallop on.
#[inline]
fn advance(time_s: &[f64], from: usize, edge: f64, hint: usize) -> usize {
    let guess = from.saturating_add(hint).min(time_s.len());
    if guess > from && time_s[guess - 1] >= edge {
        let lo = guess.saturating_sub(NEAR).max(from);
        let base = if lo > from && time_s[lo - 1] >= edge { from } else { lo };
        return base + time_s[base..guess].partition_point(|&t| t < edge);
    }
    let hi = guess.saturating_add(NEAR).min(time_s.len());
    if hi == time_s.len() || time_s[hi - 1] >= edge {
        return guess + time_s[guess..hi].partition_point(|&t| t < edge);
    }
    gallop(time_s, hi, edge)
}

/// Count the rows `first_bin…` of one grid into `block` (row-major, `n_wbins` per row).
fn count_block(time_s: &[f64], wbin: &[u16], n_wbins: usize, grid: &Grid, first_bin: usize, block: &mut [u32]) {
    let mut pos = if first_bin == 0 { 0 } else { time_s.partition_point(|&t| t < grid.edge(first_bin)) };
    let mut hint = 0;
    for (r, row) in block.chunks_exact_mut(n_wbins).enumerate() {
        let j = first_bin + r;
        // The last bin is closed: it keeps every remaining event (all are ≤ e_J).
        let end = if j + 1 == grid.bins { time_s.len() } else { advance(time_s, pos, grid.edge(j + 1), hint) };
        for &w in &wbin[pos..end] {
            if w != UNSELECTED {
                row[usize::from(w)] += 1;
            }
        }
        hint = end - pos;
        pos = end;
    }
}

/// Counts matrices C_k[j, w] (u32, row-major J_k × n_wbins), one per grid, in one
/// pass over the time-sorted events per width. Every event must lie inside every
/// grid's edges; that always holds for tstart ≤ t ≤ tstop.
pub fn counts_matrices(time_s: &[f64], wbin: &[u16], n_wbins: usize, grids: &[Grid]) -> CoreResult<Vec<Vec<u32>>> {
    check_events(time_s, wbin, n_wbins, grids)?;
    Ok(grids.par_iter().map(|grid| counts_matrix(time_s, wbin, n_wbins, grid)).collect())
}

/// The counts matrix of one grid for events that passed [`check_events`] against it.
pub(crate) fn counts_matrix(time_s: &[f64], wbin: &[u16], n_wbins: usize, grid: &Grid) -> Vec<u32> {
    let mut counts = zeroed(grid.bins * n_wbins);
    counts.par_chunks_mut(BIN_BLOCK * n_wbins).enumerate().for_each(|(b, block)| {
        count_block(time_s, wbin, n_wbins, grid, b * BIN_BLOCK, block);
    });
    counts
}

/// GTIs as (start, stop) pairs after checking they are finite, ordered and disjoint.
pub(crate) fn check_gtis(gti_start_s: &[f64], gti_stop_s: &[f64]) -> CoreResult<Vec<(f64, f64)>> {
    if gti_start_s.len() != gti_stop_s.len() {
        return Err(CoreError::Data(format!("{} GTI starts but {} stops", gti_start_s.len(), gti_stop_s.len())));
    }
    let gtis: Vec<(f64, f64)> = gti_start_s.iter().copied().zip(gti_stop_s.iter().copied()).collect();
    for (i, &(start, stop)) in gtis.iter().enumerate() {
        if !(start.is_finite() && stop.is_finite() && start <= stop) {
            return Err(CoreError::Data(format!("GTI {i} [{start}, {stop}] must be finite with start ≤ stop")));
        }
        if i > 0 && gtis[i - 1].1 > start {
            return Err(CoreError::Data(format!(
                "GTI {i} starts at {start} before GTI {} stops: GTIs must be sorted and disjoint",
                i - 1
            )));
        }
    }
    Ok(gtis)
}

/// Exposure fractions E[j] = |GTIs ∩ [e_j, e_{j+1})| / Δ of one grid. A bin inside
/// one GTI gets exactly 1 (not (e_{j+1} − e_j)/Δ, which rounding moves off 1).
pub(crate) fn exposure_of(grid: &Grid, gtis: &[(f64, f64)]) -> Vec<f64> {
    let mut fraction = vec![0.0; grid.bins];
    let (span_lo, span_hi) = (grid.edge(0), grid.edge(grid.bins));
    for &(start, stop) in gtis {
        let (a, b) = (start.max(span_lo), stop.min(span_hi));
        if b <= a {
            continue;
        }
        let mut j = grid.locate(a);
        while j < grid.bins && grid.edge(j) < b {
            let (lo, hi) = (grid.edge(j), grid.edge(j + 1));
            fraction[j] += if a <= lo && hi <= b { 1.0 } else { (b.min(hi) - a.max(lo)) / grid.width_s };
            j += 1;
        }
    }
    // Touching GTIs may add partial fractions to a hair above 1.
    for value in &mut fraction {
        *value = value.min(1.0);
    }
    fraction
}

/// Exposure fractions of every grid for sorted, disjoint GTIs [s].
pub fn exposure_fractions(grids: &[Grid], gti_start_s: &[f64], gti_stop_s: &[f64]) -> CoreResult<Vec<Vec<f64>>> {
    let gtis = check_gtis(gti_start_s, gti_stop_s)?;
    Ok(grids.par_iter().map(|grid| exposure_of(grid, &gtis)).collect())
}

/// Valid bins: E[j] ≥ min_exposure, min_exposure ∈ (0, 1].
pub fn valid_bins(exposure: &[f64], min_exposure: f64) -> CoreResult<Vec<bool>> {
    if !(min_exposure > 0.0 && min_exposure <= 1.0) {
        return Err(CoreError::Parameter(format!("min_exposure must lie in (0, 1], got {min_exposure}")));
    }
    Ok(exposure.iter().map(|&e| e >= min_exposure).collect())
}

/// Chunk starts S: every s with bins s…s+L−1 all valid, ascending.
pub fn valid_starts(valid: &[bool], chunk_length: usize) -> CoreResult<Vec<u32>> {
    if chunk_length == 0 {
        return Err(CoreError::Parameter("chunk_length must be ≥ 1".into()));
    }
    if valid.len() > u32::MAX as usize {
        return Err(CoreError::Parameter(format!("{} time bins exceed the u32 bin index", valid.len())));
    }
    let mut starts = Vec::new();
    let mut run = 0usize;
    for (j, &ok) in valid.iter().enumerate() {
        run = if ok { run + 1 } else { 0 };
        if run >= chunk_length {
            starts.push((j + 1 - chunk_length) as u32);
        }
    }
    Ok(starts)
}

/// What [`bin_events`] needs besides the events and the GTIs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinningSpec<'a> {
    /// W, the wavelength bins (counts columns).
    pub n_wbins: usize,
    /// The width set Δ_k [s]; k is the position (and the OFFSETS stream index).
    pub widths_s: &'a [f64],
    /// Seed of the offsets u_k.
    pub analysis_seed: u64,
    /// The binned span [s, MET].
    pub tstart_s: f64,
    pub tstop_s: f64,
    /// A bin is valid when its exposure fraction is ≥ this, in (0, 1].
    pub min_exposure: f64,
    /// L, the bins per chunk.
    pub chunk_length: usize,
}

/// The binned events of one width Δ_k (SPEC §10.2–10.3).
#[derive(Debug, Clone, PartialEq)]
pub struct WidthBinning {
    /// u_k, the first draw of stream(analysis_seed, OFFSETS, k).
    pub offset: f64,
    pub grid: Grid,
    /// C_k[j, w] at `j * n_wbins + w`.
    pub counts: Vec<u32>,
    /// E_k[j], the GTI-covered fraction of bin j.
    pub exposure: Vec<f64>,
    /// E_k[j] ≥ min_exposure.
    pub valid: Vec<bool>,
    /// S_k: starts s with bins s…s+L−1 all valid, ascending.
    pub valid_starts: Vec<u32>,
}

/// Bin time-sorted events for every width of the width set: offsets, grids, counts,
/// exposure, valid bins and chunk starts, in width-set order. GTIs must be sorted and
/// disjoint [s]. Errors come in that order: offsets and grids (`Parameter`), events
/// (`Data`), GTIs (`Data`), `min_exposure` and `chunk_length` (`Parameter`).
pub fn bin_events(
    time_s: &[f64],
    wbin: &[u16],
    gti_start_s: &[f64],
    gti_stop_s: &[f64],
    spec: &BinningSpec<'_>,
) -> CoreResult<Vec<WidthBinning>> {
    let offsets = offsets(spec.analysis_seed, spec.widths_s.len())?;
    let grids = grids(spec.widths_s, &offsets, spec.tstart_s, spec.tstop_s)?;
    let counts = counts_matrices(time_s, wbin, spec.n_wbins, &grids)?;
    let exposure = exposure_fractions(&grids, gti_start_s, gti_stop_s)?;
    offsets
        .into_iter()
        .zip(grids)
        .zip(counts.into_iter().zip(exposure))
        .map(|((offset, grid), (counts, exposure))| {
            let valid = valid_bins(&exposure, spec.min_exposure)?;
            let valid_starts = valid_starts(&valid, spec.chunk_length)?;
            Ok(WidthBinning { offset, grid, counts, exposure, valid, valid_starts })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: ⌊(t − e0)/Δ⌋ corrected against the edges, one event at a time.
    fn reference(time_s: &[f64], wbin: &[u16], n_wbins: usize, grid: &Grid) -> Vec<u32> {
        let mut counts = vec![0u32; grid.bins * n_wbins];
        for (&t, &w) in time_s.iter().zip(wbin) {
            if w == UNSELECTED {
                continue;
            }
            counts[grid.locate(t) * n_wbins + usize::from(w)] += 1;
        }
        counts
    }

    fn events(n: usize, tstart: f64, tstop: f64, n_wbins: usize, seed: u64) -> (Vec<f64>, Vec<u16>) {
        let mut rng = stream(seed, domain::TASK, &[]);
        let mut time: Vec<f64> = (0..n).map(|_| tstart + uniform(&mut rng) * (tstop - tstart)).collect();
        time.sort_by(f64::total_cmp);
        let wbin = (0..n).map(|_| (uniform(&mut rng) * n_wbins as f64) as u16).collect();
        (time, wbin)
    }

    #[test]
    fn unselected_events_are_skipped() {
        let (time, mut wbin) = events(20_000, 0.0, 1000.0, 40, 3);
        for (i, w) in wbin.iter_mut().enumerate() {
            if i % 3 == 0 {
                *w = UNSELECTED;
            }
        }
        let grids = grids(&[10.0, 33.0], &offsets(1, 2).unwrap(), 0.0, 1000.0).unwrap();
        let counts = counts_matrices(&time, &wbin, 40, &grids).unwrap();
        for (matrix, grid) in counts.iter().zip(&grids) {
            assert_eq!(matrix, &reference(&time, &wbin, 40, grid));
            assert_eq!(matrix.iter().map(|&c| c as usize).sum::<usize>(), 20_000 - 20_000usize.div_ceil(3));
        }
    }

    #[test]
    fn counts_match_the_per_event_reference_including_edges() {
        let (tstart, tstop) = (3.0e8 + 0.25, 3.0e8 + 5000.0);
        let widths = [7.3, 20.0, 123.456, 4999.0, 6000.0];
        let grids = grids(&widths, &offsets(5, widths.len()).unwrap(), tstart, tstop).unwrap();
        let (mut time, mut wbin) = events(20_000, tstart, tstop, 17, 1);
        // Events exactly on edges of every grid, and at both ends of the span.
        for grid in &grids {
            for j in (0..=grid.bins).step_by(3) {
                let e = grid.edge(j);
                if (tstart..=tstop).contains(&e) {
                    time.push(e);
                    wbin.push((j % 17) as u16);
                }
            }
        }
        time.extend([tstart, tstop]);
        wbin.extend([0, 16]);
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let time: Vec<f64> = order.iter().map(|&i| time[i]).collect();
        let wbin: Vec<u16> = order.iter().map(|&i| wbin[i]).collect();
        let counts = counts_matrices(&time, &wbin, 17, &grids).unwrap();
        for (grid, c) in grids.iter().zip(&counts) {
            assert_eq!(c, &reference(&time, &wbin, 17, grid), "width {}", grid.width_s);
            assert_eq!(c.iter().map(|&v| v as usize).sum::<usize>(), time.len());
        }
    }

    #[test]
    fn advance_finds_the_partition_point_for_any_hint() {
        let mut rng = stream(3, domain::TASK, &[]);
        // Many ties, so runs of equal times straddle the probes.
        let mut time: Vec<f64> = (0..5000).map(|_| (uniform(&mut rng) * 400.0).floor()).collect();
        time.sort_by(f64::total_cmp);
        for trial in 0..20_000 {
            let from = (uniform(&mut rng) * 5001.0) as usize;
            let edge = uniform(&mut rng) * 420.0 - 10.0;
            let hint = [0, 1, 7, 31, 32, 33, 100, 4999, usize::MAX][trial % 9];
            let expected = from + time[from..].partition_point(|&t| t < edge);
            assert_eq!(advance(&time, from, edge, hint), expected, "from {from} edge {edge} hint {hint}");
            let floor = edge.floor();
            let expected = from + time[from..].partition_point(|&t| t < floor);
            assert_eq!(advance(&time, from, floor, hint), expected);
        }
    }

    #[test]
    fn grid_covers_the_span() {
        for (k, &u) in offsets(9, 200).unwrap().iter().enumerate() {
            let width = 1.0 + k as f64 * 0.37;
            let grid = Grid::new(width, u, 1.0e8, 1.0e8 + 777.7).unwrap();
            assert!(grid.edge(0) <= 1.0e8 && grid.edge(grid.bins) >= 1.0e8 + 777.7);
            assert!(grid.edge(grid.bins - 1) <= 1.0e8 + 777.7);
        }
    }

    #[test]
    fn thread_count_does_not_change_counts() {
        let (time, wbin) = events(300_001, 0.0, 50_000.0, 100, 2);
        let grids = grids(&[3.0, 20.0, 299.0], &offsets(1, 3).unwrap(), 0.0, 50_000.0).unwrap();
        let run = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| counts_matrices(&time, &wbin, 100, &grids))
        };
        let one = run(1).unwrap();
        assert_eq!(one, run(2).unwrap());
        assert_eq!(one, run(8).unwrap());
    }

    #[test]
    fn exposure_full_partial_and_total() {
        let grid = Grid { origin_s: 0.0, width_s: 10.0, bins: 10 };
        let gtis = [(0.0, 35.0), (40.0, 41.0), (55.0, 100.0)];
        let e = exposure_of(&grid, &gtis);
        assert_eq!(e, vec![1.0, 1.0, 1.0, 0.5, 0.1, 0.5, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(valid_bins(&e, 0.99).unwrap(), vec![true, true, true, false, false, false, true, true, true, true]);
        assert_eq!(valid_starts(&valid_bins(&e, 0.99).unwrap(), 3).unwrap(), vec![0, 6, 7]);
        assert_eq!(valid_starts(&[true; 2], 3).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn widths_are_sorted_inside_the_range_and_seeded() {
        for log in [false, true] {
            let w = width_set(3, 20.0, 300.0, 1000, log).unwrap();
            assert!(w.windows(2).all(|p| p[0] <= p[1]));
            assert!(w.iter().all(|&x| (20.0..=300.0).contains(&x)));
            assert_ne!(w, width_set(4, 20.0, 300.0, 1000, log).unwrap());
        }
        let first = uniform(&mut stream(8, domain::OFFSETS, &[2]));
        assert_eq!(offsets(8, 3).unwrap()[2].to_bits(), first.to_bits());
    }

    #[test]
    fn bin_events_equals_its_steps() {
        let (tstart, tstop) = (1.0e8, 1.0e8 + 20_000.0);
        let (time, wbin) = events(50_000, tstart, tstop, 12, 4);
        let (gti_start, gti_stop) =
            ([tstart, tstart + 7_000.3, tstart + 15_000.0], [tstart + 6_990.0, tstart + 14_000.0, tstop]);
        let widths = [3.7, 20.0, 250.0];
        let spec = BinningSpec {
            n_wbins: 12,
            widths_s: &widths,
            analysis_seed: 17,
            tstart_s: tstart,
            tstop_s: tstop,
            min_exposure: 0.99,
            chunk_length: 8,
        };
        let binned = bin_events(&time, &wbin, &gti_start, &gti_stop, &spec).unwrap();
        let offsets = offsets(17, 3).unwrap();
        let grids = grids(&widths, &offsets, tstart, tstop).unwrap();
        let counts = counts_matrices(&time, &wbin, 12, &grids).unwrap();
        let exposure = exposure_fractions(&grids, &gti_start, &gti_stop).unwrap();
        assert_eq!(binned.len(), 3);
        for (k, width) in binned.iter().enumerate() {
            assert_eq!(width.offset.to_bits(), offsets[k].to_bits());
            assert_eq!(width.grid, grids[k]);
            assert_eq!(width.counts, counts[k]);
            assert_eq!(width.exposure, exposure[k]);
            assert_eq!(width.valid, valid_bins(&exposure[k], 0.99).unwrap());
            assert_eq!(width.valid_starts, valid_starts(&width.valid, 8).unwrap());
            // the gaps invalidate some bins and hence some starts
            assert!(width.valid.iter().any(|&v| !v));
            assert!(!width.valid_starts.is_empty());
        }
        let bad = |spec: BinningSpec<'_>| bin_events(&time, &wbin, &gti_start, &gti_stop, &spec).err();
        assert!(matches!(bad(BinningSpec { min_exposure: 0.0, ..spec }), Some(CoreError::Parameter(_))));
        assert!(matches!(bad(BinningSpec { chunk_length: 0, ..spec }), Some(CoreError::Parameter(_))));
        assert!(matches!(bad(BinningSpec { widths_s: &[0.0], ..spec }), Some(CoreError::Parameter(_))));
        assert!(matches!(bad(BinningSpec { n_wbins: 11, ..spec }), Some(CoreError::Data(_))));
        assert!(matches!(bad(BinningSpec { tstart_s: tstart + 100.0, ..spec }), Some(CoreError::Data(_))));
        let unsorted_gtis = bin_events(&time, &wbin, &[tstop, tstart], &[tstop, tstart], &spec).err();
        assert!(matches!(unsorted_gtis, Some(CoreError::Data(_))));
        assert!(super::offsets(0, MAX_WIDTHS + 1).is_err());
    }

    #[test]
    fn bad_input_is_an_error() {
        let grid = grids(&[10.0], &[0.5], 0.0, 100.0).unwrap();
        assert!(matches!(counts_matrices(&[2.0, 1.0], &[0, 0], 2, &grid), Err(CoreError::Data(_))));
        assert!(matches!(counts_matrices(&[1.0, f64::NAN], &[0, 0], 2, &grid), Err(CoreError::Data(_))));
        assert!(matches!(counts_matrices(&[1.0, 200.0], &[0, 0], 2, &grid), Err(CoreError::Data(_))));
        assert!(matches!(counts_matrices(&[1.0], &[2], 2, &grid), Err(CoreError::Data(_))));
        assert!(matches!(counts_matrices(&[1.0], &[0, 1], 2, &grid), Err(CoreError::Data(_))));
        assert!(matches!(counts_matrices(&[1.0], &[0], 0, &grid), Err(CoreError::Parameter(_))));
        assert!(grids(&[0.0], &[0.5], 0.0, 100.0).is_err());
        assert!(grids(&[f64::NAN], &[0.5], 0.0, 100.0).is_err());
        assert!(grids(&[1.0], &[1.0], 0.0, 100.0).is_err());
        assert!(grids(&[1.0], &[], 0.0, 100.0).is_err());
        assert!(grids(&[1e-300], &[0.0], 0.0, 1e10).is_err());
        assert!(grids(&[1.0], &[0.0], 100.0, 0.0).is_err());
        assert!(exposure_fractions(&grid, &[5.0, 1.0], &[6.0, 2.0]).is_err());
        assert!(exposure_fractions(&grid, &[5.0], &[4.0]).is_err());
        assert!(exposure_fractions(&grid, &[5.0], &[]).is_err());
        assert!(valid_starts(&[true], 0).is_err());
        assert!(valid_bins(&[1.0], 0.0).is_err());
        assert!(width_set(0, 300.0, 20.0, 10, false).is_err());
        assert!(width_set(0, 20.0, 300.0, 0, false).is_err());
        assert_eq!(counts_matrices(&[], &[], 3, &grid).unwrap(), vec![vec![0; grid[0].bins * 3]]);
    }
}
