//! Money without floats: [`Amount`], an exact decimal kept as a whole
//! number of millionths with checked arithmetic, and [`Currency`], an ISO
//! 4217 code with its minor unit. Amounts travel as decimal strings
//! (`"0.35"`), never as JSON numbers.

use std::fmt;

/// Millionths in one unit: amounts keep six decimals exactly.
const SCALE: i64 = 1_000_000;
/// Decimals kept.
pub const AMOUNT_DECIMALS: u32 = 6;

/// An exact decimal amount with up to six decimals (millionths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// From a whole number of millionths.
    pub const fn from_micros(micros: i64) -> Amount {
        Amount(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Parses a decimal string: an optional `-`, digits, and optionally a
    /// point and at most six more digits (`"12"`, `"0.35"`, `"-1.5"`).
    /// The error says why, for a message naming the field.
    pub fn parse(text: &str) -> Result<Amount, String> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let only_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !only_digits(whole) {
            return Err(format!(
                "`{text}` is not a decimal number such as \"12.50\" (digits, one point)"
            ));
        }
        let fraction = fraction.unwrap_or("");
        if digits.contains('.') && fraction.is_empty() || !only_digits(fraction) {
            return Err(format!(
                "`{text}` is not a decimal number such as \"12.50\" (digits, one point)"
            ));
        }
        if fraction.len() > AMOUNT_DECIMALS as usize {
            return Err(format!("`{text}` has more than {AMOUNT_DECIMALS} decimals"));
        }
        let too_big = || format!("`{text}` is too large");
        let whole: i64 = whole.parse().map_err(|_| too_big())?;
        let mut micros = whole.checked_mul(SCALE).ok_or_else(too_big)?;
        if !fraction.is_empty() {
            let padded = format!("{fraction:0<6}");
            let part: i64 = padded.parse().map_err(|_| too_big())?;
            micros = micros.checked_add(part).ok_or_else(too_big)?;
        }
        Ok(Amount(if negative { -micros } else { micros }))
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_neg(self) -> Option<Amount> {
        self.0.checked_neg().map(Amount)
    }

    /// `self × numerator / denominator`, rounded to millionths half away
    /// from zero (hourly pay: rate × milliseconds / 3,600,000).
    pub fn mul_div(self, numerator: i64, denominator: i64) -> Option<Amount> {
        if denominator == 0 {
            return None;
        }
        let product = i128::from(self.0) * i128::from(numerator);
        let denominator = i128::from(denominator);
        let quotient = product / denominator;
        let remainder = product % denominator;
        let rounded = if remainder.abs() * 2 >= denominator.abs() {
            quotient
                + if (product < 0) != (denominator < 0) {
                    -1
                } else {
                    1
                }
        } else {
            quotient
        };
        i64::try_from(rounded).ok().map(Amount)
    }

    /// `self × percent / 100`, where `percent` is itself an amount (`"12.5"`).
    pub fn percent(self, percent: Amount) -> Option<Amount> {
        // self(µ) × percent(µ) / (100 × 10⁶) µ.
        let product = i128::from(self.0) * i128::from(percent.0);
        let denominator = 100 * i128::from(SCALE);
        let quotient = product / denominator;
        let remainder = product % denominator;
        let rounded = if remainder.abs() * 2 >= denominator {
            quotient + if product < 0 { -1 } else { 1 }
        } else {
            quotient
        };
        i64::try_from(rounded).ok().map(Amount)
    }

    /// Rounded to `decimals` (0 to 6), half away from zero.
    pub fn rounded(self, decimals: u32) -> Amount {
        let step = 10_i64.pow(AMOUNT_DECIMALS - decimals.min(AMOUNT_DECIMALS));
        let quotient = self.0 / step;
        let remainder = self.0 % step;
        let rounded = if remainder.abs() * 2 >= step {
            quotient + self.0.signum()
        } else {
            quotient
        };
        Amount(rounded.saturating_mul(step))
    }

    /// Written with exactly `decimals` decimals (rounded half away from
    /// zero first): `"12.50"`, `"1000"`.
    pub fn to_fixed(self, decimals: u32) -> String {
        let decimals = decimals.min(AMOUNT_DECIMALS);
        let rounded = self.rounded(decimals);
        let sign = if rounded.0 < 0 { "-" } else { "" };
        let abs = rounded.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        if decimals == 0 {
            return format!("{sign}{whole}");
        }
        let fraction = abs % SCALE as u64;
        let fraction = format!("{fraction:06}");
        format!("{sign}{whole}.{}", &fraction[..decimals as usize])
    }
}

impl fmt::Display for Amount {
    /// Exactly, without trailing zeros (`"0.35"`, `"12.5"`, `"3"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_fixed(AMOUNT_DECIMALS);
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        f.write_str(if text == "-0" { "0" } else { text })
    }
}

/// ISO 4217 currency codes in use (2024), which [`Currency::parse`] accepts.
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR \
FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES \
KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR \
MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR \
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH \
UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

/// Currencies without a minor unit.
const NO_DECIMALS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Currencies with three decimals.
const THREE_DECIMALS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// An ISO 4217 currency: three upper-case letters from the standard's list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency(String);

impl Currency {
    /// The error says why, for a message naming the field.
    pub fn parse(text: &str) -> Result<Currency, String> {
        if text.len() != 3 || !text.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "`{text}` is not an ISO 4217 code (three upper-case letters such as \"USD\")"
            ));
        }
        if !CODES.split_whitespace().any(|code| code == text) {
            return Err(format!("`{text}` is not a known ISO 4217 currency"));
        }
        Ok(Currency(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Decimals shown: 0 (JPY, KRW, …), 3 (BHD, KWD, OMR, TND, …), else 2.
    pub fn minor_unit(&self) -> u32 {
        if NO_DECIMALS.contains(&self.0.as_str()) {
            0
        } else if THREE_DECIMALS.contains(&self.0.as_str()) {
            3
        } else {
            2
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_decimals() {
        assert_eq!(Amount::parse("0.35").unwrap().micros(), 350_000);
        assert_eq!(Amount::parse("12").unwrap().micros(), 12_000_000);
        assert_eq!(Amount::parse("-1.5").unwrap().micros(), -1_500_000);
        assert_eq!(Amount::parse("0.000001").unwrap().micros(), 1);
        for bad in [
            "",
            "0.1.2",
            ".5",
            "5.",
            "1e3",
            "+1",
            "1,5",
            " 1",
            "0.0000001",
            "99999999999999999999",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Amount::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Amount::parse("-0.25").unwrap().to_string(), "-0.25");
        assert_eq!(Amount::ZERO.to_string(), "0");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let a = |s| Amount::parse(s).unwrap();
        assert_eq!(a("0.005").to_fixed(2), "0.01");
        assert_eq!(a("-0.005").to_fixed(2), "-0.01");
        assert_eq!(a("0.004999").to_fixed(2), "0.00");
        assert_eq!(a("2.5").to_fixed(0), "3");
        assert_eq!(a("-2.5").to_fixed(0), "-3");
        assert_eq!(a("1.0005").to_fixed(3), "1.001");
        assert_eq!(a("7").to_fixed(2), "7.00");
    }

    #[test]
    fn multiplies_exactly_then_rounds_to_millionths() {
        let rate = Amount::parse("12.50").unwrap();
        // 90 minutes at 12.50 an hour.
        assert_eq!(
            rate.mul_div(5_400_000, 3_600_000).unwrap().to_string(),
            "18.75"
        );
        // One second: 12.5 / 3600 = 0.003472222… → 0.003472.
        assert_eq!(
            rate.mul_div(1000, 3_600_000).unwrap().to_string(),
            "0.003472"
        );
        assert_eq!(
            Amount::parse("0.35")
                .unwrap()
                .percent(Amount::parse("10").unwrap())
                .unwrap()
                .to_string(),
            "0.035"
        );
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("USD").unwrap().minor_unit(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_unit(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_unit(), 3);
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XXQ").is_err());
        assert!(Currency::parse("EURO").is_err());
    }
}
