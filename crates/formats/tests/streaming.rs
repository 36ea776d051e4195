//! `read_tasks` streams: one row at a time, without the whole file.

use gloss_formats::{read_tasks, FormatError, InputFormat};
use std::io::{self, Read};

fn json_array(rows: usize) -> Vec<u8> {
    let mut text = String::from("[");
    for index in 0..rows {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"image":"/img/{index}.png","text":"hello {index}"}}"#
        ));
    }
    text.push(']');
    text.into_bytes()
}

/// Serves `bytes` up to `limit`, then fails as a broken connection would.
struct FailsAfter<'a> {
    bytes: &'a [u8],
    limit: usize,
}

impl Read for FailsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.limit == 0 {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"));
        }
        let n = buf.len().min(self.limit).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.limit -= n;
        Ok(n)
    }
}

#[test]
fn json_array_calls_the_sink_per_row() {
    let input = json_array(200_000);
    let mut seen = 0u64;
    let rows = read_tasks(InputFormat::Json, &input[..], &mut |_line, row| {
        let task = row.expect("a task");
        assert_eq!(task.data["text"], format!("hello {seen}"));
        seen += 1;
        true
    })
    .unwrap();
    assert_eq!((rows, seen), (200_000, 200_000));
}

#[test]
fn sink_can_stop_a_large_array_early() {
    let input = json_array(200_000);
    let mut seen = 0;
    let rows = read_tasks(InputFormat::Json, &input[..], &mut |_, _| {
        seen += 1;
        seen < 10
    })
    .unwrap();
    assert_eq!((rows, seen), (10, 10));
}

#[test]
fn rows_arrive_before_the_rest_of_the_file() {
    let input = json_array(200_000);
    // About 1 MB of an 8.9 MB file, then a read error.
    let reader = FailsAfter {
        bytes: &input,
        limit: 1_000_000,
    };
    let mut seen = 0;
    let outcome = read_tasks(InputFormat::Json, reader, &mut |_line, row| {
        row.expect("a task");
        seen += 1;
        true
    });
    match outcome {
        Err(FormatError::Io(error)) => assert_eq!(error.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected the read error, got {other:?}"),
    }
    assert!(seen > 15_000, "only {seen} rows before the error");
    assert!(seen < 30_000, "{seen} rows from 1 MB");
}

#[test]
fn jsonl_rows_arrive_before_the_rest_of_the_file() {
    let mut input = Vec::new();
    for index in 0..100_000 {
        input.extend_from_slice(format!("{{\"n\":{index}}}\n").as_bytes());
    }
    let reader = FailsAfter {
        bytes: &input,
        limit: 100_000,
    };
    let mut seen = 0;
    let outcome = read_tasks(InputFormat::Jsonl, reader, &mut |_line, row| {
        row.expect("a task");
        seen += 1;
        true
    });
    assert!(matches!(outcome, Err(FormatError::Io(_))), "{outcome:?}");
    assert!(seen > 5_000, "only {seen} rows before the error");
}
