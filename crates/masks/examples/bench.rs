//! Times COCO RLE encoding and decoding of 4000×3000 masks (the target:
//! at most 5 ms each, string form included, release build), and Label
//! Studio's brush RLE and the row-major conversions for comparison.
//!
//! Run by `bench/masks.sh`; `cargo run --release -p gloss-masks --example
//! bench -- [RUNS]`. Prints the median, fastest and slowest of RUNS runs
//! (default 101; a fifth of that for the noise mask, whose runs are slow).
//! Not a test: it never fails on slowness.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gloss_masks::label_studio::{decode_rle, encode_rle};
use gloss_masks::{CocoRle, Mask};

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;

fn main() {
    let runs: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("RUNS must be a number"),
        None => 101,
    };
    let cases = [
        ("realistic", realistic_mask(), runs),
        ("noise", noise_mask(), (runs / 5).max(1)),
    ];
    println!("mask {WIDTH}×{HEIGHT}, release build; times: median (fastest–slowest)");
    for (name, mask, runs) in cases {
        let rle = CocoRle::from_mask(&mask);
        let compressed = rle.to_compressed();
        let ls_rle = encode_rle(&mask);
        let pixels = mask.to_row_major();
        // The benchmark measures the right thing only if it round-trips.
        assert_eq!(
            CocoRle::from_compressed(WIDTH, HEIGHT, &compressed)
                .unwrap()
                .to_mask(),
            mask
        );
        assert_eq!(decode_rle(&ls_rle, WIDTH, HEIGHT).unwrap(), mask);
        println!(
            "\n{name}: {} set pixels, {} COCO counts, string {} bytes, Label Studio RLE {} bytes, {runs} runs",
            mask.area(),
            rle.counts().len(),
            compressed.len(),
            ls_rle.len(),
        );
        let report = |what: &str, time: &dyn Fn()| println!("  {what:<44} {}", measure(runs, time));
        report("COCO encode: mask → counts → string", &|| {
            black_box(CocoRle::from_mask(black_box(&mask)).to_compressed());
        });
        report("COCO decode: string → counts → mask", &|| {
            black_box(
                CocoRle::from_compressed(WIDTH, HEIGHT, black_box(&compressed))
                    .unwrap()
                    .to_mask(),
            );
        });
        report("  of which mask → counts", &|| {
            black_box(CocoRle::from_mask(black_box(&mask)));
        });
        report("  of which counts → string", &|| {
            black_box(rle.to_compressed());
        });
        report("  of which string → counts", &|| {
            black_box(CocoRle::from_compressed(WIDTH, HEIGHT, black_box(&compressed)).unwrap());
        });
        report("  of which counts → mask", &|| {
            black_box(rle.to_mask());
        });
        report("COCO area and bbox from counts", &|| {
            black_box((rle.area(), rle.bbox()));
        });
        report("Label Studio encode: mask → rle", &|| {
            black_box(encode_rle(black_box(&mask)));
        });
        report("Label Studio decode: rle → mask", &|| {
            black_box(decode_rle(black_box(&ls_rle), WIDTH, HEIGHT).unwrap());
        });
        report("row-major bytes → mask", &|| {
            black_box(Mask::from_row_major(WIDTH, HEIGHT, black_box(&pixels)).unwrap());
        });
        report("mask → row-major bytes", &|| {
            black_box(mask.to_row_major());
        });
    }
}

/// "median (fastest–slowest)" of `runs` calls, in milliseconds.
fn measure(runs: usize, run: &dyn Fn()) -> String {
    run(); // warm up: page faults, caches
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "{:8.3} ms ({:.3}–{:.3})",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    )
}

/// What a segmentation of a photo looks like: a few large filled ellipses
/// (some overlapping), polygons, and small blobs, a few million pixels.
fn realistic_mask() -> Mask {
    let mut mask = Mask::new(WIDTH, HEIGHT).unwrap();
    let ellipses = [
        (1000.0, 1200.0, 600.0, 400.0),
        (1400.0, 1500.0, 300.0, 500.0),
        (2900.0, 800.0, 450.0, 300.0),
        (3200.0, 2300.0, 350.0, 550.0),
        (600.0, 2600.0, 200.0, 150.0),
        (2200.0, 2700.0, 120.0, 90.0),
    ];
    for (cx, cy, rx, ry) in ellipses {
        fill_ellipse(&mut mask, cx, cy, rx, ry);
    }
    for i in 0..40 {
        let (cx, cy) = (
            100.0 + 97.0 * i as f64,
            150.0 + 61.0 * ((i * 7) % 40) as f64,
        );
        fill_ellipse(
            &mut mask,
            cx,
            cy,
            12.0 + (i % 5) as f64 * 6.0,
            9.0 + (i % 3) as f64 * 5.0,
        );
    }
    fill_polygon(
        &mut mask,
        &[
            (1900.0, 300.0),
            (2500.0, 450.0),
            (2300.0, 1300.0),
            (1750.0, 900.0),
        ],
    );
    fill_polygon(&mut mask, &[(300.0, 200.0), (800.0, 250.0), (500.0, 700.0)]);
    fill_polygon(
        &mut mask,
        &[
            (2000.0, 1800.0),
            (2600.0, 1700.0),
            (2700.0, 2100.0),
            (2350.0, 1950.0),
            (2100.0, 2300.0),
        ],
    );
    mask
}

fn fill_ellipse(mask: &mut Mask, cx: f64, cy: f64, rx: f64, ry: f64) {
    for y in (cy - ry).max(0.0) as u32..(cy + ry).min(f64::from(HEIGHT)) as u32 {
        let dy = (f64::from(y) + 0.5 - cy) / ry;
        let half = rx * (1.0 - dy * dy).max(0.0).sqrt();
        for x in (cx - half).max(0.0) as u32..(cx + half).min(f64::from(WIDTH)) as u32 {
            mask.set(x, y, true);
        }
    }
}

/// Even-odd scanline fill at pixel centres.
fn fill_polygon(mask: &mut Mask, points: &[(f64, f64)]) {
    for y in 0..HEIGHT {
        let yc = f64::from(y) + 0.5;
        let mut crossings: Vec<f64> = Vec::new();
        for (i, &(x0, y0)) in points.iter().enumerate() {
            let (x1, y1) = points[(i + 1) % points.len()];
            if (y0 <= yc) != (y1 <= yc) {
                crossings.push(x0 + (yc - y0) / (y1 - y0) * (x1 - x0));
            }
        }
        crossings.sort_by(f64::total_cmp);
        for pair in crossings.chunks_exact(2) {
            for x in pair[0].max(0.0).round() as u32..pair[1].min(f64::from(WIDTH)).round() as u32 {
                mask.set(x, y, true);
            }
        }
    }
}

/// The worst case: every pixel set or not at random, half of them set, so
/// runs average two pixels.
fn noise_mask() -> Mask {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let pixels: Vec<u8> = (0..WIDTH * HEIGHT)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as u8 & 1
        })
        .collect();
    Mask::from_row_major(WIDTH, HEIGHT, &pixels).unwrap()
}
