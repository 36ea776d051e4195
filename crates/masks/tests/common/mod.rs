//! Helpers shared by the integration tests: masks from the fixtures'
//! descriptions, random masks, and plain reference versions of what the
//! crate computes faster.

#![allow(dead_code)] // each test file uses a different part

use gloss_masks::Mask;
use serde_json::Value;

/// Reads a fixture of `tests/data/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Row-major pixels (0/1) from rows of '#' (set) and '.'.
pub fn pixels_from_rows(rows: &[&str]) -> Vec<u8> {
    rows.iter()
        .flat_map(|row| row.bytes().map(|c| u8::from(c == b'#')))
        .collect()
}

/// A mask from rows of '#' (set) and '.'.
pub fn mask_from_rows(rows: &[&str]) -> Mask {
    let width = rows.first().map_or(0, |row| row.len()) as u32;
    Mask::from_row_major(width, rows.len() as u32, &pixels_from_rows(rows)).unwrap()
}

/// The mask a fixture case describes: `rows`, or `rects` of
/// `[x, y, width, height]` on `width × height`.
pub fn mask_of_case(case: &Value) -> Mask {
    if let Some(rows) = case["rows"].as_array() {
        let rows: Vec<&str> = rows.iter().map(|row| row.as_str().unwrap()).collect();
        return mask_from_rows(&rows);
    }
    let (width, height) = (number(&case["width"]), number(&case["height"]));
    let mut mask = Mask::new(width, height).unwrap();
    for rect in case["rects"].as_array().unwrap() {
        let [x, y, w, h] = [0, 1, 2, 3].map(|i| number(&rect[i]));
        for row in y..y + h {
            for column in x..x + w {
                mask.set(column, row, true);
            }
        }
    }
    mask
}

pub fn number(value: &Value) -> u32 {
    value.as_u64().unwrap().try_into().unwrap()
}

pub fn bytes(value: &Value) -> Vec<u8> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap().try_into().unwrap())
        .collect()
}

/// A small deterministic generator (xorshift64*), so that failures repeat.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: u32) -> u32 {
        (self.next() % u64::from(bound)) as u32
    }
}

/// Random row-major pixels with a density of `percent`% set.
pub fn noise(rng: &mut Rng, width: u32, height: u32, percent: u32) -> Vec<u8> {
    (0..width * height)
        .map(|_| u8::from(rng.below(100) < percent))
        .collect()
}

/// Random row-major pixels made of a few filled rectangles, so that runs
/// are long and cross columns.
pub fn blocks(rng: &mut Rng, width: u32, height: u32) -> Vec<u8> {
    let mut pixels = vec![0; (width * height) as usize];
    for _ in 0..rng.below(5) {
        let (x, y) = (rng.below(width), rng.below(height));
        let (w, h) = (1 + rng.below(width - x), 1 + rng.below(height - y));
        for row in y..y + h {
            for column in x..x + w {
                pixels[(row * width + column) as usize] = 1;
            }
        }
    }
    pixels
}

/// COCO RLE counts the plain way: runs over the column-major pixels,
/// starting with unset ones.
pub fn reference_counts(width: u32, height: u32, pixels: &[u8]) -> Vec<u32> {
    let mut counts = Vec::new();
    let (mut previous, mut run) = (0, 0);
    for x in 0..width {
        for y in 0..height {
            let value = pixels[(y * width + x) as usize];
            if value != previous {
                counts.push(run);
                previous = value;
                run = 0;
            }
            run += 1;
        }
    }
    counts.push(run);
    counts
}

/// The bounding box the plain way, as `[x, y, width, height]`.
pub fn reference_bbox(width: u32, height: u32, pixels: &[u8]) -> Option<[u32; 4]> {
    let set = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| pixels[(y * width + x) as usize] != 0);
    let mut bounds: Option<[u32; 4]> = None;
    for (x, y) in set {
        let b = bounds.get_or_insert([x, y, x, y]);
        *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    bounds.map(|[x0, y0, x1, y1]| [x0, y0, x1 - x0 + 1, y1 - y0 + 1])
}

/// Sizes worth trying: single pixels, single rows and columns, odd sizes,
/// lengths around the 64-bit words the mask is stored in, and heights over
/// the 64 rows that `Mask::from_row_major` reads at a time.
pub const SIZES: [(u32, u32); 14] = [
    (1, 1),
    (1, 7),
    (9, 1),
    (1, 64),
    (64, 1),
    (2, 32),
    (3, 5),
    (7, 9),
    (13, 11),
    (65, 3),
    (31, 33),
    (100, 57),
    (3, 130),
    (70, 129),
];
