//! Results checked against label configs.

use gloss_schema::{check_result, check_results, has_errors, parse, LabelConfig};
use gloss_types::result::ResultItem;
use serde_json::{json, Value};

const IMAGE: &str = r#"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue" alias="car"/>
  </RectangleLabels>
  <PolygonLabels name="outline" toName="image"><Label value="Road"/></PolygonLabels>
  <Rectangle name="bbox" toName="image"/>
  <Polygon name="poly" toName="image"/>
  <Choices name="weather" toName="image">
    <Choice value="Sunny"/><Choice value="Rainy"/>
  </Choices>
  <Choices name="tags" toName="image" choice="multiple">
    <Choice value="Blurry"/><Choice value="Dark"/>
  </Choices>
  <Labels name="kind" toName="image"><Label value="Text"/></Labels>
  <TextArea name="note" toName="image" perRegion="true"/>
  <BitmapMaskLabels name="kp" toName="image"><Label value="Nose"/></BitmapMaskLabels>
</View>"#;

const TEXT: &str = r#"<View>
  <Text name="text" value="$text"/>
  <Audio name="audio" value="$audio"/>
  <Labels name="ner" toName="text,audio">
    <Label value="PER"/><Label value="ORG"/>
  </Labels>
  <Choices name="sentiment" toName="text" choice="single-radio">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <TextArea name="summary" toName="text"/>
</View>"#;

fn config(text: &str) -> LabelConfig {
    let (config, diagnostics) = parse(text);
    assert!(!has_errors(&diagnostics), "{diagnostics:#?}");
    config
}

fn item(v: Value) -> ResultItem {
    serde_json::from_value(v).expect("a valid result")
}

fn problems(config: &LabelConfig, v: Value) -> Vec<(&'static str, String)> {
    check_result(config, &item(v))
        .into_iter()
        .map(|p| (p.code, p.field))
        .collect()
}

/// A named result and every `(code, field)` expected for it, in order.
type Case = (&'static str, Value, Vec<(&'static str, &'static str)>);

fn run(config: &LabelConfig, cases: Vec<Case>) {
    for (name, result, expected) in cases {
        let got = problems(config, result);
        let expected: Vec<(&str, String)> = expected
            .into_iter()
            .map(|(code, field)| (code, field.to_owned()))
            .collect();
        assert_eq!(got, expected, "case: {name}");
    }
}

fn rect(from: &str, value: Value) -> Value {
    json!({
        "id": "r1", "from_name": from, "to_name": "image", "type": "rectanglelabels",
        "value": value, "original_width": 800, "original_height": 600, "image_rotation": 0
    })
}

#[test]
fn image_results() {
    let config = config(IMAGE);
    let cases: Vec<Case> = vec![
        (
            "valid box",
            rect(
                "label",
                json!({"x": 10, "y": 20.5, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["Airplane"]}),
            ),
            vec![],
        ),
        (
            "alias is accepted",
            rect(
                "label",
                json!({"x": 0, "y": 0, "width": 100, "height": 100, "rectanglelabels": ["car"]}),
            ),
            vec![],
        ),
        (
            "box touching the edge within tolerance",
            rect(
                "label",
                json!({"x": 60.0000001, "y": 0, "width": 40, "height": 1, "rectanglelabels": []}),
            ),
            vec![],
        ),
        (
            "unknown from_name",
            rect(
                "labels",
                json!({"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Car"]}),
            ),
            vec![("unknown_from_name", "from_name")],
        ),
        (
            "unknown label, named by index",
            rect(
                "label",
                json!({"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Car", "Boat"]}),
            ),
            vec![("unknown_label", "value.rectanglelabels[1]")],
        ),
        (
            "coordinates out of range",
            rect(
                "label",
                json!({"x": -1, "y": 101, "width": 5, "height": -2, "rectanglelabels": ["Car"]}),
            ),
            vec![
                ("out_of_range", "value.x"),
                ("out_of_range", "value.y"),
                ("out_of_range", "value.height"),
            ],
        ),
        (
            "box past the right and bottom edges",
            rect(
                "label",
                json!({"x": 80, "y": 50, "width": 30, "height": 50.01, "rectanglelabels": ["Car"]}),
            ),
            vec![
                ("out_of_range", "value.width"),
                ("out_of_range", "value.height"),
            ],
        ),
        (
            "rotated box may extend past the edge",
            rect(
                "label",
                json!({"x": 80, "y": 50, "width": 30, "height": 10, "rotation": 30, "rectanglelabels": ["Car"]}),
            ),
            vec![],
        ),
        (
            "wrong type from a RectangleLabels",
            json!({"from_name": "label", "to_name": "image", "type": "choices", "value": {"choices": ["Car"]}}),
            vec![("wrong_type", "type")],
        ),
        (
            "to_name not a target of the control",
            json!({"from_name": "bbox", "to_name": "other", "type": "rectangle",
                   "value": {"x": 1, "y": 2, "width": 3, "height": 4}}),
            vec![("unknown_to_name", "to_name")],
        ),
        (
            "unlabelled rectangle",
            json!({"from_name": "bbox", "to_name": "image", "type": "rectangle",
                   "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0}}),
            vec![],
        ),
        (
            "valid polygon",
            json!({"from_name": "outline", "to_name": "image", "type": "polygonlabels",
                   "value": {"points": [[0, 0], [100, 0], [50, 99.5]], "closed": true, "polygonlabels": ["Road"]}}),
            vec![],
        ),
        (
            "polygon with too few points and a stray vertex",
            json!({"from_name": "outline", "to_name": "image", "type": "polygonlabels",
                   "value": {"points": [[10, 10], [100.5, -3]], "polygonlabels": ["River"]}}),
            vec![
                ("too_few_points", "value.points"),
                ("out_of_range", "value.points[1][0]"),
                ("out_of_range", "value.points[1][1]"),
                ("unknown_label", "value.polygonlabels[0]"),
            ],
        ),
        (
            "unlabelled polygon",
            json!({"from_name": "poly", "to_name": "image", "type": "polygon",
                   "value": {"points": [[1, 1], [2, 2]]}}),
            vec![("too_few_points", "value.points")],
        ),
        (
            "single choice",
            json!({"from_name": "weather", "to_name": "image", "type": "choices", "value": {"choices": ["Sunny"]}}),
            vec![],
        ),
        (
            "too many choices for a single Choices",
            json!({"from_name": "weather", "to_name": "image", "type": "choices", "value": {"choices": ["Sunny", "Rainy"]}}),
            vec![("too_many_choices", "value.choices")],
        ),
        (
            "several choices where multiple is allowed",
            json!({"from_name": "tags", "to_name": "image", "type": "choices", "value": {"choices": ["Blurry", "Dark"]}}),
            vec![],
        ),
        (
            "unknown choice",
            json!({"from_name": "tags", "to_name": "image", "type": "choices", "value": {"choices": ["Dark", "Foggy"]}}),
            vec![("unknown_label", "value.choices[1]")],
        ),
        (
            "labels on an image region carry a box",
            json!({"id": "r1", "from_name": "kind", "to_name": "image", "type": "labels",
                   "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0, "labels": ["Text"]}}),
            vec![],
        ),
        (
            "unknown label on an image region",
            json!({"id": "r1", "from_name": "kind", "to_name": "image", "type": "labels",
                   "value": {"x": 1, "y": 2, "width": 3, "height": 4, "labels": ["Handwriting"]}}),
            vec![("unknown_label", "value.labels[0]")],
        ),
        (
            "per-region text area",
            json!({"id": "r1", "from_name": "note", "to_name": "image", "type": "textarea",
                   "value": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0, "text": ["STOP"]}}),
            vec![],
        ),
        (
            "malformed value of a known type",
            rect(
                "label",
                json!({"x": "ten", "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Car"]}),
            ),
            vec![("malformed_value", "value")],
        ),
        (
            "result from an unsupported control is not checked",
            json!({"from_name": "kp", "to_name": "image", "type": "bitmapmasklabels",
                   "value": {"x": 500, "y": 1, "keypointlabels": ["Nose"]}}),
            vec![],
        ),
        (
            "result of an unknown type is not checked",
            json!({"from_name": "nobody", "to_name": "nowhere", "type": "timeserieslabels", "value": {}}),
            vec![],
        ),
    ];
    run(&config, cases);
}

const VISION: &str = r#"<View>
  <Image name="image" value="$image"/>
  <KeyPointLabels name="pose" toName="image">
    <Label value="nose"/><Label value="eye"/>
    <Skeleton value="face"><Edge from="nose" to="eye"/></Skeleton>
  </KeyPointLabels>
  <EllipseLabels name="ellipse" toName="image"><Label value="Eye"/></EllipseLabels>
  <PolyLineLabels name="lane" toName="image"><Label value="Lane"/></PolyLineLabels>
  <BrushLabels name="mask" toName="image"><Label value="Road"/></BrushLabels>
  <Number name="count" toName="image" perRegion="true" min="0" max="10"/>
</View>"#;

#[test]
fn computer_vision_results() {
    let config = config(VISION);
    let result = |from: &str, type_name: &str, value: Value| {
        json!({"id": "a1", "from_name": from, "to_name": "image", "type": type_name,
               "value": value, "original_width": 40, "original_height": 30, "parentID": "p1"})
    };
    let cases: Vec<Case> = vec![
        (
            "an occluded joint",
            result(
                "pose",
                "keypointlabels",
                json!({"x": 5, "y": 6, "width": 0.5, "visibility": "occluded", "keypointlabels": ["eye"]}),
            ),
            vec![],
        ),
        (
            "a joint off the image, with an unknown visibility and label",
            result(
                "pose",
                "keypointlabels",
                json!({"x": 105, "y": 6, "visibility": "hidden", "keypointlabels": ["ear"]}),
            ),
            vec![
                ("out_of_range", "value.x"),
                ("bad_visibility", "value.visibility"),
                ("unknown_label", "value.keypointlabels[0]"),
            ],
        ),
        (
            "an ellipse",
            result(
                "ellipse",
                "ellipselabels",
                json!({"x": 50, "y": 50, "radiusX": 10, "radiusY": 20, "rotation": 30, "ellipselabels": ["Eye"]}),
            ),
            vec![],
        ),
        (
            "an ellipse with a negative radius",
            result(
                "ellipse",
                "ellipselabels",
                json!({"x": 50, "y": 50, "radiusX": -1, "radiusY": 20, "ellipselabels": ["Eye"]}),
            ),
            vec![("out_of_range", "value.radiusX")],
        ),
        (
            "a polyline of two points",
            result(
                "lane",
                "polylinelabels",
                json!({"points": [[1, 2], [3, 4]], "polylinelabels": ["Lane"]}),
            ),
            vec![],
        ),
        (
            "a polyline of one point",
            result(
                "lane",
                "polylinelabels",
                json!({"points": [[1, 2]], "polylinelabels": ["Lane"]}),
            ),
            vec![("too_few_points", "value.points")],
        ),
        (
            "a Label Studio mask that does not decode",
            result(
                "mask",
                "brushlabels",
                json!({"format": "rle", "rle": [0, 1, 2], "brushlabels": ["Road"]}),
            ),
            vec![("bad_mask", "value.rle")],
        ),
        (
            "a Label Studio mask",
            result(
                "mask",
                "brushlabels",
                json!({"format": "rle", "rle": gloss_masks::label_studio::encode_rle(&gloss_masks::Mask::new(40, 30).unwrap()), "brushlabels": ["Road"]}),
            ),
            vec![],
        ),
        (
            "a mask in an unknown format",
            result(
                "mask",
                "brushlabels",
                json!({"format": "png", "brushlabels": ["Road"]}),
            ),
            vec![("bad_format", "value.format")],
        ),
        (
            "a COCO mask without counts",
            result(
                "mask",
                "brushlabels",
                json!({"format": "coco_rle", "brushlabels": ["Road"]}),
            ),
            vec![("malformed_value", "value.counts")],
        ),
        (
            "a mask without its size",
            json!({"id": "m", "from_name": "mask", "to_name": "image", "type": "brushlabels",
                   "value": {"format": "coco_rle", "counts": "0", "brushlabels": ["Road"]}}),
            vec![("missing_size", "original_width")],
        ),
        (
            "a per-region number",
            result(
                "count",
                "number",
                json!({"number": 3, "x": 50, "y": 50, "radiusX": 10, "radiusY": 20}),
            ),
            vec![],
        ),
        (
            "a number above max",
            result("count", "number", json!({"number": 11})),
            vec![("out_of_range", "value.number")],
        ),
    ];
    run(&config, cases);
}

#[test]
fn text_results() {
    let config = config(TEXT);
    let span = |start: u64, end: u64, labels: Value| {
        json!({"id": "s1", "from_name": "ner", "to_name": "text", "type": "labels",
               "value": {"start": start, "end": end, "text": "Barack", "labels": labels}})
    };
    let cases: Vec<Case> = vec![
        ("valid span", span(0, 6, json!(["PER"])), vec![]),
        ("empty span", span(3, 3, json!(["PER"])), vec![]),
        (
            "span ending before it starts",
            span(7, 6, json!(["PER", "LOC"])),
            vec![
                ("bad_span", "value.start"),
                ("unknown_label", "value.labels[1]"),
            ],
        ),
        (
            "radio choice with two answers",
            json!({"from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": ["Positive", "Negative"]}}),
            vec![("too_many_choices", "value.choices")],
        ),
        (
            "text area",
            json!({"from_name": "summary", "to_name": "text", "type": "textarea",
                   "value": {"text": ["Short.", "Longer summary."]}}),
            vec![],
        ),
        (
            "text area to an object it does not annotate",
            json!({"from_name": "summary", "to_name": "audio", "type": "textarea",
                   "value": {"text": ["x"]}}),
            vec![("unknown_to_name", "to_name")],
        ),
        (
            "a backwards segment on a sound, with a label the control lacks",
            json!({"from_name": "ner", "to_name": "audio", "type": "labels",
                   "value": {"start": 1.5, "end": 0.5, "labels": ["Speech"]}}),
            vec![
                ("bad_segment", "value.start"),
                ("unknown_label", "value.labels[0]"),
            ],
        ),
        (
            "a span in seconds on text",
            json!({"from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": 1.5, "end": 2, "labels": ["PER"]}}),
            vec![("bad_span", "value.start")],
        ),
        (
            "malformed span on text",
            json!({"from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": "1", "end": 2, "labels": ["PER"]}}),
            vec![("malformed_value", "value")],
        ),
    ];
    run(&config, cases);
}

#[test]
fn dynamic_choices_accept_any_value() {
    let config = config(
        r#"<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>"#,
    );
    let got = problems(
        &config,
        json!({"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["Anything"]}}),
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn check_results_numbers_each_problem() {
    let config = config(IMAGE);
    let items = vec![
        item(rect(
            "label",
            json!({"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Car"]}),
        )),
        item(rect(
            "label",
            json!({"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Boat"]}),
        )),
        item(
            json!({"from_name": "ghost", "to_name": "image", "type": "choices", "value": {"choices": []}}),
        ),
    ];
    let got: Vec<(usize, &str)> = check_results(&config, &items)
        .iter()
        .map(|(i, p)| (*i, p.code))
        .collect();
    assert_eq!(got, [(1, "unknown_label"), (2, "unknown_from_name")]);

    let problems = check_results(&config, &items);
    let message = &problems[0].1.message;
    assert!(
        message.contains("Boat") && message.contains("label"),
        "{message}"
    );
    let json = serde_json::to_value(&problems[1].1).expect("serializes");
    assert_eq!(json["code"], "unknown_from_name");
    assert_eq!(json["field"], "from_name");
}

const VIDEO: &str = r#"<View>
  <Video name="video" value="$video" frameRate="25"/>
  <Labels name="videoLabels" toName="video"><Label value="Car"/><Label value="Person"/></Labels>
  <VideoRectangle name="box" toName="video"/>
  <TimelineLabels name="actions" toName="video"><Label value="Walking"/></TimelineLabels>
</View>"#;

#[test]
fn video_results() {
    let config = config(VIDEO);
    let key = |frame: u64, x: f64| json!({"frame": frame, "enabled": true, "rotation": 0, "x": x, "y": 10, "width": 20, "height": 20, "time": 0});
    let track = |sequence: Value, labels: Value| {
        json!({"id": "t", "from_name": "box", "to_name": "video", "type": "videorectangle",
               "value": {"framesCount": 50, "duration": 2, "sequence": sequence, "labels": labels}})
    };
    let cases: Vec<Case> = vec![
        (
            "a track",
            track(json!([key(1, 10.0), key(30, 40.0)]), json!(["Car"])),
            vec![],
        ),
        (
            "keyframes out of order, past the end, off the frame, with an unknown label",
            track(
                json!([key(5, 10.0), key(3, 10.0), key(51, 90.0)]),
                json!(["Bus"]),
            ),
            vec![
                ("bad_frame", "value.sequence[1].frame"),
                ("bad_frame", "value.sequence[2].frame"),
                ("out_of_range", "value.sequence[2].width"),
                ("unknown_label", "value.labels[0]"),
            ],
        ),
        (
            "a labelled range and a backwards one",
            json!({"id": "r", "from_name": "actions", "to_name": "video", "type": "timelinelabels",
                   "value": {"ranges": [{"start": 3, "end": 9}, {"start": 9, "end": 3}], "timelinelabels": ["Walking"]}}),
            vec![("bad_range", "value.ranges[1]")],
        ),
    ];
    run(&config, cases);
}

const AUDIO: &str = r#"<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio"><Label value="Speaker 1"/><Label value="Speaker 2"/></Labels>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/></Labels>
</View>"#;

#[test]
fn audio_segments() {
    let config = config(AUDIO);
    let segment = |value: Value| json!({"id": "s", "from_name": "speaker", "to_name": "audio", "type": "labels", "value": value});
    let cases: Vec<Case> = vec![
        (
            "a segment",
            segment(json!({"start": 0.5, "end": 2.25, "channel": 0, "labels": ["Speaker 1"]})),
            vec![],
        ),
        (
            "whole seconds without a channel",
            segment(json!({"start": 1, "end": 3, "labels": ["Speaker 2"]})),
            vec![],
        ),
        (
            "backwards, with an unknown speaker",
            segment(json!({"start": 3.5, "end": 1.5, "channel": 0, "labels": ["Speaker 9"]})),
            vec![
                ("bad_segment", "value.start"),
                ("unknown_label", "value.labels[0]"),
            ],
        ),
        (
            "before the start",
            segment(json!({"start": -1.5, "end": 1.5, "channel": 0, "labels": ["Speaker 1"]})),
            vec![("bad_segment", "value.start")],
        ),
        (
            "seconds on a text",
            json!({"id": "t", "from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": 0.5, "end": 2.5, "labels": ["PER"]}}),
            vec![("bad_span", "value.start")],
        ),
        (
            "a transcript of a segment",
            json!({"id": "s", "from_name": "transcription", "to_name": "audio", "type": "textarea",
                   "value": {"start": 0.5, "end": 2.25, "channel": 0, "text": ["hello there"]}}),
            vec![],
        ),
    ];
    run(&config, cases);
}

const SHAPE_TRACKS: &str = r#"<View>
  <Video name="video" value="$video"/>
  <Labels name="videoLabels" toName="video"><Label value="Car"/><Label value="Person"/></Labels>
  <VideoPolygon name="outline" toName="video"/>
  <VideoPolyLine name="lane" toName="video"/>
  <VideoKeyPointLabels name="pose" toName="video">
    <Label value="head"/><Label value="hand"/>
    <Skeleton value="person"><Edge from="head" to="hand"/></Skeleton>
  </VideoKeyPointLabels>
</View>"#;

#[test]
fn shape_track_results() {
    let config = config(SHAPE_TRACKS);
    let track = |from: &str, kind: &str, sequence: Value| {
        json!({"id": "t", "from_name": from, "to_name": "video", "type": kind,
               "value": {"framesCount": 50, "sequence": sequence, "labels": ["Car"]}})
    };
    let square = json!([[10, 10], [20, 10], [20, 20], [10, 20]]);
    let joint = |label: &str, x: f64| json!({"label": label, "x": x, "y": 50});
    let cases: Vec<Case> = vec![
        (
            "a polygon track, outside from frame 9",
            track(
                "outline",
                "videopolygon",
                json!([{"frame": 1, "points": square}, {"frame": 9, "enabled": false}]),
            ),
            vec![],
        ),
        (
            "a polygon of two points, and a point off the frame",
            track(
                "outline",
                "videopolygon",
                json!([{"frame": 1, "points": [[10, 10], [20, 10]]}, {"frame": 2, "points": [[10, 10], [120, 10], [5, 5]]}]),
            ),
            vec![
                ("too_few_points", "value.sequence[0].points"),
                ("out_of_range", "value.sequence[1].points[1][0]"),
            ],
        ),
        (
            "a polyline track",
            track(
                "lane",
                "videopolyline",
                json!([{"frame": 3, "points": [[0, 0], [50, 50]]}]),
            ),
            vec![],
        ),
        (
            "a skeleton track with an unknown joint and one given twice",
            track(
                "pose",
                "videokeypointlabels",
                json!([
                    {"frame": 1, "joints": [joint("head", 10.0), joint("hand", 20.0)]},
                    {"frame": 4, "joints": [joint("head", 10.0), joint("foot", 1.0), joint("head", 2.0)]}
                ]),
            ),
            vec![
                ("unknown_label", "value.sequence[1].joints[1].label"),
                ("duplicate_joint", "value.sequence[1].joints[2].label"),
            ],
        ),
    ];
    run(&config, cases);
    // A VideoKeyPointLabels without a skeleton is refused.
    let (_, problems) = gloss_schema::parse(
        r#"<View><Video name="v" value="$v"/><VideoKeyPointLabels name="p" toName="v"><Label value="a"/></VideoKeyPointLabels></View>"#,
    );
    assert!(
        problems.iter().any(|p| p.code == "missing_skeleton"),
        "{problems:?}"
    );
}

#[test]
fn mask_track_results() {
    let config = config(
        r#"<View><Video name="video" value="$video"/>
  <Labels name="videoLabels" toName="video"><Label value="Car"/></Labels>
  <VideoBrush name="paint" toName="video"/></View>"#,
    );
    let mut mask = gloss_masks::Mask::new(4, 3).unwrap();
    mask.set(1, 1, true);
    let counts = gloss_masks::CocoRle::from_mask(&mask).to_compressed();
    let track = |sequence: Value, size: Option<(u32, u32)>| {
        let mut item = json!({"id": "m", "from_name": "paint", "to_name": "video", "type": "videobrush",
               "value": {"sequence": sequence, "labels": ["Car"]}});
        if let Some((w, h)) = size {
            item["original_width"] = json!(w);
            item["original_height"] = json!(h);
        }
        item
    };
    let key =
        |frame: u64, counts: &str| json!({"frame": frame, "format": "coco_rle", "counts": counts});
    let cases: Vec<Case> = vec![
        (
            "a mask track, outside from frame 5",
            track(
                json!([key(1, &counts), {"frame": 5, "enabled": false}]),
                Some((4, 3)),
            ),
            vec![],
        ),
        (
            "a mask that does not fit the size, and a keyframe without one",
            track(
                json!([key(1, &counts), key(2, "0"), {"frame": 3}]),
                Some((4, 3)),
            ),
            vec![
                ("bad_mask", "value.sequence[2].counts"),
                ("bad_mask", "value.sequence[1].counts"),
            ],
        ),
        (
            "no size",
            track(json!([key(1, &counts)]), None),
            vec![("missing_size", "original_width")],
        ),
    ];
    run(&config, cases);
}

#[test]
fn rating_results() {
    let config = config(
        r#"<View><Text name="text" value="$text"/>
  <Rating name="quality" toName="text" maxRating="4"/>
  <Rating name="stars" toName="text"/></View>"#,
    );
    let rating = |from: &str, value: Value| json!({"id": "r", "from_name": from, "to_name": "text", "type": "rating", "value": {"rating": value}});
    let cases: Vec<Case> = vec![
        ("four of four", rating("quality", json!(4)), vec![]),
        (
            "five of the default five",
            rating("stars", json!(5)),
            vec![],
        ),
        (
            "five of four",
            rating("quality", json!(5)),
            vec![("out_of_range", "value.rating")],
        ),
        (
            "a half star",
            rating("stars", json!(2.5)),
            vec![("out_of_range", "value.rating")],
        ),
        (
            "none",
            rating("stars", json!(0)),
            vec![("out_of_range", "value.rating")],
        ),
    ];
    run(&config, cases);
    let (_, problems) = gloss_schema::parse(
        r#"<View><Text name="t" value="$t"/><Rating name="r" toName="t" maxRating="lots"/></View>"#,
    );
    assert!(
        problems.iter().any(|p| p.code == "bad_attribute_value"),
        "{problems:?}"
    );
}

#[test]
fn taxonomy_results() {
    let text = r#"<View><Text name="text" value="$text"/>
  <Taxonomy name="kind" toName="text" leafsOnly="true">
    <Choice value="Bacteria"><Choice value="Cyanobacteria"/><Choice value="Other"/></Choice>
    <Choice value="Archaea"><Choice value="Other"/></Choice>
  </Taxonomy></View>"#;
    let (parsed, problems) = gloss_schema::parse(text);
    assert!(
        problems.is_empty(),
        "the same value under two parents is fine: {problems:?}"
    );
    let paths: Vec<(Vec<String>, String)> = parsed.controls[0]
        .labels
        .iter()
        .map(|l| (l.path.clone(), l.value.clone()))
        .collect();
    assert_eq!(
        paths[1],
        (vec!["Bacteria".to_owned()], "Cyanobacteria".to_owned())
    );
    let config = config(text);
    let pick = |paths: Value| json!({"id": "t", "from_name": "kind", "to_name": "text", "type": "taxonomy", "value": {"taxonomy": paths}});
    let cases: Vec<Case> = vec![
        (
            "two leaves",
            pick(json!([["Bacteria", "Cyanobacteria"], ["Archaea", "Other"]])),
            vec![],
        ),
        (
            "a branch, where leaves only are taken",
            pick(json!([["Bacteria"]])),
            vec![("not_a_leaf", "value.taxonomy[0]")],
        ),
        (
            "a path that is not in the tree, and an empty one",
            pick(json!([["Archaea", "Cyanobacteria"], []])),
            vec![
                ("unknown_label", "value.taxonomy[0]"),
                ("bad_path", "value.taxonomy[1]"),
            ],
        ),
    ];
    run(&config, cases);
}

#[test]
fn relations_join_regions_of_the_same_annotation() {
    let config = config(
        r#"<View><Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels></View>"#,
    );
    let span = |id: &str| {
        serde_json::from_value::<gloss_types::result::ResultItem>(
            json!({"id": id, "from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 3, "labels": ["PER"]}}),
        )
        .unwrap()
    };
    let relation = |from: &str, to: &str| {
        serde_json::from_value::<gloss_types::result::ResultItem>(
            json!({"from_id": from, "to_id": to, "type": "relation", "direction": "right"}),
        )
        .unwrap()
    };
    let items = vec![
        span("a"),
        span("b"),
        relation("a", "b"),
        relation("a", "zz"),
    ];
    let found: Vec<(usize, &str, String)> = gloss_schema::check_results(&config, &items)
        .into_iter()
        .map(|(i, p)| (i, p.code, p.field))
        .collect();
    assert_eq!(found, [(3, "unknown_region", "to_id".to_owned())]);
}

const LLM: &str = r#"<View>
  <Text name="prompt" value="$prompt"/>
  <Text name="a" value="$answer_a"/>
  <Text name="b" value="$answer_b"/>
  <Pairwise name="pick" toName="a,b"/>
  <Pairwise name="graded" toName="a,b" allowTie="true" strength="3"/>
  <List name="answers" value="$responses"/>
  <Ranker name="rank" toName="answers"/>
  <Ranker name="sort" toName="answers"><Bucket name="good"/><Bucket name="bad"/></Ranker>
  <Rating name="helpfulness" toName="answers" perItem="true"/>
  <Rating name="overall" toName="answers"/>
</View>"#;

#[test]
fn pairwise_results() {
    let config = config(LLM);
    let pairwise = |from: &str, to: &str, value: Value| json!({"id": "p", "from_name": from, "to_name": to, "type": "pairwise", "value": value});
    let cases: Vec<Case> = vec![
        (
            "left",
            pairwise("pick", "a", json!({"selected": "left"})),
            vec![],
        ),
        (
            "right, on the pair's names",
            pairwise("pick", "a,b", json!({"selected": "right"})),
            vec![],
        ),
        (
            "a tie where none is allowed",
            pairwise("pick", "a", json!({"selected": "tie"})),
            vec![("bad_value", "value.selected")],
        ),
        (
            "a tie allowed",
            pairwise("graded", "a", json!({"selected": "tie"})),
            vec![],
        ),
        (
            "strength 3 of 3",
            pairwise("graded", "b", json!({"selected": "right", "strength": 3})),
            vec![],
        ),
        (
            "strength 4 of 3",
            pairwise("graded", "a", json!({"selected": "left", "strength": 4})),
            vec![("out_of_range", "value.strength")],
        ),
        (
            "strength on a tie",
            pairwise("graded", "a", json!({"selected": "tie", "strength": 2})),
            vec![("bad_value", "value.strength")],
        ),
        (
            "strength without a scale",
            pairwise("pick", "a", json!({"selected": "left", "strength": 1})),
            vec![("bad_value", "value.strength")],
        ),
        (
            "another object",
            pairwise("pick", "prompt", json!({"selected": "left"})),
            vec![("unknown_to_name", "to_name")],
        ),
        (
            "neither side",
            pairwise("pick", "a", json!({"selected": "both"})),
            vec![("bad_value", "value.selected")],
        ),
    ];
    run(&config, cases);
}

#[test]
fn ranker_and_per_item_results() {
    let config = config(LLM);
    let ranker = |from: &str, value: Value| json!({"id": "r", "from_name": from, "to_name": "answers", "type": "ranker", "value": {"ranker": value}});
    let cases: Vec<Case> = vec![
        (
            "ranked",
            ranker("rank", json!({"rank": ["r2", "r1", "r3"]})),
            vec![],
        ),
        (
            "bucketed, the rest in _",
            ranker(
                "sort",
                json!({"good": ["r2"], "bad": [], "_": ["r1", "r3"]}),
            ),
            vec![],
        ),
        (
            "a bucket the control lacks",
            ranker("rank", json!({"best": ["r1"]})),
            vec![("unknown_column", "value.ranker.best")],
        ),
        (
            "an item twice",
            ranker("rank", json!({"rank": ["r1", "r2", "r1"]})),
            vec![("duplicate_item", "value.ranker.rank[2]")],
        ),
        (
            "not ids",
            ranker("sort", json!({"good": "r1", "bad": [7]})),
            vec![
                ("bad_value", "value.ranker.bad[0]"),
                ("bad_value", "value.ranker.good"),
            ],
        ),
        (
            "a rating per item",
            json!({"id": "h", "from_name": "helpfulness", "to_name": "answers", "type": "rating", "value": {"rating": 4}, "item_index": 1}),
            vec![],
        ),
        (
            "a per-item rating without its item",
            json!({"id": "h", "from_name": "helpfulness", "to_name": "answers", "type": "rating", "value": {"rating": 4}}),
            vec![("missing_item_index", "item_index")],
        ),
        (
            "a negative item",
            json!({"id": "h", "from_name": "helpfulness", "to_name": "answers", "type": "rating", "value": {"rating": 4}, "item_index": -1}),
            vec![("bad_item_index", "item_index")],
        ),
        (
            "the whole list rated",
            json!({"id": "o", "from_name": "overall", "to_name": "answers", "type": "rating", "value": {"rating": 2}}),
            vec![],
        ),
    ];
    run(&config, cases);
}

#[test]
fn an_older_label_studio_ranker_is_kept_unchecked() {
    // Label Studio before 1.9: a Ranker on a Text, ranking its predictions.
    let (config, problems) = parse(
        r#"<View><Text name="txt" value="$text"/><Ranker name="ranker" toName="txt" ranked="true"/></View>"#,
    );
    assert!(!has_errors(&problems), "{problems:#?}");
    assert_eq!(problems[0].code, "unsupported_tag");
    let old = json!({"id": "o", "from_name": "ranker", "to_name": "txt", "type": "ranker",
                     "value": {"items": ["a", "b"], "weights": [1, 0.5], "selected": ["a"]}});
    assert!(check_result(&config, &item(old)).is_empty());
}

#[test]
fn relation_labels_come_from_the_relations_tag() {
    let text = r#"<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Relations><Relation value="works for"/><Relation value="founded"/></Relations>
</View>"#;
    let config = config(text);
    let relations = config.relations.as_ref().expect("read");
    assert_eq!(
        relations
            .labels
            .iter()
            .map(|l| l.value.as_str())
            .collect::<Vec<_>>(),
        ["works for", "founded"]
    );
    assert!(!relations.multiple);
    let span = |id: &str| json!({"id": id, "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 3, "labels": ["PER"]}});
    let relation = |labels: Value| json!({"type": "relation", "from_id": "a", "to_id": "b", "direction": "right", "labels": labels});
    let problems = |labels: Value| {
        let items: Vec<ResultItem> = [span("a"), span("b"), relation(labels)]
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect();
        check_results(&config, &items)
            .into_iter()
            .map(|(index, p)| (index, p.code, p.field))
            .collect::<Vec<_>>()
    };
    assert_eq!(problems(json!(["works for"])), []);
    assert_eq!(problems(json!([])), []);
    assert_eq!(
        problems(json!(["likes"])),
        [(2, "unknown_label", "labels[0]".to_owned())]
    );
    assert_eq!(
        problems(json!(["works for", "founded"])),
        [(2, "too_many_labels", "labels".to_owned())]
    );
    // choice="multiple" allows several; a <Relation> outside is refused.
    let many = crate::config(&text.replace("<Relations>", r#"<Relations choice="multiple">"#));
    assert!(many.relations.as_ref().unwrap().multiple);
    let (_, diagnostics) = parse(
        r#"<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="A"/></Labels><Relation value="x"/></View>"#,
    );
    assert!(
        diagnostics.iter().any(|d| d.code == "misplaced_tag"),
        "{diagnostics:?}"
    );
}

/// The red-teaming template's config.
const CHAT: &str = r#"<View>
  <Chat name="chat" value="$messages"/>
  <Choices name="harm" toName="chat" perRegion="true" choice="multiple">
    <Choice value="None"/><Choice value="Violence"/><Choice value="Self-harm"/>
  </Choices>
  <Rating name="severity" toName="chat" perRegion="true" maxRating="4"/>
  <Choices name="success" toName="chat" perRegion="true" choice="single-radio">
    <Choice value="Attack succeeded"/><Choice value="Attack failed"/>
  </Choices>
  <TextArea name="notes" toName="chat"/>
</View>"#;

#[test]
fn chat_messages_and_their_labels() {
    let (config, diagnostics) = parse(CHAT);
    assert!(!has_errors(&diagnostics), "{diagnostics:?}");
    assert_eq!(config.objects[0].kind, gloss_schema::ObjectKind::Chat);
    let message = |id: &str, role: &str| {
        json!({"id": id, "from_name": "chat", "to_name": "chat", "type": "chatmessage",
            "value": {"chatmessage": {"role": role, "content": "hello <b>", "model": "m"}}})
    };
    let harm = |id: &str, choice: &str| {
        json!({"id": id, "from_name": "harm", "to_name": "chat", "type": "choices",
            "value": {"choices": [choice]}})
    };
    let items: Vec<ResultItem> = [
        message("m1", "user"),
        message("m2", "assistant"),
        harm("m2", "Violence"),
        json!({"id": "m2", "from_name": "severity", "to_name": "chat", "type": "rating",
            "value": {"rating": 3}}),
        json!({"id": "m2", "from_name": "success", "to_name": "chat", "type": "choices",
            "value": {"choices": ["Attack succeeded"]}}),
        json!({"from_name": "notes", "to_name": "chat", "type": "textarea",
            "value": {"text": ["jailbreak by role play"]}}),
    ]
    .into_iter()
    .map(item)
    .collect();
    assert_eq!(check_results(&config, &items), []);
    // The message round-trips, its extra keys kept.
    let back = serde_json::to_value(&items[1]).unwrap();
    assert_eq!(back["value"]["chatmessage"]["model"], "m");

    let mut bad = items.clone();
    bad.extend(
        [
            harm("m9", "Violence"),
            harm("m2", "None"),
            json!({"from_name": "harm", "to_name": "chat", "type": "choices",
                "value": {"choices": ["None"]}}),
            message("m3", "robot"),
            json!({"from_name": "chat", "to_name": "chat", "type": "chatmessage",
                "value": {"chatmessage": {"role": "user", "content": "x"}}}),
            json!({"id": "m4", "from_name": "chat", "to_name": "harm", "type": "chatmessage",
                "value": {"chatmessage": {"role": "user", "content": "x"}}}),
            json!({"id": "m5", "from_name": "chat", "to_name": "chat", "type": "chatmessage",
                "value": {"chatmessage": {"role": "user"}}}),
            json!({"id": "m6", "from_name": "nochat", "to_name": "nochat", "type": "chatmessage",
                "value": {"chatmessage": {"role": "user", "content": "x"}}}),
            json!({"id": "m2", "from_name": "severity", "to_name": "chat", "type": "rating",
                "value": {"rating": 5}}),
        ]
        .into_iter()
        .map(item),
    );
    let found: Vec<(usize, &str, String)> = check_results(&config, &bad)
        .into_iter()
        .map(|(i, p)| (i, p.code, p.field))
        .collect();
    let want: Vec<(usize, &str, String)> = vec![
        (6, "unknown_message", "id".into()),
        (7, "duplicate_result", "id".into()),
        (8, "unknown_message", "id".into()),
        (9, "bad_role", "value.chatmessage.role".into()),
        (10, "missing_id", "id".into()),
        (11, "unknown_to_name", "to_name".into()),
        (12, "malformed_value", "value.chatmessage".into()),
        (13, "unknown_from_name", "from_name".into()),
        (14, "duplicate_result", "id".into()),
        (14, "out_of_range", "value.rating".into()),
    ];
    let mut found_sorted = found.clone();
    found_sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(found_sorted, want_sorted, "{found:?}");
}

#[test]
fn a_chats_first_messages_are_role_and_content() {
    use gloss_schema::check_chat_seed;
    assert_eq!(check_chat_seed(&json!([])), None);
    assert_eq!(
        check_chat_seed(
            &json!([{"role": "system", "content": "Be nice."}, {"role": "user", "content": "hi"}])
        ),
        None
    );
    let at = |value: Value| check_chat_seed(&value).map(|(at, _)| at);
    // One string is one user message (an LLM feedback prompt); a number is nothing.
    assert_eq!(at(json!("hello")), None);
    assert_eq!(at(json!(3)), Some(String::new()));
    assert_eq!(
        at(json!([{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}])),
        Some("[1].role".into())
    );
    assert_eq!(
        at(json!([{"role": "user", "content": 3}])),
        Some("[0].content".into())
    );
}
