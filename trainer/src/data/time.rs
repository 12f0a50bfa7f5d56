//! The `t` column: numbers or ISO-8601 dates / date-times, and the time
//! unit (nominal gap) derived from it.
//!
//! Times are `f64`: numbers as written, date-times as seconds since the Unix
//! epoch (1970-01-01T00:00:00Z). A date-time without an offset is taken as
//! UTC civil time (no time zone is guessed, and no daylight-saving jump can
//! appear in the gaps); a date alone is its midnight, UTC.

use super::{DataError, Table};
use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;
use nagode::format::Clock;

/// The forms a `t` cell may take, for error messages.
pub const ACCEPTED: &str = "numbers (1.5, 1800, 1e3), or ISO-8601 dates / date-times \
(2024-06-01, 2024-06-01 00:30:00, 2024-06-01T00:30:00.25, with an optional Z or +01:00 offset; \
no offset = UTC)";

/// Parses one `t` cell: `(Clock::Number, value)` for a number,
/// `(Clock::DateTime, seconds since the epoch)` for a date or date-time,
/// `None` for anything else. Non-finite numbers are returned as they are
/// (the caller reports them).
pub fn parse_time(cell: &str) -> Option<(Clock, f64)> {
    if let Ok(v) = cell.parse::<f64>() {
        return Some((Clock::Number, v));
    }
    datetime_seconds(cell).map(|s| (Clock::DateTime, s))
}

/// Seconds since the Unix epoch of an ISO-8601 date or date-time (see the
/// module docs: no offset = UTC civil time).
pub fn datetime_seconds(cell: &str) -> Option<f64> {
    // Annotations (`[Europe/Paris]`) would need a time-zone database and
    // could disagree with the offset: not accepted.
    if cell.contains('[') {
        return None;
    }
    let ts = match cell.parse::<Timestamp>() {
        Ok(ts) => ts,
        Err(_) => {
            let civil: DateTime = cell.parse().ok()?;
            Offset::UTC.to_timestamp(civil).ok()?
        }
    };
    Some(ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) * 1e-9)
}

/// A time as the user wrote it: date-times back as RFC 3339 in UTC (the
/// instant [`datetime_seconds`] read; a date-time without an offset was UTC
/// civil time), numbers and row numbers as numbers.
pub fn format_time(clock: Clock, t: f64) -> String {
    let instant = (clock == Clock::DateTime)
        .then(|| {
            let second = t.floor();
            let nanos = ((t - second) * 1e9).round() as i32;
            Timestamp::new(second as i64, nanos.min(999_999_999)).ok()
        })
        .flatten();
    match instant {
        Some(ts) => ts.to_string(),
        None => t.to_string(),
    }
}

/// Words for a clock in error messages.
pub fn kind_name(clock: Clock) -> &'static str {
    match clock {
        Clock::Index => "a row number",
        Clock::Number => "a number",
        Clock::DateTime => "a date-time",
    }
}

/// The nominal gap of `table` in its own units: the median of all gaps of
/// all its series (computed in f64; the mean of the two middle gaps for an
/// even count). It must be a positive finite f32.
pub fn time_unit(table: &Table) -> Result<f32, DataError> {
    let mut gaps: Vec<f64> = table
        .series
        .iter()
        .flat_map(|s| s.times.windows(2).map(|w| w[1] - w[0]))
        .collect();
    let err = |value: f64, hint| DataError::TimeUnit {
        file: table.source.clone(),
        value,
        hint,
    };
    if gaps.is_empty() {
        return Err(err(
            f64::NAN,
            "every series has a single sample, so there is no gap to measure",
        ));
    }
    gaps.sort_by(f64::total_cmp);
    let n = gaps.len();
    let median = if n % 2 == 1 {
        gaps[n / 2]
    } else {
        0.5 * (gaps[n / 2 - 1] + gaps[n / 2])
    };
    let unit = median as f32;
    if !(unit.is_finite() && unit > 0.0) {
        return Err(err(
            median,
            "rescale the `t` column (for example to seconds, hours or days)",
        ));
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_and_offsets_parse_to_epoch_seconds() {
        // 2024-06-01T00:00:00Z is 1_717_200_000 s after the epoch.
        let day = 1_717_200_000.0;
        let cases: [(&str, f64); 9] = [
            ("2024-06-01", day),
            ("2024-06-01 00:30:00", day + 1800.0),
            ("2024-06-01T00:30:00", day + 1800.0),
            ("2024-06-01T00:30:00Z", day + 1800.0),
            ("2024-06-01 00:30:00Z", day + 1800.0),
            ("2024-06-01T00:30:00+01:00", day - 1800.0),
            ("2024-06-01T00:30:00-02:30", day + 1800.0 + 9000.0),
            ("2024-06-01T00:30:00.25", day + 1800.25),
            ("1970-01-01T00:00:00.5Z", 0.5),
        ];
        for (cell, want) in cases {
            let (clock, got) = parse_time(cell).unwrap_or_else(|| panic!("{cell} parses"));
            assert_eq!(clock, Clock::DateTime, "{cell}");
            assert!((got - want).abs() < 1e-6, "{cell}: {got} != {want}");
        }
        assert_eq!(parse_time("1800"), Some((Clock::Number, 1800.0)));
        assert_eq!(parse_time("-2.5e1"), Some((Clock::Number, -25.0)));
        for bad in [
            "yesterday",
            "2024-13-01",
            "2024-06-01T25:00:00",
            "01/06/2024",
            "2024-06-01T00:30:00[Europe/Paris]",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_times_are_written_back_as_utc_instants() {
        for (cell, written) in [
            ("2024-06-01 00:30:00", "2024-06-01T00:30:00Z"),
            ("2024-06-01T02:30:00+02:00", "2024-06-01T00:30:00Z"),
            ("2024-06-01T00:30:00.5Z", "2024-06-01T00:30:00.5Z"),
        ] {
            let t = datetime_seconds(cell).expect("parses");
            assert_eq!(format_time(Clock::DateTime, t), written, "{cell}");
        }
        assert_eq!(format_time(Clock::Number, 1800.0), "1800");
        assert_eq!(format_time(Clock::Index, 3.0), "3");
    }
}
