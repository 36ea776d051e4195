//! The mask type: constructors, pixel access, area and bounding box.

mod common;

use common::{blocks, mask_from_rows, noise, reference_bbox, Rng, SIZES};
use gloss_masks::{BBox, Mask, MaskError, MAX_PIXELS, MAX_SIDE};

#[test]
fn row_major_pixels_round_trip_and_read_back_by_coordinates() {
    let mut rng = Rng::new(1);
    for (width, height) in SIZES {
        for pixels in [
            noise(&mut rng, width, height, 50),
            noise(&mut rng, width, height, 5),
            blocks(&mut rng, width, height),
        ] {
            let mask = Mask::from_row_major(width, height, &pixels).unwrap();
            assert_eq!((mask.width(), mask.height()), (width, height));
            assert_eq!(mask.to_row_major(), pixels, "{width}×{height}");
            for y in 0..height {
                for x in 0..width {
                    assert_eq!(mask.get(x, y), pixels[(y * width + x) as usize] == 1);
                }
            }
            let area = pixels.iter().filter(|&&p| p == 1).count() as u64;
            assert_eq!(mask.area(), area);
            let bbox = mask.bbox().map(|b| [b.x, b.y, b.width, b.height]);
            assert_eq!(
                bbox,
                reference_bbox(width, height, &pixels),
                "{width}×{height}"
            );
        }
    }
}

#[test]
fn any_nonzero_byte_is_set_and_bools_work_alike() {
    let bytes = [0, 1, 255, 0, 7, 0];
    let from_bytes = Mask::from_row_major(3, 2, &bytes).unwrap();
    let bools = bytes.map(|b| b != 0);
    let from_bools = Mask::from_row_major_bools(3, 2, &bools).unwrap();
    assert_eq!(from_bytes, from_bools);
    assert_eq!(from_bytes.to_row_major(), [0, 1, 1, 0, 1, 0]);
}

#[test]
fn set_and_get_ignore_pixels_outside() {
    let mut mask = Mask::new(4, 3).unwrap();
    mask.set(3, 2, true);
    mask.set(4, 0, true);
    mask.set(0, 3, true);
    mask.set(u32::MAX, u32::MAX, true);
    assert_eq!(mask.area(), 1);
    assert!(mask.get(3, 2));
    assert!(!mask.get(4, 2));
    assert!(!mask.get(3, 3));
    mask.set(3, 2, false);
    assert_eq!(mask.area(), 0);
    assert_eq!(mask, Mask::new(4, 3).unwrap());
}

#[test]
fn bbox_is_coco_style_and_none_when_empty() {
    let mask = mask_from_rows(&[
        "......", //
        "..#...", "...##.", "......",
    ]);
    let expected = BBox {
        x: 2,
        y: 1,
        width: 3,
        height: 2,
    };
    assert_eq!(mask.bbox(), Some(expected));
    assert_eq!(Mask::new(5, 5).unwrap().bbox(), None);
    assert_eq!(Mask::new(0, 5).unwrap().bbox(), None);
}

#[test]
fn zero_sized_masks_have_no_pixels() {
    for (width, height) in [(0, 0), (0, 9), (9, 0)] {
        let mask = Mask::from_row_major(width, height, &[]).unwrap();
        assert_eq!(mask.area(), 0);
        assert!(mask.to_row_major().is_empty());
        assert!(!mask.get(0, 0));
    }
}

#[test]
fn wrong_pixel_count_is_an_error() {
    let err = Mask::from_row_major(3, 2, &[1, 0, 1]).unwrap_err();
    assert_eq!(
        err,
        MaskError::PixelCount {
            expected: 6,
            actual: 3
        }
    );
    assert_eq!(err.to_string(), "expected 6 pixels (width × height), got 3");
}

#[test]
fn sizes_over_the_limits_are_errors() {
    assert!(Mask::new(MAX_SIDE, 4096).is_ok());
    assert_eq!(u64::from(MAX_SIDE) * 4096, MAX_PIXELS);
    for (width, height) in [
        (MAX_SIDE + 1, 1),
        (1, MAX_SIDE + 1),
        (MAX_SIDE, 4097),
        (20_000, 20_000),
    ] {
        let err = Mask::new(width, height).unwrap_err();
        assert_eq!(
            err,
            MaskError::TooLarge {
                width: width.into(),
                height: height.into()
            }
        );
    }
    assert_eq!(
        Mask::new(20_000, 20_000).unwrap_err().to_string(),
        "a mask of 20000×20000 pixels is over the limit (65536 pixels per side, 268435456 pixels in all)"
    );
}

#[test]
fn debug_shows_size_and_area_not_pixels() {
    let mask = mask_from_rows(&["#.", ".#"]);
    assert_eq!(format!("{mask:?}"), "Mask { width: 2, height: 2, area: 2 }");
}
