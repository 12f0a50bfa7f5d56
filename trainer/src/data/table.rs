//! CSV files as [`Table`]s: wide layout (one series, one row per sample) or
//! long layout (an `id` column names the series; rows of one series are
//! contiguous), an optional `t` column (see [`super::time`]) and an optional
//! `label` column.
//!
//! **Delimiter**: `,`, unless the header line has no `,` but a `;` or a tab
//! (then that one).
//!
//! **Missing values**: a channel cell that is empty, `NaN`, `NA` or `N/A`
//! (any case, trimmed) is missing, and its whole row is dropped (with
//! several channels too): the series then has a longer gap there, which the
//! solver integrates across. Without a `t` column a dropped row still
//! counts, so its neighbours are 2 row numbers apart. [`Table::missing`]
//! records the drops. A one-column file (one channel, no `t`) has its
//! empty cells as blank lines: there a blank line before a data row is a
//! missing value (elsewhere blank lines are no rows). Infinite values stay
//! errors, as do a missing `t`, an empty `id` or `label`, and a series (or
//! file) left without rows. Times must increase strictly within a series,
//! also across dropped rows.

use super::time::{self, kind_name};
use super::{DataError, MAX_CHANNELS};
use nagode::format::Clock;
use std::path::Path;

/// One series: samples of every channel with their times.
#[derive(Clone, Debug)]
pub struct Series {
    /// Series name (the `id` in long layout).
    pub name: String,
    /// Sample times: the `t` column's numbers, seconds since the Unix epoch
    /// for date-times, row numbers 0, 1, 2, ... (within the series, dropped
    /// rows included) without a `t` column (see [`Table::clock`]).
    pub times: Vec<f64>,
    /// Samples, `[n][channel]`.
    pub values: Vec<Vec<f32>>,
    /// Per-sample labels, when the file has a `label` column.
    pub labels: Option<Vec<String>>,
    /// 1-based file line of each sample, for error messages; empty for
    /// generated data.
    pub lines: Vec<u64>,
}

/// A whole file: its series and channel names.
#[derive(Clone, Debug)]
pub struct Table {
    /// Where it came from (file name or built-in name), for error messages.
    pub source: String,
    /// Channel names, in column order.
    pub channels: Vec<String>,
    /// How the file gives time: [`Clock::Index`] without a `t` column,
    /// [`Clock::Number`] for numbers, [`Clock::DateTime`] for ISO-8601
    /// dates / date-times.
    pub clock: Clock,
    /// The series (one for wide layout).
    pub series: Vec<Series>,
    /// The rows dropped for missing channel values (none for generated data).
    pub missing: Missing,
}

/// Rows dropped for missing channel values (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Rows dropped.
    pub rows: usize,
    /// Missing channel cells in those rows.
    pub cells: usize,
    /// 1-based file lines of the first dropped rows, at most
    /// [`Missing::LINES`] of them.
    pub lines: Vec<u64>,
}

impl Missing {
    /// How many dropped rows' lines are kept.
    pub const LINES: usize = 5;

    /// Counts one dropped row at `line` with `cells` missing cells.
    fn drop_row(&mut self, line: u64, cells: usize) {
        self.rows += 1;
        self.cells += cells;
        if self.lines.len() < Self::LINES {
            self.lines.push(line);
        }
    }

    /// "3 rows dropped (lines 54, 99, 120) of train.csv"; the cells are
    /// named when there are more of them than rows.
    fn describe(&self, source: &str) -> String {
        let mut at: Vec<String> = self.lines.iter().map(u64::to_string).collect();
        if self.rows > self.lines.len() {
            at.push("...".into());
        }
        let cells = if self.cells > self.rows {
            format!("{} missing cells; ", self.cells)
        } else {
            String::new()
        };
        format!(
            "{} dropped ({cells}{} {}) of {source}",
            plural(self.rows, "row"),
            if self.lines.len() == 1 {
                "line"
            } else {
                "lines"
            },
            at.join(", ")
        )
    }
}

impl Table {
    /// The summary note on the rows dropped for missing values from this
    /// table and from `test`, if any were dropped.
    pub fn missing_note(&self, test: Option<&Table>) -> Option<String> {
        let parts: Vec<String> = std::iter::once(self)
            .chain(test)
            .filter(|t| t.missing.rows > 0)
            .map(|t| t.missing.describe(&t.source))
            .collect();
        (!parts.is_empty()).then(|| {
            format!(
                "missing values: {}; the ODE integrates across the longer gaps",
                parts.join(", ")
            )
        })
    }
}

/// "1 row", "3 rows".
pub(super) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Reads a CSV file (wide or long layout, chosen by the presence of an `id` column).
pub fn load_csv(path: &Path, columns: Option<&[String]>) -> Result<Table, DataError> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| DataError::Io {
        file: file.clone(),
        source,
    })?;
    parse_csv(&file, &text, columns)
}

/// Parses CSV bytes; `file` names the source in errors.
pub fn parse_csv(file: &str, bytes: &[u8], columns: Option<&[String]>) -> Result<Table, DataError> {
    let delim = delimiter(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = rdr.records();
    let header = match records.next() {
        None => return Err(DataError::Empty { file: file.into() }),
        Some(r) => r.map_err(|e| csv_error(file, &e))?,
    };
    let cols = Columns::of(file, &header, columns)?;
    let mut reader = Reader {
        cols: &cols,
        series: Vec::new(),
        clock: None,
        missing: Missing::default(),
        current: Current::default(),
    };
    let mut lines = Lines::new(bytes);
    let mut next_line = lines.after(&header);
    // A one-column file's blank lines before a data row are empty cells;
    // other blank lines are no rows.
    let one_column = cols.names.len() == 1;
    let mut blank: Vec<u64> = Vec::new();
    let empty = csv::StringRecord::from(vec![""]);
    let mut rows = 0usize;
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        let line = lines.start(&rec);
        if one_column {
            // The blank lines the CSV reader skipped.
            blank.extend(next_line..line);
        }
        next_line = lines.after(&rec);
        if rec.len() == 1 && rec.get(0).is_some_and(|s| s.trim().is_empty()) {
            if one_column {
                blank.push(line);
            }
            continue;
        }
        if rec.len() != cols.names.len() {
            let text: Vec<&str> = rec.iter().collect();
            return Err(DataError::FieldCount {
                file: file.into(),
                line,
                expected: cols.names.len(),
                found: rec.len(),
                hint: delimiter_hint(&text.concat(), delim, true),
            });
        }
        let row = |line, rec| Row {
            file,
            line,
            rec,
            names: &cols.names,
            delim,
        };
        for l in blank.drain(..) {
            rows += 1;
            reader.add(&row(l, &empty))?;
        }
        rows += 1;
        reader.add(&row(line, &rec))?;
    }
    if rows == 0 {
        return Err(DataError::HeaderOnly { file: file.into() });
    }
    reader.end_series(file)?;
    Ok(Table {
        source: file.to_string(),
        channels: cols.chans.iter().map(|&c| cols.names[c].clone()).collect(),
        clock: reader.clock.map_or(Clock::Index, |(c, _)| c),
        series: reader.series,
        missing: reader.missing,
    })
}

/// 1-based file lines of records, counted from the bytes: the CSV reader's
/// own count leaves out the blank lines it skips and lags one line behind
/// after a CRLF, while the byte offset of a record's position is at or
/// before the line ends that precede it.
struct Lines<'a> {
    /// The whole file.
    bytes: &'a [u8],
    /// A byte offset already counted up to ...
    at: usize,
    /// ... and the line it is on.
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line `rec` starts on (records come in file order).
    fn start(&mut self, rec: &csv::StringRecord) -> u64 {
        let byte = rec.position().map_or(self.at, |p| p.byte() as usize);
        let byte = byte.clamp(self.at, self.bytes.len());
        let start = byte
            + self.bytes[byte..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        let ends = self.bytes[self.at..start].iter().filter(|&&b| b == b'\n');
        self.line += ends.count() as u64;
        self.at = start;
        self.line
    }

    /// The line after `rec` (after the line breaks inside its quoted fields).
    fn after(&mut self, rec: &csv::StringRecord) -> u64 {
        let inside: usize = rec.iter().map(|f| f.matches('\n').count()).sum();
        self.start(rec) + 1 + inside as u64
    }
}

/// The delimiter the header line (the first non-blank one) uses: `,`,
/// unless the line has no `,` but has `;` or tabs (then the more frequent
/// of the two).
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    let count = |d: u8| header.iter().filter(|&&b| b == d).count();
    match (count(b','), count(b';'), count(b'\t')) {
        (0, semi, tab) if semi > 0 && semi >= tab => b';',
        (0, _, tab) if tab > 0 => b'\t',
        _ => b',',
    }
}

/// The hint for `text` (a cell, or a row's fields) holding a delimiter other
/// than the file's `delim`, or nothing; a `,` counts only when `comma` (in a
/// number cell it may be a decimal comma).
fn delimiter_hint(text: &str, delim: u8, comma: bool) -> String {
    [(b';', "`;`"), (b'\t', "tabs"), (b',', "`,`")]
        .into_iter()
        .find(|&(d, _)| d != delim && (comma || d != b',') && text.as_bytes().contains(&d))
        .map_or_else(String::new, |(_, name)| {
            format!(
                "; the file seems to use {name} as its delimiter, but its header line does not \
                 (the header line sets the delimiter)"
            )
        })
}

/// Whether a channel cell (trimmed) is a missing value: empty, `NaN`, `NA`
/// or `N/A`, in any case.
fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || ["nan", "na", "n/a"]
            .iter()
            .any(|m| cell.eq_ignore_ascii_case(m))
}

/// The header's columns: which are `t`, `id`, `label` and the channels.
struct Columns {
    /// Column names, trimmed.
    names: Vec<String>,
    /// The `t` column.
    t: Option<usize>,
    /// The `id` column (long layout).
    id: Option<usize>,
    /// The `label` column.
    label: Option<usize>,
    /// The channel columns, in channel order.
    chans: Vec<usize>,
}

impl Columns {
    /// Reads and checks the header; `columns` picks the channels (all the
    /// others by default).
    fn of(
        file: &str,
        header: &csv::StringRecord,
        columns: Option<&[String]>,
    ) -> Result<Columns, DataError> {
        let f = || file.to_string();
        let names: Vec<String> = header.iter().map(|s| s.trim().to_string()).collect();
        if names.iter().all(|n| n.is_empty()) {
            return Err(DataError::Empty { file: f() });
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(DataError::DuplicateColumn {
                    file: f(),
                    column: i + 1,
                    name: n.clone(),
                });
            }
        }
        let find = |n: &str| names.iter().position(|h| h == n);
        let (t, id, label) = (find("t"), find("id"), find("label"));
        let missing = |name: &str| DataError::MissingColumn {
            file: f(),
            name: name.into(),
            header: names.join(","),
        };
        let chans: Vec<usize> = match columns {
            Some(list) => list
                .iter()
                .map(|c| find(c).ok_or_else(|| missing(c)))
                .collect::<Result<_, _>>()?,
            None => (0..names.len())
                .filter(|&i| Some(i) != t && Some(i) != id && Some(i) != label)
                .collect(),
        };
        if chans.is_empty() {
            return Err(DataError::NoChannels { file: f() });
        }
        if chans.len() > MAX_CHANNELS {
            return Err(DataError::TooManyChannels {
                file: f(),
                count: chans.len(),
                max: MAX_CHANNELS,
            });
        }
        if id.is_some() && t.is_none() {
            return Err(missing("t"));
        }
        Ok(Columns {
            names,
            t,
            id,
            label,
            chans,
        })
    }
}

/// The series read so far, and the state of the current (last) one.
struct Reader<'a> {
    /// The header's columns.
    cols: &'a Columns,
    /// The series, the current one last.
    series: Vec<Series>,
    /// The `t` column's kind, fixed by its first row (and that row's line).
    clock: Option<(Clock, u64)>,
    /// The rows dropped so far.
    missing: Missing,
    /// The current series' rows.
    current: Current,
}

/// The rows of the current series, kept and dropped.
#[derive(Default)]
struct Current {
    /// Rows read, dropped ones included (the next row's number without `t`).
    rows: usize,
    /// The previous row's time and line (dropped or not).
    prev: Option<(f64, u64)>,
    /// The series' first line.
    first_line: u64,
}

impl Reader<'_> {
    /// Adds one row's sample to its series (a new one when the `id`
    /// changes), or drops the row when a channel value is missing.
    fn add(&mut self, row: &Row<'_>) -> Result<(), DataError> {
        let cols = self.cols;
        let id = match cols.id {
            Some(c) => row.cell(c)?.to_string(),
            None => String::new(),
        };
        if self.series.last().is_none_or(|s| s.name != id) {
            if cols.id.is_some() && self.series.iter().any(|s| s.name == id) {
                // An id that reappears after another one: rows of a series must be contiguous.
                return Err(DataError::SeriesSplit {
                    file: row.file.into(),
                    line: row.line,
                    column: cols.id.map_or(0, |c| c + 1),
                    id,
                });
            }
            self.end_series(row.file)?;
            self.series.push(Series {
                name: id.clone(),
                times: Vec::new(),
                values: Vec::new(),
                labels: cols.label.map(|_| Vec::new()),
                lines: Vec::new(),
            });
            self.current = Current {
                first_line: row.line,
                ..Current::default()
            };
        }
        let t = match cols.t {
            Some(c) => row.time(c, &mut self.clock, self.current.prev)?,
            None => self.current.rows as f64,
        };
        self.current.prev = Some((t, row.line));
        self.current.rows += 1;
        let sample = cols
            .chans
            .iter()
            .map(|&c| row.value(c))
            .collect::<Result<Vec<Option<f32>>, _>>()?;
        let s = self.series.last_mut().ok_or(DataError::Empty {
            file: row.file.into(),
        })?;
        let label = match (cols.label, s.labels.as_ref()) {
            (Some(c), Some(labels)) => {
                let l = row.cell(c)?.to_string();
                if let Some(first) = labels.first().filter(|_| cols.id.is_some()) {
                    if *first != l {
                        return Err(DataError::LabelChanges {
                            file: row.file.into(),
                            line: row.line,
                            column: c + 1,
                            series: id,
                            first: first.clone(),
                            value: l,
                        });
                    }
                }
                Some(l)
            }
            _ => None,
        };
        let missing = sample.iter().filter(|v| v.is_none()).count();
        if missing > 0 {
            self.missing.drop_row(row.line, missing);
            return Ok(());
        }
        s.times.push(t);
        s.lines.push(row.line);
        s.values.push(sample.into_iter().flatten().collect());
        if let (Some(l), Some(labels)) = (label, s.labels.as_mut()) {
            labels.push(l);
        }
        Ok(())
    }

    /// Checks that the current series kept a row (nothing to check before
    /// the first series).
    fn end_series(&self, file: &str) -> Result<(), DataError> {
        match self.series.last() {
            Some(s) if s.values.is_empty() => Err(DataError::AllMissing {
                file: file.into(),
                series: s.name.clone(),
                line: self.cols.id.map(|_| self.current.first_line),
                rows: self.current.rows,
            }),
            _ => Ok(()),
        }
    }
}

/// One data row, for reading its cells with errors that name the cell.
struct Row<'a> {
    /// The source, for errors.
    file: &'a str,
    /// The row's 1-based file line.
    line: u64,
    /// The row's fields.
    rec: &'a csv::StringRecord,
    /// Column names.
    names: &'a [String],
    /// The file's delimiter, for hints.
    delim: u8,
}

impl Row<'_> {
    /// The trimmed text of column `col`.
    fn text(&self, col: usize) -> &str {
        self.rec.get(col).unwrap_or("").trim()
    }

    /// The trimmed text of column `col`; empty is an error.
    fn cell(&self, col: usize) -> Result<&str, DataError> {
        let s = self.text(col);
        if s.is_empty() {
            Err(DataError::EmptyField {
                file: self.file.into(),
                line: self.line,
                column: col + 1,
                name: self.names[col].clone(),
            })
        } else {
            Ok(s)
        }
    }

    /// Channel column `col`: a number finite also as f32, or `None` for a
    /// missing value (see [`is_missing`]; any NaN too).
    fn value(&self, col: usize) -> Result<Option<f32>, DataError> {
        let s = self.text(col);
        if is_missing(s) {
            return Ok(None);
        }
        let v: f64 = s.parse().map_err(|_| DataError::NotNumeric {
            file: self.file.into(),
            line: self.line,
            column: col + 1,
            name: self.names[col].clone(),
            value: s.to_string(),
            hint: delimiter_hint(s, self.delim, false),
        })?;
        if v.is_nan() {
            return Ok(None);
        }
        if !v.is_finite() || !(v as f32).is_finite() {
            return Err(self.non_finite(col, s));
        }
        Ok(Some(v as f32))
    }

    fn non_finite(&self, col: usize, value: &str) -> DataError {
        DataError::NonFinite {
            file: self.file.into(),
            line: self.line,
            column: col + 1,
            name: self.names[col].clone(),
            value: value.to_string(),
        }
    }

    /// The time in column `c`: present, of the kind the first row fixed in
    /// `clock`, finite, and after `prev` (the series' previous time and its
    /// line).
    fn time(
        &self,
        c: usize,
        clock: &mut Option<(Clock, u64)>,
        prev: Option<(f64, u64)>,
    ) -> Result<f64, DataError> {
        let raw = self.text(c);
        let missing = || DataError::MissingTime {
            file: self.file.into(),
            line: self.line,
            column: c + 1,
            value: raw.to_string(),
        };
        if is_missing(raw) {
            return Err(missing());
        }
        let (kind, t) = time::parse_time(raw).ok_or_else(|| DataError::NotTime {
            file: self.file.into(),
            line: self.line,
            column: c + 1,
            value: raw.to_string(),
        })?;
        if t.is_nan() {
            return Err(missing());
        }
        match *clock {
            None => *clock = Some((kind, self.line)),
            Some((first, first_line)) if first != kind => {
                return Err(DataError::MixedTime {
                    file: self.file.into(),
                    line: self.line,
                    column: c + 1,
                    value: raw.to_string(),
                    kind: kind_name(kind),
                    first_line,
                    first_kind: kind_name(first),
                });
            }
            Some(_) => {}
        }
        if !t.is_finite() || !(t as f32).is_finite() {
            return Err(self.non_finite(c, raw));
        }
        match prev {
            Some((p, first_line)) if t == p => Err(DataError::DuplicateTime {
                file: self.file.into(),
                line: self.line,
                column: c + 1,
                value: raw.to_string(),
                first_line,
            }),
            Some((p, _)) if t < p => Err(DataError::TimeNotIncreasing {
                file: self.file.into(),
                line: self.line,
                column: c + 1,
                value: t,
                previous: p,
            }),
            _ => Ok(t),
        }
    }
}

fn csv_error(file: &str, e: &csv::Error) -> DataError {
    DataError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> DataError {
        parse_csv("bad.csv", text.as_bytes(), None).expect_err("must fail")
    }

    #[test]
    fn wide_with_time_and_irregular_gaps() {
        let t = parse_csv("ok.csv", b"t,a,b\n0,1,2\n0.5,2,3\n2,3,4\n", None).expect("parses");
        assert_eq!(t.channels, ["a", "b"]);
        assert_eq!(t.series[0].times, [0.0, 0.5, 2.0]);
        assert_eq!(t.clock, Clock::Number);
        assert_eq!(t.series[0].lines, [2, 3, 4]);
        assert_eq!(t.series[0].values[2], [3.0, 4.0]);
    }

    #[test]
    fn malformed_cells_name_line_and_column() {
        // (csv, line, column) of the bad cell.
        type Case = (&'static str, u64, usize, fn(&DataError) -> bool);
        let cases: [Case; 5] = [
            ("a,b\n1,2\n3,x\n", 3, 2, |e| {
                matches!(e, DataError::NotNumeric { .. })
            }),
            ("id,t,a\nx,0,1\n,1,2\n", 3, 1, |e| {
                matches!(e, DataError::EmptyField { .. })
            }),
            ("a,b\n1,inf\n", 2, 2, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("a\n1e39\n", 2, 1, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("t,a\n0,1\n1,2\n0.5,3\n", 4, 1, |e| {
                matches!(e, DataError::TimeNotIncreasing { .. })
            }),
        ];
        for (csv, line, column, kind) in cases {
            let e = err(csv);
            assert!(kind(&e), "{csv:?}: {e:?}");
            assert!(
                e.to_string()
                    .contains(&format!("bad.csv: line {line}, column {column}")),
                "{e}"
            );
        }
        let e = err("a,b\n1,2\n3\n");
        assert!(
            matches!(
                e,
                DataError::FieldCount {
                    line: 3,
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(err(""), DataError::Empty { .. }));
        assert!(matches!(err("a,b\n"), DataError::HeaderOnly { .. }));
        assert!(matches!(
            err("a,a\n1,2\n"),
            DataError::DuplicateColumn { column: 2, .. }
        ));
        assert!(matches!(
            err("t,label\n1,2\n"),
            DataError::NoChannels { .. }
        ));
        let e = parse_csv("bad.csv", b"a\n1\n", Some(&["zz".to_string()])).expect_err("missing");
        assert!(matches!(e, DataError::MissingColumn { .. }), "{e}");
        assert!(e.to_string().contains("bad.csv"));
    }

    #[test]
    fn bom_crlf_and_quotes_are_accepted() {
        let t = parse_csv(
            "ok.csv",
            "\u{feff}a,\"b\"\r\n1,\"2.5\"\r\n".as_bytes(),
            None,
        )
        .expect("parses");
        assert_eq!(t.channels, ["a", "b"]);
        assert_eq!(t.series[0].values[0], [1.0, 2.5]);
    }

    #[test]
    fn lines_count_blank_lines_and_crlf() {
        let t = parse_csv("ok.csv", b"\n t,a\r\n0,1\r\n\r\n \r\n1,2\r\n2,3", None).expect("parses");
        assert_eq!(t.series[0].lines, [3, 6, 7]);
        assert_eq!(t.missing, Missing::default());
        let e = err("a,label\r\n1,p\r\n\r\n2,\"x\r\ny\"\r\nz,q\r\n");
        assert!(e.to_string().contains("bad.csv: line 6, column 1"), "{e}");
        // One column: blank lines before a row are empty cells, after the last row nothing.
        let t = parse_csv("ok.csv", b"a\r\n1\r\n\r\n  \r\n4\r\n\r\n\r\n", None).expect("parses");
        assert_eq!(one(&t), (vec![0.0, 3.0], vec![1.0, 4.0]));
        assert_eq!((t.missing.rows, &t.missing.lines[..]), (2, &[3, 4][..]));
        assert!(matches!(err("a\n\n\n"), DataError::HeaderOnly { .. }));
    }

    #[test]
    fn clock_follows_the_t_column() {
        let t = parse_csv("i.csv", b"a\n5\n6\n7\n", None).expect("parses");
        assert_eq!(t.clock, Clock::Index);
        assert_eq!(t.series[0].times, [0.0, 1.0, 2.0]);
        let t = parse_csv(
            "d.csv",
            b"t,a\n2024-06-01T00:00:00Z,1\n2024-06-01 00:30:00,2\n2024-06-01T02:00:00+01:00,3\n",
            None,
        )
        .expect("parses");
        assert_eq!(t.clock, Clock::DateTime);
        let d = 1_717_200_000.0;
        assert_eq!(t.series[0].times, [d, d + 1800.0, d + 3600.0]);
    }

    #[test]
    fn mixed_or_unparseable_time_is_refused_with_line_and_column() {
        let e = err("a,t\n1,2024-06-01\n2,2024-06-02\n3,17\n");
        assert!(
            matches!(
                e,
                DataError::MixedTime {
                    line: 4,
                    column: 2,
                    first_line: 2,
                    ..
                }
            ),
            "{e:?}"
        );
        let m = e.to_string();
        assert!(m.contains("bad.csv: line 4, column 2"), "{m}");
        assert!(
            m.contains("`17` is a number") && m.contains("line 2 has a date-time"),
            "{m}"
        );
        assert!(
            m.contains("2024-06-01 00:30:00") && m.contains("+01:00"),
            "{m}"
        );
        let e = err("t,a\n0,1\n1800,2\n2024-06-01,3\n");
        assert!(matches!(e, DataError::MixedTime { line: 4, .. }), "{e:?}");
        let e = err("t,a\n2024-06-01,1\n06/02/2024,2\n");
        assert!(
            matches!(
                e,
                DataError::NotTime {
                    line: 3,
                    column: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        let m = e.to_string();
        assert!(m.contains("`06/02/2024` is not a time; accepted:"), "{m}");
        // Strictly increasing holds for date-times too.
        let e = err("t,a\n2024-06-01 01:00,1\n2024-06-01T00:00:00Z,2\n");
        assert!(
            matches!(e, DataError::TimeNotIncreasing { line: 3, .. }),
            "{e:?}"
        );
    }

    /// The one series' times and values (one channel).
    fn one(t: &Table) -> (Vec<f64>, Vec<f32>) {
        assert_eq!(t.series.len(), 1);
        let s = &t.series[0];
        (s.times.clone(), s.values.iter().map(|v| v[0]).collect())
    }

    #[test]
    fn a_missing_channel_value_drops_its_row_and_the_gap_doubles() {
        for cell in ["", " ", "NaN", "nan", "NA", "n/a", " N/A "] {
            // Without `t`: the dropped row still takes its row number.
            let text = format!("a\n1\n2\n{cell}\n4\n5\n");
            let t = parse_csv("m.csv", text.as_bytes(), None).expect("parses");
            assert_eq!(
                one(&t),
                (vec![0.0, 1.0, 3.0, 4.0], vec![1.0, 2.0, 4.0, 5.0]),
                "{cell:?}"
            );
            assert_eq!(t.series[0].lines, [2, 3, 5, 6]);
            let m = Missing {
                rows: 1,
                cells: 1,
                lines: vec![4],
            };
            assert_eq!(t.missing, m, "{cell:?}");
            // With `t`: the neighbours keep their own times.
            let text = format!("t,a\n0,1\n0.5,2\n1,{cell}\n1.5,4\n");
            let t = parse_csv("m.csv", text.as_bytes(), None).expect("parses");
            assert_eq!(
                one(&t),
                (vec![0.0, 0.5, 1.5], vec![1.0, 2.0, 4.0]),
                "{cell:?}"
            );
            assert_eq!(t.missing.rows, 1);
        }
        // A gap of 2 units where the row was dropped.
        let t = parse_csv("m.csv", b"a\n1\nNA\n3\n", None).expect("parses");
        let gaps: Vec<f64> = t.series[0].times.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps, [2.0]);
        assert_eq!(t.missing_note(None), Some("missing values: 1 row dropped (line 3) of m.csv; the ODE integrates across the longer gaps".into()));
        let clean = parse_csv("c.csv", b"a\n1\n2\n", None).expect("parses");
        assert_eq!(clean.missing, Missing::default());
        assert_eq!(clean.missing_note(None), None);
    }

    #[test]
    fn a_row_with_one_missing_channel_of_several_is_dropped_and_counted() {
        let text = "id,t,a,b,label\n\
                    x,0,1,2,p\nx,1,,3,p\nx,2,3,NaN,p\nx,3,NA,N/A,p\nx,4,5,6,p\n\
                    y,0,1,1,q\ny,1,2,2,q\n";
        let t = parse_csv("m.csv", text.as_bytes(), None).expect("parses");
        assert_eq!(t.series.len(), 2);
        let x = &t.series[0];
        assert_eq!(x.times, [0.0, 4.0]);
        assert_eq!(x.values, [vec![1.0, 2.0], vec![5.0, 6.0]]);
        assert_eq!(x.lines, [2, 6]);
        assert_eq!(
            x.labels.as_deref(),
            Some(&["p".to_string(), "p".to_string()][..])
        );
        assert_eq!(t.series[1].times, [0.0, 1.0]);
        let m = Missing {
            rows: 3,
            cells: 4,
            lines: vec![3, 4, 5],
        };
        assert_eq!(t.missing, m);
        let note = t.missing_note(Some(&t)).expect("a note");
        assert_eq!(
            note,
            "missing values: 3 rows dropped (4 missing cells; lines 3, 4, 5) of m.csv, \
             3 rows dropped (4 missing cells; lines 3, 4, 5) of m.csv; \
             the ODE integrates across the longer gaps"
        );
        // Only the first lines are kept.
        let many = format!("a\n{}", "NA\n1\n".repeat(7));
        let t = parse_csv("m.csv", many.as_bytes(), None).expect("parses");
        assert_eq!((t.missing.rows, t.missing.lines.len()), (7, Missing::LINES));
        assert!(t
            .missing_note(None)
            .expect("note")
            .contains("(lines 2, 4, 6, 8, 10, ...)"));
        // Infinite is not missing; a bad cell in a dropped row is still an error.
        assert!(matches!(
            err("a,b\n1,2\n-inf,3\n"),
            DataError::NonFinite { line: 3, .. }
        ));
        assert!(matches!(
            err("a,b\n1,2\nNA,x\n"),
            DataError::NotNumeric {
                line: 3,
                column: 2,
                ..
            }
        ));
    }

    #[test]
    fn a_missing_time_is_an_error() {
        for cell in ["", "NaN", "NA", "n/a"] {
            let e = err(&format!("t,a\n0,1\n{cell},2\n2,3\n"));
            assert!(
                matches!(
                    e,
                    DataError::MissingTime {
                        line: 3,
                        column: 1,
                        ..
                    }
                ),
                "{cell:?}: {e:?}"
            );
            assert!(
                e.to_string()
                    .contains("a missing time stamp cannot be placed"),
                "{e}"
            );
        }
        let e = err("t,a\n2024-06-01,1\nNA,2\n");
        assert!(
            e.to_string()
                .contains("bad.csv: line 3, column 1 (`t`): `NA`: a missing time stamp"),
            "{e}"
        );
        let e = err("t,a\n0,1\n,2\n");
        assert!(
            e.to_string().contains("(`t`): empty cell: a missing"),
            "{e}"
        );
    }

    #[test]
    fn a_series_or_file_left_without_rows_is_an_error() {
        let e = err("a,b\nNA,1\n2,\n,\n");
        assert!(
            matches!(
                e,
                DataError::AllMissing {
                    rows: 3,
                    line: None,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "bad.csv: no samples left in the file: 3 rows dropped, \
             each with a missing channel value (empty, NaN, NA or N/A)"
        );
        // The middle series of three, and the last one.
        let e = err("id,t,a\nx,0,1\ny,0,NA\ny,1,\nz,0,1\n");
        assert!(
            matches!(
                e,
                DataError::AllMissing {
                    rows: 2,
                    line: Some(3),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("bad.csv: line 3: no samples left in series `y`: 2 rows dropped"),
            "{e}"
        );
        let e = err("id,t,a\nx,0,1\ny,0,NA\n");
        assert!(e.to_string().contains("series `y`: 1 row dropped"), "{e}");
    }

    #[test]
    fn semicolon_and_tab_delimiters_are_detected_from_the_header() {
        let comma = parse_csv("c.csv", b"t,a,b\n0,1,2\n0.5,2,3\n2,3,4\n", None).expect("parses");
        for text in [
            "t;a;b\n0;1;2\n0.5;2;3\n2;3;4\n",
            "t\ta\tb\n0\t1\t2\n0.5\t2\t3\n2\t3\t4\n",
            "\u{feff}t ; a ; b\r\n0;1;2\r\n0.5;2;3\r\n2;3;4\r\n",
        ] {
            let t = parse_csv("c.csv", text.as_bytes(), None).expect("parses");
            assert_eq!(t.channels, comma.channels, "{text:?}");
            assert_eq!(t.clock, comma.clock);
            assert_eq!(t.series[0].times, comma.series[0].times);
            assert_eq!(t.series[0].values, comma.series[0].values);
            assert_eq!(t.series[0].lines, comma.series[0].lines);
        }
        // One column: the header decides nothing, a `;` row gets a hint.
        let e = err("a\n1\n2;3\n");
        assert!(matches!(e, DataError::NotNumeric { line: 3, .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("the file seems to use `;` as its delimiter"),
            "{e}"
        );
        let e = err("a\n1\n2\t3\n");
        assert!(
            e.to_string()
                .contains("the file seems to use tabs as its delimiter"),
            "{e}"
        );
        // A comma header over `;` rows.
        let e = err("a,b\n1;2\n");
        assert!(matches!(e, DataError::FieldCount { line: 2, .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("the file seems to use `;` as its delimiter"),
            "{e}"
        );
        // No hint for a plain bad cell.
        assert!(!err("a\nx\n").to_string().contains("delimiter"));
    }

    #[test]
    fn a_repeated_time_stamp_is_a_duplicate() {
        let e = err("t,a\n0,1\n1,2\n1,3\n");
        assert!(
            matches!(
                e,
                DataError::DuplicateTime {
                    line: 4,
                    column: 1,
                    first_line: 3,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "bad.csv: line 4, column 1 (`t`): duplicate time stamp `1` (line 4 repeats line 3)"
        );
        let e = err("a,t\n1,2024-06-01 00:00:00\n2,2024-06-01T01:00:00+01:00\n");
        assert!(
            matches!(
                e,
                DataError::DuplicateTime {
                    line: 3,
                    first_line: 2,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("`2024-06-01T01:00:00+01:00`"), "{e}");
        // Across a dropped row too.
        let e = err("t,a\n0,1\n1,NA\n1,3\n");
        assert!(
            matches!(
                e,
                DataError::DuplicateTime {
                    line: 4,
                    first_line: 3,
                    ..
                }
            ),
            "{e:?}"
        );
        // The same time in another series is fine.
        let t = parse_csv("ok.csv", b"id,t,a\nx,0,1\nx,1,2\ny,0,3\ny,1,4\n", None).expect("parses");
        assert_eq!(t.series.len(), 2);
    }
}
