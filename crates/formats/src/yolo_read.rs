//! Reading YOLO datasets in the Ultralytics layout (see [`crate::yolo`] for
//! the layout and the line of each task).
//!
//! One task per image. For detect, segment, pose and obb the images are the
//! files under a folder named `images`, and an image's labels are at the
//! same path with that folder named `labels` and the extension `.txt`, as
//! Ultralytics finds them; an image without a label file is a background
//! image (a task without annotations). For classify the images are at
//! `{split}/{class}/{name}`.
//!
//! Which task the lines are for is given, or else guessed: pose when
//! `data.yaml` has a `kpt_shape`, detect when every line has five numbers,
//! segment otherwise. `obb` is never guessed: its lines look like 4-point
//! polygons.
//!
//! An image with any unusable line is rejected whole, with one rejection per
//! problem (row = the image's position in path order + 1, field = the label
//! file and line), rather than imported with some of its objects missing.

use crate::coco::{ControlRef, KeypointControl};
use crate::files::{file_stem, FileSource};
use crate::model::{FormatError, Rejection, TaskRecord};
use crate::yolo::YoloTask;
use gloss_types::result::{
    ChoicesValue, KeyPointValue, Labeled, PolygonLabelsValue, RectangleLabelsValue, ResultItem,
    ResultValue,
};
use serde_json::Map;
use std::collections::BTreeSet;

/// The longest label file or data.yaml read, in bytes.
pub const MAX_LABEL_FILE: usize = 16 * 1024 * 1024;

/// File extensions taken as images.
const IMAGE_EXTENSIONS: &[&str] = &["bmp", "gif", "jpeg", "jpg", "png", "tif", "tiff", "webp"];

/// Where a YOLO dataset's images and objects go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YoloImportOptions {
    /// The data key that gets the image's path in the dataset.
    pub image_field: String,
    /// The task the labels are for; guessed when `None` (never as obb).
    pub task: Option<YoloTask>,
    /// A RectangleLabels control, for detect and obb boxes (and pose boxes).
    pub rectangles: Option<ControlRef>,
    /// A PolygonLabels control, for segment polygons.
    pub polygons: Option<ControlRef>,
    /// A KeyPointLabels control, for pose skeletons; its labels are the joints in order.
    pub keypoints: Option<KeypointControl>,
    /// A Choices control, for classify.
    pub choices: Option<ControlRef>,
}

/// What `data.yaml` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataYaml {
    /// Class names by class number.
    pub names: Vec<String>,
    /// `kpt_shape`: joints per skeleton and numbers per joint (2 or 3).
    pub kpt_shape: Option<(usize, usize)>,
}

/// Reads a whole YOLO dataset from `source`. `image_size` gives an image's
/// width and height in pixels from its path in the dataset (the caller
/// reads the image's header); results need it for `original_width` and
/// `original_height`, and obb boxes to turn corners into a rotation.
pub fn read_yolo(
    source: &dyn FileSource,
    options: &YoloImportOptions,
    image_size: &dyn Fn(&str) -> Option<(u32, u32)>,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let paths = source.paths();
    let images: Vec<&String> = paths.iter().filter(|p| is_image(p)).collect();
    if options.task == Some(YoloTask::Classify)
        || (options.task.is_none() && !paths.iter().any(|p| p == "data.yaml"))
    {
        return read_classify(&images, options, image_size);
    }
    let yaml = read_text(source, "data.yaml")?;
    let data = parse_data_yaml(&yaml).map_err(|reason| dataset_error("data.yaml", reason))?;

    let mut labelled = BTreeSet::new();
    let mut entries = Vec::with_capacity(images.len());
    for image in &images {
        let Some(label_path) = label_path_of(image) else {
            continue;
        };
        let lines = if paths.contains(&label_path) {
            labelled.insert(label_path.clone());
            Some(read_text(source, &label_path)?)
        } else {
            None
        };
        entries.push((image.as_str(), label_path, lines));
    }
    let task = match options.task {
        Some(task) => task,
        None => guess_task(&data, entries.iter().filter_map(|(_, _, l)| l.as_deref())),
    };

    let mut tasks = Vec::with_capacity(entries.len());
    let mut rejections = Vec::new();
    for (position, (image, label_path, lines)) in entries.into_iter().enumerate() {
        let reader = ImageLabels {
            row: position as u64 + 1,
            label_path: &label_path,
            size: image_size(image),
            data: &data,
            options,
            task,
        };
        match reader.results(lines.as_deref().unwrap_or("")) {
            Ok(results) => tasks.push(task_record(options, image, results)),
            Err(problems) => rejections.extend(problems),
        }
    }
    // A label file no image uses is a mistake worth hearing about.
    for path in paths
        .iter()
        .filter(|p| p.ends_with(".txt") && is_under_labels(p))
    {
        if !labelled.contains(path) {
            rejections.push(Rejection::new(
                0,
                path.clone(),
                "has no image: no file with its name under the matching images folder",
            ));
        }
    }
    Ok((tasks, rejections))
}

/// Reads `data.yaml`: the subset of YAML Ultralytics writes. `names` as a
/// block mapping (`  0: person`), a block list (`  - person`) or a flow
/// list (`[person, car]`); `kpt_shape` as `[17, 3]`; names plain, or quoted
/// with `'` or `"`. Other keys are ignored.
pub fn parse_data_yaml(text: &str) -> Result<DataYaml, String> {
    let mut data = DataYaml::default();
    let mut lines = text.lines().enumerate().peekable();
    let mut found_names = false;
    while let Some((number, line)) = lines.next() {
        let line = strip_comment(line);
        if line.trim().is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {}: expected `key: value`", number + 1));
        };
        let value = value.trim();
        match key.trim() {
            "names" if value.is_empty() => {
                found_names = true;
                while let Some((inner_number, inner)) = lines.peek().copied() {
                    let inner = strip_comment(inner);
                    // A block list may sit at the key's own indentation.
                    let in_block = inner.starts_with([' ', '\t', '-']) || inner.trim().is_empty();
                    if !in_block {
                        break;
                    }
                    lines.next();
                    let entry = inner.trim();
                    if entry.is_empty() {
                        continue;
                    }
                    let name = match entry.strip_prefix("- ") {
                        Some(name) => name,
                        None => {
                            let (index, name) = entry.split_once(':').ok_or_else(|| {
                                format!(
                                    "line {}: a name is `N: name` or `- name`",
                                    inner_number + 1
                                )
                            })?;
                            let index: usize = index.trim().parse().map_err(|_| {
                                format!(
                                    "line {}: `{}` is not a class number",
                                    inner_number + 1,
                                    index.trim()
                                )
                            })?;
                            if index != data.names.len() {
                                return Err(format!(
                                    "line {}: class {index} comes where class {} was expected",
                                    inner_number + 1,
                                    data.names.len()
                                ));
                            }
                            name
                        }
                    };
                    data.names.push(unquote(name.trim()));
                }
            }
            "names" => {
                found_names = true;
                data.names = flow_list(value)
                    .ok_or_else(|| {
                        format!(
                            "line {}: names is a list `[a, b]` or a block below",
                            number + 1
                        )
                    })?
                    .into_iter()
                    .map(|name| unquote(&name))
                    .collect();
            }
            "kpt_shape" => {
                let numbers: Vec<usize> = flow_list(value)
                    .and_then(|items| items.iter().map(|n| n.trim().parse().ok()).collect())
                    .ok_or_else(|| {
                        format!("line {}: kpt_shape is `[joints, 2 or 3]`", number + 1)
                    })?;
                match numbers[..] {
                    [joints, dims @ (2 | 3)] if joints > 0 => data.kpt_shape = Some((joints, dims)),
                    _ => {
                        return Err(format!(
                            "line {}: kpt_shape is `[joints, 2 or 3]`",
                            number + 1
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    if !found_names || data.names.is_empty() {
        return Err("has no `names`: the class names are needed".into());
    }
    Ok(data)
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside quotes is part of a name; YOLO files rarely quote one.
    let mut quote = None;
    for (at, c) in line.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('#', None) if at == 0 || line[..at].ends_with([' ', '\t']) => return &line[..at],
            _ => {}
        }
    }
    line
}

/// The items of `[a, b, c]`, split at commas outside quotes.
fn flow_list(value: &str) -> Option<Vec<String>> {
    let inner = value.strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in inner.chars() {
        match (c, quote) {
            ('\'' | '"', None) => {
                quote = Some(c);
                current.push(c);
            }
            (c, Some(q)) if c == q => {
                quote = None;
                current.push(c);
            }
            (',', None) => items.push(std::mem::take(&mut current).trim().to_owned()),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        items.push(current.trim().to_owned());
    }
    Some(items)
}

/// A YAML scalar without its quotes; a double-quoted one is read as JSON
/// (which is what Gloss's writer puts there).
fn unquote(text: &str) -> String {
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        if let Ok(name) = serde_json::from_str::<String>(text) {
            return name;
        }
        return text[1..text.len() - 1].to_owned();
    }
    if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') {
        return text[1..text.len() - 1].replace("''", "'");
    }
    text.to_owned()
}

fn dataset_error(file: &str, reason: impl Into<String>) -> FormatError {
    FormatError::Dataset {
        file: file.to_owned(),
        reason: reason.into(),
    }
}

fn read_text(source: &dyn FileSource, path: &str) -> Result<String, FormatError> {
    let bytes = source.read(path)?;
    if bytes.len() > MAX_LABEL_FILE {
        return Err(dataset_error(
            path,
            format!(
                "is {} bytes; label files may be at most {MAX_LABEL_FILE}",
                bytes.len()
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|_| dataset_error(path, "is not UTF-8 text"))
}

fn is_image(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

fn is_under_labels(path: &str) -> bool {
    path.split('/').any(|part| part == "labels")
}

/// Ultralytics' rule: the last `images` folder becomes `labels`, the
/// extension `.txt`. `None` for an image outside any `images` folder.
fn label_path_of(image: &str) -> Option<String> {
    let parts: Vec<&str> = image.split('/').collect();
    let folder = parts[..parts.len() - 1]
        .iter()
        .rposition(|p| *p == "images")?;
    let mut label: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    label[folder] = "labels".to_owned();
    let name = label.pop().unwrap_or_default();
    label.push(format!("{}.txt", file_stem(&name)));
    Some(label.join("/"))
}

fn guess_task<'a>(data: &DataYaml, mut files: impl Iterator<Item = &'a str>) -> YoloTask {
    if data.kpt_shape.is_some() {
        return YoloTask::Pose;
    }
    let all_boxes = files.all(|text| {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| l.split_whitespace().count() == 5)
    });
    if all_boxes {
        YoloTask::Detect
    } else {
        YoloTask::Segment
    }
}

fn task_record(options: &YoloImportOptions, image: &str, results: Vec<ResultItem>) -> TaskRecord {
    TaskRecord::for_image(&options.image_field, image.to_owned(), results)
}

/// Classify: `{split}/{class}/{image}`; the class folder is the choice.
fn read_classify(
    images: &[&String],
    options: &YoloImportOptions,
    image_size: &dyn Fn(&str) -> Option<(u32, u32)>,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let Some(control) = &options.choices else {
        return Err(dataset_error(
            "",
            "is a YOLO classify dataset (no data.yaml), and the label config has no Choices control for its classes",
        ));
    };
    let mut tasks = Vec::new();
    let mut rejections = Vec::new();
    for (position, image) in images.iter().enumerate() {
        let parts: Vec<&str> = image.split('/').collect();
        let [.., class, _] = parts[..] else {
            rejections.push(Rejection::new(
                position as u64 + 1,
                image.as_str(),
                "is not in a class folder: a classify dataset is split/class/image",
            ));
            continue;
        };
        let size = image_size(image);
        let result = ResultItem {
            id: Some(format!("yolo-{}", position + 1)),
            from_name: control.from_name.clone(),
            to_name: control.to_name.clone(),
            value: ResultValue::Choices(ChoicesValue {
                choices: vec![class.to_owned()],
                extra: Map::new(),
            }),
            original_width: size.map(|s| s.0),
            original_height: size.map(|s| s.1),
            image_rotation: None,
            parent_id: None,
            extra: Map::new(),
        };
        tasks.push(task_record(options, image, vec![result]));
    }
    Ok((tasks, rejections))
}

/// Turns the lines of one image's label file into results.
struct ImageLabels<'a> {
    row: u64,
    label_path: &'a str,
    /// Width and height in pixels, when the image could be read.
    size: Option<(u32, u32)>,
    data: &'a DataYaml,
    options: &'a YoloImportOptions,
    task: YoloTask,
}

impl ImageLabels<'_> {
    fn results(&self, text: &str) -> Result<Vec<ResultItem>, Vec<Rejection>> {
        let mut results = Vec::new();
        let mut problems = Vec::new();
        if self.size.is_none() && !text.trim().is_empty() {
            return Err(vec![Rejection::new(
                self.row,
                self.label_path,
                "its image's size cannot be read, and the objects need it",
            )]);
        }
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let field = format!("{}:{}", self.label_path, index + 1);
            match self.line(line, index + 1) {
                Ok(mut items) => results.append(&mut items),
                Err(reason) => problems.push(Rejection::new(self.row, field, reason)),
            }
        }
        if problems.is_empty() {
            Ok(results)
        } else {
            Err(problems)
        }
    }

    fn line(&self, line: &str, number: usize) -> Result<Vec<ResultItem>, String> {
        let mut fields = line.split_whitespace();
        let class = fields.next().unwrap_or_default();
        let label = class
            .parse::<usize>()
            .ok()
            .and_then(|class| self.data.names.get(class))
            .ok_or_else(|| {
                format!(
                    "class `{class}` is not one of the {} classes in data.yaml",
                    self.data.names.len()
                )
            })?;
        let numbers: Vec<f64> = fields
            .map(|f| f.parse::<f64>().ok().filter(|n| n.is_finite()))
            .collect::<Option<_>>()
            .ok_or("every value after the class must be a number")?;
        let id = format!("yolo-{}-{number}", self.row);
        match self.task {
            YoloTask::Detect => {
                let [cx, cy, w, h] = numbers[..] else {
                    return Err(format!(
                        "a detect line is `class cx cy w h`, this one has {} numbers",
                        numbers.len()
                    ));
                };
                Ok(vec![self.rectangle(
                    id,
                    label,
                    [cx - w / 2.0, cy - h / 2.0, w, h],
                    0.0,
                )?])
            }
            YoloTask::Segment => {
                if numbers.len() < 6 || numbers.len() % 2 == 1 {
                    return Err(format!(
                        "a segment line is `class x1 y1 x2 y2 x3 y3 …` (3 points at least), this one has {} numbers",
                        numbers.len()
                    ));
                }
                let control = self.options.polygons.as_ref().ok_or(
                    "is a polygon, and the label config has no PolygonLabels control for it",
                )?;
                let points = numbers
                    .chunks_exact(2)
                    .map(|p| [p[0] * 100.0, p[1] * 100.0])
                    .collect();
                let value = ResultValue::PolygonLabels(PolygonLabelsValue {
                    points,
                    polygonlabels: vec![label.clone()],
                    closed: Some(true),
                    extra: Map::new(),
                });
                Ok(vec![self.result(control, id, value)])
            }
            YoloTask::Obb => {
                let [x1, y1, x2, y2, _, _, x4, y4] = numbers[..] else {
                    return Err(format!(
                        "an obb line is `class x1 y1 x2 y2 x3 y3 x4 y4`, this one has {} numbers",
                        numbers.len()
                    ));
                };
                // Corners in order around the box: the first is the box's
                // own top-left, the second its top-right (Gloss writes them so).
                let (width, height) = self.pixels();
                let top = ((x2 - x1) * width, (y2 - y1) * height);
                let side = ((x4 - x1) * width, (y4 - y1) * height);
                let rotation = top.1.atan2(top.0).to_degrees().rem_euclid(360.0);
                let w = top.0.hypot(top.1) / width;
                let h = side.0.hypot(side.1) / height;
                Ok(vec![self.rectangle(id, label, [x1, y1, w, h], rotation)?])
            }
            YoloTask::Pose => self.skeleton(id, label, &numbers),
            YoloTask::Classify => Err("classify datasets have no label files".into()),
        }
    }

    fn pixels(&self) -> (f64, f64) {
        let (width, height) = self.size.unwrap_or((1, 1));
        (f64::from(width), f64::from(height))
    }

    /// A box from `[x, y, w, h]` in 0..1.
    fn rectangle(
        &self,
        id: String,
        label: &str,
        [x, y, w, h]: [f64; 4],
        rotation: f64,
    ) -> Result<ResultItem, String> {
        let control = self
            .options
            .rectangles
            .as_ref()
            .ok_or("is a box, and the label config has no RectangleLabels control for it")?;
        let value = ResultValue::RectangleLabels(RectangleLabelsValue {
            x: x * 100.0,
            y: y * 100.0,
            width: w * 100.0,
            height: h * 100.0,
            rotation: Some(rotation),
            rectanglelabels: vec![label.to_owned()],
            extra: Map::new(),
        });
        Ok(self.result(control, id, value))
    }

    fn skeleton(
        &self,
        id: String,
        label: &str,
        numbers: &[f64],
    ) -> Result<Vec<ResultItem>, String> {
        let (joints, dims) = self
            .data
            .kpt_shape
            .ok_or("a pose line needs kpt_shape in data.yaml")?;
        if numbers.len() != 4 + joints * dims {
            return Err(format!(
                "a pose line is `class cx cy w h` and {joints} joints of {dims} numbers ({} numbers), this one has {}",
                4 + joints * dims,
                numbers.len()
            ));
        }
        let target =
            self.options.keypoints.as_ref().ok_or(
                "is a skeleton, and the label config has no KeyPointLabels control for it",
            )?;
        if target.joints.len() != joints {
            return Err(format!(
                "has {joints} joints, and the KeyPointLabels control \"{}\" has {} labels",
                target.control.from_name,
                target.joints.len()
            ));
        }
        let mut results = Vec::new();
        if self.options.rectangles.is_some() {
            let [cx, cy, w, h] = [numbers[0], numbers[1], numbers[2], numbers[3]];
            results.push(self.rectangle(
                format!("{id}-box"),
                label,
                [cx - w / 2.0, cy - h / 2.0, w, h],
                0.0,
            )?);
        }
        for (index, joint) in numbers[4..].chunks_exact(dims).enumerate() {
            let visibility = match joint.get(2).copied() {
                None if joint[0] == 0.0 && joint[1] == 0.0 => continue,
                None | Some(2.0) => None,
                Some(0.0) => continue,
                Some(1.0) => Some("occluded".to_owned()),
                Some(v) => {
                    return Err(format!(
                        "joint {} has visibility {v}; it is 0, 1 or 2",
                        index + 1
                    ))
                }
            };
            let value = ResultValue::KeyPointLabels(Labeled {
                shape: KeyPointValue {
                    x: joint[0] * 100.0,
                    y: joint[1] * 100.0,
                    width: None,
                    visibility,
                    extra: Map::new(),
                },
                labels: vec![target.joints[index].clone()],
            });
            let mut item = self.result(&target.control, format!("{id}-{index}"), value);
            item.parent_id = Some(id.clone());
            results.push(item);
        }
        Ok(results)
    }

    fn result(&self, control: &ControlRef, id: String, value: ResultValue) -> ResultItem {
        ResultItem {
            id: Some(id),
            from_name: control.from_name.clone(),
            to_name: control.to_name.clone(),
            value,
            original_width: self.size.map(|s| s.0),
            original_height: self.size.map(|s| s.1),
            image_rotation: Some(0.0),
            parent_id: None,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_yaml_in_its_usual_forms() {
        let block = parse_data_yaml("path: ../x\ntrain: images/train # here\nnames:\n  0: person\n  1: \"traffic light\"\n\nkpt_shape: [17, 3]\n").unwrap();
        assert_eq!(block.names, ["person", "traffic light"]);
        assert_eq!(block.kpt_shape, Some((17, 3)));
        let list = parse_data_yaml("names:\n- 'a''s'\n- b\n").unwrap();
        assert_eq!(list.names, ["a's", "b"]);
        let flow = parse_data_yaml("names: [cat, 'dog, big', \"x\"]\n").unwrap();
        assert_eq!(flow.names, ["cat", "dog, big", "x"]);
    }

    #[test]
    fn bad_data_yaml_says_where() {
        assert!(parse_data_yaml("train: images\n")
            .unwrap_err()
            .contains("no `names`"));
        let err = parse_data_yaml("names:\n  1: a\n").unwrap_err();
        assert!(err.contains("line 2: class 1 comes where class 0"), "{err}");
        assert!(parse_data_yaml("names: [a]\nkpt_shape: [3, 4]\n")
            .unwrap_err()
            .contains("kpt_shape"));
    }

    #[test]
    fn label_paths_follow_the_last_images_folder() {
        assert_eq!(
            label_path_of("images/train/a.b.jpg").as_deref(),
            Some("labels/train/a.b.txt")
        );
        assert_eq!(
            label_path_of("ds/images/images/x.png").as_deref(),
            Some("ds/images/labels/x.txt")
        );
        assert_eq!(label_path_of("x.png"), None);
    }
}
