//! `trainer compare`: the seed paper's claim (NAG trains faster with
//! comparable or better accuracy than fixed-step explicit solvers and a
//! ResNet) re-run on the same data, model size and budget over several
//! seeds; and `trainer irregular`, the irregular-sampling demonstration.
//!
//! A comparison is an ordered list of independent jobs (per data set: one
//! iteration timing, then every solver x learning rate x seed run), run in
//! parallel, or cut into shards whose results files `trainer merge` turns
//! into the same report ([`crate::studies::sweep`]). [`common`] holds what
//! every comparison is made of; each task is a child that imports it and
//! never a sibling; this module only dispatches.

pub mod common;
pub mod density;
pub mod digits;
pub mod irregular;
pub mod window;

pub use common::{CompareArgs, CompareTask, MergeArgs, ReportArgs};
pub use irregular::{irregular, IrregularArgs};

use crate::data::Builtin;
use crate::error::AppError;
use crate::studies::sweep;

/// `trainer compare`: the static-input comparison for `--data digits`, the
/// density comparison for `--task density`, else the solver comparison on
/// windows.
pub fn run(a: &CompareArgs) -> Result<(), AppError> {
    if a.data.contains(&Builtin::Digits) {
        return match (a.data.len(), a.task, &a.csv) {
            (1, None, None) => digits::run(a),
            _ => Err(AppError::Usage(
                "compare --data digits (static inputs) runs alone, without --task or --csv".into(),
            )),
        };
    }
    match (a.task, &a.csv) {
        (Some(CompareTask::Density), None) => density::run(a),
        (Some(CompareTask::Density), Some(_)) => Err(AppError::Usage(
            "compare --task density runs on --points, not --csv".into(),
        )),
        (Some(t), None) => Err(AppError::Usage(format!(
            "compare --task {t:?} needs --csv (the built-in sets have their own task)"
        ))),
        _ => window::run(a),
    }
}

/// `trainer merge`: the report of a sharded comparison from all its
/// shards' results files, by the comparison that wrote them.
pub fn merge(m: &MergeArgs) -> Result<(), AppError> {
    match m.files.first() {
        Some(first) if sweep::format_of(first)? == density::FORMAT => density::merge(m),
        _ => window::merge(m),
    }
}
