//! Label Studio's date-times ⇄ milliseconds since the Unix epoch.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Parses an RFC 3339 date-time such as `2024-05-01T10:20:30.123456Z` into
/// milliseconds, dropping sub-millisecond digits (rounding toward the past).
///
/// A date-time without an offset (what Python's `isoformat()` writes for a
/// naive datetime, and what some hand-made Label Studio files hold) is read
/// as UTC, which is what Label Studio itself assumes.
pub(crate) fn parse_millis(text: &str) -> Option<i64> {
    let moment = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
        .ok()?;
    i64::try_from(moment.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// Writes milliseconds as RFC 3339 in UTC with exactly three fraction
/// digits and `Z`, like `2024-05-01T10:20:30.123Z`; `None` when the moment
/// is outside the years the `time` crate can write.
pub(crate) fn format_millis(millis: i64) -> Option<String> {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()?
        .format(&format)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_studio_microseconds_become_milliseconds() {
        let millis = parse_millis("2024-05-01T10:20:30.123456Z").unwrap();
        assert_eq!(millis, 1_714_558_830_123);
        assert_eq!(
            format_millis(millis).as_deref(),
            Some("2024-05-01T10:20:30.123Z")
        );
    }

    #[test]
    fn offsets_and_naive_times_are_understood() {
        assert_eq!(
            parse_millis("2024-05-01T12:20:30+02:00"),
            parse_millis("2024-05-01T10:20:30Z")
        );
        assert_eq!(
            parse_millis("2024-05-01T10:20:30.5"),
            Some(1_714_558_830_500)
        );
        assert_eq!(parse_millis("yesterday"), None);
        assert_eq!(parse_millis(""), None);
    }

    #[test]
    fn times_before_the_epoch_round_down() {
        let millis = parse_millis("1969-12-31T23:59:59.9995Z").unwrap();
        assert_eq!(millis, -1);
        assert_eq!(
            format_millis(millis).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(
            format_millis(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn out_of_range_moments_are_not_written() {
        assert_eq!(format_millis(i64::MAX), None);
    }
}
