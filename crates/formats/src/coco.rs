//! COCO instances and person-keypoints files → tasks with box, polygon and
//! keypoint annotations.
//!
//! COCO lists images, then all annotations of all images, so a file is read
//! whole and its annotations are grouped by image. Only the keys used here
//! are kept in memory; everything else in the file is skipped while parsing.

use crate::model::{json_kind, AnnotationRecord, FormatError, Rejection, TaskRecord};
use crate::read::without_bom;
use crate::shapes::{image_result, percent};
use gloss_types::result::{
    KeyPointValue, Labeled, PolygonLabelsValue, RectangleLabelsValue, ResultItem, ResultValue,
};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::{BufReader, Read};

/// A control tag of the project's label config, as results name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRef {
    /// The control's `name`, e.g. `"label"`.
    pub from_name: String,
    /// The object tag it labels, e.g. `"image"`.
    pub to_name: String,
}

/// Where COCO's images and shapes go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CocoImportOptions {
    /// The data key that gets the image's `file_name`, e.g. `"image"`.
    pub image_field: String,
    /// A RectangleLabels control, for `bbox`es.
    pub rectangles: Option<ControlRef>,
    /// A PolygonLabels control, for polygon `segmentation`s.
    pub polygons: Option<ControlRef>,
    /// A BrushLabels control, for RLE mask `segmentation`s.
    pub masks: Option<ControlRef>,
    /// KeyPointLabels controls, for `keypoints`: a category's keypoints go
    /// to the control whose skeleton has the category's name, else to the
    /// first control.
    pub keypoints: Vec<KeypointControl>,
}

/// A KeyPointLabels control a COCO import can put keypoints in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeypointControl {
    /// The control and the image it labels.
    pub control: ControlRef,
    /// Its skeleton's `value`, if it has a skeleton.
    pub skeleton: Option<String>,
    /// Its labels: the joint names it allows.
    pub joints: Vec<String>,
}

/// Reads a whole COCO instances file.
///
/// Returns one task per image, in the file's image order, and the
/// rejections. Each image becomes a task with `data = {image_field:
/// file_name}` and `meta = {"coco_image_id": id}`, plus one annotation
/// holding its shapes when it has any. A polygon `segmentation` becomes one
/// `polygonlabels` result per ring when `polygons` is set, and an RLE mask a
/// `brushlabels` result (in Gloss's `coco_rle` form) when `masks` is set;
/// otherwise the `bbox` becomes a `rectanglelabels` result. Coordinates are
/// converted to percent of the image size.
///
/// An annotation with `keypoints` (of a category listing `keypoints`)
/// becomes one `keypointlabels` result per joint that is labelled (`v` 1 or
/// 2; `v` 1 is written `"visibility": "occluded"`), sharing the `parentID`
/// `coco-{id}`. Its bbox and segmentation import as above when the config
/// has a control for them, and are otherwise left out: a keypoint data
/// set's boxes are drawn around its skeletons.
///
/// An image with any unusable annotation is rejected as a whole, with one
/// rejection per problem (row = the image's position + 1), rather than
/// imported with some of its shapes silently missing. An annotation whose
/// `image_id` matches no image is rejected with row 0.
pub fn read_coco<R: Read>(
    input: R,
    options: &CocoImportOptions,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let input = BufReader::with_capacity(64 * 1024, without_bom(input)?);
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let file = deserializer.deserialize_map(CocoFileVisitor)?;
    deserializer.end()?;
    let images = file.images.ok_or_else(|| missing_key("images"))?;
    let categories = category_names(file.categories.ok_or_else(|| missing_key("categories"))?)?;

    let mut entries = image_entries(images)?;
    let position_of: HashMap<i64, usize> = entries
        .iter()
        .enumerate()
        .filter_map(|(position, entry)| Some((entry.id?, position)))
        .collect();

    let mut orphans = Vec::new();
    for (index, annotation) in file.annotations.unwrap_or_default().into_iter().enumerate() {
        let path = format!("annotations[{index}]");
        let position = match integer(annotation.image_id.as_ref()) {
            Ok(image_id) => position_of.get(&image_id).copied(),
            Err(_) => None,
        };
        let Some(position) = position else {
            let reason = match &annotation.image_id {
                None => "is missing".to_owned(),
                Some(id) => format!("no image has id {id}"),
            };
            orphans.push(Rejection::new(0, format!("{path}.image_id"), reason));
            continue;
        };
        let entry = &mut entries[position];
        let Some(size) = entry.size else {
            // The image itself is already rejected for its size.
            continue;
        };
        let row = position as u64 + 1;
        let shapes = Shapes {
            row,
            path: &path,
            size,
            options,
            categories: &categories,
        };
        match shapes.results(annotation) {
            Ok(results) => entry.results.extend(results),
            Err(rejection) => entry.problems.push(rejection),
        }
    }

    let mut tasks = Vec::with_capacity(entries.len());
    let mut rejections = Vec::new();
    for entry in entries {
        if entry.problems.is_empty() {
            tasks.push(entry.into_task(&options.image_field));
        } else {
            rejections.extend(entry.problems);
        }
    }
    rejections.extend(orphans);
    Ok((tasks, rejections))
}

/// The parts of a COCO file Gloss reads; other keys are skipped unparsed.
#[derive(Deserialize)]
struct CocoFile {
    images: Option<Vec<CocoImage>>,
    annotations: Option<Vec<CocoAnnotation>>,
    categories: Option<Vec<ExportCategory>>,
}

/// Reads a [`CocoFile`] from a JSON object only: serde's derived struct
/// reading also takes an array as the fields in order, which would turn a
/// task list given as COCO into a baffling message about its first task.
struct CocoFileVisitor;

impl<'de> Visitor<'de> for CocoFileVisitor {
    type Value = CocoFile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a COCO instances object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CocoFile, A::Error> {
        CocoFile::deserialize(MapAccessDeserializer::new(map))
    }
}

// Fields are loose `Value`s so that a wrong type is reported for its one
// image or annotation, with a path, instead of failing the whole file.
#[derive(Deserialize)]
#[serde(expecting = "a COCO image object")]
struct CocoImage {
    id: Option<Value>,
    file_name: Option<Value>,
    width: Option<Value>,
    height: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a COCO annotation object")]
struct CocoAnnotation {
    id: Option<Value>,
    image_id: Option<Value>,
    category_id: Option<Value>,
    bbox: Option<Value>,
    segmentation: Option<Segmentation>,
    keypoints: Option<Value>,
}

/// COCO's `segmentation`: polygon rings `[[x1, y1, x2, y2, ...], ...]` as
/// plain numbers (compact for files with millions of points), an RLE mask
/// object, or something malformed, which rejects its image.
#[derive(Deserialize)]
#[serde(untagged)]
enum Segmentation {
    Polygons(Vec<Vec<f64>>),
    Mask(Map<String, Value>),
    Malformed(IgnoredAny),
}

#[derive(Deserialize)]
#[serde(expecting = "a COCO category object")]
struct ExportCategory {
    id: Option<Value>,
    name: Option<Value>,
    keypoints: Option<Value>,
}

/// What an annotation's `category_id` says.
struct Category {
    name: String,
    /// Joint names, for a keypoint category.
    keypoints: Option<Vec<String>>,
}

fn missing_key(key: &str) -> FormatError {
    FormatError::Coco {
        field: key.to_owned(),
        reason:
            "is missing; a COCO instances file has \"images\", \"annotations\" and \"categories\""
                .to_owned(),
    }
}

fn category_names(categories: Vec<ExportCategory>) -> Result<HashMap<i64, Category>, FormatError> {
    let mut names = HashMap::with_capacity(categories.len());
    for (index, category) in categories.into_iter().enumerate() {
        let problem = |key: &str, reason: String| FormatError::Coco {
            field: format!("categories[{index}].{key}"),
            reason,
        };
        let id = integer(category.id.as_ref()).map_err(|reason| problem("id", reason))?;
        let name = match category.name {
            Some(Value::String(name)) => name,
            None => return Err(problem("name", "is missing".to_owned())),
            Some(other) => {
                return Err(problem(
                    "name",
                    format!("must be a string, found {}", json_kind(&other)),
                ))
            }
        };
        let keypoints = match category.keypoints {
            None | Some(Value::Null) => None,
            Some(Value::Array(joints)) => Some(
                joints
                    .iter()
                    .map(|joint| joint.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| {
                        problem("keypoints", "must be a list of joint names".to_owned())
                    })?,
            ),
            Some(other) => {
                return Err(problem(
                    "keypoints",
                    format!("must be a list of joint names, found {}", json_kind(&other)),
                ))
            }
        };
        if names.insert(id, Category { name, keypoints }).is_some() {
            return Err(problem("id", format!("repeats category id {id}")));
        }
    }
    Ok(names)
}

/// One image on its way to becoming a task.
struct ImageEntry {
    /// `None` when the image's id is unusable (it is then rejected).
    id: Option<i64>,
    file_name: String,
    /// Width and height in pixels; `None` when unusable.
    size: Option<(f64, f64)>,
    results: Vec<ResultItem>,
    problems: Vec<Rejection>,
}

impl ImageEntry {
    fn into_task(self, image_field: &str) -> TaskRecord {
        let mut data = Map::new();
        data.insert(image_field.to_owned(), Value::String(self.file_name));
        let mut meta = Map::new();
        meta.insert("coco_image_id".to_owned(), self.id.into());
        let annotations = if self.results.is_empty() {
            Vec::new()
        } else {
            vec![AnnotationRecord {
                result: self.results,
                ..AnnotationRecord::default()
            }]
        };
        TaskRecord {
            data,
            meta,
            annotations,
            ..TaskRecord::default()
        }
    }
}

fn image_entries(images: Vec<CocoImage>) -> Result<Vec<ImageEntry>, FormatError> {
    let mut seen = HashMap::with_capacity(images.len());
    let mut entries = Vec::with_capacity(images.len());
    for (position, image) in images.into_iter().enumerate() {
        let row = position as u64 + 1;
        let path = |key: &str| format!("images[{position}].{key}");
        let mut problems = Vec::new();

        let id = match integer(image.id.as_ref()) {
            Ok(id) => Some(id),
            Err(reason) => {
                problems.push(Rejection::new(row, path("id"), reason));
                None
            }
        };
        if let Some(id) = id {
            if let Some(earlier) = seen.insert(id, position) {
                return Err(FormatError::Coco {
                    field: path("id"),
                    reason: format!("repeats image id {id} of images[{earlier}]"),
                });
            }
        }
        let file_name = match image.file_name {
            Some(Value::String(name)) if !name.is_empty() => name,
            other => {
                let reason = match other {
                    None => "is missing".to_owned(),
                    Some(Value::String(_)) => "is empty".to_owned(),
                    Some(other) => format!("must be a string, found {}", json_kind(&other)),
                };
                problems.push(Rejection::new(row, path("file_name"), reason));
                String::new()
            }
        };
        let mut dimension = |key: &str, value: Option<&Value>| match positive(value) {
            Ok(pixels) => Some(pixels),
            Err(reason) => {
                problems.push(Rejection::new(row, path(key), reason));
                None
            }
        };
        let width = dimension("width", image.width.as_ref());
        let height = dimension("height", image.height.as_ref());

        entries.push(ImageEntry {
            id,
            file_name,
            size: width.zip(height),
            results: Vec::new(),
            problems,
        });
    }
    Ok(entries)
}

/// Converts the annotations of one image into results.
struct Shapes<'a> {
    row: u64,
    /// `annotations[i]`.
    path: &'a str,
    /// Image width and height in pixels.
    size: (f64, f64),
    options: &'a CocoImportOptions,
    categories: &'a HashMap<i64, Category>,
}

impl Shapes<'_> {
    fn reject(&self, key: &str, reason: impl Into<String>) -> Rejection {
        let field = if key.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        Rejection::new(self.row, field, reason)
    }

    fn results(&self, annotation: CocoAnnotation) -> Result<Vec<ResultItem>, Rejection> {
        let result_id = match &annotation.id {
            Some(Value::Number(id)) => format!("coco-{id}"),
            Some(Value::String(id)) if !id.is_empty() => format!("coco-{id}"),
            None => return Err(self.reject("id", "is missing")),
            Some(other) => {
                return Err(self.reject(
                    "id",
                    format!("must be a number, found {}", json_kind(other)),
                ))
            }
        };
        let category_id = integer(annotation.category_id.as_ref())
            .map_err(|reason| self.reject("category_id", reason))?;
        let category = self.categories.get(&category_id).ok_or_else(|| {
            self.reject("category_id", format!("no category has id {category_id}"))
        })?;
        let label = &category.name;
        let mut results = Vec::new();
        if let Some(keypoints) = annotation.keypoints.as_ref().filter(|k| !k.is_null()) {
            results = self.keypoints(&result_id, keypoints, category)?;
            // The box or outline of a skeleton is kept where the config has a
            // control for it, and otherwise left out (see `read_coco`).
            let has_outline = matches!(&annotation.segmentation, Some(Segmentation::Polygons(r)) if !r.is_empty());
            let kept = if has_outline {
                self.options.polygons.is_some()
            } else {
                self.options.rectangles.is_some()
            };
            if !kept {
                return Ok(results);
            }
        }

        if let (Some(Segmentation::Mask(rle)), Some(control)) =
            (&annotation.segmentation, &self.options.masks)
        {
            results.push(self.mask(control, result_id, rle, label)?);
            return Ok(results);
        }
        let shapes = match (&annotation.segmentation, &self.options.polygons) {
            (Some(Segmentation::Malformed(_)), _) => Err(self.reject(
                "segmentation",
                "must be polygon rings [[x1, y1, x2, y2, ...], ...] or an RLE mask object",
            )),
            (Some(Segmentation::Polygons(rings)), Some(control)) if !rings.is_empty() => rings
                .iter()
                .enumerate()
                // Every ring of one annotation is one region: its results
                // share the region id, which is how the COCO writer joins
                // them into one annotation again.
                .map(|(ring, coordinates)| {
                    self.polygon(control, result_id.clone(), ring, coordinates, label)
                })
                .collect(),
            (segmentation, _) => {
                let Some(control) = &self.options.rectangles else {
                    let reason = match segmentation {
                        Some(Segmentation::Polygons(rings)) if !rings.is_empty() => {
                            "is a polygon, and the label config has no PolygonLabels or RectangleLabels control for it"
                        }
                        Some(Segmentation::Mask(_)) => {
                            "is a mask, which imports as its bbox, and the label config has no RectangleLabels control for it"
                        }
                        _ => "is a bbox, and the label config has no RectangleLabels control for it",
                    };
                    return Err(self.reject("", reason));
                };
                let rectangle =
                    self.rectangle(control, result_id, annotation.bbox.as_ref(), label)?;
                Ok(vec![rectangle])
            }
        };
        results.extend(shapes?);
        Ok(results)
    }

    /// A `brushlabels` result from an RLE `segmentation`, which must be the
    /// image's size.
    fn mask(
        &self,
        control: &ControlRef,
        id: String,
        rle: &Map<String, Value>,
        label: &str,
    ) -> Result<ResultItem, Rejection> {
        let json = gloss_masks::CocoRleJson::deserialize(&Value::Object(rle.clone()))
            .map_err(|_| {
                self.reject(
                    "segmentation",
                    "must be polygon rings or an RLE mask {\"size\": [height, width], \"counts\": ...}",
                )
            })?;
        let (width, height) = self.size;
        if json.size != [height as u64, width as u64] {
            return Err(self.reject(
                "segmentation.size",
                format!(
                    "is [{}, {}] (height, width), but the image is {width} × {height} pixels",
                    json.size[0], json.size[1]
                ),
            ));
        }
        let rle = gloss_masks::CocoRle::try_from(json)
            .map_err(|err| self.reject("segmentation.counts", err.to_string()))?;
        let value = Labeled {
            shape: gloss_masks::brush_value_from_rle(&rle),
            labels: vec![label.to_owned()],
        };
        Ok(self.result(control, id, ResultValue::BrushLabels(value)))
    }

    /// The `keypointlabels` results of one annotation's `keypoints`.
    fn keypoints(
        &self,
        result_id: &str,
        keypoints: &Value,
        category: &Category,
    ) -> Result<Vec<ResultItem>, Rejection> {
        let Some(joints) = &category.keypoints else {
            return Err(self.reject(
                "keypoints",
                format!(
                    "category \"{}\" lists no \"keypoints\" names, so its joints are unknown",
                    category.name
                ),
            ));
        };
        let numbers: Option<Vec<f64>> = keypoints
            .as_array()
            .and_then(|items| items.iter().map(Value::as_f64).collect());
        let Some(numbers) = numbers.filter(|n| n.len() == joints.len() * 3) else {
            return Err(self.reject(
                "keypoints",
                format!(
                    "must be {} numbers (x, y, v for each of the {} keypoints of category \"{}\")",
                    joints.len() * 3,
                    joints.len(),
                    category.name
                ),
            ));
        };
        let keypoint_controls = &self.options.keypoints;
        let target = keypoint_controls
            .iter()
            .find(|k| k.skeleton.as_deref() == Some(&category.name))
            .or(keypoint_controls.first());
        let Some(target) = target else {
            return Err(self.reject(
                "keypoints",
                "are keypoints, and the label config has no KeyPointLabels control for them",
            ));
        };
        let (image_width, image_height) = self.size;
        let mut results = Vec::new();
        for (index, (joint, xyv)) in joints.iter().zip(numbers.chunks_exact(3)).enumerate() {
            let visibility = match xyv[2] {
                0.0 => continue,
                1.0 => Some("occluded".to_owned()),
                2.0 => None,
                v => {
                    return Err(self.reject(
                        &format!("keypoints[{}]", index * 3 + 2),
                        format!(
                            "is {v}; a keypoint's v is 0 (absent), 1 (occluded) or 2 (visible)"
                        ),
                    ))
                }
            };
            if !target.joints.contains(joint) {
                return Err(self.reject(
                    "keypoints",
                    format!(
                        "joint \"{joint}\" is not a label of the KeyPointLabels control \"{}\"",
                        target.control.from_name
                    ),
                ));
            }
            let value = Labeled {
                shape: KeyPointValue {
                    x: percent(xyv[0], image_width),
                    y: percent(xyv[1], image_height),
                    width: None,
                    visibility,
                    extra: Map::new(),
                },
                labels: vec![joint.clone()],
            };
            let mut item = self.result(
                &target.control,
                format!("{result_id}-{index}"),
                ResultValue::KeyPointLabels(value),
            );
            item.parent_id = Some(result_id.to_owned());
            results.push(item);
        }
        Ok(results)
    }

    fn rectangle(
        &self,
        control: &ControlRef,
        id: String,
        bbox: Option<&Value>,
        label: &str,
    ) -> Result<ResultItem, Rejection> {
        let numbers: Option<Vec<f64>> = match bbox {
            Some(Value::Array(items)) if items.len() == 4 => {
                items.iter().map(Value::as_f64).collect()
            }
            _ => None,
        };
        let Some(&[x, y, width, height]) = numbers.as_deref() else {
            let reason = match bbox {
                None => "is missing".to_owned(),
                Some(bbox) => format!("must be [x, y, width, height] in pixels, found {bbox}"),
            };
            return Err(self.reject("bbox", reason));
        };
        if width < 0.0 || height < 0.0 {
            let side = if width < 0.0 { "width" } else { "height" };
            return Err(self.reject("bbox", format!("has a negative {side}")));
        }
        let (image_width, image_height) = self.size;
        let value = RectangleLabelsValue {
            x: percent(x, image_width),
            y: percent(y, image_height),
            width: percent(width, image_width),
            height: percent(height, image_height),
            rotation: Some(0.0),
            rectanglelabels: vec![label.to_owned()],
            extra: Map::new(),
        };
        Ok(self.result(control, id, ResultValue::RectangleLabels(value)))
    }

    fn polygon(
        &self,
        control: &ControlRef,
        id: String,
        ring: usize,
        coordinates: &[f64],
        label: &str,
    ) -> Result<ResultItem, Rejection> {
        let key = format!("segmentation[{ring}]");
        if coordinates.len() % 2 == 1 {
            return Err(self.reject(
                &key,
                format!(
                    "has an odd number of coordinates ({}); a polygon is x, y pairs",
                    coordinates.len()
                ),
            ));
        }
        if coordinates.len() < 6 {
            return Err(self.reject(
                &key,
                format!(
                    "has {} points; a polygon needs at least 3",
                    coordinates.len() / 2
                ),
            ));
        }
        let (image_width, image_height) = self.size;
        let points = coordinates
            .chunks_exact(2)
            .map(|xy| [percent(xy[0], image_width), percent(xy[1], image_height)])
            .collect();
        let value = PolygonLabelsValue {
            points,
            polygonlabels: vec![label.to_owned()],
            closed: Some(true),
            extra: Map::new(),
        };
        Ok(self.result(control, id, ResultValue::PolygonLabels(value)))
    }

    fn result(&self, control: &ControlRef, id: String, value: ResultValue) -> ResultItem {
        let (width, height) = self.size;
        // Sizes come from `positive`, so they are whole and fit in u32.
        image_result(control, id, value, (width as u32, height as u32))
    }
}

/// An id: a JSON integer.
fn integer(value: Option<&Value>) -> Result<i64, String> {
    match value {
        None => Err("is missing".to_owned()),
        Some(Value::Number(number)) => number
            .as_i64()
            .ok_or_else(|| format!("must be a whole number, found {number}")),
        Some(other) => Err(format!("must be a number, found {}", json_kind(other))),
    }
}

/// An image dimension: a whole number of pixels from 1 to u32::MAX.
fn positive(value: Option<&Value>) -> Result<f64, String> {
    match value {
        None => Err("is missing; COCO images need a width and height in pixels".to_owned()),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(pixels) if pixels > 0 && pixels <= u64::from(u32::MAX) => Ok(pixels as f64),
            _ => Err(format!(
                "must be a whole number of pixels above 0, found {number}"
            )),
        },
        Some(other) => Err(format!("must be a number, found {}", json_kind(other))),
    }
}
