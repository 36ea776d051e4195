//! The typed form of a label config, and the diagnostics found while reading it.

use std::collections::BTreeMap;

use serde::Serialize;

/// A parsed label config: what a project lets annotators produce.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LabelConfig {
    /// Object tags (what is annotated), in document order.
    pub objects: Vec<ObjectTag>,
    /// Control tags (how it is annotated), in document order.
    pub controls: Vec<ControlTag>,
    /// Label Studio tags that Gloss does not support yet, in document order.
    pub unsupported: Vec<UnsupportedTag>,
    /// The layout tree under the root `<View>`, for rendering.
    pub layout: Vec<Node>,
    /// Label Studio's `<Relations>`: the labels a relation between two
    /// regions may carry; `None` without the tag (relations then carry none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relations: Option<RelationLabels>,
}

/// The `<Relation value="…">`s of a `<Relations>` tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RelationLabels {
    /// The labels, in config order (`hotkey` and `alias` unused).
    pub labels: Vec<LabelDef>,
    /// `choice="multiple"`: a relation may carry several labels (else one).
    pub multiple: bool,
}

/// Kind of an object tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ObjectKind {
    /// `<Image>`: a picture loaded from a URL in the task data.
    Image,
    /// `<Text>`: plain text from the task data.
    Text,
    /// `<Video>`: a video (MP4 or WebM) loaded from a URL in the task data.
    Video,
    /// `<Audio>`: a sound file (WAV, MP3, FLAC, OGG) loaded from a URL in
    /// the task data.
    Audio,
    /// `<List>`: items `{id, title, body}` from a list in the task data
    /// (Label Studio's `List`, ranked with `Ranker`); bodies are Markdown.
    List,
    /// `<Chat>`: a conversation (Label Studio's chat tag), a list of `{role,
    /// content}` messages (or one string) from the task data, contents in
    /// Markdown. Shown as the prompt of LLM feedback; or, when controls
    /// with `perRegion="true"` label its messages (or it says
    /// `editable="true"`), a conversation the annotator holds with the
    /// project's model endpoint, its messages `chatmessage` results.
    Chat,
    /// `<Paragraphs>`: a list of paragraphs (`{author, text}` objects, the
    /// keys named by `nameKey` and `textKey`), such as a dialogue.
    Paragraphs,
    /// `<HyperText>`: HTML from the task data, shown cleaned of scripts,
    /// styles and event handlers.
    HyperText,
}

impl ObjectKind {
    /// Whether the object shows a media file (which imports copy into the
    /// media store): an image, a video or a sound.
    pub fn is_media(self) -> bool {
        matches!(
            self,
            ObjectKind::Image | ObjectKind::Video | ObjectKind::Audio
        )
    }
}

/// An object tag: a piece of task data shown to the annotator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectTag {
    /// Which object tag this is.
    pub kind: ObjectKind,
    /// The tag's `name`, which controls refer to with `toName`.
    pub name: String,
    /// The task data key the tag shows: `value="$image"` gives `image`
    /// (empty when the attribute is missing or invalid, which is reported).
    pub value: String,
    /// Every attribute as written, including the ones above.
    pub attributes: BTreeMap<String, String>,
    /// 1-based line of the tag in the config.
    pub line: u32,
    /// 1-based column of the tag in the config.
    pub column: u32,
}

/// Kind of a control tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ControlKind {
    /// `<RectangleLabels>`: labelled boxes on an image.
    RectangleLabels,
    /// `<PolygonLabels>`: labelled polygons on an image.
    PolygonLabels,
    /// `<Labels>`: labelled spans of text.
    Labels,
    /// `<Choices>`: classification of an object or a region.
    Choices,
    /// `<TextArea>`: free text.
    TextArea,
    /// `<Rectangle>`: unlabelled boxes on an image.
    Rectangle,
    /// `<Polygon>`: unlabelled polygons on an image.
    Polygon,
    /// `<KeyPointLabels>`: labelled points on an image; with a `<Skeleton>`
    /// child, its labels are the joints of one skeleton (a Gloss extension).
    KeyPointLabels,
    /// `<KeyPoint>`: unlabelled points on an image.
    KeyPoint,
    /// `<EllipseLabels>`: labelled ellipses on an image.
    EllipseLabels,
    /// `<Ellipse>`: unlabelled ellipses on an image.
    Ellipse,
    /// `<PolyLineLabels>`: labelled open paths on an image (a Gloss extension).
    PolyLineLabels,
    /// `<PolyLine>`: unlabelled open paths on an image (a Gloss extension).
    PolyLine,
    /// `<BrushLabels>`: labelled pixel masks on an image.
    BrushLabels,
    /// `<Brush>`: unlabelled pixel masks on an image.
    Brush,
    /// `<Number>`: a number for an object or, with `perRegion`, a region.
    Number,
    /// `<Rating>`: 1 to `maxRating` (5 by default) stars for an object or,
    /// with `perRegion`, a region.
    Rating,
    /// `<Taxonomy>`: nested `<Choice>`s; a result picks paths through them.
    Taxonomy,
    /// `<VideoRectangle>`: box tracks on a video, keyframe by keyframe; their
    /// labels come from a `<Labels>` control on the same video.
    VideoRectangle,
    /// `<TimelineLabels>`: labelled ranges of a video's frames.
    TimelineLabels,
    /// `<VideoPolygon>`: polygon tracks on a video (a Gloss extension);
    /// labels as for `VideoRectangle`.
    VideoPolygon,
    /// `<VideoPolyLine>`: open-path tracks on a video (a Gloss extension).
    VideoPolyLine,
    /// `<VideoKeyPointLabels>`: skeleton tracks on a video (a Gloss
    /// extension): its labels are the joints of its `<Skeleton>`; the
    /// tracks' own labels come from a `<Labels>` control on the video.
    VideoKeyPointLabels,
    /// `<VideoBrush>`: mask tracks on a video (a Gloss extension), labelled
    /// by a `<Labels>` control on the video.
    VideoBrush,
    /// `<Pairwise>`: which of two objects (`toName="a,b"`) is preferred;
    /// Gloss adds ties (`allowTie="true"`) and a strength (`strength="3"`).
    Pairwise,
    /// `<Ranker>`: the items of a `<List>` put in order, or into `<Bucket>`s.
    Ranker,
    /// `<ParagraphLabels>`: labelled spans of a `<Paragraphs>`' text.
    ParagraphLabels,
    /// `<HyperTextLabels>`: labelled spans of a `<HyperText>`, placed by
    /// XPath and offsets.
    HyperTextLabels,
}

/// Every control kind, for lookups by tag or result type.
pub(crate) const CONTROL_KINDS: [ControlKind; 28] = [
    ControlKind::RectangleLabels,
    ControlKind::PolygonLabels,
    ControlKind::Labels,
    ControlKind::Choices,
    ControlKind::TextArea,
    ControlKind::Rectangle,
    ControlKind::Polygon,
    ControlKind::KeyPointLabels,
    ControlKind::KeyPoint,
    ControlKind::EllipseLabels,
    ControlKind::Ellipse,
    ControlKind::PolyLineLabels,
    ControlKind::PolyLine,
    ControlKind::BrushLabels,
    ControlKind::Brush,
    ControlKind::Number,
    ControlKind::Rating,
    ControlKind::Taxonomy,
    ControlKind::VideoRectangle,
    ControlKind::TimelineLabels,
    ControlKind::VideoPolygon,
    ControlKind::VideoPolyLine,
    ControlKind::VideoKeyPointLabels,
    ControlKind::VideoBrush,
    ControlKind::Pairwise,
    ControlKind::Ranker,
    ControlKind::ParagraphLabels,
    ControlKind::HyperTextLabels,
];

impl ControlKind {
    /// The tag name as Label Studio documents it.
    pub fn tag(self) -> &'static str {
        match self {
            ControlKind::RectangleLabels => "RectangleLabels",
            ControlKind::PolygonLabels => "PolygonLabels",
            ControlKind::Labels => "Labels",
            ControlKind::Choices => "Choices",
            ControlKind::TextArea => "TextArea",
            ControlKind::Rectangle => "Rectangle",
            ControlKind::Polygon => "Polygon",
            ControlKind::KeyPointLabels => "KeyPointLabels",
            ControlKind::KeyPoint => "KeyPoint",
            ControlKind::EllipseLabels => "EllipseLabels",
            ControlKind::Ellipse => "Ellipse",
            ControlKind::PolyLineLabels => "PolyLineLabels",
            ControlKind::PolyLine => "PolyLine",
            ControlKind::BrushLabels => "BrushLabels",
            ControlKind::Brush => "Brush",
            ControlKind::Number => "Number",
            ControlKind::Rating => "Rating",
            ControlKind::Taxonomy => "Taxonomy",
            ControlKind::VideoRectangle => "VideoRectangle",
            ControlKind::TimelineLabels => "TimelineLabels",
            ControlKind::VideoPolygon => "VideoPolygon",
            ControlKind::VideoPolyLine => "VideoPolyLine",
            ControlKind::VideoKeyPointLabels => "VideoKeyPointLabels",
            ControlKind::VideoBrush => "VideoBrush",
            ControlKind::Pairwise => "Pairwise",
            ControlKind::Ranker => "Ranker",
            ControlKind::ParagraphLabels => "ParagraphLabels",
            ControlKind::HyperTextLabels => "HyperTextLabels",
        }
    }

    /// The result `type` this control produces.
    pub fn result_type(self) -> &'static str {
        match self {
            ControlKind::RectangleLabels => "rectanglelabels",
            ControlKind::PolygonLabels => "polygonlabels",
            ControlKind::Labels => "labels",
            ControlKind::Choices => "choices",
            ControlKind::TextArea => "textarea",
            ControlKind::Rectangle => "rectangle",
            ControlKind::Polygon => "polygon",
            ControlKind::KeyPointLabels => "keypointlabels",
            ControlKind::KeyPoint => "keypoint",
            ControlKind::EllipseLabels => "ellipselabels",
            ControlKind::Ellipse => "ellipse",
            ControlKind::PolyLineLabels => "polylinelabels",
            ControlKind::PolyLine => "polyline",
            ControlKind::BrushLabels => "brushlabels",
            ControlKind::Brush => "brush",
            ControlKind::Number => "number",
            ControlKind::Rating => "rating",
            ControlKind::Taxonomy => "taxonomy",
            ControlKind::VideoRectangle => "videorectangle",
            ControlKind::TimelineLabels => "timelinelabels",
            ControlKind::VideoPolygon => "videopolygon",
            ControlKind::VideoPolyLine => "videopolyline",
            ControlKind::VideoKeyPointLabels => "videokeypointlabels",
            ControlKind::VideoBrush => "videobrush",
            ControlKind::Pairwise => "pairwise",
            ControlKind::Ranker => "ranker",
            ControlKind::ParagraphLabels => "paragraphlabels",
            ControlKind::HyperTextLabels => "hypertextlabels",
        }
    }

    /// The object kinds this control can annotate.
    pub fn targets(self) -> &'static [ObjectKind] {
        match self {
            ControlKind::RectangleLabels
            | ControlKind::PolygonLabels
            | ControlKind::Rectangle
            | ControlKind::Polygon
            | ControlKind::KeyPointLabels
            | ControlKind::KeyPoint
            | ControlKind::EllipseLabels
            | ControlKind::Ellipse
            | ControlKind::PolyLineLabels
            | ControlKind::PolyLine
            | ControlKind::BrushLabels
            | ControlKind::Brush => &[ObjectKind::Image],
            // `Labels` on an `Image` labels the regions drawn by a sibling
            // `Rectangle` or `Polygon`, as in Label Studio's OCR template.
            ControlKind::VideoRectangle
            | ControlKind::VideoPolygon
            | ControlKind::VideoPolyLine
            | ControlKind::VideoKeyPointLabels
            | ControlKind::VideoBrush
            | ControlKind::TimelineLabels => &[ObjectKind::Video],
            // `Labels` on a `Video` labels the tracks of a `VideoRectangle`;
            // on an `Audio` it marks time segments (speakers, classes).
            ControlKind::Labels => &[
                ObjectKind::Image,
                ObjectKind::Text,
                ObjectKind::Video,
                ObjectKind::Audio,
            ],
            // With `perRegion="true"` on a `Chat`, one result per message.
            ControlKind::Number | ControlKind::Taxonomy => &[
                ObjectKind::Image,
                ObjectKind::Text,
                ObjectKind::Video,
                ObjectKind::Audio,
                ObjectKind::Paragraphs,
                ObjectKind::Chat,
                ObjectKind::HyperText,
            ],
            // With `perItem="true"` on a `List`, one result per item.
            ControlKind::Choices | ControlKind::TextArea | ControlKind::Rating => &[
                ObjectKind::Image,
                ObjectKind::Text,
                ObjectKind::Video,
                ObjectKind::Audio,
                ObjectKind::List,
                ObjectKind::Chat,
                ObjectKind::Paragraphs,
                ObjectKind::HyperText,
            ],
            ControlKind::Pairwise => &[
                ObjectKind::Image,
                ObjectKind::Text,
                ObjectKind::Video,
                ObjectKind::List,
                ObjectKind::Chat,
            ],
            ControlKind::Ranker => &[ObjectKind::List],
            ControlKind::ParagraphLabels => &[ObjectKind::Paragraphs],
            ControlKind::HyperTextLabels => &[ObjectKind::HyperText],
        }
    }

    /// The child tag that defines this control's options, if it has any:
    /// `Label` for the labels controls, `Choice` for `Choices`.
    pub fn option_tag(self) -> Option<&'static str> {
        match self {
            ControlKind::RectangleLabels
            | ControlKind::PolygonLabels
            | ControlKind::Labels
            | ControlKind::KeyPointLabels
            | ControlKind::EllipseLabels
            | ControlKind::PolyLineLabels
            | ControlKind::BrushLabels
            | ControlKind::VideoKeyPointLabels
            | ControlKind::TimelineLabels
            | ControlKind::ParagraphLabels
            | ControlKind::HyperTextLabels => Some("Label"),
            ControlKind::Choices | ControlKind::Taxonomy => Some("Choice"),
            ControlKind::TextArea
            | ControlKind::Rectangle
            | ControlKind::Polygon
            | ControlKind::KeyPoint
            | ControlKind::Ellipse
            | ControlKind::PolyLine
            | ControlKind::Brush
            | ControlKind::Number
            | ControlKind::Rating
            | ControlKind::VideoRectangle
            | ControlKind::VideoPolygon
            | ControlKind::VideoPolyLine
            | ControlKind::VideoBrush
            | ControlKind::Pairwise
            | ControlKind::Ranker => None,
        }
    }
}

/// How many choices a `Choices` control (or labels per region) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChoiceMode {
    /// `single`: at most one, shown as checkboxes.
    Single,
    /// `single-radio`: at most one, shown as radio buttons.
    SingleRadio,
    /// `multiple`: any number.
    Multiple,
}

impl ChoiceMode {
    /// Whether at most one option may be picked.
    pub fn is_single(self) -> bool {
        !matches!(self, ChoiceMode::Multiple)
    }
}

/// A control tag: a tool that produces results on object tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlTag {
    /// Which control tag this is.
    pub kind: ControlKind,
    /// The tag's `name`, which results carry as `from_name`.
    pub name: String,
    /// Names of the object tags this control annotates (`toName`, split on
    /// commas, or inferred when the config has exactly one object tag).
    pub to_names: Vec<String>,
    /// `Label` or `Choice` children, in document order.
    pub labels: Vec<LabelDef>,
    /// The task data key that supplies options at run time (`value="$key"`
    /// on a labels or choices control); `labels` may then be empty.
    pub labels_from: Option<String>,
    /// `choice` mode: always set for `Choices` (default `single`), and for
    /// other controls only when the attribute is written.
    pub choice: Option<ChoiceMode>,
    /// `perRegion="true"`: one result per region rather than per object.
    pub per_region: bool,
    /// `required="true"`: the annotation needs a result from this control.
    pub required: bool,
    /// The `<Skeleton>` of a `KeyPointLabels` control (a Gloss extension):
    /// its labels are then the joints of one kind of skeleton, in order.
    pub skeleton: Option<Skeleton>,
    /// A `Ranker`'s `<Bucket>`s, in document order (empty: it ranks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<Bucket>,
    /// Every attribute as written, including the ones above.
    pub attributes: BTreeMap<String, String>,
    /// 1-based line of the tag in the config.
    pub line: u32,
    /// 1-based column of the tag in the config.
    pub column: u32,
}

impl ControlTag {
    /// A `Rating`'s highest rating: its `maxRating`, 5 when absent or not a
    /// whole number from 1.
    pub fn max_rating(&self) -> u32 {
        self.attributes
            .get("maxRating")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|&n| n >= 1)
            .unwrap_or(5)
    }

    /// `perItem="true"`: one result per item of the object (each item of a
    /// `List`), the item given by the result's `item_index`.
    pub fn per_item(&self) -> bool {
        self.attributes
            .get("perItem")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// A `Pairwise`'s `allowTie="true"` (a Gloss extension): `"tie"` may be
    /// selected.
    pub fn allows_tie(&self) -> bool {
        self.attributes
            .get("allowTie")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// A `Pairwise`'s `strength` (a Gloss extension): the highest strength a
    /// preference may have (from 1, "slightly", up); `None` when the control
    /// takes no strength.
    pub fn max_strength(&self) -> Option<u32> {
        self.attributes
            .get("strength")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|&n| n >= 2)
    }

    /// The column a `Ranker` without buckets writes: its own name.
    pub fn ranker_columns(&self) -> Vec<&str> {
        if self.buckets.is_empty() {
            vec![self.name.as_str()]
        } else {
            let mut columns: Vec<&str> = self.buckets.iter().map(|b| b.name.as_str()).collect();
            if !self.buckets.iter().any(|b| b.default) {
                columns.push("_");
            }
            columns
        }
    }

    /// Whether a result may carry `value` as a label or choice: it matches
    /// an option's `value` or `alias`, or options come from task data.
    pub fn allows_label(&self, value: &str) -> bool {
        self.labels_from.is_some()
            || self
                .labels
                .iter()
                .any(|l| l.value == value || l.alias.as_deref() == Some(value))
    }
}

/// A skeleton: how the joints of a `KeyPointLabels` control connect, as in a
/// COCO keypoint category. Gloss's extension of Label Studio's config:
///
/// ```xml
/// <KeyPointLabels name="pose" toName="image">
///   <Label value="nose"/><Label value="left_eye"/><Label value="right_eye"/>
///   <Skeleton value="person">
///     <Edge from="nose" to="left_eye"/>
///     <Edge from="nose" to="right_eye"/>
///   </Skeleton>
/// </KeyPointLabels>
/// ```
///
/// The joints are the control's labels, in order. The points of one
/// instance are `keypointlabels` results sharing a `parentID`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skeleton {
    /// The kind of skeleton (`value`), the COCO category name on export.
    pub value: String,
    /// Edges between joints, by label value, in document order.
    pub edges: Vec<[String; 2]>,
    /// 1-based line of the tag in the config.
    pub line: u32,
    /// 1-based column of the tag in the config.
    pub column: u32,
}

/// A `<Bucket>` of a `Ranker`: a column items can be moved into.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// `name`: the column's key in results.
    pub name: String,
    /// `title`: the column's heading.
    pub title: Option<String>,
    /// `default="true"`: the items start in this bucket.
    pub default: bool,
}

/// One `Label` or `Choice` of a control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelDef {
    /// The option's `value`, as results carry it.
    pub value: String,
    /// `background`: the colour used to draw regions with this label.
    pub background: Option<String>,
    /// `hotkey`: the key that selects the option.
    pub hotkey: Option<String>,
    /// `alias`: a value results may carry instead of `value`.
    pub alias: Option<String>,
    /// 1-based line of the tag in the config.
    pub line: u32,
    /// 1-based column of the tag in the config.
    pub column: u32,
    /// A `Taxonomy` choice's ancestors, outermost first (empty at the top,
    /// and for every other control's options).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

/// A Label Studio tag that Gloss does not support yet, kept so that configs
/// using it still import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnsupportedTag {
    /// The tag name as written, e.g. `KeyPointLabels`.
    pub tag: String,
    /// The tag's `name`, if it has one.
    pub name: Option<String>,
    /// Every attribute as written.
    pub attributes: BTreeMap<String, String>,
    /// 1-based line of the tag in the config.
    pub line: u32,
    /// 1-based column of the tag in the config.
    pub column: u32,
}

/// One node of the layout tree; objects and controls are referred to by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Node {
    /// `<View>`: a container; its attributes (`style`, …) are kept as written.
    View {
        /// Every attribute as written.
        attributes: BTreeMap<String, String>,
        /// Child nodes in document order.
        children: Vec<Node>,
    },
    /// `<Header>`: a heading, from its `value` attribute or its text.
    Header {
        /// The heading text; `$key` means a task data field.
        value: String,
    },
    /// `<Style>`: CSS for the layout.
    Style {
        /// The CSS text.
        css: String,
    },
    /// An object tag, see [`LabelConfig::object`].
    Object {
        /// The object's name.
        name: String,
    },
    /// A control tag, see [`LabelConfig::control`].
    Control {
        /// The control's name.
        name: String,
    },
    /// A tag Gloss does not support yet, see [`LabelConfig::unsupported`].
    Unsupported {
        /// The tag name as written.
        tag: String,
        /// Child nodes in document order.
        children: Vec<Node>,
    },
}

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The config cannot be used until this is fixed.
    Error,
    /// The config works, but probably not as meant.
    Warning,
}

/// A problem found in a label config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable snake_case code, e.g. `unknown_to_name`.
    pub code: &'static str,
    /// Whether the config is still usable.
    pub severity: Severity,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, naming the tag and attribute.
    pub message: String,
}

/// Whether `diagnostics` hold an error, i.e. the config is not usable.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

impl LabelConfig {
    /// The control tag called `name`.
    pub fn control(&self, name: &str) -> Option<&ControlTag> {
        self.controls.iter().find(|c| c.name == name)
    }

    /// The object tag called `name`.
    pub fn object(&self, name: &str) -> Option<&ObjectTag> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// The unsupported tag called `name`.
    pub fn unsupported_tag(&self, name: &str) -> Option<&UnsupportedTag> {
        self.unsupported
            .iter()
            .find(|u| u.name.as_deref() == Some(name))
    }

    /// The task data keys the config reads, in order of first use: object
    /// values, `$key` headers, dynamic options, and `$key` values of
    /// unsupported tags (so imports can check them too).
    pub fn data_keys(&self) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for object in &self.objects {
            found.push(&object.value);
        }
        collect_header_keys(&self.layout, &mut found);
        for control in &self.controls {
            found.extend(control.labels_from.as_deref());
        }
        for tag in &self.unsupported {
            found.extend(tag.attributes.get("value").and_then(|v| data_key(v)));
        }
        let mut keys = Vec::new();
        for key in found {
            // An object with a missing or bad value has an empty key.
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}

fn collect_header_keys<'a>(nodes: &'a [Node], found: &mut Vec<&'a str>) {
    for node in nodes {
        match node {
            Node::Header { value } => {
                found.extend(data_key(value));
            }
            Node::View { children, .. } | Node::Unsupported { children, .. } => {
                collect_header_keys(children, found)
            }
            Node::Style { .. } | Node::Object { .. } | Node::Control { .. } => {}
        }
    }
}

/// The data key in a `$key` reference, or `None` for a literal value.
pub(crate) fn data_key(value: &str) -> Option<&str> {
    let key = value.strip_prefix('$')?;
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then_some(key)
}
