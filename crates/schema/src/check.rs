//! Checking annotation results against a label config.

use gloss_types::result::{
    BrushValue, EllipseValue, KeyPointValue, PairwiseValue, RankerValue, ResultItem, ResultValue,
    VideoRectangleValue,
};
use serde::Serialize;

use crate::model::{ChoiceMode, ControlKind, ControlTag, LabelConfig, ObjectKind, CONTROL_KINDS};

/// Slack for sums of percentages, which Label Studio computes in floating point.
const EPSILON: f64 = 1e-6;

/// A problem with one result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultProblem {
    /// Stable snake_case code, e.g. `unknown_label`.
    pub code: &'static str,
    /// JSON path of the offending part within the result, e.g. `value.x`
    /// or `value.rectanglelabels[1]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Checks one result against `config`; an empty list means it is valid.
///
/// Results from tags Gloss does not support yet, and results of a type Gloss
/// does not know, are accepted unchecked so that imports keep them.
pub fn check_result(config: &LabelConfig, item: &ResultItem) -> Vec<ResultProblem> {
    let mut problems = Problems::default();
    // A relation names no control; its ends are checked with the others
    // (`check_results`).
    if matches!(item.value, ResultValue::Relation(_)) {
        return Vec::new();
    }
    if item.value.type_name() == "chatmessage" {
        check_chat_message(config, item, &mut problems);
        return problems.0;
    }
    if let ResultValue::Other { type_name, .. } = &item.value {
        if !is_known_type(type_name) {
            return Vec::new();
        }
    }
    let Some(control) = config.control(&item.from_name) else {
        if config.unsupported_tag(&item.from_name).is_none() {
            problems.add(
                "unknown_from_name",
                "from_name",
                format!("no control tag is named \"{}\"", item.from_name),
            );
        }
        return problems.0;
    };
    // Label Studio's Pairwise results name one of the pair or the pair.
    let pair_name = control.kind == ControlKind::Pairwise
        && (item.to_name == control.to_names.join(",") || item.to_name == control.name);
    if pair_name {
        let target = control
            .to_names
            .first()
            .and_then(|n| config.object(n))
            .map(|o| o.kind);
        check_value(control, target, &item.value, &mut problems);
        return problems.0;
    }
    if !control.to_names.contains(&item.to_name) {
        problems.add(
            "unknown_to_name",
            "to_name",
            format!(
                "control \"{}\" does not annotate \"{}\"; it annotates {}",
                control.name,
                item.to_name,
                quoted_list(&control.to_names)
            ),
        );
    } else if config.object(&item.to_name).is_none() {
        // The target is a tag Gloss does not support: it cannot judge the value.
        return problems.0;
    }
    let type_name = item.value.type_name();
    if type_name != control.kind.result_type() {
        problems.add(
            "wrong_type",
            "type",
            format!(
                "control \"{}\" is a {} and produces \"{}\" results, not \"{type_name}\"",
                control.name,
                control.kind.tag(),
                control.kind.result_type()
            ),
        );
        return problems.0;
    }
    let target = config.object(&item.to_name).map(|o| o.kind);
    if control.kind == ControlKind::Ranker && target != Some(ObjectKind::List) {
        // Label Studio's older Ranker: its results are kept unchecked.
        return problems.0;
    }
    check_value(control, target, &item.value, &mut problems);
    check_item_index(control, target, item, &mut problems);
    let track_labels = match &item.value {
        ResultValue::VideoRectangle(track) => Some(&track.labels),
        ResultValue::VideoPolygon(track)
        | ResultValue::VideoPolyLine(track)
        | ResultValue::VideoKeyPointLabels(track)
        | ResultValue::VideoBrush(track) => Some(&track.labels),
        _ => None,
    };
    if let Some(track_labels) = track_labels {
        // A track's labels come from a Labels control on the same video.
        let labels_control = config
            .controls
            .iter()
            .find(|c| c.kind == ControlKind::Labels && c.to_names.contains(&item.to_name));
        match labels_control {
            Some(labels) => check_labels(labels, "labels", track_labels, &mut problems),
            None if !track_labels.is_empty() => problems.add(
                "unknown_label",
                "value.labels",
                format!("no <Labels> control labels \"{}\"", item.to_name),
            ),
            None => {}
        }
    }
    let brush = match &item.value {
        ResultValue::Brush(v) => Some(v),
        ResultValue::BrushLabels(v) => Some(&v.shape),
        _ => None,
    };
    if let Some(brush) = brush {
        check_mask(
            brush,
            item.original_width,
            item.original_height,
            &mut problems,
        );
    }
    if let ResultValue::VideoBrush(track) = &item.value {
        // Each keyframe's mask decodes at the result's size.
        for (index, key) in track.sequence.iter().enumerate() {
            let Some(counts) = &key.counts else { continue };
            let brush = BrushValue {
                format: "coco_rle".into(),
                rle: None,
                counts: Some(counts.clone()),
                extra: Default::default(),
            };
            let mut found = Problems::default();
            check_mask(
                &brush,
                item.original_width,
                item.original_height,
                &mut found,
            );
            if found.0.iter().any(|p| p.code == "missing_size") {
                problems.0.extend(found.0);
                break;
            }
            found.move_into(index, &mut problems);
        }
    }
    problems.0
}

/// Checks every result; each problem comes with the index of its result.
pub fn check_results(config: &LabelConfig, items: &[ResultItem]) -> Vec<(usize, ResultProblem)> {
    let mut found: Vec<(usize, ResultProblem)> = items
        .iter()
        .enumerate()
        .flat_map(|(index, item)| {
            check_result(config, item)
                .into_iter()
                .map(move |problem| (index, problem))
        })
        .collect();
    check_chat_labels(config, items, &mut found);
    // A relation joins two regions of the same annotation.
    for (index, item) in items.iter().enumerate() {
        let ResultValue::Relation(relation) = &item.value else {
            continue;
        };
        check_relation_labels(config, &relation.labels, |problem| {
            found.push((index, problem))
        });
        for (key, id) in [("from_id", &relation.from_id), ("to_id", &relation.to_id)] {
            let known = items.iter().any(|other| {
                !matches!(other.value, ResultValue::Relation(_)) && other.id.as_ref() == Some(id)
            });
            if !known {
                found.push((
                    index,
                    ResultProblem {
                        code: "unknown_region",
                        field: key.to_owned(),
                        message: format!("no region of the annotation has the id \"{id}\""),
                    },
                ));
            }
        }
    }
    found
}

/// A relation's labels: those of the config's `<Relations>` (one unless it
/// says `choice="multiple"`), or none without one.
fn check_relation_labels(
    config: &LabelConfig,
    labels: &[String],
    mut report: impl FnMut(ResultProblem),
) {
    let Some(relations) = &config.relations else {
        return;
    };
    for (index, label) in labels.iter().enumerate() {
        if !relations.labels.iter().any(|l| &l.value == label) {
            report(ResultProblem {
                code: "unknown_label",
                field: format!("labels[{index}]"),
                message: format!("\"{label}\" is not a label of the config's <Relations>"),
            });
        }
    }
    if !relations.multiple && labels.len() > 1 {
        report(ResultProblem {
            code: "too_many_labels",
            field: "labels".into(),
            message: format!(
                "<Relations> allows one label a relation (choice=\"multiple\" allows more), the relation has {}",
                labels.len()
            ),
        });
    }
}

#[derive(Default)]
struct Problems(Vec<ResultProblem>);

impl Problems {
    fn add(&mut self, code: &'static str, field: impl Into<String>, message: String) {
        self.0.push(ResultProblem {
            code,
            field: field.into(),
            message,
        });
    }

    /// Moves problems found on keyframe `index` (fields `value.…`) to
    /// `into`, their fields `value.sequence[index].…`.
    fn move_into(self, index: usize, into: &mut Problems) {
        for problem in self.0 {
            let field = problem
                .field
                .replacen("value.", &format!("value.sequence[{index}]."), 1);
            into.add(problem.code, field, problem.message);
        }
    }
}

/// Whether a typed variant exists for `type_name`, so that an `Other` with
/// that type means its value did not have the expected shape.
fn is_known_type(type_name: &str) -> bool {
    CONTROL_KINDS
        .iter()
        .any(|kind| kind.result_type() == type_name)
}

fn check_value(
    control: &ControlTag,
    target: Option<ObjectKind>,
    value: &ResultValue,
    problems: &mut Problems,
) {
    match value {
        ResultValue::RectangleLabels(v) => {
            check_box(v.x, v.y, v.width, v.height, v.rotation, problems);
            check_labels(control, "rectanglelabels", &v.rectanglelabels, problems);
        }
        ResultValue::Rectangle(v) => check_box(v.x, v.y, v.width, v.height, v.rotation, problems),
        ResultValue::PolygonLabels(v) => {
            check_points(&v.points, 3, "polygon", problems);
            check_labels(control, "polygonlabels", &v.polygonlabels, problems);
        }
        ResultValue::Polygon(v) => check_points(&v.points, 3, "polygon", problems),
        ResultValue::Choices(v) => {
            check_labels(control, "choices", &v.choices, problems);
            let single = control.choice.is_some_and(ChoiceMode::is_single);
            if single && v.choices.len() > 1 {
                problems.add(
                    "too_many_choices",
                    "value.choices",
                    format!(
                        "control \"{}\" allows one choice, the result has {}",
                        control.name,
                        v.choices.len()
                    ),
                );
            }
        }
        ResultValue::AudioLabels(v) => {
            if target.is_some_and(|t| t != ObjectKind::Audio) {
                problems.add(
                    "bad_span",
                    "value.start",
                    "a span in seconds marks a sound; text spans count code points in whole numbers"
                        .into(),
                );
            } else if !(v.start.is_finite() && v.end.is_finite() && 0.0 <= v.start) {
                problems.add(
                    "bad_segment",
                    "value.start",
                    format!(
                        "segment {}–{} s: times are seconds from the start, 0 or more",
                        v.start, v.end
                    ),
                );
            } else if v.start > v.end {
                problems.add(
                    "bad_segment",
                    "value.start",
                    format!("segment starts at {} s after its end {} s", v.start, v.end),
                );
            }
            check_labels(control, "labels", &v.labels, problems);
        }
        ResultValue::HyperTextLabels(v) => {
            for (field, path) in [("value.start", &v.start), ("value.end", &v.end)] {
                if !path.starts_with('/') {
                    problems.add(
                        "bad_span",
                        field,
                        format!("\"{path}\" is not an XPath such as /p[1]/text()[1]"),
                    );
                }
            }
            if let Some(global) = v.global_offsets {
                if global.start > global.end {
                    problems.add(
                        "bad_span",
                        "value.globalOffsets.start",
                        format!(
                            "span starts at {} after its end {}",
                            global.start, global.end
                        ),
                    );
                }
            }
            check_labels(control, "htmllabels", &v.htmllabels, problems);
        }
        ResultValue::ParagraphLabels(v) => {
            let start = (v.start.index, v.start_offset);
            let end = (v.end.index, v.end_offset);
            if start > end {
                problems.add(
                    "bad_span",
                    "value.start",
                    format!(
                        "span starts at paragraph {}, offset {}, after its end at paragraph {}, offset {}",
                        start.0, start.1, end.0, end.1
                    ),
                );
            }
            check_labels(control, "paragraphlabels", &v.paragraphlabels, problems);
        }
        ResultValue::Labels(v) => {
            if v.start > v.end {
                problems.add(
                    "bad_span",
                    "value.start",
                    format!("span starts at {} after its end {}", v.start, v.end),
                );
            }
            check_labels(control, "labels", &v.labels, problems);
        }
        ResultValue::TextArea(_) => {}
        ResultValue::KeyPointLabels(v) => {
            check_key_point(&v.shape, problems);
            check_labels(control, "keypointlabels", &v.labels, problems);
        }
        ResultValue::KeyPoint(v) => check_key_point(v, problems),
        ResultValue::EllipseLabels(v) => {
            check_ellipse(&v.shape, problems);
            check_labels(control, "ellipselabels", &v.labels, problems);
        }
        ResultValue::Ellipse(v) => check_ellipse(v, problems),
        ResultValue::PolyLineLabels(v) => {
            check_points(&v.shape.points, 2, "polyline", problems);
            check_labels(control, "polylinelabels", &v.labels, problems);
        }
        ResultValue::PolyLine(v) => check_points(&v.points, 2, "polyline", problems),
        ResultValue::BrushLabels(v) => {
            check_brush(&v.shape, problems);
            check_labels(control, "brushlabels", &v.labels, problems);
        }
        ResultValue::Brush(v) => check_brush(v, problems),
        ResultValue::Number(v) => check_number(control, v.number, problems),
        ResultValue::Rating(v) => check_rating(control, v.rating, problems),
        ResultValue::Taxonomy(v) => check_taxonomy(control, &v.taxonomy, problems),
        // Checked with the annotation's other results (`check_results`).
        ResultValue::Relation(_) => {}
        ResultValue::VideoRectangle(v) => check_track(v, problems),
        ResultValue::VideoPolygon(v) => {
            check_shape_track(control, v, TrackedShape::Polygon, problems)
        }
        ResultValue::VideoPolyLine(v) => {
            check_shape_track(control, v, TrackedShape::PolyLine, problems)
        }
        ResultValue::VideoKeyPointLabels(v) => {
            check_shape_track(control, v, TrackedShape::Skeleton, problems)
        }
        ResultValue::VideoBrush(v) => check_shape_track(control, v, TrackedShape::Mask, problems),
        ResultValue::TimelineLabels(v) => {
            for (index, range) in v.ranges.iter().enumerate() {
                if range.start == 0 || range.end < range.start {
                    problems.add(
                        "bad_range",
                        format!("value.ranges[{index}]"),
                        format!(
                            "frames {} to {}: ranges are 1-based and end at or after their start",
                            range.start, range.end
                        ),
                    );
                }
            }
            check_labels(control, "timelinelabels", &v.timelinelabels, problems);
        }
        ResultValue::Pairwise(v) => check_pairwise(control, v, problems),
        ResultValue::Ranker(v) => check_ranker(control, v, problems),
        // Labels on an image region carry the region's box, not a text span,
        // so they do not parse as `LabelsValue`; only their labels are checked.
        ResultValue::Other { type_name, value }
            if type_name == "labels" && target == Some(ObjectKind::Image) =>
        {
            match string_list(value.get("labels")) {
                Some(labels) => check_labels(control, "labels", &labels, problems),
                None => problems.add(
                    "malformed_value",
                    "value.labels",
                    "labels on an image region need a list of label values".into(),
                ),
            }
        }
        ResultValue::Other { type_name, .. } => problems.add(
            "malformed_value",
            "value",
            format!("the value does not have the shape of a \"{type_name}\" result"),
        ),
        // Checked by `check_chat_message`: a message names its chat, not a control.
        ResultValue::ChatMessage(_) => {}
    }
}

/// The roles a chat message may have.
/// Label Studio's: OpenAI's chat roles.
pub const CHAT_ROLES: [&str; 5] = ["user", "assistant", "system", "tool", "developer"];

/// Checks a `chatmessage` result (typed or not): it belongs to a `<Chat>`,
/// by the chat's name as both `from_name` and `to_name`.
fn check_chat_message(config: &LabelConfig, item: &ResultItem, problems: &mut Problems) {
    let chat = config
        .object(&item.from_name)
        .filter(|object| object.kind == ObjectKind::Chat);
    if chat.is_none() {
        if config.unsupported_tag(&item.from_name).is_none() {
            problems.add(
                "unknown_from_name",
                "from_name",
                format!("no <Chat> is named \"{}\"", item.from_name),
            );
        }
        return;
    }
    if item.to_name != item.from_name {
        problems.add(
            "unknown_to_name",
            "to_name",
            format!(
                "a chat message's to_name is its chat, \"{}\", not \"{}\"",
                item.from_name, item.to_name
            ),
        );
    }
    match &item.value {
        ResultValue::ChatMessage(message) => {
            let role = message.chatmessage.role.as_str();
            if !CHAT_ROLES.contains(&role) {
                problems.add(
                    "bad_role",
                    "value.chatmessage.role",
                    format!("\"{role}\" is not a chat role; use user, assistant, system, tool or developer"),
                );
            }
            if item.id.as_deref().is_none_or(str::is_empty) {
                problems.add(
                    "missing_id",
                    "id",
                    "a chat message needs an id, which its labels refer to".into(),
                );
            }
        }
        _ => problems.add(
            "malformed_value",
            "value.chatmessage",
            "a chat message is {\"chatmessage\": {\"role\": …, \"content\": \"text\"}}".into(),
        ),
    }
}

/// Per-message labels: a result of a `perRegion` control on a `<Chat>` has
/// the `id` of the message it labels, and labels it once.
fn check_chat_labels(
    config: &LabelConfig,
    items: &[ResultItem],
    found: &mut Vec<(usize, ResultProblem)>,
) {
    for (index, item) in items.iter().enumerate() {
        let Some(control) = config.control(&item.from_name) else {
            continue;
        };
        let on_chat = config
            .object(&item.to_name)
            .is_some_and(|object| object.kind == ObjectKind::Chat);
        if !on_chat || !control.per_region || matches!(item.value, ResultValue::Relation(_)) {
            continue;
        }
        let problem = |message: String| ResultProblem {
            code: "unknown_message",
            field: "id".to_owned(),
            message,
        };
        let Some(id) = item.id.as_deref() else {
            found.push((
                index,
                problem(format!(
                    "control \"{}\" labels single messages (perRegion): the result needs the id of its message",
                    control.name
                )),
            ));
            continue;
        };
        let message = items.iter().any(|other| {
            matches!(other.value, ResultValue::ChatMessage(_))
                && other.from_name == item.to_name
                && other.id.as_deref() == Some(id)
        });
        if !message {
            found.push((
                index,
                problem(format!(
                    "no message of chat \"{}\" has the id \"{id}\"",
                    item.to_name
                )),
            ));
            continue;
        }
        let twice = items[..index]
            .iter()
            .any(|other| other.from_name == item.from_name && other.id.as_deref() == Some(id));
        if twice {
            found.push((
                index,
                ResultProblem {
                    code: "duplicate_result",
                    field: "id".to_owned(),
                    message: format!(
                        "control \"{}\" already labels message \"{id}\" in this annotation",
                        control.name
                    ),
                },
            ));
        }
    }
}

fn check_labels(control: &ControlTag, key: &str, values: &[String], problems: &mut Problems) {
    for (index, value) in values.iter().enumerate() {
        if !control.allows_label(value) {
            problems.add(
                "unknown_label",
                format!("value.{key}[{index}]"),
                format!(
                    "\"{value}\" is not an option of control \"{}\"",
                    control.name
                ),
            );
        }
    }
}

fn in_percent_range(v: f64) -> bool {
    v.is_finite() && (0.0..=100.0).contains(&v)
}

fn check_box(
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    rotation: Option<f64>,
    problems: &mut Problems,
) {
    let mut all_in_range = true;
    for (name, v) in [("x", x), ("y", y), ("width", width), ("height", height)] {
        if !in_percent_range(v) {
            all_in_range = false;
            problems.add(
                "out_of_range",
                format!("value.{name}"),
                format!("{name} is {v}, outside 0 to 100 percent"),
            );
        }
    }
    // A rotated box's unrotated extent may leave the image while its
    // rotated corners stay inside, so the sums only bind unrotated boxes.
    let rotated = rotation.is_some_and(|r| r != 0.0);
    if all_in_range && !rotated {
        for (name, start, size) in [("width", x, width), ("height", y, height)] {
            if start + size > 100.0 + EPSILON {
                let axis = if name == "width" { "x" } else { "y" };
                problems.add(
                    "out_of_range",
                    format!("value.{name}"),
                    format!(
                        "{axis} + {name} is {}, past the edge of the image",
                        start + size
                    ),
                );
            }
        }
    }
    if let Some(r) = rotation {
        if !r.is_finite() {
            problems.add("out_of_range", "value.rotation", format!("rotation is {r}"));
        }
    }
}

fn check_points(points: &[[f64; 2]], least: usize, shape: &str, problems: &mut Problems) {
    if points.len() < least {
        problems.add(
            "too_few_points",
            "value.points",
            format!(
                "a {shape} needs at least {least} points, this one has {}",
                points.len()
            ),
        );
    }
    for (index, [x, y]) in points.iter().enumerate() {
        for (axis, (v, name)) in [(x, "x"), (y, "y")].into_iter().enumerate() {
            if !in_percent_range(*v) {
                problems.add(
                    "out_of_range",
                    format!("value.points[{index}][{axis}]"),
                    format!("point {index} has {name} = {v}, outside 0 to 100 percent"),
                );
            }
        }
    }
}

fn check_position(x: f64, y: f64, problems: &mut Problems) {
    for (name, v) in [("x", x), ("y", y)] {
        if !in_percent_range(v) {
            problems.add(
                "out_of_range",
                format!("value.{name}"),
                format!("{name} is {v}, outside 0 to 100 percent"),
            );
        }
    }
}

/// Keyframes: 1-based, in increasing frame order, within `framesCount`,
/// each a box inside the frame (unless rotated, as for image boxes).
fn check_track(track: &VideoRectangleValue, problems: &mut Problems) {
    check_keyframe_order(
        track.sequence.iter().map(|k| k.frame),
        track.frames_count,
        problems,
    );
    for (index, key) in track.sequence.iter().enumerate() {
        let mut boxed = Problems::default();
        check_box(
            key.x,
            key.y,
            key.width,
            key.height,
            key.rotation,
            &mut boxed,
        );
        boxed.move_into(index, problems);
    }
}

/// The shapes a shape track can follow.
#[derive(Clone, Copy)]
enum TrackedShape {
    Polygon,
    PolyLine,
    Skeleton,
    Mask,
}

/// Keyframes in order, each shape whole and inside the frame: a polygon
/// with 3 points or more, a polyline with 2, a skeleton's joints labels of
/// the control, each once. A disabled keyframe may leave its shape out.
fn check_shape_track(
    control: &ControlTag,
    track: &gloss_types::result::ShapeTrackValue,
    shape: TrackedShape,
    problems: &mut Problems,
) {
    check_keyframe_order(
        track.sequence.iter().map(|k| k.frame),
        track.frames_count,
        problems,
    );
    for (index, key) in track.sequence.iter().enumerate() {
        let mut found = Problems::default();
        match shape {
            TrackedShape::Polygon | TrackedShape::PolyLine => {
                let (least, name) = match shape {
                    TrackedShape::Polygon => (3, "polygon"),
                    _ => (2, "polyline"),
                };
                if key.enabled || !key.points.is_empty() {
                    check_points(&key.points, least, name, &mut found);
                }
            }
            TrackedShape::Mask => {
                if key.enabled
                    && (key.format.as_deref() != Some("coco_rle") || key.counts.is_none())
                {
                    found.add(
                        "bad_mask",
                        "value.counts",
                        "a mask keyframe needs \"format\": \"coco_rle\" and its \"counts\"".into(),
                    );
                }
            }
            TrackedShape::Skeleton => {
                if key.enabled && key.joints.is_empty() {
                    found.add(
                        "too_few_points",
                        "value.joints",
                        "a skeleton keyframe needs at least one joint".into(),
                    );
                }
                for (at, joint) in key.joints.iter().enumerate() {
                    let mut placed = Problems::default();
                    check_position(joint.x, joint.y, &mut placed);
                    for problem in placed.0 {
                        let field =
                            problem
                                .field
                                .replacen("value.", &format!("value.joints[{at}]."), 1);
                        found.add(problem.code, field, problem.message);
                    }
                    if !control.allows_label(&joint.label) {
                        found.add(
                            "unknown_label",
                            format!("value.joints[{at}].label"),
                            format!(
                                "\"{}\" is not a joint (label) of control \"{}\"",
                                joint.label, control.name
                            ),
                        );
                    }
                    if key.joints[..at].iter().any(|j| j.label == joint.label) {
                        found.add(
                            "duplicate_joint",
                            format!("value.joints[{at}].label"),
                            format!("joint \"{}\" is given twice on this keyframe", joint.label),
                        );
                    }
                    if joint
                        .visibility
                        .as_deref()
                        .is_some_and(|v| !matches!(v, "visible" | "occluded"))
                    {
                        found.add(
                            "bad_visibility",
                            format!("value.joints[{at}].visibility"),
                            "visibility is \"visible\" or \"occluded\"".into(),
                        );
                    }
                }
            }
        }
        found.move_into(index, problems);
    }
}

/// Keyframe frames: 1-based, increasing, within `frames_count`; at least one.
fn check_keyframe_order(
    frames: impl Iterator<Item = u64>,
    frames_count: Option<u64>,
    problems: &mut Problems,
) {
    let mut previous = 0;
    let mut any = false;
    for (index, frame) in frames.enumerate() {
        any = true;
        let field = format!("value.sequence[{index}].frame");
        if frame == 0 {
            problems.add("bad_frame", field, "frames are numbered from 1".into());
        } else if frame <= previous {
            problems.add(
                "bad_frame",
                field,
                format!("frame {frame} comes after frame {previous}; keyframes are in increasing frame order"),
            );
        } else if frames_count.is_some_and(|count| frame > count) {
            problems.add(
                "bad_frame",
                field,
                format!(
                    "frame {frame} is past the video's {} frames",
                    frames_count.unwrap_or(0)
                ),
            );
        }
        previous = previous.max(frame);
    }
    if !any {
        problems.add(
            "too_few_points",
            "value.sequence",
            "a track needs at least one keyframe".into(),
        );
    }
}

fn check_key_point(point: &KeyPointValue, problems: &mut Problems) {
    check_position(point.x, point.y, problems);
    if let Some(visibility) = point.visibility.as_deref() {
        if !matches!(visibility, "visible" | "occluded") {
            problems.add(
                "bad_visibility",
                "value.visibility",
                format!(
                    "visibility is \"{visibility}\"; it is \"visible\" or \"occluded\" \
                     (a point absent from the image has no result)"
                ),
            );
        }
    }
}

fn check_ellipse(ellipse: &EllipseValue, problems: &mut Problems) {
    check_position(ellipse.x, ellipse.y, problems);
    for (name, v) in [("radiusX", ellipse.radius_x), ("radiusY", ellipse.radius_y)] {
        if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
            problems.add(
                "out_of_range",
                format!("value.{name}"),
                format!("{name} is {v}, outside 0 to 100 percent"),
            );
        }
    }
    if let Some(r) = ellipse.rotation.filter(|r| !r.is_finite()) {
        problems.add("out_of_range", "value.rotation", format!("rotation is {r}"));
    }
}

/// A mask must decode at the size of its pixel grid, the result's
/// `original_width` × `original_height`.
fn check_mask(
    brush: &BrushValue,
    width: Option<u32>,
    height: Option<u32>,
    problems: &mut Problems,
) {
    let (Some(width), Some(height)) = (width, height) else {
        problems.add(
            "missing_size",
            "original_width",
            "a mask needs original_width and original_height, the size of its pixel grid".into(),
        );
        return;
    };
    // A wrong format or missing key is reported by `check_brush`.
    if let Err(gloss_masks::BrushError::Mask(err)) = gloss_masks::brush_rle(brush, width, height) {
        let key = if brush.format == "rle" {
            "rle"
        } else {
            "counts"
        };
        problems.add("bad_mask", format!("value.{key}"), err.to_string());
    }
}

fn check_brush(brush: &BrushValue, problems: &mut Problems) {
    let (key, present) = match brush.format.as_str() {
        "rle" => ("rle", brush.rle.is_some()),
        "coco_rle" => ("counts", brush.counts.is_some()),
        other => {
            problems.add(
                "bad_format",
                "value.format",
                format!("mask format is \"{other}\"; Gloss reads \"rle\" (Label Studio) and \"coco_rle\""),
            );
            return;
        }
    };
    if !present {
        problems.add(
            "malformed_value",
            format!("value.{key}"),
            format!("a \"{}\" mask needs its {key}", brush.format),
        );
    }
}

/// A result of a `perItem` control names its item of the `List` with a
/// top-level `item_index` (0-based, as Label Studio's multi-item objects do);
/// other results on a `List` rate or describe the list as a whole.
fn check_item_index(
    control: &ControlTag,
    target: Option<ObjectKind>,
    item: &ResultItem,
    problems: &mut Problems,
) {
    if target != Some(ObjectKind::List) || !control.per_item() {
        return;
    }
    match item.extra.get("item_index") {
        Some(index) if index.as_u64().is_some() => {}
        Some(index) => problems.add(
            "bad_item_index",
            "item_index",
            format!("item_index is {index}; it must be a whole number from 0 (the item's place in the list)"),
        ),
        None => problems.add(
            "missing_item_index",
            "item_index",
            format!(
                "control \"{}\" rates each item of the list (perItem): the result needs item_index",
                control.name
            ),
        ),
    }
}

/// A pairwise preference: `left` or `right`, or `tie` where the control
/// allows it (`allowTie`, a Gloss extension); a strength only where the
/// control has a scale (`strength`), a whole number on it, and never on a tie.
fn check_pairwise(control: &ControlTag, value: &PairwiseValue, problems: &mut Problems) {
    let tie = value.selected == "tie";
    if !(value.selected == "left" || value.selected == "right" || tie && control.allows_tie()) {
        let allowed = if control.allows_tie() {
            "\"left\", \"right\" or \"tie\""
        } else {
            "\"left\" or \"right\" (ties need allowTie=\"true\")"
        };
        problems.add(
            "bad_value",
            "value.selected",
            format!(
                "selected is \"{}\"; control \"{}\" takes {allowed}",
                value.selected, control.name
            ),
        );
    }
    let Some(strength) = value.strength else {
        return;
    };
    match control.max_strength() {
        None => problems.add(
            "bad_value",
            "value.strength",
            format!(
                "control \"{}\" takes no strength (it has no strength attribute)",
                control.name
            ),
        ),
        Some(_) if tie => problems.add(
            "bad_value",
            "value.strength",
            "a tie has no strength".into(),
        ),
        Some(most) if strength.fract() != 0.0 || strength < 1.0 || strength > f64::from(most) => {
            problems.add(
                "out_of_range",
                "value.strength",
                format!(
                    "strength is {strength}; control \"{}\" takes a whole number from 1 to {most}",
                    control.name
                ),
            )
        }
        Some(_) => {}
    }
}

/// A ranking: columns the control has (its own name without buckets, its
/// buckets and `_` with them), each a list of item ids, no id twice.
fn check_ranker(control: &ControlTag, value: &RankerValue, problems: &mut Problems) {
    let columns = control.ranker_columns();
    let mut seen = std::collections::BTreeSet::new();
    for (key, ids) in &value.ranker {
        let field = format!("value.ranker.{key}");
        if !columns.contains(&key.as_str()) {
            problems.add(
                "unknown_column",
                field.clone(),
                format!(
                    "control \"{}\" has no column \"{key}\"; its columns are {}",
                    control.name,
                    columns
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let Some(ids) = ids.as_array() else {
            problems.add("bad_value", field, "must be a list of item ids".into());
            continue;
        };
        for (index, id) in ids.iter().enumerate() {
            match id.as_str() {
                None => problems.add(
                    "bad_value",
                    format!("{field}[{index}]"),
                    format!("{id} is not an item id (a string)"),
                ),
                Some(id) if !seen.insert(id.to_owned()) => problems.add(
                    "duplicate_item",
                    format!("{field}[{index}]"),
                    format!("item \"{id}\" is ranked twice"),
                ),
                Some(_) => {}
            }
        }
    }
}

/// A number must be finite and inside the control's `min` and `max`.
/// Taxonomy picks: each a path of choices from the top, one level a step;
/// with `leafsOnly="true"`, ending at a choice without children.
fn check_taxonomy(control: &ControlTag, paths: &[Vec<String>], problems: &mut Problems) {
    let leafs_only = control.attributes.get("leafsOnly").map(String::as_str) == Some("true");
    for (index, path) in paths.iter().enumerate() {
        let Some((last, parents)) = path.split_last() else {
            problems.add(
                "bad_path",
                format!("value.taxonomy[{index}]"),
                "a pick is a path of at least one choice".into(),
            );
            continue;
        };
        // Options from task data are unknown here.
        if control.labels_from.is_some() {
            continue;
        }
        let exists = control
            .labels
            .iter()
            .any(|l| l.path == parents && (&l.value == last || l.alias.as_ref() == Some(last)));
        if !exists {
            problems.add(
                "unknown_label",
                format!("value.taxonomy[{index}]"),
                format!(
                    "{} is not a path of choices of control \"{}\"",
                    path.join(" / "),
                    control.name
                ),
            );
            continue;
        }
        let has_children = control
            .labels
            .iter()
            .any(|l| l.path.len() == path.len() && l.path == *path);
        if leafs_only && has_children {
            problems.add(
                "not_a_leaf",
                format!("value.taxonomy[{index}]"),
                format!(
                    "{} has choices below it; control \"{}\" takes leaves only (leafsOnly)",
                    path.join(" / "),
                    control.name
                ),
            );
        }
    }
}

/// A rating: a whole number from 1 to the control's `maxRating` (5 by
/// default, as in Label Studio).
fn check_rating(control: &ControlTag, rating: f64, problems: &mut Problems) {
    let most = control.max_rating();
    if rating.fract() != 0.0 || rating < 1.0 || rating > f64::from(most) {
        problems.add(
            "out_of_range",
            "value.rating",
            format!(
                "rating is {rating}; control \"{}\" takes a whole number from 1 to {most}",
                control.name
            ),
        );
    }
}

fn check_number(control: &ControlTag, number: f64, problems: &mut Problems) {
    if !number.is_finite() {
        problems.add(
            "out_of_range",
            "value.number",
            format!("number is {number}"),
        );
        return;
    }
    let bound = |name: &str| {
        control
            .attributes
            .get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let Some(min) = bound("min").filter(|min| number < *min) {
        problems.add(
            "out_of_range",
            "value.number",
            format!(
                "number is {number}, below the minimum {min} of control \"{}\"",
                control.name
            ),
        );
    }
    if let Some(max) = bound("max").filter(|max| number > *max) {
        problems.add(
            "out_of_range",
            "value.number",
            format!(
                "number is {number}, above the maximum {max} of control \"{}\"",
                control.name
            ),
        );
    }
}

fn string_list(value: Option<&serde_json::Value>) -> Option<Vec<String>> {
    value?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".into();
    }
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a `<Chat>`'s first messages in task data, if anything:
/// they are a list of `{"role": "user" | "assistant" | "system", "content": "…"}`,
/// or one string (a user message).
/// The path is relative to the field (`[2].role`).
pub fn check_chat_seed(value: &serde_json::Value) -> Option<(String, String)> {
    let messages = match value {
        serde_json::Value::Array(messages) => messages,
        // One string is one user message (a prompt, for LLM feedback).
        serde_json::Value::String(_) => return None,
        _ => {
            return Some((
                String::new(),
                "a chat's first messages are a list of {\"role\", \"content\"} objects (or [], or one string: a user message)"
                    .to_string(),
            ))
        }
    };
    for (index, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(serde_json::Value::as_str);
        if !role.is_some_and(|role| CHAT_ROLES.contains(&role)) {
            return Some((
                format!("[{index}].role"),
                "must be user, assistant, system, tool or developer".to_string(),
            ));
        }
        if !message
            .get("content")
            .is_some_and(serde_json::Value::is_string)
        {
            return Some((format!("[{index}].content"), "must be text".to_string()));
        }
    }
    None
}
