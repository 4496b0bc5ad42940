//! Thread-count invariance and golden values of the RNG contract.

use _core::calibration::Calibration;
use _core::dither::dither_channels;
use _core::rng::{domain, key, stream, uniform};

fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
}

#[test]
fn dithering_is_identical_for_any_thread_count() {
    // Several blocks of 65 536 rows, with a ragged last block.
    let channels: Vec<i64> = (0..300_001i64).map(|i| 1 + i * 7919 % 1024).collect();
    let one = with_threads(1, || dither_channels(&channels, &Calibration::ChandraAcis, 11, 5));
    for threads in [2, 8] {
        let many = with_threads(threads, || dither_channels(&channels, &Calibration::ChandraAcis, 11, 5));
        let same = one.energy_kev.iter().zip(&many.energy_kev).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{threads} threads changed the energies");
    }
}

#[test]
fn row_draws_are_tied_to_raw_row_index() {
    // Row 70 000 sits in block 1 at offset 70 000 − 65 536.
    let channels = vec![500i64; 70_001];
    let out = dither_channels(&channels, &Calibration::ChandraAcis, 4, 9);
    let mut rng = stream(4, domain::DITHER, &[9, 1]);
    let mut u = 0.0;
    for _ in 0..=(70_000 - 65_536) {
        u = uniform(&mut rng);
    }
    let (lo, hi) = Calibration::ChandraAcis.channel_interval_kev(500).unwrap();
    assert_eq!(out.energy_kev[70_000].to_bits(), (lo + u * (hi - lo)).to_bits());
}

#[test]
fn golden_stream_values() {
    // Pinned outputs: they change only with a deliberate change of the RNG contract.
    assert_eq!(key(0, domain::DITHER, &[]), GOLDEN_KEY);
    let mut rng = stream(0, domain::DITHER, &[0, 0]);
    let first: Vec<u64> = (0..3).map(|_| (uniform(&mut rng) * (1u64 << 53) as f64) as u64).collect();
    assert_eq!(first, GOLDEN_DRAWS);
}

const GOLDEN_KEY: u64 = 6791897765849424158;
const GOLDEN_DRAWS: [u64; 3] = [891_049_996_427_255, 7_685_683_619_765_743, 7_712_098_528_841_374];

mod synthesis {
    use super::with_threads;
    use _core::calibration::Calibration;
    use _core::path::TelescopePath;
    use _core::synth::{synthesize, BinSpec, Generation, Photons, Smearing, Spectrum};

    fn generate(seed: u64) -> Photons {
        let bins: Vec<BinSpec> = (0..40)
            .map(|w| {
                let lo = 0.1 + 0.0225 * w as f64;
                let centre = lo + 0.01125;
                let flux = 0.0225 * (40.0 * (-((centre / 0.38f64).ln() / 0.6).powi(2)).exp() + 2.0);
                BinSpec {
                    lo_nm: lo,
                    hi_nm: lo + 0.0225,
                    spacing: 5.0 * (-2.0 * centre).exp(),
                    flux_per_s: flux,
                    isotropic: w >= 38,
                }
            })
            .collect();
        let path = TelescopePath::new(0.51, 1e-5, 0.12, (0.0, 0.0), 6000.0, 0.8).unwrap();
        let gtis = [(1000.0, 3000.0), (3500.0, 7000.0)];
        let generation = Generation {
            bins: &bins,
            spectrum: Spectrum { amplitude: 40.0, lambda0_nm: 0.38, sigma: 0.6, floor: 2.0 },
            receiving_radius: 0.8,
            path,
            tstart_s: 1000.0,
            gtis: &gtis,
            smearing: Some(Smearing { fwhm_kev: 0.1, calibration: Calibration::ChandraAcis }),
            seed,
        };
        synthesize(&generation).unwrap()
    }

    #[test]
    fn synthesis_is_identical_for_any_thread_count() {
        let one = with_threads(1, || generate(3));
        assert!(one.time_s.len() > 10_000);
        for threads in [2, 8] {
            assert_eq!(one, with_threads(threads, || generate(3)), "{threads} threads");
        }
        assert_ne!(one.time_s, generate(4).time_s);
    }

    #[test]
    fn golden_first_photons() {
        // Pinned values: they change only with a deliberate change of the RNG contract.
        let photons = generate(3);
        let head: Vec<(u64, u64, i64, u16, i64)> = (0..5)
            .map(|i| {
                (
                    photons.time_s[i].to_bits(),
                    photons.wavelength_nm[i].to_bits(),
                    photons.channel[i],
                    photons.bin[i],
                    photons.lanecount[i],
                )
            })
            .collect();
        assert_eq!(head, GOLDEN_PHOTONS);
    }

    const GOLDEN_PHOTONS: [(u64, u64, i64, u16, i64); 5] = [
        (4_652_007_388_965_716_198, 4_600_212_292_896_054_044, 232, 11, 1),
        (4_652_007_921_333_866_737, 4_603_611_737_481_096_027, 140, 22, 1),
        (4_652_008_279_730_157_110, 4_599_790_629_215_207_576, 254, 10, 1),
        (4_652_008_534_712_548_694, 4_602_823_084_399_147_428, 169, 18, 1),
        (4_652_008_728_388_134_844, 4_597_949_468_837_692_884, 344, 6, 1),
    ];
}
