//! lightlane numeric core: plain Rust, no PyO3.
//!
//! Units follow SPEC §1: time in seconds, wavelength in nm, energy in keV.
//! Every random draw comes from a stream of [`rng`], so results never depend on
//! the number of threads. The PyO3 glue lives in `py/` behind the `python` feature.

pub mod binning;
pub mod bootstrap;
pub mod calibration;
pub mod chunks;
pub mod crossing;
pub mod dither;
pub mod error;
pub mod event_ops;
pub mod figure_png;
pub mod ingest;
pub mod lattice;
pub mod memory;
pub mod monte_carlo_bootstrap;
pub mod objective;
pub mod p3;
pub mod path;
pub mod rng;
pub mod synth;
pub mod video;

#[cfg(feature = "python")]
mod py;

pub use error::CoreError;
