//! P3, the lanesheet spectral-timing test (SPEC §11.9, steps 1–4).
//!
//! Units: times and dt in s, frequencies in Hz, the log-frequency grid in ln Hz, band bin
//! centres λ_j in nm, slopes in ln Hz per nm. Rows are wavelength bins.
//!
//! 1. **Periodograms.** t0 = first GTI start, t1 = last GTI stop, N = ⌊(t1 − t0)/dt⌋ bins
//!    [e_k, e_{k+1}), e_k = t0 + k·dt (binning's edge arithmetic and counting). Events before
//!    t0 lie outside every GTI and events at or after e_N fall in the incomplete last bin:
//!    both are dropped. Row j: counts c_jk, exposure fractions E_k (binning's), x_jk = c_jk/E_k
//!    where E_k > 0 else 0, minus the row's mean over the exposed bins only, so gaps stay
//!    exactly 0 (the window is part of the null). P_j(f_k) = 2|X_jk|²/N_j with X the
//!    unnormalised forward DFT (rustfft), N_j the row's selected events inside the grid,
//!    f_k = k/(N·dt), k = 1..⌊N/2⌋. A row with N_j = 0 has no Leahy normalisation and is left
//!    out of every later step (the rows used are reported).
//! 2. **Log grid.** G steps of Δ = (ln f_max − ln f_min)/G from ln f_min, f_min = 4/(t1 − t0),
//!    f_max = 1/(2·dt). Frequency k goes to step min(⌊(ln f_k − ln f_min)/Δ⌋, G − 1) (the last
//!    step is closed, which also absorbs rounding at the Nyquist frequency); frequencies below
//!    f_min are ignored. A step's value is the mean of its powers. At the low end Fourier
//!    frequencies are sparser than the steps; an empty step takes the power of the frequency
//!    nearest its centre in ln f (ties: the lower frequency), so every row is a full row of
//!    real powers and a stack never mixes present and missing values.
//! 3. **Stack.** s_i = linspace(slope_min, slope_max, slope_count); row j shifts by
//!    d_ij = round(s_i·λ_j/Δ) steps (half away from zero); S(s_i, k) = mean over the used rows
//!    of R_j[k + d_ij], k the step index of the intercept at λ = 0, c_k = ln f_min + (k + ½)·Δ.
//!    The image spans k_lo = min_i(−min_j d_ij) … k_hi = max_i(G − 1 − max_j d_ij); a cell
//!    where any row falls off the grid is NaN (never a mean over fewer rows, which would
//!    make cells incomparable).
//! 4. **Maximum.** S_max = max over finite cells − 2 (the Poisson Leahy mean); ties go to the
//!    lowest slope index, then the lowest k.
//!
//! Every row and every slope is computed whole by one task with the same FFT plan, and every
//! sum runs in index order (rows ascending), so the output is identical for any thread count.

use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::binning::{check_events, check_gtis, counts_matrix, exposure_of, Grid, MAX_CELLS, UNSELECTED};
use crate::error::{CoreError, CoreResult};
use crate::rng::EVENT_BLOCK;

/// Fewest time bins P3 accepts: below this the log grid spans less than ln 2.
pub const MIN_TIME_BINS: usize = 16;
/// Most log-frequency steps and most slopes.
pub const MAX_STEPS: usize = 1 << 20;
/// Most image cells (1 GiB of f64).
pub const MAX_IMAGE_CELLS: usize = 1 << 27;
/// Largest row shift, in steps, that slopes × centres may ask for.
const MAX_SHIFT: f64 = (1u64 << 30) as f64;

/// Everything P3 reads: the selected events, the band's bin centres, the GTIs and settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct P3Input<'a> {
    /// Event times [s], sorted ascending.
    pub time_s: &'a [f64],
    /// Wavelength bin of each event; [`UNSELECTED`] events are skipped.
    pub wbin: &'a [u16],
    /// W, the band's bins (rows).
    pub n_wbins: usize,
    /// λ_j [nm], one per band bin.
    pub centres_nm: &'a [f64],
    /// Sorted, disjoint GTIs [s].
    pub gti_start_s: &'a [f64],
    pub gti_stop_s: &'a [f64],
    /// Time resolution of the light curves [s].
    pub dt_s: f64,
    /// G, the log-frequency steps.
    pub log_bins: usize,
    /// Slope grid [ln Hz per nm].
    pub slope_min: f64,
    pub slope_max: f64,
    pub slope_count: usize,
}

/// Step 1 alone: the Leahy periodograms of the rows with events.
#[derive(Debug, Clone, PartialEq)]
pub struct Periodograms {
    /// N, the time bins of width dt.
    pub n_time_bins: usize,
    /// N_j of every row (selected events inside the grid).
    pub events: Vec<u64>,
    /// The rows with N_j > 0, ascending.
    pub used: Vec<usize>,
    /// P_j(f_k), `used.len()` × ⌊N/2⌋ row-major, f_k = k/(N·dt) for k = 1…⌊N/2⌋.
    pub powers: Vec<f64>,
}

/// Steps 1–4: the statistic, its argmax and everything needed to draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct P3Result {
    /// S_max = max S − 2.
    pub stat: f64,
    /// ŝ [ln Hz per nm] and its index in `slopes`.
    pub slope: f64,
    pub slope_index: usize,
    /// ĉ [ln Hz] and its step index k̂ (k_lo ≤ k̂ ≤ k_hi).
    pub intercept_ln_hz: f64,
    pub intercept_index: i64,
    pub slopes: Vec<f64>,
    /// k_lo and c_k [ln Hz] for k = k_lo…k_hi, the image's columns.
    pub k_lo: i64,
    pub intercepts_ln_hz: Vec<f64>,
    /// S(s_i, c_k), `slopes.len()` × `intercepts_ln_hz.len()` row-major, NaN off the grid.
    pub image: Vec<f64>,
    /// R_j, `used.len()` × G row-major.
    pub rebinned: Vec<f64>,
    pub used: Vec<usize>,
    pub events: Vec<u64>,
    /// ln f_min [ln Hz] and Δ: step g covers [start + g·Δ, start + (g + 1)·Δ).
    pub log_f_start: f64,
    pub log_f_step: f64,
    pub n_time_bins: usize,
    pub dt_s: f64,
}

/// The exposure-corrected light curves of step 1, kept as counts (N × W, time-major).
struct Curves {
    n: usize,
    /// t1 − t0 [s].
    span_s: f64,
    n_wbins: usize,
    counts: Vec<u32>,
    /// 1/E_k where E_k > 0, else 0.
    inverse_exposure: Vec<f64>,
    exposed: usize,
    events: Vec<u64>,
    used: Vec<usize>,
}

/// One thread's FFT buffers, reused row after row.
struct Work {
    buffer: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl Curves {
    fn new(input: &P3Input<'_>) -> CoreResult<Self> {
        let TimeGrid { grid, gtis, span_s } = time_grid(input)?;
        let n_wbins = input.n_wbins;
        if grid.bins.checked_mul(n_wbins).is_none_or(|cells| cells > MAX_CELLS) {
            return Err(CoreError::Parameter(format!(
                "p3: {} time bins × {n_wbins} wavelength bins exceed {MAX_CELLS} cells: raise dt_s",
                grid.bins
            )));
        }
        check_events(input.time_s, input.wbin, n_wbins, &[])?;
        let first = input.time_s.partition_point(|&t| t < grid.origin_s);
        let end = input.time_s.partition_point(|&t| t < grid.edge(grid.bins));
        let (time_s, wbin) = (&input.time_s[first..end.max(first)], &input.wbin[first..end.max(first)]);
        let counts = counts_matrix(time_s, wbin, n_wbins, &grid);
        let events = wbin
            .par_chunks(EVENT_BLOCK)
            .map(|block| {
                let mut n = vec![0u64; n_wbins];
                block.iter().filter(|&&w| w != UNSELECTED).for_each(|&w| n[usize::from(w)] += 1);
                n
            })
            .reduce(|| vec![0; n_wbins], |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect());
        let exposure = exposure_of(&grid, &gtis);
        let exposed = exposure.iter().filter(|&&e| e > 0.0).count();
        if exposed == 0 {
            return Err(CoreError::Data("p3: the GTIs expose none of the time grid".into()));
        }
        let inverse_exposure = exposure.iter().map(|&e| if e > 0.0 { 1.0 / e } else { 0.0 }).collect();
        let used = (0..n_wbins).filter(|&j| events[j] > 0).collect::<Vec<_>>();
        if used.is_empty() {
            return Err(CoreError::Data("p3: no wavelength bin has a selected event inside the GTIs".into()));
        }
        Ok(Self { n: grid.bins, span_s, n_wbins, counts, inverse_exposure, exposed, events, used })
    }

    fn plan(&self) -> (Arc<dyn Fft<f64>>, impl Fn() -> Work + Sync + Send) {
        let fft = FftPlanner::new().plan_fft_forward(self.n);
        let (n, scratch) = (self.n, fft.get_inplace_scratch_len());
        (fft, move || Work { buffer: vec![Complex::default(); n], scratch: vec![Complex::default(); scratch] })
    }

    /// P_j(f_k), k = 1…⌊N/2⌋, of row j into `out`.
    fn periodogram(&self, j: usize, fft: &dyn Fft<f64>, work: &mut Work, out: &mut [f64]) {
        let mut sum = 0.0;
        for (k, (x, &inverse)) in work.buffer.iter_mut().zip(&self.inverse_exposure).enumerate() {
            let value = f64::from(self.counts[k * self.n_wbins + j]) * inverse;
            *x = Complex::new(value, 0.0);
            sum += value;
        }
        let mean = sum / self.exposed as f64;
        for (x, &inverse) in work.buffer.iter_mut().zip(&self.inverse_exposure) {
            if inverse > 0.0 {
                x.re -= mean;
            }
        }
        fft.process_with_scratch(&mut work.buffer, &mut work.scratch);
        let scale = 2.0 / self.events[j] as f64;
        for (p, x) in out.iter_mut().zip(&work.buffer[1..]) {
            *p = scale * x.norm_sqr();
        }
    }
}

/// The time grid t0 + k·dt, k ≤ N, the checked GTIs and their span t1 − t0 [s].
struct TimeGrid {
    grid: Grid,
    gtis: Vec<(f64, f64)>,
    span_s: f64,
}

fn time_grid(input: &P3Input<'_>) -> CoreResult<TimeGrid> {
    let dt = input.dt_s;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(CoreError::Parameter(format!("p3: dt_s must be finite and > 0, got {dt}")));
    }
    let gtis = check_gtis(input.gti_start_s, input.gti_stop_s)?;
    let (Some(&(t0, _)), Some(&(_, t1))) = (gtis.first(), gtis.last()) else {
        return Err(CoreError::Data("p3: no GTIs".into()));
    };
    let scale = t0.abs().max(t1.abs()).max(f64::MIN_POSITIVE);
    if dt < scale * f64::EPSILON * 32.0 {
        return Err(CoreError::Parameter(format!("p3: dt_s = {dt} is below the time resolution at {scale} s")));
    }
    let bins = ((t1 - t0) / dt).floor();
    if bins >= MAX_CELLS as f64 {
        return Err(CoreError::Parameter(format!("p3: dt_s = {dt} gives {bins} time bins: raise dt_s")));
    }
    if bins < MIN_TIME_BINS as f64 {
        return Err(CoreError::Data(format!(
            "p3: the GTI span {} s is too short for dt_s = {dt}: {bins} time bins, at least {MIN_TIME_BINS} needed",
            t1 - t0
        )));
    }
    Ok(TimeGrid { grid: Grid { origin_s: t0, width_s: dt, bins: bins as usize }, gtis, span_s: t1 - t0 })
}

/// Step 1: the Leahy periodograms of every row with events (see the module docs).
pub fn periodograms(input: &P3Input<'_>) -> CoreResult<Periodograms> {
    let curves = Curves::new(input)?;
    let half = curves.n / 2;
    let (fft, work) = curves.plan();
    let mut powers = vec![0.0; curves.used.len() * half];
    powers.par_chunks_mut(half).zip(curves.used.par_iter()).for_each_init(work, |work, (out, &j)| {
        curves.periodogram(j, fft.as_ref(), work, out);
    });
    Ok(Periodograms { n_time_bins: curves.n, events: curves.events, used: curves.used, powers })
}

/// Where each Fourier frequency goes on the log grid (the same for every row).
#[derive(Debug, Clone, PartialEq)]
struct LogGrid {
    start: f64,
    step: f64,
    /// The first frequency index (0-based, into a periodogram) at or above f_min.
    first: usize,
    /// The step of each frequency from `first` on.
    step_of: Vec<usize>,
    /// Frequencies per step, and the frequency standing in for an empty step.
    count: Vec<u32>,
    nearest: Vec<usize>,
}

impl LogGrid {
    fn new(n: usize, dt: f64, span_s: f64, steps: usize) -> CoreResult<Self> {
        let start = (4.0 / span_s).ln();
        let step = ((1.0 / (2.0 * dt)).ln() - start) / steps as f64;
        let position = |k: usize| ((k as f64 / (n as f64 * dt)).ln() - start) / step;
        let u: Vec<f64> = (1..=n / 2).map(position).collect();
        let first = u.partition_point(|&x| x < 0.0);
        if first == u.len() || !step.is_finite() || step <= 0.0 {
            return Err(CoreError::Data(format!("p3: no Fourier frequency between 4/span and 1/(2·{dt} s)")));
        }
        let step_of: Vec<usize> = u[first..].iter().map(|&x| (x.floor() as usize).min(steps - 1)).collect();
        let mut count = vec![0u32; steps];
        step_of.iter().for_each(|&g| count[g] += 1);
        let candidates = &u[first..];
        let nearest = (0..steps)
            .map(|g| {
                let centre = g as f64 + 0.5;
                let above = candidates.partition_point(|&x| x < centre).min(candidates.len() - 1);
                let below = above.saturating_sub(1);
                let closer_below = (centre - candidates[below]).abs() <= (candidates[above] - centre).abs();
                first + if closer_below { below } else { above }
            })
            .collect();
        Ok(Self { start, step, first, step_of, count, nearest })
    }

    /// R_j: the mean power per step, or the nearest frequency's power for an empty step.
    fn rebin(&self, powers: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (&g, &p) in self.step_of.iter().zip(&powers[self.first..]) {
            out[g] += p;
        }
        for ((value, &count), &nearest) in out.iter_mut().zip(&self.count).zip(&self.nearest) {
            *value = if count > 0 { *value / f64::from(count) } else { powers[nearest] };
        }
    }
}

/// s_i exactly as `numpy.linspace(min, max, count)`.
fn slope_grid(min: f64, max: f64, count: usize) -> Vec<f64> {
    let step = if count > 1 { (max - min) / (count - 1) as f64 } else { 0.0 };
    (0..count).map(|i| if i + 1 == count && count > 1 { max } else { min + i as f64 * step }).collect()
}

fn check_settings(input: &P3Input<'_>) -> CoreResult<()> {
    if !(2..=MAX_STEPS).contains(&input.log_bins) {
        return Err(CoreError::Parameter(format!("p3: log_bins must be in 2…{MAX_STEPS}, got {}", input.log_bins)));
    }
    if !(1..=MAX_STEPS).contains(&input.slope_count) {
        let count = input.slope_count;
        return Err(CoreError::Parameter(format!("p3: slope_count must be in 1…{MAX_STEPS}, got {count}")));
    }
    let (lo, hi) = (input.slope_min, input.slope_max);
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(CoreError::Parameter(format!("p3: need finite slope_min ≤ slope_max, got {lo}, {hi}")));
    }
    if input.centres_nm.len() != input.n_wbins {
        let (centres, bins) = (input.centres_nm.len(), input.n_wbins);
        return Err(CoreError::Parameter(format!("p3: {centres} bin centres for {bins} wavelength bins")));
    }
    if let Some(bad) = input.centres_nm.iter().find(|c| !c.is_finite()) {
        return Err(CoreError::Parameter(format!("p3: bin centres must be finite, got {bad}")));
    }
    Ok(())
}

/// The shifts d_ij, slope-major (one per used row), and each slope's valid k range
/// [−min_j d_ij, G − 1 − max_j d_ij] (empty when lo > hi).
type Shifts = (Vec<i64>, Vec<(i64, i64)>);

fn shifts(slopes: &[f64], centres: &[f64], step: f64, steps: usize) -> CoreResult<Shifts> {
    let mut d = Vec::with_capacity(slopes.len() * centres.len());
    for &s in slopes {
        for &lambda in centres {
            let shift = (s * lambda / step).round();
            if shift.abs() > MAX_SHIFT {
                return Err(CoreError::Parameter(format!(
                    "p3: slope {s} at {lambda} nm shifts a row by {shift} log-frequency steps"
                )));
            }
            d.push(shift as i64);
        }
    }
    let limits = d
        .chunks_exact(centres.len())
        .map(|di| {
            let (min, max) = di.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            (-min, steps as i64 - 1 - max)
        })
        .collect();
    Ok((d, limits))
}

/// S(s_i, k) for k = k_lo…k_lo + n_k − 1, row-major; NaN where a row falls off the grid.
fn stack(rebinned: &[f64], steps: usize, (d, limits): &Shifts, k_lo: i64, n_k: usize) -> Vec<f64> {
    let rows = rebinned.len() / steps;
    let mut image = vec![f64::NAN; limits.len() * n_k];
    image.par_chunks_mut(n_k).zip(d.par_chunks(rows)).zip(limits.par_iter()).for_each(|((cells, di), &(lo, hi))| {
        if lo > hi {
            return;
        }
        let cells = &mut cells[(lo - k_lo) as usize..=(hi - k_lo) as usize];
        cells.fill(0.0);
        for (row, &shift) in rebinned.chunks_exact(steps).zip(di) {
            for (cell, &r) in cells.iter_mut().zip(&row[(lo + shift) as usize..]) {
                *cell += r;
            }
        }
        cells.iter_mut().for_each(|cell| *cell /= rows as f64);
    });
    image
}

/// (value, slope index, column) of the largest finite cell, the first one on ties.
fn argmax(image: &[f64], n_k: usize) -> (f64, usize, usize) {
    let mut best = (f64::NEG_INFINITY, 0, 0);
    for (i, cells) in image.chunks_exact(n_k).enumerate() {
        for (m, &value) in cells.iter().enumerate() {
            if value.is_finite() && value > best.0 {
                best = (value, i, m);
            }
        }
    }
    best
}

/// Steps 1–4 of SPEC §11.9 (see the module docs). Errors in the settings are `Parameter`,
/// errors in the GTIs, events or span `Data`.
pub fn p3_statistic(input: &P3Input<'_>) -> CoreResult<P3Result> {
    check_settings(input)?;
    let curves = Curves::new(input)?;
    let (n, steps, dt) = (curves.n, input.log_bins, input.dt_s);
    let grid = LogGrid::new(n, dt, curves.span_s, steps)?;
    let slopes = slope_grid(input.slope_min, input.slope_max, input.slope_count);
    let centres: Vec<f64> = curves.used.iter().map(|&j| input.centres_nm[j]).collect();
    let shifts = shifts(&slopes, &centres, grid.step, steps)?;
    let limits = &shifts.1;
    if limits.iter().all(|&(lo, hi)| lo > hi) {
        return Err(CoreError::Data(format!(
            "p3: no slope keeps every wavelength bin on the {steps}-step log-frequency grid: \
             narrow the slope range or lengthen the span"
        )));
    }
    let k_lo = limits.iter().map(|l| l.0).min().unwrap_or(0);
    let k_hi = limits.iter().map(|l| l.1).max().unwrap_or(0);
    let n_k = (k_hi - k_lo + 1) as usize;
    if n_k.checked_mul(slopes.len()).is_none_or(|cells| cells > MAX_IMAGE_CELLS) {
        return Err(CoreError::Parameter(format!(
            "p3: the image would have {} slopes × {n_k} intercepts (> {MAX_IMAGE_CELLS} cells)",
            slopes.len()
        )));
    }

    let (fft, work) = curves.plan();
    let mut rebinned = vec![0.0; centres.len() * steps];
    rebinned.par_chunks_mut(steps).zip(curves.used.par_iter()).for_each_init(
        || (work(), vec![0.0; n / 2]),
        |(work, powers), (out, &j)| {
            curves.periodogram(j, fft.as_ref(), work, powers);
            grid.rebin(powers, out);
        },
    );
    let image = stack(&rebinned, steps, &shifts, k_lo, n_k);
    let (peak, slope_index, column) = argmax(&image, n_k);
    let intercept = |k: i64| grid.start + (k as f64 + 0.5) * grid.step;
    Ok(P3Result {
        stat: peak - 2.0,
        slope: slopes[slope_index],
        slope_index,
        intercept_ln_hz: intercept(k_lo + column as i64),
        intercept_index: k_lo + column as i64,
        slopes,
        k_lo,
        intercepts_ln_hz: (k_lo..=k_hi).map(intercept).collect(),
        image,
        rebinned,
        used: curves.used,
        events: curves.events,
        log_f_start: grid.start,
        log_f_step: grid.step,
        n_time_bins: n,
        dt_s: dt,
    })
}

#[cfg(test)]
mod tests;
