// The recorded CSV the template replays as its sensor: read here, written
// by build.rs as Rust statics (`rust`), and read by `cargo xtask
// embed-check` (which `include!`s this file) to compute the host's
// predictions from the very same samples and gaps.
//
// Plain Rust with no dependencies. A device that reads a real sensor needs
// none of it.

/// One series of a recording: its samples, `[n][channels]` flattened, and
/// the gap before each sample in the data's units (the first: the model's
/// nominal gap).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Samples, sample-major.
    pub samples: Vec<f32>,
    /// The gap before each sample.
    pub gaps: Vec<f32>,
}

/// Reads a CSV as `trainer train --csv` does, for a model with `channels`
/// channels named `names` (empty: a model without names).
///
/// * Delimiter `,`, unless the header has none but `;` or tabs.
/// * Wide layout (one series) or long layout (an `id` column; the rows of a
///   series are contiguous). A `label` column is ignored.
/// * Channels: the columns named as the model's channels, or without
///   names every column but `t`, `id` and `label`, in order.
/// * Time: a `t` column of numbers, or ISO-8601 dates / date-times (seconds
///   since the Unix epoch; no offset = UTC); without one, row numbers
///   within the series. A gap is the difference of two times as `f32`.
/// * A row with an empty, `NaN`, `NA` or `N/A` channel cell is dropped (the
///   next gap is longer; without `t` its row number still counts; in a
///   one-column file a blank line before a data row is such a row).
///
/// Quoted fields are not read. Errors name the line.
#[allow(dead_code)]
pub fn read(
    text: &str,
    names: &[&str],
    channels: usize,
    nominal_gap: f32,
) -> Result<Vec<Series>, String> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or("the CSV is empty")?;
    let delim = delimiter(header);
    let columns: Vec<&str> = header.split(delim).map(str::trim).collect();
    let find = |name: &str| columns.iter().position(|c| *c == name);
    let (t, id) = (find("t"), find("id"));
    let chans: Vec<usize> = if names.is_empty() {
        (0..columns.len())
            .filter(|&i| Some(i) != t && Some(i) != id && Some(i) != find("label"))
            .collect()
    } else {
        names
            .iter()
            .map(|n| {
                find(n).ok_or_else(|| {
                    format!("no column `{n}` (a channel of the model); the header: {header}")
                })
            })
            .collect::<Result<_, _>>()?
    };
    if chans.len() != channels {
        return Err(format!(
            "{} channel columns ({}), the model reads {channels}",
            chans.len(),
            chans
                .iter()
                .map(|&i| columns[i])
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let one_column = columns.len() == 1;
    let mut series: Vec<Series> = Vec::new();
    // The current series: its id, its last kept sample's time, its rows so
    // far (dropped ones too), and a one-column file's blank lines not yet
    // counted.
    let mut current: Option<&str> = None;
    let mut previous: Option<f64> = None;
    let mut rows = 0u64;
    let mut blanks = 0u64;
    for (i, line) in lines {
        let at = |what: String| format!("line {}: {what}", i + 1);
        if line.trim().is_empty() {
            blanks += u64::from(one_column);
            continue;
        }
        let cells: Vec<&str> = line.split(delim).map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(at(format!(
                "{} fields, the header has {}",
                cells.len(),
                columns.len()
            )));
        }
        let name = id.map_or("", |c| cells[c]);
        if series.is_empty() || current != Some(name) {
            series.push(Series {
                samples: Vec::new(),
                gaps: Vec::new(),
            });
            (current, previous, rows, blanks) = (Some(name), None, 0, 0);
        }
        rows += std::mem::take(&mut blanks);
        let row = rows as f64;
        rows += 1;
        let time = match t {
            Some(c) => time(cells[c])
                .ok_or_else(|| at(format!("t `{}` is no number, date or date-time", cells[c])))?,
            None => row,
        };
        // As the trainer reads a cell: an f64 rounded to f32; NaN is missing.
        let mut sample = Vec::with_capacity(channels);
        for &c in &chans {
            let cell = cells[c];
            let missing = ["", "nan", "na", "n/a"]
                .iter()
                .any(|m| cell.eq_ignore_ascii_case(m));
            match cell.parse::<f64>() {
                _ if missing => break,
                Ok(v) if v.is_nan() => break,
                Ok(v) if (v as f32).is_finite() => sample.push(v as f32),
                _ => {
                    return Err(at(format!(
                        "`{cell}` in column `{}` is no finite number",
                        columns[c]
                    )))
                }
            }
        }
        if sample.len() < channels {
            continue;
        }
        let gap = match previous {
            Some(p) if time > p => (time - p) as f32,
            Some(_) => return Err(at("the time does not increase".to_string())),
            None => nominal_gap,
        };
        previous = Some(time);
        if let Some(s) = series.last_mut() {
            s.samples.extend(sample);
            s.gaps.push(gap);
        }
    }
    series.retain(|s| !s.gaps.is_empty());
    Ok(series)
}

/// The header's delimiter: `,`, unless it has none but `;` or tabs (then
/// the more frequent of the two).
fn delimiter(header: &str) -> char {
    let count = |d: char| header.matches(d).count();
    match (count(','), count(';'), count('\t')) {
        (0, semi, tab) if semi > 0 && semi >= tab => ';',
        (0, _, tab) if tab > 0 => '\t',
        _ => ',',
    }
}

/// A `t` cell as a number, or an ISO-8601 date or date-time as seconds
/// since the Unix epoch.
fn time(cell: &str) -> Option<f64> {
    match cell.parse::<f64>() {
        Ok(v) => v.is_finite().then_some(v),
        Err(_) => datetime_seconds(cell),
    }
}

/// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM`,
/// `HH:MM:SS` or `HH:MM:SS.fraction`, optionally `Z` or `+HH:MM` / `-HH:MM`:
/// seconds since 1970-01-01T00:00:00Z, whole seconds plus nanoseconds.
fn datetime_seconds(cell: &str) -> Option<f64> {
    let number = |s: &str, digits: usize| -> Option<i64> {
        (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, rest) = cell.split_at_checked(10)?;
    let mut ymd = date.split('-');
    let (y, m, d) = (
        number(ymd.next()?, 4)?,
        number(ymd.next()?, 2)?,
        number(ymd.next()?, 2)?,
    );
    let days_in_month = [
        31,
        28 + i64::from(leap(y)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    let (mut seconds, mut nanos) = (days_from_civil(y, m, d) * 86_400, 0i64);
    if let Some(clock) = rest.strip_prefix(['T', ' ']) {
        let (clock, offset) = match clock.strip_suffix('Z') {
            Some(c) => (c, 0),
            None => match clock
                .len()
                .checked_sub(6)
                .and_then(|k| clock.split_at_checked(k))
            {
                Some((c, o)) if o.starts_with(['+', '-']) => {
                    let sign = if o.starts_with('-') { -1 } else { 1 };
                    let (h, min) = o.get(1..)?.split_once(':')?;
                    (c, sign * (number(h, 2)? * 3600 + number(min, 2)? * 60))
                }
                _ => (clock, 0),
            },
        };
        let mut hms = clock.split(':');
        let (h, min) = (number(hms.next()?, 2)?, number(hms.next()?, 2)?);
        let s = match hms.next() {
            Some(s) => {
                let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
                if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                nanos = format!("{fraction:0<9}").parse().ok()?;
                number(whole, 2)?
            }
            None => 0,
        };
        if hms.next().is_some() || h > 23 || min > 59 || s > 59 {
            return None;
        }
        seconds += h * 3600 + min * 60 + s - offset;
    } else if !rest.is_empty() {
        return None;
    }
    Some(seconds as f64 + nanos as f64 * 1e-9)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The series as Rust statics, every float its exact bit pattern:
/// `SERIES: [(&[f32], &[f32]); _]`, each series' samples and gaps.
#[allow(dead_code)]
pub fn rust(series: &[Series]) -> String {
    let floats = |values: &[f32]| -> String {
        let bits: Vec<String> = values
            .iter()
            .map(|v| format!("f32::from_bits({:#010x})", v.to_bits()))
            .collect();
        bits.join(", ")
    };
    let mut code = String::from("// Generated by build.rs (replay.rs) from NAGODE_CSV.\n\n");
    let mut entries = Vec::new();
    for (i, s) in series.iter().enumerate() {
        code.push_str(&format!(
            "static SAMPLES_{i}: [f32; {}] = [{}];\nstatic GAPS_{i}: [f32; {}] = [{}];\n",
            s.samples.len(),
            floats(&s.samples),
            s.gaps.len(),
            floats(&s.gaps)
        ));
        entries.push(format!("(&SAMPLES_{i}, &GAPS_{i})"));
    }
    code.push_str(&format!(
        "\n/// Each series' samples (`[n][channels]`) and the gap before each sample.\n\
         pub static SERIES: [(&[f32], &[f32]); {}] = [{}];\n",
        entries.len(),
        entries.join(", ")
    ));
    code
}
