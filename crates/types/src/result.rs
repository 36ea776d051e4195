//! Label Studio annotation results as typed Rust values.
//!
//! One [`ResultItem`] is one entry of a Label Studio annotation's `result`
//! array. The typed fields cover what Gloss checks and renders; everything
//! else is kept verbatim in `extra` maps so that importing and exporting a
//! Label Studio annotation gives back the same JSON.
//!
//! Two rules keep round trips lossless:
//! - a result whose `type` is unknown, or whose `value` does not have the
//!   shape its `type` promises, becomes [`ResultValue::Other`] and is written
//!   back exactly as it came, so one odd result never fails a whole annotation;
//! - numbers are `f64`, and a whole number is written back without a fraction
//!   (`0`, not `0.0`), which is what the Label Studio frontend's
//!   `JSON.stringify` produces.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One entry of a Label Studio annotation's `result` array.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultItem {
    /// Region id shared by all results describing the same region.
    pub id: Option<String>,
    /// Name of the control tag that produced the result.
    pub from_name: String,
    /// Name of the object tag the result annotates.
    pub to_name: String,
    /// The `type` and `value` keys.
    pub value: ResultValue,
    /// Width in pixels of the image the result was drawn on.
    pub original_width: Option<u32>,
    /// Height in pixels of the image the result was drawn on.
    pub original_height: Option<u32>,
    /// Rotation of the image, in degrees, when the result was drawn.
    pub image_rotation: Option<f64>,
    /// Id of the parent region (JSON key `parentID`).
    pub parent_id: Option<String>,
    /// Every other top-level key (`origin`, `score`, `readonly`, `hidden`,
    /// `meta`, …), and any typed key whose JSON value had an unexpected type.
    pub extra: Map<String, Value>,
}

/// The `type`-tagged `value` of a result, one variant per result type.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultValue {
    /// `rectanglelabels`: a labelled box on an image.
    RectangleLabels(RectangleLabelsValue),
    /// `rectangle`: an unlabelled box on an image.
    Rectangle(RectangleValue),
    /// `polygonlabels`: a labelled polygon on an image.
    PolygonLabels(PolygonLabelsValue),
    /// `polygon`: an unlabelled polygon on an image.
    Polygon(PolygonValue),
    /// `choices`: a classification of a whole object or of a region.
    Choices(ChoicesValue),
    /// `labels`: a labelled span of text.
    Labels(LabelsValue),
    /// `textarea`: free text typed by the annotator.
    TextArea(TextAreaValue),
    /// `keypointlabels`: a labelled point on an image (a skeleton's joint).
    KeyPointLabels(Labeled<KeyPointValue>),
    /// `keypoint`: an unlabelled point on an image.
    KeyPoint(KeyPointValue),
    /// `ellipselabels`: a labelled ellipse on an image.
    EllipseLabels(Labeled<EllipseValue>),
    /// `ellipse`: an unlabelled ellipse on an image.
    Ellipse(EllipseValue),
    /// `polylinelabels`: a labelled open path on an image (a Gloss extension).
    PolyLineLabels(Labeled<PolyLineValue>),
    /// `polyline`: an unlabelled open path on an image (a Gloss extension).
    PolyLine(PolyLineValue),
    /// `brushlabels`: a labelled pixel mask on an image.
    BrushLabels(Labeled<BrushValue>),
    /// `brush`: an unlabelled pixel mask on an image.
    Brush(BrushValue),
    /// `number`: a number given to an object or a region.
    Number(NumberValue),
    /// `rating`: a rating (1 to the control's `maxRating`) of an object or a region.
    Rating(RatingValue),
    /// `taxonomy`: paths picked through nested choices.
    Taxonomy(TaxonomyValue),
    /// `relation`: a directed link between two regions of the annotation
    /// (Label Studio's `Relations`). Its keys sit at the result's top level,
    /// not under `value`, and it names no control.
    Relation(RelationValue),
    /// `videorectangle`: a box track on a video, keyframe by keyframe.
    VideoRectangle(VideoRectangleValue),
    /// `timelinelabels`: labelled ranges of a video's frames.
    TimelineLabels(TimelineLabelsValue),
    /// `videopolygon`: a polygon track on a video (a Gloss extension).
    VideoPolygon(ShapeTrackValue),
    /// `videopolyline`: an open-path track on a video (a Gloss extension).
    VideoPolyLine(ShapeTrackValue),
    /// `videokeypointlabels`: a skeleton track on a video, its joints by
    /// label (a Gloss extension).
    VideoKeyPointLabels(ShapeTrackValue),
    /// `videobrush`: a mask track on a video (a Gloss extension).
    VideoBrush(ShapeTrackValue),
    /// `labels` on an `<Audio>`: a labelled time segment (a speaker or a
    /// class). Shares Label Studio's `labels` type with text spans; a value
    /// with a `channel`, or with times that are not whole numbers, is a
    /// segment (see [`ResultValue::audio_segment`] for whole-number times).
    AudioLabels(AudioSegmentValue),
    /// `pairwise`: which of two objects is preferred (Label Studio's
    /// `Pairwise`); Gloss adds ties and a strength.
    Pairwise(PairwiseValue),
    /// `ranker`: the items of a `List` in ranked order, or grouped into
    /// buckets (Label Studio's `Ranker`).
    Ranker(RankerValue),
    /// `paragraphlabels`: a labelled span of a `Paragraphs` object's text,
    /// from an offset in one paragraph to an offset in the same or a later one.
    ParagraphLabels(ParagraphSpanValue),
    /// `chatmessage`: one message of a `<Chat>` conversation (Label Studio's
    /// chat result), its `from_name` and `to_name` the chat's name.
    ChatMessage(ChatMessageValue),
    /// `hypertextlabels`: a labelled span of a `HyperText`'s HTML, placed by
    /// XPath and offsets as Label Studio places it.
    HyperTextLabels(HyperTextSpanValue),
    /// Any other type, or a known type whose value did not parse; kept as is.
    Other {
        /// The result's `type` key.
        type_name: String,
        /// The result's `value` key, untouched.
        value: Value,
    },
}

/// Value of a `rectanglelabels` result; coordinates are percent of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RectangleLabelsValue {
    /// Left edge, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    /// Top edge, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// Width, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub width: f64,
    /// Height, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub height: f64,
    /// Rotation in degrees around the top-left corner; absent means 0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub rotation: Option<f64>,
    /// Label values given to the box.
    pub rectanglelabels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `rectangle` result; coordinates are percent of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RectangleValue {
    /// Left edge, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    /// Top edge, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// Width, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub width: f64,
    /// Height, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub height: f64,
    /// Rotation in degrees around the top-left corner; absent means 0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub rotation: Option<f64>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `polygonlabels` result; points are percent of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolygonLabelsValue {
    /// Vertices as `[x, y]`, percent of the image width and height.
    #[serde(serialize_with = "js_number::points")]
    pub points: Vec<[f64; 2]>,
    /// Label values given to the polygon.
    pub polygonlabels: Vec<String>,
    /// Whether the polygon was closed by the annotator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `polygon` result; points are percent of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolygonValue {
    /// Vertices as `[x, y]`, percent of the image width and height.
    #[serde(serialize_with = "js_number::points")]
    pub points: Vec<[f64; 2]>,
    /// Whether the polygon was closed by the annotator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `choices` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoicesValue {
    /// Selected choice values.
    pub choices: Vec<String>,
    /// Keys Label Studio adds (per-region results carry the region's shape).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `labels` result: a span of text with labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelsValue {
    /// Start offset, in Unicode code points of the task text.
    pub start: u64,
    /// End offset (exclusive), in Unicode code points of the task text.
    pub end: u64,
    /// The covered text, as Label Studio copies it into the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Label values given to the span.
    pub labels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `labels` result on an `<Audio>`: a time segment and its labels,
/// as Label Studio writes it (`{"start": 1.5, "end": 3.25, "channel": 0,
/// "labels": ["Speaker 1"]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioSegmentValue {
    /// Start, in seconds from the start of the file.
    #[serde(serialize_with = "js_number::f64")]
    pub start: f64,
    /// End, in seconds from the start of the file.
    #[serde(serialize_with = "js_number::f64")]
    pub end: f64,
    /// The audio channel the segment was drawn on (0 for a mixed view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u32>,
    /// Label values given to the segment.
    pub labels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `paragraphlabels` result: Label Studio's span over paragraphs,
/// `{"start": 0, "end": 1, "startOffset": 4, "endOffset": 9, "text": "…",
/// "paragraphlabels": ["Question"]}`: paragraph indexes (0-based; Label
/// Studio also writes them as strings, `"0"`, which are kept so) and offsets
/// in Unicode code points of those paragraphs' texts, the end exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParagraphSpanValue {
    /// The paragraph the span starts in.
    pub start: ParagraphIndex,
    /// The paragraph the span ends in.
    pub end: ParagraphIndex,
    /// Code points into the start paragraph.
    #[serde(rename = "startOffset")]
    pub start_offset: u64,
    /// Code points into the end paragraph (exclusive).
    #[serde(rename = "endOffset")]
    pub end_offset: u64,
    /// The covered text, as Label Studio copies it into the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Label values given to the span.
    pub paragraphlabels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A paragraph's 0-based index, written back as it came: a number, or a
/// string of digits as Label Studio's frontend writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParagraphIndex {
    pub index: u64,
    /// Whether it was (and is written as) a string such as `"0"`.
    pub as_text: bool,
}

impl Serialize for ParagraphIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.as_text {
            serializer.serialize_str(&self.index.to_string())
        } else {
            serializer.serialize_u64(self.index)
        }
    }
}

impl<'de> Deserialize<'de> for ParagraphIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_u64()
                .map(|index| ParagraphIndex {
                    index,
                    as_text: false,
                })
                .ok_or_else(|| de::Error::custom("a paragraph index is a whole number, 0 or more")),
            Value::String(text) => text
                .parse()
                .map(|index| ParagraphIndex {
                    index,
                    as_text: true,
                })
                .map_err(|_| de::Error::custom("a paragraph index is a whole number, 0 or more")),
            _ => Err(de::Error::custom(
                "a paragraph index is a whole number, 0 or more",
            )),
        }
    }
}

/// Value of a `hypertextlabels` result, as Label Studio writes it:
/// `{"start": "/p[1]/text()[1]", "end": "/p[1]/text()[1]", "startOffset": 0,
/// "endOffset": 5, "globalOffsets": {"start": 0, "end": 5}, "text": "Hello",
/// "htmllabels": ["Greeting"]}`. `start` and `end` are XPaths of text nodes
/// in the cleaned HTML, the offsets count UTF-16 code units in those nodes
/// (the browser's DOM offsets, as Label Studio's), and `globalOffsets` the
/// same over the whole text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperTextSpanValue {
    /// The XPath of the text node the span starts in.
    pub start: String,
    /// The XPath of the text node the span ends in.
    pub end: String,
    /// Code units into the start node.
    #[serde(rename = "startOffset")]
    pub start_offset: u64,
    /// Code units into the end node (exclusive).
    #[serde(rename = "endOffset")]
    pub end_offset: u64,
    /// The span in code units of the whole text.
    #[serde(
        rename = "globalOffsets",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub global_offsets: Option<GlobalOffsets>,
    /// The covered text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Label values given to the span.
    pub htmllabels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A span's place in a whole text, in UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalOffsets {
    pub start: u64,
    pub end: u64,
}

/// Value of a `chatmessage` result: `{"chatmessage": {"role": "user",
/// "content": "…"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessageValue {
    pub chatmessage: ChatMessage,
    /// Keys Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message of a chat, in the OpenAI chat layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The message's text.
    pub content: String,
    /// What else the message carries: for a model's reply Gloss keeps
    /// `model`, `usage` (the endpoint's token counts) and `latency_ms`;
    /// Label Studio keeps `createdAt`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `textarea` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextAreaValue {
    /// Submitted texts, one per submission.
    pub text: Vec<String>,
    /// Keys Label Studio adds (per-region results carry the region's shape).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A shape and the labels given to it. In JSON the labels sit in the shape's
/// `value` under the result type's name (`"keypointlabels": ["Nose"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Labeled<T> {
    /// The shape's own keys.
    pub shape: T,
    /// Label values given to the shape.
    pub labels: Vec<String>,
}

/// Value of a `keypoint` or `keypointlabels` result: one point, in percent
/// of the image.
///
/// Gloss groups the points of one skeleton instance by the results'
/// `parentID` (the instance's id, see the label config's `<Skeleton>`), and
/// marks a point the annotator placed but cannot see with
/// `"visibility": "occluded"`. A point absent from the image has no result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPointValue {
    /// Horizontal position, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    /// Vertical position, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// Size the point is drawn at, percent of the image width (Label Studio).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub width: Option<f64>,
    /// `visible` (the default when absent) or `occluded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of an `ellipse` or `ellipselabels` result: `x`, `y` is the centre,
/// in percent of the image, the radii are percent of its width and height.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EllipseValue {
    /// Centre, percent of the image width.
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    /// Centre, percent of the image height.
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// Horizontal radius (before rotation), percent of the image width.
    #[serde(rename = "radiusX", serialize_with = "js_number::f64")]
    pub radius_x: f64,
    /// Vertical radius (before rotation), percent of the image height.
    #[serde(rename = "radiusY", serialize_with = "js_number::f64")]
    pub radius_y: f64,
    /// Rotation in degrees around the centre; absent means 0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub rotation: Option<f64>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `polyline` or `polylinelabels` result: an open path, points in
/// percent of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolyLineValue {
    /// Vertices as `[x, y]`, percent of the image width and height.
    #[serde(serialize_with = "js_number::points")]
    pub points: Vec<[f64; 2]>,
    /// Keys Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `brush` or `brushlabels` result: a pixel mask of the size
/// given by the result's `original_width` and `original_height`.
///
/// Two encodings are read and written: Label Studio's (`"format": "rle"`
/// with the `rle` bytes of its RGBA run-length packing) and the compact COCO
/// run-length string Gloss writes (`"format": "coco_rle"` with `counts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrushValue {
    /// `rle` (Label Studio) or `coco_rle` (Gloss).
    pub format: String,
    /// Label Studio's packed RGBA runs, when `format` is `rle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rle: Option<Vec<u8>>,
    /// COCO's compressed counts string, when `format` is `coco_rle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `number` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumberValue {
    /// The number given.
    #[serde(serialize_with = "js_number::f64")]
    pub number: f64,
    /// Keys Label Studio adds (per-region results carry the region's shape).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `rating` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingValue {
    /// The rating given: a whole number from 1 to the control's `maxRating`.
    #[serde(serialize_with = "js_number::f64")]
    pub rating: f64,
    /// Keys Label Studio adds (per-region results carry the region's shape).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `taxonomy` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyValue {
    /// Each pick as its path from the top: `[["Bacteria", "Cyanobacteria"], ["Archaea"]]`.
    pub taxonomy: Vec<Vec<String>>,
    /// Keys Label Studio adds (per-region results carry the region's shape).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `pairwise` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairwiseValue {
    /// `"left"` (the first object of the control's `toName`), `"right"` (the
    /// second) or, a Gloss extension where the control allows it, `"tie"`.
    pub selected: String,
    /// How strongly the selected side is preferred, from 1 to the control's
    /// `strength` (a Gloss extension); absent when not given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub strength: Option<f64>,
    /// Other keys, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `ranker` result: `{"ranker": {column: [item ids]}}`.
///
/// Without buckets the one column is named after the `Ranker` control and
/// lists every item, best first; with `<Bucket>`s each bucket is a column,
/// and items left in the list are under `"_"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankerValue {
    /// Item ids per column, in order (columns are a JSON object: unordered).
    pub ranker: Map<String, Value>,
    /// Other keys, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RankerValue {
    /// The item ids of column `name`, when it is a list of strings.
    pub fn column(&self, name: &str) -> Option<Vec<&str>> {
        self.ranker
            .get(name)?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect()
    }
}

/// A `relation` result's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationValue {
    /// The region the relation starts at (its result `id`).
    pub from_id: String,
    /// The region it ends at.
    pub to_id: String,
    /// `right` (from → to), `left` or `bi`, as Label Studio writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Labels given to the relation (from a `Relations` control).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// Value of a `videorectangle` result: a track, given by its keyframes.
///
/// Between two enabled keyframes the box moves linearly; a keyframe with
/// `enabled: false` hides the object (it is outside the frame) until the
/// next keyframe; after the last keyframe an enabled box stays where it is
/// to the end of the video. See [`VideoRectangleValue::box_at`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRectangleValue {
    /// Frames in the video, as the annotator's player counted them.
    #[serde(
        rename = "framesCount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub frames_count: Option<u64>,
    /// The video's length in seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub duration: Option<f64>,
    /// Keyframes in frame order.
    pub sequence: Vec<VideoKeyframe>,
    /// Label values given to the track (from a `Labels` control).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One keyframe of a track; coordinates are percent of the video frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoKeyframe {
    /// 1-based frame number.
    pub frame: u64,
    /// `false`: the object is outside the frame from here to the next keyframe.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Left edge, percent of the frame width.
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    /// Top edge, percent of the frame height.
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// Width, percent of the frame width.
    #[serde(serialize_with = "js_number::f64")]
    pub width: f64,
    /// Height, percent of the frame height.
    #[serde(serialize_with = "js_number::f64")]
    pub height: f64,
    /// Rotation in degrees around the top-left corner.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub rotation: Option<f64>,
    /// The frame's time in seconds, as the player showed it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub time: Option<f64>,
    /// Gloss's flag: the object is there but hidden behind something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occluded: Option<bool>,
    /// Keys Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn enabled_by_default() -> bool {
    true
}

/// A track's box on one frame, percent of the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// Rotation in degrees around the top-left corner.
    pub rotation: f64,
    /// Whether this frame is a keyframe (as opposed to interpolated).
    pub keyframe: bool,
    /// Whether the object is occluded (from the keyframe at or before it).
    pub occluded: bool,
}

impl VideoRectangleValue {
    /// The box on 1-based `frame`, or `None` when the track is not there
    /// (before its first keyframe, or outside after a disabled keyframe).
    /// Keyframes are taken in frame order whatever order they are stored in.
    pub fn box_at(&self, frame: u64) -> Option<TrackBox> {
        let (before, after) = surrounding(&self.sequence, frame, |k| k.frame);
        let from = before.filter(|b| b.enabled)?;
        let at = |key: &VideoKeyframe| TrackBox {
            x: key.x,
            y: key.y,
            width: key.width,
            height: key.height,
            rotation: key.rotation.unwrap_or(0.0),
            keyframe: key.frame == frame,
            occluded: from.occluded == Some(true),
        };
        let Some(to) = after.filter(|a| a.enabled && from.frame != frame) else {
            return Some(at(from));
        };
        let t = (frame - from.frame) as f64 / (to.frame - from.frame) as f64;
        let mix = |a: f64, b: f64| a + (b - a) * t;
        Some(TrackBox {
            x: mix(from.x, to.x),
            y: mix(from.y, to.y),
            width: mix(from.width, to.width),
            height: mix(from.height, to.height),
            rotation: mix(from.rotation.unwrap_or(0.0), to.rotation.unwrap_or(0.0)),
            keyframe: false,
            occluded: from.occluded == Some(true),
        })
    }

    /// The frames from the first keyframe to `last_frame` (inclusive) with
    /// their boxes, skipping frames where the object is outside.
    pub fn boxes(&self, last_frame: u64) -> impl Iterator<Item = (u64, TrackBox)> + '_ {
        let first = self.sequence.iter().map(|k| k.frame).min().unwrap_or(1);
        (first.max(1)..=last_frame).filter_map(|frame| Some((frame, self.box_at(frame)?)))
    }
}

/// Value of a `timelinelabels` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineLabelsValue {
    /// Frame ranges, inclusive, 1-based.
    pub ranges: Vec<FrameRange>,
    /// Label values given to the ranges.
    pub timelinelabels: Vec<String>,
    /// Keys Label Studio adds that Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Value of a `videopolygon`, `videopolyline`, `videokeypointlabels` or
/// `videobrush` result: a track of a shape other than a box, given by its
/// keyframes (Gloss's extension, shaped like Label Studio's `videorectangle`).
///
/// A keyframe holds the shape on its frame: `points` for polygons and
/// polylines, `joints` for a skeleton, a mask (`format: "coco_rle"` and
/// `counts`, at the result's `original_width` × `original_height`) for a
/// brush track; a mask holds until the next keyframe. Between two enabled keyframes the
/// shape moves linearly — a polygon or polyline when both keyframes have as
/// many points (else it holds until the next keyframe), a skeleton joint
/// by joint where both have the joint (a joint only the earlier one has is
/// held; one it lacks is absent). `enabled: false` and the occluded flag
/// mean what they mean for boxes. See [`ShapeTrackValue::shape_at`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapeTrackValue {
    /// Frames in the video, as the annotator's player counted them.
    #[serde(
        rename = "framesCount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub frames_count: Option<u64>,
    /// The video's length in seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub duration: Option<f64>,
    /// Keyframes in frame order.
    pub sequence: Vec<ShapeKeyframe>,
    /// Label values given to the track (from a `Labels` control).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Keys Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One keyframe of a shape track; coordinates are percent of the frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapeKeyframe {
    /// 1-based frame number.
    pub frame: u64,
    /// `false`: the object is outside the frame from here to the next keyframe.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// A polygon's or polyline's vertices as `[x, y]`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "js_number::points"
    )]
    pub points: Vec<[f64; 2]>,
    /// A skeleton's joints that are on the frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joints: Vec<TrackJoint>,
    /// A mask's encoding: `"coco_rle"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A mask's COCO compressed counts (column-major, as brush results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<String>,
    /// The frame's time in seconds, as the player showed it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::opt_f64"
    )]
    pub time: Option<f64>,
    /// The object is there but hidden behind something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occluded: Option<bool>,
    /// Keys Gloss does not interpret.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One joint of a skeleton keyframe: its label (a label of the
/// `VideoKeyPointLabels` control) and place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackJoint {
    pub label: String,
    #[serde(serialize_with = "js_number::f64")]
    pub x: f64,
    #[serde(serialize_with = "js_number::f64")]
    pub y: f64,
    /// `"occluded"` for a joint placed but hidden, as for image keypoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
}

/// A shape track's shape on one frame, percent of the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackShape {
    /// Vertices (polygons and polylines).
    pub points: Vec<[f64; 2]>,
    /// Joints (skeletons).
    pub joints: Vec<TrackJoint>,
    /// A mask's COCO compressed counts (brush tracks).
    pub counts: Option<String>,
    /// Whether this frame is a keyframe (as opposed to interpolated).
    pub keyframe: bool,
    /// Whether the object is occluded (from the keyframe at or before it).
    pub occluded: bool,
}

impl ShapeTrackValue {
    /// The shape on 1-based `frame`, or `None` where the track is not there;
    /// see [`ShapeTrackValue`] for how keyframes interpolate.
    pub fn shape_at(&self, frame: u64) -> Option<TrackShape> {
        let (before, after) = surrounding(&self.sequence, frame, |k| k.frame);
        let from = before.filter(|b| b.enabled)?;
        let occluded = from.occluded == Some(true);
        let held = TrackShape {
            points: from.points.clone(),
            joints: from.joints.clone(),
            counts: from.counts.clone(),
            keyframe: from.frame == frame,
            occluded,
        };
        // Masks do not move between keyframes.
        let Some(to) = after.filter(|a| a.enabled && from.frame != frame && from.counts.is_none())
        else {
            return Some(held);
        };
        let t = (frame - from.frame) as f64 / (to.frame - from.frame) as f64;
        let mix = |a: f64, b: f64| a + (b - a) * t;
        let points = if from.points.len() == to.points.len() {
            from.points
                .iter()
                .zip(&to.points)
                .map(|(a, b)| [mix(a[0], b[0]), mix(a[1], b[1])])
                .collect()
        } else {
            from.points.clone()
        };
        let joints = from
            .joints
            .iter()
            .map(
                |joint| match to.joints.iter().find(|j| j.label == joint.label) {
                    Some(next) => TrackJoint {
                        x: mix(joint.x, next.x),
                        y: mix(joint.y, next.y),
                        ..joint.clone()
                    },
                    None => joint.clone(),
                },
            )
            .collect();
        Some(TrackShape {
            points,
            joints,
            counts: None,
            keyframe: false,
            occluded,
        })
    }

    /// The frames from the first keyframe to `last_frame` (inclusive) with
    /// their shapes, skipping frames where the object is outside.
    pub fn shapes(&self, last_frame: u64) -> impl Iterator<Item = (u64, TrackShape)> + '_ {
        let first = self.sequence.iter().map(|k| k.frame).min().unwrap_or(1);
        (first.max(1)..=last_frame).filter_map(|frame| Some((frame, self.shape_at(frame)?)))
    }
}

/// The keyframe at or before `frame` and the one after it, whatever order
/// the keyframes are stored in.
fn surrounding<K>(
    sequence: &[K],
    frame: u64,
    frame_of: impl Fn(&K) -> u64,
) -> (Option<&K>, Option<&K>) {
    let mut before: Option<&K> = None;
    let mut after: Option<&K> = None;
    for key in sequence {
        let at = frame_of(key);
        if at <= frame && before.is_none_or(|b| at >= frame_of(b)) {
            before = Some(key);
        }
        if at > frame && after.is_none_or(|a| at < frame_of(a)) {
            after = Some(key);
        }
    }
    (before, after)
}

/// An inclusive range of 1-based frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRange {
    /// First frame.
    pub start: u64,
    /// Last frame.
    pub end: u64,
}

impl<T: serde::de::DeserializeOwned> Labeled<T> {
    /// Reads a labelled shape whose labels sit under `key`; `None` when the
    /// value does not have that shape.
    fn from_json(value: &Value, key: &str) -> Option<Labeled<T>> {
        let mut map = value.as_object()?.clone();
        let labels = map.remove(key)?;
        let labels = Vec::<String>::deserialize(&labels).ok()?;
        let shape = T::deserialize(&Value::Object(map)).ok()?;
        Some(Labeled { shape, labels })
    }
}

impl<T: Serialize> Labeled<T> {
    /// The JSON `value`: the shape's keys plus the labels under `key`.
    fn to_json(&self, key: &str) -> Value {
        let mut value = serde_json::to_value(&self.shape).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert(key.to_owned(), Value::from(self.labels.clone()));
        }
        value
    }
}

impl ResultValue {
    /// The labels or choices the result gives, if its type carries any.
    pub fn labels(&self) -> Option<&[String]> {
        match self {
            ResultValue::RectangleLabels(v) => Some(&v.rectanglelabels),
            ResultValue::PolygonLabels(v) => Some(&v.polygonlabels),
            ResultValue::Choices(v) => Some(&v.choices),
            ResultValue::Labels(v) => Some(&v.labels),
            ResultValue::KeyPointLabels(v) => Some(&v.labels),
            ResultValue::EllipseLabels(v) => Some(&v.labels),
            ResultValue::PolyLineLabels(v) => Some(&v.labels),
            ResultValue::BrushLabels(v) => Some(&v.labels),
            ResultValue::VideoRectangle(v) => Some(&v.labels),
            ResultValue::VideoPolygon(v)
            | ResultValue::VideoPolyLine(v)
            | ResultValue::VideoKeyPointLabels(v)
            | ResultValue::VideoBrush(v) => Some(&v.labels),
            ResultValue::TimelineLabels(v) => Some(&v.timelinelabels),
            ResultValue::AudioLabels(v) => Some(&v.labels),
            ResultValue::ParagraphLabels(v) => Some(&v.paragraphlabels),
            ResultValue::HyperTextLabels(v) => Some(&v.htmllabels),
            _ => None,
        }
    }

    /// The time segment (start and end in seconds, labels) of a `labels`
    /// result on an `<Audio>`. A Label Studio segment without a channel whose
    /// times are whole seconds parses as a text span; this reads both.
    pub fn audio_segment(&self) -> Option<(f64, f64, &[String])> {
        match self {
            ResultValue::AudioLabels(v) => Some((v.start, v.end, &v.labels)),
            ResultValue::Labels(v) => Some((v.start as f64, v.end as f64, &v.labels)),
            _ => None,
        }
    }

    /// Builds the value for a result `type`; a value that does not have the
    /// shape of a known type becomes [`ResultValue::Other`] instead of failing.
    pub fn from_parts(type_name: String, value: Value) -> ResultValue {
        fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
            T::deserialize(value).ok()
        }
        let parsed = match type_name.as_str() {
            "rectanglelabels" => typed(&value).map(ResultValue::RectangleLabels),
            "rectangle" => typed(&value).map(ResultValue::Rectangle),
            "polygonlabels" => typed(&value).map(ResultValue::PolygonLabels),
            "polygon" => typed(&value).map(ResultValue::Polygon),
            "choices" => typed(&value).map(ResultValue::Choices),
            // A text span has whole-number offsets and no channel; anything
            // else shaped like a span is a time segment of an audio file.
            "labels" => typed(&value)
                .filter(|_| value.get("channel").is_none())
                .map(ResultValue::Labels)
                .or_else(|| typed(&value).map(ResultValue::AudioLabels)),
            "textarea" => typed(&value).map(ResultValue::TextArea),
            "keypointlabels" => {
                Labeled::from_json(&value, "keypointlabels").map(ResultValue::KeyPointLabels)
            }
            "keypoint" => typed(&value).map(ResultValue::KeyPoint),
            "ellipselabels" => {
                Labeled::from_json(&value, "ellipselabels").map(ResultValue::EllipseLabels)
            }
            "ellipse" => typed(&value).map(ResultValue::Ellipse),
            "polylinelabels" => {
                Labeled::from_json(&value, "polylinelabels").map(ResultValue::PolyLineLabels)
            }
            "polyline" => typed(&value).map(ResultValue::PolyLine),
            "brushlabels" => {
                Labeled::from_json(&value, "brushlabels").map(ResultValue::BrushLabels)
            }
            "brush" => typed(&value).map(ResultValue::Brush),
            "number" => typed(&value).map(ResultValue::Number),
            "rating" => typed(&value).map(ResultValue::Rating),
            "taxonomy" => typed(&value).map(ResultValue::Taxonomy),
            "videorectangle" => typed(&value).map(ResultValue::VideoRectangle),
            "timelinelabels" => typed(&value).map(ResultValue::TimelineLabels),
            "videopolygon" => typed(&value).map(ResultValue::VideoPolygon),
            "videopolyline" => typed(&value).map(ResultValue::VideoPolyLine),
            "videokeypointlabels" => typed(&value).map(ResultValue::VideoKeyPointLabels),
            "videobrush" => typed(&value).map(ResultValue::VideoBrush),
            "pairwise" => typed(&value).map(ResultValue::Pairwise),
            "ranker" => typed(&value).map(ResultValue::Ranker),
            "paragraphlabels" => typed(&value).map(ResultValue::ParagraphLabels),
            "chatmessage" => typed(&value).map(ResultValue::ChatMessage),
            "hypertextlabels" => typed(&value).map(ResultValue::HyperTextLabels),
            _ => None,
        };
        parsed.unwrap_or(ResultValue::Other { type_name, value })
    }

    /// The result's `type` key, e.g. `"rectanglelabels"`.
    pub fn type_name(&self) -> &str {
        match self {
            ResultValue::RectangleLabels(_) => "rectanglelabels",
            ResultValue::Rectangle(_) => "rectangle",
            ResultValue::PolygonLabels(_) => "polygonlabels",
            ResultValue::Polygon(_) => "polygon",
            ResultValue::Choices(_) => "choices",
            ResultValue::Labels(_) | ResultValue::AudioLabels(_) => "labels",
            ResultValue::TextArea(_) => "textarea",
            ResultValue::KeyPointLabels(_) => "keypointlabels",
            ResultValue::KeyPoint(_) => "keypoint",
            ResultValue::EllipseLabels(_) => "ellipselabels",
            ResultValue::Ellipse(_) => "ellipse",
            ResultValue::PolyLineLabels(_) => "polylinelabels",
            ResultValue::PolyLine(_) => "polyline",
            ResultValue::BrushLabels(_) => "brushlabels",
            ResultValue::Brush(_) => "brush",
            ResultValue::Number(_) => "number",
            ResultValue::Rating(_) => "rating",
            ResultValue::Taxonomy(_) => "taxonomy",
            ResultValue::Relation(_) => "relation",
            ResultValue::VideoRectangle(_) => "videorectangle",
            ResultValue::TimelineLabels(_) => "timelinelabels",
            ResultValue::VideoPolygon(_) => "videopolygon",
            ResultValue::VideoPolyLine(_) => "videopolyline",
            ResultValue::VideoKeyPointLabels(_) => "videokeypointlabels",
            ResultValue::VideoBrush(_) => "videobrush",
            ResultValue::Pairwise(_) => "pairwise",
            ResultValue::Ranker(_) => "ranker",
            ResultValue::ParagraphLabels(_) => "paragraphlabels",
            ResultValue::ChatMessage(_) => "chatmessage",
            ResultValue::HyperTextLabels(_) => "hypertextlabels",
            ResultValue::Other { type_name, .. } => type_name,
        }
    }

    /// The result's `value` key as JSON.
    pub fn to_json(&self) -> Value {
        fn json<T: Serialize>(value: &T) -> Value {
            // Serializing these plain structs into a `Value` cannot fail:
            // every map key is a string and every number is finite or null.
            serde_json::to_value(value).unwrap_or(Value::Null)
        }
        match self {
            ResultValue::RectangleLabels(v) => json(v),
            ResultValue::Rectangle(v) => json(v),
            ResultValue::PolygonLabels(v) => json(v),
            ResultValue::Polygon(v) => json(v),
            ResultValue::Choices(v) => json(v),
            ResultValue::Labels(v) => json(v),
            ResultValue::AudioLabels(v) => json(v),
            ResultValue::TextArea(v) => json(v),
            ResultValue::KeyPointLabels(v) => v.to_json(self.type_name()),
            ResultValue::KeyPoint(v) => json(v),
            ResultValue::EllipseLabels(v) => v.to_json(self.type_name()),
            ResultValue::Ellipse(v) => json(v),
            ResultValue::PolyLineLabels(v) => v.to_json(self.type_name()),
            ResultValue::PolyLine(v) => json(v),
            ResultValue::BrushLabels(v) => v.to_json(self.type_name()),
            ResultValue::Brush(v) => json(v),
            ResultValue::Number(v) => json(v),
            ResultValue::Rating(v) => json(v),
            ResultValue::Taxonomy(v) => json(v),
            ResultValue::Relation(v) => json(v),
            ResultValue::VideoRectangle(v) => json(v),
            ResultValue::TimelineLabels(v) => json(v),
            ResultValue::VideoPolygon(v)
            | ResultValue::VideoPolyLine(v)
            | ResultValue::VideoKeyPointLabels(v)
            | ResultValue::VideoBrush(v) => json(v),
            ResultValue::Pairwise(v) => json(v),
            ResultValue::Ranker(v) => json(v),
            ResultValue::ParagraphLabels(v) => json(v),
            ResultValue::ChatMessage(v) => json(v),
            ResultValue::HyperTextLabels(v) => json(v),
            ResultValue::Other { value, .. } => value.clone(),
        }
    }

    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("type", self.type_name())?;
        match self {
            ResultValue::RectangleLabels(v) => map.serialize_entry("value", v),
            ResultValue::Rectangle(v) => map.serialize_entry("value", v),
            ResultValue::PolygonLabels(v) => map.serialize_entry("value", v),
            ResultValue::Polygon(v) => map.serialize_entry("value", v),
            ResultValue::Choices(v) => map.serialize_entry("value", v),
            ResultValue::Labels(v) => map.serialize_entry("value", v),
            ResultValue::AudioLabels(v) => map.serialize_entry("value", v),
            ResultValue::TextArea(v) => map.serialize_entry("value", v),
            ResultValue::KeyPoint(v) => map.serialize_entry("value", v),
            ResultValue::Ellipse(v) => map.serialize_entry("value", v),
            ResultValue::PolyLine(v) => map.serialize_entry("value", v),
            ResultValue::Brush(v) => map.serialize_entry("value", v),
            ResultValue::Number(v) => map.serialize_entry("value", v),
            ResultValue::Rating(v) => map.serialize_entry("value", v),
            ResultValue::Taxonomy(v) => map.serialize_entry("value", v),
            // Label Studio writes a relation's keys beside `type`.
            ResultValue::Relation(v) => {
                map.serialize_entry("from_id", &v.from_id)?;
                map.serialize_entry("to_id", &v.to_id)?;
                if let Some(direction) = &v.direction {
                    map.serialize_entry("direction", direction)?;
                }
                if !v.labels.is_empty() {
                    map.serialize_entry("labels", &v.labels)?;
                }
                Ok(())
            }
            ResultValue::VideoRectangle(v) => map.serialize_entry("value", v),
            ResultValue::TimelineLabels(v) => map.serialize_entry("value", v),
            ResultValue::VideoPolygon(v)
            | ResultValue::VideoPolyLine(v)
            | ResultValue::VideoKeyPointLabels(v)
            | ResultValue::VideoBrush(v) => map.serialize_entry("value", v),
            ResultValue::KeyPointLabels(_)
            | ResultValue::EllipseLabels(_)
            | ResultValue::PolyLineLabels(_)
            | ResultValue::BrushLabels(_) => map.serialize_entry("value", &self.to_json()),
            ResultValue::Pairwise(v) => map.serialize_entry("value", v),
            ResultValue::Ranker(v) => map.serialize_entry("value", v),
            ResultValue::ParagraphLabels(v) => map.serialize_entry("value", v),
            ResultValue::ChatMessage(v) => map.serialize_entry("value", v),
            ResultValue::HyperTextLabels(v) => map.serialize_entry("value", v),
            ResultValue::Other { value, .. } => map.serialize_entry("value", value),
        }
    }
}

/// Serializes as exactly `{"type": ..., "value": ...}`.
impl Serialize for ResultValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        self.serialize_entries(&mut map)?;
        map.end()
    }
}

/// Reads `{"type": ..., "value": ...}`; see [`ResultValue::from_parts`].
impl<'de> Deserialize<'de> for ResultValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Parts {
            #[serde(rename = "type")]
            type_name: String,
            value: Value,
        }
        let parts = Parts::deserialize(deserializer)?;
        Ok(ResultValue::from_parts(parts.type_name, parts.value))
    }
}

impl Serialize for ResultItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        // A relation names no control unless it came with one.
        let relation = matches!(self.value, ResultValue::Relation(_));
        if !(relation && self.from_name.is_empty()) {
            map.serialize_entry("from_name", &self.from_name)?;
        }
        if !(relation && self.to_name.is_empty()) {
            map.serialize_entry("to_name", &self.to_name)?;
        }
        self.value.serialize_entries(&mut map)?;
        if let Some(width) = self.original_width {
            map.serialize_entry("original_width", &width)?;
        }
        if let Some(height) = self.original_height {
            map.serialize_entry("original_height", &height)?;
        }
        if let Some(rotation) = self.image_rotation {
            map.serialize_entry("image_rotation", &js_number::Js(rotation))?;
        }
        if let Some(parent) = &self.parent_id {
            map.serialize_entry("parentID", parent)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Hand-written rather than derived so that a typed key holding an unexpected
/// JSON value (say `"parentID": null`) stays in `extra` instead of being lost,
/// and so that `extra` keeps the input's key order.
impl<'de> Deserialize<'de> for ResultItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResultItemVisitor)
    }
}

/// Reads a result's keys one by one (no intermediate map of the whole
/// result: exports and imports parse millions of them). A typed key whose
/// value has an unexpected type is kept in `extra`, as any unknown key.
struct ResultItemVisitor;

impl<'de> de::Visitor<'de> for ResultItemVisitor {
    type Value = ResultItem;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a Label Studio result object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ResultItem, A::Error> {
        let mut id = None;
        let mut from_name = None;
        let mut to_name = None;
        let mut type_name = None;
        let mut value = None;
        let mut original_width = None;
        let mut original_height = None;
        let mut image_rotation = None;
        let mut parent_id = None;
        let mut extra = Map::new();
        let dimension = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        while let Some(key) = map.next_key::<String>()? {
            let v: Value = map.next_value()?;
            // A later duplicate key wins, as in a JSON object read into a map.
            let kept = match key.as_str() {
                "value" => {
                    value = Some(v);
                    continue;
                }
                "from_name" => {
                    from_name = Some(v);
                    continue;
                }
                "to_name" => {
                    to_name = Some(v);
                    continue;
                }
                "type" => {
                    type_name = Some(v);
                    continue;
                }
                "id" => set_if(&mut id, &v, |v| v.as_str().map(str::to_owned)),
                "original_width" => set_if(&mut original_width, &v, dimension),
                "original_height" => set_if(&mut original_height, &v, dimension),
                "image_rotation" => set_if(&mut image_rotation, &v, Value::as_f64),
                "parentID" => set_if(&mut parent_id, &v, |v| v.as_str().map(str::to_owned)),
                _ => false,
            };
            if kept {
                extra.remove(&key);
            } else {
                extra.insert(key, v);
            }
        }
        let string = |field: Option<Value>, key: &str| match field {
            Some(Value::String(text)) => Ok(text),
            _ => Err(de::Error::custom(format!("result needs a string `{key}`"))),
        };
        let type_name = string(type_name, "type")?;
        if type_name == "relation" {
            // Its keys are at the top level, and it may name no control.
            let relation = RelationValue::deserialize(Value::Object(extra.clone()))
                .map_err(|err| de::Error::custom(format!("a relation result: {err}")))?;
            for key in ["from_id", "to_id", "direction", "labels"] {
                extra.remove(key);
            }
            let name = |field: Option<Value>| match field {
                Some(Value::String(text)) => text,
                _ => String::new(),
            };
            if let Some(value) = value {
                extra.insert("value".into(), value);
            }
            return Ok(ResultItem {
                id,
                from_name: name(from_name),
                to_name: name(to_name),
                value: ResultValue::Relation(relation),
                original_width,
                original_height,
                image_rotation,
                parent_id,
                extra,
            });
        }
        let from_name = string(from_name, "from_name")?;
        let to_name = string(to_name, "to_name")?;
        let value = value.ok_or_else(|| de::Error::custom("result needs a `value`"))?;
        Ok(ResultItem {
            id,
            from_name,
            to_name,
            value: ResultValue::from_parts(type_name, value),
            original_width,
            original_height,
            image_rotation,
            parent_id,
            extra,
        })
    }
}

/// Sets `slot` from `value` when it has the expected type (and clears it
/// when a later duplicate has not); says whether the value was taken.
fn set_if<T>(slot: &mut Option<T>, value: &Value, read: impl Fn(&Value) -> Option<T>) -> bool {
    *slot = read(value);
    slot.is_some()
}

/// Writes `f64`s the way JavaScript's `JSON.stringify` does: whole numbers
/// without a fraction, so Label Studio's `0` does not come back as `0.0`.
mod js_number {
    use serde::{Serialize, Serializer};

    /// Largest integer an `f64` holds exactly (2^53).
    const EXACT: f64 = 9_007_199_254_740_992.0;

    /// An `f64` serialized like JavaScript does.
    pub(super) struct Js(pub f64);

    impl Serialize for Js {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let v = self.0;
            if v.fract() == 0.0 && v.abs() <= EXACT {
                // Exact: the value is whole and within i64's range.
                serializer.serialize_i64(v as i64)
            } else {
                serializer.serialize_f64(v)
            }
        }
    }

    pub(super) fn f64<S: Serializer>(v: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        Js(*v).serialize(serializer)
    }

    pub(super) fn opt_f64<S: Serializer>(
        v: &Option<f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        v.map(Js).serialize(serializer)
    }

    pub(super) fn points<S: Serializer>(v: &[[f64; 2]], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(v.iter().map(|[x, y]| [Js(*x), Js(*y)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Parses, checks the variant, and asserts that writing it back gives
    /// the same JSON.
    fn round_trip(v: Value) -> ResultItem {
        let item: ResultItem = serde_json::from_value(v.clone()).expect("parses");
        let back = serde_json::to_value(&item).expect("serializes");
        assert_eq!(back, v, "round trip changed the JSON");
        item
    }

    #[test]
    fn rectanglelabels_round_trip() {
        let item = round_trip(json!({
            "id": "f2KQxyu7Wd",
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": {
                "x": 23.466666666666665,
                "y": 17.58957654723127,
                "width": 41.6,
                "height": 47.55700325732899,
                "rotation": 0,
                "rectanglelabels": ["Airplane"]
            },
            "original_width": 750,
            "original_height": 614,
            "image_rotation": 0,
            "origin": "manual"
        }));
        assert_eq!(item.id.as_deref(), Some("f2KQxyu7Wd"));
        assert_eq!(item.original_width, Some(750));
        assert_eq!(item.image_rotation, Some(0.0));
        assert_eq!(item.extra.get("origin"), Some(&json!("manual")));
        match &item.value {
            ResultValue::RectangleLabels(v) => {
                assert_eq!(v.rectanglelabels, ["Airplane"]);
                assert_eq!(v.rotation, Some(0.0));
                assert!((v.x - 23.466666666666665).abs() < 1e-12);
            }
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn prediction_with_score_and_meta_round_trips() {
        let item = round_trip(json!({
            "id": "result1",
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": {
                "x": 10, "y": 20.5, "width": 30, "height": 12.25,
                "rectanglelabels": ["Car"]
            },
            "score": 0.87,
            "readonly": false,
            "hidden": false,
            "meta": {"text": ["check this"]},
            "image_rotation": 90
        }));
        assert_eq!(item.extra.len(), 4);
        match &item.value {
            // Absent rotation stays absent so it is not written back.
            ResultValue::RectangleLabels(v) => assert_eq!(v.rotation, None),
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn rectangle_round_trip() {
        let item = round_trip(json!({
            "id": "aG7c-1",
            "from_name": "box",
            "to_name": "image",
            "type": "rectangle",
            "value": {"x": 0, "y": 0, "width": 100, "height": 50.5, "rotation": 12.5},
            "original_width": 1024,
            "original_height": 768,
            "image_rotation": 0
        }));
        assert!(matches!(item.value, ResultValue::Rectangle(_)));
    }

    #[test]
    fn polygonlabels_round_trip() {
        let item = round_trip(json!({
            "id": "Ehq7jFE9Ga",
            "from_name": "label",
            "to_name": "image",
            "type": "polygonlabels",
            "value": {
                "points": [
                    [20.933333333333334, 28.4],
                    [25.6, 64.66666666666667],
                    [52.8, 59.2],
                    [48, 30]
                ],
                "closed": true,
                "polygonlabels": ["Hello"]
            },
            "original_width": 750,
            "original_height": 500,
            "image_rotation": 0,
            "origin": "manual"
        }));
        match &item.value {
            ResultValue::PolygonLabels(v) => {
                assert_eq!(v.points.len(), 4);
                assert_eq!(v.points[3], [48.0, 30.0]);
                assert_eq!(v.closed, Some(true));
            }
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn polygon_round_trip() {
        let item = round_trip(json!({
            "id": "p1",
            "from_name": "poly",
            "to_name": "image",
            "type": "polygon",
            "value": {"points": [[1, 2], [3.5, 4], [5, 6.25]]},
            "original_width": 640,
            "original_height": 480
        }));
        assert!(matches!(item.value, ResultValue::Polygon(_)));
    }

    #[test]
    fn choices_round_trip() {
        let item = round_trip(json!({
            "id": "lJ4nR7vAlL",
            "from_name": "choice",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": ["Adult content", "Violent content"]},
            "origin": "manual"
        }));
        match &item.value {
            ResultValue::Choices(v) => assert_eq!(v.choices.len(), 2),
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn per_region_choices_keep_region_shape() {
        let item = round_trip(json!({
            "id": "reg1",
            "from_name": "quality",
            "to_name": "image",
            "type": "choices",
            "value": {
                "x": 12.5, "y": 30, "width": 20, "height": 10, "rotation": 0,
                "choices": ["Blurry"]
            },
            "original_width": 800,
            "original_height": 600,
            "image_rotation": 0,
            "origin": "manual"
        }));
        match &item.value {
            ResultValue::Choices(v) => assert_eq!(v.extra.len(), 5),
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn labels_round_trip() {
        let item = round_trip(json!({
            "id": "Nf3YeRCrFv",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 11, "text": "Barack Obama", "labels": ["Person"]},
            "origin": "manual"
        }));
        match &item.value {
            ResultValue::Labels(v) => {
                assert_eq!((v.start, v.end), (0, 11));
                assert_eq!(v.text.as_deref(), Some("Barack Obama"));
            }
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn textarea_round_trip() {
        let item = round_trip(json!({
            "id": "Wc0tD5Q8mA",
            "from_name": "answer",
            "to_name": "text",
            "type": "textarea",
            "value": {"text": ["A short summary.", "Another line"]},
            "origin": "manual"
        }));
        match &item.value {
            ResultValue::TextArea(v) => assert_eq!(v.text.len(), 2),
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn per_region_textarea_with_parent_round_trips() {
        let item = round_trip(json!({
            "id": "b1",
            "from_name": "transcription",
            "to_name": "image",
            "type": "textarea",
            "value": {
                "x": 5, "y": 6, "width": 7, "height": 8, "rotation": 0,
                "text": ["STOP"]
            },
            "parentID": "a0",
            "original_width": 1920,
            "original_height": 1080,
            "image_rotation": 0
        }));
        assert_eq!(item.parent_id.as_deref(), Some("a0"));
    }

    #[test]
    fn unknown_type_is_kept_as_other() {
        let item = round_trip(json!({
            "id": "r1",
            "from_name": "rating",
            "to_name": "image",
            "type": "magicwand",
            "value": {"selected": "left"},
            "original_width": 100,
            "original_height": 100,
            "image_rotation": 0
        }));
        match &item.value {
            ResultValue::Other { type_name, value } => {
                assert_eq!(type_name, "magicwand");
                assert_eq!(value["selected"], json!("left"));
            }
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn malformed_known_type_is_kept_as_other() {
        // Neither character offsets nor seconds.
        let item = round_trip(json!({
            "id": "au1",
            "from_name": "label",
            "to_name": "audio",
            "type": "labels",
            "value": {"start": "1.25", "end": 3.5, "channel": 0, "labels": ["Speech"]}
        }));
        assert_eq!(item.value.type_name(), "labels");
        assert!(matches!(item.value, ResultValue::Other { .. }));
    }

    #[test]
    fn odd_typed_keys_stay_in_extra() {
        let item = round_trip(json!({
            "id": null,
            "from_name": "c",
            "to_name": "t",
            "type": "choices",
            "value": {"choices": []},
            "parentID": null,
            "original_width": 12.5
        }));
        assert_eq!(item.id, None);
        assert_eq!(item.parent_id, None);
        assert_eq!(item.original_width, None);
        assert_eq!(item.extra.len(), 3);
    }

    #[test]
    fn whole_annotation_with_mixed_results_parses() {
        let v = json!([
            {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["A"]}},
            {"from_name": "r", "to_name": "t", "type": "rating", "value": {"rating": 4}},
        ]);
        let items: Vec<ResultItem> = serde_json::from_value(v.clone()).expect("parses");
        assert_eq!(items.len(), 2);
        assert_eq!(serde_json::to_value(&items).expect("serializes"), v);
    }

    #[test]
    fn missing_required_keys_fail() {
        let v = json!({"to_name": "t", "type": "choices", "value": {"choices": []}});
        assert!(serde_json::from_value::<ResultItem>(v).is_err());
        let v = json!({"from_name": "c", "to_name": "t", "type": "choices"});
        assert!(serde_json::from_value::<ResultItem>(v).is_err());
    }

    #[test]
    fn result_value_alone_serializes_as_type_and_value() {
        let value = ResultValue::from_parts("choices".into(), json!({"choices": ["Yes"]}));
        assert!(matches!(value, ResultValue::Choices(_)));
        let v = serde_json::to_value(&value).expect("serializes");
        assert_eq!(v, json!({"type": "choices", "value": {"choices": ["Yes"]}}));
        let back: ResultValue = serde_json::from_value(v).expect("parses");
        assert_eq!(back, value);
        assert_eq!(value.to_json(), json!({"choices": ["Yes"]}));
    }

    #[test]
    fn integral_floats_are_written_like_javascript() {
        let value = RectangleValue {
            x: 10.0,
            y: 0.5,
            width: -0.0,
            height: 1e20,
            rotation: None,
            extra: Map::new(),
        };
        let text = serde_json::to_string(&value).expect("serializes");
        assert_eq!(text, r#"{"x":10,"y":0.5,"width":0,"height":1e+20}"#);
    }

    #[test]
    fn keypointlabels_with_skeleton_parent_and_visibility_round_trip() {
        let item = round_trip(json!({
            "id": "kp1",
            "from_name": "pose",
            "to_name": "image",
            "type": "keypointlabels",
            "value": {"x": 50, "y": 60.5, "width": 0.5, "visibility": "occluded", "keypointlabels": ["Nose"]},
            "original_width": 100,
            "original_height": 100,
            "image_rotation": 0,
            "parentID": "person1"
        }));
        assert_eq!(item.parent_id.as_deref(), Some("person1"));
        assert_eq!(item.value.labels(), Some(&["Nose".to_owned()][..]));
        match &item.value {
            ResultValue::KeyPointLabels(v) => {
                assert_eq!((v.shape.x, v.shape.y), (50.0, 60.5));
                assert_eq!(v.shape.visibility.as_deref(), Some("occluded"));
            }
            other => panic!("wrong variant {other:?}"),
        }
        // A Label Studio point: no visibility, no parent.
        let item = round_trip(json!({
            "id": "kp2", "from_name": "kp", "to_name": "image", "type": "keypoint",
            "value": {"x": 1.25, "y": 2, "width": 0.75}
        }));
        assert!(matches!(item.value, ResultValue::KeyPoint(ref v) if v.visibility.is_none()));
    }

    #[test]
    fn ellipse_polyline_brush_and_number_round_trip() {
        let item = round_trip(json!({
            "id": "e1", "from_name": "ell", "to_name": "image", "type": "ellipselabels",
            "value": {"x": 40, "y": 30.5, "radiusX": 10, "radiusY": 5.5, "rotation": 15, "ellipselabels": ["Eye"]}
        }));
        match &item.value {
            ResultValue::EllipseLabels(v) => {
                assert_eq!((v.shape.radius_x, v.shape.radius_y), (10.0, 5.5));
                assert_eq!(v.labels, ["Eye"]);
            }
            other => panic!("wrong variant {other:?}"),
        }
        let item = round_trip(json!({
            "id": "l1", "from_name": "lane", "to_name": "image", "type": "polylinelabels",
            "value": {"points": [[1, 2], [3.5, 4]], "polylinelabels": ["Lane"]}
        }));
        assert!(matches!(&item.value, ResultValue::PolyLineLabels(v) if v.shape.points.len() == 2));
        let item = round_trip(json!({
            "id": "b1", "from_name": "brush", "to_name": "image", "type": "brushlabels",
            "value": {"format": "rle", "rle": [0, 0, 1, 200], "brushlabels": ["Road"]},
            "original_width": 4, "original_height": 3
        }));
        assert!(
            matches!(&item.value, ResultValue::BrushLabels(v) if v.shape.rle.as_deref() == Some(&[0, 0, 1, 200][..]))
        );
        let item = round_trip(json!({
            "id": "b2", "from_name": "brush", "to_name": "image", "type": "brushlabels",
            "value": {"format": "coco_rle", "counts": "52203", "brushlabels": ["Road"]}
        }));
        assert!(
            matches!(&item.value, ResultValue::BrushLabels(v) if v.shape.counts.as_deref() == Some("52203"))
        );
        let item = round_trip(json!({
            "id": "e1", "from_name": "age", "to_name": "image", "type": "number",
            "value": {"number": 42, "x": 40, "y": 30.5, "radiusX": 10, "radiusY": 5.5}
        }));
        assert!(
            matches!(&item.value, ResultValue::Number(v) if v.number == 42.0 && v.extra.len() == 4)
        );
    }

    #[test]
    fn labelled_shapes_without_their_labels_key_are_kept_as_other() {
        for (type_name, value) in [
            ("keypointlabels", json!({"x": 1, "y": 2})),
            (
                "ellipselabels",
                json!({"x": 1, "y": 2, "radiusX": 1, "radiusY": 1, "ellipselabels": "Eye"}),
            ),
            (
                "brushlabels",
                json!({"format": "rle", "rle": [300], "brushlabels": []}),
            ),
        ] {
            let value = ResultValue::from_parts(type_name.into(), value.clone());
            assert!(
                matches!(value, ResultValue::Other { .. }),
                "{type_name}: {value:?}"
            );
        }
    }

    fn track() -> VideoRectangleValue {
        let item = round_trip(json!({
            "id": "t1", "from_name": "box", "to_name": "video", "type": "videorectangle",
            "value": {
                "framesCount": 100, "duration": 4,
                "sequence": [
                    {"frame": 1, "enabled": true, "rotation": 0, "x": 10, "y": 10, "width": 20, "height": 20, "time": 0},
                    {"frame": 11, "enabled": true, "rotation": 0, "x": 30, "y": 10, "width": 20, "height": 40, "time": 0.4, "occluded": true},
                    {"frame": 21, "enabled": false, "rotation": 0, "x": 30, "y": 10, "width": 20, "height": 40, "time": 0.8},
                    {"frame": 31, "enabled": true, "rotation": 0, "x": 50, "y": 50, "width": 10, "height": 10, "time": 1.2}
                ],
                "labels": ["Car"]
            }
        }));
        match item.value {
            ResultValue::VideoRectangle(track) => track,
            other => panic!("wrong variant {other:?}"),
        }
    }

    #[test]
    fn tracks_interpolate_between_enabled_keyframes() {
        let track = track();
        assert_eq!(track.frames_count, Some(100));
        let at6 = track.box_at(6).unwrap();
        assert_eq!((at6.x, at6.height, at6.keyframe), (20.0, 30.0, false));
        assert!(track.box_at(1).unwrap().keyframe);
        // From an occluded keyframe to a disabled one: no motion, occluded.
        let at15 = track.box_at(15).unwrap();
        assert_eq!((at15.x, at15.height, at15.occluded), (30.0, 40.0, true));
        assert_eq!(track.box_at(21), None, "outside from a disabled keyframe");
        assert_eq!(track.box_at(30), None);
        assert_eq!(track.box_at(100).unwrap().x, 50.0, "the last box stays");
        assert_eq!(track.boxes(100).count(), 20 + 70);
    }

    #[test]
    fn shape_tracks_interpolate_matching_points_and_joints_and_round_trip() {
        let item = round_trip(json!({
            "id": "p1", "from_name": "outline", "to_name": "video", "type": "videopolygon",
            "value": {"framesCount": 20, "labels": ["Car"], "sequence": [
                {"frame": 1, "enabled": true, "points": [[0, 0], [10, 0], [10, 10]], "time": 0},
                {"frame": 11, "enabled": true, "points": [[10, 0], [20, 0], [20, 10]], "occluded": true},
                {"frame": 15, "enabled": true, "points": [[0, 0], [1, 0], [1, 1], [0, 1]]},
                {"frame": 18, "enabled": false}
            ]}
        }));
        let ResultValue::VideoPolygon(track) = &item.value else {
            panic!("{item:?}")
        };
        let at = |frame| {
            track
                .shape_at(frame)
                .map(|s| (s.points, s.keyframe, s.occluded))
        };
        assert_eq!(
            at(6),
            Some((vec![[5.0, 0.0], [15.0, 0.0], [15.0, 10.0]], false, false))
        );
        // Point counts differ: held until the next keyframe.
        assert_eq!(
            at(13),
            Some((vec![[10.0, 0.0], [20.0, 0.0], [20.0, 10.0]], false, true))
        );
        assert_eq!(at(15).map(|s| s.1), Some(true));
        assert_eq!(at(18), None);
        assert_eq!(track.shapes(20).count(), 17);

        let item = round_trip(json!({
            "id": "s1", "from_name": "pose", "to_name": "video", "type": "videokeypointlabels",
            "value": {"labels": ["Person"], "sequence": [
                {"frame": 1, "enabled": true, "joints": [{"label": "head", "x": 0, "y": 0}, {"label": "hand", "x": 5, "y": 5, "visibility": "occluded"}]},
                {"frame": 5, "enabled": true, "joints": [{"label": "head", "x": 8, "y": 4}]}
            ]}
        }));
        let ResultValue::VideoKeyPointLabels(track) = &item.value else {
            panic!("{item:?}")
        };
        let joints = track.shape_at(3).unwrap().joints;
        assert_eq!((joints[0].x, joints[0].y), (4.0, 2.0));
        // A joint the next keyframe lacks is held.
        assert_eq!(
            (joints[1].x, joints[1].visibility.as_deref()),
            (5.0, Some("occluded"))
        );
    }

    #[test]
    fn relations_keep_their_keys_at_the_top_level() {
        let item = round_trip(json!({
            "from_id": "a", "to_id": "b", "type": "relation", "direction": "right", "labels": ["works for"]
        }));
        assert!(
            matches!(&item.value, ResultValue::Relation(r) if r.from_id == "a" && r.to_id == "b" && r.labels == ["works for"])
        );
        assert_eq!((item.from_name.as_str(), item.to_name.as_str()), ("", ""));
        // One that names its control keeps the names; a relation without its ends is refused.
        round_trip(
            json!({"id": "x", "from_name": "rel", "to_name": "text", "from_id": "a", "to_id": "b", "type": "relation", "direction": "bi"}),
        );
        assert!(
            serde_json::from_value::<ResultItem>(json!({"type": "relation", "from_id": "a"}))
                .is_err()
        );
    }

    #[test]
    fn audio_segments_round_trip_and_are_told_from_text_spans() {
        let item = round_trip(json!({
            "id": "s1", "from_name": "speaker", "to_name": "audio", "type": "labels",
            "value": {"start": 1.5, "end": 3.25, "channel": 0, "labels": ["Speaker 1"]}
        }));
        let ResultValue::AudioLabels(segment) = &item.value else {
            panic!("not a segment: {:?}", item.value)
        };
        assert_eq!(
            (segment.start, segment.end, segment.channel),
            (1.5, 3.25, Some(0))
        );
        assert_eq!(
            item.value.audio_segment(),
            Some((1.5, 3.25, &segment.labels[..]))
        );
        // Whole seconds with a channel are still a segment, written back as integers.
        let item = round_trip(json!({
            "from_name": "speaker", "to_name": "audio", "type": "labels",
            "value": {"start": 0, "end": 4, "channel": 1, "labels": ["A"]}
        }));
        assert!(matches!(item.value, ResultValue::AudioLabels(_)));
        // Fractional times without a channel (older Label Studio exports).
        let item = round_trip(json!({
            "from_name": "speaker", "to_name": "audio", "type": "labels",
            "value": {"start": 0.5, "end": 4, "labels": ["A"]}
        }));
        assert!(matches!(item.value, ResultValue::AudioLabels(_)));
        // Whole numbers without a channel read as a text span, and still
        // give their segment when the object is audio.
        let item = round_trip(json!({
            "from_name": "speaker", "to_name": "audio", "type": "labels",
            "value": {"start": 2, "end": 5, "labels": ["A"]}
        }));
        assert!(matches!(item.value, ResultValue::Labels(_)));
        assert_eq!(
            item.value.audio_segment().map(|s| (s.0, s.1)),
            Some((2.0, 5.0))
        );
    }

    #[test]
    fn paragraph_spans_keep_their_indexes_as_written() {
        for start in [json!("0"), json!(0)] {
            let item = round_trip(json!({
                "id": "p1", "from_name": "intent", "to_name": "dialogue", "type": "paragraphlabels",
                "value": {"start": start, "end": 1, "startOffset": 3, "endOffset": 8, "text": "lo there",
                          "paragraphlabels": ["Greeting"]}
            }));
            let ResultValue::ParagraphLabels(span) = &item.value else {
                panic!("not a paragraph span: {:?}", item.value)
            };
            assert_eq!(
                (
                    span.start.index,
                    span.end.index,
                    span.start_offset,
                    span.end_offset
                ),
                (0, 1, 3, 8)
            );
        }
        let item = round_trip(
            json!({"from_name": "intent", "to_name": "dialogue", "type": "paragraphlabels",
            "value": {"start": "first", "end": 1, "startOffset": 0, "endOffset": 1, "paragraphlabels": []}}),
        );
        assert!(matches!(item.value, ResultValue::Other { .. }));
    }

    #[test]
    fn hypertext_spans_round_trip() {
        let item = round_trip(json!({
            "id": "h1", "from_name": "ner", "to_name": "html", "type": "hypertextlabels",
            "value": {"start": "/p[1]/text()[1]", "end": "/p[2]/b[1]/text()[1]", "startOffset": 6,
                      "endOffset": 3, "globalOffsets": {"start": 6, "end": 20}, "text": "world…",
                      "htmllabels": ["PER"]}
        }));
        let ResultValue::HyperTextLabels(span) = &item.value else {
            panic!("not a hypertext span: {:?}", item.value)
        };
        assert_eq!(
            span.global_offsets,
            Some(GlobalOffsets { start: 6, end: 20 })
        );
        assert_eq!(item.value.labels(), Some(&["PER".to_owned()][..]));
    }

    #[test]
    fn timeline_ranges_round_trip() {
        let item = round_trip(json!({
            "id": "r", "from_name": "actions", "to_name": "video", "type": "timelinelabels",
            "value": {"ranges": [{"start": 3, "end": 9}], "timelinelabels": ["Walking"]}
        }));
        assert_eq!(item.value.labels(), Some(&["Walking".to_owned()][..]));
    }

    #[test]
    fn pairwise_round_trips_with_gloss_tie_and_strength() {
        let item = round_trip(json!({
            "id": "p1", "from_name": "pw", "to_name": "text1", "type": "pairwise",
            "value": {"selected": "left"}, "origin": "manual"
        }));
        assert!(
            matches!(&item.value, ResultValue::Pairwise(v) if v.selected == "left" && v.strength.is_none())
        );
        let item = round_trip(json!({
            "id": "p2", "from_name": "pw", "to_name": "a", "type": "pairwise",
            "value": {"selected": "right", "strength": 2, "note": "kept"}
        }));
        match &item.value {
            ResultValue::Pairwise(v) => {
                assert_eq!(v.strength, Some(2.0));
                assert_eq!(v.extra.get("note"), Some(&json!("kept")));
            }
            other => panic!("wrong variant {other:?}"),
        }
        round_trip(json!({
            "id": "p3", "from_name": "pw", "to_name": "a", "type": "pairwise",
            "value": {"selected": "tie"}
        }));
        // Without `selected` it is not a pairwise value, and is kept as it came.
        let odd = round_trip(json!({
            "id": "p4", "from_name": "pw", "to_name": "a", "type": "pairwise", "value": {"chosen": 1}
        }));
        assert!(matches!(odd.value, ResultValue::Other { .. }));
    }

    #[test]
    fn ranker_round_trips_with_its_columns() {
        let item = round_trip(json!({
            "id": "PpwBv_NMxd", "from_name": "rank", "to_name": "results", "type": "ranker",
            "value": {"ranker": {"rank": ["mdn", "wiki", "blog"]}}, "origin": "manual"
        }));
        match &item.value {
            ResultValue::Ranker(v) => {
                assert_eq!(v.column("rank"), Some(vec!["mdn", "wiki", "blog"]));
                assert_eq!(v.column("other"), None);
            }
            other => panic!("wrong variant {other:?}"),
        }
        // Buckets, the list's "_" column and an unknown key are kept.
        let item = round_trip(json!({
            "id": "r2", "from_name": "rank", "to_name": "results", "type": "ranker",
            "value": {"ranker": {"best": ["mdn"], "ads": ["blog"], "_": ["wiki"]}, "extra": true}
        }));
        assert!(
            matches!(&item.value, ResultValue::Ranker(v) if v.column("_") == Some(vec!["wiki"]))
        );
    }
}
