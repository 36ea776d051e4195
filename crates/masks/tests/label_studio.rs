//! Label Studio's brush RLE against its editor's encoder (`@thi.ng/rle-pack`)
//! and label-studio-converter (tests/data/label_studio_vectors.json, made
//! by tests/data/generate.py), round trips, and malformed input.

mod common;

use common::{blocks, bytes, fixture, mask_of_case, noise, pixels_from_rows, Rng, SIZES};
use gloss_masks::label_studio::{decode_rle, encode_rle};
use gloss_masks::{Mask, MaskError};

#[test]
fn encodes_the_bytes_the_editor_writes_and_decodes_both_encoders() {
    let vectors = fixture("label_studio_vectors.json");
    let cases = vectors["masks"].as_array().unwrap();
    assert_eq!(cases.len(), 13);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mask = mask_of_case(case);
        let editor = bytes(&case["rle_editor"]);
        let converter = bytes(&case["rle_converter"]);
        assert_eq!(encode_rle(&mask), editor, "{name}");
        let (width, height) = (mask.width(), mask.height());
        assert_eq!(decode_rle(&editor, width, height).unwrap(), mask, "{name}");
        assert_eq!(
            decode_rle(&converter, width, height).unwrap(),
            mask,
            "{name}"
        );
    }
}

#[test]
fn only_alpha_counts_and_literal_blocks_are_read() {
    let vectors = fixture("label_studio_vectors.json");
    let case = &vectors["coloured"];
    let rows: Vec<&str> = case["alpha_set_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_str().unwrap())
        .collect();
    let expected = Mask::from_row_major(7, 5, &pixels_from_rows(&rows)).unwrap();
    for key in ["rle_editor", "rle_converter"] {
        assert_eq!(
            decode_rle(&bytes(&case[key]), 7, 5).unwrap(),
            expected,
            "{key}"
        );
    }
}

#[test]
fn round_trips_random_and_structured_masks() {
    let mut rng = Rng::new(11);
    for (width, height) in SIZES {
        let mut cases = vec![
            vec![0; (width * height) as usize],
            vec![1; (width * height) as usize],
        ];
        for _ in 0..4 {
            cases.push(noise(&mut rng, width, height, 50));
            cases.push(noise(&mut rng, width, height, 3));
            cases.push(blocks(&mut rng, width, height));
        }
        for pixels in cases {
            let mask = Mask::from_row_major(width, height, &pixels).unwrap();
            let rle = encode_rle(&mask);
            let read = decode_rle(&rle, width, height).unwrap();
            assert_eq!(read.to_row_major(), pixels, "{width}×{height}");
        }
    }
}

#[test]
fn runs_longer_than_65536_values_are_split() {
    // 20,000 set pixels are 80,000 equal bytes: runs of 65,536 and 14,464.
    let mask = Mask::from_row_major(200, 100, &[1; 20_000]).unwrap();
    let rle = encode_rle(&mask);
    // Header 53 bits, two runs of 1 + 2 + 16 + 8 bits: 107 bits.
    assert_eq!(rle.len(), 14);
    assert_eq!(decode_rle(&rle, 200, 100).unwrap(), mask);
}

#[test]
fn zero_sized_masks_encode_to_a_header_only() {
    let mask = Mask::new(0, 3).unwrap();
    let rle = encode_rle(&mask);
    assert_eq!(rle, [0, 0, 0, 0, 0b0011_1001, 0b0001_1011, 0b1111_1000]);
    assert_eq!(decode_rle(&rle, 0, 3).unwrap(), mask);
}

fn error(rle: &[u8], width: u32, height: u32) -> (MaskError, String) {
    let err = decode_rle(rle, width, height).unwrap_err();
    let message = err.to_string();
    (err, message)
}

/// Bytes from a string of bits ('0' and '1'; spaces ignored), the last
/// byte padded with zeros, for streams written by hand.
fn from_bits(bits: &str) -> Vec<u8> {
    let bits: Vec<u8> = bits.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    bits.chunks(8)
        .map(|chunk| {
            let byte = chunk
                .iter()
                .fold(0u8, |byte, &bit| byte << 1 | u8::from(bit == b'1'));
            byte << (8 - chunk.len())
        })
        .collect()
}

/// A stream header: the value count, then the word size and the usual run
/// sizes 3, 4, 8, 16.
fn header(values: u32, word_bits: u32) -> String {
    format!("{values:032b} {:05b} 0010 0011 0111 1111 ", word_bits - 1)
}

#[test]
fn streams_written_by_hand_decode() {
    // One pixel: a literal block of 4 one-bit values, alpha 1.
    let literal = from_bits(&(header(4, 1) + "0 00 011 0001"));
    assert!(decode_rle(&literal, 1, 1).unwrap().get(0, 0));
    // Two pixels: a run of 4 zero bytes, a run of 4 bytes of 7.
    let runs = from_bits(&(header(8, 8) + "1 00 011 00000000 1 00 011 00000111"));
    assert_eq!(decode_rle(&runs, 2, 1).unwrap().to_row_major(), [0, 1]);
    // Colour without alpha is not painted.
    let colour = from_bits(&(header(4, 8) + "1 00 010 11111111 1 00 000 00000000"));
    assert_eq!(decode_rle(&colour, 1, 1).unwrap().area(), 0);
}

#[test]
fn malformed_input_is_an_error_naming_the_reason() {
    let mask = common::mask_from_rows(&[".##..", "####.", "..#..", "....#"]);
    let rle = encode_rle(&mask);

    assert_eq!(
        error(&rle[..5], 5, 4),
        (
            MaskError::LsHeader { bytes: 5 },
            "the Label Studio RLE has 5 bytes, too few for its 7-byte header".to_owned()
        )
    );
    assert_eq!(
        error(&rle, 5, 5),
        (
            MaskError::LsLength {
                expected: 100,
                actual: 80
            },
            "the Label Studio RLE holds 80 values, but the RGBA image of the mask has 100 (width × height × 4)"
                .to_owned()
        )
    );
    let (err, message) = error(&rle[..rle.len() - 3], 5, 4);
    assert!(
        matches!(
            err,
            MaskError::LsTruncated {
                values_expected: 80,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        message.starts_with("the Label Studio RLE ends after "),
        "{message}"
    );
    assert!(message.ends_with(" of its 80 values"), "{message}");

    // A literal block of 4 values with only 2 present.
    let short = from_bits(&(header(4, 8) + "0 00 011 00000000 00000000"));
    assert_eq!(
        error(&short, 1, 1),
        (
            MaskError::LsTruncated {
                values_read: 2,
                values_expected: 4
            },
            "the Label Studio RLE ends after 2 of its 4 values".to_owned()
        )
    );
    // A run of 8 values announced for a 1-pixel (4-value) image.
    let overrun = from_bits(&(header(4, 8) + "1 00 111 11111111"));
    assert_eq!(
        error(&overrun, 1, 1),
        (
            MaskError::LsOverrun {
                start: 0,
                length: 8,
                values_expected: 4
            },
            "a Label Studio RLE block of 8 values at value 0 goes past the end (4 values)"
                .to_owned()
        )
    );
    assert_eq!(
        error(&rle, 70_000, 70_000).1,
        "a mask of 70000×70000 pixels is over the limit (65536 pixels per side, 268435456 pixels in all)"
    );
}
