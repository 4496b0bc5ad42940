//! Wavelength assignment by channel dithering (SPEC §6.3).
//!
//! E = E_lo(i) + u·(E_hi(i) − E_lo(i)) uniform in energy [keV], λ = hc/E [nm].
//! Row r of the raw file takes draw r mod 65 536 of stream
//! (dither_seed, DITHER, dataset_key, r / 65 536), so a re-read gives identical
//! values whatever filtering follows. Invalid channels and E ≤ 0 give NaN.

use rayon::prelude::*;

use crate::calibration::{Calibration, HC_KEV_NM};
use crate::rng::{domain, stream, uniform, EVENT_BLOCK};

/// Dithered energies [keV] and wavelengths [nm], one per raw row; NaN marks an unusable row.
#[derive(Debug, Clone, PartialEq)]
pub struct Dithered {
    pub energy_kev: Vec<f64>,
    pub wavelength_nm: Vec<f64>,
}

/// Dither every raw row's channel into an energy and a wavelength.
pub fn dither_channels(channels: &[i64], calibration: &Calibration, dither_seed: u64, dataset_key: u64) -> Dithered {
    let n = channels.len();
    let mut energy_kev = vec![0.0; n];
    let mut wavelength_nm = vec![0.0; n];
    energy_kev
        .par_chunks_mut(EVENT_BLOCK)
        .zip(wavelength_nm.par_chunks_mut(EVENT_BLOCK))
        .zip(channels.par_chunks(EVENT_BLOCK))
        .enumerate()
        .for_each(|(block, ((energy, wavelength), chans))| {
            let mut rng = stream(dither_seed, domain::DITHER, &[dataset_key, block as u64]);
            for ((e_out, l_out), &ch) in energy.iter_mut().zip(wavelength.iter_mut()).zip(chans) {
                // One draw per row, valid or not, keeps row r on draw r.
                let u = uniform(&mut rng);
                let energy_value = match calibration.channel_interval_kev(ch) {
                    Some((lo, hi)) => lo + u * (hi - lo),
                    None => f64::NAN,
                };
                if energy_value > 0.0 {
                    *e_out = energy_value;
                    *l_out = HC_KEV_NM / energy_value;
                } else {
                    *e_out = f64::NAN;
                    *l_out = f64::NAN;
                }
            }
        });
    Dithered { energy_kev, wavelength_nm }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energies_stay_in_their_channel() {
        let channels: Vec<i64> = (0..200_000).map(|i| (i % 1100) as i64).collect();
        let out = dither_channels(&channels, &Calibration::ChandraAcis, 3, 99);
        for (i, &ch) in channels.iter().enumerate() {
            match Calibration::ChandraAcis.channel_interval_kev(ch) {
                Some((lo, hi)) if out.energy_kev[i].is_finite() => {
                    assert!(lo <= out.energy_kev[i] && out.energy_kev[i] < hi);
                    let product = out.energy_kev[i] * out.wavelength_nm[i];
                    assert!((product / HC_KEV_NM - 1.0).abs() <= 1e-15);
                }
                Some((lo, _)) => assert_eq!(lo, 0.0, "only E = 0 in channel 1 may be dropped"),
                None => assert!(out.energy_kev[i].is_nan() && out.wavelength_nm[i].is_nan()),
            }
        }
    }

    #[test]
    fn seed_and_dataset_change_the_draws() {
        let channels = vec![100i64; 1000];
        let a = dither_channels(&channels, &Calibration::ChandraAcis, 0, 1);
        assert_ne!(a, dither_channels(&channels, &Calibration::ChandraAcis, 1, 1));
        assert_ne!(a, dither_channels(&channels, &Calibration::ChandraAcis, 0, 2));
        assert_eq!(a, dither_channels(&channels, &Calibration::ChandraAcis, 0, 1));
    }
}
