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

mod blocks;

use crate::calibration::{Calibration, HC_KEV_NM};
use crate::error::{CoreError, CoreResult};
use crate::memory::{release_file_pages, zeroed};
use crate::rng::{domain, stream, uniform, EVENT_BLOCK};

use blocks::{first_bad_time, BlockPlan, Outputs, Pass};

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

#[cfg(test)]
mod tests;
