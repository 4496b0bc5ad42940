//! Tests of the fused ingestion.

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
        let source =
            EnergySource::Channels { field: PI, calibration: Calibration::XmmEpic, dither_seed: seed, dataset_key: 2 };
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
