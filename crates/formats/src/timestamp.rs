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
#[cfg(test)]
pub(crate) fn format_millis(millis: i64) -> Option<String> {
    millis_text(millis).map(|text| text.as_str().to_owned())
}

/// [`format_millis`]'s text without allocating for the usual years.
pub(crate) fn millis_text(millis: i64) -> Option<DateTimeText> {
    match four_digit_year_text(millis) {
        Some(bytes) => Some(DateTimeText::Short(bytes, bytes.len())),
        None => general_format(millis).map(DateTimeText::Long),
    }
}

/// What [`gloss_types::Timestamp`] displays (RFC 3339 with as many fraction
/// digits as needed, none for a whole second, or the milliseconds as a
/// number beyond the year 9999), without allocating for years 0000–9999.
pub fn timestamp_text(millis: i64) -> DateTimeText {
    let Some(mut bytes) = four_digit_year_text(millis) else {
        return DateTimeText::Long(gloss_types::Timestamp(millis).to_string());
    };
    // `…:SS.mmmZ`: the fraction's trailing zeros go, and its dot if it is 0.
    let mut end = 23;
    while end > 20 && bytes[end - 1] == b'0' {
        end -= 1;
    }
    if end == 20 {
        end = 19;
    }
    bytes[end] = b'Z';
    DateTimeText::Short(bytes, end + 1)
}

/// A formatted date-time: on the stack (the first `len` bytes) for years
/// 0000–9999, else a `String`.
#[derive(Debug, Clone)]
pub enum DateTimeText {
    Short([u8; 24], usize),
    Long(String),
}

impl DateTimeText {
    pub fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and separators are written into it.
            DateTimeText::Short(bytes, len) => {
                std::str::from_utf8(&bytes[..*len]).unwrap_or_default()
            }
            DateTimeText::Long(text) => text,
        }
    }
}

/// The `time` crate's formatting, for any year it can write.
fn general_format(millis: i64) -> Option<String> {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()?
        .format(&format)
        .ok()
}

/// The same text as [`general_format`], written by hand for years 0000 to
/// 9999: exports write four date-times per annotation, and the general
/// formatter was a visible share of their time.
fn four_digit_year_text(millis: i64) -> Option<[u8; 24]> {
    /// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
    const FIRST: i64 = -62_167_219_200_000;
    const LAST: i64 = 253_402_300_799_999;
    if !(FIRST..=LAST).contains(&millis) {
        return None;
    }
    const DAY: i64 = 86_400_000;
    let (year, month, day) = civil_from_days(millis.div_euclid(DAY));
    let in_day = millis.rem_euclid(DAY);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: i64| {
        for index in (at..at + width).rev() {
            text[index] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, hour);
    put(14, 2, minute);
    put(17, 2, second);
    put(20, 3, milli);
    Some(text)
}

/// (year, month, day) of a day counted from 1970-01-01, in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
    fn hand_written_dates_match_the_time_crate() {
        let mut checked = 0;
        // Every day of years 0000 to 9999 at a moment that moves through
        // the day, plus both ends of the hand-written range.
        let mut millis = -62_167_219_200_000_i64;
        while millis <= 253_402_300_799_999 {
            assert_eq!(
                four_digit_year_text(millis).map(|text| String::from_utf8(text.to_vec()).unwrap()),
                general_format(millis),
                "{millis}"
            );
            millis += 86_400_000 + 3_723_001;
            checked += 1;
        }
        assert!(checked > 3_000_000);
        for millis in [-62_167_219_200_000, 253_402_300_799_999, -1, 0, 1] {
            assert_eq!(
                four_digit_year_text(millis).map(|text| String::from_utf8(text.to_vec()).unwrap()),
                general_format(millis)
            );
        }
        assert_eq!(four_digit_year_text(-62_167_219_200_001), None);
        assert_eq!(four_digit_year_text(253_402_300_800_000), None);
        assert_eq!(
            format_millis(-62_167_219_200_001).as_deref(),
            Some("-0001-12-31T23:59:59.999Z")
        );
    }

    #[test]
    fn timestamp_text_is_what_timestamps_display() {
        // As in the test above; the step moves the milliseconds by one, so
        // every fraction with and without trailing zeros comes up.
        let mut millis = -62_167_219_200_000_i64;
        while millis <= 253_402_300_799_999 {
            assert_eq!(
                timestamp_text(millis).as_str(),
                gloss_types::Timestamp(millis).to_string(),
                "{millis}"
            );
            millis += 86_400_000 + 3_723_001;
        }
        for millis in [
            i64::MIN,
            -62_167_219_200_001,
            -62_167_219_200_000,
            -1,
            0,
            1,
            10,
            100,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MAX,
        ] {
            assert_eq!(
                timestamp_text(millis).as_str(),
                gloss_types::Timestamp(millis).to_string(),
                "{millis}"
            );
        }
    }

    #[test]
    fn out_of_range_moments_are_not_written() {
        assert_eq!(format_millis(i64::MAX), None);
    }
}
