//! Channel calibrations of SPEC §6.2: channel ↔ energy interval, energies in keV.
//!
//! Only calibrations that map integer channels to energy intervals live here;
//! `energy-column` and `stored-wavelength` need no channel arithmetic.

use crate::error::{CoreError, CoreResult};

/// hc in keV·nm: λ[nm] = HC_KEV_NM / E[keV], the one constant used everywhere.
pub const HC_KEV_NM: f64 = 1.239841984;

const ACIS_CHANNEL_EV: f64 = 14.6;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// Chandra ACIS PI: [14.6(i−1), 14.6·i) eV, i = 1…1024.
    ChandraAcis,
    /// Chandra HRC: nominally the ACIS grid (HRC has almost no energy resolution).
    ChandraHrc,
    /// XMM-Newton EPIC PI in eV: [i − 0.5, i + 0.5) eV, i = 0…20 479.
    XmmEpic,
    /// NuSTAR PI: [1.6 + 0.04·i, 1.64 + 0.04·i) keV, i = 0…4095.
    Nustar,
    /// [offset + slope·i, offset + slope·(i+1)) keV for channels `first..=last`.
    Linear { offset_kev: f64, slope_kev: f64, first: i64, last: i64 },
}

impl Calibration {
    /// Look up a calibration by its registry name.
    pub fn from_name(name: &str, offset_kev: f64, slope_kev: f64) -> CoreResult<Self> {
        match name {
            "chandra-acis" => Ok(Self::ChandraAcis),
            "chandra-hrc" => Ok(Self::ChandraHrc),
            "xmm-epic" => Ok(Self::XmmEpic),
            "nustar" => Ok(Self::Nustar),
            "linear" => {
                if !(slope_kev > 0.0 && slope_kev.is_finite() && offset_kev.is_finite()) {
                    return Err(CoreError::Parameter(format!(
                        "linear calibration needs a finite offset and slope > 0, got offset {offset_kev}, slope {slope_kev}"
                    )));
                }
                Ok(Self::Linear { offset_kev, slope_kev, first: 0, last: i64::from(i32::MAX) })
            }
            other => Err(CoreError::Parameter(format!("unknown channel calibration '{other}'"))),
        }
    }

    /// Valid channel range, inclusive.
    pub fn channel_range(&self) -> (i64, i64) {
        match *self {
            Self::ChandraAcis | Self::ChandraHrc => (1, 1024),
            Self::XmmEpic => (1, 20_479), // PI = 0 is below threshold: invalid (SPEC §6.2)
            Self::Nustar => (0, 4095),
            Self::Linear { first, last, .. } => (first, last),
        }
    }

    /// Energy interval [lo, hi) in keV of a valid channel, `None` outside the range.
    #[inline]
    pub fn channel_interval_kev(&self, channel: i64) -> Option<(f64, f64)> {
        let (first, last) = self.channel_range();
        if channel < first || channel > last {
            return None;
        }
        let i = channel as f64;
        Some(match *self {
            Self::ChandraAcis | Self::ChandraHrc => {
                (ACIS_CHANNEL_EV * (i - 1.0) / 1000.0, ACIS_CHANNEL_EV * i / 1000.0)
            }
            Self::XmmEpic => ((i - 0.5) / 1000.0, (i + 0.5) / 1000.0),
            Self::Nustar => (1.6 + 0.04 * i, 1.64 + 0.04 * i),
            Self::Linear { offset_kev, slope_kev, .. } => {
                (offset_kev + slope_kev * i, offset_kev + slope_kev * (i + 1.0))
            }
        })
    }

    /// The channel whose interval holds `energy_kev`, clipped to the valid range.
    #[inline]
    pub fn energy_to_channel(&self, energy_kev: f64) -> i64 {
        let (first, last) = self.channel_range();
        let raw = match *self {
            Self::ChandraAcis | Self::ChandraHrc => (energy_kev * 1000.0 / ACIS_CHANNEL_EV).floor() + 1.0,
            Self::XmmEpic => (energy_kev * 1000.0 + 0.5).floor(),
            Self::Nustar => ((energy_kev - 1.6) / 0.04).floor(),
            Self::Linear { offset_kev, slope_kev, .. } => ((energy_kev - offset_kev) / slope_kev).floor(),
        };
        if raw.is_nan() {
            return first;
        }
        (raw.clamp(first as f64, last as f64)) as i64
    }

    /// [lo, hi) in keV of every channel, NaN for channels outside the valid range.
    pub fn channel_intervals_kev(&self, channels: &[i64]) -> (Vec<f64>, Vec<f64>) {
        channels.iter().map(|&ch| self.channel_interval_kev(ch).unwrap_or((f64::NAN, f64::NAN))).unzip()
    }

    /// [`Self::energy_to_channel`] of every energy [keV].
    pub fn energies_to_channels(&self, energy_kev: &[f64]) -> Vec<i64> {
        energy_kev.iter().map(|&e| self.energy_to_channel(e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acis_first_channel_starts_at_zero() {
        let (lo, hi) = Calibration::ChandraAcis.channel_interval_kev(1).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0146).abs() < 1e-15);
        assert!(Calibration::ChandraAcis.channel_interval_kev(0).is_none());
        assert!(Calibration::ChandraAcis.channel_interval_kev(1025).is_none());
    }

    #[test]
    fn inverse_lands_inside_interval() {
        for cal in [Calibration::ChandraAcis, Calibration::XmmEpic, Calibration::Nustar] {
            let (first, last) = cal.channel_range();
            for ch in [first, first + 1, (first + last) / 2, last] {
                let (lo, hi) = cal.channel_interval_kev(ch).unwrap();
                assert_eq!(cal.energy_to_channel(0.5 * (lo + hi)), ch, "{cal:?} channel {ch}");
            }
        }
    }

    #[test]
    fn many_channels_and_energies_at_once() {
        let cal = Calibration::ChandraAcis;
        let (lo, hi) = cal.channel_intervals_kev(&[1, 0, 1024, 1025]);
        let (lo1, hi1) = cal.channel_interval_kev(1).unwrap();
        let (lo_last, hi_last) = cal.channel_interval_kev(1024).unwrap();
        assert_eq!((lo[0], hi[0], lo[2], hi[2]), (lo1, hi1, lo_last, hi_last));
        assert!(lo[1].is_nan() && hi[1].is_nan() && lo[3].is_nan() && hi[3].is_nan());
        let energies = [0.0, 0.5 * (lo1 + hi1), 100.0, f64::NAN];
        assert_eq!(cal.energies_to_channels(&energies), energies.map(|e| cal.energy_to_channel(e)).to_vec());
        assert_eq!(cal.energies_to_channels(&[100.0, f64::NAN]), vec![1024, 1]);
    }

    #[test]
    fn linear_rejects_non_positive_slope() {
        assert!(Calibration::from_name("linear", 0.0, 0.0).is_err());
        assert!(Calibration::from_name("linear", 0.0, f64::NAN).is_err());
        assert!(Calibration::from_name("bogus", 0.0, 1.0).is_err());
    }
}
