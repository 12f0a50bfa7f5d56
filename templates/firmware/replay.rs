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

/// Reads a CSV as `trainer train --csv` and `trainer predict` do, for a
/// model with `channels` channels named `names` (empty: a model without
/// names).
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
/// * A patched model (channels `NAME@j`, `j` = 0..k, sample-major) reads
///   the `NAME` columns, `k` samples per input: the newest samples of a
///   series form whole patches (its oldest `n % k` are dropped), a patch's
///   time is its last sample's.
///
/// Quoted fields are not read. Errors name the line.
#[allow(dead_code)]
pub fn read(
    text: &str,
    names: &[&str],
    channels: usize,
    nominal_gap: f32,
) -> Result<Vec<Series>, String> {
    let (columns, k) = patch(names, channels);
    let c = channels / k;
    let rows = rows(text, &columns, c)?;
    let series = rows.iter().map(|(values, times)| {
        // The last sample of each patch (of every sample for `k` = 1).
        let ends: Vec<usize> = (times.len() % k + k - 1..times.len()).step_by(k).collect();
        let samples = ends
            .iter()
            .flat_map(|&e| &values[(e + 1 - k) * c..(e + 1) * c])
            .copied()
            .collect();
        let gaps = ends
            .iter()
            .enumerate()
            .map(|(i, &e)| match i.checked_sub(1) {
                Some(p) => (times[e] - times[ends[p]]) as f32,
                None => nominal_gap,
            })
            .collect();
        Series { samples, gaps }
    });
    Ok(series.filter(|s| !s.gaps.is_empty()).collect())
}

/// The columns a model reads and its patch: the names' bases and `k` when
/// every name is `BASE@j` as the trainer writes a patch (`k` >= 2,
/// sample-major: `a@0, b@0, a@1, b@1, ...`), else the names and 1.
fn patch<'n>(names: &[&'n str], channels: usize) -> (Vec<&'n str>, usize) {
    let split = |name: &'n str| {
        let (base, j) = name.rsplit_once('@')?;
        let digits = !j.is_empty() && j.bytes().all(|b| b.is_ascii_digit());
        let canonical = digits && (j == "0" || !j.starts_with('0')) && !base.is_empty();
        Some((base, j.parse::<usize>().ok().filter(|_| canonical)?))
    };
    let parsed: Option<Vec<(&str, usize)>> = names.iter().map(|n| split(n)).collect();
    let parsed = parsed.unwrap_or_default();
    let c = parsed.iter().take_while(|(_, j)| *j == 0).count();
    let bases: Vec<&str> = parsed.iter().take(c).map(|(base, _)| *base).collect();
    let regular = |c: usize| {
        parsed
            .iter()
            .enumerate()
            .all(|(i, &(base, j))| j == i / c && base == bases[i % c])
    };
    match channels.checked_div(c) {
        Some(k) if k >= 2 && k * c == channels && parsed.len() == channels && regular(c) => {
            (bases, k)
        }
        _ => (names.to_vec(), 1),
    }
}

/// A series as the CSV holds it: samples (`[n][channels]`, flattened) and
/// their times.
type Recorded = (Vec<f32>, Vec<f64>);

/// Each series' samples and times, the channels the columns `names`
/// (empty: every column but `t`, `id` and `label`); see [`read`].
fn rows(text: &str, names: &[&str], channels: usize) -> Result<Vec<Recorded>, String> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or("the CSV is empty")?;
    let delim = delimiter(header);
    let columns: Vec<&str> = header.split(delim).map(str::trim).collect();
    let find = |name: &str| columns.iter().position(|c| *c == name);
    let (t, id) = (find("t"), find("id"));
    let chans = channel_columns(&columns, names, channels)?;
    let one_column = columns.len() == 1;
    let mut series: Vec<Recorded> = Vec::new();
    // The current series: its id, its rows so far (dropped ones too), and
    // a one-column file's blank lines not yet counted.
    let mut current: Option<&str> = None;
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
            series.push((Vec::new(), Vec::new()));
            (current, rows, blanks) = (Some(name), 0, 0);
        }
        rows += std::mem::take(&mut blanks);
        let row = rows as f64;
        rows += 1;
        let time = match t {
            Some(c) => time(cells[c])
                .ok_or_else(|| at(format!("t `{}` is no number, date or date-time", cells[c])))?,
            None => row,
        };
        let Some(sample) = sample(&cells, &chans, &columns).map_err(at)? else {
            continue;
        };
        if let Some((values, times)) = series.last_mut() {
            if times.last().is_some_and(|&p| time <= p) {
                return Err(at("the time does not increase".to_string()));
            }
            values.extend(sample);
            times.push(time);
        }
    }
    Ok(series)
}

/// The indices of the channel columns: those named `names`, or without
/// names every column but `t`, `id` and `label`; `channels` of them.
fn channel_columns(
    columns: &[&str],
    names: &[&str],
    channels: usize,
) -> Result<Vec<usize>, String> {
    let find = |name: &str| columns.iter().position(|c| *c == name);
    let chans: Vec<usize> = if names.is_empty() {
        let others = ["t", "id", "label"].map(find);
        (0..columns.len())
            .filter(|i| !others.contains(&Some(*i)))
            .collect()
    } else {
        names
            .iter()
            .map(|n| {
                find(n).ok_or_else(|| {
                    format!(
                        "no column `{n}` (a channel of the model); the header: {}",
                        columns.join(",")
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    if chans.len() != channels {
        let found: Vec<&str> = chans.iter().map(|&i| columns[i]).collect();
        return Err(format!(
            "{} channel columns ({}), the model reads {channels}",
            chans.len(),
            found.join(", ")
        ));
    }
    Ok(chans)
}

/// A row's sample, read as the trainer reads a cell (an `f64` rounded to
/// `f32`), or `None` when a cell is missing (empty, `NaN`, `NA`, `N/A`).
fn sample(cells: &[&str], chans: &[usize], columns: &[&str]) -> Result<Option<Vec<f32>>, String> {
    let mut sample = Vec::with_capacity(chans.len());
    for &c in chans {
        let cell = cells[c];
        let missing = ["", "nan", "na", "n/a"]
            .iter()
            .any(|m| cell.eq_ignore_ascii_case(m));
        match cell.parse::<f64>() {
            _ if missing => return Ok(None),
            Ok(v) if v.is_nan() => return Ok(None),
            Ok(v) if (v as f32).is_finite() => sample.push(v as f32),
            _ => {
                return Err(format!(
                    "`{cell}` in column `{}` is no finite number",
                    columns[c]
                ))
            }
        }
    }
    Ok(Some(sample))
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
