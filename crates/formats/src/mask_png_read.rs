//! Reading semantic segmentation PNGs with a colour map (the layout
//! [`MaskPngWriter`](crate::MaskPngWriter) writes, datumaro's
//! `common_semantic_segmentation`) into tasks with brush masks.

use crate::coco::ControlRef;
use crate::files::{file_stem, FileSource};
use crate::mask_png::MAX_SEGMENTATION_PIXELS;
use crate::model::{FormatError, Rejection, TaskRecord};
use crate::raster::voc_color;
use crate::shapes::image_result;
use gloss_masks::{CocoRle, Mask};
use gloss_types::result::{Labeled, ResultValue};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

/// The file that marks a dataset (or one subset of it) and names its
/// classes.
const META_FILE: &str = "dataset_meta.json";

/// The largest `dataset_meta.json` read: 16 MiB.
const MAX_META_BYTES: usize = 16 << 20;

/// The most classes a colour map may have: class numbers are 16-bit here.
const MAX_CLASSES: usize = u16::MAX as usize;

/// Where a mask-png dataset's classes go in the project's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskPngImportOptions {
    /// The data key that gets the image's path in the dataset, e.g.
    /// `"image"`.
    pub image_field: String,
    /// A BrushLabels control, for the masks.
    pub brushes: Option<ControlRef>,
}

/// Reads a mask-png dataset: `dataset_meta.json`, `masks/{name}.png` and
/// `images/{name}.*` in a folder of the source (several folders, one per
/// subset, as datumaro's `common_semantic_segmentation` with subset
/// folders, are read one after the other).
///
/// Every mask is a task whose `data[image_field]` is the path, in the
/// source, of the image of the same name (its path under `images/` without
/// the extension is the mask's under `masks/`). Each class painted in the
/// mask becomes one `brushlabels` result holding all of its pixels (COCO
/// RLE, ids `mask-1`, `mask-2`, … in class order), labelled with the class
/// name. The background is not read: black (0, 0, 0) and a class named
/// `background` (or the `background_label` of the meta file).
///
/// The classes are datumaro's: the `labels` of `dataset_meta.json`, then
/// those of its `label_map` (`{"1": "car"}`), class `i` having colour `i` of
/// `segmentation_colors`; without colours, class `i` has colour `i` of the
/// VOC palette. An RGB (or palette) mask is read by colour; a grayscale one
/// holds class numbers, as datumaro reads it. `image_size` gives an image's
/// size (`None` when it cannot be read, and the mask's is taken).
///
/// A mask with any problem is rejected as a whole; its row is its place
/// among the masks in path order, from 1, its field the mask's path.
/// Problems:
/// a file that is not a PNG, over [`MAX_SEGMENTATION_PIXELS`], a colour or
/// class number the colour map does not have (the first such pixel is
/// named), no image of its name, a size other than its image's, and classes
/// painted when there is no BrushLabels control. A `dataset_meta.json` that
/// cannot be read, or no dataset at all, is a [`FormatError`].
pub fn read_mask_png(
    source: &dyn FileSource,
    options: &MaskPngImportOptions,
    image_size: &dyn Fn(&str) -> Option<(u32, u32)>,
) -> Result<(Vec<TaskRecord>, Vec<Rejection>), FormatError> {
    let paths = source.paths();
    let visible = |path: &&String| {
        !path.starts_with("__MACOSX/") && !path.split('/').any(|part| part.starts_with('.'))
    };
    let roots: Vec<&str> = paths
        .iter()
        .filter(visible)
        .filter_map(|path| path.strip_suffix(META_FILE))
        .filter(|root| root.is_empty() || root.ends_with('/'))
        .filter(|root| {
            paths
                .iter()
                .any(|p| p.starts_with(&format!("{root}masks/")))
        })
        .collect();
    if roots.is_empty() {
        return Err(FormatError::Dataset {
            file: String::new(),
            reason: format!("no {META_FILE} beside a masks folder: not a mask-png dataset"),
        });
    }
    let mut tasks = Vec::new();
    let mut rejections = Vec::new();
    let mut row = 0;
    for root in roots {
        let classes = ColorMap::read(source, &format!("{root}{META_FILE}"))?;
        let images_dir = format!("{root}images/");
        let masks_dir = format!("{root}masks/");
        // Images by their path under images/ without the extension.
        let images: HashMap<&str, &str> = paths
            .iter()
            .filter(visible)
            .filter_map(|path| {
                let name = path.strip_prefix(&images_dir)?;
                Some((without_extension(name), path.as_str()))
            })
            .collect();
        let masks = paths.iter().filter(visible).filter(|path| {
            path.starts_with(&masks_dir) && path.to_ascii_lowercase().ends_with(".png")
        });
        for mask_path in masks {
            row += 1;
            let name = without_extension(&mask_path[masks_dir.len()..]);
            let reject = |reason: String| Rejection::new(row, mask_path.clone(), reason);
            let Some(&image) = images.get(name) else {
                rejections.push(reject(format!(
                    "has no image: no file {images_dir}{name}.* in the dataset"
                )));
                continue;
            };
            match read_one(source, mask_path, &classes, options) {
                Err(reason) => rejections.push(reject(reason)),
                Ok((size, results)) => match image_size(image) {
                    Some(image_size) if image_size != size => rejections.push(reject(format!(
                        "is {}×{} pixels, and its image {image} is {}×{}",
                        size.0, size.1, image_size.0, image_size.1
                    ))),
                    _ => tasks.push(TaskRecord::for_image(
                        &options.image_field,
                        image.to_owned(),
                        results,
                    )),
                },
            }
        }
    }
    Ok((tasks, rejections))
}

/// A path without the extension of its last part (`a/b.c.png` → `a/b.c`).
fn without_extension(path: &str) -> &str {
    let name_start = path.rfind('/').map_or(0, |slash| slash + 1);
    &path[..name_start + file_stem(&path[name_start..]).len()]
}

/// The results of one mask, and its size; an error says why it is
/// rejected.
fn read_one(
    source: &dyn FileSource,
    path: &str,
    classes: &ColorMap,
    options: &MaskPngImportOptions,
) -> Result<((u32, u32), Vec<gloss_types::result::ResultItem>), String> {
    let bytes = source
        .read(path)
        .map_err(|err| format!("cannot be read: {err}"))?;
    let (width, height, class_of_pixel) = decode_classes(&bytes, classes)?;
    let mut painted = vec![false; usize::from(u16::MAX) + 1];
    for class in &class_of_pixel {
        painted[usize::from(*class)] = true;
    }
    let present: Vec<u16> = (0..=u16::MAX)
        .filter(|class| painted[usize::from(*class)] && !classes.is_background(*class))
        .collect();
    if present.is_empty() {
        return Ok(((width, height), Vec::new()));
    }
    let Some(control) = &options.brushes else {
        let names: Vec<&str> = present.iter().map(|c| classes.name(*c)).collect();
        return Err(format!(
            "paints {}, and the label config has no BrushLabels control for masks",
            names.join(", ")
        ));
    };
    let mut results = Vec::new();
    for class in present {
        let pixels: Vec<bool> = class_of_pixel.iter().map(|c| *c == class).collect();
        let mask = Mask::from_row_major_bools(width, height, &pixels)
            .map_err(|err| format!("cannot hold a mask: {err}"))?;
        let value = Labeled {
            shape: gloss_masks::brush_value_from_rle(&CocoRle::from_mask(&mask)),
            labels: vec![classes.name(class).to_owned()],
        };
        let id = format!("mask-{}", results.len() + 1);
        let result = image_result(
            control,
            id,
            ResultValue::BrushLabels(value),
            (width, height),
        );
        results.push(result);
    }
    Ok(((width, height), results))
}

/// The class of every pixel of a mask PNG, row by row.
fn decode_classes(bytes: &[u8], classes: &ColorMap) -> Result<(u32, u32, Vec<u16>), String> {
    let not_png = |err: png::DecodingError| format!("is not a PNG image Gloss can read: {err}");
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes become RGB, 16-bit samples 8-bit.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(not_png)?;
    let (width, height) = (reader.info().width, reader.info().height);
    if u64::from(width) * u64::from(height) > MAX_SEGMENTATION_PIXELS {
        return Err(format!(
            "is {width}×{height} pixels, over the {MAX_SEGMENTATION_PIXELS} pixels a mask may have"
        ));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "is too large to decode".to_owned())?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(not_png)?;
    let channels = frame.color_type.samples();
    let gray = matches!(
        frame.color_type,
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha
    );
    let mut class_of_pixel = Vec::with_capacity(width as usize * height as usize);
    for (y, line) in buffer
        .chunks_exact(frame.line_size)
        .take(height as usize)
        .enumerate()
    {
        for (x, pixel) in line.chunks_exact(channels).take(width as usize).enumerate() {
            let class = if gray {
                classes.by_number(pixel[0])
            } else {
                classes.by_color([pixel[0], pixel[1], pixel[2]])
            };
            let Some(class) = class else {
                let what = if gray {
                    format!("class number {}", pixel[0])
                } else {
                    format!("colour ({}, {}, {})", pixel[0], pixel[1], pixel[2])
                };
                return Err(format!(
                    "pixel ({x}, {y}) has {what}, which {META_FILE} gives no label"
                ));
            };
            class_of_pixel.push(class);
        }
    }
    Ok((width, height, class_of_pixel))
}

/// The classes of a `dataset_meta.json`: names, colours, and which are the
/// background. Class numbers are positions in `names`; [`ColorMap::BLACK`]
/// is always the background.
struct ColorMap {
    names: Vec<String>,
    by_color: HashMap<[u8; 3], u16>,
    background: Vec<bool>,
}

impl ColorMap {
    /// The class number of black when no class has it.
    const BLACK: u16 = u16::MAX;

    fn read(source: &dyn FileSource, path: &str) -> Result<ColorMap, FormatError> {
        let problem = |reason: String| FormatError::Dataset {
            file: path.to_owned(),
            reason,
        };
        let bytes = source.read(path)?;
        if bytes.len() > MAX_META_BYTES {
            return Err(problem(format!("is over {MAX_META_BYTES} bytes")));
        }
        let meta: Value = serde_json::from_slice(&bytes)
            .map_err(|err| problem(format!("is not valid JSON: {err}")))?;
        let strings = |key: &str| -> Result<Vec<String>, FormatError> {
            match meta.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            problem(format!("`{key}` must hold label names, found {item}"))
                        })
                    })
                    .collect(),
                Some(other) => Err(problem(format!("`{key}` must be a list, found {other}"))),
            }
        };
        let mut names = strings("labels")?;
        // `label_map` numbers index `segmentation_colors`.
        let mut numbered: BTreeMap<u64, String> = BTreeMap::new();
        match meta.get("label_map") {
            None => {}
            Some(Value::Object(map)) => {
                for (number, name) in map {
                    let (Ok(number), Some(name)) = (number.parse::<u64>(), name.as_str()) else {
                        return Err(problem(format!(
                            "`label_map` must map class numbers to label names, found \
                             {number:?}: {name}"
                        )));
                    };
                    numbered.insert(number, name.to_owned());
                }
            }
            Some(other) => {
                return Err(problem(format!(
                    "`label_map` must be an object, found {other}"
                )))
            }
        }
        for name in numbered.values() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        if names.is_empty() {
            return Err(problem("names no labels".into()));
        }
        if names.len() > MAX_CLASSES {
            return Err(problem(format!(
                "names {} labels; at most {MAX_CLASSES} are read",
                names.len()
            )));
        }
        let class_of = |name: &str| names.iter().position(|n| n == name).unwrap_or(0) as u16;
        let colors: Vec<Value> = match meta.get("segmentation_colors") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(colors)) => colors.clone(),
            Some(other) => {
                return Err(problem(format!(
                    "`segmentation_colors` must be a list, found {other}"
                )))
            }
        };
        let mut by_color = HashMap::new();
        if colors.iter().all(Value::is_null) {
            for class in 0..names.len() {
                by_color.insert(voc_color(class as u32), class as u16);
            }
        } else {
            for (number, name) in &numbered {
                let color = colors.get(*number as usize).unwrap_or(&Value::Null);
                if color.is_null() {
                    continue;
                }
                let rgb = serde_json::from_value::<[u8; 3]>(color.clone()).map_err(|_| {
                    problem(format!(
                        "`segmentation_colors[{number}]` must be [r, g, b] from 0 to 255, \
                         found {color}"
                    ))
                })?;
                let class = class_of(name);
                if let Some(other) = by_color.insert(rgb, class) {
                    if other != class {
                        return Err(problem(format!(
                            "colour {rgb:?} is given to both {:?} and {name:?}",
                            names[other as usize]
                        )));
                    }
                }
            }
        }
        let background_number = meta
            .get("background_label")
            .and_then(Value::as_str)
            .and_then(|number| number.parse::<u64>().ok())
            .and_then(|number| numbered.get(&number));
        let mut background: Vec<bool> = names
            .iter()
            .map(|name| name == "background" || Some(name) == background_number)
            .collect();
        if let Some(&black) = by_color.get(&[0, 0, 0]) {
            background[usize::from(black)] = true;
        } else {
            by_color.insert([0, 0, 0], ColorMap::BLACK);
        }
        Ok(ColorMap {
            names,
            by_color,
            background,
        })
    }

    fn by_color(&self, rgb: [u8; 3]) -> Option<u16> {
        self.by_color.get(&rgb).copied()
    }

    /// A grayscale mask's class number.
    fn by_number(&self, number: u8) -> Option<u16> {
        (usize::from(number) < self.names.len()).then_some(u16::from(number))
    }

    fn is_background(&self, class: u16) -> bool {
        class == ColorMap::BLACK || self.background[usize::from(class)]
    }

    fn name(&self, class: u16) -> &str {
        &self.names[usize::from(class)]
    }
}
