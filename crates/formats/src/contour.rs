//! Outlines of mask pixels, for formats that hold polygons but not masks
//! (YOLO segment).
//!
//! A mask's pixels are split into 4-connected components (pixels that share
//! a side), and the outer boundary of each is traced along the pixel edges,
//! so that the vertices are pixel corners and filling the polygon by pixel
//! centres gives back exactly the component's pixels — less its holes,
//! which an outline cannot hold. Vertices are kept only where the boundary
//! turns.

use gloss_masks::Mask;

/// The outer outlines of the 4-connected components of `mask` with at
/// least `min_pixels` pixels, each as pixel corners `[x, y]` in the order
/// they are walked (clockwise on screen), components in the order of their
/// top-left pixel; and how many smaller components were dropped.
///
/// A hole that touches the outside at a corner only (diagonally) is walked
/// into and out of at that corner, so the polygon leaves it out; other
/// holes are inside the outline.
pub(crate) fn outer_outlines(mask: &Mask, min_pixels: u64) -> (Vec<Vec<[u32; 2]>>, u64) {
    let Some(bbox) = mask.bbox() else {
        return (Vec::new(), 0);
    };
    let (left, top) = (bbox.x, bbox.y);
    let (width, height) = (bbox.width as usize, bbox.height as usize);
    // Pixels already given to a component, within the bounds.
    let mut seen = vec![false; width * height];
    let mut outlines = Vec::new();
    let mut dropped = 0;
    let mut pending: Vec<(u32, u32)> = Vec::new();
    for y in top..top + bbox.height {
        for x in left..left + bbox.width {
            let index = |x: u32, y: u32| (y - top) as usize * width + (x - left) as usize;
            if !mask.get(x, y) || seen[index(x, y)] {
                continue;
            }
            // A new component, whose first pixel in row order is its
            // top-left one: count its pixels.
            let mut pixels = 0u64;
            seen[index(x, y)] = true;
            pending.push((x, y));
            while let Some((px, py)) = pending.pop() {
                pixels += 1;
                let neighbours = [
                    (px.wrapping_sub(1), py),
                    (px + 1, py),
                    (px, py.wrapping_sub(1)),
                    (px, py + 1),
                ];
                for (nx, ny) in neighbours {
                    let inside = (left..left + bbox.width).contains(&nx)
                        && (top..top + bbox.height).contains(&ny);
                    if inside && mask.get(nx, ny) && !seen[index(nx, ny)] {
                        seen[index(nx, ny)] = true;
                        pending.push((nx, ny));
                    }
                }
            }
            if pixels >= min_pixels {
                outlines.push(trace(mask, x, y));
            } else {
                dropped += 1;
            }
        }
    }
    (outlines, dropped)
}

/// Headings along pixel edges, clockwise: east, south, west, north (y grows
/// downwards).
const STEPS: [(i64, i64); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// The outer boundary of the component whose top-left pixel is
/// (`x`, `y`), walked with the component on the right, from that pixel's
/// top-left corner heading east.
fn trace(mask: &Mask, x: u32, y: u32) -> Vec<[u32; 2]> {
    let is_set = |px: i64, py: i64| {
        px >= 0
            && py >= 0
            && px < i64::from(mask.width())
            && py < i64::from(mask.height())
            && mask.get(px as u32, py as u32)
    };
    let start = (i64::from(x), i64::from(y));
    let (mut cx, mut cy) = start;
    let mut heading = 0;
    let mut corners = Vec::new();
    loop {
        let (dx, dy) = STEPS[heading];
        (cx, cy) = (cx + dx, cy + dy);
        // The two pixels ahead of corner (cx, cy): to the right and to the
        // left of the heading. Pixel (px, py) spans corners px..px+1.
        let (ahead_right, ahead_left) = match heading {
            0 => ((cx, cy), (cx, cy - 1)),
            1 => ((cx - 1, cy), (cx, cy)),
            2 => ((cx - 1, cy - 1), (cx - 1, cy)),
            _ => ((cx, cy - 1), (cx - 1, cy - 1)),
        };
        // Both ahead: the boundary turns left; only the right one: it goes
        // on; not the right one: it turns right around the current pixel
        // (also when only the left one is set, which touches the
        // component at this corner only and is not 4-connected to it).
        let turn = match (
            is_set(ahead_right.0, ahead_right.1),
            is_set(ahead_left.0, ahead_left.1),
        ) {
            (true, true) => 3,
            (true, false) => 0,
            (false, _) => 1,
        };
        if turn != 0 {
            // In range: the walk never leaves the mask's corners.
            corners.push([cx as u32, cy as u32]);
            heading = (heading + turn) % 4;
        }
        if (cx, cy) == start && heading == 0 {
            return corners;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(rows: &[&str]) -> Mask {
        let mut mask = Mask::new(rows[0].len() as u32, rows.len() as u32).unwrap();
        for (y, row) in rows.iter().enumerate() {
            for (x, pixel) in row.bytes().enumerate() {
                mask.set(x as u32, y as u32, pixel == b'#');
            }
        }
        mask
    }

    #[test]
    fn a_rectangle_is_its_four_corners() {
        let mask = drawn(&["....", ".##.", ".##.", ".##."]);
        let (outlines, dropped) = outer_outlines(&mask, 1);
        assert_eq!(outlines, [vec![[3, 1], [3, 4], [1, 4], [1, 1]]]);
        assert_eq!(dropped, 0);
    }

    #[test]
    fn an_l_turns_six_times() {
        let mask = drawn(&["#..", "#..", "###"]);
        let (outlines, _) = outer_outlines(&mask, 1);
        assert_eq!(
            outlines,
            [vec![[1, 0], [1, 2], [3, 2], [3, 3], [0, 3], [0, 0]]]
        );
    }

    #[test]
    fn diagonal_neighbours_are_components_of_their_own_and_specks_are_dropped() {
        let mask = drawn(&["##..", "##..", "..#.", "...."]);
        let (outlines, dropped) = outer_outlines(&mask, 2);
        assert_eq!(outlines, [vec![[2, 0], [2, 2], [0, 2], [0, 0]]]);
        assert_eq!(dropped, 1);
    }

    #[test]
    fn a_hole_open_at_a_corner_is_walked_around() {
        // The hole at (1, 1) touches the outside at corner (2, 2) only.
        let mask = drawn(&["###", "#.#", "##."]);
        let (outlines, _) = outer_outlines(&mask, 1);
        assert_eq!(
            outlines,
            [vec![
                [3, 0],
                [3, 2],
                [2, 2],
                [2, 1],
                [1, 1],
                [1, 2],
                [2, 2],
                [2, 3],
                [0, 3],
                [0, 0]
            ]]
        );
    }
}
