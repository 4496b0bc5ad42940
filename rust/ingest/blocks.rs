//! The parallel pass of [`super::ingest_table`]: fixed-size blocks of raw rows, each decoded, checked,
//! dithered and filtered into its own slice of the outputs.

use std::ops::Range;

use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use super::*;

struct ChannelTable {
    first: i64,
    bounds: Vec<(f64, f64)>,
}

impl ChannelTable {
    fn new(calibration: &Calibration) -> Option<Self> {
        let (first, last) = calibration.channel_range();
        if last - first > 1 << 20 {
            return None; // e.g. an open-ended linear calibration: compute per row instead
        }
        let bounds = (first..=last).filter_map(|ch| calibration.channel_interval_kev(ch)).collect();
        Some(Self { first, bounds })
    }
}

/// Scratch space of one block, reused by the blocks a thread handles.
struct BlockWork {
    rows: Vec<usize>,
    channel: Vec<i64>,
    value: Vec<f64>,
    energy: Vec<f64>,
    wavelength: Vec<f64>,
}

impl BlockWork {
    fn new() -> Self {
        Self { rows: Vec::new(), channel: Vec::new(), value: Vec::new(), energy: Vec::new(), wavelength: Vec::new() }
    }

    /// Energies and wavelengths of the (ascending) rows in `self.rows`, NaN when invalid.
    /// `dither` is the block's stream positioned at `block_start`: one draw per raw row.
    fn energies(
        &mut self,
        table: &Table<'_>,
        source: &EnergySource,
        channels: Option<&ChannelTable>,
        block_start: usize,
        dither: Option<&mut Pcg64Mcg>,
    ) {
        let m = self.rows.len();
        self.energy.resize(m, 0.0);
        self.wavelength.resize(m, 0.0);
        let rows = self.rows.iter().copied();
        match *source {
            EnergySource::Channels { field, calibration, .. } => {
                self.channel.resize(m, 0);
                decode(table.bytes, table.row_bytes, field, rows, &mut self.channel);
                let Some(rng) = dither else { return };
                let mut next_row = block_start; // the row the next draw belongs to
                for k in 0..m {
                    let row = self.rows[k];
                    for _ in next_row..row {
                        uniform(rng); // draws of rows outside the GTIs
                    }
                    let u = uniform(rng);
                    next_row = row + 1;
                    let ch = self.channel[k];
                    let interval = match channels {
                        Some(t) => usize::try_from(ch - t.first).ok().and_then(|i| t.bounds.get(i)).copied(),
                        None => calibration.channel_interval_kev(ch),
                    };
                    self.energy[k] = interval.map_or(f64::NAN, |(lo, hi)| lo + u * (hi - lo));
                }
            }
            EnergySource::Energy { field, per_kev } => {
                decode(table.bytes, table.row_bytes, field, rows, &mut self.energy);
                self.energy.iter_mut().for_each(|e| *e /= per_kev);
            }
            EnergySource::Wavelength { field, energy_kev } => {
                decode(table.bytes, table.row_bytes, field, rows, &mut self.wavelength);
                match energy_kev {
                    Some(f) => decode(table.bytes, table.row_bytes, f, self.rows.iter().copied(), &mut self.energy),
                    None => {
                        for (e, &l) in self.energy.iter_mut().zip(&self.wavelength) {
                            *e = HC_KEV_NM / l;
                        }
                    }
                }
                for (e, l) in self.energy.iter_mut().zip(self.wavelength.iter_mut()) {
                    if !(*l > 0.0 && l.is_finite()) {
                        *e = f64::NAN;
                        *l = f64::NAN;
                    }
                }
                return;
            }
        }
        for (e, l) in self.energy.iter_mut().zip(self.wavelength.iter_mut()) {
            if *e > 0.0 && e.is_finite() {
                *l = HC_KEV_NM / *e;
            } else {
                *e = f64::NAN;
                *l = f64::NAN;
            }
        }
    }
}

impl BlockWork {
    /// Move the valid rows (finite wavelength) to the front of the block's pieces; `self.rows`
    /// keeps only them. Returns how many were kept.
    fn compact_valid(
        &mut self,
        block_start: usize,
        time: &mut [f64],
        energy: &mut [f64],
        wavelength: &mut [f64],
    ) -> usize {
        let mut kept = 0;
        for k in 0..self.rows.len() {
            if self.wavelength[k].is_nan() {
                continue;
            }
            let row = self.rows[k];
            time[kept] = self.value[row - block_start];
            if let Some(slot) = energy.get_mut(kept) {
                *slot = self.energy[k];
            }
            wavelength[kept] = self.wavelength[k];
            self.rows[kept] = row;
            kept += 1;
        }
        self.rows.truncate(kept);
        kept
    }
}

/// Split `out` into consecutive pieces of the given lengths.
fn split_by<'s, T>(mut out: &'s mut [T], lengths: &[usize]) -> Vec<&'s mut [T]> {
    let mut pieces = Vec::with_capacity(lengths.len());
    for &length in lengths {
        let (head, tail) = out.split_at_mut(length);
        pieces.push(head);
        out = tail;
    }
    pieces
}

/// Decode, check, dither and filter an event table in one call.
/// What every block reads, shared by the bisection and the parallel pass.
pub(super) struct Pass<'a> {
    table: Table<'a>,
    time: Field,
    timezero_s: f64,
    energy: &'a EnergySource,
    channels: Option<ChannelTable>,
    extra: &'a [(Field, OutKind)],
}

impl<'a> Pass<'a> {
    pub(super) fn new(
        table: Table<'a>,
        time: Field,
        timezero_s: f64,
        energy: &'a EnergySource,
        extra: &'a [(Field, OutKind)],
    ) -> Self {
        let channels = match energy {
            EnergySource::Channels { calibration, .. } => ChannelTable::new(calibration),
            _ => None,
        };
        Self { table, time, timezero_s, energy, channels, extra }
    }

    /// The time of one row [s], TIMEZERO included.
    fn time_at(&self, row: usize) -> f64 {
        let mut value = [0.0f64];
        decode(self.table.bytes, self.table.row_bytes, self.time, std::iter::once(row), &mut value);
        value[0] + self.timezero_s
    }

    /// The first row whose time is not before `x`, by bisection of the (sorted) times.
    fn first_row_not_before(&self, x: f64) -> usize {
        let (mut lo, mut hi) = (0usize, self.table.rows);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.time_at(mid) < x {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The block's dithering stream: one draw per raw row, valid or not, in row order.
    fn dither_stream(&self, block: usize) -> Option<Pcg64Mcg> {
        match self.energy {
            EnergySource::Channels { dither_seed, dataset_key, .. } => {
                Some(stream(*dither_seed, domain::DITHER, &[*dataset_key, block as u64]))
            }
            _ => None,
        }
    }

    /// Blocks are fixed-size and write disjoint pieces, so the result never depends on the thread count.
    pub(super) fn run(&self, plan: &BlockPlan, pieces: Vec<BlockPieces<'_>>) -> Vec<BlockReport> {
        pieces
            .into_par_iter()
            .enumerate()
            .map_init(BlockWork::new, |work, (block, out)| self.ingest_block(plan, work, block, out))
            .collect()
    }

    /// One block: check all its times; if they are good, write its valid in-GTI rows into `out`.
    fn ingest_block(&self, plan: &BlockPlan, work: &mut BlockWork, block: usize, out: BlockPieces<'_>) -> BlockReport {
        let rows = plan.block_rows(block);
        let mut report = self.check_times(work, rows.clone());
        if report.bad.is_some() {
            return report;
        }
        work.rows.clear();
        plan.collect_candidates(block, &mut work.rows);
        let mut dither = self.dither_stream(block);
        work.energies(&self.table, self.energy, self.channels.as_ref(), rows.start, dither.as_mut());
        let BlockPieces { time, energy, wavelength, mut extra } = out;
        report.kept = work.compact_valid(rows.start, time, energy, wavelength);
        self.decode_extra(&work.rows, &mut extra);
        self.release_pages(rows);
        report
    }

    /// Every time of the block is checked, kept or not; they stay in `work.value`, TIMEZERO included.
    fn check_times(&self, work: &mut BlockWork, rows: Range<usize>) -> BlockReport {
        let mut report = BlockReport::default();
        work.value.resize(rows.len(), 0.0);
        decode(self.table.bytes, self.table.row_bytes, self.time, rows.clone(), &mut work.value);
        let mut previous = f64::NEG_INFINITY;
        for (i, t) in work.value.iter_mut().enumerate() {
            *t += self.timezero_s;
            if report.bad.is_none() {
                if !t.is_finite() {
                    report.bad = Some((rows.start + i, BadTime::NonFinite));
                } else if *t < previous {
                    report.bad = Some((rows.start + i, BadTime::Decreasing));
                }
            }
            previous = *t;
        }
        report.first_time = work.value.first().copied().unwrap_or(f64::NEG_INFINITY);
        report.last_time = work.value.last().copied().unwrap_or(f64::NEG_INFINITY);
        report
    }

    /// The extra columns of the kept `rows`, into the front of each piece.
    fn decode_extra(&self, rows: &[usize], pieces: &mut [ExtraPiece<'_>]) {
        let kept = rows.len();
        for (piece, (field, _)) in pieces.iter_mut().zip(self.extra) {
            let rows = rows.iter().copied();
            match piece {
                ExtraPiece::Float(values) => {
                    decode(self.table.bytes, self.table.row_bytes, *field, rows, &mut values[..kept])
                }
                ExtraPiece::Int(values) => {
                    decode(self.table.bytes, self.table.row_bytes, *field, rows, &mut values[..kept])
                }
            }
        }
    }

    /// A file-backed block's pages are done with once read; releasing them bounds the resident size.
    fn release_pages(&self, rows: Range<usize>) {
        if self.table.file_backed {
            let row_bytes = self.table.row_bytes;
            let read = &self.table.bytes[rows.start * row_bytes..rows.end * row_bytes];
            // SAFETY: only `Table::file_backed` sets the flag, whose caller guarantees a
            // shared file mapping; this block's pages are done with and would be re-read
            // from the page cache if touched again.
            unsafe { release_file_pages(read) };
        }
    }
}

/// The in-GTI rows of each block, known before any energy is: outputs are sized from them.
pub(super) struct BlockPlan {
    rows: usize,
    /// Each GTI as a row range of the (sorted) times. If the times are not sorted the
    /// ranges are meaningless, but the pass then fails anyway.
    ranges: Vec<(usize, usize)>,
    /// In-GTI rows per block.
    pub(super) candidates: Vec<usize>,
}

impl BlockPlan {
    pub(super) fn new(pass: &Pass<'_>, gti: &[(f64, f64)]) -> Self {
        let ranges = gti
            .iter()
            .map(|&(start, stop)| (pass.first_row_not_before(start), pass.first_row_not_before(stop)))
            .collect();
        let mut plan = Self { rows: pass.table.rows, ranges, candidates: Vec::new() };
        plan.candidates = (0..plan.rows.div_ceil(EVENT_BLOCK)).map(|block| plan.candidate_count(block)).collect();
        plan
    }

    pub(super) fn total_candidates(&self) -> usize {
        self.candidates.iter().sum()
    }

    fn block_rows(&self, block: usize) -> Range<usize> {
        let start = block * EVENT_BLOCK;
        start..(start + EVENT_BLOCK).min(self.rows)
    }

    /// The non-empty overlaps of the block with the GTI row ranges, in GTI order.
    fn candidate_ranges(&self, block: usize) -> impl Iterator<Item = Range<usize>> + '_ {
        let rows = self.block_rows(block);
        self.ranges.iter().map(move |&(lo, hi)| lo.max(rows.start)..hi.min(rows.end)).filter(|r| r.start < r.end)
    }

    fn candidate_count(&self, block: usize) -> usize {
        self.candidate_ranges(block).map(|r| r.len()).sum()
    }

    fn collect_candidates(&self, block: usize, rows: &mut Vec<usize>) {
        for range in self.candidate_ranges(block) {
            rows.extend(range);
        }
    }
}

/// The output columns, sized for every in-GTI row; rows with an invalid energy leave a gap
/// at the end of their block's piece, closed afterwards (rare: invalid channels or E ≤ 0).
pub(super) struct Outputs {
    time_s: Vec<f64>,
    energy_kev: Vec<f64>,
    wavelength_nm: Vec<f64>,
    extra: Vec<Column>,
    with_energy: bool,
}

impl Outputs {
    pub(super) fn zeroed(len: usize, extra: &[(Field, OutKind)], with_energy: bool) -> Self {
        Self {
            time_s: zeroed(len),
            energy_kev: zeroed(if with_energy { len } else { 0 }),
            wavelength_nm: zeroed(len),
            extra: extra
                .iter()
                .map(|(_, kind)| match kind {
                    OutKind::Float => Column::Float(zeroed(len)),
                    OutKind::Int => Column::Int(zeroed(len)),
                })
                .collect(),
            with_energy,
        }
    }

    /// Each block's own piece of every column, so blocks write in parallel without scratch copies.
    pub(super) fn pieces(&mut self, sizes: &[usize]) -> Vec<BlockPieces<'_>> {
        let time = split_by(&mut self.time_s, sizes);
        let energy: Vec<&mut [f64]> = if self.with_energy {
            split_by(&mut self.energy_kev, sizes)
        } else {
            sizes.iter().map(|_| <&mut [f64]>::default()).collect()
        };
        let wavelength = split_by(&mut self.wavelength_nm, sizes);
        let mut extra: Vec<Vec<ExtraPiece<'_>>> = sizes.iter().map(|_| Vec::new()).collect();
        for column in self.extra.iter_mut() {
            for (block, piece) in column.pieces(sizes).into_iter().enumerate() {
                extra[block].push(piece);
            }
        }
        time.into_iter()
            .zip(energy)
            .zip(wavelength)
            .zip(extra)
            .map(|(((time, energy), wavelength), extra)| BlockPieces { time, energy, wavelength, extra })
            .collect()
    }

    /// Close the gaps of invalid energies and count what was dropped.
    pub(super) fn finish(mut self, plan: &BlockPlan, kept: &[usize]) -> Ingested {
        let candidates = &plan.candidates[..];
        if kept != candidates {
            close_gaps(&mut self.time_s, candidates, kept);
            if self.with_energy {
                close_gaps(&mut self.energy_kev, candidates, kept);
            }
            close_gaps(&mut self.wavelength_nm, candidates, kept);
            for column in self.extra.iter_mut() {
                column.close_gaps(candidates, kept);
            }
        }
        let total_candidates = plan.total_candidates();
        let total_kept: usize = kept.iter().sum();
        Ingested {
            time_s: self.time_s,
            energy_kev: self.energy_kev,
            wavelength_nm: self.wavelength_nm,
            extra: self.extra,
            dropped_outside_gti: plan.rows - total_candidates,
            dropped_invalid_energy: total_candidates - total_kept,
        }
    }
}

impl Column {
    /// Consecutive pieces of the given lengths.
    fn pieces(&mut self, sizes: &[usize]) -> Vec<ExtraPiece<'_>> {
        match self {
            Column::Float(values) => split_by(values, sizes).into_iter().map(ExtraPiece::Float).collect(),
            Column::Int(values) => split_by(values, sizes).into_iter().map(ExtraPiece::Int).collect(),
        }
    }

    fn close_gaps(&mut self, sizes: &[usize], kept: &[usize]) {
        match self {
            Column::Float(values) => close_gaps(values, sizes, kept),
            Column::Int(values) => close_gaps(values, sizes, kept),
        }
    }
}

/// The first bad time in row order: inside a block, else at a block boundary.
pub(super) fn first_bad_time(reports: &[BlockReport]) -> CoreResult<()> {
    let first_bad = reports.iter().find_map(|report| report.bad).or_else(|| {
        // Block boundaries: the first time of each block against the last of the previous one.
        reports
            .windows(2)
            .position(|pair| pair[1].first_time < pair[0].last_time)
            .map(|block| ((block + 1) * EVENT_BLOCK, BadTime::Decreasing))
    });
    match first_bad {
        Some((row, BadTime::NonFinite)) => Err(CoreError::Data(format!("non-finite time at row {}", row + 1))),
        Some((row, BadTime::Decreasing)) => Err(CoreError::UnsortedTimes { row: row + 1 }),
        None => Ok(()),
    }
}

/// Move each block's `kept` leading values left so the pieces are contiguous, then truncate.
fn close_gaps<T: Copy>(values: &mut Vec<T>, sizes: &[usize], kept: &[usize]) {
    let (mut source, mut target) = (0usize, 0usize);
    for (&size, &count) in sizes.iter().zip(kept) {
        values.copy_within(source..source + count, target);
        source += size;
        target += count;
    }
    values.truncate(target);
}

/// Why a time is rejected.
#[derive(Debug, Clone, Copy)]
enum BadTime {
    NonFinite,
    Decreasing,
}

#[derive(Default)]
pub(super) struct BlockReport {
    /// The first bad row (0-based) of the block and what is wrong with it.
    bad: Option<(usize, BadTime)>,
    first_time: f64,
    last_time: f64,
    pub(super) kept: usize,
}

enum ExtraPiece<'a> {
    Float(&'a mut [f64]),
    Int(&'a mut [i64]),
}

/// One block's pieces of the outputs; `energy` is empty when energies are not wanted.
pub(super) struct BlockPieces<'a> {
    time: &'a mut [f64],
    energy: &'a mut [f64],
    wavelength: &'a mut [f64],
    extra: Vec<ExtraPiece<'a>>,
}
