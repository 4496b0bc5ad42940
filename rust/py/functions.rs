//! Wrappers of the core functions: numpy in, numpy out, GIL released for O(n) work.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{gti_pairs, slice, CoreResult};
use super::pool::run_in_pool;
use crate::calibration::Calibration;
use crate::{dither, ingest, rng};

type F64Array<'py> = Bound<'py, PyArray1<f64>>;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mix, m)?)?;
    m.add_function(wrap_pyfunction!(key, m)?)?;
    m.add_function(wrap_pyfunction!(str_u64, m)?)?;
    m.add_function(wrap_pyfunction!(uniforms, m)?)?;
    m.add_function(wrap_pyfunction!(channel_range, m)?)?;
    m.add_function(wrap_pyfunction!(channel_interval_kev, m)?)?;
    m.add_function(wrap_pyfunction!(energy_to_channel, m)?)?;
    m.add_function(wrap_pyfunction!(dither_channels, m)?)?;
    m.add_function(wrap_pyfunction!(ingest_table, m)?)?;
    Ok(())
}

fn calibration(name: &str, offset_kev: f64, slope_kev: f64) -> CoreResult<Calibration> {
    Ok(Calibration::from_name(name, offset_kev, slope_kev)?)
}

#[pyfunction]
fn mix(z: u64) -> u64 {
    rng::mix(z)
}

#[pyfunction]
#[pyo3(signature = (seed, domain, indices=Vec::new()))]
fn key(seed: u64, domain: u64, indices: Vec<u64>) -> u64 {
    rng::key(seed, domain, &indices)
}

#[pyfunction]
fn str_u64(text: &str) -> u64 {
    rng::str_u64(text)
}

#[pyfunction]
fn uniforms<'py>(py: Python<'py>, seed: u64, domain: u64, indices: Vec<u64>, n: usize) -> F64Array<'py> {
    py.detach(|| rng::uniforms(seed, domain, &indices, n)).into_pyarray(py)
}

#[pyfunction]
#[pyo3(signature = (calibration_name, offset_kev=0.0, slope_kev=0.0))]
fn channel_range(calibration_name: &str, offset_kev: f64, slope_kev: f64) -> CoreResult<(i64, i64)> {
    Ok(calibration(calibration_name, offset_kev, slope_kev)?.channel_range())
}

#[pyfunction]
#[pyo3(signature = (calibration_name, channels, offset_kev=0.0, slope_kev=0.0))]
fn channel_interval_kev<'py>(
    py: Python<'py>,
    calibration_name: &str,
    channels: PyReadonlyArray1<'py, i64>,
    offset_kev: f64,
    slope_kev: f64,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let channels = slice(&channels, "channels")?;
    let (lo, hi): (Vec<f64>, Vec<f64>) =
        py.detach(|| channels.iter().map(|&ch| cal.channel_interval_kev(ch).unwrap_or((f64::NAN, f64::NAN))).unzip());
    Ok((lo.into_pyarray(py), hi.into_pyarray(py)))
}

#[pyfunction]
#[pyo3(signature = (calibration_name, energy_kev, offset_kev=0.0, slope_kev=0.0))]
fn energy_to_channel<'py>(
    py: Python<'py>,
    calibration_name: &str,
    energy_kev: PyReadonlyArray1<'py, f64>,
    offset_kev: f64,
    slope_kev: f64,
) -> CoreResult<Bound<'py, PyArray1<i64>>> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let energy = slice(&energy_kev, "energy_kev")?;
    let channels: Vec<i64> = py.detach(|| energy.iter().map(|&e| cal.energy_to_channel(e)).collect());
    Ok(channels.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (channels, calibration_name, dither_seed, dataset_key, offset_kev=0.0, slope_kev=0.0))]
fn dither_channels<'py>(
    py: Python<'py>,
    channels: PyReadonlyArray1<'py, i64>,
    calibration_name: &str,
    dither_seed: u64,
    dataset_key: u64,
    offset_kev: f64,
    slope_kev: f64,
) -> CoreResult<(F64Array<'py>, F64Array<'py>)> {
    let cal = calibration(calibration_name, offset_kev, slope_kev)?;
    let channels = slice(&channels, "channels")?;
    let out = py.detach(|| run_in_pool(|| dither::dither_channels(channels, &cal, dither_seed, dataset_key)));
    Ok((out.energy_kev.into_pyarray(py), out.wavelength_nm.into_pyarray(py)))
}

type FieldSpec = (usize, String);

fn field(spec: &FieldSpec) -> CoreResult<ingest::Field> {
    Ok(ingest::Field { offset: spec.0, kind: ingest::FieldType::from_code(&spec.1)? })
}

/// (time, energy_kev, wavelength_nm, [extra columns], dropped outside GTIs, dropped for energy)
type Ingested<'py> = (F64Array<'py>, F64Array<'py>, F64Array<'py>, Vec<Bound<'py, PyAny>>, usize, usize);

/// Kept events of a raw FITS table, decoded, checked, dithered and filtered in Rust.
#[pyfunction]
#[pyo3(signature = (table, row_bytes, rows, time_field, timezero_s, energy_mode, energy_field, energy_kev_field,
                    calibration_name, offset_kev, slope_kev, dither_seed, dataset_key, extra, gti_start, gti_stop,
                    with_energy=true, release_input=false))]
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
    release_input: bool,
) -> CoreResult<Ingested<'py>> {
    let bytes = slice(&table, "table")?;
    let table = ingest::Table::new(bytes, row_bytes, rows)?;
    let energy = match energy_mode {
        "channels" => ingest::EnergySource::Channels {
            field: field(&energy_field)?,
            calibration: calibration(calibration_name, offset_kev, slope_kev)?,
            dither_seed,
            dataset_key,
        },
        "energy-ev" => ingest::EnergySource::Energy { field: field(&energy_field)?, per_kev: 1000.0 },
        "energy-kev" => ingest::EnergySource::Energy { field: field(&energy_field)?, per_kev: 1.0 },
        "wavelength" => ingest::EnergySource::Wavelength {
            field: field(&energy_field)?,
            energy_kev: energy_kev_field.as_ref().map(field).transpose()?,
        },
        other => return Err(crate::CoreError::Parameter(format!("unknown energy mode '{other}'")).into()),
    };
    let extra: Vec<(ingest::Field, ingest::OutKind)> = extra
        .iter()
        .map(|(offset, code, is_int)| {
            let kind = if *is_int { ingest::OutKind::Int } else { ingest::OutKind::Float };
            Ok((field(&(*offset, code.clone()))?, kind))
        })
        .collect::<CoreResult<_>>()?;
    let gti = gti_pairs(&gti_start, &gti_stop)?;
    let time = field(&time_field)?;
    let out = py.detach(|| {
        run_in_pool(|| {
            ingest::ingest_table(&table, time, timezero_s, &energy, &extra, &gti, with_energy, release_input)
        })
    })?;
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
