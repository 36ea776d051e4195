//! Image dimensions and orientation from headers only.
//!
//! No pixel is decoded here. That matters twice: probing a large photo stays
//! cheap, and a "decompression bomb" (a few kilobytes declaring 100000×100000
//! pixels) is refused from its declared size before anything would allocate
//! memory for it.

use crate::sniff::{sniff, MediaKind};
use crate::{Error, Result};
use image::{ImageDecoder, ImageFormat, ImageReader};
use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

/// The pixel limit used unless told otherwise: the point where Pillow calls an
/// image a decompression bomb (2 × 89,478,485 pixels, about 13,000 × 13,000).
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 178_956_970;

/// The image crate's JPEG decoder reads all of its input into memory, so it
/// is handed only the header segments (see [`jpeg_header`]), and never
/// more than this: room for the largest legal run of metadata segments (an
/// ICC profile may take 255 × 64 KiB).
const JPEG_HEADER_WINDOW: u64 = 17 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Width × height above which an image is refused.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: DEFAULT_MAX_IMAGE_PIXELS,
        }
    }
}

/// What the header of an image says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// Width as displayed: already swapped for orientations 5 to 8.
    pub width: u32,
    /// Height as displayed: already swapped for orientations 5 to 8.
    pub height: u32,
    /// The EXIF orientation, 1 (as stored) to 8; 1 when the file has none.
    pub orientation: u8,
    /// Bits per channel (8 or 16 for most files), when the format says.
    pub bit_depth: Option<u8>,
}

/// Reads the header of a PNG, JPEG, WebP, TIFF, GIF or BMP image from the
/// reader's current position.
pub fn probe_image<R: BufRead + Seek>(mut reader: R, limits: &ImageLimits) -> Result<ImageInfo> {
    let start = reader.stream_position().map_err(read_error)?;
    let mut head = Vec::with_capacity(64);
    reader
        .by_ref()
        .take(64)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    reader.seek(SeekFrom::Start(start)).map_err(read_error)?;

    let kind = sniff(&head);
    let info = match kind {
        MediaKind::Png => read_header(reader, ImageFormat::Png, limits)?,
        MediaKind::WebP => read_header(reader, ImageFormat::WebP, limits)?,
        MediaKind::Tiff => read_header(reader, ImageFormat::Tiff, limits)?,
        MediaKind::Jpeg => {
            let header = jpeg_header(reader).map_err(read_error)?;
            read_header(Cursor::new(header), ImageFormat::Jpeg, limits)?
        }
        // This build of the image crate has no GIF or BMP decoder, and both
        // headers are simple enough to read directly.
        MediaKind::Gif => gif_header(&head)?,
        MediaKind::Bmp => bmp_header(&head)?,
        other => {
            return Err(Error::BadImage(format!(
                "{} is not an image format that can be read here",
                other.content_type()
            )))
        }
    };
    // Formats read by the image crate were already checked in `read_header`;
    // GIF and BMP are checked here.
    check_pixels(info.width, info.height, limits)?;
    Ok(info)
}

/// [`probe_image`] on a file.
pub fn probe_image_file(path: &Path, limits: &ImageLimits) -> Result<ImageInfo> {
    let file = std::fs::File::open(path)
        .map_err(|err| Error::Source(format!("cannot open {}: {err}", path.display())))?;
    probe_image(std::io::BufReader::new(file), limits)
}

/// Whether [`probe_image`] can read this kind (AVIF and HEIC it cannot).
pub(crate) fn can_probe(kind: MediaKind) -> bool {
    matches!(
        kind,
        MediaKind::Png
            | MediaKind::Jpeg
            | MediaKind::WebP
            | MediaKind::Tiff
            | MediaKind::Gif
            | MediaKind::Bmp
    )
}

fn read_header<R: BufRead + Seek>(
    reader: R,
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<ImageInfo> {
    // The format comes from our own sniffing, not the image crate's guess, so
    // that what is stored as image/png is also what was checked as PNG.
    // `into_decoder` reads the header only; pixels would be read by
    // `read_image`, which is never called.
    let mut decoder = ImageReader::with_format(reader, format)
        .into_decoder()
        .map_err(|err| Error::BadImage(err.to_string()))?;
    let (width, height) = decoder.dimensions();
    // Before anything else is read from the file.
    check_pixels(width, height, limits)?;
    // Unreadable metadata is not a reason to refuse an image whose header is
    // fine: it is then shown as stored.
    let orientation = decoder
        .orientation()
        .map(|orientation| orientation.to_exif())
        .unwrap_or(1);
    let color = decoder.original_color_type();
    let bit_depth =
        u8::try_from(color.bits_per_pixel() / u16::from(color.channel_count().max(1))).ok();
    Ok(displayed(width, height, orientation, bit_depth))
}

/// The header of a JPEG, from the reader's position: every segment up to and
/// including the start of scan, after which only compressed pixels follow.
/// Segments give their own lengths, so they are read one after the other
/// without looking inside them.
fn jpeg_header<R: Read>(reader: R) -> std::io::Result<Vec<u8>> {
    let mut reader = reader.take(JPEG_HEADER_WINDOW);
    let mut header = Vec::new();
    // A file cut short ends the walk early; the decoder then says what is
    // missing.
    if !read_more(&mut reader, 2, &mut header)? {
        return Ok(header); // not even the start-of-image marker
    }
    loop {
        let at = header.len();
        if !read_more(&mut reader, 2, &mut header)? {
            break;
        }
        let marker = match header[at..] {
            [0xff, marker] if marker != 0xff => marker,
            // Junk or fill bytes where a marker should be: the decoder
            // copes with some of that, so it gets the whole window.
            _ => {
                reader.read_to_end(&mut header)?;
                break;
            }
        };
        if matches!(marker, 0x01 | 0xd0..=0xd9) {
            continue; // markers without a length
        }
        if !read_more(&mut reader, 2, &mut header)? {
            break;
        }
        let length = u16::from_be_bytes([header[at + 2], header[at + 3]]);
        if !read_more(
            &mut reader,
            u64::from(length.saturating_sub(2)),
            &mut header,
        )? {
            break;
        }
        if marker == 0xda {
            break; // start of scan: the header is complete
        }
    }
    Ok(header)
}

/// Appends `count` more bytes; false when the input ends first.
fn read_more(reader: &mut impl Read, count: u64, into: &mut Vec<u8>) -> std::io::Result<bool> {
    let read = reader.take(count).read_to_end(into)?;
    Ok(read as u64 == count)
}

/// Orientations 5 to 8 turn the image a quarter, so it shows with the stored
/// width and height swapped.
fn displayed(width: u32, height: u32, orientation: u8, bit_depth: Option<u8>) -> ImageInfo {
    let (width, height) = if (5..=8).contains(&orientation) {
        (height, width)
    } else {
        (width, height)
    };
    ImageInfo {
        width,
        height,
        orientation,
        bit_depth,
    }
}

fn check_pixels(width: u32, height: u32, limits: &ImageLimits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::BadImage(format!(
            "the header declares an empty image ({width}×{height})"
        )));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Error::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// The logical screen size right after the 6-byte signature.
fn gif_header(head: &[u8]) -> Result<ImageInfo> {
    let size = head
        .get(6..10)
        .ok_or_else(|| Error::BadImage("the GIF header is cut short".to_string()))?;
    let width = u16::from_le_bytes([size[0], size[1]]);
    let height = u16::from_le_bytes([size[2], size[3]]);
    Ok(displayed(width.into(), height.into(), 1, None))
}

/// The size in the DIB header that follows the 14-byte file header: 16-bit
/// fields in the old OS/2 header (12 bytes long), signed 32-bit ones in all
/// later versions, where a negative height means rows are stored top-down.
fn bmp_header(head: &[u8]) -> Result<ImageInfo> {
    let cut_short = || Error::BadImage("the BMP header is cut short".to_string());
    let u16_at = |at: usize| {
        head.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(cut_short)
    };
    let i32_at = |at: usize| {
        head.get(at..at + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(cut_short)
    };
    let (width, height) = if i32_at(14)? == 12 {
        (u32::from(u16_at(18)?), u32::from(u16_at(20)?))
    } else {
        let width = u32::try_from(i32_at(18)?)
            .map_err(|_| Error::BadImage("the BMP header declares a negative width".to_string()))?;
        (width, i32_at(22)?.unsigned_abs())
    };
    Ok(displayed(width, height, 1, None))
}

fn read_error(err: std::io::Error) -> Error {
    Error::Source(err.to_string())
}
