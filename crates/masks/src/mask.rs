//! The binary mask itself.
//!
//! Pixels are kept one bit each in column-major (Fortran) order, the order
//! COCO RLE counts them in: encoding to COCO RLE is then one pass over
//! 64-bit words that finds where the bit changes (a word with no change is
//! skipped at once), and decoding fills whole words between runs. A
//! 4000×3000 mask is 1.5 MB this way, against 12 MB as bytes. Row-major
//! pixels (Label Studio, browser canvases) are transposed instead, on the
//! way in 64 rows at a time and on the way out run by run.

use std::fmt;

use crate::{MaskError, MAX_PIXELS, MAX_SIDE};

/// A binary mask of `width × height` pixels.
///
/// Zero-sized masks (a width or a height of 0) are allowed: they have no
/// pixels, which COCO RLE can express (`counts: [0]`).
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    /// Pixel (x, y) is bit `(x * height + y) % 64` of word
    /// `(x * height + y) / 64`. Bits past the last pixel are always zero:
    /// equality, [`Mask::area`] and the transitions rely on it.
    bits: Vec<u64>,
}

/// A bounding box in whole pixels, COCO style: the top-left pixel and the
/// size, so a single pixel at (3, 4) is `x: 3, y: 4, width: 1, height: 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BBox {
    /// Column of the leftmost set pixel.
    pub x: u32,
    /// Row of the topmost set pixel.
    pub y: u32,
    /// Columns from the leftmost to the rightmost set pixel, both included.
    pub width: u32,
    /// Rows from the topmost to the bottommost set pixel, both included.
    pub height: u32,
}

/// Checks a size against [`MAX_SIDE`] and [`MAX_PIXELS`]; takes `u64` so
/// that sizes read from files are checked before anything is narrowed.
pub(crate) fn check_size(width: u64, height: u64) -> Result<(), MaskError> {
    let max_side = u64::from(MAX_SIDE);
    // Both sides at most 2^16 first, so the product cannot overflow.
    if width > max_side || height > max_side || width * height > MAX_PIXELS {
        return Err(MaskError::TooLarge { width, height });
    }
    Ok(())
}

impl Mask {
    /// An empty mask (no pixel set), or [`MaskError::TooLarge`] over the
    /// limits.
    pub fn new(width: u32, height: u32) -> Result<Mask, MaskError> {
        check_size(u64::from(width), u64::from(height))?;
        Ok(Mask::empty_within_limits(width, height))
    }

    /// An empty mask of a size already checked by [`check_size`].
    pub(crate) fn empty_within_limits(width: u32, height: u32) -> Mask {
        let pixels = width as usize * height as usize;
        Mask {
            width,
            height,
            bits: vec![0; pixels.div_ceil(64)],
        }
    }

    /// A mask from row-major pixels, one byte each: nonzero is set (so both
    /// 0/1 and 0/255 masks work). Fails on a length other than
    /// `width × height` and on sizes over the limits.
    pub fn from_row_major(width: u32, height: u32, pixels: &[u8]) -> Result<Mask, MaskError> {
        Mask::from_row_major_with(width, height, pixels, |pixel| pixel != 0)
    }

    /// A mask from row-major pixels as booleans; see
    /// [`Mask::from_row_major`].
    pub fn from_row_major_bools(
        width: u32,
        height: u32,
        pixels: &[bool],
    ) -> Result<Mask, MaskError> {
        Mask::from_row_major_with(width, height, pixels, |pixel| pixel)
    }

    fn from_row_major_with<Pixel: Copy>(
        width: u32,
        height: u32,
        pixels: &[Pixel],
        is_set: impl Fn(Pixel) -> bool,
    ) -> Result<Mask, MaskError> {
        let mut mask = Mask::new(width, height)?;
        if pixels.len() != mask.len() {
            return Err(MaskError::PixelCount {
                expected: mask.len() as u64,
                actual: pixels.len() as u64,
            });
        }
        // Rows are read 64 at a time into one word per column (that strip
        // of the column, 8 bytes per column: fits the L1 cache), and each
        // word is then stored into the column-major bits at once, instead
        // of setting bits one by one all over the mask.
        let (width, height) = (width as usize, height as usize);
        let mut strip = vec![0u64; width];
        for strip_start in (0..height).step_by(64) {
            strip.fill(0);
            for row in 0..(height - strip_start).min(64) {
                let row_start = (strip_start + row) * width;
                let row_pixels = &pixels[row_start..row_start + width];
                // 32 pixels at a time: unset stretches, most of a typical
                // mask, are skipped after one test; elsewhere each pixel is
                // added without a branch (so noise costs what shapes cost)
                // in a loop that vectorises.
                for (columns, chunk) in strip.chunks_mut(32).zip(row_pixels.chunks(32)) {
                    if !chunk.iter().fold(false, |any, &pixel| any | is_set(pixel)) {
                        continue;
                    }
                    for (column, &pixel) in columns.iter_mut().zip(chunk) {
                        *column |= u64::from(is_set(pixel)) << row;
                    }
                }
            }
            for (x, &column) in strip.iter().enumerate() {
                mask.or_bits_at(x * height + strip_start, column);
            }
        }
        Ok(mask)
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether pixel (x, y) is set; `false` outside the mask, since
    /// callers hit-test with pointer positions that may fall off the edge.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let index = x as usize * self.height as usize + y as usize;
        self.bits[index / 64] >> (index % 64) & 1 == 1
    }

    /// Sets or clears pixel (x, y). Pixels outside the mask are ignored, as
    /// a brush stroke past the image's edge is clipped.
    pub fn set(&mut self, x: u32, y: u32, value: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let index = x as usize * self.height as usize + y as usize;
        if value {
            self.set_bit(index);
        } else {
            self.bits[index / 64] &= !(1 << (index % 64));
        }
    }

    /// The pixels in row-major order, one byte each: 1 for set, 0 for not.
    pub fn to_row_major(&self) -> Vec<u8> {
        let (width, height) = (self.width as usize, self.height as usize);
        let mut pixels = vec![0; self.len()];
        // Only set pixels are visited: each run is cut at column ends and
        // written down its column.
        for (start, end) in self.one_runs() {
            let mut position = start;
            while position < end {
                let x = position / height;
                let column_end = end.min((x + 1) * height);
                for y in position - x * height..column_end - x * height {
                    pixels[y * width + x] = 1;
                }
                position = column_end;
            }
        }
        pixels
    }

    /// The number of set pixels.
    pub fn area(&self) -> u64 {
        self.bits
            .iter()
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }

    /// The smallest box holding every set pixel; `None` when none is set.
    pub fn bbox(&self) -> Option<BBox> {
        bbox_of_runs(self.height, self.one_runs())
    }

    /// The number of pixels, `width × height` (at most [`MAX_PIXELS`]).
    pub(crate) fn len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Sets the pixels at `position + i` for each bit `i` set in `bits`.
    fn or_bits_at(&mut self, position: usize, bits: u64) {
        let (word, shift) = (position / 64, position % 64);
        self.bits[word] |= bits << shift;
        if shift > 0 && bits >> (64 - shift) != 0 {
            // Those bits are pixels of the mask, so the next word exists.
            self.bits[word + 1] |= bits >> (64 - shift);
        }
    }

    fn set_bit(&mut self, index: usize) {
        self.bits[index / 64] |= 1 << (index % 64);
    }

    /// Sets the pixels `start..end` in column-major order (a run of COCO
    /// RLE), whole words at a time.
    pub(crate) fn set_column_major_run(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let (first, last) = (start / 64, (end - 1) / 64);
        let first_bits = u64::MAX << (start % 64);
        let last_bits = u64::MAX >> (63 - (end - 1) % 64);
        if first == last {
            self.bits[first] |= first_bits & last_bits;
        } else {
            self.bits[first] |= first_bits;
            self.bits[first + 1..last].fill(u64::MAX);
            self.bits[last] |= last_bits;
        }
    }

    /// Sets the pixels `start..end` in row-major order (a run of Label
    /// Studio's RGBA image), one row at a time.
    pub(crate) fn set_row_major_run(&mut self, start: usize, end: usize) {
        let (width, height) = (self.width as usize, self.height as usize);
        let mut position = start;
        while position < end {
            let y = position / width;
            let row_end = end.min((y + 1) * width);
            for x in position - y * width..row_end - y * width {
                self.set_bit(x * height + y);
            }
            position = row_end;
        }
    }

    /// The column-major positions where a pixel differs from the one
    /// before it, the pixel before the first counting as unset. These are
    /// exactly the boundaries of COCO RLE's runs, which start with a run of
    /// unset pixels.
    pub(crate) fn transitions(&self) -> impl Iterator<Item = usize> + '_ {
        self.change_words()
            .enumerate()
            .flat_map(|(word_index, mut changes)| {
                std::iter::from_fn(move || {
                    if changes == 0 {
                        return None;
                    }
                    let bit = changes.trailing_zeros() as usize;
                    changes &= changes - 1;
                    Some(word_index * 64 + bit)
                })
            })
    }

    /// How many [`Mask::transitions`] there are: a popcount per word, each
    /// word paired with the one before instead of carrying its last bit
    /// along, so that the loop vectorises.
    pub(crate) fn transition_count(&self) -> usize {
        let previous_words = std::iter::once(0).chain(self.bits.iter().copied());
        let changes: usize = self
            .bits
            .iter()
            .zip(previous_words)
            .map(|(&word, previous)| (word ^ (word << 1 | previous >> 63)).count_ones() as usize)
            .sum();
        // Bits past the end are unset, so a set last pixel counted a change
        // just past the end, which is no pixel, if the last word has bits
        // past the end.
        let pixels = self.len();
        let bits_past_end = self.bits.len() * 64 - pixels;
        let last_pixel_set =
            pixels > 0 && self.bits[(pixels - 1) / 64] >> ((pixels - 1) % 64) & 1 == 1;
        changes - usize::from(last_pixel_set && bits_past_end > 0)
    }

    /// For each word of pixels, a bit set where the pixel differs from the
    /// one before it: [`Mask::transitions`] a word at a time.
    fn change_words(&self) -> impl Iterator<Item = u64> + '_ {
        let pixels = self.len();
        let mut carry = 0; // the last pixel of the previous word
        self.bits
            .iter()
            .enumerate()
            .map(move |(word_index, &word)| {
                // Bit i of (word << 1 | carry) is the pixel before bit i.
                let mut changes = word ^ (word << 1 | carry);
                carry = word >> 63;
                let pixels_left = pixels - word_index * 64;
                if pixels_left < 64 {
                    // The last word: a set last pixel makes a change just past
                    // the end, which is no pixel.
                    changes &= (1 << pixels_left) - 1;
                }
                changes
            })
    }

    /// The runs of set pixels as column-major `start..end` ranges.
    pub(crate) fn one_runs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let pixels = self.len();
        let mut transitions = self.transitions();
        std::iter::from_fn(move || {
            let start = transitions.next()?;
            Some((start, transitions.next().unwrap_or(pixels)))
        })
    }
}

impl fmt::Debug for Mask {
    /// Size and area only: a mask's pixels would flood test failures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mask")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("area", &self.area())
            .finish()
    }
}

/// The bounding box of runs of set pixels given in column-major order, as
/// maskApi.c's `rleToBbox` finds it: a run that crosses from one column to
/// the next covers the last row of one and the first row of the other, so
/// the box then spans every row. Empty runs are skipped.
pub(crate) fn bbox_of_runs(
    height: u32,
    runs: impl Iterator<Item = (usize, usize)>,
) -> Option<BBox> {
    let height = height as usize;
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (usize::MAX, 0, usize::MAX, 0);
    for (start, end) in runs.filter(|(start, end)| start < end) {
        let (x_start, y_start) = (start / height, start % height);
        let (x_end, y_end) = ((end - 1) / height, (end - 1) % height);
        x_min = x_min.min(x_start);
        x_max = x_max.max(x_end);
        if x_start == x_end {
            y_min = y_min.min(y_start);
            y_max = y_max.max(y_end);
        } else {
            y_min = 0;
            y_max = height - 1;
        }
    }
    // Every value is below MAX_SIDE, so the conversions cannot truncate.
    (x_min != usize::MAX).then(|| BBox {
        x: x_min as u32,
        y: y_min as u32,
        width: (x_max - x_min + 1) as u32,
        height: (y_max - y_min + 1) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks of every length around word boundaries, with the pixels of a
    /// fixed pattern set.
    fn patterned(len: u32, pattern: impl Fn(u32) -> bool) -> Mask {
        let pixels: Vec<bool> = (0..len).map(pattern).collect();
        Mask::from_row_major_bools(1, len, &pixels).unwrap()
    }

    #[test]
    fn transitions_match_a_plain_scan_across_word_boundaries() {
        for len in [0, 1, 2, 63, 64, 65, 127, 128, 129, 200] {
            for pattern in [
                (|_| true) as fn(u32) -> bool,
                |i| i % 2 == 0,
                |i| i % 3 != 0,
                |i| i >= 63,
                |i| i == 64,
            ] {
                let mask = patterned(len, pattern);
                let mut expected = Vec::new();
                let mut previous = false;
                for i in 0..len {
                    if pattern(i) != previous {
                        expected.push(i as usize);
                        previous = pattern(i);
                    }
                }
                let got: Vec<usize> = mask.transitions().collect();
                assert_eq!(got, expected, "length {len}");
                assert_eq!(mask.transition_count(), expected.len(), "length {len}");
            }
        }
    }

    #[test]
    fn column_major_runs_fill_exactly_their_bits() {
        for (start, end) in [(0, 1), (3, 64), (63, 65), (10, 190), (64, 128), (0, 200)] {
            let mut mask = Mask::new(1, 200).unwrap();
            mask.set_column_major_run(start, end);
            for y in 0..200 {
                assert_eq!(mask.get(0, y), (start..end).contains(&(y as usize)));
            }
            assert_eq!(mask.area(), (end - start) as u64);
        }
    }
}
