//! Sample scaling, defined once for the runtime and the trainer.
//!
//! A sample value `x` of channel `c` enters the model as
//! `((x - r) - mean[c]) / std[c]` and a forecast output `o` leaves it as
//! `(o * std[c] + mean[c]) + r`, where the reference `r` is 0 for
//! [`Reference::Global`] and the window's last sample of that channel for
//! [`Reference::LastValue`]. With `r = 0` both are the plain global
//! normalisation bit for bit, which is what format-1 files use.

use serde::{Deserialize, Serialize};

/// What a window's values are measured from before scaling.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Absolute levels: `r = 0`; `mean`/`std` are the training inputs' statistics.
    Global,
    /// Relative to the window's last sample, per channel: `r = x_last`;
    /// `mean`/`std` are the statistics of `x - x_last` over the training
    /// windows. A forecast is then a change from the last value, so a trend
    /// or level shift outside the training range is no extrapolation.
    LastValue,
}

/// A raw sample value as the model sees it.
#[inline]
pub fn input(x: f32, reference: f32, mean: f32, std: f32) -> f32 {
    ((x - reference) - mean) / std
}

/// A forecast output back in the data's units. `reference = 0` returns
/// `o * std + mean` bit for bit (adding `+0.0` would turn a `-0.0` into `+0.0`).
#[inline]
pub fn output(o: f32, reference: f32, mean: f32, std: f32) -> f32 {
    let value = o * std + mean;
    if reference == 0.0 {
        value
    } else {
        value + reference
    }
}
