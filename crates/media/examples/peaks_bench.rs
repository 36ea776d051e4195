//! Times the waveform peaks of sound files: `peaks_bench FILE...`, each
//! decoded three times (the best time counts). See bench/audio.sh.

use std::time::Instant;

fn main() {
    for path in std::env::args().skip(1) {
        let head = std::fs::read(&path)
            .map(|bytes| bytes[..bytes.len().min(gloss_media::SNIFF_LEN)].to_vec())
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        let kind = gloss_media::sniff(&head);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut best = f64::MAX;
        let mut peaks = None;
        for _ in 0..3 {
            let start = Instant::now();
            let found = gloss_media::audio_peaks_file(std::path::Path::new(&path), kind)
                .unwrap_or_else(|err| panic!("{path}: {err}"));
            best = best.min(start.elapsed().as_secs_f64());
            peaks = Some(found);
        }
        let peaks = peaks.expect("three runs");
        println!(
            "{path}: {} ({:.0} MB), {:.0} s of sound at {} Hz × {} channels: {} peaks in {:.2} s ({:.0}× real time); cached form {:.1} MB",
            kind.content_type(),
            size as f64 / 1e6,
            peaks.duration,
            peaks.sample_rate,
            peaks.channels,
            peaks.peaks.len() / 2,
            best,
            peaks.duration / best,
            peaks.to_bytes().len() as f64 / 1e6,
        );
    }
}
