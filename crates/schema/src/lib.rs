//! Label Studio XML label configs: what a project's config allows.
//!
//! This crate owns the meaning of a label config. [`parse`] reads the XML
//! into a typed [`LabelConfig`] (object tags such as `<Image>`, control tags
//! such as `<RectangleLabels>` with their labels) and reports every problem
//! at once as [`Diagnostic`]s with stable codes and positions. [`check_result`]
//! and [`check_results`] then tell whether annotation results
//! ([`gloss_types::result::ResultItem`]) are ones the config allows: known
//! controls and targets, the right result type, known labels, coordinates
//! inside the image.
//!
//! It must not know where configs or results come from or go to: no IO, no
//! async runtime, no store, no HTTP. Everything here is a pure function of
//! its inputs, so the server, the importer and the tests share one judge.
//!
//! Tags Gloss does not support yet are kept as [`UnsupportedTag`]s with a
//! warning, and their results are accepted unchecked, so that Label Studio
//! configs using them still import.

mod check;
mod model;
mod parse;

pub use check::{check_chat_seed, check_result, check_results, ResultProblem, CHAT_ROLES};
pub use model::{
    has_errors, ChoiceMode, ControlKind, ControlTag, Diagnostic, LabelConfig, LabelDef, Node,
    ObjectKind, ObjectTag, Severity, Skeleton, UnsupportedTag,
};
pub use parse::parse;
