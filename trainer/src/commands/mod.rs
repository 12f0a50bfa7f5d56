//! `train`'s options; `inspect`, `predict`, `eval` and `quantize`: model files used through the
//! runtime; `flow`: a density model trained and written after a runtime
//! parity check.

mod eval;
mod files;
mod flow;
mod inspect;
mod predict;
pub mod quantize;
mod scores;
pub mod static_input;
pub mod train;
mod work;

pub use eval::{eval, score, EvalArgs, Score};
pub use files::{ModelArg, ModelCsv};
pub use flow::{flow, FlowArgs};
pub use inspect::inspect;
pub use predict::{predict, PredictArgs};
pub use quantize::{quantize, QuantizeArgs};
pub use work::{Work, DEFAULT_MAX_WORK};
