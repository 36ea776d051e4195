//! The one error type of the crate.
//!
//! Masks arrive from files and browsers, so every way their bytes can be
//! wrong is a value here, with a message that names the reason, instead of
//! a panic. Fields are public so that callers (and tests) can tell cases
//! apart without parsing messages.

use std::fmt;

use crate::{MAX_PIXELS, MAX_SIDE};

/// Why a mask, or one of its encodings, could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskError {
    /// The size is over [`MAX_SIDE`] on a side or [`MAX_PIXELS`] in all.
    TooLarge {
        /// Width in pixels, as given.
        width: u64,
        /// Height in pixels, as given.
        height: u64,
    },
    /// Row-major pixel data whose length is not `width × height`.
    PixelCount {
        /// `width × height`.
        expected: u64,
        /// The number of pixels given.
        actual: u64,
    },
    /// COCO RLE counts that do not add up to the mask's pixel count.
    CountsSum {
        /// `height × width`.
        expected: u64,
        /// The sum of the counts.
        actual: u64,
    },
    /// A byte of a compressed COCO RLE string outside `'0'..='o'` (48–111).
    BadCharacter {
        /// Byte offset in the string.
        position: usize,
        /// The byte found there.
        byte: u8,
    },
    /// A compressed COCO RLE string that ends inside a count (its last
    /// character asks for another one).
    TruncatedString,
    /// A count of a compressed COCO RLE string that spans more characters
    /// (7) than any 32-bit count needs.
    CountTooLong {
        /// Index of the count in the decoded counts.
        index: usize,
    },
    /// A count of a compressed COCO RLE string that is negative or does not
    /// fit in 32 bits once its delta is undone.
    BadCount {
        /// Index of the count in the decoded counts.
        index: usize,
        /// What it decoded to.
        value: i64,
    },
    /// Label Studio RLE bytes too short for the stream's header (53 bits:
    /// value count, word size, four run-length sizes).
    LsHeader {
        /// The number of bytes given.
        bytes: usize,
    },
    /// A Label Studio RLE stream that ends before all its values were read.
    LsTruncated {
        /// How many values (bytes of the RGBA image) were read before the end.
        values_read: u64,
        /// How many the stream's header announced.
        values_expected: u64,
    },
    /// A Label Studio RLE whose announced value count is not
    /// `width × height × 4` (RGBA).
    LsLength {
        /// `width × height × 4`.
        expected: u64,
        /// The count in the stream's header.
        actual: u64,
    },
    /// A Label Studio RLE run or literal block that goes past the announced
    /// value count.
    LsOverrun {
        /// Value index where the block starts.
        start: u64,
        /// Length of the block in values.
        length: u64,
        /// The stream's value count.
        values_expected: u64,
    },
}

impl fmt::Display for MaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MaskError::TooLarge { width, height } => write!(
                f,
                "a mask of {width}×{height} pixels is over the limit \
                 ({MAX_SIDE} pixels per side, {MAX_PIXELS} pixels in all)"
            ),
            MaskError::PixelCount { expected, actual } => write!(
                f,
                "expected {expected} pixels (width × height), got {actual}"
            ),
            MaskError::CountsSum { expected, actual } => write!(
                f,
                "RLE counts add up to {actual} pixels, but the mask has {expected} (height × width)"
            ),
            MaskError::BadCharacter { position, byte } => write!(
                f,
                "byte {byte:#04x} at offset {position} is not a COCO RLE character ('0' to 'o')"
            ),
            MaskError::TruncatedString => {
                write!(f, "the COCO RLE string ends in the middle of a count")
            }
            MaskError::CountTooLong { index } => write!(
                f,
                "COCO RLE count {index} spans more than 7 characters, too long for 32 bits"
            ),
            MaskError::BadCount { index, value } => write!(
                f,
                "COCO RLE count {index} decodes to {value}, outside 0 to {}",
                u32::MAX
            ),
            MaskError::LsHeader { bytes } => write!(
                f,
                "the Label Studio RLE has {bytes} bytes, too few for its 7-byte header"
            ),
            MaskError::LsTruncated {
                values_read,
                values_expected,
            } => write!(
                f,
                "the Label Studio RLE ends after {values_read} of its {values_expected} values"
            ),
            MaskError::LsLength { expected, actual } => write!(
                f,
                "the Label Studio RLE holds {actual} values, but the RGBA image of the mask has {expected} (width × height × 4)"
            ),
            MaskError::LsOverrun {
                start,
                length,
                values_expected,
            } => write!(
                f,
                "a Label Studio RLE block of {length} values at value {start} goes past the end ({values_expected} values)"
            ),
        }
    }
}

impl std::error::Error for MaskError {}
