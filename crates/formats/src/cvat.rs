//! CVAT for images 1.1: the `annotations.xml` CVAT exports and imports,
//! with the images beside it in `images/`.
//!
//! ```text
//! <annotations>
//!   <version>1.1</version>
//!   <meta><task>… <labels><label><name>car</name><color>#800000</color>
//!     <type>any</type><attributes/></label>…</labels></task></meta>
//!   <image id="0" name="a.jpg" width="200" height="100">
//!     <box label="car" source="manual" occluded="0" xtl="20" ytl="20" xbr="80" ybr="60" z_order="0"/>
//!     <polygon label="road" … points="20,60;100,60;60,95"/>
//!     <polyline …/> <points …/> <ellipse … cx cy rx ry/>
//!     <mask label="car" … rle="0, 3, 2, 1" left="4" top="6" width="3" height="2"/>
//!     <skeleton label="person" …><points label="nose" outside="0" occluded="0" points="x,y"/>…</skeleton>
//!     <tag label="outdoor" source="manual"/>
//!   </image>
//! </annotations>
//! ```
//!
//! Coordinates are pixels. A box's `rotation` is in degrees clockwise about
//! its centre (Label Studio turns a box about its top-left corner: the
//! conversion moves the corner, the size and angle stay). An ellipse's is
//! also about its centre, as in Label Studio.
//!
//! # Writing
//!
//! [`CvatImageWriter`] writes, of the annotations that were not cancelled:
//! `rectanglelabels` as `<box>`, `polygonlabels` as `<polygon>`,
//! `polylinelabels` as `<polyline>`, `ellipselabels` as `<ellipse>`, the
//! `keypointlabels` of each keypoint category as `<skeleton>`s (the points
//! sharing a `parentID` are one skeleton, a point without one is a skeleton
//! of its own; every joint is written, those without a point as
//! `outside="1"` at 0,0 as CVAT does), the choices of image-level
//! `choices` results as `<tag>`s, and the `choices`, `textarea` and
//! `number` results that share a shape's region id (per-region controls)
//! as the shape's `<attribute>`s, declared for every shape label (see
//! [`CvatAttributeKind`]), and `brushlabels` as `<mask>` (below). Texts
//! and numbers of the whole image are not written, nor attributes of
//! keypoints; [`CVAT_RESULT_TYPES`] lists the types written. A result's `"cvat"` key (where [`read_cvat_images`]
//! keeps it) gives its `occluded` flag and `z_order`.
//!
//! A `<mask>` holds the pixels within its bounds (`left`, `top`, `width`,
//! `height`: the smallest box around the set pixels) as CVAT's `rle`: run
//! lengths row by row from the top-left pixel, alternating unset and set
//! pixels and starting with unset ones, `rle="0, 3, 2, 1"`. That is what
//! CVAT 1.1 and datumaro write and read. A mask drawn on another size than
//! the image's, or without a pixel set, is left out and counted as skipped.
//!
//! The `<meta>` comes first and lists the labels; images are written as
//! tasks arrive, so memory stays constant however many there are.
//!
//! # Reading
//!
//! [`read_cvat_images`] makes one task per `<image>`; see there.
//!
//! # Limits
//!
//! A file is read whole, up to [`MAX_CVAT_XML_BYTES`]; an image with more
//! than [`MAX_OBJECTS_PER_IMAGE`](crate::MAX_OBJECTS_PER_IMAGE) shapes and
//! tags is rejected.

use crate::coco::{ControlRef, KeypointControl};
use crate::coco_writer::ExportCategory;
use crate::files::is_safe_relative_path;
use crate::model::{FormatError, Rejection, TaskRecord};
use crate::raster::voc_color;
use crate::shapes::{brush_regions, image_result, percent, placed, skeletons};
use crate::voc::MAX_OBJECTS_PER_IMAGE;
use crate::write::ExportTask;
use crate::xml::{self, children, number, push_escaped, XmlProblem};
use gloss_masks::{BBox, CocoRle, Mask};
use gloss_types::result::{
    ChoicesValue, EllipseValue, KeyPointValue, Labeled, NumberValue, PolyLineValue,
    PolygonLabelsValue, RectangleLabelsValue, ResultItem, ResultValue, TextAreaValue,
};
use roxmltree::Node;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, BufWriter, Read, Write};

/// The result types a CVAT export writes (`textarea` and `number` only
/// per region, as attributes).
pub const CVAT_RESULT_TYPES: &[&str] = &[
    "rectanglelabels",
    "polygonlabels",
    "polylinelabels",
    "ellipselabels",
    "brushlabels",
    "keypointlabels",
    "choices",
    "textarea",
    "number",
];

/// The largest `annotations.xml` [`read_cvat_images`] reads: 256 MiB, some
/// millions of shapes.
pub const MAX_CVAT_XML_BYTES: u64 = 256 << 20;

/// The labels of a CVAT export, listed in its `<meta>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CvatLabels {
    /// Shape labels, and keypoint categories (which become skeleton
    /// labels with a sublabel per joint), as for COCO.
    pub categories: Vec<ExportCategory>,
    /// Tag labels: the choices of the image-level Choices controls.
    pub tags: Vec<String>,
    /// The per-region controls, which every shape label gets as
    /// attributes.
    pub attributes: Vec<CvatAttribute>,
}

/// A per-region control (`perRegion="true"`, or shown for a selected
/// region) as a CVAT attribute: its results that share a shape's region id
/// are written as `<attribute name="{control}">` of that shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvatAttribute {
    /// The control's name, which is the attribute's.
    pub name: String,
    pub kind: CvatAttributeKind,
    /// A Choices control's choices: the values of CVAT's `select`.
    pub values: Vec<String>,
}

/// What a per-region control holds, and the CVAT attribute type for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvatAttributeKind {
    /// A Choices control: a `select` (one choice; a result with several
    /// writes the first and counts the others as skipped).
    Choices,
    /// A TextArea control: `text` (several texts are joined by line breaks).
    Text,
    /// A Number control: written as `text`, since CVAT's `number` needs a
    /// range the control may not have.
    Number,
}

impl CvatAttributeKind {
    fn input_type(self) -> &'static str {
        match self {
            CvatAttributeKind::Choices => "select",
            CvatAttributeKind::Text | CvatAttributeKind::Number => "text",
        }
    }
}

/// Counts of what a [`CvatImageWriter`] wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CvatSummary {
    /// Images written, one per task with an image.
    pub images: u64,
    /// Shapes written (a skeleton counts once).
    pub shapes: u64,
    /// Tags written.
    pub tags: u64,
    /// Tasks without an image or image size, and results or choices
    /// whose label is not one of the labels (or that have no size to
    /// convert them with).
    pub skipped: u64,
}

/// CVAT for images 1.1, written task by task with constant memory.
///
/// Output is buffered inside; [`CvatImageWriter::finish`] closes the
/// document and flushes it.
pub struct CvatImageWriter<W: Write> {
    out: BufWriter<W>,
    shape_labels: HashSet<String>,
    tag_labels: HashSet<String>,
    /// Skeleton label and joints by KeyPointLabels control.
    skeletons: HashMap<String, (String, Vec<String>)>,
    /// The names of the per-region controls written as attributes.
    attributes: HashSet<String>,
    summary: CvatSummary,
}

impl<W: Write> CvatImageWriter<W> {
    /// Starts the document with its `<meta>`.
    pub fn new(out: W, labels: &CvatLabels) -> io::Result<Self> {
        let mut writer = CvatImageWriter {
            out: BufWriter::with_capacity(64 * 1024, out),
            shape_labels: HashSet::new(),
            tag_labels: labels.tags.iter().cloned().collect(),
            skeletons: HashMap::new(),
            attributes: labels.attributes.iter().map(|a| a.name.clone()).collect(),
            summary: CvatSummary::default(),
        };
        let attributes = attribute_declarations(&labels.attributes);
        let mut meta = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n  \
             <meta>\n    <task>\n      <name>Gloss export</name>\n      <mode>annotation</mode>\n      \
             <labels>\n",
        );
        let mut written: HashSet<&str> = HashSet::new();
        let mut color = 0;
        let mut next_color = || {
            color += 1;
            let [r, g, b] = voc_color(color);
            format!("#{r:02x}{g:02x}{b:02x}")
        };
        for category in &labels.categories {
            match &category.keypoints {
                None => {
                    writer.shape_labels.insert(category.name.clone());
                    // A shape label is written once, and is also the tag
                    // label of the same name: CVAT's type `any` is both.
                    if written.insert(&category.name) {
                        let color = next_color();
                        push_label(&mut meta, &category.name, &color, "any", &attributes, "");
                    }
                }
                Some(keypoints) => {
                    writer.skeletons.insert(
                        keypoints.control.clone(),
                        (category.name.clone(), keypoints.joints.clone()),
                    );
                    let mut svg = String::from("          <svg>");
                    push_escaped(&mut svg, &skeleton_svg(&keypoints.joints, &keypoints.edges));
                    svg.push_str("</svg>\n");
                    push_label(
                        &mut meta,
                        &category.name,
                        &next_color(),
                        "skeleton",
                        "",
                        &svg,
                    );
                    let mut parent = String::from("          <parent>");
                    push_escaped(&mut parent, &category.name);
                    parent.push_str("</parent>\n");
                    for joint in &keypoints.joints {
                        push_label(&mut meta, joint, &next_color(), "points", "", &parent);
                    }
                }
            }
        }
        for tag in &labels.tags {
            if written.insert(tag) {
                push_label(&mut meta, tag, &next_color(), "tag", "", "");
            }
        }
        meta.push_str("      </labels>\n    </task>\n  </meta>\n");
        writer.out.write_all(meta.as_bytes())?;
        Ok(writer)
    }

    /// Writes the task's `<image>`; returns where its image goes in the
    /// dataset (`images/{file name}`), or `None` when the task is left out
    /// (no image, or no image size).
    pub fn write_task(&mut self, task: &ExportTask) -> io::Result<Option<String>> {
        let Some((image, (width, height), annotations)) = placed(task) else {
            self.summary.skipped += 1;
            return Ok(None);
        };
        let mut xml = String::new();
        let _ = write!(xml, "  <image id=\"{}\" name=\"", self.summary.images);
        push_escaped(&mut xml, &image.file_name);
        let _ = writeln!(xml, "\" width=\"{width}\" height=\"{height}\">");
        let mut tags: Vec<&str> = Vec::new();
        for annotation in &annotations {
            // Choices, texts and numbers that share a shape's region id
            // describe it: they are its attributes, not the image's.
            let shape_ids: HashSet<&str> = annotation
                .result
                .iter()
                .filter(|r| !is_detail(r))
                .filter_map(|r| r.id.as_deref())
                .collect();
            let mut details: HashMap<&str, Vec<&ResultItem>> = HashMap::new();
            for result in annotation.result.iter().filter(|r| is_detail(r)) {
                match result.id.as_deref().filter(|id| shape_ids.contains(id)) {
                    Some(id) => details.entry(id).or_default().push(result),
                    None => match &result.value {
                        ResultValue::Choices(choices) => {
                            for choice in &choices.choices {
                                if !self.tag_labels.contains(choice) {
                                    self.summary.skipped += 1;
                                } else if !tags.contains(&choice.as_str()) {
                                    tags.push(choice);
                                }
                            }
                        }
                        // Texts and numbers of the whole image have no
                        // place in CVAT.
                        _ => self.summary.skipped += 1,
                    },
                }
            }
            for result in annotation.result.iter().filter(|r| !is_detail(r)) {
                let details = result.id.as_deref().and_then(|id| details.get(id));
                let details = details.map_or(&[][..], |d| &d[..]);
                self.push_shape(&mut xml, result, (width, height), details);
            }
            self.push_skeletons(&mut xml, &annotation.result, (width, height));
        }
        for tag in tags {
            xml.push_str("    <tag label=\"");
            push_escaped(&mut xml, tag);
            xml.push_str("\" source=\"manual\">\n    </tag>\n");
            self.summary.tags += 1;
        }
        xml.push_str("  </image>\n");
        self.out.write_all(xml.as_bytes())?;
        self.summary.images += 1;
        Ok(Some(format!("images/{}", image.file_name)))
    }

    /// The `<attribute>` elements of a shape's per-region results; those of
    /// controls that are not attributes are counted as skipped.
    fn attribute_elements(&mut self, details: &[&ResultItem]) -> String {
        let mut elements = String::new();
        for detail in details {
            if !self.attributes.contains(&detail.from_name) {
                self.summary.skipped += 1;
                continue;
            }
            let value = match &detail.value {
                ResultValue::Choices(choices) => {
                    let others = choices.choices.len().saturating_sub(1);
                    self.summary.skipped += others as u64;
                    choices.choices.first().cloned().unwrap_or_default()
                }
                ResultValue::TextArea(text) => text.text.join("\n"),
                ResultValue::Number(n) => number(n.number),
                _ => continue,
            };
            elements.push_str("      <attribute name=\"");
            push_escaped(&mut elements, &detail.from_name);
            elements.push_str("\">");
            push_escaped(&mut elements, &value);
            elements.push_str("</attribute>\n");
        }
        elements
    }

    /// Appends the element of a box, polygon, polyline, ellipse or brush
    /// mask result, with its per-region results as attributes; other
    /// results are not shapes (keypoints go in skeletons, without
    /// attributes).
    fn push_shape(
        &mut self,
        xml: &mut String,
        result: &ResultItem,
        (image_width, image_height): (u32, u32),
        details: &[&ResultItem],
    ) {
        let (width, height) = (f64::from(image_width), f64::from(image_height));
        let x = |percent: f64| number(percent * width / 100.0);
        let y = |percent: f64| number(percent * height / 100.0);
        let points = |points: &[[f64; 2]]| {
            let pairs: Vec<String> = points
                .iter()
                .map(|[px, py]| format!("{},{}", x(*px), y(*py)))
                .collect();
            pairs.join(";")
        };
        let (element, labels, geometry) = match &result.value {
            ResultValue::RectangleLabels(r) => {
                let (w, h) = (r.width * width / 100.0, r.height * height / 100.0);
                let degrees = r.rotation.unwrap_or(0.0).rem_euclid(360.0);
                // Label Studio turns the box about its top-left corner,
                // CVAT about its centre: the centre is where the turn took
                // it, and the unturned box is drawn around it.
                let (sin, cos) = degrees.to_radians().sin_cos();
                let cx = r.x * width / 100.0 + w / 2.0 * cos - h / 2.0 * sin;
                let cy = r.y * height / 100.0 + w / 2.0 * sin + h / 2.0 * cos;
                let mut geometry = format!(
                    "xtl=\"{}\" ytl=\"{}\" xbr=\"{}\" ybr=\"{}\"",
                    number(cx - w / 2.0),
                    number(cy - h / 2.0),
                    number(cx + w / 2.0),
                    number(cy + h / 2.0)
                );
                if degrees != 0.0 {
                    let _ = write!(geometry, " rotation=\"{}\"", number(degrees));
                }
                ("box", &r.rectanglelabels, geometry)
            }
            ResultValue::PolygonLabels(p) => (
                "polygon",
                &p.polygonlabels,
                format!("points=\"{}\"", points(&p.points)),
            ),
            ResultValue::PolyLineLabels(p) => (
                "polyline",
                &p.labels,
                format!("points=\"{}\"", points(&p.shape.points)),
            ),
            ResultValue::EllipseLabels(e) => {
                let shape = &e.shape;
                let mut geometry = format!(
                    "cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\"",
                    x(shape.x),
                    y(shape.y),
                    x(shape.radius_x),
                    y(shape.radius_y)
                );
                let degrees = shape.rotation.unwrap_or(0.0).rem_euclid(360.0);
                if degrees != 0.0 {
                    let _ = write!(geometry, " rotation=\"{}\"", number(degrees));
                }
                ("ellipse", &e.labels, geometry)
            }
            ResultValue::BrushLabels(b) => {
                let (mut brushes, left_out) = brush_regions([result], image_width, image_height);
                self.summary.skipped += left_out;
                // One brush per label, all of the same mask.
                let Some(brush) = brushes.pop() else {
                    return;
                };
                let BBox {
                    x,
                    y,
                    width,
                    height,
                } = brush.bbox;
                let geometry = format!(
                    "rle=\"{}\" left=\"{x}\" top=\"{y}\" width=\"{width}\" height=\"{height}\"",
                    cvat_rle(&brush.mask, brush.bbox)
                );
                ("mask", &b.labels, geometry)
            }
            _ => return,
        };
        let (occluded, z_order) = cvat_flags(result);
        let attributes = self.attribute_elements(details);
        for label in labels {
            if !self.shape_labels.contains(label) {
                self.summary.skipped += 1;
                continue;
            }
            let _ = write!(xml, "    <{element} label=\"");
            push_escaped(xml, label);
            let _ = writeln!(
                xml,
                "\" source=\"manual\" occluded=\"{}\" {geometry} z_order=\"{z_order}\">",
                u8::from(occluded)
            );
            xml.push_str(&attributes);
            let _ = writeln!(xml, "    </{element}>");
            self.summary.shapes += 1;
        }
    }

    /// Appends a `<skeleton>` per skeleton instance of the keypoint
    /// categories.
    fn push_skeletons(
        &mut self,
        xml: &mut String,
        results: &[ResultItem],
        (width, height): (u32, u32),
    ) {
        if self.skeletons.is_empty() {
            return;
        }
        let joints_of = |control: &str| self.skeletons.get(control).map(|(_, j)| &j[..]);
        let (instances, skipped) = skeletons(results, joints_of, width, height);
        self.summary.skipped += skipped;
        for instance in instances {
            let (label, joints) = &self.skeletons[instance.control];
            xml.push_str("    <skeleton label=\"");
            push_escaped(xml, label);
            xml.push_str("\" source=\"manual\" z_order=\"0\">\n");
            for (joint, xyv) in joints.iter().zip(instance.keypoints.chunks_exact(3)) {
                xml.push_str("      <points label=\"");
                push_escaped(xml, joint);
                let _ = writeln!(
                    xml,
                    "\" source=\"manual\" outside=\"{}\" occluded=\"{}\" points=\"{},{}\">\n      \
                     </points>",
                    u8::from(xyv[2] == 0.0),
                    u8::from(xyv[2] == 1.0),
                    number(xyv[0]),
                    number(xyv[1])
                );
            }
            xml.push_str("    </skeleton>\n");
            self.summary.shapes += 1;
        }
    }

    /// Closes the document and flushes the output.
    pub fn finish(mut self) -> io::Result<CvatSummary> {
        self.out.write_all(b"</annotations>\n")?;
        self.out.flush()?;
        Ok(self.summary)
    }
}

/// CVAT's run lengths of a mask's pixels within `bbox`: row by row from
/// the top-left pixel, alternating runs of unset and set pixels, starting
/// with unset ones (a run of 0 when the first pixel is set), joined by
/// `", "` as CVAT and datumaro write them.
pub(crate) fn cvat_rle(mask: &Mask, bbox: BBox) -> String {
    let mut runs: Vec<String> = Vec::new();
    let (mut set, mut run) = (false, 0u32);
    for y in bbox.y..bbox.y + bbox.height {
        for x in bbox.x..bbox.x + bbox.width {
            if mask.get(x, y) != set {
                runs.push(run.to_string());
                (set, run) = (!set, 0);
            }
            run += 1;
        }
    }
    runs.push(run.to_string());
    runs.join(", ")
}

/// Whether a result describes a region (or the image) rather than being
/// a shape: a choice, text or number.
fn is_detail(result: &ResultItem) -> bool {
    matches!(
        result.value,
        ResultValue::Choices(_) | ResultValue::TextArea(_) | ResultValue::Number(_)
    )
}

/// Appends a `<label>` of the meta. `attributes` are its attribute
/// declarations; `extra` follows them (a skeleton's `<svg>`, a joint's
/// `<parent>`).
fn push_label(
    meta: &mut String,
    name: &str,
    color: &str,
    kind: &str,
    attributes: &str,
    extra: &str,
) {
    meta.push_str("        <label>\n          <name>");
    push_escaped(meta, name);
    let _ = write!(
        meta,
        "</name>\n          <color>{color}</color>\n          <type>{kind}</type>\n          \
         <attributes>\n{attributes}          </attributes>\n{extra}        </label>\n"
    );
}

/// The `<attribute>` declarations of a shape label.
fn attribute_declarations(attributes: &[CvatAttribute]) -> String {
    let mut declarations = String::new();
    for attribute in attributes {
        declarations.push_str("            <attribute>\n              <name>");
        push_escaped(&mut declarations, &attribute.name);
        let _ = write!(
            declarations,
            "</name>\n              <mutable>False</mutable>\n              \
             <input_type>{}</input_type>\n              <default_value>",
            attribute.kind.input_type()
        );
        let default = attribute.values.first().map_or("", String::as_str);
        push_escaped(&mut declarations, default);
        declarations.push_str("</default_value>\n              <values>");
        push_escaped(&mut declarations, &attribute.values.join("\n"));
        declarations.push_str("</values>\n            </attribute>\n");
    }
    declarations
}

/// CVAT's drawing of a skeleton label: its joints on a circle (CVAT keeps
/// where the user placed them; Gloss has no places) and its edges between
/// them, by 1-based joint number.
pub(crate) fn skeleton_svg(joints: &[String], edges: &[[String; 2]]) -> String {
    let place = |index: usize| {
        let angle = std::f64::consts::TAU * index as f64 / joints.len().max(1) as f64;
        (
            number(50.0 + 40.0 * angle.sin()),
            number(50.0 - 40.0 * angle.cos()),
        )
    };
    let mut svg = String::new();
    for [from, to] in edges {
        let from = joints.iter().position(|j| j == from);
        let to = joints.iter().position(|j| j == to);
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let ((x1, y1), (x2, y2)) = (place(from), place(to));
        let _ = write!(
            svg,
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"black\" \
             data-type=\"edge\" data-node-from=\"{}\" stroke-width=\"0.5\" data-node-to=\"{}\">\
             </line>",
            from + 1,
            to + 1
        );
    }
    for (index, joint) in joints.iter().enumerate() {
        let (cx, cy) = place(index);
        let mut name = String::new();
        push_escaped(&mut name, joint);
        let _ = write!(
            svg,
            "<circle r=\"1.5\" stroke=\"black\" fill=\"#b3b3b3\" cx=\"{cx}\" cy=\"{cy}\" \
             stroke-width=\"0.1\" data-type=\"element node\" data-element-id=\"{n}\" \
             data-node-id=\"{n}\" data-label-name=\"{name}\"></circle>",
            n = index + 1
        );
    }
    svg
}

/// The `occluded` flag and `z_order` kept in a result's `"cvat"` key.
fn cvat_flags(result: &ResultItem) -> (bool, i64) {
    let cvat = result.extra.get("cvat").and_then(Value::as_object);
    let occluded = cvat
        .and_then(|c| c.get("occluded"))
        .is_some_and(|v| v == &Value::from(1) || v == &Value::Bool(true));
    let z_order = cvat
        .and_then(|c| c.get("z_order"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    (occluded, z_order)
}

/// Where CVAT's shapes and tags go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvatImportOptions {
    /// The data key that gets the image's path in the dataset, e.g.
    /// `"image"`.
    pub image_field: String,
    /// A RectangleLabels control, for `<box>`es (and the bounds of
    /// `<mask>`s when there is no `brushes` control).
    pub rectangles: Option<ControlRef>,
    /// A BrushLabels control, for `<mask>`s.
    pub brushes: Option<ControlRef>,
    /// A PolygonLabels control, for `<polygon>`s.
    pub polygons: Option<ControlRef>,
    /// A PolyLineLabels control, for `<polyline>`s.
    pub polylines: Option<ControlRef>,
    /// An EllipseLabels control, for `<ellipse>`s.
    pub ellipses: Option<ControlRef>,
    /// KeyPointLabels controls, for `<skeleton>`s (the control whose
    /// skeleton has the skeleton's label, else the first with all its
    /// joints) and `<points>` (the first control with the point's label).
    pub keypoints: Vec<KeypointControl>,
    /// A Choices control, for `<tag>`s.
    pub choices: Option<ControlRef>,
    /// Per-region controls, for the `<attribute>`s of boxes, polygons,
    /// polylines, ellipses and masks: an attribute goes to the control of
    /// its name, as a result sharing the shape's region id; attributes no
    /// control is named after are not read.
    pub attributes: Vec<CvatAttributeControl>,
}

/// A per-region control that CVAT attributes of its name go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvatAttributeControl {
    pub control: ControlRef,
    pub kind: CvatAttributeKind,
}

/// Reads a CVAT for images 1.1 `annotations.xml`.
///
/// Returns one task per `<image>`, in the file's order, and the
/// rejections. A task's `data[image_field]` is where CVAT and datumaro put
/// the image beside the file: `images/{name}`, or `images/{subset}/{name}`
/// for an image with a `subset` (a project export). Its shapes become one
/// annotation, coordinates in percent of the image's `width` and `height`:
/// - `<box>`: `rectanglelabels` (a `rotation` turned into Label Studio's
///   turn about the top-left corner);
/// - `<polygon>`: `polygonlabels`; `<polyline>`: `polylinelabels`;
/// - `<ellipse>`: `ellipselabels`;
/// - `<skeleton>`: one `keypointlabels` result per joint that is not
///   `outside`, sharing a `parentID` (`occluded` ones marked
///   `"visibility": "occluded"`); `<points>`: one `keypointlabels` result
///   per point;
/// - `<mask>`: with a `brushes` control, `brushlabels` (the `rle` pixels
///   placed at `left`, `top` in a mask of the whole image, as COCO RLE);
///   without one, its bounds (`left`, `top`, `width`, `height`) as
///   `rectanglelabels`, as COCO's masks import;
/// - `<tag>`s: one `choices` result with their labels.
///
/// The `<attribute>`s of boxes, polygons, polylines, ellipses and masks
/// named after one of the `attributes` controls become that control's
/// `choices`, `textarea` or `number` result, sharing the shape's region id
/// and geometry as Label Studio's per-region results do; empty ones and
/// those of other names are not read.
///
/// Region ids are `cvat-1`, `cvat-2`, … in the image's order (a joint
/// `cvat-{n}-{joint}`). An `occluded="1"` shape and a `z_order` other than
/// 0 are kept in the result's `"cvat"` key, which [`CvatImageWriter`]
/// writes back; `group_id` and `source` are not read.
///
/// An image with any unusable shape is rejected as a whole, with one
/// rejection per problem: row = the image's position + 1, field = the
/// place, as `image[2].box[0].xtl` (each kind of element counted from 0 in
/// its image). A file that is not CVAT for images XML at all (not UTF-8
/// XML, a DTD, another root, CVAT for video's `<track>`s, over
/// [`MAX_CVAT_XML_BYTES`]) is a [`FormatError`].
pub fn read_cvat_images<R: Read>(
    input: R,
    options: &CvatImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let mut bytes = Vec::new();
    input.take(MAX_CVAT_XML_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CVAT_XML_BYTES {
        return Err(FormatError::Cvat {
            field: "annotations".into(),
            reason: format!(
                "the file is over {MAX_CVAT_XML_BYTES} bytes, which is as much as is read"
            ),
        });
    }
    let xml_error = |p: XmlProblem| FormatError::Xml {
        line: p.line,
        column: p.column,
        message: p.message,
    };
    let text = xml::utf8_text(&bytes).map_err(xml_error)?;
    let document = xml::parse(text).map_err(xml_error)?;
    let root = document.root_element();
    if root.tag_name().name() != "annotations" {
        return Err(FormatError::Cvat {
            field: root.tag_name().name().to_owned(),
            reason: "is the root element; a CVAT for images file has <annotations>".into(),
        });
    }
    if children(root, "track").next().is_some() {
        return Err(FormatError::Cvat {
            field: "track".into(),
            reason: "is CVAT for video, whose tracks are not read; export the task as \
                     CVAT for images 1.1"
                .into(),
        });
    }
    let mut tasks = Vec::new();
    let mut rejections = Vec::new();
    for (position, node) in children(root, "image").enumerate() {
        let image = CvatImage {
            row: position as u64 + 1,
            path: format!("image[{position}]"),
            options,
        };
        match image.task(node) {
            Ok(task) => tasks.push(task),
            Err(problems) => rejections.extend(problems),
        }
    }
    Ok((tasks, rejections))
}

/// One `<image>` on its way to becoming a task.
struct CvatImage<'a> {
    row: u64,
    /// `image[i]`.
    path: String,
    options: &'a CvatImportOptions,
}

/// Where a shape is and what it says, for its messages and results.
struct Place {
    /// `image[0].box[1]`.
    path: String,
    /// `cvat-2`.
    id: String,
}

impl CvatImage<'_> {
    fn reject(&self, place: &str, reason: impl Into<String>) -> Rejection {
        Rejection::new(self.row, place.to_owned(), reason)
    }

    fn task(&self, node: Node) -> Result<TaskRecord, Vec<Rejection>> {
        let mut problems = Vec::new();
        let name = match node.attribute("name") {
            Some(name) if is_safe_relative_path(name) => Some(name),
            other => {
                let reason = match other {
                    None => "is missing".to_owned(),
                    Some(name) => format!("must be a relative path to the image, found {name:?}"),
                };
                problems.push(self.reject(&format!("{}.name", self.path), reason));
                None
            }
        };
        let subset = node.attribute("subset").filter(|s| !s.is_empty());
        if let Some(subset) = subset.filter(|s| s.contains('/') || !is_safe_relative_path(s)) {
            problems.push(self.reject(
                &format!("{}.subset", self.path),
                format!("must be a folder name, found {subset:?}"),
            ));
        }
        let mut dimension = |key: &str| match node.attribute(key) {
            None => {
                problems.push(self.reject(
                    &format!("{}.{key}", self.path),
                    "is missing; CVAT images need a width and height in pixels",
                ));
                None
            }
            Some(text) => {
                let pixels = xml::parse_size(text);
                if pixels.is_none() {
                    problems.push(self.reject(
                        &format!("{}.{key}", self.path),
                        format!("must be a whole number of pixels above 0, found {text:?}"),
                    ));
                }
                pixels
            }
        };
        let size = dimension("width").zip(dimension("height"));

        let elements: Vec<Node> = node.children().filter(Node::is_element).collect();
        if elements.len() > MAX_OBJECTS_PER_IMAGE {
            problems.push(self.reject(
                &self.path,
                format!(
                    "has {} shapes and tags; at most {MAX_OBJECTS_PER_IMAGE} are read per image",
                    elements.len()
                ),
            ));
            return Err(problems);
        }
        let mut results = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (index, element) in elements.into_iter().enumerate() {
            let kind = element.tag_name().name();
            let count = counts.entry(kind).or_default();
            let place = Place {
                path: format!("{}.{kind}[{count}]", self.path),
                id: format!("cvat-{}", index + 1),
            };
            *count += 1;
            if kind == "tag" {
                match self.tag(element, &place) {
                    Ok(label) if !tags.contains(&label) => tags.push(label),
                    Ok(_) => {}
                    Err(problem) => problems.push(problem),
                }
                continue;
            }
            let Some(size) = size else {
                continue;
            };
            match self.shape(element, &place, size) {
                Ok(mut shape) => results.append(&mut shape),
                Err(mut more) => problems.append(&mut more),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        if let (Some(control), false) = (&self.options.choices, tags.is_empty()) {
            let value = ChoicesValue {
                choices: tags,
                extra: Map::new(),
            };
            let mut result = image_result(
                control,
                "cvat-tags".into(),
                ResultValue::Choices(value),
                size.unwrap_or_default(),
            );
            // A classification of the whole image is drawn on no size.
            (result.original_width, result.original_height) = (None, None);
            result.image_rotation = None;
            results.push(result);
        }
        let image = match subset {
            Some(subset) => format!("images/{subset}/{}", name.unwrap_or_default()),
            None => format!("images/{}", name.unwrap_or_default()),
        };
        Ok(TaskRecord::for_image(
            &self.options.image_field,
            image,
            results,
        ))
    }

    /// A `<tag>`'s label, given a Choices control to put it in.
    fn tag(&self, element: Node, place: &Place) -> Result<String, Rejection> {
        if self.options.choices.is_none() {
            return Err(self.reject(
                &place.path,
                "cannot be imported: the label config has no Choices control for tags",
            ));
        }
        label_of(element)
            .map(str::to_owned)
            .ok_or_else(|| self.reject(&format!("{}.label", place.path), "is missing"))
    }

    /// The results of one shape element.
    fn shape(
        &self,
        element: Node,
        place: &Place,
        (width, height): (u32, u32),
    ) -> Result<Vec<ResultItem>, Vec<Rejection>> {
        let kind = element.tag_name().name();
        let shape = Shape {
            image: self,
            element,
            place,
            size: (width, height),
        };
        let control = |control: &Option<ControlRef>, what: &str| {
            control.clone().ok_or_else(|| {
                vec![self.reject(
                    &place.path,
                    format!(
                        "cannot be imported: the label config has no {what} control for \
                         <{kind}> shapes"
                    ),
                )]
            })
        };
        let result = match kind {
            "box" => shape.rectangle(&control(&self.options.rectangles, "RectangleLabels")?)?,
            "mask" => match &self.options.brushes {
                Some(brushes) => shape.mask(brushes)?,
                None => {
                    shape.mask_bounds(&control(&self.options.rectangles, "RectangleLabels")?)?
                }
            },
            "polygon" => shape.polygon(&control(&self.options.polygons, "PolygonLabels")?)?,
            "polyline" => shape.polyline(&control(&self.options.polylines, "PolyLineLabels")?)?,
            "ellipse" => shape.ellipse(&control(&self.options.ellipses, "EllipseLabels")?)?,
            "points" => return shape.points(),
            "skeleton" => return shape.skeleton(),
            other => {
                return Err(vec![self.reject(
                    &place.path,
                    format!(
                        "<{other}> is not a shape Gloss reads (boxes, polygons, polylines, \
                             ellipses, points, skeletons, masks and tags are)"
                    ),
                )])
            }
        };
        let mut results = shape.attributes(&result)?;
        results.insert(0, result);
        Ok(results)
    }
}

fn label_of<'a>(element: Node<'a, '_>) -> Option<&'a str> {
    element.attribute("label").filter(|label| !label.is_empty())
}

/// One shape element being read.
struct Shape<'a, 'i> {
    image: &'a CvatImage<'a>,
    element: Node<'a, 'i>,
    place: &'a Place,
    size: (u32, u32),
}

impl Shape<'_, '_> {
    fn reject(&self, key: &str, reason: impl Into<String>) -> Vec<Rejection> {
        let field = if key.is_empty() {
            self.place.path.clone()
        } else {
            format!("{}.{key}", self.place.path)
        };
        vec![self.image.reject(&field, reason)]
    }

    fn label(&self) -> Result<String, Vec<Rejection>> {
        label_of(self.element)
            .map(str::to_owned)
            .ok_or_else(|| self.reject("label", "is missing"))
    }

    /// The numbers of attributes `keys`, all finite.
    fn numbers<const N: usize>(&self, keys: [&str; N]) -> Result<[f64; N], Vec<Rejection>> {
        let mut problems = Vec::new();
        let numbers = keys.map(|key| match self.element.attribute(key) {
            None => {
                problems.extend(self.reject(key, "is missing"));
                0.0
            }
            Some(text) => xml::parse_number(text).unwrap_or_else(|| {
                problems.extend(self.reject(key, format!("must be a number, found {text:?}")));
                0.0
            }),
        });
        if problems.is_empty() {
            Ok(numbers)
        } else {
            Err(problems)
        }
    }

    /// `points="x1,y1;x2,y2;…"`, with at least `least` points, in percent.
    fn points_attribute(&self, least: usize) -> Result<Vec<[f64; 2]>, Vec<Rejection>> {
        let Some(text) = self.element.attribute("points") else {
            return Err(self.reject("points", "is missing"));
        };
        match parse_points(text) {
            None => Err(self.reject(
                "points",
                format!("must be x,y pairs joined by ';', found {:?}", shorten(text)),
            )),
            Some(points) if points.len() < least => Err(self.reject(
                "points",
                format!(
                    "has {} points; a {} needs at least {least}",
                    points.len(),
                    self.element.tag_name().name()
                ),
            )),
            Some(points) => Ok(points
                .into_iter()
                .map(|[x, y]| [self.x(x), self.y(y)])
                .collect()),
        }
    }

    fn x(&self, pixels: f64) -> f64 {
        percent(pixels, f64::from(self.size.0))
    }

    fn y(&self, pixels: f64) -> f64 {
        percent(pixels, f64::from(self.size.1))
    }

    /// A `rotation` in degrees, 0 when absent.
    fn rotation(&self) -> Result<f64, Vec<Rejection>> {
        match self.element.attribute("rotation") {
            None => Ok(0.0),
            Some(_) => Ok(self.numbers(["rotation"])?[0]),
        }
    }

    /// The result, with the shape's `occluded` and `z_order` kept.
    fn result(
        &self,
        control: &ControlRef,
        value: ResultValue,
    ) -> Result<ResultItem, Vec<Rejection>> {
        let mut result = image_result(control, self.place.id.clone(), value, self.size);
        let mut cvat = Map::new();
        match self.element.attribute("occluded").map(str::trim) {
            None | Some("0") => {}
            Some("1") => {
                cvat.insert("occluded".into(), 1.into());
            }
            Some(other) => {
                return Err(self.reject("occluded", format!("must be 0 or 1, found {other:?}")))
            }
        }
        match self
            .element
            .attribute("z_order")
            .map(|z| z.trim().parse::<i64>())
        {
            None | Some(Ok(0)) => {}
            Some(Ok(z)) => {
                cvat.insert("z_order".into(), z.into());
            }
            Some(Err(_)) => return Err(self.reject("z_order", "must be a whole number")),
        }
        if !cvat.is_empty() {
            result.extra.insert("cvat".into(), Value::Object(cvat));
        }
        Ok(result)
    }

    fn rectangle(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let [xtl, ytl, xbr, ybr] = self.numbers(["xtl", "ytl", "xbr", "ybr"])?;
        if xbr < xtl || ybr < ytl {
            let (key, low) = if xbr < xtl {
                ("xbr", "xtl")
            } else {
                ("ybr", "ytl")
            };
            return Err(self.reject(
                key,
                format!("is before {low}: the box is turned inside out"),
            ));
        }
        let degrees = self.rotation()?;
        let bounds = corner_box([xtl, ytl, xbr, ybr], degrees);
        self.box_result(control, label, bounds, degrees)
    }

    /// A `<mask>` as a brush mask of the whole image: its `rle` runs (see
    /// the module docs) fill its bounds, which must be whole pixels within
    /// the image.
    fn mask(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let keys = ["left", "top", "width", "height"];
        let [left, top, width, height] = self.numbers(keys)?;
        let (image_width, image_height) = self.size;
        for (key, value) in keys.into_iter().zip([left, top, width, height]) {
            if value < 0.0 || value.fract() != 0.0 {
                return Err(self.reject(
                    key,
                    format!("must be a whole number of pixels, found {}", number(value)),
                ));
            }
        }
        if left + width > f64::from(image_width) || top + height > f64::from(image_height) {
            return Err(self.reject(
                "",
                format!(
                    "reaches past the image ({image_width}×{image_height}): left {} + width {}, \
                     top {} + height {}",
                    number(left),
                    number(width),
                    number(top),
                    number(height)
                ),
            ));
        }
        // Within the image, so these are exact and fit.
        let bounds = [left, top, width, height].map(|v| v as u32);
        let Some(text) = self.element.attribute("rle") else {
            return Err(self.reject("rle", "is missing"));
        };
        let mask =
            mask_from_runs(text, bounds, self.size).map_err(|reason| self.reject("rle", reason))?;
        let value = Labeled {
            shape: gloss_masks::brush_value_from_rle(&CocoRle::from_mask(&mask)),
            labels: vec![label],
        };
        self.result(control, ResultValue::BrushLabels(value))
    }

    fn mask_bounds(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let [left, top, w, h] = self.numbers(["left", "top", "width", "height"])?;
        if w < 0.0 || h < 0.0 {
            return Err(self.reject("", "has a negative width or height"));
        }
        self.box_result(control, label, [left, top, w, h], 0.0)
    }

    fn box_result(
        &self,
        control: &ControlRef,
        label: String,
        [x, y, w, h]: [f64; 4],
        degrees: f64,
    ) -> Result<ResultItem, Vec<Rejection>> {
        let value = RectangleLabelsValue {
            x: self.x(x),
            y: self.y(y),
            width: self.x(w),
            height: self.y(h),
            rotation: Some(degrees),
            rectanglelabels: vec![label],
            extra: Map::new(),
        };
        self.result(control, ResultValue::RectangleLabels(value))
    }

    fn polygon(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let value = PolygonLabelsValue {
            points: self.points_attribute(3)?,
            polygonlabels: vec![label],
            closed: Some(true),
            extra: Map::new(),
        };
        self.result(control, ResultValue::PolygonLabels(value))
    }

    fn polyline(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let value = Labeled {
            shape: PolyLineValue {
                points: self.points_attribute(2)?,
                extra: Map::new(),
            },
            labels: vec![label],
        };
        self.result(control, ResultValue::PolyLineLabels(value))
    }

    fn ellipse(&self, control: &ControlRef) -> Result<ResultItem, Vec<Rejection>> {
        let label = self.label()?;
        let [cx, cy, rx, ry] = self.numbers(["cx", "cy", "rx", "ry"])?;
        if rx < 0.0 || ry < 0.0 {
            let key = if rx < 0.0 { "rx" } else { "ry" };
            return Err(self.reject(key, "is negative"));
        }
        let value = Labeled {
            shape: EllipseValue {
                x: self.x(cx),
                y: self.y(cy),
                radius_x: self.x(rx),
                radius_y: self.y(ry),
                rotation: Some(self.rotation()?),
                extra: Map::new(),
            },
            labels: vec![label],
        };
        self.result(control, ResultValue::EllipseLabels(value))
    }

    /// The per-region results of the shape's `<attribute>`s, sharing its
    /// region id and, as Label Studio's do, its geometry.
    fn attributes(&self, region: &ResultItem) -> Result<Vec<ResultItem>, Vec<Rejection>> {
        let mut results = Vec::new();
        let mut problems = Vec::new();
        for (index, element) in children(self.element, "attribute").enumerate() {
            let name = element.attribute("name").unwrap_or("");
            let controls = &self.image.options.attributes;
            let Some(target) = controls.iter().find(|a| a.control.from_name == name) else {
                continue;
            };
            let text = element.text().unwrap_or("");
            if text.is_empty() {
                continue;
            }
            // The region's geometry without its labels.
            let mut geometry = match region.value.to_json() {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            geometry.remove(region.value.type_name());
            let value = match target.kind {
                CvatAttributeKind::Choices => ResultValue::Choices(ChoicesValue {
                    choices: vec![text.to_owned()],
                    extra: geometry,
                }),
                CvatAttributeKind::Text => ResultValue::TextArea(TextAreaValue {
                    text: vec![text.to_owned()],
                    extra: geometry,
                }),
                CvatAttributeKind::Number => match xml::parse_number(text) {
                    Some(number) => ResultValue::Number(NumberValue {
                        number,
                        extra: geometry,
                    }),
                    None => {
                        problems.extend(self.reject(
                            &format!("attribute[{index}]"),
                            format!("({name}) must be a number, found {:?}", shorten(text)),
                        ));
                        continue;
                    }
                },
            };
            results.push(image_result(
                &target.control,
                self.place.id.clone(),
                value,
                self.size,
            ));
        }
        if problems.is_empty() {
            Ok(results)
        } else {
            Err(problems)
        }
    }

    /// `<points>`: one point result per point, on the first KeyPointLabels
    /// control with the label.
    fn points(&self) -> Result<Vec<ResultItem>, Vec<Rejection>> {
        let label = self.label()?;
        let controls = &self.image.options.keypoints;
        let Some(target) = controls.iter().find(|k| k.joints.contains(&label)) else {
            return Err(self.reject(
                "label",
                format!("{label:?} is not a label of any KeyPointLabels control"),
            ));
        };
        let points = self.points_attribute(1)?;
        let visibility = self.visibility()?;
        let count = points.len();
        points
            .into_iter()
            .enumerate()
            .map(|(index, [x, y])| {
                let mut result =
                    self.keypoint(&target.control, &label, [x, y], visibility.clone())?;
                if count > 1 {
                    result.id = Some(format!("{}-{}", self.place.id, index + 1));
                }
                Ok(result)
            })
            .collect()
    }

    fn visibility(&self) -> Result<Option<String>, Vec<Rejection>> {
        match self.element.attribute("occluded").map(str::trim) {
            None | Some("0") => Ok(None),
            Some("1") => Ok(Some("occluded".into())),
            Some(other) => Err(self.reject("occluded", format!("must be 0 or 1, found {other:?}"))),
        }
    }

    fn keypoint(
        &self,
        control: &ControlRef,
        label: &str,
        [x, y]: [f64; 2],
        visibility: Option<String>,
    ) -> Result<ResultItem, Vec<Rejection>> {
        let value = Labeled {
            shape: KeyPointValue {
                x,
                y,
                width: None,
                visibility,
                extra: Map::new(),
            },
            labels: vec![label.to_owned()],
        };
        let mut result = image_result(
            control,
            self.place.id.clone(),
            ResultValue::KeyPointLabels(value),
            self.size,
        );
        if let Some(z) = self
            .element
            .attribute("z_order")
            .and_then(|z| z.trim().parse::<i64>().ok())
        {
            if z != 0 {
                result
                    .extra
                    .insert("cvat".into(), serde_json::json!({"z_order": z}));
            }
        }
        Ok(result)
    }

    /// `<skeleton>`: a point result per joint that is not outside, sharing
    /// the skeleton's id as their `parentID`.
    fn skeleton(&self) -> Result<Vec<ResultItem>, Vec<Rejection>> {
        let label = self.label()?;
        let mut joints = Vec::new();
        let mut problems = Vec::new();
        for (index, element) in children(self.element, "points").enumerate() {
            let place = Place {
                path: format!("{}.points[{index}]", self.place.path),
                id: format!("{}-{}", self.place.id, index + 1),
            };
            let joint = Shape {
                place: &place,
                element,
                ..*self
            };
            let outside = match element.attribute("outside").map(str::trim) {
                None | Some("0") => false,
                Some("1") => true,
                Some(other) => {
                    problems.extend(
                        joint.reject("outside", format!("must be 0 or 1, found {other:?}")),
                    );
                    continue;
                }
            };
            let read = joint.label().and_then(|name| {
                let points = joint.points_attribute(1)?;
                Ok((name, points[0], joint.visibility()?))
            });
            match read {
                Ok(_) if outside => {}
                Ok((name, point, visibility)) => joints.push((place, name, point, visibility)),
                Err(mut more) => problems.append(&mut more),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let controls = &self.image.options.keypoints;
        let target = controls
            .iter()
            .find(|k| k.skeleton.as_deref() == Some(&label))
            .or_else(|| {
                controls
                    .iter()
                    .find(|k| joints.iter().all(|(_, name, _, _)| k.joints.contains(name)))
            });
        let Some(target) = target else {
            return Err(self.reject(
                "",
                format!("is a skeleton {label:?}, and no KeyPointLabels control has its joints"),
            ));
        };
        let mut results = Vec::new();
        for (place, name, point, visibility) in joints {
            if !target.joints.contains(&name) {
                problems.push(self.image.reject(
                    &format!("{}.label", place.path),
                    format!(
                        "joint {name:?} is not a label of the KeyPointLabels control {:?}",
                        target.control.from_name
                    ),
                ));
                continue;
            }
            let joint = Shape {
                place: &place,
                ..*self
            };
            let mut result = joint.keypoint(&target.control, &name, point, visibility)?;
            result.parent_id = Some(self.place.id.clone());
            results.push(result);
        }
        if problems.is_empty() {
            Ok(results)
        } else {
            Err(problems)
        }
    }
}

/// CVAT's `points="x1,y1;x2,y2;…"` in pixels; `None` when a pair is not
/// two numbers.
pub(crate) fn parse_points(text: &str) -> Option<Vec<[f64; 2]>> {
    text.split(';')
        .map(|pair| {
            let (x, y) = pair.split_once(',')?;
            Some([xml::parse_number(x)?, xml::parse_number(y)?])
        })
        .collect()
}

/// A CVAT box (`[xtl, ytl, xbr, ybr]`, turned `degrees` about its centre)
/// as Label Studio's `[x, y, width, height]`, turned about its top-left
/// corner: that corner is where CVAT's turn takes it.
pub(crate) fn corner_box([xtl, ytl, xbr, ybr]: [f64; 4], degrees: f64) -> [f64; 4] {
    let (w, h) = (xbr - xtl, ybr - ytl);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = ((xtl + xbr) / 2.0, (ytl + ybr) / 2.0);
    [
        cx - w / 2.0 * cos + h / 2.0 * sin,
        cy - w / 2.0 * sin - h / 2.0 * cos,
        w,
        h,
    ]
}

/// The pixels of CVAT's mask `rle` (runs over `[left, top, width, height]`,
/// row by row, alternating unset and set pixels, unset first) on a grid of
/// `size`; the bounds must lie within it. Errors say why, for the `rle` field.
pub(crate) fn mask_from_runs(
    text: &str,
    [left, top, width, height]: [u32; 4],
    (image_width, image_height): (u32, u32),
) -> Result<Mask, String> {
    let runs: Option<Vec<u64>> = text
        .split(',')
        .map(|run| run.trim().parse::<u64>().ok())
        .collect();
    let Some(runs) = runs else {
        return Err(format!(
            "must be whole numbers joined by ',', found {:?}",
            shorten(text)
        ));
    };
    let pixels = u64::from(width) * u64::from(height);
    let total = runs.iter().try_fold(0u64, |sum, run| sum.checked_add(*run));
    if total != Some(pixels) {
        return Err(format!(
            "runs add up to {} pixels; the mask's width × height is {pixels}",
            total.map_or_else(|| "more than 2^64".to_owned(), |t| t.to_string())
        ));
    }
    if u64::from(left) + u64::from(width) > u64::from(image_width)
        || u64::from(top) + u64::from(height) > u64::from(image_height)
    {
        return Err(format!(
            "its bounds reach past the {image_width}×{image_height} frame"
        ));
    }
    let mut mask =
        Mask::new(image_width, image_height).map_err(|err| format!("cannot hold a mask: {err}"))?;
    let mut at = 0u64;
    for (index, run) in runs.iter().enumerate() {
        if index % 2 == 1 {
            for pixel in at..at + run {
                let x = left + (pixel % u64::from(width)) as u32;
                let y = top + (pixel / u64::from(width)) as u32;
                mask.set(x, y, true);
            }
        }
        at += run;
    }
    Ok(mask)
}

/// The start of a long attribute value, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
