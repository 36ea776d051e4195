//! Read throughput, measured on request:
//!
//! `cargo test --release -p gloss-formats --test throughput -- --ignored --nocapture`

use gloss_formats::{read_tasks, InputFormat};
use std::time::Instant;

const ROWS: usize = 200_000;

fn row(index: usize) -> String {
    format!(r#"{{"image":"/img/{index}.png","text":"hello {index}"}}"#)
}

/// The best of a few runs, in rows per second.
fn rows_per_second(format: InputFormat, input: &[u8]) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let mut accepted = 0;
        let rows = read_tasks(format, input, &mut |_line, row| {
            accepted += usize::from(row.is_ok());
            true
        })
        .unwrap();
        best = best.min(started.elapsed().as_secs_f64());
        assert_eq!((rows as usize, accepted), (ROWS, ROWS));
    }
    ROWS as f64 / best
}

#[test]
#[ignore = "a measurement; run in a release build"]
fn bare_rows_per_second() {
    let array = format!("[{}]", (0..ROWS).map(row).collect::<Vec<_>>().join(",\n"));
    let lines: String = (0..ROWS).map(|index| row(index) + "\n").collect();
    let csv: String = std::iter::once("image,text\n".to_owned())
        .chain((0..ROWS).map(|index| format!("/img/{index}.png,hello {index}\n")))
        .collect();
    for (name, format, input) in [
        ("JSON array", InputFormat::Json, array.as_bytes()),
        ("JSONL", InputFormat::Jsonl, lines.as_bytes()),
        ("CSV", InputFormat::Csv, csv.as_bytes()),
    ] {
        let speed = rows_per_second(format, input);
        println!(
            "{name}: {speed:.0} rows/s ({ROWS} rows, {} bytes)",
            input.len()
        );
    }
}
