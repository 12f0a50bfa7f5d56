//! [`DataError`]: why a data file or a setting could not be used; every
//! variant about a cell names the file, the line and the column.

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read at all.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The CSV reader failed (bad UTF-8, ragged quoting...).
    #[error("{file}: line {line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// No header row.
    #[error("{file}: empty file (a header row is required)")]
    Empty {
        /// The file.
        file: String,
    },
    /// A header but no data rows.
    #[error("{file}: header only, no data rows")]
    HeaderOnly {
        /// The file.
        file: String,
    },
    /// Two columns with the same name.
    #[error("{file}: line 1, column {column}: duplicate column name `{name}`")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// 1-based column.
        column: usize,
        /// The repeated name.
        name: String,
    },
    /// A column that was asked for (or is required) is not in the header.
    #[error("{file}: line 1: missing column `{name}` (header has: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The missing name.
        name: String,
        /// The header as read.
        header: String,
    },
    /// No channel column remains after removing `t`, `id` and `label`.
    #[error("{file}: line 1: no channel columns (need at least one besides t, id, label)")]
    NoChannels {
        /// The file.
        file: String,
    },
    /// More channels than a model file can hold.
    #[error("{file}: {count} channels, at most {max} are supported")]
    TooManyChannels {
        /// The file.
        file: String,
        /// Channels requested.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A row with the wrong number of fields.
    #[error("{file}: line {line}: expected {expected} fields, found {found}{hint}")]
    FieldCount {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
        /// Empty, or why: the row seems to use another delimiter.
        hint: String,
    },
    /// An empty cell (of `id` or `label`; an empty channel cell is a
    /// missing value, an empty `t` a [`DataError::MissingTime`]).
    #[error("{file}: line {line}, column {column} (`{name}`): empty field")]
    EmptyField {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
    },
    /// A cell that is not a number.
    #[error("{file}: line {line}, column {column} (`{name}`): `{value}` is not a number{hint}")]
    NotNumeric {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
        /// The cell.
        value: String,
        /// Empty, or why: the cell holds another delimiter than the file's.
        hint: String,
    },
    /// A `t` cell that is neither a number nor an accepted date-time.
    #[error(
        "{file}: line {line}, column {column} (`t`): `{value}` is not a time; accepted: {}",
        crate::data::time::ACCEPTED
    )]
    NotTime {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The cell.
        value: String,
    },
    /// A `t` column mixing numbers and date-times.
    #[error("{file}: line {line}, column {column} (`t`): `{value}` is {kind}, but line {first_line} has {first_kind}; the column must be all numbers or all ISO-8601 dates / date-times (accepted: {})", crate::data::time::ACCEPTED)]
    MixedTime {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The cell.
        value: String,
        /// What this cell is ("a number" or "a date-time").
        kind: &'static str,
        /// The line that fixed the column's kind.
        first_line: u64,
        /// What that line's `t` is.
        first_kind: &'static str,
    },
    /// The nominal gap (median gap) is not a usable time unit.
    #[error(
        "{file}: the median gap between samples is {value}, not a positive finite f32; {hint}"
    )]
    TimeUnit {
        /// The file.
        file: String,
        /// The median gap, in the `t` column's units.
        value: f64,
        /// What to change.
        hint: &'static str,
    },
    /// NaN, infinity, or a value beyond the f32 range.
    #[error("{file}: line {line}, column {column} (`{name}`): `{value}` is not a finite f32")]
    NonFinite {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Column name.
        name: String,
        /// The cell.
        value: String,
    },
    /// A `t` cell that is a missing value (empty, `NaN`, `NA`, `N/A`).
    #[error("{file}: line {line}, column {column} (`t`): {}: a missing time stamp cannot be placed (only channel cells may be missing); give the row its time, or delete the row", cell_text(.value))]
    MissingTime {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The cell.
        value: String,
    },
    /// A `t` equal to the previous row's (within one series).
    #[error("{file}: line {line}, column {column} (`t`): duplicate time stamp `{value}` (line {line} repeats line {first_line})")]
    DuplicateTime {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The cell.
        value: String,
        /// The line with the same time.
        first_line: u64,
    },
    /// Every row of a series (or of a wide file) was dropped for missing
    /// values.
    #[error("{file}{}: no samples left in {}: {} dropped, each with a missing channel value (empty, NaN, NA or N/A)", at_line(*.line), series_name(.series), super::table::plural(*.rows, "row"))]
    AllMissing {
        /// The file.
        file: String,
        /// The series id; empty for a wide file.
        series: String,
        /// The series' first line (long layout).
        line: Option<u64>,
        /// The rows dropped.
        rows: usize,
    },
    /// `t` does not increase strictly (within one series).
    #[error("{file}: line {line}, column {column} (`t`): time {value} does not increase (previous {previous})")]
    TimeNotIncreasing {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// This row's time.
        value: f64,
        /// The previous row's time.
        previous: f64,
    },
    /// The rows of one `id` are not contiguous.
    #[error("{file}: line {line}, column {column} (`id`): series `{id}` appears again after another series; rows of one series must be contiguous")]
    SeriesSplit {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The id.
        id: String,
    },
    /// A series too short for one window (+ horizon).
    #[error("{file}: series {series} has {len} samples, fewer than the {need} one window needs (window + horizon)")]
    TooShort {
        /// The file.
        file: String,
        /// Series name (id or "the series").
        series: String,
        /// Its length.
        len: usize,
        /// Samples needed.
        need: usize,
    },
    /// Classification with only one class present.
    #[error("{file}: only one class (`{class}`) in column `label` of {part}; classification needs at least two")]
    SingleClass {
        /// The file.
        file: String,
        /// The only class.
        class: String,
        /// Where: the whole file or its training part.
        part: &'static str,
    },
    /// Classification asked for but the file has no `label` column.
    #[error("{file}: line 1: classification needs a `label` column")]
    NoLabel {
        /// The file.
        file: String,
    },
    /// The label changes inside one series of a long-layout file.
    #[error("{file}: line {line}, column {column} (`label`): label `{value}` differs from `{first}` earlier in series {series}")]
    LabelChanges {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The series id.
        series: String,
        /// The series' first label.
        first: String,
        /// The conflicting label.
        value: String,
    },
    /// The test file's channels or clock do not match the training file's.
    #[error("{file}: {message}")]
    Mismatch {
        /// The file.
        file: String,
        /// What differs.
        message: String,
    },
    /// Too few series (long layout) to split into train / validation / test.
    #[error("{file}: only {series} series; splitting by series needs at least {need} ({parts}); add series, or give a separate test file")]
    TooFewSeries {
        /// The file.
        file: String,
        /// Series available.
        series: usize,
        /// Series needed.
        need: usize,
        /// The parts that need one each.
        parts: &'static str,
    },
    /// A split part without windows.
    #[error("{file}: {train} train / {val} validation / {test} test windows; every part needs at least one: {hint}")]
    EmptySplit {
        /// The file.
        file: String,
        /// Train windows.
        train: usize,
        /// Validation windows.
        val: usize,
        /// Test windows.
        test: usize,
        /// Why, and what to change.
        hint: String,
    },
    /// A label that is not one of the classes (the model's, or the training data's).
    #[error("{file}{}: label `{label}` is not one of the {whose} classes: {classes}", at_line(*.line))]
    UnknownClass {
        /// The file.
        file: String,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The label.
        label: String,
        /// "model's" or "training data's".
        whose: &'static str,
        /// The known classes, comma-separated.
        classes: String,
    },
    /// A channel's normalisation std is 0 on the training windows.
    #[error("{file}: channel `{name}` has zero spread on the training windows (constant, or with the last-value reference constant within every window); it cannot be normalised")]
    Constant {
        /// The file.
        file: String,
        /// The channel.
        name: String,
    },
    /// A command-line value out of range.
    #[error("invalid setting: {0}")]
    Setting(String),
}

/// A cell for a message: `` `NA` ``, or "empty cell".
fn cell_text(value: &str) -> String {
    if value.is_empty() {
        "empty cell".into()
    } else {
        format!("`{value}`")
    }
}

/// "series `id`", or "the file" for a wide file's series.
fn series_name(id: &str) -> String {
    if id.is_empty() {
        "the file".into()
    } else {
        format!("series `{id}`")
    }
}

/// `": line N"` when the line is known.
fn at_line(line: Option<u64>) -> String {
    line.map_or_else(String::new, |l| format!(": line {l}"))
}
