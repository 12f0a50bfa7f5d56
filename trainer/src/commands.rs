//! `inspect`, `predict`, `eval` and `quantize`: model files used through the
//! runtime.

mod eval;
mod files;
mod inspect;
mod predict;
pub mod quantize;
mod work;

pub use eval::{eval, score, EvalArgs, Score};
pub use files::{ModelArg, ModelCsv};
pub use inspect::inspect;
pub use predict::{predict, PredictArgs};
pub use quantize::{quantize, QuantizeArgs};
pub use work::{Work, DEFAULT_MAX_WORK};
