//! Semantic segmentation masks as PNGs with a colour map, the layout
//! datumaro calls `common_semantic_segmentation`:
//!
//! ```text
//! dataset_meta.json     labels, their class numbers and colours (background 0, black)
//! images/{name}         the images
//! masks/{stem}.png      each pixel in the colour of the class painted there
//! ```
//!
//! A task's regions are painted in the order of its results, later ones
//! over earlier ones: boxes (rotated ones too), polygons and ellipses
//! filled by their outlines (a pixel is in when its centre is, see
//! [`row_spans`]), and brush masks pixel for pixel. Classes take the VOC
//! palette's colours; at most 255 labels.
//!
//! [`read_mask_png`](crate::read_mask_png) reads such a dataset back, one
//! brush mask per class painted (`mask_png_read.rs`).

use crate::coco_writer::ExportCategory;
use crate::files::{file_stem, FileSink};
use crate::raster::{row_spans, voc_color, RgbPng};
use crate::shapes::{ordered_objects, Object};
use crate::split::Split;
use crate::write::ExportTask;
use std::collections::HashMap;
use std::io;

/// Images larger than this (in pixels) are not painted: 2^28, as masks.
pub const MAX_SEGMENTATION_PIXELS: u64 = 1 << 28;

/// Counts of what a [`MaskPngWriter`] wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaskPngSummary {
    /// Mask PNGs written, one per image.
    pub images: u64,
    /// Regions painted.
    pub regions: u64,
    /// Tasks without an image or too big, regions without a class, and
    /// masks whose grid is not the image's (or without a pixel set).
    pub skipped: u64,
}

/// Writes a class-colour PNG per image, and the colour map at the end.
pub struct MaskPngWriter {
    /// Class names by number; 0 is the background.
    labels: Vec<String>,
    class_of: HashMap<String, u8>,
    summary: MaskPngSummary,
}

impl MaskPngWriter {
    /// A writer whose classes are the shape categories, numbered from 1.
    pub fn new(categories: &[ExportCategory]) -> Result<MaskPngWriter, String> {
        let mut labels = vec!["background".to_owned()];
        labels.extend(
            categories
                .iter()
                .filter(|c| c.keypoints.is_none())
                .map(|c| c.name.clone()),
        );
        if labels.len() == 1 {
            return Err("mask-png needs labels of boxes, polygons, ellipses or masks".into());
        }
        if labels.len() > 256 {
            return Err(format!(
                "mask-png holds at most 255 classes, the label config has {}",
                labels.len() - 1
            ));
        }
        let class_of = labels
            .iter()
            .enumerate()
            .skip(1)
            .map(|(index, label)| (label.clone(), index as u8))
            .collect();
        Ok(MaskPngWriter {
            labels,
            class_of,
            summary: MaskPngSummary::default(),
        })
    }

    /// Paints and writes the task's mask; returns where its image goes.
    pub fn write_task(
        &mut self,
        task: &ExportTask,
        _split: Option<Split>,
        sink: &mut dyn FileSink,
    ) -> io::Result<Option<String>> {
        let Some(image) = &task.image else {
            self.summary.skipped += 1;
            return Ok(None);
        };
        let (width, height) = (image.width, image.height);
        if width == 0
            || height == 0
            || u64::from(width) * u64::from(height) > MAX_SEGMENTATION_PIXELS
        {
            self.summary.skipped += 1;
            return Ok(None);
        }
        let mut classes = vec![0u8; width as usize * height as usize];
        let mut spans = Vec::new();
        for annotation in task.annotations.iter().filter(|a| !a.record.was_cancelled) {
            let (drawn, left_out) = ordered_objects(&annotation.record.result, width, height);
            self.summary.skipped += left_out;
            for object in drawn {
                let Some(&class) = self.class_of.get(object.label()) else {
                    self.summary.skipped += 1;
                    continue;
                };
                match &object {
                    Object::Shape(region) => {
                        for row in 0..height {
                            row_spans(&region.shape.rings, row, width, &mut spans);
                            let start = (row * width) as usize;
                            let line = &mut classes[start..start + width as usize];
                            for [start, end] in &spans {
                                line[*start as usize..*end as usize].fill(class);
                            }
                        }
                    }
                    Object::Brush(brush) => {
                        for (pixel, set) in classes.iter_mut().zip(brush.mask.to_row_major()) {
                            if set != 0 {
                                *pixel = class;
                            }
                        }
                    }
                }
                self.summary.regions += 1;
            }
        }
        let mut png = RgbPng::new(width, height);
        let colors: Vec<[u8; 3]> = (0..self.labels.len() as u32).map(voc_color).collect();
        for row in classes.chunks_exact(width as usize) {
            let rgb: Vec<u8> = row
                .iter()
                .flat_map(|class| colors[*class as usize])
                .collect();
            png.push_row(&rgb)?;
        }
        let stem = file_stem(&image.file_name);
        sink.put(&format!("masks/{stem}.png"), &png.finish()?)?;
        self.summary.images += 1;
        Ok(Some(format!("images/{}", image.file_name)))
    }

    /// Writes `dataset_meta.json`: the labels, their numbers and colours.
    pub fn finish(self, sink: &mut dyn FileSink) -> io::Result<MaskPngSummary> {
        let label_map: serde_json::Map<String, serde_json::Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(index, label)| (index.to_string(), label.clone().into()))
            .collect();
        let colors: Vec<[u8; 3]> = (0..self.labels.len() as u32).map(voc_color).collect();
        let meta = serde_json::json!({
            "labels": self.labels,
            "label_map": label_map,
            "segmentation_colors": colors,
        });
        sink.put(
            "dataset_meta.json",
            &serde_json::to_vec_pretty(&meta).map_err(io::Error::other)?,
        )?;
        Ok(self.summary)
    }
}
