//! The masks of `brush` and `brushlabels` results.

use crate::{label_studio, CocoRle, MaskError};
use gloss_types::result::BrushValue;
use serde_json::Map;
use std::fmt;

/// Why a brush result has no usable mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrushError {
    /// `format` is neither `rle` nor `coco_rle`.
    Format(String),
    /// The key the format needs (`rle` or `counts`) is missing.
    Missing(&'static str),
    /// The mask does not decode at the result's size.
    Mask(MaskError),
}

impl fmt::Display for BrushError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            BrushError::Format(format) => write!(
                f,
                "mask format is \"{format}\"; Gloss reads \"rle\" (Label Studio) and \"coco_rle\""
            ),
            BrushError::Missing(key) => write!(f, "the mask has no `{key}`"),
            BrushError::Mask(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for BrushError {}

/// The mask of a brush result on a `width` × `height` image (the result's
/// `original_width` and `original_height`), as COCO RLE.
pub fn brush_rle(brush: &BrushValue, width: u32, height: u32) -> Result<CocoRle, BrushError> {
    match brush.format.as_str() {
        "coco_rle" => {
            let counts = brush
                .counts
                .as_deref()
                .ok_or(BrushError::Missing("counts"))?;
            CocoRle::from_compressed(width, height, counts).map_err(BrushError::Mask)
        }
        "rle" => {
            let rle = brush.rle.as_deref().ok_or(BrushError::Missing("rle"))?;
            let mask = label_studio::decode_rle(rle, width, height).map_err(BrushError::Mask)?;
            Ok(CocoRle::from_mask(&mask))
        }
        other => Err(BrushError::Format(other.to_owned())),
    }
}

/// A brush value in Gloss's compact form: `"format": "coco_rle"` with the
/// compressed counts.
pub fn brush_value_from_rle(rle: &CocoRle) -> BrushValue {
    BrushValue {
        format: "coco_rle".to_owned(),
        rle: None,
        counts: Some(rle.to_compressed()),
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mask;

    fn square() -> Mask {
        let mut mask = Mask::new(4, 3).unwrap();
        mask.set(1, 1, true);
        mask.set(2, 1, true);
        mask
    }

    #[test]
    fn both_encodings_give_the_same_mask() {
        let mask = square();
        let coco = brush_value_from_rle(&CocoRle::from_mask(&mask));
        let ls = BrushValue {
            format: "rle".into(),
            rle: Some(label_studio::encode_rle(&mask)),
            counts: None,
            extra: Map::new(),
        };
        assert_eq!(brush_rle(&coco, 4, 3).unwrap().to_mask(), mask);
        assert_eq!(brush_rle(&ls, 4, 3).unwrap().to_mask(), mask);
    }

    #[test]
    fn bad_brushes_say_why() {
        let mut value = brush_value_from_rle(&CocoRle::from_mask(&square()));
        let err = brush_rle(&value, 5, 3).unwrap_err().to_string();
        assert!(
            err.contains("add up to 12 pixels, but the mask has 15"),
            "{err}"
        );
        value.format = "png".into();
        assert!(brush_rle(&value, 4, 3)
            .unwrap_err()
            .to_string()
            .contains("\"png\""));
        value.format = "rle".into();
        assert_eq!(
            brush_rle(&value, 4, 3).unwrap_err(),
            BrushError::Missing("rle")
        );
    }
}
