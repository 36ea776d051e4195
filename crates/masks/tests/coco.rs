//! COCO RLE against pycocotools's own output (tests/data/coco_vectors.json,
//! made by tests/data/generate.py), against a plain reference on random
//! masks, its JSON shapes, and malformed input.

mod common;

use common::{
    blocks, fixture, mask_of_case, noise, number, pixels_from_rows, reference_bbox,
    reference_counts, Rng, SIZES,
};
use gloss_masks::coco::{counts_from_string, counts_to_string};
use gloss_masks::{CocoRle, CocoRleJson, Mask, MaskError, RleCounts};
use serde_json::{json, Value};

fn counts_of(case: &Value) -> Vec<u32> {
    case["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect()
}

#[test]
fn matches_pycocotools_vectors() {
    let vectors = fixture("coco_vectors.json");
    let cases = vectors["cases"].as_array().unwrap();
    let mut checked = 0;
    for case in cases.iter().filter(|case| case.get("bbox").is_some()) {
        let name = case["name"].as_str().unwrap();
        let mask = mask_of_case(case);
        let compressed = case["compressed"].as_str().unwrap();

        let rle = CocoRle::from_mask(&mask);
        assert_eq!(rle.counts(), counts_of(case), "{name}");
        assert_eq!(rle.to_compressed(), compressed, "{name}");

        let read = CocoRle::from_compressed(mask.width(), mask.height(), compressed).unwrap();
        assert_eq!(read, rle, "{name}");
        assert_eq!(read.to_mask(), mask, "{name}");
        assert_eq!(read.area(), case["area"].as_u64().unwrap(), "{name}");
        let bbox = read
            .bbox()
            .map_or([0; 4], |b| [b.x, b.y, b.width, b.height]);
        let expected: Vec<u32> = case["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(number)
            .collect();
        assert_eq!(bbox.to_vec(), expected, "{name}");
        assert_eq!(mask.bbox(), read.bbox(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn decodes_empty_runs_inside_as_pycocotools_does() {
    let vectors = fixture("coco_vectors.json");
    let case = vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == "empty runs inside 4x3")
        .unwrap();
    let rows: Vec<&str> = case["decoded_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_str().unwrap())
        .collect();
    let expected = Mask::from_row_major(4, 3, &pixels_from_rows(&rows)).unwrap();

    let compressed = case["compressed"].as_str().unwrap();
    assert_eq!(counts_to_string(&counts_of(case)), compressed);
    let rle = CocoRle::from_compressed(4, 3, compressed).unwrap();
    assert_eq!(rle.counts(), counts_of(case));
    assert_eq!(rle.to_mask(), expected);
    assert_eq!(rle.area(), case["area"].as_u64().unwrap());
    assert_eq!(rle.bbox(), expected.bbox());
    // Encoding the decoded mask again gives the canonical runs.
    assert_eq!(CocoRle::from_mask(&expected).counts(), [5, 6, 1]);
}

#[test]
fn round_trips_random_and_structured_masks() {
    let mut rng = Rng::new(7);
    for (width, height) in SIZES {
        let mut cases = vec![
            vec![0; (width * height) as usize],
            vec![1; (width * height) as usize],
            (0..width * height)
                .map(|i| u8::from((i % width + i / width) % 2 == 0))
                .collect(),
        ];
        for _ in 0..4 {
            cases.push(noise(&mut rng, width, height, 50));
            cases.push(noise(&mut rng, width, height, 3));
            cases.push(blocks(&mut rng, width, height));
        }
        for pixels in cases {
            let mask = Mask::from_row_major(width, height, &pixels).unwrap();
            let rle = CocoRle::from_mask(&mask);
            assert_eq!(rle.counts(), reference_counts(width, height, &pixels));
            let compressed = rle.to_compressed();
            let read = CocoRle::from_compressed(width, height, &compressed).unwrap();
            assert_eq!(read.to_mask().to_row_major(), pixels, "{width}×{height}");
            assert_eq!(read.area(), mask.area());
            let bbox = read.bbox().map(|b| [b.x, b.y, b.width, b.height]);
            assert_eq!(bbox, reference_bbox(width, height, &pixels));
        }
    }
}

#[test]
fn edge_cases_follow_pycocotools() {
    let no_pixels = CocoRle::from_mask(&Mask::new(0, 0).unwrap());
    assert_eq!(no_pixels.counts(), [0]);
    assert_eq!(no_pixels.to_compressed(), "0");
    assert_eq!(no_pixels.to_mask(), Mask::new(0, 0).unwrap());
    // Counts that add up to nothing: also a mask with no pixels.
    assert!(CocoRle::new(0, 7, vec![]).is_ok());

    let full = CocoRle::from_mask(&Mask::from_row_major(2, 2, &[1; 4]).unwrap());
    assert_eq!(full.counts(), [0, 4]);
    assert_eq!(full.bbox().map(|b| (b.width, b.height)), Some((2, 2)));
}

#[test]
fn large_counts_and_negative_deltas_survive_the_string_form() {
    // A mask of the largest size, empty but for a few pixels, has counts
    // near 2^28 followed by tiny ones: deltas of both signs near the limit.
    let (width, height) = (16_384, 16_384);
    let mut mask = Mask::new(width, height).unwrap();
    for (x, y) in [(0, 0), (5, 16_383), (16_383, 0), (16_383, 16_383)] {
        mask.set(x, y, true);
    }
    let rle = CocoRle::from_mask(&mask);
    let compressed = rle.to_compressed();
    let read = CocoRle::from_compressed(width, height, &compressed).unwrap();
    assert_eq!(read, rle);
    assert_eq!(read.to_mask(), mask);
    assert_eq!(read.area(), 4);
    let bbox = read.bbox().unwrap();
    assert_eq!(
        [bbox.x, bbox.y, bbox.width, bbox.height],
        [0, 0, 16_384, 16_384]
    );

    let extremes = [u32::MAX, 0, 0, u32::MAX, 1, 0, u32::MAX];
    assert_eq!(
        counts_from_string(&counts_to_string(&extremes)).unwrap(),
        extremes
    );
}

#[test]
fn json_reads_both_forms_and_writes_either() {
    let mask = common::mask_from_rows(&[".##..", "####.", "..#..", "....#"]);
    let rle = CocoRle::from_mask(&mask);

    let compressed = serde_json::to_value(&rle).unwrap();
    assert_eq!(compressed, json!({"size": [4, 5], "counts": "1121010N30"}));
    let uncompressed = serde_json::to_value(rle.to_json_uncompressed()).unwrap();
    assert_eq!(
        uncompressed,
        json!({"size": [4, 5], "counts": [1, 1, 2, 2, 2, 3, 2, 1, 5, 1]})
    );

    for value in [compressed, uncompressed] {
        let read: CocoRle = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(read, rle);
        let raw: CocoRleJson = serde_json::from_value(value).unwrap();
        assert_eq!(CocoRle::try_from(raw).unwrap(), rle);
    }
    assert_eq!(
        rle.to_json().counts,
        RleCounts::Compressed("1121010N30".to_owned())
    );
}

/// The message of reading `value` as a `CocoRle`.
fn json_error(value: Value) -> String {
    serde_json::from_value::<CocoRle>(value)
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_json_is_an_error_naming_the_reason() {
    assert_eq!(
        json_error(json!({"size": [2, 2], "counts": [1, 2]})),
        "RLE counts add up to 3 pixels, but the mask has 4 (height × width)"
    );
    assert_eq!(
        json_error(json!({"size": [2, 2], "counts": "0 "})),
        "byte 0x20 at offset 1 is not a COCO RLE character ('0' to 'o')"
    );
    assert_eq!(
        json_error(json!({"size": [100000, 3], "counts": [300000]})),
        "a mask of 3×100000 pixels is over the limit (65536 pixels per side, 268435456 pixels in all)"
    );
    assert_eq!(
        json_error(json!({"size": [2, 2], "counts": [1, -3]})),
        "invalid value: integer `-3`, expected u32"
    );
    assert_eq!(
        json_error(json!({"size": [2, 2], "counts": 4})),
        "invalid type: integer `4`, expected a compressed RLE string or a list of run lengths"
    );
    assert_eq!(
        json_error(json!({"size": [2, 2]})),
        "missing field `counts`"
    );
}

#[test]
fn malformed_strings_are_errors_naming_the_reason() {
    let cases: [(&str, MaskError, &str); 5] = [
        (
            "1~",
            MaskError::BadCharacter {
                position: 1,
                byte: b'~',
            },
            "byte 0x7e at offset 1 is not a COCO RLE character ('0' to 'o')",
        ),
        (
            "1P",
            MaskError::TruncatedString,
            "the COCO RLE string ends in the middle of a count",
        ),
        (
            // A negative first count (no delta to undo).
            "O",
            MaskError::BadCount {
                index: 0,
                value: -1,
            },
            "COCO RLE count 0 decodes to -1, outside 0 to 4294967295",
        ),
        (
            // Count 3 is the delta -5 from count 1 (4): -1.
            "140K",
            MaskError::BadCount {
                index: 3,
                value: -1,
            },
            "COCO RLE count 3 decodes to -1, outside 0 to 4294967295",
        ),
        (
            "PPPPPPP0",
            MaskError::CountTooLong { index: 0 },
            "COCO RLE count 0 spans more than 7 characters, too long for 32 bits",
        ),
    ];
    for (compressed, error, message) in cases {
        let got = counts_from_string(compressed).unwrap_err();
        assert_eq!(got, error, "{compressed}");
        assert_eq!(got.to_string(), message);
    }
    // 2^32 fits in 7 characters but not in a count.
    assert_eq!(
        counts_from_string("PPPPPP4").unwrap_err(),
        MaskError::BadCount {
            index: 0,
            value: 1 << 32
        }
    );
    // '@' alone is -16: negative even after adding count 5 (0).
    assert_eq!(
        counts_from_string("0000000@").unwrap_err(),
        MaskError::BadCount {
            index: 7,
            value: -16
        }
    );
    // Non-ASCII text is rejected at its first byte.
    assert_eq!(
        counts_from_string("0é").unwrap_err(),
        MaskError::BadCharacter {
            position: 1,
            byte: 0xc3
        }
    );
    // Counts that parse but do not fit the size.
    assert_eq!(
        CocoRle::from_compressed(3, 3, "14").unwrap_err(),
        MaskError::CountsSum {
            expected: 9,
            actual: 5
        }
    );
}
