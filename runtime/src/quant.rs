//! The integer inference path, for cores without an FPU (Cortex-M0/M0+/M3,
//! where every `f32` operation is a soft-float call).
//!
//! # Number formats
//!
//! Every scale is a power of two, written as an exponent `e`: a stored
//! integer `q` means `q * 2^-e`. Rescaling is then a rounding shift, never a
//! multiply by a scale or a divide, and everything fits the Cortex-M0's
//! 32x32->32 `MULS`.
//!
//! | what | type | exponent |
//! |---|---|---|
//! | weights | `i8` | per output row `r_o` ([`QDense::row_exp`]): the largest with `max_i |W[o][i]| 2^r_o <= 127`, so a row of small weights keeps its bits |
//! | layer inputs (activations) | `i16` | per layer, [`QDense::in_exp`] (= the previous layer's [`QDense::out_exp`]) |
//! | accumulator, bias | `i32` | `r_o + in_exp` of the row |
//! | tanh output | `i16` | 15 (Q15, saturating at `±32767`), unless it feeds the state |
//! | identity / ReLU outputs | `i16` | per layer, calibrated: the largest keeping `1.25 x` the calibration maximum in range |
//! | ODE state `y`, NAG velocity `v` | `i32` | state exponent `s + STATE_FRAC` |
//! | gaps, `h`, `mu`, rescale factors | [`Fx`]: 15-bit mantissa, exponent | taken from the `f32` bits once per gap |
//!
//! Why `i8 x i16`: 8-bit activations lose too much in the state the ODE
//! carries over 48 steps, while `i16 x i16` products (up to 2^30) overflow an
//! `i32` sum after two terms. `i8 x i16` products are below 2^22, and the
//! loader refuses a row unless `sum |W[o][i]| * 32768 + |b[o]| < 2^31`, so no
//! accumulator can wrap for any input ([`kernel`]); the kernel then uses plain
//! wrapping adds that never wrap.
//!
//! The state is `i32` with [`STATE_FRAC`] bits below the field's input
//! exponent `s`: a sub-step's increment `h f` is often far below one `i16`
//! step of the state, and rounding it to zero every step would stop slow
//! dynamics. Entering the field the state is rounded to `i16` at `s`
//! (saturating). The field's input `[y, e]` has one exponent, so the
//! encoder's last layer writes at the state exponent too.
//!
//! The field's and the decoder's last layers are never rounded to `i16`:
//! `f` enters `h f` as the `i32` accumulator with its row exponent, and the
//! forecast leaves as `acc * 2^-(r_o + in_exp)` in `f32`.
//!
//! # Saturation
//!
//! Every narrowing is saturating ([`sat16`]), state updates use saturating
//! adds, shifts and [`Fx::mul`] saturate. Nothing wraps. A state beyond the
//! model's `state_bound` is [`crate::RunError::Diverged`], as in `f32`.
//!
//! # tanh
//!
//! [`tanh`]: a 385-entry Q15 table of `tanh(k/64)`, `k = 0..=384` (770 bytes
//! of flash), linear interpolation on a Q16 input, odd by symmetry,
//! `32767` from 6 on. Maximum error [`tanh::TANH_Q15_MAX_ERROR`].
//!
//! # Solver
//!
//! NAG and Euler (Euler is NAG with `mu = 0`, `h = H`, as in `f32`); the
//! loader refuses a quantised section on a midpoint or RK4 model. The `f32`
//! rules stay the one definition: each gap goes through
//! [`crate::solver::model_gap`] and [`crate::solver::substeps`] once (a few
//! soft-float calls per sample, not per multiply), and NAG's `h`
//! ([`crate::solver::nag_h`]) and velocity rescale factor
//! ([`crate::solver::velocity_rescale`]) are computed in `f32` and turned into
//! an [`Fx`]. A step is then
//!
//! ```text
//! z = y +sat mu*v;  f = field(z);  v = mu*v +sat h*f;  y = y +sat v
//! ```
//!
//! with every product an [`Fx::mul`] (an `i64` product and shift: one
//! library call on the M0, per state component, not per multiply-add).
//!
//! # Where it lives
//!
//! A format-4 file appends a [`QuantSection`] to the version-3 layout (see
//! [`crate::format`]); [`QuantModel::from_bytes`] loads both, [`QuantNet`]
//! is what a prediction reads (borrowed, like [`crate::build::Net`]), and
//! [`QuantRunner`] runs a window with fixed buffers ([`QuantSession`] streams
//! samples into one through a ring, as [`crate::Session`] does). The section
//! is written by [`build::quantize`] on the host, calibrated on windows the
//! caller gives.
//!
//! The section's stored form and checks ([`section`]) sit below everything
//! else here, with the layer they produce ([`dense`]) and its arithmetic
//! ([`arith`]): the loader checks a section without importing the model
//! built on top of it, so no module imports one that imports it back.

pub mod arith;
#[cfg(feature = "std")]
pub mod build;
pub mod dense;
pub mod kernel;
pub mod model;
pub mod runner;
pub mod section;
pub mod session;
pub mod tanh;

pub use arith::{pow2, sat16, shift_round, Fx};
pub use dense::{run_layers, QDense};
pub use model::{QuantModel, QuantNet};
pub use runner::{QuantRunner, STATE_FRAC};
pub use section::{check, layers, QuantSection, EXP_RANGE, MAX_ALL_LAYERS};
pub use session::QuantSession;
