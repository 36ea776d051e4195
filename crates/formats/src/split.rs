//! Deterministic train/validation/test splits.
//!
//! A task's split depends only on the seed and its id, never on the order
//! or the set of tasks exported, so re-exporting after new tasks arrive
//! leaves every old task where it was.

/// The part of a dataset a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// `"train"`, `"val"` or `"test"`, the names dataset tools expect.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "val",
            Split::Test => "test",
        }
    }
}

/// Shares of the three splits; [`SplitRatios::parse`] makes them sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitRatios {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
}

impl SplitRatios {
    /// Reads `"0.8,0.1,0.1"` or `"80,10,10"`: three non-negative numbers
    /// (train, validation, test) with a positive sum, scaled to sum to 1.
    pub fn parse(text: &str) -> Result<SplitRatios, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let [train, validation, test] = parts[..] else {
            return Err(format!(
                "split ratios must be three numbers for train, validation and test, like 0.8,0.1,0.1; got {text:?}"
            ));
        };
        let number = |part: &str| match part.parse::<f64>() {
            Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
            _ => Err(format!(
                "split ratio {part:?} must be a number of zero or more"
            )),
        };
        let (train, validation, test) = (number(train)?, number(validation)?, number(test)?);
        let total = train + validation + test;
        if total <= 0.0 {
            return Err("split ratios must not all be zero".to_owned());
        }
        Ok(SplitRatios {
            train: train / total,
            validation: validation / total,
            test: test / total,
        })
    }
}

/// The split of task `task_id` under `seed`: a hash of both mapped to
/// [0, 1) and compared with the cumulative ratios.
pub fn split_of(seed: u64, task_id: i64, ratios: &SplitRatios) -> Split {
    // The fields are public, so ratios may arrive unscaled; scaling here
    // keeps "8,1,1" and "0.8,0.1,0.1" the same split.
    let total = ratios.train + ratios.validation + ratios.test;
    if total.is_nan() || total <= 0.0 {
        return Split::Train;
    }
    let point = unit_interval(splitmix64(seed ^ task_id as u64)) * total;
    if point < ratios.train {
        Split::Train
    } else if point < ratios.train + ratios.validation {
        Split::Validation
    } else {
        Split::Test
    }
}

/// SplitMix64's output function: a fast, well-mixed bijection on u64, so
/// neighbouring ids land far apart.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits as a fraction in [0, 1), exactly representable in f64.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_fractions_and_percentages() {
        let fractions = SplitRatios::parse("0.8,0.1,0.1").unwrap();
        let percents = SplitRatios::parse(" 80, 10 ,10 ").unwrap();
        for ratios in [fractions, percents] {
            assert!((ratios.train - 0.8).abs() < 1e-12);
            assert!((ratios.validation - 0.1).abs() < 1e-12);
            assert!((ratios.test - 0.1).abs() < 1e-12);
        }
        let no_test = SplitRatios::parse("3,1,0").unwrap();
        assert_eq!(no_test.test, 0.0);
        assert!((no_test.train - 0.75).abs() < 1e-12);
    }

    #[test]
    fn parse_rejects_bad_ratios() {
        for text in [
            "", "0.8,0.2", "1,2,3,4", "a,b,c", "-1,1,1", "0,0,0", "inf,1,1", "NaN,1,1",
        ] {
            assert!(SplitRatios::parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            [Split::Train, Split::Validation, Split::Test].map(Split::name),
            ["train", "val", "test"]
        );
    }

    #[test]
    fn unscaled_ratios_give_the_same_split() {
        let scaled = SplitRatios::parse("8,1,1").unwrap();
        let raw = SplitRatios {
            train: 8.0,
            validation: 1.0,
            test: 1.0,
        };
        for id in 0..1000 {
            assert_eq!(split_of(5, id, &scaled), split_of(5, id, &raw));
        }
    }

    #[test]
    fn zero_share_is_never_chosen() {
        let ratios = SplitRatios::parse("1,0,1").unwrap();
        assert!((0..10_000).all(|id| split_of(9, id, &ratios) != Split::Validation));
    }
}
