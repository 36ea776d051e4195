//! Task files in and out: JSON, JSONL, CSV, Label Studio exports, COCO,
//! YOLO, Pascal VOC, CVAT for images, segmentation PNGs, CoNLL-2003, spaCy
//! `DocBin`s, speech, LLM feedback and video tracks.
//!
//! This crate owns the file formats of tasks and annotations: reading
//! import files into [`TaskRecord`]s (with a [`Rejection`] naming the row,
//! field and reason for each unacceptable row, and a [`FormatError`] when
//! the file as a whole is unusable), writing Label Studio, COCO, YOLO, VOC
//! and CVAT exports from [`ExportTask`]s, and the deterministic
//! train/validation/test [`split_of`] a task.
//!
//! It must not touch anything beyond the bytes it is given: no database, no
//! HTTP, no async runtime, no media storage, no file names on disk. Readers
//! take `std::io::Read`, writers take `std::io::Write` (the COCO writer also
//! a spool file the caller creates), datasets of many files (YOLO, VOC) go
//! through a [`FileSink`] or come from a [`FileSource`], and everything else
//! is a pure function, so the engine decides where bytes come from and go
//! to, and what a project's label config allows (that is `gloss-schema`'s
//! job).

mod audio;
mod chat;
mod coco;
mod coco_writer;
mod conll;
mod contour;
mod cvat;
mod files;
mod llm;
mod llm_read;
mod mask_png;
mod mask_png_read;
mod model;
mod msgpack;
mod raster;
mod read;
mod shapes;
mod spacy;
mod spacy_symbols;
mod speech_read;
mod split;
mod task;
mod timestamp;
mod video_read;
mod video_tracks;
mod voc;
mod write;
mod xml;
mod yolo;
mod yolo_read;

pub use audio::{
    speech_segments, AudioExportOptions, AudioFormat, AudioSummary, AudioWriter, SpeechSegment,
};
pub use chat::{ChatOptions, ChatSummary, ChatWriter};
pub use coco::{read_coco, CocoImportOptions, ControlRef, KeypointControl};
pub use coco_writer::{CocoSummary, CocoWriter, ExportCategory, KeypointCategory};
pub use conll::{
    read_conll, tokenize, ConllImportOptions, ConllOptions, ConllSummary, ConllWriter, Token,
};
pub use cvat::{
    read_cvat_images, CvatAttribute, CvatAttributeControl, CvatAttributeKind, CvatImageWriter,
    CvatImportOptions, CvatLabels, CvatSummary, CVAT_RESULT_TYPES, MAX_CVAT_XML_BYTES,
};
pub use files::{file_stem, is_safe_relative_path, FileSink, FileSource, MemoryFiles};
pub use llm::{LlmFormat, LlmOptions, LlmSummary, LlmWriter, Responses, RewriteTarget};
pub use llm_read::{
    read_chats, read_preference, read_ranking, ChatImportOptions, ImportControl, LlmImportOptions,
};
pub use mask_png::{MaskPngSummary, MaskPngWriter, MAX_SEGMENTATION_PIXELS};
pub use mask_png_read::{read_mask_png, MaskPngImportOptions};
pub use model::{
    json_kind, AnnotationRecord, DraftRecord, FormatError, PredictionRecord, Rejection, TaskRecord,
};
pub use read::{detect, read_tasks, InputFormat, TaskSink, DETECT_HEAD_LEN};
pub use spacy::{
    murmurhash64a, read_spacy, spacy_hash, SpacyChoices, SpacyImportOptions, SpacyOptions,
    SpacySummary, SpacyWriter, MAX_SPACY_BYTES,
};
pub use speech_read::{read_speech_dataset, SpeechImportOptions};
pub use split::{split_of, Split, SplitRatios};
pub use timestamp::{timestamp_text, DateTimeText};
pub use video_read::{
    is_video_path, natural_order, read_video_dataset, VideoImportOptions, KEYFRAME_TOLERANCE_PX,
    MAX_MOT_ROWS, MAX_SEQUENCE_FRAMES,
};
pub use video_tracks::{TrackFormat, TrackSummary, TrackWriter};
pub use voc::{
    read_voc, VocCoordinates, VocImportOptions, VocSummary, VocWriter, MAX_MASK_INSTANCES,
    MAX_MASK_PIXELS, MAX_OBJECTS_PER_IMAGE, MAX_VOC_XML_BYTES, VOC_RESULT_TYPES,
};
pub use write::{
    ExportAnnotation, ExportPrediction, ExportTask, ImageInfo, LabelStudioWriter, StoredResult,
    VideoInfo,
};
pub use yolo::{YoloClasses, YoloSummary, YoloTask, YoloWriter, MIN_SEGMENT_PIXELS};
pub use yolo_read::{parse_data_yaml, read_yolo, DataYaml, YoloImportOptions, MAX_LABEL_FILE};
