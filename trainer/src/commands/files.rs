//! The model file and CSV a command is given, read and checked.

use super::work;
use crate::app::AppError;
use crate::data;
use crate::host::HostError;
use clap::Args;
use nagode::Model;
use std::path::{Path, PathBuf};

/// A model file, given either way: `trainer inspect m.nagode` or
/// `trainer inspect --model m.nagode` (the same for `eval` and `predict`).
#[derive(Args, Debug)]
pub struct ModelArg {
    /// The model file.
    #[arg(value_name = "MODEL", required_unless_present = "model_flag")]
    model_pos: Option<PathBuf>,
    /// The model file (the same as the positional MODEL).
    #[arg(long = "model", value_name = "MODEL", conflicts_with = "model_pos")]
    model_flag: Option<PathBuf>,
}

impl ModelArg {
    /// The path given, whichever form was used.
    pub fn path(&self) -> &Path {
        // clap guarantees one of the two.
        self.model_pos
            .as_deref()
            .or(self.model_flag.as_deref())
            .unwrap_or(Path::new(""))
    }
}

/// A model file and a CSV to run it on.
#[derive(Args, Debug)]
pub struct ModelCsv {
    #[command(flatten)]
    pub(super) model: ModelArg,
    /// CSV with the model's channels (optionally `t`, `id`, `label`).
    #[arg(long)]
    pub csv: PathBuf,
    /// Channel columns, in the model's order (default: all but t, id, label).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Most multiply-adds the run may take (e.g. 1e12); a model file asking
    /// more is refused before anything runs.
    #[arg(long, value_name = "N", default_value_t = work::DEFAULT_MAX_WORK, value_parser = work::parse_limit)]
    pub max_work: u64,
}

/// The file's bytes.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// The model in `bytes`, refusals named by `path`.
pub(super) fn load<'a>(path: &Path, bytes: &'a [u8]) -> Result<Model<'a>, AppError> {
    Model::from_bytes(bytes)
        .map_err(|e| AppError::Usage(format!("{}: {}", path.display(), HostError::from(e))))
}

/// The CSV's table; it must have exactly the model's channel count.
pub(super) fn table_for(a: &ModelCsv, model: &Model<'_>) -> Result<data::Table, AppError> {
    let table = data::load_csv(&a.csv, a.columns.as_deref())?;
    if table.channels.len() == model.channels() {
        return Ok(table);
    }
    Err(AppError::Usage(format!(
        "{}: {} channel columns ({}), the model has {}",
        a.csv.display(),
        table.channels.len(),
        table.channels.join(","),
        model.channels()
    )))
}
