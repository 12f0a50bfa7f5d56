//! CSV files as [`Table`]s: wide layout (one series, one row per sample) or
//! long layout (an `id` column names the series; rows of one series are
//! contiguous), an optional `t` column (see [`super::time`]) and an optional
//! `label` column.

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
    /// for date-times, row numbers 0, 1, 2, ... (within the series) without
    /// a `t` column (see [`Table::clock`]).
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
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = rdr.records();
    let header = match records.next() {
        None => return Err(DataError::Empty { file: file.into() }),
        Some(r) => r.map_err(|e| csv_error(file, &e))?,
    };
    let cols = Columns::of(file, &header, columns)?;
    let mut series: Vec<Series> = Vec::new();
    let mut rows = 0usize;
    // The `t` column's kind, fixed by its first row (and that row's line).
    let mut clock: Option<(Clock, u64)> = None;
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec.get(0).is_some_and(|s| s.trim().is_empty()) {
            continue; // blank line
        }
        if rec.len() != cols.names.len() {
            return Err(DataError::FieldCount {
                file: file.into(),
                line,
                expected: cols.names.len(),
                found: rec.len(),
            });
        }
        rows += 1;
        let row = Row {
            file,
            line,
            rec: &rec,
            names: &cols.names,
        };
        cols.add(&row, &mut series, &mut clock)?;
    }
    if rows == 0 {
        return Err(DataError::HeaderOnly { file: file.into() });
    }
    Ok(Table {
        source: file.to_string(),
        channels: cols.chans.iter().map(|&c| cols.names[c].clone()).collect(),
        clock: clock.map_or(Clock::Index, |(c, _)| c),
        series,
    })
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

    /// Adds one row's sample to its series (a new one when the `id`
    /// changes).
    fn add(
        &self,
        row: &Row<'_>,
        series: &mut Vec<Series>,
        clock: &mut Option<(Clock, u64)>,
    ) -> Result<(), DataError> {
        let id = match self.id {
            Some(c) => row.cell(c)?.to_string(),
            None => String::new(),
        };
        if series.last().is_none_or(|s| s.name != id) {
            if self.id.is_some() && series.iter().any(|s| s.name == id) {
                // An id that reappears after another one: rows of a series must be contiguous.
                return Err(DataError::SeriesSplit {
                    file: row.file.into(),
                    line: row.line,
                    column: self.id.map_or(0, |c| c + 1),
                    id,
                });
            }
            series.push(Series {
                name: id.clone(),
                times: Vec::new(),
                values: Vec::new(),
                labels: self.label.map(|_| Vec::new()),
                lines: Vec::new(),
            });
        }
        let s = series.last_mut().ok_or(DataError::Empty {
            file: row.file.into(),
        })?;
        let t = match self.t {
            Some(c) => row.time(c, clock, s.times.last().copied())?,
            None => s.times.len() as f64,
        };
        s.times.push(t);
        s.lines.push(row.line);
        let sample = self
            .chans
            .iter()
            .map(|&c| row.number(c).map(|v| v as f32))
            .collect::<Result<Vec<f32>, _>>()?;
        s.values.push(sample);
        if let (Some(c), Some(labels)) = (self.label, s.labels.as_mut()) {
            let l = row.cell(c)?.to_string();
            if let Some(first) = labels.first().filter(|_| self.id.is_some()) {
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
            labels.push(l);
        }
        Ok(())
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
}

impl Row<'_> {
    /// The trimmed text of column `col`; empty is an error.
    fn cell(&self, col: usize) -> Result<&str, DataError> {
        let s = self.rec.get(col).unwrap_or("").trim();
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

    /// Column `col` as a number finite also as f32.
    fn number(&self, col: usize) -> Result<f64, DataError> {
        let s = self.cell(col)?;
        let v: f64 = s.parse().map_err(|_| DataError::NotNumeric {
            file: self.file.into(),
            line: self.line,
            column: col + 1,
            name: self.names[col].clone(),
            value: s.to_string(),
        })?;
        if !v.is_finite() || !(v as f32).is_finite() {
            return Err(self.non_finite(col, s));
        }
        Ok(v)
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

    /// The time in column `c`: of the kind the first row fixed in `clock`,
    /// finite, and after `prev` (the series' previous time).
    fn time(
        &self,
        c: usize,
        clock: &mut Option<(Clock, u64)>,
        prev: Option<f64>,
    ) -> Result<f64, DataError> {
        let raw = self.cell(c)?;
        let (kind, t) = time::parse_time(raw).ok_or_else(|| DataError::NotTime {
            file: self.file.into(),
            line: self.line,
            column: c + 1,
            value: raw.to_string(),
        })?;
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
        if let Some(prev) = prev.filter(|&p| t <= p) {
            return Err(DataError::TimeNotIncreasing {
                file: self.file.into(),
                line: self.line,
                column: c + 1,
                value: t,
                previous: prev,
            });
        }
        Ok(t)
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
            ("a,b\n1,2\n3,\n", 3, 2, |e| {
                matches!(e, DataError::EmptyField { .. })
            }),
            ("a,b\n1,NaN\n", 2, 2, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("a\n1e39\n", 2, 1, |e| {
                matches!(e, DataError::NonFinite { .. })
            }),
            ("t,a\n0,1\n1,2\n1,3\n", 4, 1, |e| {
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
}
