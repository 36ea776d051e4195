//! Speech exports: who spoke when (RTTM), what was said when (WebVTT, SRT),
//! and NeMo ASR manifests, from the segments of a `Labels` control on an
//! `<Audio>` and the transcripts of a per-region `TextArea`.
//!
//! Each task's first annotation that was not cancelled is written. A task's
//! file id (RTTM's second field, the subtitle file's name) is its sound's
//! file name without its extension, made unique within the export; spaces
//! become `_`, since RTTM fields are separated by spaces.
//!
//! - `rttm`: `SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`
//!   per labelled segment, times in seconds with 3 decimals; segments
//!   without a label are left out and counted.
//! - `webvtt` / `srt`: one file per task, cues in time order: a segment's
//!   transcript (segments without one are left out and counted); WebVTT
//!   gives the speaker as a voice span (`<v Speaker 1>`), SRT as a
//!   `Speaker 1: ` prefix.
//! - `nemo-asr`: one JSON line per transcribed segment, `{"audio_filepath",
//!   "offset", "duration", "text"}` (NeMo reads `offset` as the start of the
//!   stretch to use), plus one line without `offset` for the whole file's
//!   transcript when the config has a whole-file `TextArea` on the sound.

use crate::files::FileSink;
use crate::write::ExportTask;
use gloss_types::result::{ResultItem, ResultValue};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

/// Which speech format an [`AudioWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Rttm,
    WebVtt,
    Srt,
    NemoAsr,
}

/// Where a speech export finds what it writes in a project's config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudioExportOptions {
    /// The task data key of the `<Audio>`.
    pub audio_field: String,
    /// The `<Audio>`'s name (results' `to_name`).
    pub audio_object: String,
    /// The `Labels` control whose segments are written (speakers).
    pub labels_control: Option<String>,
    /// The per-region `TextArea` holding each segment's transcript.
    pub transcript_control: Option<String>,
    /// A whole-file `TextArea` on the sound (NeMo's whole-file line).
    pub file_transcript_control: Option<String>,
}

/// What a speech export wrote and left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioSummary {
    /// Tasks written.
    pub files: u64,
    /// Segments written.
    pub segments: u64,
    /// Tasks without a sound or without an annotation.
    pub skipped_tasks: u64,
    /// Segments left out because the format needs what they lack: a label
    /// (RTTM) or a transcript (WebVTT, SRT, NeMo).
    pub left_out: u64,
}

/// A stretch of a sound as the formats see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSegment {
    /// Seconds from the start of the file.
    pub start: f64,
    /// Seconds from the start of the file.
    pub end: f64,
    /// The segment's first label: its speaker or class.
    pub speaker: Option<String>,
    /// The segment's transcript.
    pub text: Option<String>,
}

/// Writes a speech export task by task.
pub struct AudioWriter<W: Write> {
    out: W,
    format: AudioFormat,
    options: AudioExportOptions,
    summary: AudioSummary,
    /// File ids given so far, to keep them unique.
    ids: HashSet<String>,
}

impl<W: Write> AudioWriter<W> {
    /// RTTM and NeMo write to `out`; WebVTT and SRT write a file per task
    /// to the sink given to [`AudioWriter::write_task`] (and nothing to `out`).
    pub fn new(out: W, format: AudioFormat, options: AudioExportOptions) -> Self {
        AudioWriter {
            out,
            format,
            options,
            summary: AudioSummary::default(),
            ids: HashSet::new(),
        }
    }

    /// Writes one task's segments, named by its sound's file name as
    /// imported (`audio_name`), else by its URL.
    /// Subtitle files go in `folder` (a split's) when given.
    pub fn write_task(
        &mut self,
        task: &ExportTask,
        folder: Option<&str>,
        files: &mut dyn FileSink,
    ) -> io::Result<()> {
        let media_name = task.audio_name.as_deref();
        let Some(source) = task
            .data
            .get(&self.options.audio_field)
            .and_then(Value::as_str)
        else {
            self.summary.skipped_tasks += 1;
            return Ok(());
        };
        let Some(annotation) = task.annotations.iter().find(|a| !a.record.was_cancelled) else {
            self.summary.skipped_tasks += 1;
            return Ok(());
        };
        let result = &annotation.record.result;
        let segments = speech_segments(result, &self.options);
        let id = self.file_id(media_name.unwrap_or(source), task.id);
        self.summary.files += 1;
        match self.format {
            AudioFormat::Rttm => {
                let mut lines = String::new();
                for s in &segments {
                    let Some(speaker) = &s.speaker else {
                        self.summary.left_out += 1;
                        continue;
                    };
                    lines.push_str(&format!(
                        "SPEAKER {id} 1 {:.3} {:.3} <NA> <NA> {} <NA> <NA>\n",
                        s.start,
                        s.end - s.start,
                        rttm_field(speaker)
                    ));
                    self.summary.segments += 1;
                }
                self.out.write_all(lines.as_bytes())
            }
            AudioFormat::WebVtt | AudioFormat::Srt => {
                let (text, extension) = if self.format == AudioFormat::WebVtt {
                    (self.subtitles(&segments, true), "vtt")
                } else {
                    (self.subtitles(&segments, false), "srt")
                };
                let path = match folder {
                    Some(folder) => format!("{folder}/{id}.{extension}"),
                    None => format!("{id}.{extension}"),
                };
                files.put(&path, text.as_bytes())
            }
            AudioFormat::NemoAsr => {
                let mut lines = String::new();
                for s in &segments {
                    let Some(text) = &s.text else {
                        self.summary.left_out += 1;
                        continue;
                    };
                    let line = json!({
                        "audio_filepath": media_name.unwrap_or(source),
                        "offset": round3(s.start),
                        "duration": round3(s.end - s.start),
                        "text": text,
                    });
                    lines.push_str(&line.to_string());
                    lines.push('\n');
                    self.summary.segments += 1;
                }
                if let Some(text) = self
                    .options
                    .file_transcript_control
                    .as_deref()
                    .and_then(|control| file_transcript(result, control))
                {
                    let mut line =
                        json!({"audio_filepath": media_name.unwrap_or(source), "text": text});
                    if let Some(end) = segments.iter().map(|s| s.end).reduce(f64::max) {
                        // NeMo wants a duration; without the file's, the last segment's end.
                        line["duration"] = json!(round3(end));
                    }
                    lines.push_str(&line.to_string());
                    lines.push('\n');
                }
                self.out.write_all(lines.as_bytes())
            }
        }
    }

    /// The cues of a WebVTT (`vtt`) or SRT file.
    fn subtitles(&mut self, segments: &[SpeechSegment], vtt: bool) -> String {
        let mut out = String::new();
        if vtt {
            out.push_str("WEBVTT\n\n");
        }
        let mut number = 0;
        for s in segments {
            let Some(text) = s.text.as_deref().filter(|t| !t.trim().is_empty()) else {
                self.summary.left_out += 1;
                continue;
            };
            number += 1;
            self.summary.segments += 1;
            // A blank line ends a cue; "-->" starts a timing line.
            let text = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| line.replace("-->", "->"))
                .collect::<Vec<_>>()
                .join("\n");
            if vtt {
                let text = text.replace('&', "&amp;").replace('<', "&lt;");
                out.push_str(&format!(
                    "{number}\n{} --> {}\n",
                    timestamp(s.start, '.'),
                    timestamp(s.end, '.')
                ));
                match &s.speaker {
                    Some(speaker) => out.push_str(&format!(
                        "<v {}>{text}\n\n",
                        speaker.replace(['<', '>', '&'], "")
                    )),
                    None => out.push_str(&format!("{text}\n\n")),
                }
            } else {
                out.push_str(&format!(
                    "{number}\n{} --> {}\n",
                    timestamp(s.start, ','),
                    timestamp(s.end, ',')
                ));
                match &s.speaker {
                    Some(speaker) => out.push_str(&format!("{speaker}: {text}\n\n")),
                    None => out.push_str(&format!("{text}\n\n")),
                }
            }
        }
        out
    }

    /// A unique file id from a file name or URL: its last path part without
    /// the extension, spaces as `_`.
    fn file_id(&mut self, name: &str, task: i64) -> String {
        let last = name
            .split(['?', '#'])
            .next()
            .unwrap_or(name)
            .rsplit('/')
            .next()
            .unwrap_or(name);
        let mut id = rttm_field(crate::files::file_stem(last));
        // A stored sound's URL ends in its content hash: the task id reads better.
        if id.is_empty() || (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
            id = format!("task-{task}");
        }
        if !self.ids.insert(id.clone()) {
            id = format!("{id}-task-{task}");
            self.ids.insert(id.clone());
        }
        id
    }

    /// Ends the export: the writer and what it wrote.
    pub fn finish(mut self) -> io::Result<(W, AudioSummary)> {
        self.out.flush()?;
        Ok((self.out, self.summary))
    }
}

/// The segments of the sound in an annotation's results, in time order, with
/// their first label and transcript.
pub fn speech_segments(result: &[ResultItem], options: &AudioExportOptions) -> Vec<SpeechSegment> {
    let mut texts: HashMap<&str, String> = HashMap::new();
    if let Some(control) = &options.transcript_control {
        for item in result.iter().filter(|r| &r.from_name == control) {
            if let (Some(id), ResultValue::TextArea(v)) = (&item.id, &item.value) {
                texts.insert(id.as_str(), v.text.join("\n"));
            }
        }
    }
    let mut segments: Vec<SpeechSegment> = result
        .iter()
        .filter(|r| r.to_name == options.audio_object)
        .filter(|r| {
            options
                .labels_control
                .as_ref()
                .is_none_or(|c| &r.from_name == c)
        })
        .filter_map(|r| {
            let (start, end, labels) = r.value.audio_segment()?;
            Some(SpeechSegment {
                start,
                end,
                speaker: labels.first().cloned(),
                text: r.id.as_deref().and_then(|id| texts.get(id)).cloned(),
            })
        })
        .filter(|s| s.start.is_finite() && s.end.is_finite() && s.end >= s.start)
        .collect();
    segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end)));
    segments
}

/// The whole-file transcript a `TextArea` control gave, if any.
fn file_transcript(result: &[ResultItem], control: &str) -> Option<String> {
    result.iter().find_map(|r| match &r.value {
        ResultValue::TextArea(v) if r.from_name == control && !v.text.is_empty() => {
            Some(v.text.join("\n"))
        }
        _ => None,
    })
}

/// A value fit for one RTTM field: no whitespace.
fn rttm_field(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join("_")
}

fn round3(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// `hh:mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT).
fn timestamp(seconds: f64, separator: char) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}
