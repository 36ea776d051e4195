//! Speech datasets in: sound files with who spoke when (RTTM) and what was
//! said when (WebVTT, SRT, NeMo ASR manifests), the files the speech
//! exports write (see `audio.rs`).
//!
//! A dataset is a folder or zip of sound files (WAV, MP3, FLAC, Ogg, M4A);
//! each becomes a task. Annotation files are matched to sounds:
//! - `*.rttm`: each `SPEAKER` line's file id is a sound's name without its
//!   extension; its speaker becomes the segment's label;
//! - `*.vtt`, `*.srt`: the sound with the same name (in the same folder,
//!   else anywhere); each cue becomes a segment with its text as the
//!   transcript; WebVTT's voice span (`<v Alice>`) and SRT's `Alice: `
//!   prefix, when Alice is one of the labels, give its speaker;
//! - `*.json` / `*.jsonl` lines with an `audio_filepath` (NeMo manifests):
//!   `offset` and `duration` give a segment, the `text` its transcript; a
//!   line without `offset` is the whole file's transcript (into a
//!   whole-file `TextArea`, else a segment over its `duration`).
//!
//! A transcript cue at the same times as an RTTM segment (within 10 ms)
//! becomes that segment's transcript. Speakers must be labels of the
//! project's `Labels` control on the `<Audio>`; a line that breaks a rule
//! fails the import naming the file, the line and the reason.

use crate::coco::ControlRef;
use crate::files::FileSource;
use crate::model::{AnnotationRecord, FormatError, Rejection, TaskRecord};
use gloss_types::result::ResultItem;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Where a speech dataset goes in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpeechImportOptions {
    /// The data key of the `<Audio>`, e.g. `"audio"`.
    pub audio_field: String,
    /// The `Labels` control on the sound, and its label values (speakers).
    pub labels: Option<(ControlRef, Vec<String>)>,
    /// The per-region `TextArea` on the sound: segments' transcripts.
    pub transcript: Option<ControlRef>,
    /// A whole-file `TextArea` on the sound.
    pub file_transcript: Option<ControlRef>,
}

/// Sound file extensions a speech dataset's tasks are made of.
const SOUND_EXTENSIONS: &[&str] = &["wav", "mp3", "flac", "ogg", "oga", "m4a"];

/// How close (seconds) a transcript cue and a speaker segment must be to be
/// the same stretch.
const SAME_TIME: f64 = 0.01;

/// One stretch of a sound read from a file.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    start: f64,
    end: f64,
    speaker: Option<String>,
    text: Option<String>,
}

/// Reads a speech dataset: one task per sound file, its segments in one
/// annotation.
pub fn read_speech_dataset(
    source: &dyn FileSource,
    options: &SpeechImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let paths = source.paths();
    let sounds: Vec<&String> = paths
        .iter()
        .filter(|p| has_extension(p, SOUND_EXTENSIONS))
        .collect();
    if sounds.is_empty() {
        return Err(dataset_error(
            "",
            "holds no sound files (WAV, MP3, FLAC, Ogg or M4A)",
        ));
    }
    // Sounds by path and by name without extension.
    let mut by_stem: HashMap<&str, Vec<&String>> = HashMap::new();
    for sound in &sounds {
        by_stem.entry(stem(sound)).or_default().push(sound);
    }
    let mut found: BTreeMap<&String, Found> =
        sounds.iter().map(|s| (*s, Found::default())).collect();

    for path in &paths {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".rttm") {
            let text = read_text(source, path)?;
            for (line, id, segment) in
                read_rttm(&text).map_err(|reason| dataset_error(path, &reason))?
            {
                let sound = match_sound(&by_stem, &id, path).ok_or_else(|| {
                    dataset_error(
                        path,
                        &format!(
                            "line {line}: file id `{id}` is no sound file's name in the dataset"
                        ),
                    )
                })?;
                let segment = checked_speaker(segment, options, path, line)?;
                found.entry(sound).or_default().speakers.push(segment);
            }
        } else if lower.ends_with(".vtt") || lower.ends_with(".srt") {
            let text = read_text(source, path)?;
            let Some(sound) = match_sound(&by_stem, stem(path), path) else {
                return Err(dataset_error(
                    path,
                    "has no sound file of the same name in the dataset",
                ));
            };
            let speakers = options
                .labels
                .as_ref()
                .map(|(_, labels)| labels.as_slice())
                .unwrap_or(&[]);
            let cues = if lower.ends_with(".vtt") {
                read_webvtt(&text)
            } else {
                read_srt(&text, speakers)
            }
            .map_err(|reason| dataset_error(path, &reason))?;
            for (line, cue) in cues {
                let cue = checked_speaker(cue, options, path, line)?;
                found.entry(sound).or_default().cues.push(cue);
            }
        } else if lower.ends_with(".json") || lower.ends_with(".jsonl") {
            let text = read_text(source, path)?;
            let Some(rows) = read_nemo(&text).map_err(|reason| dataset_error(path, &reason))?
            else {
                continue; // Not a manifest: another JSON file of the dataset.
            };
            for (line, audio, row) in rows {
                let sound = match_nemo_sound(&sounds, &by_stem, path, &audio).ok_or_else(|| {
                    dataset_error(
                        path,
                        &format!(
                            "line {line}: audio_filepath `{audio}` is no sound file of the dataset"
                        ),
                    )
                })?;
                let entry = found.entry(sound).or_default();
                match row {
                    NemoRow::Segment(segment) => entry.cues.push(segment),
                    NemoRow::WholeFile { text, duration } => entry.file_text.push((text, duration)),
                }
            }
        }
    }

    let mut tasks = Vec::with_capacity(found.len());
    for (sound, found) in found {
        let results = found
            .results(options)
            .map_err(|reason| dataset_error(sound, &reason))?;
        let mut data = Map::new();
        data.insert(options.audio_field.clone(), Value::String(sound.clone()));
        let annotations = if results.is_empty() {
            Vec::new()
        } else {
            vec![AnnotationRecord {
                result: results,
                ..AnnotationRecord::default()
            }]
        };
        tasks.push(TaskRecord {
            data,
            annotations,
            ..TaskRecord::default()
        });
    }
    Ok((tasks, Vec::new()))
}

/// What the annotation files say of one sound.
#[derive(Debug, Default)]
struct Found {
    /// From RTTM: speakers, no text.
    speakers: Vec<Segment>,
    /// From WebVTT, SRT, NeMo: texts, perhaps speakers.
    cues: Vec<Segment>,
    /// NeMo lines without an offset: the whole file's text and duration.
    file_text: Vec<(String, Option<f64>)>,
}

impl Found {
    /// The annotation's results: speaker segments with the transcripts of
    /// cues at their times, then the other cues as segments of their own.
    fn results(mut self, options: &SpeechImportOptions) -> Result<Vec<ResultItem>, String> {
        let mut segments = std::mem::take(&mut self.speakers);
        for cue in self.cues {
            let same = segments.iter_mut().find(|s| {
                s.text.is_none()
                    && (s.start - cue.start).abs() <= SAME_TIME
                    && (s.end - cue.end).abs() <= SAME_TIME
            });
            match same {
                Some(segment) => {
                    segment.text = cue.text;
                    if segment.speaker.is_none() {
                        segment.speaker = cue.speaker;
                    }
                }
                None => segments.push(cue),
            }
        }
        let mut file_texts = Vec::new();
        for (text, duration) in self.file_text {
            match (&options.file_transcript, duration) {
                (Some(_), _) => file_texts.push(text),
                (None, Some(duration)) => segments.push(Segment { start: 0.0, end: duration, speaker: None, text: Some(text) }),
                (None, None) => {
                    return Err("a NeMo line without offset is a whole-file transcript, and the label config has no \
                         whole-file <TextArea> on the <Audio> (nor does the line give a duration)"
                        .into())
                }
            }
        }
        segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end)));

        let mut results = Vec::new();
        for (index, segment) in segments.iter().enumerate() {
            let Some((labels, _)) = &options.labels else {
                return Err("holds segments, and the label config has no <Labels> on the <Audio> to mark them with".into());
            };
            let id = format!("seg{}", index + 1);
            let times = json!({"start": round_ms(segment.start), "end": round_ms(segment.end), "channel": 0});
            let mut value = times.clone();
            value["labels"] = json!(segment.speaker.iter().collect::<Vec<_>>());
            results.push(item(&id, labels, "labels", value));
            if let Some(text) = &segment.text {
                let Some(transcript) = &options.transcript else {
                    return Err("holds transcripts of segments, and the label config has no <TextArea perRegion=\"true\"> on the <Audio>".into());
                };
                let mut value = times;
                value["text"] = json!([text]);
                results.push(item(&id, transcript, "textarea", value));
            }
        }
        if let (Some(control), false) = (&options.file_transcript, file_texts.is_empty()) {
            results.push(item(
                "transcript",
                control,
                "textarea",
                json!({"text": [file_texts.join("\n")]}),
            ));
        }
        Ok(results)
    }
}

fn item(id: &str, control: &ControlRef, type_name: &str, value: Value) -> ResultItem {
    let json = json!({"id": id, "from_name": control.from_name, "to_name": control.to_name,
                      "type": type_name, "value": value, "origin": "manual"});
    serde_json::from_value(json).expect("a result item is well formed")
}

/// Seconds to the millisecond: what the formats hold.
fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A segment whose speaker is checked against the labels.
fn checked_speaker(
    segment: Segment,
    options: &SpeechImportOptions,
    file: &str,
    line: usize,
) -> Result<Segment, FormatError> {
    let Some(speaker) = &segment.speaker else {
        return Ok(segment);
    };
    match &options.labels {
        Some((_, labels)) if labels.iter().any(|l| l == speaker) => Ok(segment),
        Some((control, _)) => Err(dataset_error(
            file,
            &format!("line {line}: speaker `{speaker}` is not a label of <Labels name=\"{}\">", control.from_name),
        )),
        None => Err(dataset_error(
            file,
            &format!("line {line}: speaker `{speaker}`, and the label config has no <Labels> on the <Audio>"),
        )),
    }
}

fn dataset_error(file: &str, reason: &str) -> FormatError {
    FormatError::Dataset {
        file: file.to_owned(),
        reason: reason.to_owned(),
    }
}

fn read_text(source: &dyn FileSource, path: &str) -> Result<String, FormatError> {
    String::from_utf8(source.read(path)?).map_err(|_| dataset_error(path, "is not UTF-8 text"))
}

fn has_extension(path: &str, extensions: &[&str]) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| extensions.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// A path's file name without its extension.
fn stem(path: &str) -> &str {
    crate::files::file_stem(path.rsplit('/').next().unwrap_or(path))
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// The sound named `name` (spaces may be `_`, as RTTM writes them): the
/// one in the folder of `near` first.
fn match_sound<'a>(
    by_stem: &HashMap<&str, Vec<&'a String>>,
    name: &str,
    near: &str,
) -> Option<&'a String> {
    let candidates = by_stem.get(name).cloned().or_else(|| {
        let wanted = name.replace('_', " ");
        by_stem
            .iter()
            .find(|(stem, _)| stem.replace('_', " ") == wanted)
            .map(|(_, c)| c.clone())
    })?;
    candidates
        .iter()
        .find(|c| folder(c) == folder(near))
        .or(candidates.first())
        .copied()
}

/// NeMo's `audio_filepath`: a path in the dataset, from the manifest's folder
/// or from the top, else a sound of the same name.
fn match_nemo_sound<'a>(
    sounds: &[&'a String],
    by_stem: &HashMap<&str, Vec<&'a String>>,
    manifest: &str,
    audio: &str,
) -> Option<&'a String> {
    let audio = audio.trim_start_matches("./");
    let beside = match folder(manifest) {
        "" => audio.to_owned(),
        dir => format!("{dir}/{audio}"),
    };
    sounds
        .iter()
        .find(|s| ***s == beside || **s == audio)
        .copied()
        .or_else(|| match_sound(by_stem, stem(audio), manifest))
}

/// RTTM `SPEAKER` lines: (line number, file id, segment).
fn read_rttm(text: &str) -> Result<Vec<(usize, String, Segment)>, String> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        if fields.is_empty() || fields[0].starts_with(";;") {
            continue;
        }
        if fields[0] != "SPEAKER" {
            continue; // SPKR-INFO, LEXEME, …: not segments.
        }
        if fields.len() < 8 {
            return Err(format!("line {line}: a SPEAKER line has 10 fields (type, file, channel, onset, duration, NA, NA, speaker, NA, NA), this one {}", fields.len()));
        }
        let number = |at: usize, name: &str| -> Result<f64, String> {
            fields[at]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "line {line}: {name} `{}` is not a number of seconds, 0 or more",
                        fields[at]
                    )
                })
        };
        let onset = number(3, "onset")?;
        let duration = number(4, "duration")?;
        out.push((
            line,
            fields[1].to_owned(),
            Segment {
                start: onset,
                end: onset + duration,
                speaker: Some(fields[7].to_owned()),
                text: None,
            },
        ));
    }
    Ok(out)
}

/// `hh:mm:ss.mmm`, `mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT) in seconds.
fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim().replace(',', ".");
    let parts: Vec<&str> = text.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (
            h.parse::<f64>().ok()?,
            m.parse::<f64>().ok()?,
            s.parse::<f64>().ok()?,
        ),
        [m, s] => (0.0, m.parse::<f64>().ok()?, s.parse::<f64>().ok()?),
        _ => return None,
    };
    let seconds = h * 3600.0 + m * 60.0 + s;
    (seconds.is_finite() && seconds >= 0.0 && m < 60.0 && s < 60.0).then_some(seconds)
}

/// A subtitle cue: its timing line's number, its times and its text lines.
struct Cue<'a> {
    line: usize,
    start: f64,
    end: f64,
    body: Vec<&'a str>,
}

/// The cues of subtitles: blocks separated by blank lines, each with a
/// `start --> end` line (settings after it ignored) and text lines.
fn read_cues(text: &str) -> Result<Vec<Cue<'_>>, String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    while at < lines.len() {
        let Some(timing) = lines[at].find("-->") else {
            at += 1;
            continue;
        };
        let line = at + 1;
        let start = parse_time(&lines[at][..timing]);
        let end = lines[at][timing + 3..]
            .split_whitespace()
            .next()
            .and_then(parse_time);
        let (Some(start), Some(end)) = (start, end) else {
            return Err(format!(
                "line {line}: `{}` is not a cue's timing (start --> end)",
                lines[at].trim()
            ));
        };
        if end < start {
            return Err(format!("line {line}: the cue ends before it starts"));
        }
        at += 1;
        let mut body = Vec::new();
        while at < lines.len() && !lines[at].trim().is_empty() {
            body.push(lines[at]);
            at += 1;
        }
        out.push(Cue {
            line,
            start,
            end,
            body,
        });
    }
    Ok(out)
}

/// WebVTT cues; a voice span `<v Name>` gives the speaker.
fn read_webvtt(text: &str) -> Result<Vec<(usize, Segment)>, String> {
    if !text.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
        return Err("line 1: a WebVTT file starts with WEBVTT".into());
    }
    Ok(read_cues(text)?
        .into_iter()
        .map(
            |Cue {
                 line,
                 start,
                 end,
                 body,
             }| {
                let mut speaker = None;
                let text = body
                    .iter()
                    .map(|l| {
                        let mut l = l.to_string();
                        if let Some(rest) = l.strip_prefix("<v ").or_else(|| l.strip_prefix("<v\t"))
                        {
                            if let Some((name, after)) = rest.split_once('>') {
                                speaker = Some(name.trim().to_owned());
                                l = after.trim_end_matches("</v>").to_owned();
                            }
                        }
                        // Tags out, entities back.
                        strip_tags(&l)
                            .replace("&lt;", "<")
                            .replace("&gt;", ">")
                            .replace("&amp;", "&")
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                (
                    line,
                    Segment {
                        start,
                        end,
                        speaker,
                        text: Some(text),
                    },
                )
            },
        )
        .collect())
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// SRT cues; a first line `Name: …` gives the speaker when Name is one of `speakers`.
fn read_srt(text: &str, speakers: &[String]) -> Result<Vec<(usize, Segment)>, String> {
    Ok(read_cues(text.trim_start_matches('\u{feff}'))?
        .into_iter()
        .map(
            |Cue {
                 line,
                 start,
                 end,
                 body,
             }| {
                let mut text = body.join("\n");
                let mut speaker = None;
                if let Some((name, rest)) = text.split_once(": ") {
                    if speakers.iter().any(|s| s == name) {
                        speaker = Some(name.to_owned());
                        text = rest.to_owned();
                    }
                }
                (
                    line,
                    Segment {
                        start,
                        end,
                        speaker,
                        text: Some(text),
                    },
                )
            },
        )
        .collect())
}

/// One NeMo manifest line.
enum NemoRow {
    Segment(Segment),
    WholeFile { text: String, duration: Option<f64> },
}

/// A NeMo manifest line: its number, its `audio_filepath` and what it says.
type NemoLine = (usize, String, NemoRow);

/// A NeMo manifest's lines; `None` when the file is not a manifest (its
/// first line has no `audio_filepath`).
fn read_nemo(text: &str) -> Result<Option<Vec<NemoLine>>, String> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let Ok(Value::Object(row)) = serde_json::from_str::<Value>(raw) else {
            if out.is_empty() {
                return Ok(None);
            }
            return Err(format!("line {line}: not a JSON object"));
        };
        let Some(audio) = row.get("audio_filepath").and_then(Value::as_str) else {
            if out.is_empty() {
                return Ok(None);
            }
            return Err(format!("line {line}: no audio_filepath"));
        };
        let seconds = |key: &str| -> Result<Option<f64>, String> {
            match row.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_f64()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(Some)
                    .ok_or_else(|| {
                        format!("line {line}: {key} is not a number of seconds, 0 or more")
                    }),
            }
        };
        let text = row
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let duration = seconds("duration")?;
        let parsed = match seconds("offset")? {
            Some(offset) => {
                let Some(duration) = duration else {
                    return Err(format!(
                        "line {line}: a segment (offset) needs its duration"
                    ));
                };
                NemoRow::Segment(Segment {
                    start: offset,
                    end: offset + duration,
                    speaker: None,
                    text: Some(text),
                })
            }
            None => NemoRow::WholeFile { text, duration },
        };
        out.push((line, audio.to_owned(), parsed));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_both_subtitle_spellings() {
        assert_eq!(parse_time("00:01:02.500"), Some(62.5));
        assert_eq!(parse_time("01:02,250"), Some(62.25));
        assert_eq!(parse_time("1:00:00,000"), Some(3600.0));
        assert_eq!(parse_time("00:61:00.000"), None);
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn rttm_lines_are_checked_one_by_one() {
        let rows = read_rttm(";; a comment\nSPKR-INFO x 1 <NA> <NA> <NA> unknown A <NA> <NA>\nSPEAKER call 1 0.5 1.25 <NA> <NA> A <NA> <NA>\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 3);
        assert_eq!((rows[0].2.start, rows[0].2.end), (0.5, 1.75));
        let err = read_rttm("SPEAKER call 1 zero 1.0 <NA> <NA> A <NA> <NA>\n").unwrap_err();
        assert!(
            err.contains("line 1") && err.contains("onset `zero`"),
            "{err}"
        );
        let err = read_rttm("SPEAKER call 1 0.5\n").unwrap_err();
        assert!(err.contains("10 fields"), "{err}");
    }
}
