//! Label Studio's brush RLE: the `"rle": [numbers…]` of a `brushlabels`
//! result whose `"format"` is `"rle"`.
//!
//! Label Studio's editor draws a brush region on a canvas of the image's
//! natural size, takes the canvas's RGBA bytes (row-major, 4 bytes a
//! pixel), copies each pixel's alpha into its red, green and blue, and
//! compresses the `width × height × 4` bytes with the JavaScript package
//! `@thi.ng/rle-pack`. A painted pixel is so `255, 255, 255, 255` (or a
//! lower grey on anti-aliased edges), an unpainted one `0, 0, 0, 0`. The
//! Python converter (`label_studio_converter/brush.py`) decodes it the same
//! way and keeps the alpha channel.
//!
//! The stream is a sequence of bits, most significant bit of each byte
//! first:
//!
//! - header: value count (32 bits), word size − 1 (5 bits), and four
//!   run-length sizes − 1 (4 bits each; the encoder uses 3, 4, 8, 16);
//! - then blocks until the count is reached: a flag bit (1 = one value
//!   repeated, 0 = literal values), a 2-bit index into the run-length sizes,
//!   `length − 1` in that many bits, then the repeated value, or `length`
//!   values, each of the word size (8 bits as Label Studio writes it).
//!
//! The last byte is padded with zero bits.

use crate::{Mask, MaskError};

/// The run-length sizes `@thi.ng/rle-pack` encodes with by default, as
/// Label Studio calls it: a run of up to 8, 16, 256 or 65,536 values.
const RUN_LENGTH_BITS: [u32; 4] = [3, 4, 8, 16];

/// Bits per value: the RGBA image's bytes.
const WORD_BITS: u32 = 8;

/// Decodes Label Studio's brush RLE into a mask of `width × height`
/// (the result's `original_width` and `original_height`).
///
/// A pixel is set when its alpha value is nonzero, as Label Studio's editor
/// shows it and as the converter's `ls_rle_to_coco_rle` thresholds it, so
/// anti-aliased edges count as painted. Word sizes other than 8 bits are
/// read too (the format allows 1–32); a value is then nonzero or not.
///
/// Errors: a header shorter than 7 bytes, a value count other than
/// `width × height × 4`, a stream that ends early, and a block that goes
/// past the value count (the reference decoders clip or fail there; no
/// encoder writes one). Bits after the last value are ignored (padding).
pub fn decode_rle(rle: &[u8], width: u32, height: u32) -> Result<Mask, MaskError> {
    let mut mask = Mask::new(width, height)?;
    let mut input = BitReader::new(rle);
    let header = (|| {
        let values = input.read(32)?;
        let word_bits = input.read(5)? + 1;
        let mut run_length_bits = [0; 4];
        for bits in &mut run_length_bits {
            *bits = input.read(4)? + 1;
        }
        Some((u64::from(values), word_bits, run_length_bits))
    })();
    let Some((values, word_bits, run_length_bits)) = header else {
        return Err(MaskError::LsHeader { bytes: rle.len() });
    };
    let expected = mask.len() as u64 * 4;
    if values != expected {
        return Err(MaskError::LsLength {
            expected,
            actual: values,
        });
    }

    let mut index: u64 = 0; // the next value's position in the RGBA bytes
    while index < values {
        let truncated = MaskError::LsTruncated {
            values_read: index,
            values_expected: values,
        };
        let (is_run, size_class) = match (input.read(1), input.read(2)) {
            (Some(flag), Some(size_class)) => (flag == 1, size_class as usize),
            _ => return Err(truncated),
        };
        let length = match input.read(run_length_bits[size_class]) {
            Some(length_minus_one) => u64::from(length_minus_one) + 1,
            None => return Err(truncated),
        };
        if index + length > values {
            return Err(MaskError::LsOverrun {
                start: index,
                length,
                values_expected: values,
            });
        }
        if is_run {
            let value = input.read(word_bits).ok_or(truncated)?;
            if value != 0 {
                // The pixels whose alpha (value 4p + 3) lies in the run.
                mask.set_row_major_run((index / 4) as usize, ((index + length) / 4) as usize);
            }
        } else {
            for position in index..index + length {
                let value = input.read(word_bits).ok_or(MaskError::LsTruncated {
                    values_read: position,
                    values_expected: values,
                })?;
                if value != 0 && position % 4 == 3 {
                    let pixel = (position / 4) as usize;
                    mask.set_row_major_run(pixel, pixel + 1);
                }
            }
        }
        index += length;
    }
    Ok(mask)
}

/// Encodes a mask as Label Studio's brush RLE, the way its editor does:
/// set pixels `255, 255, 255, 255`, others `0, 0, 0, 0`, compressed as
/// `@thi.ng/rle-pack` compresses them with its defaults (8-bit words, run
/// sizes 3, 4, 8, 16 bits). Every pixel's four bytes are equal, so the
/// stream is runs only (at least 4 values long, at most 65,536 each), and
/// the bytes are the ones the editor would send for the same pixels.
pub fn encode_rle(mask: &Mask) -> Vec<u8> {
    let pixels = mask.to_row_major();
    let mut out = BitWriter::default();
    // At most 2^28 pixels (MAX_PIXELS): 4 bytes each fit in 32 bits.
    out.write(pixels.len() as u32 * 4, 32);
    out.write(WORD_BITS - 1, 5);
    for bits in RUN_LENGTH_BITS {
        out.write(bits - 1, 4);
    }
    for run in pixels.chunk_by(|a, b| a == b) {
        let value = if run[0] == 0 { 0 } else { 255 };
        let mut remaining = run.len() as u64 * 4;
        while remaining > 0 {
            let length = remaining.min(1 << 16);
            let length_minus_one = (length - 1) as u32;
            let size_class = RUN_LENGTH_BITS
                .iter()
                .position(|&bits| length_minus_one < 1 << bits)
                .unwrap_or(3); // always found: length − 1 < 2^16
            out.write(1, 1);
            out.write(size_class as u32, 2);
            out.write(length_minus_one, RUN_LENGTH_BITS[size_class]);
            out.write(value, WORD_BITS);
            remaining -= length;
        }
    }
    out.finish()
}

/// Reads big-endian bit fields from bytes, most significant bit first.
struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position of the next bit.
    position: u64,
}

impl<'a> BitReader<'a> {
    fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, position: 0 }
    }

    /// The next `bits` (at most 32) bits as a number, or `None` past the end.
    fn read(&mut self, bits: u32) -> Option<u32> {
        let end = self.position + u64::from(bits);
        if end > self.bytes.len() as u64 * 8 {
            return None;
        }
        let mut value: u64 = 0;
        while self.position < end {
            let byte = u64::from(self.bytes[(self.position / 8) as usize]);
            let used = (self.position % 8) as u32;
            let take = (8 - used).min((end - self.position) as u32);
            let chunk = byte >> (8 - used - take) & ((1 << take) - 1);
            value = value << take | chunk;
            self.position += u64::from(take);
        }
        Some(value as u32)
    }
}

/// Writes big-endian bit fields into bytes, most significant bit first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits not yet written out, in the low `pending_bits` bits.
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    /// Appends the low `bits` (at most 32) bits of `value`.
    fn write(&mut self, value: u32, bits: u32) {
        let field = u64::from(value) & ((1 << bits) - 1);
        // Fewer than 8 bits pending, so at most 39 bits here; higher bits
        // of `pending` are stale and never read.
        self.pending = self.pending << bits | field;
        self.pending_bits += bits;
        while self.pending_bits >= 8 {
            self.pending_bits -= 8;
            self.bytes.push((self.pending >> self.pending_bits) as u8);
        }
    }

    /// The bytes, the last one padded with zero bits.
    fn finish(mut self) -> Vec<u8> {
        if self.pending_bits > 0 {
            self.bytes
                .push((self.pending << (8 - self.pending_bits)) as u8);
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_fields_round_trip_across_byte_boundaries() {
        let fields = [
            (1, 1),
            (0b101, 3),
            (0xabcd, 16),
            (0, 5),
            (0xdead_beef, 32),
            (3, 2),
        ];
        let mut out = BitWriter::default();
        for (value, bits) in fields {
            out.write(value, bits);
        }
        let bytes = out.finish();
        assert_eq!(bytes.len(), 59_usize.div_ceil(8));
        let mut input = BitReader::new(&bytes);
        for (value, bits) in fields {
            assert_eq!(input.read(bits), Some(value));
        }
        assert_eq!(input.read(5), Some(0), "padding is zero bits");
        assert_eq!(input.read(1), None);
    }
}
