//! Label configs in, typed configs and diagnostics out.

use gloss_schema::{
    has_errors, parse, ChoiceMode, ControlKind, Diagnostic, LabelConfig, Node, ObjectKind, Severity,
};

/// `(code, line)` of every diagnostic, in the order `parse` returns them.
fn codes(diagnostics: &[Diagnostic]) -> Vec<(&'static str, u32)> {
    diagnostics.iter().map(|d| (d.code, d.line)).collect()
}

/// Parses a config that must have no diagnostic at all.
fn clean(text: &str) -> LabelConfig {
    let (config, diagnostics) = parse(text);
    assert!(
        diagnostics.is_empty(),
        "unexpected diagnostics: {diagnostics:#?}"
    );
    config
}

const IMAGE_BBOX: &str = r#"<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Airplane" background="green"/><Label value="Car" background="blue"/></RectangleLabels></View>"#;

const POLYGON: &str = r#"<View>
  <Header value="Select label and click the image to start"/>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image"
                 strokeWidth="3" pointSize="small"
                 opacity="0.9">
    <Label value="Airplane" background="red"/>
    <Label value="Car" background="blue"/>
  </PolygonLabels>
</View>"#;

const IMAGE_CLASSIFICATION: &str = r#"<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image">
    <Choice value="Adult content"/>
    <Choice value="Weapons" />
    <Choice value="Violence" />
  </Choices>
</View>"#;

const NER: &str = r#"<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="orange"/>
    <Label value="MISC" background="green"/>
  </Labels>

  <Text name="text" value="$text"/>
</View>"#;

const TEXT_CLASSIFICATION: &str = r#"<View>
  <Text name="text" value="$text"/>
  <View style="box-shadow: 2px 2px 5px #999;
               padding: 20px; margin-top: 2em;
               border-radius: 5px;">
    <Header value="Choose text sentiment"/>
    <Choices name="sentiment" toName="text"
             choice="single-radio" showInLine="true">
      <Choice value="Positive"/>
      <Choice value="Negative"/>
      <Choice value="Neutral"/>
    </Choices>
  </View>
</View>"#;

const OCR: &str = r#"<View>
  <Image name="image" value="$ocr"/>
  <Labels name="label" toName="image">
    <Label value="Text" background="green"/>
    <Label value="Handwriting" background="blue"/>
  </Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image"
            editable="true"
            perRegion="true"
            required="true"
            maxSubmissions="1"
            rows="5"
            placeholder="Recognized Text"
            displayMode="region-list"
            />
</View>"#;

#[test]
fn image_bbox_template() {
    let config = clean(IMAGE_BBOX);
    assert_eq!(config.objects.len(), 1);
    let image = config.object("image").expect("image object");
    assert_eq!(image.kind, ObjectKind::Image);
    assert_eq!(image.value, "image");
    let control = config.control("label").expect("label control");
    assert_eq!(control.kind, ControlKind::RectangleLabels);
    assert_eq!(control.to_names, ["image"]);
    let labels: Vec<_> = control.labels.iter().map(|l| l.value.as_str()).collect();
    assert_eq!(labels, ["Airplane", "Car"]);
    assert_eq!(control.labels[0].background.as_deref(), Some("green"));
    assert_eq!(control.choice, None);
    assert_eq!(config.data_keys(), ["image"]);
    assert!(config.control("image").is_none());
}

#[test]
fn polygon_template() {
    let config = clean(POLYGON);
    let control = config.control("label").expect("label control");
    assert_eq!(control.kind, ControlKind::PolygonLabels);
    assert_eq!(
        control.attributes.get("pointSize").map(String::as_str),
        Some("small")
    );
    assert_eq!(control.line, 4);
    assert_eq!(control.column, 3);
    assert_eq!(
        config
            .object("image")
            .and_then(|o| o.attributes.get("zoom"))
            .map(String::as_str),
        Some("true")
    );
    assert!(matches!(&config.layout[0], Node::Header { value } if value.starts_with("Select")));
}

#[test]
fn image_classification_template() {
    let config = clean(IMAGE_CLASSIFICATION);
    let control = config.control("choice").expect("choice control");
    assert_eq!(control.kind, ControlKind::Choices);
    assert_eq!(control.choice, Some(ChoiceMode::Single));
    assert_eq!(control.labels.len(), 3);
    assert_eq!(control.labels[2].line, 6);
}

#[test]
fn ner_template() {
    let config = clean(NER);
    let control = config.control("label").expect("label control");
    assert_eq!(control.kind, ControlKind::Labels);
    assert_eq!(control.to_names, ["text"]);
    assert_eq!(control.labels.len(), 4);
    assert_eq!(
        config.object("text").map(|o| o.kind),
        Some(ObjectKind::Text)
    );
    assert_eq!(config.data_keys(), ["text"]);
}

#[test]
fn text_classification_template() {
    let config = clean(TEXT_CLASSIFICATION);
    let control = config.control("sentiment").expect("sentiment control");
    assert_eq!(control.choice, Some(ChoiceMode::SingleRadio));
    match &config.layout[1] {
        Node::View {
            attributes,
            children,
        } => {
            assert!(attributes.contains_key("style"));
            assert_eq!(children.len(), 2);
            assert_eq!(
                children[1],
                Node::Control {
                    name: "sentiment".into()
                }
            );
        }
        other => panic!("expected a View, got {other:?}"),
    }
}

#[test]
fn ocr_template_with_per_region_textarea() {
    let config = clean(OCR);
    let kinds: Vec<_> = config.controls.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ControlKind::Labels,
            ControlKind::Rectangle,
            ControlKind::Polygon,
            ControlKind::TextArea
        ]
    );
    let textarea = config.control("transcription").expect("textarea");
    assert!(textarea.per_region);
    assert!(textarea.required);
    assert_eq!(
        textarea.attributes.get("rows").map(String::as_str),
        Some("5")
    );
    assert_eq!(
        textarea.attributes.get("displayMode").map(String::as_str),
        Some("region-list")
    );
    assert!(!config.control("bbox").expect("bbox").per_region);
    assert_eq!(config.data_keys(), ["ocr"]);
}

#[test]
fn to_name_is_inferred_from_a_lone_object() {
    let config = clean(
        r#"<View>
  <Image name="photo" value="$url"/>
  <Choices name="quality"><Choice value="Good"/><Choice value="Bad"/></Choices>
</View>"#,
    );
    assert_eq!(
        config.control("quality").expect("quality").to_names,
        ["photo"]
    );
}

#[test]
fn to_name_may_list_several_objects() {
    let config = clean(
        r#"<View>
  <Image name="left" value="$left"/>
  <Image name="right" value="$right"/>
  <Choices name="same" toName="left, right" choice="multiple">
    <Choice value="Same"/>
  </Choices>
</View>"#,
    );
    let control = config.control("same").expect("same");
    assert_eq!(control.to_names, ["left", "right"]);
    assert_eq!(control.choice, Some(ChoiceMode::Multiple));
    assert_eq!(config.data_keys(), ["left", "right"]);
}

#[test]
fn tag_and_attribute_names_are_case_insensitive() {
    let config = clean(
        r#"<view><image name="i" value="$img"/><choices name="c" toname="i" PERREGION="false"><choice value="a"/></choices></view>"#,
    );
    assert_eq!(config.control("c").expect("c").to_names, ["i"]);
}

#[test]
fn dynamic_choices_read_task_data() {
    let config = clean(
        r#"<View>
  <Header value="$title"/>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" value="$options"/>
</View>"#,
    );
    let control = config.control("topic").expect("topic");
    assert_eq!(control.labels_from.as_deref(), Some("options"));
    assert!(control.labels.is_empty());
    assert_eq!(config.data_keys(), ["text", "title", "options"]);
}

#[test]
fn unsupported_tags_warn_and_are_kept() {
    let text = r#"<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
  <BitmapMaskLabels name="kp" toName="image">
    <Label value="Nose"/>
  </BitmapMaskLabels>
  <TimeSeriesLabels name="ranking" toName="image"><Label value="Up"/></TimeSeriesLabels>
  <TimeSeries name="series" value="$series"/>
</View>"#;
    let (config, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [
            ("unsupported_tag", 4),
            ("unsupported_tag", 7),
            ("unsupported_tag", 8)
        ]
    );
    assert!(diagnostics.iter().all(|d| d.severity == Severity::Warning));
    assert!(!has_errors(&diagnostics));
    assert_eq!(config.unsupported.len(), 3);
    assert_eq!(config.unsupported[0].tag, "BitmapMaskLabels");
    assert_eq!(config.unsupported_tag("ranking").map(|u| u.line), Some(7));
    assert!(
        matches!(&config.layout[2], Node::Unsupported { tag, .. } if tag == "BitmapMaskLabels")
    );
    // The Label inside BitmapMaskLabels belongs to it, not to "box".
    assert_eq!(config.control("box").expect("box").labels.len(), 1);
    assert_eq!(config.data_keys(), ["image", "series"]);
}

#[test]
fn config_of_only_unsupported_tags_still_imports() {
    let text = r#"<View>
  <TimeSeries name="series" value="$series"/>
  <TimeSeriesLabels name="event" toName="series"><Label value="Spike"/></TimeSeriesLabels>
</View>"#;
    let (_, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [("unsupported_tag", 2), ("unsupported_tag", 3)]
    );
}

#[test]
fn several_mistakes_are_all_reported() {
    let text = r#"<View>
  <Image name="img" value="image"/>
  <Image value="$other"/>
  <RectangleLabels name="box" toName="imgae" opacity="2">
    <Label value="Car" hotkey="c"/>
    <Label value="Car" hotkey="1"/>
  </RectangleLabels>
  <Choices name="box" toName="img" choice="several">
    <Choice value="Day" hotkey="C"/>
  </Choices>
  <Labels name="empty" toName="img"/>
  <Imgae name="x" value="$x"/>
  <Label value="stray"/>
  <TextArea name="notes" toName="img" rows="0" perRegion="yes"/>
  <Choice hotkey="2"/>
</View>"#;
    let (_, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [
            ("bad_attribute_value", 2),
            ("missing_attribute", 3),
            ("unknown_to_name", 4),
            ("bad_attribute_value", 4),
            ("duplicate_label", 6),
            ("duplicate_name", 8),
            ("bad_attribute_value", 8),
            ("duplicate_hotkey", 9),
            ("empty_labels", 11),
            ("unknown_tag", 12),
            ("misplaced_tag", 13),
            ("bad_attribute_value", 14),
            ("bad_attribute_value", 14),
            ("misplaced_tag", 15),
        ]
    );
    let severity = |code: &str| {
        diagnostics
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.severity)
    };
    assert_eq!(severity("duplicate_label"), Some(Severity::Warning));
    assert_eq!(severity("duplicate_hotkey"), Some(Severity::Warning));
    assert_eq!(severity("unknown_to_name"), Some(Severity::Error));
    assert!(has_errors(&diagnostics));

    // Messages name the tag and the attribute.
    let to_name = &diagnostics[2];
    assert_eq!(to_name.column, 31);
    assert!(
        to_name.message.contains("<RectangleLabels name=\"box\">"),
        "{}",
        to_name.message
    );
    assert!(to_name.message.contains("toName"), "{}", to_name.message);
    assert!(to_name.message.contains("imgae"), "{}", to_name.message);
    let opacity = &diagnostics[3];
    assert!(opacity.message.contains("opacity"), "{}", opacity.message);
    let duplicate = &diagnostics[5];
    assert!(
        duplicate.message.contains("line 4"),
        "{}",
        duplicate.message
    );
}

#[test]
fn missing_names_and_targets() {
    let text = r#"<View>
  <Image name="a" value="$a"/>
  <Text name="b" value="$b"/>
  <Choices name="c"><Choice value="x"/></Choices>
  <RectangleLabels toName="a"><Label/></RectangleLabels>
  <RectangleLabels name="r" toName="b"><Label value="y"/></RectangleLabels>
  <Labels name="l" toName="c"><Label value="z"/></Labels>
  <Text name="" value="$"/>
</View>"#;
    let (config, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [
            ("missing_attribute", 4),
            ("missing_attribute", 5),
            ("missing_attribute", 5),
            ("incompatible_to_name", 6),
            ("incompatible_to_name", 7),
            ("bad_attribute_value", 8),
            ("bad_attribute_value", 8),
        ]
    );
    // The unnamed control cannot be referred to, so it is dropped.
    assert_eq!(config.controls.len(), 3);
}

#[test]
fn empty_config_has_no_object_and_no_control() {
    let (_, diagnostics) = parse("<View>\n  <Header value=\"Nothing here\"/>\n</View>");
    assert_eq!(
        codes(&diagnostics),
        [("no_object_tag", 1), ("no_control_tag", 1)]
    );
}

#[test]
fn root_must_be_view() {
    let (_, diagnostics) = parse(r#"<Image name="image" value="$image"/>"#);
    assert_eq!(
        codes(&diagnostics),
        [("bad_root", 1), ("no_control_tag", 1)]
    );
}

#[test]
fn xml_syntax_error_has_its_position() {
    let text = "<View>\n  <Image name=\"image\" value=\"$image\">\n</View>";
    let (config, diagnostics) = parse(text);
    assert_eq!(config, LabelConfig::default());
    assert_eq!(codes(&diagnostics), [("xml_syntax", 3)]);
    assert_eq!(diagnostics[0].severity, Severity::Error);
    assert!(diagnostics[0].message.starts_with("XML syntax error"));
}

#[test]
fn unclosed_config_points_at_its_end() {
    let (_, diagnostics) = parse("<View>\n  <Image name=\"image\" value=\"$image\"/>\n");
    assert_eq!(codes(&diagnostics), [("xml_syntax", 3)]);
    assert_eq!(diagnostics[0].column, 1);
}

#[test]
fn doctype_and_entities_are_refused() {
    let text = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<View><Header value="&lol2;"/></View>"#;
    let (config, diagnostics) = parse(text);
    assert_eq!(codes(&diagnostics), [("doctype_not_allowed", 2)]);
    assert!(config.layout.is_empty());
}

#[test]
fn undeclared_entity_is_a_syntax_error() {
    let (_, diagnostics) = parse("<View>\n<Header value=\"&secret;\"/>\n</View>");
    assert_eq!(codes(&diagnostics), [("xml_syntax", 2)]);
}

#[test]
fn config_serializes_for_the_browser() {
    let (config, _) = parse(TEXT_CLASSIFICATION);
    let json = serde_json::to_value(&config).expect("serializes");
    assert_eq!(json["objects"][0]["kind"], "Text");
    assert_eq!(json["objects"][0]["value"], "text");
    assert_eq!(json["controls"][0]["kind"], "Choices");
    assert_eq!(json["controls"][0]["choice"], "single-radio");
    assert_eq!(json["controls"][0]["to_names"][0], "text");
    assert_eq!(json["controls"][0]["labels"][1]["value"], "Negative");
    assert_eq!(json["layout"][0]["node"], "object");
    assert_eq!(json["layout"][1]["node"], "view");
    assert_eq!(json["layout"][1]["children"][0]["node"], "header");

    let (_, diagnostics) = parse("<View/>");
    let json = serde_json::to_value(&diagnostics).expect("serializes");
    assert_eq!(json[0]["code"], "no_object_tag");
    assert_eq!(json[0]["severity"], "error");
    assert_eq!(json[0]["line"], 1);
}

#[test]
fn deep_nesting_is_refused_without_overflowing() {
    let depth = 50_000;
    let text = format!("{}{}", "<View>".repeat(depth), "</View>".repeat(depth));
    let (_, diagnostics) = parse(&text);
    let deep: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == "too_deep")
        .collect();
    assert_eq!(deep.len(), 1);
    assert!(has_errors(&diagnostics));
}

#[test]
fn style_keeps_its_css() {
    let config = clean(
        r#"<View><Style>.big { font-size: 2em }</Style><Image name="i" value="$i"/><Rectangle name="r" toName="i"/></View>"#,
    );
    assert_eq!(
        config.layout[0],
        Node::Style {
            css: ".big { font-size: 2em }".into()
        }
    );
}

#[test]
fn computer_vision_controls_and_a_skeleton_are_read() {
    let text = r#"<View>
  <Image name="image" value="$image"/>
  <KeyPointLabels name="pose" toName="image">
    <Label value="nose" hotkey="n"/><Label value="left_eye"/><Label value="right_eye"/>
    <Skeleton value="person">
      <Edge from="nose" to="left_eye"/>
      <Edge from="nose" to="right_eye"/>
    </Skeleton>
  </KeyPointLabels>
  <EllipseLabels name="ellipse" toName="image"><Label value="Eye"/></EllipseLabels>
  <PolyLineLabels name="lane" toName="image"><Label value="Lane"/></PolyLineLabels>
  <BrushLabels name="mask" toName="image"><Label value="Road"/></BrushLabels>
  <KeyPoint name="point" toName="image"/>
  <Ellipse name="ring" toName="image"/>
  <PolyLine name="path" toName="image"/>
  <Brush name="paint" toName="image"/>
  <Number name="count" toName="image" perRegion="true" min="0" max="10"/>
</View>"#;
    let (config, diagnostics) = parse(text);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let kinds: Vec<_> = config.controls.iter().map(|c| c.kind.tag()).collect();
    assert_eq!(
        kinds,
        [
            "KeyPointLabels",
            "EllipseLabels",
            "PolyLineLabels",
            "BrushLabels",
            "KeyPoint",
            "Ellipse",
            "PolyLine",
            "Brush",
            "Number"
        ]
    );
    let pose = config.control("pose").expect("pose");
    assert_eq!(pose.labels.len(), 3, "the skeleton is not a label");
    let skeleton = pose.skeleton.as_ref().expect("skeleton");
    assert_eq!(skeleton.value, "person");
    assert_eq!(
        skeleton.edges,
        [
            ["nose".to_owned(), "left_eye".to_owned()],
            ["nose".to_owned(), "right_eye".to_owned()]
        ]
    );
    assert_eq!(skeleton.line, 5);
    assert!(config.control("count").expect("count").per_region);
    assert!(config.unsupported.is_empty());
}

#[test]
fn skeleton_mistakes_are_reported_at_their_line() {
    let text = r#"<View>
  <Image name="image" value="$image"/>
  <KeyPointLabels name="pose" toName="image">
    <Label value="nose"/><Label value="eye"/>
    <Skeleton value="face">
      <Edge from="nose" to="ear"/>
      <Edge from="eye" to="eye"/>
      <Edge from="nose"/>
      <Label value="stray"/>
    </Skeleton>
    <Skeleton value="again"/>
  </KeyPointLabels>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/>
    <Skeleton value="car"/>
  </RectangleLabels>
  <Edge from="a" to="b"/>
</View>"#;
    let (_, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [
            ("unknown_label", 5),
            ("bad_attribute_value", 5),
            ("missing_attribute", 8),
            ("misplaced_tag", 9),
            ("duplicate_skeleton", 11),
            ("misplaced_tag", 15),
            ("misplaced_tag", 17),
        ]
    );
    let unknown = &diagnostics[0].message;
    assert!(unknown.contains("\"ear\" is not a <Label>"), "{unknown}");
}

#[test]
fn llm_feedback_tags_are_read() {
    let text = r#"<View>
  <Chat name="chat" value="$messages"/>
  <Text name="a" value="$answer_a" markdown="true"/>
  <Text name="b" value="$answer_b" markdown="true"/>
  <Pairwise name="pick" toName="a,b" allowTie="true" strength="3"/>
  <List name="answers" value="$responses" title="Responses"/>
  <Ranker name="rank" toName="answers"/>
  <Ranker name="sort" toName="answers">
    <Bucket name="good" title="Good"/><Bucket name="bad" title="Bad"/>
  </Ranker>
  <Rating name="helpfulness" toName="answers" perItem="true" maxRating="5"/>
  <TextArea name="rewrite" toName="answers" perItem="true" value="$responses"/>
  <TextArea name="why" toName="chat"/>
</View>"#;
    let (config, diagnostics) = parse(text);
    assert!(!has_errors(&diagnostics), "{diagnostics:#?}");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let pick = config.control("pick").expect("pick");
    assert_eq!(pick.to_names, ["a", "b"]);
    assert!(pick.allows_tie());
    assert_eq!(pick.max_strength(), Some(3));
    assert_eq!(
        config.control("rank").expect("rank").ranker_columns(),
        ["rank"]
    );
    assert_eq!(
        config.control("sort").expect("sort").ranker_columns(),
        ["good", "bad", "_"]
    );
    assert!(config.control("helpfulness").expect("h").per_item());
    assert_eq!(
        config.data_keys(),
        ["messages", "answer_a", "answer_b", "responses"]
    );

    // Mistakes, each at its line.
    let text = r#"<View>
  <Text name="a" value="$a"/>
  <Pairwise name="pick" toName="a" strength="1"/>
  <List name="l" value="$l"/>
  <Ranker name="r" toName="a"/>
  <Bucket name="stray"/>
  <Ranker name="s" toName="l"><Bucket name="x" default="true"/><Bucket name="y" default="true"/><Bucket title="no name"/></Ranker>
  <Rating name="per" toName="a" perItem="true"/>
</View>"#;
    let (_, diagnostics) = parse(text);
    assert_eq!(
        codes(&diagnostics),
        [
            ("bad_attribute_value", 3),
            ("bad_attribute_value", 3),
            ("unsupported_tag", 5),
            ("misplaced_tag", 6),
            ("bad_attribute_value", 7),
            ("missing_attribute", 7),
            ("ignored_attribute", 8),
        ],
        "{diagnostics:#?}"
    );
}
