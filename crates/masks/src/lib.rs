//! Binary pixel masks and their run-length encodings, for brush and
//! segmentation annotations.
//!
//! - [`Mask`]: `width × height` pixels, set or not;
//! - [`coco`]: COCO RLE as pycocotools writes it, uncompressed counts and
//!   the compressed string, with the JSON objects COCO files hold, and area
//!   and bounding box straight from the counts;
//! - [`label_studio`]: Label Studio's brush RLE (`"format": "rle"`);
//! - [`brush_rle`]: the mask of a `brush`/`brushlabels` result, whichever
//!   of the two encodings it holds.
//!
//! Pure functions over bytes: no I/O, no images. Everything read from
//! outside returns a [`MaskError`] naming what is wrong, never a panic.
//!
//! Sizes are limited to [`MAX_SIDE`] pixels per side and [`MAX_PIXELS`] in
//! all, so that the arithmetic of both formats stays within 32 bits.

#![warn(missing_docs)]

mod error;
mod mask;

pub mod coco;
pub mod label_studio;

pub use brush::{brush_rle, brush_value_from_rle, BrushError};
pub use coco::{CocoRle, CocoRleJson, RleCounts};

mod brush;
pub use error::MaskError;
pub use mask::{BBox, Mask};

/// The most pixels a mask may have on one side: 65,536, beyond any camera
/// or slide tile that is annotated whole.
pub const MAX_SIDE: u32 = 1 << 16;

/// The most pixels a mask may have in all: 2^28 = 268,435,456 (16,384 ×
/// 16,384, or 20,000 × 13,000). Label Studio's RLE stores `4 × pixels` in
/// a 32-bit field, COCO RLE counts are 32-bit in pycocotools, and a mask
/// this size is 32 MiB here (one bit a pixel) and 256 MiB as the one byte a
/// pixel that [`Mask::to_row_major`] returns, which is as much as one
/// annotation should cost a server.
pub const MAX_PIXELS: u64 = 1 << 28;
