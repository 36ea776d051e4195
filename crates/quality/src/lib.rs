//! Quality metrics of Gloss: inter-annotator agreement, label aggregation
//! (consensus) and scores against gold.
//!
//! Everything here is a pure function of its arguments: no IO, no store, no
//! HTTP. Bad input (no data, one annotator, a single category, NaN, lengths
//! that differ) gives a [`QualityError`], never a panic. The formulas and the
//! reference implementations each one matches are documented on each function
//! and in `docs/quality.md`.

pub mod aggregate;
pub mod categorical;
mod error;
pub mod gold;
pub mod objects;
pub mod rank;
pub mod spatial;
pub mod table;
pub mod text;

pub use error::QualityError;
pub use table::{Rating, RatingsTable};

/// The result of every fallible function of this crate.
pub type Result<T> = std::result::Result<T, QualityError>;
