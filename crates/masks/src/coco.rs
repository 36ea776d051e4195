//! COCO RLE, exactly as pycocotools defines it (`maskApi.c`).
//!
//! The pixels are read in column-major (Fortran) order, top to bottom and
//! then left to right, and `counts` are the lengths of alternating runs,
//! the first a run of unset pixels (0 when the first pixel is set). The
//! JSON object carries `size: [height, width]`, height first; this crate's
//! Rust API takes width first everywhere, like [`Mask`].
//!
//! The compressed form (`rleToString` / `rleFrString`) writes each count as
//! a little-endian sequence of 5-bit chunks, one character each
//! (`48 + chunk`, with bit `0x20` set while more chunks follow), sign
//! extended from the last chunk's bit `0x10`; from the fourth count on
//! (index > 2) it writes `counts[i] - counts[i - 2]` instead, which is small
//! for masks whose outline changes little from column to column.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::mask::{bbox_of_runs, check_size};
use crate::{BBox, Mask, MaskError};

/// Characters a compressed count may span: a delta of two 32-bit counts
/// needs 33 bits and a sign, which is 7 chunks of 5 bits. Longer values
/// could only overflow.
const MAX_CHARS_PER_COUNT: u32 = 7;

/// A mask as COCO RLE counts, checked: the size is within the limits and
/// the counts add up to `width × height`, so nothing that reads it can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CocoRle {
    width: u32,
    height: u32,
    counts: Vec<u32>,
}

impl CocoRle {
    /// RLE from uncompressed counts (note: width first, unlike COCO's
    /// `size`). Fails when the size is over the limits or the counts do not
    /// add up to `width × height`. Runs of length 0 after the first are
    /// accepted, as pycocotools decodes them; [`CocoRle::from_mask`] never
    /// writes them.
    pub fn new(width: u32, height: u32, counts: Vec<u32>) -> Result<CocoRle, MaskError> {
        check_size(u64::from(width), u64::from(height))?;
        let expected = u64::from(width) * u64::from(height);
        // At most 2^32 counts of at most 2^32 - 1 each: no overflow in u64.
        let actual: u64 = counts.iter().map(|&count| u64::from(count)).sum();
        if actual != expected {
            return Err(MaskError::CountsSum { expected, actual });
        }
        Ok(CocoRle {
            width,
            height,
            counts,
        })
    }

    /// RLE from the compressed string form of the counts.
    pub fn from_compressed(width: u32, height: u32, counts: &str) -> Result<CocoRle, MaskError> {
        check_size(u64::from(width), u64::from(height))?;
        CocoRle::new(width, height, counts_from_string(counts)?)
    }

    /// Encodes a mask, as pycocotools's `encode` does: a mask with no
    /// pixels is `[0]`, an empty one `[width × height]`, a full one
    /// `[0, width × height]`.
    pub fn from_mask(mask: &Mask) -> CocoRle {
        let pixels = mask.len();
        // Sized up front (a popcount per word): with millions of counts
        // (noise), growing the vector cost a third of the time.
        let mut counts = Vec::with_capacity(mask.transition_count() + 1);
        let mut run_start = 0;
        for transition in mask.transitions() {
            // Pixel counts are at most MAX_PIXELS (2^28): they fit in u32.
            counts.push((transition - run_start) as u32);
            run_start = transition;
        }
        counts.push((pixels - run_start) as u32);
        CocoRle {
            width: mask.width(),
            height: mask.height(),
            counts,
        }
    }

    /// Decodes to a mask.
    pub fn to_mask(&self) -> Mask {
        let mut mask = Mask::empty_within_limits(self.width, self.height);
        for (start, end) in self.one_runs() {
            mask.set_column_major_run(start, end);
        }
        mask
    }

    /// Width in pixels (COCO's `size[1]`).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (COCO's `size[0]`).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The uncompressed counts.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// The compressed string form of the counts.
    pub fn to_compressed(&self) -> String {
        counts_to_string(&self.counts)
    }

    /// The number of set pixels, from the counts alone (`rleArea`).
    pub fn area(&self) -> u64 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&c| u64::from(c))
            .sum()
    }

    /// The bounding box of the set pixels, from the counts alone
    /// (`rleToBbox`); `None` where pycocotools gives `[0, 0, 0, 0]`.
    pub fn bbox(&self) -> Option<BBox> {
        bbox_of_runs(self.height, self.one_runs())
    }

    /// The JSON object with compressed counts, the form COCO results and
    /// most tools write.
    pub fn to_json(&self) -> CocoRleJson {
        CocoRleJson {
            size: [u64::from(self.height), u64::from(self.width)],
            counts: RleCounts::Compressed(self.to_compressed()),
        }
    }

    /// The JSON object with the counts as a list, the form COCO's own
    /// ground truth uses for crowd annotations.
    pub fn to_json_uncompressed(&self) -> CocoRleJson {
        CocoRleJson {
            size: [u64::from(self.height), u64::from(self.width)],
            counts: RleCounts::Uncompressed(self.counts.clone()),
        }
    }

    /// Column-major `start..end` of every run of set pixels (odd indices).
    fn one_runs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut position = 0;
        self.counts
            .iter()
            .enumerate()
            .filter_map(move |(i, &count)| {
                let start = position;
                position += count as usize;
                (i % 2 == 1).then_some((start, position))
            })
    }
}

/// The compressed string form of counts (`rleToString`).
pub fn counts_to_string(counts: &[u32]) -> String {
    let mut out = String::with_capacity(counts.len() * 2);
    for (i, &count) in counts.iter().enumerate() {
        let mut value = i64::from(count);
        if i > 2 {
            value -= i64::from(counts[i - 2]);
        }
        loop {
            let mut chunk = (value & 0x1f) as u8;
            value >>= 5; // arithmetic: negative deltas stay negative
            let more = if chunk & 0x10 != 0 {
                value != -1
            } else {
                value != 0
            };
            if more {
                chunk |= 0x20;
            }
            out.push(char::from(48 + chunk));
            if !more {
                break;
            }
        }
    }
    out
}

/// Counts from their compressed string form (`rleFrString`), with an error
/// for a character outside `'0'..='o'`, a string that ends inside a count,
/// and a count that is negative or over 32 bits once its delta is undone.
/// Whether they fit a size is [`CocoRle::new`]'s to check.
pub fn counts_from_string(compressed: &str) -> Result<Vec<u32>, MaskError> {
    let bytes = compressed.as_bytes();
    let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        let index = counts.len();
        let mut value: i64 = 0;
        let mut chars = 0;
        loop {
            let Some(&byte) = bytes.get(position) else {
                return Err(MaskError::TruncatedString);
            };
            if !(48..=111).contains(&byte) {
                return Err(MaskError::BadCharacter { position, byte });
            }
            let chunk = i64::from(byte - 48);
            value |= (chunk & 0x1f) << (5 * chars);
            position += 1;
            chars += 1;
            if chunk & 0x20 == 0 {
                if chunk & 0x10 != 0 {
                    value |= -1 << (5 * chars); // sign-extend
                }
                break;
            }
            if chars == MAX_CHARS_PER_COUNT {
                return Err(MaskError::CountTooLong { index });
            }
        }
        if index > 2 {
            value += i64::from(counts[index - 2]);
        }
        let count = u32::try_from(value).map_err(|_| MaskError::BadCount { index, value })?;
        counts.push(count);
    }
    Ok(counts)
}

/// COCO's JSON object for an RLE segmentation:
/// `{"size": [height, width], "counts": "<string>"}` or with `counts` as a
/// list of numbers. Unchecked: it is what the file says; [`CocoRle`]'s
/// `TryFrom` checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CocoRleJson {
    /// `[height, width]`, height first as in COCO. Wider than the limits
    /// allow, so an absurd size is reported as too large rather than as a
    /// number that does not parse.
    pub size: [u64; 2],
    /// The counts, compressed or not.
    pub counts: RleCounts,
}

/// The two forms of `counts` in COCO's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RleCounts {
    /// The compressed string form.
    Compressed(String),
    /// The plain list of run lengths.
    Uncompressed(Vec<u32>),
}

impl TryFrom<CocoRleJson> for CocoRle {
    type Error = MaskError;

    fn try_from(json: CocoRleJson) -> Result<CocoRle, MaskError> {
        let [height, width] = json.size;
        check_size(width, height)?;
        // Within the limits, both sides fit in u32.
        let (width, height) = (width as u32, height as u32);
        match json.counts {
            RleCounts::Compressed(counts) => CocoRle::from_compressed(width, height, &counts),
            RleCounts::Uncompressed(counts) => CocoRle::new(width, height, counts),
        }
    }
}

impl Serialize for CocoRle {
    /// As [`CocoRle::to_json`]: compressed counts.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CocoRle {
    /// Either form of counts, checked; a bad RLE fails with
    /// [`MaskError`]'s message.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CocoRle, D::Error> {
        CocoRle::try_from(CocoRleJson::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

impl Serialize for RleCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RleCounts::Compressed(counts) => serializer.serialize_str(counts),
            RleCounts::Uncompressed(counts) => counts.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RleCounts {
    /// A visitor rather than `#[serde(untagged)]`, so that a bad element
    /// is reported as such instead of as "did not match any variant".
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RleCounts, D::Error> {
        struct CountsVisitor;

        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = RleCounts;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a compressed RLE string or a list of run lengths")
            }

            fn visit_str<E: de::Error>(self, counts: &str) -> Result<RleCounts, E> {
                Ok(RleCounts::Compressed(counts.to_owned()))
            }

            fn visit_string<E: de::Error>(self, counts: String) -> Result<RleCounts, E> {
                Ok(RleCounts::Compressed(counts))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RleCounts, A::Error> {
                let mut counts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(count) = seq.next_element::<u32>()? {
                    counts.push(count);
                }
                Ok(RleCounts::Uncompressed(counts))
            }
        }

        deserializer.deserialize_any(CountsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_round_trips_small_large_and_negative_deltas() {
        let counts = vec![
            0,
            1,
            31,
            32,
            1 << 28,
            0,
            5,
            1 << 28,
            3,
            70_000,
            u32::MAX,
            0,
            17,
        ];
        let compressed = counts_to_string(&counts);
        assert!(compressed.bytes().all(|b| (48..=111).contains(&b)));
        assert_eq!(counts_from_string(&compressed).unwrap(), counts);
    }
}
