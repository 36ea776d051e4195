//! The frame index of generated videos, judged against ffprobe: variable
//! frame rate H.264 with B-frames, and VP9 in WebM.
//!
//! The videos are made by the ffmpeg that `GLOSS_TEST_FFMPEG` names (or the
//! one on the PATH); without one the tests say so and pass, except under
//! `CI`, where that would hide a broken setup (scripts/test-all.sh installs
//! it with scripts/media-env.sh).

use gloss_media::{probe_video_file, probe_video_samples, sniff, Error, MediaKind};
use std::path::{Path, PathBuf};
use std::process::Command;

fn ffmpeg() -> Option<PathBuf> {
    let named = std::env::var_os("GLOSS_TEST_FFMPEG").map(PathBuf::from);
    let found = named.or_else(|| {
        let ok = Command::new("ffmpeg")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| PathBuf::from("ffmpeg"))
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but ffmpeg is not there: run the tests through scripts/test-all.sh"
        );
        eprintln!("note: no ffmpeg, so the video tests have nothing to judge (scripts/media-env.sh installs it)");
    }
    found
}

fn ffprobe_of(ffmpeg: &Path) -> PathBuf {
    match ffmpeg.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("ffprobe"),
        _ => PathBuf::from("ffprobe"),
    }
}

fn run(ffmpeg: &Path, args: &[&str]) {
    let out = Command::new(ffmpeg)
        .args(["-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ffprobe's presentation times of the video packets, sorted, from the first.
fn ffprobe_times(ffprobe: &Path, video: &Path) -> Vec<f64> {
    let out = Command::new(ffprobe)
        .args([
            "-loglevel",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(video)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut times: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    times.sort_by(f64::total_cmp);
    let first = times[0];
    times.iter().map(|t| t - first).collect()
}

fn kind_of(path: &Path) -> MediaKind {
    sniff(&std::fs::read(path).unwrap()[..512])
}

fn assert_same_times(label: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{label}: frame count");
    for (index, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-6,
            "{label}: frame {index}: {g} vs ffprobe's {w}"
        );
    }
}

#[test]
fn variable_frame_rate_h264_with_b_frames_indexes_like_ffprobe() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("vfr.mp4");
    // 20 frames 40 ms apart, then 30 frames 70 ms apart; B-frames reorder them.
    run(
        &ffmpeg,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25",
            "-t",
            "2",
            "-vf",
            "setpts='if(lt(N,20),N*0.04,0.8+(N-20)*0.07)/TB'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-bf",
            "3",
            "-g",
            "12",
            "-pix_fmt",
            "yuv420p",
            video.to_str().unwrap(),
        ],
    );
    let frames = probe_video_file(&video, kind_of(&video)).unwrap();
    assert_eq!((frames.width, frames.height), (160, 120));
    let want = ffprobe_times(&ffprobe_of(&ffmpeg), &video);
    assert_same_times("vfr.mp4", &frames.timestamps, &want);
    let gaps: Vec<f64> = frames.timestamps.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().any(|g| (g - 0.04).abs() < 1e-6) && gaps.iter().any(|g| *g > 0.05),
        "{gaps:?}"
    );
    assert!(frames.duration > *frames.timestamps.last().unwrap());
}

/// ffprobe's video packets in file order (decoding order): position, size,
/// key flag, presentation time.
fn ffprobe_packets(ffprobe: &Path, video: &Path) -> Vec<(u64, u32, bool, f64)> {
    let out = Command::new(ffprobe)
        .args([
            "-loglevel",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pos,size,flags,pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(video)
        .output()
        .unwrap();
    assert!(out.status.success());
    // Fields come in ffprobe's own order: pts_time, size, pos, flags.
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.trim().split(',').collect();
            (
                f[2].parse().unwrap(),
                f[1].parse().unwrap(),
                f[3].starts_with('K'),
                f[0].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn sample_table_of_h264_with_b_frames_matches_ffprobe_packets() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("vfr.mp4");
    // Variable frame rate, B-frames, a key frame every 12 frames and one
    // more at a scene cut x264 may place; moov at the end (no faststart);
    // a sound track first, so chunks of both interleave in the file.
    run(
        &ffmpeg,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=8000",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=176x144:rate=25",
            "-t",
            "3",
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "aac",
            "-vf",
            "setpts='if(lt(N,20),N*0.04,0.8+(N-20)*0.07)/TB'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-g",
            "12",
            "-pix_fmt",
            "yuv420p",
            video.to_str().unwrap(),
        ],
    );
    let kind = kind_of(&video);
    let table = probe_video_samples(&video, kind).unwrap();
    let index = probe_video_file(&video, kind).unwrap();
    let packets = ffprobe_packets(&ffprobe_of(&ffmpeg), &video);
    assert_eq!(table.offsets.len(), packets.len());
    assert_eq!(table.sizes.len(), packets.len());
    assert_eq!(table.frames.len(), packets.len());
    assert_eq!((table.width, table.height), (176, 144));
    assert!(table.codec.starts_with("avc1.64"), "{}", table.codec);
    assert_eq!(table.codec.len(), "avc1.64001e".len());
    let bytes = std::fs::read(&video).unwrap();
    // The description is the avcC payload: it follows "avcC" in the file.
    let at = bytes.windows(4).position(|w| w == b"avcC").unwrap() + 4;
    assert_eq!(
        &bytes[at..at + table.description.len()],
        &table.description[..]
    );
    let box_size = u32::from_be_bytes(bytes[at - 8..at - 4].try_into().unwrap()) as usize;
    assert_eq!(table.description.len(), box_size - 8);
    let first = packets.iter().map(|p| p.3).fold(f64::INFINITY, f64::min);
    let mut keys = Vec::new();
    for (n, &(pos, size, key, pts)) in packets.iter().enumerate() {
        assert_eq!(table.offsets[n], pos, "sample {n}: offset");
        assert_eq!(table.sizes[n], size, "sample {n}: size");
        if key {
            keys.push(n as u32);
        }
        // The frame it shows has its presentation time in the index.
        let frame = table.frames[n] as usize;
        assert!(
            (index.timestamps[frame] - (pts - first)).abs() < 1e-6,
            "sample {n} shows frame {frame} at {}, ffprobe says {}",
            index.timestamps[frame],
            pts - first
        );
    }
    assert_eq!(table.keys, keys);
    assert!(keys.len() >= 3 && keys[0] == 0, "{keys:?}");
    // B-frames: decoding order is not presentation order.
    assert!(table.frames.windows(2).any(|w| w[1] < w[0]));
    let mut sorted = table.frames.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..packets.len() as u32).collect::<Vec<_>>());
}

#[test]
fn sample_tables_are_for_h264_in_mp4_only() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let webm = dir.path().join("clip.webm");
    let mpeg4 = dir.path().join("part2.mp4");
    let source = [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=10",
        "-t",
        "1",
    ];
    run(
        &ffmpeg,
        &[&source[..], &["-c:v", "libvpx-vp9", webm.to_str().unwrap()]].concat(),
    );
    run(
        &ffmpeg,
        &[&source[..], &["-c:v", "mpeg4", mpeg4.to_str().unwrap()]].concat(),
    );
    let err = probe_video_samples(&webm, kind_of(&webm)).unwrap_err();
    assert!(err.to_string().contains("MP4"), "{err}");
    let err = probe_video_samples(&mpeg4, kind_of(&mpeg4)).unwrap_err();
    assert!(err.to_string().contains("not H.264"), "{err}");
}

#[test]
fn webm_indexes_like_ffprobe() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.webm");
    run(
        &ffmpeg,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=96x64:rate=30",
            "-t",
            "1",
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "100k",
            video.to_str().unwrap(),
        ],
    );
    let frames = probe_video_file(&video, kind_of(&video)).unwrap();
    assert_eq!(
        (frames.width, frames.height, frames.timestamps.len()),
        (96, 64, 30)
    );
    assert_same_times(
        "clip.webm",
        &frames.timestamps,
        &ffprobe_times(&ffprobe_of(&ffmpeg), &video),
    );
}

#[test]
fn what_is_not_a_video_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"hello").unwrap();
    let err = probe_video_file(&text, MediaKind::Mp4).unwrap_err();
    assert!(matches!(err, Error::BadVideo(_)), "{err}");
    let err = probe_video_file(&text, sniff(b"hello")).unwrap_err();
    assert!(err.to_string().contains("not MP4 or WebM"), "{err}");
    let Some(ffmpeg) = ffmpeg() else { return };
    let video = dir.path().join("cut.mp4");
    run(
        &ffmpeg,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=10",
            "-t",
            "1",
            "-c:v",
            "libx264",
            video.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&video).unwrap();
    std::fs::write(&video, &bytes[..bytes.len() / 3]).unwrap();
    // A cut file errs (or indexes what is there); it never panics.
    let _ = probe_video_file(&video, MediaKind::Mp4);
}
