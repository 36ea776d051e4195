/// Why a metric or an aggregation could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QualityError {
    /// There is nothing to compute on.
    #[error("no data: {0}")]
    Empty(String),
    /// The metric needs more annotators than the data has.
    #[error("{metric} needs at least {needed} annotators, found {found}")]
    TooFewAnnotators {
        metric: &'static str,
        needed: usize,
        found: usize,
    },
    /// The metric compares exactly two annotators.
    #[error("{metric} compares exactly two annotators, found {found} (choose two)")]
    NotTwoAnnotators { metric: &'static str, found: usize },
    /// A name (annotator, label) that the data does not have.
    #[error("unknown {what} {name:?}")]
    Unknown { what: &'static str, name: String },
    /// A value that is NaN or infinite.
    #[error("{0} is NaN or infinite")]
    NotFinite(String),
    /// A label that must be a number is not one.
    #[error(
        "label {0:?} is not a number (ordinal, interval, ratio and rank metrics need numbers)"
    )]
    NotANumber(String),
    /// Two inputs that must have the same length do not.
    #[error("{what}: lengths differ ({left} and {right})")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// One annotator labelled the same item twice.
    #[error("annotator {annotator:?} labelled item {item:?} twice")]
    Duplicate { item: String, annotator: String },
    /// Fleiss' kappa needs the same number of ratings on every item.
    #[error("Fleiss' kappa needs the same number of ratings on every item: {first_item:?} has {expected}, {item:?} has {found}")]
    UnequalRatings {
        first_item: String,
        expected: usize,
        item: String,
        found: usize,
    },
    /// The coefficient divides by zero on this data (for example every
    /// rating is the same category, so chance agreement is 1).
    #[error("{metric} is undefined on this data: {reason}")]
    Undefined {
        metric: &'static str,
        reason: String,
    },
    /// Any other invalid argument.
    #[error("invalid input: {0}")]
    Invalid(String),
}
