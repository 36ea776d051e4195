//! Pixels for the segmentation masks of dataset exports: the VOC colour
//! palette, polygon filling, and a small RGB PNG encoder (zlib and the
//! chunk checksums from `flate2`), written a row at a time so that a mask
//! never has to be held whole.

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use std::io::{self, Write};

/// Colour `index` of the Pascal VOC palette (the devkit's `labelcolormap`,
/// datumaro's `generate_colormap`): 0 is black, 1 (128, 0, 0), 2 (0, 128, 0),
/// …, each index's bits spread over the three channels from the top bit
/// down, so every index below 2^24 gets its own colour.
pub(crate) fn voc_color(index: u32) -> [u8; 3] {
    let mut rgb = [0u8; 3];
    let mut bits = index;
    for shift in (0..8).rev() {
        for (channel, value) in rgb.iter_mut().enumerate() {
            *value |= (((bits >> channel) & 1) as u8) << shift;
        }
        bits >>= 3;
    }
    rgb
}

/// The pixels of row `row` inside `rings` (outlines in pixels, each flat
/// `[x1, y1, x2, y2, …]`), as `[start, end)` column ranges within `width`.
///
/// A pixel is inside when its centre is, by the even-odd rule over all the
/// rings together (so a ring inside another is a hole): the crossings of
/// the line `y = row + 0.5` with the edges are sorted and taken in pairs,
/// and a pixel `x` is filled when its centre `x + 0.5` lies in `[a, b)` of a
/// pair. An edge counts at its lower end but not its upper one, so a vertex
/// exactly on the line is crossed once, and horizontal edges never.
pub(crate) fn row_spans(rings: &[Vec<f64>], row: u32, width: u32, spans: &mut Vec<[u32; 2]>) {
    spans.clear();
    let y = f64::from(row) + 0.5;
    let mut crossings: Vec<f64> = Vec::new();
    for ring in rings {
        let points: Vec<[f64; 2]> = ring.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
        if points.len() < 3 {
            continue;
        }
        let next = points.iter().cycle().skip(1);
        for (&[x0, y0], &[x1, y1]) in points.iter().zip(next) {
            if (y0 <= y) != (y1 <= y) {
                crossings.push(x0 + (y - y0) * (x1 - x0) / (y1 - y0));
            }
        }
    }
    crossings.retain(|x| x.is_finite());
    crossings.sort_by(f64::total_cmp);
    for pair in crossings.chunks_exact(2) {
        let first = column_at(pair[0], width);
        let end = column_at(pair[1], width);
        if first < end {
            spans.push([first, end]);
        }
    }
}

/// The first column whose centre is at or right of `x`, within `0..=width`.
fn column_at(x: f64, width: u32) -> u32 {
    // In range after the clamp, so the conversion is exact.
    (x - 0.5).ceil().clamp(0.0, f64::from(width)) as u32
}

/// An 8-bit RGB PNG, encoded as its rows arrive.
pub(crate) struct RgbPng {
    width: u32,
    height: u32,
    rows: u32,
    pixels: ZlibEncoder<Vec<u8>>,
}

impl RgbPng {
    pub(crate) fn new(width: u32, height: u32) -> RgbPng {
        RgbPng {
            width,
            height,
            rows: 0,
            pixels: ZlibEncoder::new(Vec::new(), Compression::default()),
        }
    }

    /// Adds the next row: `width` pixels of 3 bytes.
    pub(crate) fn push_row(&mut self, rgb: &[u8]) -> io::Result<()> {
        if rgb.len() != self.width as usize * 3 || self.rows == self.height {
            return Err(io::Error::other(
                "a PNG row of the wrong size, or one too many",
            ));
        }
        // Filter type 0 (none): masks are flat colour, which zlib packs well.
        self.pixels.write_all(&[0])?;
        self.pixels.write_all(rgb)?;
        self.rows += 1;
        Ok(())
    }

    /// The whole PNG file.
    pub(crate) fn finish(self) -> io::Result<Vec<u8>> {
        if self.rows != self.height {
            return Err(io::Error::other("a PNG finished before its last row"));
        }
        let data = self.pixels.finish()?;
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = Vec::with_capacity(13);
        header.extend(self.width.to_be_bytes());
        header.extend(self.height.to_be_bytes());
        // Bit depth 8, colour type 2 (RGB), deflate, no filter set, no interlace.
        header.extend([8, 2, 0, 0, 0]);
        push_chunk(&mut png, b"IHDR", &header);
        push_chunk(&mut png, b"IDAT", &data);
        push_chunk(&mut png, b"IEND", &[]);
        Ok(png)
    }
}

fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunks are far below 4 GiB: one IDAT holds a compressed mask.
    png.extend((data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend(kind);
    png.extend(data);
    let mut crc = Crc::new();
    crc.update(&png[start..]);
    png.extend(crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_matches_the_voc_devkit() {
        assert_eq!(voc_color(0), [0, 0, 0]);
        assert_eq!(voc_color(1), [128, 0, 0]);
        assert_eq!(voc_color(2), [0, 128, 0]);
        assert_eq!(voc_color(15), [192, 128, 128]); // person
        assert_eq!(voc_color(255), [224, 224, 192]); // void
        assert_ne!(voc_color(256), voc_color(0));
    }

    fn filled(rings: &[Vec<f64>], width: u32, height: u32) -> Vec<String> {
        let mut spans = Vec::new();
        (0..height)
            .map(|row| {
                row_spans(rings, row, width, &mut spans);
                (0..width)
                    .map(|x| {
                        if spans.iter().any(|[a, b]| (*a..*b).contains(&x)) {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_box_covers_the_pixels_whose_centres_it_holds() {
        // From (1, 1) to (4, 3): centres 1.5..3.5 across, 1.5..2.5 down.
        let rings = vec![vec![1.0, 1.0, 4.0, 1.0, 4.0, 3.0, 1.0, 3.0]];
        assert_eq!(filled(&rings, 5, 4), [".....", ".###.", ".###.", "....."]);
        // A box's edge on a pixel centre: the left edge takes it, the right not.
        let rings = vec![vec![0.5, 0.0, 2.5, 0.0, 2.5, 1.0, 0.5, 1.0]];
        assert_eq!(filled(&rings, 4, 1), ["##.."]);
    }

    #[test]
    fn a_ring_inside_another_is_a_hole_and_shapes_are_clipped() {
        let rings = vec![
            vec![-2.0, 0.0, 7.0, 0.0, 7.0, 5.0, -2.0, 5.0],
            vec![1.0, 1.0, 3.0, 1.0, 3.0, 4.0, 1.0, 4.0],
        ];
        assert_eq!(
            filled(&rings, 5, 5),
            ["#####", "#..##", "#..##", "#..##", "#####"]
        );
    }

    #[test]
    fn a_triangle() {
        let rings = vec![vec![0.0, 0.0, 6.0, 0.0, 0.0, 6.0]];
        assert_eq!(
            filled(&rings, 6, 6),
            ["#####.", "####..", "###...", "##....", "#.....", "......"]
        );
    }

    #[test]
    fn a_png_has_its_chunks_in_order() {
        let mut png = RgbPng::new(2, 1);
        png.push_row(&[255, 0, 0, 0, 0, 255]).unwrap();
        assert!(png.push_row(&[0; 6]).is_err());
        let bytes = png.finish().unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(&bytes[16..29], &[0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        assert_eq!(&bytes[bytes.len() - 12..], b"\0\0\0\0IEND\xAE\x42\x60\x82");
    }
}
