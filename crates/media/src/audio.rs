//! Waveform peaks of a sound file: the lowest and highest sample of every
//! hundredth of a second, all channels mixed, decoded on the server with the
//! pure-Rust `symphonia` (WAV, MP3, FLAC, Ogg Vorbis), so a browser can draw
//! an hour of sound without downloading and decoding it first.
//!
//! Peaks are `i16` pairs (`min`, `max`, as 16-bit samples, -32767..=32767): an hour is 720,000 numbers, 1.4 MB. [`AudioPeaks::to_bytes`]
//! and [`AudioPeaks::from_bytes`] give a compact form to cache them in.

use crate::{Error, MediaKind, Result};
use std::path::Path;
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::{i24, Sample};

/// Peaks in one second of sound.
pub const PEAKS_PER_SECOND: u32 = 100;

/// The longest sound whose peaks are computed: 24 hours.
pub const MAX_AUDIO_SECONDS: f64 = 24.0 * 3600.0;

/// A sound's waveform at [`PEAKS_PER_SECOND`].
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPeaks {
    /// Samples per second of the file.
    pub sample_rate: u32,
    /// Channels of the file (the peaks mix them all).
    pub channels: u16,
    /// Length in seconds: the samples decoded over the sample rate.
    pub duration: f64,
    /// Peaks in one second ([`PEAKS_PER_SECOND`]).
    pub peaks_per_second: u32,
    /// `min, max` of each peak's samples, in order.
    pub peaks: Vec<i16>,
}

/// First bytes of [`AudioPeaks::to_bytes`]; the digit is the layout's version.
const MAGIC: &[u8; 8] = b"GLOSSPK1";
const HEADER_LEN: usize = 8 + 4 + 2 + 8 + 4;

impl AudioPeaks {
    /// The peaks in a compact binary form: a header, then the `i16` pairs
    /// in little-endian order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.peaks.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&self.channels.to_le_bytes());
        out.extend_from_slice(&self.duration.to_le_bytes());
        out.extend_from_slice(&self.peaks_per_second.to_le_bytes());
        for peak in &self.peaks {
            out.extend_from_slice(&peak.to_le_bytes());
        }
        out
    }

    /// Reads what [`AudioPeaks::to_bytes`] wrote; `None` for anything else
    /// (an older layout, a cut file), so that the caller computes them again.
    pub fn from_bytes(bytes: &[u8]) -> Option<AudioPeaks> {
        if bytes.len() < HEADER_LEN
            || &bytes[..8] != MAGIC
            || !(bytes.len() - HEADER_LEN).is_multiple_of(4)
        {
            return None;
        }
        let sample_rate = u32::from_le_bytes(bytes[8..12].try_into().ok()?);
        let channels = u16::from_le_bytes(bytes[12..14].try_into().ok()?);
        let duration = f64::from_le_bytes(bytes[14..22].try_into().ok()?);
        let peaks_per_second = u32::from_le_bytes(bytes[22..26].try_into().ok()?);
        let peaks = bytes[HEADER_LEN..]
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        Some(AudioPeaks {
            sample_rate,
            channels,
            duration,
            peaks_per_second,
            peaks,
        })
    }
}

fn bad(err: impl std::fmt::Display) -> Error {
    Error::BadAudio(err.to_string())
}

/// Decodes the sound file at `path`, whose content is `kind`, into its peaks.
///
/// An MP3 longer than ten minutes is decoded in two halves on two threads
/// when there are two cores: MP3 decoding is most of the time, and an
/// MP3's second half decodes the same after a second's run-in from a seek.
pub fn audio_peaks_file(path: &Path, kind: MediaKind) -> Result<AudioPeaks> {
    let opened = Opened::open(path, kind)?;
    let rate = u64::from(opened.sample_rate);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let long = opened.total_frames.filter(|&frames| frames > 600 * rate);
    if let (MediaKind::Mp3, true, Some(total)) = (kind, cores >= 2, long) {
        let half = total * u64::from(PEAKS_PER_SECOND) / rate / 2;
        if let Some(peaks) = in_halves(opened, path, kind, half)? {
            return peaks.finish();
        }
        // The halves did not meet exactly: the file in one go.
        return Opened::open(path, kind)?.decode(0, None)?.finish();
    }
    opened.decode(0, None)?.finish()
}

/// The peaks of a file decoded in two halves at once, the second from peak
/// `half` on; `None` when the halves do not meet exactly.
fn in_halves(opened: Opened, path: &Path, kind: MediaKind, half: u64) -> Result<Option<Peaks>> {
    let split = Peaks::start_of(half, opened.sample_rate);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| Opened::open(path, kind)?.decode(half, None));
        (opened.decode(0, Some(split)), second.join())
    });
    let mut first = first?;
    let second = second.map_err(|_| bad("decoding the second half stopped"))??;
    if first.frames != split || second.first_peak != half || first.out.len() as u64 != 2 * half {
        return Ok(None);
    }
    first.out.extend_from_slice(&second.out);
    first.frames = second.frames;
    first.min = second.min;
    first.max = second.max;
    first.peak_end = second.peak_end;
    first.channels = second.channels;
    Ok(Some(first))
}

/// A sound file opened for decoding.
struct Opened {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    sample_rate: u32,
    /// Frames in the file, when the container says.
    total_frames: Option<u64>,
}

impl Opened {
    fn open(path: &Path, kind: MediaKind) -> Result<Opened> {
        let file = std::fs::File::open(path).map_err(|err| Error::Source(err.to_string()))?;
        let stream = MediaSourceStream::new(
            Box::new(file),
            MediaSourceStreamOptions {
                buffer_len: 1 << 20,
            },
        );
        let mut hint = Hint::new();
        if kind.is_audio() {
            hint.with_extension(kind.extension());
        } else {
            return Err(bad(format!(
                "the content is {}, not a sound file",
                kind.content_type()
            )));
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                stream,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(bad)?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| bad("the file has no sound track"))?;
        let track_id = track.id;
        let params = track.codec_params.clone();
        let sample_rate = params
            .sample_rate
            .filter(|&rate| rate > 0)
            .ok_or_else(|| bad("the sound track does not give its sample rate"))?;
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(bad)?;
        Ok(Opened {
            format,
            decoder,
            track_id,
            sample_rate,
            total_frames: params.n_frames,
        })
    }

    /// The peaks from peak `first_peak` on, up to frame `until` (the end of
    /// the file without one). A later start is reached by a seek a second
    /// before it; what the decoder gives before the start is left out.
    fn decode(mut self, first_peak: u64, until: Option<u64>) -> Result<Peaks> {
        use symphonia::core::formats::{SeekMode, SeekTo};
        let rate = self.sample_rate;
        let from = Peaks::start_of(first_peak, rate);
        let mut peaks = Peaks::starting_at(first_peak, rate);
        // Where the next packet starts, counted from the start of the file.
        let mut position = 0;
        if from > 0 {
            let seeked = self
                .format
                .seek(
                    SeekMode::Accurate,
                    SeekTo::TimeStamp {
                        ts: from.saturating_sub(u64::from(rate)),
                        track_id: self.track_id,
                    },
                )
                .map_err(bad)?;
            self.decoder.reset();
            position = seeked.actual_ts;
        }
        let max_frames = (MAX_AUDIO_SECONDS * f64::from(rate)) as u64;
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(DecodeError::IoError(err))
                    if err.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    break
                }
                Err(DecodeError::ResetRequired) => break,
                Err(err) => return Err(bad(err)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            // After a seek a packet starts at its timestamp; from the start
            // of the file, after the frames decoded so far.
            let start = if from > 0 { packet.ts() } else { position };
            if until.is_some_and(|until| start >= until) {
                break;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                // A damaged packet is skipped, as players do.
                Err(DecodeError::DecodeError(_)) => continue,
                Err(err) => return Err(bad(err)),
            };
            peaks.channels = decoded.spec().channels.count() as u16;
            let frames = decoded.frames() as u64;
            position = start + frames;
            let skip = from.saturating_sub(start).min(frames);
            let end = until.map_or(frames, |until| until.saturating_sub(start).min(frames));
            peaks.add_buffer(decoded, skip as usize, end.saturating_sub(skip) as usize);
            if peaks.frames > max_frames {
                return Err(bad(format!(
                    "the sound is longer than {} hours",
                    MAX_AUDIO_SECONDS / 3600.0
                )));
            }
        }
        Ok(peaks)
    }
}

/// Peaks being gathered, frame by frame.
struct Peaks {
    sample_rate: u32,
    /// The index of the first peak gathered here (not 0 for a second half).
    first_peak: u64,
    /// Channels of the sound, as the decoder last said.
    channels: u16,
    /// Frames (one sample of every channel) seen so far.
    frames: u64,
    /// The frame at which the current peak ends.
    peak_end: u64,
    min: f32,
    max: f32,
    out: Vec<i16>,
}

impl Peaks {
    /// Peaks from peak `first_peak` on (frame `start_of(first_peak)`).
    fn starting_at(first_peak: u64, sample_rate: u32) -> Peaks {
        Peaks {
            sample_rate,
            first_peak,
            channels: 0,
            frames: Peaks::start_of(first_peak, sample_rate),
            peak_end: Peaks::start_of(first_peak + 1, sample_rate),
            min: 0.0,
            max: 0.0,
            out: Vec::new(),
        }
    }

    /// The first frame of peak `index`: peaks split the second evenly even
    /// when the sample rate is not a multiple of [`PEAKS_PER_SECOND`].
    fn start_of(index: u64, sample_rate: u32) -> u64 {
        (index * u64::from(sample_rate)).div_ceil(u64::from(PEAKS_PER_SECOND))
    }

    /// Adds a decoded buffer, in the decoder's own sample format: the
    /// lowest and highest sample are found in that format, channel plane by
    /// channel plane, and only they are scaled (no copy of the samples).
    /// (`take` frames after the first `skip`.)
    fn add_buffer(&mut self, decoded: AudioBufferRef, skip: usize, take: usize) {
        let w = skip..skip + take;
        match decoded {
            AudioBufferRef::F32(b) => self.add_planes(&b, w, |s| s),
            AudioBufferRef::S16(b) => self.add_planes(&b, w, |s| f32::from(s) / 32768.0),
            AudioBufferRef::S32(b) => self.add_planes(&b, w, |s| s as f32 / 2_147_483_648.0),
            AudioBufferRef::S24(b) => {
                self.add_planes(&b, w, |s: i24| s.inner() as f32 / 8_388_608.0)
            }
            AudioBufferRef::U8(b) => self.add_planes(&b, w, |s| (f32::from(s) - 128.0) / 128.0),
            AudioBufferRef::F64(b) => self.add_planes(&b, w, |s| s as f32),
            other => {
                // The rarer formats (8-bit signed, unsigned 16 to 32 bits): as floats.
                let mut floats = other.make_equivalent::<f32>();
                other.convert(&mut floats);
                self.add_planes(&floats, w, |s| s);
            }
        }
    }

    /// Adds a planar buffer whose samples `scale` turns into -1.0..=1.0.
    fn add_planes<S: Sample + PartialOrd>(
        &mut self,
        buffer: &AudioBuffer<S>,
        window: std::ops::Range<usize>,
        scale: impl Fn(S) -> f32,
    ) {
        let frames = window.end.min(buffer.frames());
        let planes = buffer.planes();
        let planes = planes.planes();
        let mut at = window.start;
        while at < frames {
            let take = ((self.peak_end - self.frames) as usize).min(frames - at);
            for plane in planes {
                let part = &plane[at..at + take];
                let Some(&first) = part.first() else { continue };
                let (lo, hi) = part.iter().fold((first, first), |(lo, hi), &s| {
                    (if s < lo { s } else { lo }, if s > hi { s } else { hi })
                });
                self.min = self.min.min(scale(lo));
                self.max = self.max.max(scale(hi));
            }
            at += take;
            self.frames += take as u64;
            if self.frames == self.peak_end {
                self.push();
            }
        }
    }

    fn push(&mut self) {
        // ×32768 gives a 16-bit file's own sample values back.
        let scale = |v: f32| (v * 32768.0).round().clamp(-32767.0, 32767.0) as i16;
        self.out.push(scale(self.min));
        self.out.push(scale(self.max));
        self.min = 0.0;
        self.max = 0.0;
        let next = self.first_peak + self.out.len() as u64 / 2 + 1;
        self.peak_end = Peaks::start_of(next, self.sample_rate);
    }

    /// The peaks gathered, with the channels the decoder gave.
    fn finish(mut self) -> Result<AudioPeaks> {
        if self.frames == 0 {
            return Err(bad("the file holds no sound"));
        }
        let last_start = Peaks::start_of(
            self.first_peak + self.out.len() as u64 / 2,
            self.sample_rate,
        );
        if self.frames > last_start {
            self.push();
        }
        Ok(AudioPeaks {
            sample_rate: self.sample_rate,
            channels: self.channels,
            duration: self.frames as f64 / f64::from(self.sample_rate),
            peaks_per_second: PEAKS_PER_SECOND,
            peaks: self.out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A 16-bit PCM WAV file of `samples` (interleaved) at `rate`.
    pub(crate) fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    fn peaks_of(bytes: &[u8], kind: MediaKind) -> Result<AudioPeaks> {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(bytes).expect("writes");
        audio_peaks_file(file.path(), kind)
    }

    #[test]
    fn peaks_follow_the_loud_and_quiet_parts() {
        // 8 kHz stereo, 0.25 s: silence, then a full-scale square wave on
        // the left channel only from 0.1 s, then a half-scale one on the right.
        let rate = 8000;
        let mut samples = Vec::new();
        for frame in 0..2000u32 {
            let sign = if frame % 2 == 0 { 1 } else { -1 };
            let (left, right) = match frame {
                0..800 => (0, 0),
                800..1600 => (sign * 32767, 0),
                _ => (0, sign * 16384),
            };
            samples.push(left as i16);
            samples.push(right as i16);
        }
        let peaks = peaks_of(&wav(rate, 2, &samples), MediaKind::Wav).expect("decodes");
        assert_eq!((peaks.sample_rate, peaks.channels), (8000, 2));
        assert!((peaks.duration - 0.25).abs() < 1e-9, "{}", peaks.duration);
        assert_eq!(peaks.peaks.len(), 25 * 2);
        let pair = |i: usize| (peaks.peaks[2 * i], peaks.peaks[2 * i + 1]);
        assert_eq!(pair(0), (0, 0));
        assert_eq!(pair(9), (0, 0));
        assert_eq!(pair(10), (-32767, 32767));
        assert_eq!(pair(15), (-32767, 32767));
        let (lo, hi) = pair(20);
        assert!(
            (lo + 16384).abs() <= 1 && (hi - 16384).abs() <= 1,
            "{lo} {hi}"
        );
        // The compact form reads back the same.
        assert_eq!(
            AudioPeaks::from_bytes(&peaks.to_bytes()),
            Some(peaks.clone())
        );
        assert_eq!(AudioPeaks::from_bytes(&peaks.to_bytes()[..29]), None);
    }

    #[test]
    fn rates_that_do_not_divide_evenly_still_cover_every_frame() {
        // 44.1 kHz mono, 1.005 s: 100.5 peaks, the last one half long.
        let frames = 44_100 + 220;
        let peaks =
            peaks_of(&wav(44_100, 1, &vec![1000; frames]), MediaKind::Wav).expect("decodes");
        assert_eq!(peaks.peaks.len(), 101 * 2);
        assert!(
            peaks.peaks.chunks(2).all(|p| p == [0, 1000]),
            "{:?}",
            &peaks.peaks[..6]
        );
    }

    #[test]
    fn a_long_mp3_decoded_in_two_halves_gives_the_peaks_of_one_go() {
        // Eleven minutes of noise that gets louder, made by ffmpeg when present.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.mp3");
        let made = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
            .arg("anoisesrc=d=660:c=pink:r=16000:a=0.5,volume='t/660':eval=frame")
            .args(["-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k"])
            .arg(&path)
            .status()
            .is_ok_and(|status| status.success());
        if !made {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but ffmpeg did not run"
            );
            eprintln!("note: no ffmpeg, so the two halves of an MP3 are not tested here");
            return;
        }
        // The file says its length, so that it is split (see audio_peaks_file).
        let length = Opened::open(&path, MediaKind::Mp3).unwrap().total_frames;
        assert!(
            length.is_some_and(|frames| frames > 600 * 16_000),
            "{length:?}"
        );
        let whole = Opened::open(&path, MediaKind::Mp3)
            .and_then(|o| o.decode(0, None))
            .and_then(Peaks::finish)
            .expect("decodes in one go");
        let opened = Opened::open(&path, MediaKind::Mp3).unwrap();
        let half = opened.total_frames.unwrap() * u64::from(PEAKS_PER_SECOND) / 16_000 / 2;
        let halves = in_halves(opened, &path, MediaKind::Mp3, half)
            .expect("decodes")
            .expect("the halves meet")
            .finish()
            .unwrap();
        assert_eq!(audio_peaks_file(&path, MediaKind::Mp3).unwrap(), halves);
        assert_eq!(
            (halves.duration, halves.sample_rate),
            (whole.duration, whole.sample_rate)
        );
        assert_eq!(halves.peaks.len(), whole.peaks.len());
        let differing = halves
            .peaks
            .iter()
            .zip(&whole.peaks)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing,
            0,
            "{differing} of {} peaks differ",
            whole.peaks.len()
        );
    }

    #[test]
    fn what_is_not_sound_is_refused_with_the_reason() {
        let err = peaks_of(b"RIFF\x04\x00\x00\x00WAVE", MediaKind::Wav).expect_err("no sound");
        assert!(matches!(err, Error::BadAudio(_)), "{err}");
        let err = peaks_of(b"\x89PNG", MediaKind::Png).expect_err("an image");
        assert!(err.to_string().contains("not a sound file"), "{err}");
    }
}
