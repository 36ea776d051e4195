//! Keypoint objects and masks of stored results, as `gloss-quality` compares
//! them (the quality report, gold scores, consensus, comparison, and
//! `gloss agreement --metric oks|mask-iou`).

use gloss_quality::objects::{points_area, LabeledMask, Pose, RunMask};
use gloss_quality::spatial::Keypoint;
use gloss_types::result::{ResultItem, ResultValue};

/// The keypoint objects of `items` (`keypointlabels` results; others are
/// passed over). Points sharing a `parentID` under one control are one
/// skeleton instance, labelled with the control's name, each joint named by
/// its label; a point without a parent is an object of its own, labelled
/// and named by its label. Coordinates are pixels when the result has the
/// image's size, else percent; the scale is the area of the box around an
/// object's points, or of the whole image for a single point.
pub fn poses_of<'a>(items: impl IntoIterator<Item = &'a ResultItem>) -> Vec<Pose> {
    poses_with_ids(items)
        .into_iter()
        .map(|(pose, _)| pose)
        .collect()
}

/// [`poses_of`], each pose with the ids of its points' results (and of its
/// instance, the points' `parentID`).
pub(crate) fn poses_with_ids<'a>(
    items: impl IntoIterator<Item = &'a ResultItem>,
) -> Vec<(Pose, Vec<String>)> {
    // (control, parent) of each grouped pose, in order of first point.
    let mut groups: Vec<(&str, &str)> = Vec::new();
    let mut poses: Vec<Pose> = Vec::new();
    let mut ids: Vec<Vec<String>> = Vec::new();
    let mut image_areas: Vec<f64> = Vec::new();
    for item in items {
        let ResultValue::KeyPointLabels(point) = &item.value else {
            continue;
        };
        let Some(label) = point.labels.first() else {
            continue;
        };
        let (sx, sy, image_area) = match (item.original_width, item.original_height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => (
                f64::from(w) / 100.0,
                f64::from(h) / 100.0,
                f64::from(w) * f64::from(h),
            ),
            _ => (1.0, 1.0, 100.0 * 100.0),
        };
        let keypoint = Keypoint {
            x: point.shape.x * sx,
            y: point.shape.y * sy,
            visibility: if point.shape.visibility.as_deref() == Some("occluded") {
                1
            } else {
                2
            },
        };
        let index = match item.parent_id.as_deref() {
            Some(parent) => {
                match groups
                    .iter()
                    .position(|g| *g == (item.from_name.as_str(), parent))
                {
                    Some(index) => index,
                    None => {
                        groups.push((item.from_name.as_str(), parent));
                        poses.push(Pose {
                            label: item.from_name.clone(),
                            joints: Vec::new(),
                            area: 0.0,
                        });
                        image_areas.push(image_area);
                        // The instance's own id: the skeleton drawn as one.
                        ids.push(vec![parent.to_owned()]);
                        poses.len() - 1
                    }
                }
            }
            None => {
                // Never equal to a control name and parent of a group.
                groups.push(("", ""));
                poses.push(Pose {
                    label: label.clone(),
                    joints: Vec::new(),
                    area: 0.0,
                });
                image_areas.push(image_area);
                ids.push(Vec::new());
                poses.len() - 1
            }
        };
        ids[index].extend(item.id.clone());
        let joints = &mut poses[index].joints;
        // A joint placed twice in one instance: the first counts.
        if !joints.iter().any(|(name, _)| name == label) {
            joints.push((label.clone(), keypoint));
        }
    }
    for (pose, image_area) in poses.iter_mut().zip(image_areas) {
        pose.area = points_area(pose.joints.iter().map(|(_, p)| (p.x, p.y)), image_area);
    }
    poses.into_iter().zip(ids).collect()
}

/// The labelled masks of `items` (`brushlabels` results with the image's
/// size; others, and masks that do not decode, are passed over).
pub fn masks_of<'a>(items: impl IntoIterator<Item = &'a ResultItem>) -> Vec<LabeledMask> {
    masks_with_ids(items)
        .into_iter()
        .map(|(mask, _)| mask)
        .collect()
}

/// [`masks_of`], each mask with its result's id (empty when it has none).
pub(crate) fn masks_with_ids<'a>(
    items: impl IntoIterator<Item = &'a ResultItem>,
) -> Vec<(LabeledMask, String)> {
    items
        .into_iter()
        .filter_map(|item| {
            let ResultValue::BrushLabels(brush) = &item.value else {
                return None;
            };
            let (width, height) = (item.original_width?, item.original_height?);
            let rle = gloss_masks::brush_rle(&brush.shape, width, height).ok()?;
            let mask =
                RunMask::from_counts(u64::from(width) * u64::from(height), rle.counts()).ok()?;
            let mask = LabeledMask {
                label: brush.labels.first()?.clone(),
                mask,
            };
            Some((mask, item.id.clone().unwrap_or_default()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: serde_json::Value) -> ResultItem {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn points_group_by_parent_and_masks_decode() {
        let point = |id: &str, parent: Option<&str>, label: &str, x: f64| {
            let mut value = json!({
                "id": id, "from_name": "pose", "to_name": "image", "type": "keypointlabels",
                "original_width": 200, "original_height": 100,
                "value": {"x": x, "y": 50, "keypointlabels": [label]},
            });
            if let Some(parent) = parent {
                value["parentID"] = json!(parent);
            }
            item(value)
        };
        let items = vec![
            point("a", Some("p1"), "nose", 10.0),
            point("b", Some("p1"), "tail", 20.0),
            point("c", None, "landmark", 30.0),
        ];
        let poses = poses_of(&items);
        assert_eq!(poses.len(), 2);
        assert_eq!(poses[0].label, "pose");
        assert_eq!(poses[0].joints.len(), 2);
        assert_eq!(poses[0].joints[1].1.x, 40.0);
        // Collinear points span no area: the image's.
        assert_eq!(poses[0].area, 20_000.0);
        assert_eq!(poses[1].label, "landmark");

        let counts = gloss_masks::CocoRle::new(2, 2, vec![1, 2, 1])
            .unwrap()
            .to_compressed();
        let mask = item(json!({
            "id": "m", "from_name": "seg", "to_name": "image", "type": "brushlabels",
            "original_width": 2, "original_height": 2,
            "value": {"format": "coco_rle", "counts": counts, "brushlabels": ["road"]},
        }));
        let masks = masks_of([&mask]);
        assert_eq!(masks.len(), 1);
        assert_eq!(masks[0].mask.area(), 2);
    }
}
