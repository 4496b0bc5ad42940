//! Fused ingestion of a FITS binary table (SPEC §6.1–6.3) in one parallel pass.
//!
//! Input is the raw big-endian row buffer of the EVENTS table (row-major, `row_bytes`
//! per row), so no per-column conversion happens before this call. Times are sorted,
//! so each GTI is a row range found by bisection; outputs are sized for the in-GTI rows
//! and every block of 65 536 raw rows (one dithering stream of SPEC §1 each, one draw
//! per raw row) checks all its times [s], assigns energies [keV] and wavelengths [nm]
//! and writes its valid rows straight into place. Rows with an invalid energy are rare;
//! the gaps they leave are closed at the end. No full-length scratch arrays. Blocks are fixed-size, so the
//! result never depends on the thread count.

use std::ops::Range;

use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::calibration::{Calibration, HC_KEV_NM};
use crate::error::{CoreError, CoreResult};
use crate::memory::{release_file_pages, zeroed};
use crate::rng::{domain, stream, uniform, EVENT_BLOCK};

/// Storage type of one FITS column (always big-endian in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    U8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl FieldType {
    pub fn from_code(code: &str) -> CoreResult<Self> {
        Ok(match code {
            "u1" => Self::U8,
            "i2" => Self::I16,
            "i4" => Self::I32,
            "i8" => Self::I64,
            "f4" => Self::F32,
            "f8" => Self::F64,
            other => return Err(CoreError::Parameter(format!("unsupported FITS column type '{other}'"))),
        })
    }

    fn width(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::I16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::I64 | Self::F64 => 8,
        }
    }
}

/// One column: its byte offset inside a row and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: usize,
    pub kind: FieldType,
}

/// Output value types a stored column widens into.
trait Widen: Copy {
    fn from_i64(value: i64) -> Self;
    fn from_f64(value: f64) -> Self;
}

impl Widen for f64 {
    #[inline]
    fn from_i64(value: i64) -> Self {
        value as f64
    }
    #[inline]
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Widen for i64 {
    #[inline]
    fn from_i64(value: i64) -> Self {
        value
    }
    /// Truncation: callers only pass integral floats to integer outputs.
    #[inline]
    fn from_f64(value: f64) -> Self {
        value as i64
    }
}

/// Decode `field` of the picked rows (big-endian), one tight loop per storage type.
fn decode<T: Widen>(rows: &[u8], row_bytes: usize, field: Field, pick: impl Iterator<Item = usize>, out: &mut [T]) {
    macro_rules! run {
        ($width:literal, $convert:expr) => {
            for (slot, i) in out.iter_mut().zip(pick) {
                let at = i * row_bytes + field.offset;
                let mut raw = [0u8; $width];
                raw.copy_from_slice(&rows[at..at + $width]);
                *slot = $convert(raw);
            }
        };
    }
    match field.kind {
        FieldType::U8 => run!(1, |b: [u8; 1]| T::from_i64(i64::from(b[0]))),
        FieldType::I16 => run!(2, |b| T::from_i64(i64::from(i16::from_be_bytes(b)))),
        FieldType::I32 => run!(4, |b| T::from_i64(i64::from(i32::from_be_bytes(b)))),
        FieldType::I64 => run!(8, |b| T::from_i64(i64::from_be_bytes(b))),
        FieldType::F32 => run!(4, |b| T::from_f64(f64::from(f32::from_be_bytes(b)))),
        FieldType::F64 => run!(8, |b| T::from_f64(f64::from_be_bytes(b))),
    }
}

/// Where energies and wavelengths come from (SPEC §6.2).
#[derive(Debug, Clone, Copy)]
pub enum EnergySource {
    /// Integer channels dithered uniformly in energy inside their interval.
    Channels { field: Field, calibration: Calibration, dither_seed: u64, dataset_key: u64 },
    /// A continuous ENERGY column, `per_kev` of its units making one keV (1000 for eV, 1 for keV).
    Energy { field: Field, per_kev: f64 },
    /// A stored WAVELENGTH column in nm, with an optional stored ENERGY_KEV column.
    Wavelength { field: Field, energy_kev: Option<Field> },
}

/// Output type of an extra column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    Float,
    Int,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Float(Vec<f64>),
    Int(Vec<i64>),
}

/// The kept events, in file order, and what was dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub time_s: Vec<f64>,
    pub energy_kev: Vec<f64>,
    pub wavelength_nm: Vec<f64>,
    pub extra: Vec<Column>,
    pub dropped_outside_gti: usize,
    pub dropped_invalid_energy: usize,
}

/// A view of the raw table bytes.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    pub bytes: &'a [u8],
    pub row_bytes: usize,
    pub rows: usize,
    /// The bytes lie in a shared file mapping, so their pages may be released once read.
    file_backed: bool,
}

impl<'a> Table<'a> {
    /// A table over any memory; its pages are never released.
    pub fn new(bytes: &'a [u8], row_bytes: usize, rows: usize) -> CoreResult<Self> {
        if row_bytes == 0 || bytes.len() < row_bytes.saturating_mul(rows) {
            return Err(CoreError::Data(format!(
                "table buffer of {} bytes is too short for {rows} rows of {row_bytes} bytes",
                bytes.len()
            )));
        }
        Ok(Self { bytes, row_bytes, rows, file_backed: false })
    }

    /// A table over a file mapping: [`ingest_table`] releases each block's pages once it has
    /// read them, which keeps the resident size of a 10⁸-row file near the output size.
    ///
    /// # Safety
    ///
    /// `bytes` must satisfy the contract of [`release_file_pages`]: it lies inside a shared
    /// file mapping (e.g. Python's `mmap.mmap(..., access=ACCESS_READ)`).
    pub unsafe fn file_backed(bytes: &'a [u8], row_bytes: usize, rows: usize) -> CoreResult<Self> {
        Ok(Self { file_backed: true, ..Self::new(bytes, row_bytes, rows)? })
    }

    /// Whether reading the table releases its pages.
    pub fn is_file_backed(&self) -> bool {
        self.file_backed
    }

    fn check(&self, field: &Field) -> CoreResult<()> {
        if field.offset + field.kind.width() > self.row_bytes {
            return Err(CoreError::Parameter(format!("column at byte {} lies outside the row", field.offset)));
        }
        Ok(())
    }
}

/// Per-channel [lo, hi) energies, so dithering needs no division per row.
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
///
/// `gti` must be sorted and merged; events are kept when start ≤ t < stop for
/// some GTI and their energy is valid. Times must be finite and non-decreasing
/// (the error names the 1-based row; decreasing times are [`CoreError::UnsortedTimes`]).
/// The pages of a [`Table::file_backed`] table are released block by block.
pub fn ingest_table(
    table: &Table<'_>,
    time: Field,
    timezero_s: f64,
    energy: &EnergySource,
    extra: &[(Field, OutKind)],
    gti: &[(f64, f64)],
    with_energy: bool,
) -> CoreResult<Ingested> {
    check_fields(table, &time, energy, extra)?;
    let pass = Pass::new(*table, time, timezero_s, energy, extra);
    let plan = BlockPlan::new(&pass, gti);
    let mut outputs = Outputs::zeroed(plan.total_candidates(), extra, with_energy);
    let reports = pass.run(&plan, outputs.pieces(&plan.candidates));
    first_bad_time(&reports)?;
    let kept: Vec<usize> = reports.iter().map(|report| report.kept).collect();
    Ok(outputs.finish(&plan, &kept))
}

/// Every column must lie inside a row before any row is read.
fn check_fields(table: &Table<'_>, time: &Field, energy: &EnergySource, extra: &[(Field, OutKind)]) -> CoreResult<()> {
    table.check(time)?;
    match energy {
        EnergySource::Channels { field, .. } | EnergySource::Energy { field, .. } => table.check(field)?,
        EnergySource::Wavelength { field, energy_kev } => {
            table.check(field)?;
            if let Some(f) = energy_kev {
                table.check(f)?;
            }
        }
    }
    for (field, _) in extra {
        table.check(field)?;
    }
    Ok(())
}

/// What every block reads, shared by the bisection and the parallel pass.
struct Pass<'a> {
    table: Table<'a>,
    time: Field,
    timezero_s: f64,
    energy: &'a EnergySource,
    channels: Option<ChannelTable>,
    extra: &'a [(Field, OutKind)],
}

impl<'a> Pass<'a> {
    fn new(
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
    fn run(&self, plan: &BlockPlan, pieces: Vec<BlockPieces<'_>>) -> Vec<BlockReport> {
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
struct BlockPlan {
    rows: usize,
    /// Each GTI as a row range of the (sorted) times. If the times are not sorted the
    /// ranges are meaningless, but the pass then fails anyway.
    ranges: Vec<(usize, usize)>,
    /// In-GTI rows per block.
    candidates: Vec<usize>,
}

impl BlockPlan {
    fn new(pass: &Pass<'_>, gti: &[(f64, f64)]) -> Self {
        let ranges = gti
            .iter()
            .map(|&(start, stop)| (pass.first_row_not_before(start), pass.first_row_not_before(stop)))
            .collect();
        let mut plan = Self { rows: pass.table.rows, ranges, candidates: Vec::new() };
        plan.candidates = (0..plan.rows.div_ceil(EVENT_BLOCK)).map(|block| plan.candidate_count(block)).collect();
        plan
    }

    fn total_candidates(&self) -> usize {
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
struct Outputs {
    time_s: Vec<f64>,
    energy_kev: Vec<f64>,
    wavelength_nm: Vec<f64>,
    extra: Vec<Column>,
    with_energy: bool,
}

impl Outputs {
    fn zeroed(len: usize, extra: &[(Field, OutKind)], with_energy: bool) -> Self {
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
    fn pieces(&mut self, sizes: &[usize]) -> Vec<BlockPieces<'_>> {
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
    fn finish(mut self, plan: &BlockPlan, kept: &[usize]) -> Ingested {
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
fn first_bad_time(reports: &[BlockReport]) -> CoreResult<()> {
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
struct BlockReport {
    /// The first bad row (0-based) of the block and what is wrong with it.
    bad: Option<(usize, BadTime)>,
    first_time: f64,
    last_time: f64,
    kept: usize,
}

enum ExtraPiece<'a> {
    Float(&'a mut [f64]),
    Int(&'a mut [i64]),
}

/// One block's pieces of the outputs; `energy` is empty when energies are not wanted.
struct BlockPieces<'a> {
    time: &'a mut [f64],
    energy: &'a mut [f64],
    wavelength: &'a mut [f64],
    extra: Vec<ExtraPiece<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dither::dither_channels;

    /// Rows of (TIME f8, PI i4, X f4), big-endian like FITS.
    fn table_bytes(times: &[f64], channels: &[i32], xs: &[f32]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for ((t, c), x) in times.iter().zip(channels).zip(xs) {
            bytes.extend_from_slice(&t.to_be_bytes());
            bytes.extend_from_slice(&c.to_be_bytes());
            bytes.extend_from_slice(&x.to_be_bytes());
        }
        bytes
    }

    const TIME: Field = Field { offset: 0, kind: FieldType::F64 };
    const PI: Field = Field { offset: 8, kind: FieldType::I32 };
    const X: Field = Field { offset: 12, kind: FieldType::F32 };

    fn channels_source() -> EnergySource {
        EnergySource::Channels { field: PI, calibration: Calibration::ChandraAcis, dither_seed: 3, dataset_key: 9 }
    }

    #[test]
    fn matches_separate_dither_and_filter() {
        let n = 200_000;
        let times: Vec<f64> = (0..n).map(|i| i as f64 * 0.01).collect();
        let channels: Vec<i32> = (0..n).map(|i| (i % 1100) as i32).collect();
        let xs: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
        let bytes = table_bytes(&times, &channels, &xs);
        let table = Table::new(&bytes, 16, n).unwrap();
        let gti = [(10.0, 500.0), (700.0, 1900.0)];
        let out =
            ingest_table(&table, TIME, 0.0, &channels_source(), &[(X, OutKind::Float), (PI, OutKind::Int)], &gti, true)
                .unwrap();
        let wide: Vec<i64> = channels.iter().map(|&c| i64::from(c)).collect();
        let reference = dither_channels(&wide, &Calibration::ChandraAcis, 3, 9);
        let kept: Vec<usize> = (0..n)
            .filter(|&i| gti.iter().any(|g| g.0 <= times[i] && times[i] < g.1) && reference.energy_kev[i].is_finite())
            .collect();
        assert_eq!(out.time_s, kept.iter().map(|&i| times[i]).collect::<Vec<_>>());
        assert_eq!(out.energy_kev, kept.iter().map(|&i| reference.energy_kev[i]).collect::<Vec<_>>());
        assert_eq!(out.wavelength_nm, kept.iter().map(|&i| reference.wavelength_nm[i]).collect::<Vec<_>>());
        assert_eq!(out.extra[0], Column::Float(kept.iter().map(|&i| f64::from(xs[i])).collect()));
        assert_eq!(out.extra[1], Column::Int(kept.iter().map(|&i| i64::from(channels[i])).collect()));
        let inside = (0..n).filter(|&i| gti.iter().any(|g| g.0 <= times[i] && times[i] < g.1)).count();
        assert_eq!(out.dropped_outside_gti, n - inside);
        assert_eq!(out.dropped_invalid_energy, inside - kept.len());
    }

    #[cfg(unix)]
    #[test]
    fn file_backed_tables_read_the_same_and_keep_their_bytes() {
        let n = 3 * EVENT_BLOCK + 17;
        let times: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let channels: Vec<i32> = (0..n).map(|i| (i % 1100) as i32).collect();
        let bytes = table_bytes(&times, &channels, &vec![1.5; n]);
        let mapping = crate::memory::TestMapping::new("ingest", &bytes);
        // SAFETY: `mapping` is a read-only shared file mapping.
        let mapped = unsafe { Table::file_backed(mapping.bytes(), 16, n) }.unwrap();
        assert!(mapped.is_file_backed());
        let in_memory = Table::new(&bytes, 16, n).unwrap();
        assert!(!in_memory.is_file_backed());
        let extra = [(X, OutKind::Float), (PI, OutKind::Int)];
        let gti = [(100.0, 9e4), (1e5, 1e9)];
        let read = |table: &Table<'_>| ingest_table(table, TIME, 0.0, &channels_source(), &extra, &gti, true).unwrap();
        assert_eq!(read(&mapped), read(&in_memory));
        assert_eq!(mapping.bytes(), &bytes[..]);
    }

    #[test]
    fn xmm_channel_zero_is_always_dropped() {
        // XMM PI = 0 lies below threshold: invalid whatever the draw (SPEC §6.2).
        let n = 100_000;
        let times: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let channels: Vec<i32> = (0..n).map(|i| if i % 3 == 0 { 0 } else { 500 }).collect();
        let bytes = table_bytes(&times, &channels, &vec![0.0; n]);
        let table = Table::new(&bytes, 16, n).unwrap();
        for seed in 0..4 {
            let source = EnergySource::Channels {
                field: PI,
                calibration: Calibration::XmmEpic,
                dither_seed: seed,
                dataset_key: 2,
            };
            let out = ingest_table(&table, TIME, 0.0, &source, &[(PI, OutKind::Int)], &[(0.0, 1e9)], true).unwrap();
            let kept: Vec<usize> = (0..n).filter(|&i| channels[i] != 0).collect();
            assert_eq!(out.dropped_invalid_energy, n - kept.len());
            assert_eq!(out.time_s, kept.iter().map(|&i| times[i]).collect::<Vec<_>>());
            assert_eq!(out.extra[0], Column::Int(kept.iter().map(|&i| i64::from(channels[i])).collect()));
        }
    }

    #[test]
    fn energy_column_unit_scales_to_kev() {
        // Rows of (TIME f8, ENERGY f8): the same numbers read as eV and as keV.
        let values = [500.0f64, 1.5, -2.0, 7000.0];
        let mut bytes = Vec::new();
        for (i, e) in values.iter().enumerate() {
            bytes.extend_from_slice(&(i as f64).to_be_bytes());
            bytes.extend_from_slice(&e.to_be_bytes());
        }
        let table = Table::new(&bytes, 16, values.len()).unwrap();
        let energy = Field { offset: 8, kind: FieldType::F64 };
        for (per_kev, expected) in [(1000.0, [0.5, 0.0015, 7.0]), (1.0, [500.0, 1.5, 7000.0])] {
            let source = EnergySource::Energy { field: energy, per_kev };
            let out = ingest_table(&table, TIME, 0.0, &source, &[], &[(0.0, 10.0)], true).unwrap();
            assert_eq!(out.energy_kev, expected.to_vec());
            assert_eq!(out.dropped_invalid_energy, 1);
            for (e, l) in out.energy_kev.iter().zip(&out.wavelength_nm) {
                assert_eq!(*l, HC_KEV_NM / e);
            }
        }
    }

    #[test]
    fn reports_bad_times_with_rows() {
        let bytes = table_bytes(&[1.0, f64::NAN, 3.0], &[5, 6, 7], &[0.0; 3]);
        let table = Table::new(&bytes, 16, 3).unwrap();
        let err = ingest_table(&table, TIME, 0.0, &channels_source(), &[], &[(0.0, 10.0)], true).unwrap_err();
        assert_eq!(err, CoreError::Data("non-finite time at row 2".into()));
        let bytes = table_bytes(&[1.0, 3.0, 2.0], &[5, 6, 7], &[0.0; 3]);
        let table = Table::new(&bytes, 16, 3).unwrap();
        let err = ingest_table(&table, TIME, 0.0, &channels_source(), &[], &[(0.0, 10.0)], true).unwrap_err();
        assert_eq!(err, CoreError::UnsortedTimes { row: 3 });
        assert_eq!(err.to_string(), "times are not non-decreasing at row 3");
    }

    #[test]
    fn detects_disorder_across_block_boundary() {
        let n = EVENT_BLOCK + 10;
        let mut times: Vec<f64> = (0..n).map(|i| i as f64).collect();
        times[EVENT_BLOCK] = 0.5;
        let bytes = table_bytes(&times, &vec![5; n], &vec![0.0; n]);
        let table = Table::new(&bytes, 16, n).unwrap();
        let err = ingest_table(&table, TIME, 0.0, &channels_source(), &[], &[(0.0, 1e9)], true).unwrap_err();
        assert_eq!(err, CoreError::UnsortedTimes { row: EVENT_BLOCK + 1 });
    }

    #[test]
    fn rejects_short_buffers_and_fields_outside_rows() {
        assert!(Table::new(&[0u8; 10], 16, 1).is_err());
        let bytes = [0u8; 16];
        let table = Table::new(&bytes, 16, 1).unwrap();
        let bad = Field { offset: 12, kind: FieldType::F64 };
        assert!(ingest_table(&table, bad, 0.0, &channels_source(), &[], &[(0.0, 1.0)], true).is_err());
    }
}
