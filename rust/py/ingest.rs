//! Wrapper of crate::ingest: one call per event table, described by one `IngestSpec` dict.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;

use super::arrays::{gti_pairs, slice, F64Array};
use super::pool::compute;
use crate::calibration::Calibration;
use crate::error::{CoreError, CoreResult};
use crate::ingest::{self, EnergySource, Field, FieldType, OutKind, Table};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ingest_table, m)?)?;
    Ok(())
}

/// One column of a row: its byte offset and numpy type code ("i4", "f8", ...).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct FieldSpec {
    offset: usize,
    code: String,
}

impl FieldSpec {
    fn field(&self) -> CoreResult<Field> {
        Ok(Field { offset: self.offset, kind: FieldType::from_code(&self.code)? })
    }
}

/// An extra output column: where it is and whether it widens to int64 (else float64).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct ExtraColumn {
    offset: usize,
    code: String,
    integer: bool,
}

/// The `IngestSpec` typed dict of `_core.pyi`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct IngestSpec {
    row_bytes: usize,
    rows: usize,
    time_field: FieldSpec,
    timezero_s: f64,
    energy_mode: String,
    energy_field: FieldSpec,
    energy_kev_field: Option<FieldSpec>,
    calibration_name: String,
    offset_kev: f64,
    slope_kev: f64,
    dither_seed: u64,
    dataset_key: u64,
    extra: Vec<ExtraColumn>,
    with_energy: bool,
}

impl IngestSpec {
    fn energy_source(&self) -> CoreResult<EnergySource> {
        let field = self.energy_field.field()?;
        Ok(match self.energy_mode.as_str() {
            "channels" => EnergySource::Channels {
                field,
                calibration: Calibration::from_name(&self.calibration_name, self.offset_kev, self.slope_kev)?,
                dither_seed: self.dither_seed,
                dataset_key: self.dataset_key,
            },
            "energy-ev" => EnergySource::Energy { field, per_kev: 1000.0 },
            "energy-kev" => EnergySource::Energy { field, per_kev: 1.0 },
            "wavelength" => EnergySource::Wavelength {
                field,
                energy_kev: self.energy_kev_field.as_ref().map(FieldSpec::field).transpose()?,
            },
            other => return Err(CoreError::Parameter(format!("unknown energy mode '{other}'"))),
        })
    }

    fn extra_columns(&self) -> CoreResult<Vec<(Field, OutKind)>> {
        self.extra
            .iter()
            .map(|column| {
                let field = FieldSpec { offset: column.offset, code: column.code.clone() }.field()?;
                Ok((field, if column.integer { OutKind::Int } else { OutKind::Float }))
            })
            .collect()
    }
}

/// The export of the `mmap.mmap` holding `bytes`, when `array` views a read-only one.
///
/// numpy arrays record what owns their memory in `base`; `np.memmap(..., mode="r")` and
/// `np.frombuffer(mmap_object)` end that chain at an `mmap.mmap` object. Its buffer is
/// read-only exactly when it was opened with `ACCESS_READ`, which CPython always maps
/// `MAP_SHARED` (a file, or shared memory for fileno −1): the mappings whose pages may be
/// released. Copy-on-write (`ACCESS_COPY`) and writable mappings are refused, as is anything
/// whose bytes do not lie inside the mapping. Holding the export keeps the mapping from
/// being closed while the core reads it.
fn read_only_mapping(array: &Bound<'_, PyArray1<u8>>, bytes: &[u8]) -> PyResult<Option<PyBuffer<u8>>> {
    let mut owner = array.as_any().clone();
    while owner.is_instance_of::<numpy::PyUntypedArray>() {
        let base = owner.getattr("base")?;
        if base.is_none() {
            return Ok(None);
        }
        owner = base;
    }
    let mmap_class = owner.py().import("mmap")?.getattr("mmap")?;
    if !owner.is_instance(&mmap_class)? {
        return Ok(None);
    }
    let Ok(buffer) = PyBuffer::<u8>::get(&owner) else { return Ok(None) };
    let (start, length) = (buffer.buf_ptr() as usize, buffer.len_bytes());
    let (first, end) = (bytes.as_ptr() as usize, bytes.as_ptr() as usize + bytes.len());
    let inside = start <= first && end <= start.saturating_add(length);
    Ok((buffer.readonly() && inside).then_some(buffer))
}

/// (time, energy_kev, wavelength_nm, [extra columns], dropped outside GTIs, dropped for energy)
type Ingested<'py> = (F64Array<'py>, F64Array<'py>, F64Array<'py>, Vec<Bound<'py, PyAny>>, usize, usize);

/// Kept events of a raw FITS table, decoded, checked, dithered and filtered in Rust.
#[pyfunction]
fn ingest_table<'py>(
    py: Python<'py>,
    table: PyReadonlyArray1<'py, u8>,
    spec: IngestSpec,
    gti_start_s: PyReadonlyArray1<'py, f64>,
    gti_stop_s: PyReadonlyArray1<'py, f64>,
) -> PyResult<Ingested<'py>> {
    let bytes = slice(&table, "table")?;
    let mapping = read_only_mapping(&table, bytes)?;
    let table = match &mapping {
        // SAFETY: `read_only_mapping` found `bytes` inside an ACCESS_READ (MAP_SHARED) mmap,
        // and its export, held until the core is done, keeps that mapping open.
        Some(_) => unsafe { Table::file_backed(bytes, spec.row_bytes, spec.rows)? },
        None => Table::new(bytes, spec.row_bytes, spec.rows)?,
    };
    let energy = spec.energy_source()?;
    let extra = spec.extra_columns()?;
    let gti = gti_pairs(&gti_start_s, &gti_stop_s)?;
    let time = spec.time_field.field()?;
    let (timezero_s, with_energy) = (spec.timezero_s, spec.with_energy);
    let out = compute(py, || ingest::ingest_table(&table, time, timezero_s, &energy, &extra, &gti, with_energy))?;
    drop(mapping);
    let columns = out
        .extra
        .into_iter()
        .map(|column| match column {
            ingest::Column::Float(values) => values.into_pyarray(py).into_any(),
            ingest::Column::Int(values) => values.into_pyarray(py).into_any(),
        })
        .collect();
    Ok((
        out.time_s.into_pyarray(py),
        out.energy_kev.into_pyarray(py),
        out.wavelength_nm.into_pyarray(py),
        columns,
        out.dropped_outside_gti,
        out.dropped_invalid_energy,
    ))
}
