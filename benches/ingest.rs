//! Fused table ingestion (decode, check, dither, GTI filter) against a plain
//! column-by-column decode of the same fields, the baseline measured in the same run.

use _core::calibration::Calibration;
use _core::ingest::{ingest_table, EnergySource, Field, FieldType, OutKind, Table};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const ROW_BYTES: usize = 22;
const TIME: Field = Field { offset: 0, kind: FieldType::F64 };
const X: Field = Field { offset: 10, kind: FieldType::F32 };
const Y: Field = Field { offset: 14, kind: FieldType::F32 };
const PI: Field = Field { offset: 18, kind: FieldType::I32 };

/// Rows like a Chandra evt2 file: TIME f8, CCD_ID i2, X f4, Y f4, PI i4 (big-endian).
fn chandra_like(n: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(n * ROW_BYTES);
    for i in 0..n {
        bytes.extend_from_slice(&(3e8 + i as f64 * 0.01).to_be_bytes());
        bytes.extend_from_slice(&7i16.to_be_bytes());
        bytes.extend_from_slice(&(4096.0f32 + (i % 100) as f32).to_be_bytes());
        bytes.extend_from_slice(&(4096.0f32 - (i % 100) as f32).to_be_bytes());
        bytes.extend_from_slice(&(1 + (i % 1000) as i32).to_be_bytes());
    }
    bytes
}

/// Baseline: each column decoded on its own, as a plain FITS column read does.
fn decode_columns(bytes: &[u8]) -> (Vec<f64>, Vec<i64>, Vec<f64>, Vec<f64>) {
    let rows = || bytes.chunks_exact(ROW_BYTES);
    let f8 = |r: &[u8], o: usize| f64::from_be_bytes(r[o..o + 8].try_into().unwrap_or([0; 8]));
    let f4 = |r: &[u8], o: usize| f64::from(f32::from_be_bytes(r[o..o + 4].try_into().unwrap_or([0; 4])));
    let i4 = |r: &[u8], o: usize| i64::from(i32::from_be_bytes(r[o..o + 4].try_into().unwrap_or([0; 4])));
    (
        rows().map(|r| f8(r, 0)).collect(),
        rows().map(|r| i4(r, 18)).collect(),
        rows().map(|r| f4(r, 10)).collect(),
        rows().map(|r| f4(r, 14)).collect(),
    )
}

fn bench_ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    for &n in &[1_000_000usize, 10_000_000] {
        let bytes = chandra_like(n);
        let table = Table::new(&bytes, ROW_BYTES, n).expect("valid table");
        let source =
            EnergySource::Channels { field: PI, calibration: Calibration::ChandraAcis, dither_seed: 0, dataset_key: 1 };
        let span = n as f64 * 0.01;
        let gti = [(3e8, 3e8 + 0.4 * span), (3e8 + 0.45 * span, 3e8 + span)];
        let extra = [(PI, OutKind::Int), (X, OutKind::Float), (Y, OutKind::Float)];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("ingest_table", n), &table, |b, t| {
            b.iter(|| ingest_table(black_box(t), TIME, 0.0, &source, &extra, &gti, true))
        });
        group.bench_with_input(BenchmarkId::new("decode_columns_baseline", n), &bytes, |b, raw| {
            b.iter(|| decode_columns(black_box(raw)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
