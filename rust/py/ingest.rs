//! Wrapper of crate::ingest: one call per event table.

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

type FieldSpec = (usize, String);

fn field(spec: &FieldSpec) -> CoreResult<Field> {
    Ok(Field { offset: spec.0, kind: FieldType::from_code(&spec.1)? })
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
#[pyo3(signature = (table, row_bytes, rows, time_field, timezero_s, energy_mode, energy_field, energy_kev_field,
                    calibration_name, offset_kev, slope_kev, dither_seed, dataset_key, extra, gti_start, gti_stop,
                    with_energy=true))]
#[allow(clippy::too_many_arguments)]
fn ingest_table<'py>(
    py: Python<'py>,
    table: PyReadonlyArray1<'py, u8>,
    row_bytes: usize,
    rows: usize,
    time_field: FieldSpec,
    timezero_s: f64,
    energy_mode: &str,
    energy_field: FieldSpec,
    energy_kev_field: Option<FieldSpec>,
    calibration_name: &str,
    offset_kev: f64,
    slope_kev: f64,
    dither_seed: u64,
    dataset_key: u64,
    extra: Vec<(usize, String, bool)>,
    gti_start: PyReadonlyArray1<'py, f64>,
    gti_stop: PyReadonlyArray1<'py, f64>,
    with_energy: bool,
) -> PyResult<Ingested<'py>> {
    let bytes = slice(&table, "table")?;
    let mapping = read_only_mapping(&table, bytes)?;
    let table = match &mapping {
        // SAFETY: `read_only_mapping` found `bytes` inside an ACCESS_READ (MAP_SHARED) mmap,
        // and its export, held until the core is done, keeps that mapping open.
        Some(_) => unsafe { Table::file_backed(bytes, row_bytes, rows)? },
        None => Table::new(bytes, row_bytes, rows)?,
    };
    let energy = match energy_mode {
        "channels" => EnergySource::Channels {
            field: field(&energy_field)?,
            calibration: Calibration::from_name(calibration_name, offset_kev, slope_kev)?,
            dither_seed,
            dataset_key,
        },
        "energy-ev" => EnergySource::Energy { field: field(&energy_field)?, per_kev: 1000.0 },
        "energy-kev" => EnergySource::Energy { field: field(&energy_field)?, per_kev: 1.0 },
        "wavelength" => EnergySource::Wavelength {
            field: field(&energy_field)?,
            energy_kev: energy_kev_field.as_ref().map(field).transpose()?,
        },
        other => return Err(CoreError::Parameter(format!("unknown energy mode '{other}'")).into()),
    };
    let extra: Vec<(Field, OutKind)> = extra
        .iter()
        .map(|(offset, code, is_int)| {
            let kind = if *is_int { OutKind::Int } else { OutKind::Float };
            Ok((field(&(*offset, code.clone()))?, kind))
        })
        .collect::<CoreResult<_>>()?;
    let gti = gti_pairs(&gti_start, &gti_stop)?;
    let time = field(&time_field)?;
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
