mod common;

use gloss_media::{probe_image, probe_image_file, Error, ImageInfo, ImageLimits};
use image::ImageFormat;
use std::io::Cursor;
use std::time::{Duration, Instant};

fn probe(bytes: &[u8]) -> Result<ImageInfo, Error> {
    probe_image(Cursor::new(bytes), &ImageLimits::default())
}

fn info(width: u32, height: u32, orientation: u8, bit_depth: Option<u8>) -> ImageInfo {
    ImageInfo {
        width,
        height,
        orientation,
        bit_depth,
    }
}

#[test]
fn reads_sizes_from_headers() {
    assert_eq!(
        probe(&common::png(30, 20)).unwrap(),
        info(30, 20, 1, Some(8))
    );
    assert_eq!(
        probe(&common::png16(30, 20)).unwrap(),
        info(30, 20, 1, Some(16))
    );
    assert_eq!(
        probe(&common::jpeg(33, 17)).unwrap(),
        info(33, 17, 1, Some(8))
    );
    assert_eq!(
        probe(&common::webp(12, 8)).unwrap(),
        info(12, 8, 1, Some(8))
    );
    assert_eq!(probe(&common::tiff8(9, 4)).unwrap(), info(9, 4, 1, Some(8)));
    assert_eq!(
        probe(&common::tiff16(9, 4)).unwrap(),
        info(9, 4, 1, Some(16))
    );
    assert_eq!(
        probe(&common::gif_header(300, 200)).unwrap(),
        info(300, 200, 1, None)
    );
    assert_eq!(
        probe(&common::bmp_header(64, -48)).unwrap(),
        info(64, 48, 1, None)
    );
}

#[test]
fn sizes_are_as_displayed_after_exif_orientation() {
    // Orientation 6: stored 40×10, shown turned a quarter as 10×40.
    let rotated = common::jpeg_with_orientation(40, 10, 6);
    assert_eq!(probe(&rotated).unwrap(), info(10, 40, 6, Some(8)));
    // Orientation 3 is upside down: the size stays.
    let upside_down = common::jpeg_with_orientation(40, 10, 3);
    assert_eq!(probe(&upside_down).unwrap(), info(40, 10, 3, Some(8)));
}

#[test]
fn refuses_decompression_bombs_from_the_header() {
    let bomb = common::png_declaring(100_000, 100_000);
    assert!(bomb.len() < 100);
    let started = Instant::now();
    let err = probe(&bomb).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            err,
            Error::TooManyPixels {
                width: 100_000,
                height: 100_000,
                limit: 178_956_970
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the image is 100000×100000 pixels (10000000000), more than the limit of 178956970 pixels"
    );

    // The same in a TIFF, which declares its size in a tag.
    let err = probe(&common::tiff_declaring(100_000, 100_000)).unwrap_err();
    assert!(
        matches!(err, Error::TooManyPixels { width: 100_000, .. }),
        "{err:?}"
    );
    assert_eq!(
        probe(&common::tiff_declaring(4, 4)).unwrap(),
        info(4, 4, 1, Some(8))
    );

    // The limit is the caller's.
    let small = ImageLimits { max_pixels: 500 };
    let err = probe_image(Cursor::new(common::png(30, 20)), &small).unwrap_err();
    assert!(matches!(
        err,
        Error::TooManyPixels {
            width: 30,
            height: 20,
            limit: 500
        }
    ));
    let err = probe_image(Cursor::new(common::gif_header(30, 20)), &small).unwrap_err();
    assert!(matches!(err, Error::TooManyPixels { .. }));
}

#[test]
fn broken_headers_are_bad_images() {
    let jpeg = common::jpeg(33, 17);
    let err = probe(&jpeg[..100]).unwrap_err();
    assert!(matches!(err, Error::BadImage(_)), "{err:?}");

    let mut png = common::png(30, 20);
    png[20] ^= 0xff; // inside IHDR, so its checksum no longer matches
    let err = probe(&png).unwrap_err();
    assert!(matches!(err, Error::BadImage(_)), "{err:?}");

    let err = probe(&common::png_declaring(0, 10)).unwrap_err();
    assert!(matches!(err, Error::BadImage(_)), "{err:?}");

    let err = probe(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap_err();
    assert!(matches!(err, Error::BadImage(_)), "{err:?}");
    assert!(err.to_string().contains("text/plain"), "{err}");
}

#[test]
fn probes_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, common::webp(5, 6)).unwrap();
    let found = probe_image_file(&path, &ImageLimits::default()).unwrap();
    assert_eq!((found.width, found.height), (5, 6));
    let err = probe_image_file(&dir.path().join("missing"), &ImageLimits::default()).unwrap_err();
    assert!(matches!(err, Error::Source(_)), "{err:?}");
}

/// Counts the bytes actually read, seeks included.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.read.set(self.read.get() + read);
        Ok(read)
    }
}

impl<R: std::io::Seek> std::io::Seek for Counting<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

#[test]
fn reads_only_the_header_of_a_large_image() {
    let noise = common::noise(1500, 1000);
    for format in [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::WebP,
        ImageFormat::Tiff,
    ] {
        let name = format!("{format:?}");
        let bytes = common::encode(&noise, format);
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let reader = std::io::BufReader::new(Counting {
            inner: Cursor::new(&bytes),
            read: read.clone(),
        });
        let found = probe_image(reader, &ImageLimits::default()).unwrap();
        assert_eq!(found.width * found.height, 1500 * 1000, "{name}");
        assert!(
            read.get() < 64 * 1024 && read.get() * 4 < bytes.len(),
            "{name}: read {} of {} bytes",
            read.get(),
            bytes.len()
        );
    }
}
