mod common;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use gloss_media::{Error, ImageLimits, MediaKey, MediaKind, MediaStore, UploadLimits};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn open(dir: &tempfile::TempDir) -> MediaStore {
    MediaStore::open(&format!("file://{}", dir.path().display())).unwrap()
}

/// The content in small chunks, so that sniffing has to gather its first
/// bytes across several of them.
fn chunks(bytes: &[u8], size: usize) -> impl Stream<Item = std::io::Result<Bytes>> {
    let chunks: Vec<_> = bytes
        .chunks(size)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    futures::stream::iter(chunks)
}

/// Nothing left half-written: the folder for uploads in progress is empty.
fn no_spool_files(dir: &tempfile::TempDir) -> bool {
    std::fs::read_dir(dir.path().join(".tmp")).unwrap().count() == 0
}

#[tokio::test]
async fn stores_and_describes_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let png = common::png(30, 20);
    let stored = media
        .put_stream(chunks(&png, 7), &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!(stored.key, MediaKey::of(&png));
    assert_eq!(stored.size, png.len() as u64);
    assert_eq!(stored.kind, MediaKind::Png);
    assert_eq!(stored.content_type, "image/png");
    assert_eq!((stored.width, stored.height), (Some(30), Some(20)));
    assert_eq!(stored.orientation, Some(1));
    assert_eq!(media.get(&stored.key).await.unwrap().as_ref(), png);
    assert_eq!(
        media
            .describe(&stored.key, &ImageLimits::default())
            .await
            .unwrap(),
        stored
    );
    assert!(no_spool_files(&dir));

    let rotated = common::jpeg_with_orientation(40, 10, 6);
    let stored = media
        .put_stream(chunks(&rotated, 1000), &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!(stored.content_type, "image/jpeg");
    assert_eq!((stored.width, stored.height), (Some(10), Some(40)));
    assert_eq!(stored.orientation, Some(6));
}

#[tokio::test]
async fn other_content_has_no_image_fields() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let stored = media
        .put_stream(
            chunks(b"<svg onload=alert(1)>", 4),
            &UploadLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(stored.kind, MediaKind::Text);
    assert_eq!(
        (stored.width, stored.height, stored.orientation),
        (None, None, None)
    );
    let empty = media
        .put_stream(chunks(b"", 4), &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!((empty.kind, empty.size), (MediaKind::Unknown, 0));
}

#[tokio::test]
async fn the_name_of_an_imported_file_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, common::png(8, 9)).unwrap();
    let stored = media
        .put_file(&path, &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!(stored.content_type, "image/png");
    assert_eq!((stored.width, stored.height), (Some(8), Some(9)));

    let err = media
        .put_file(&dir.path().join("missing.png"), &UploadLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Source(_)), "{err:?}");
}

#[tokio::test]
async fn refuses_too_much_as_soon_as_it_is_passed() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    // 100 chunks of 1000 bytes, counting how many were asked for.
    let endless = futures::stream::iter(0..100).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 1000]))
    });
    let limits = UploadLimits {
        max_bytes: 5000,
        ..UploadLimits::default()
    };
    let err = media.put_stream(endless, &limits).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 5000 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the content is larger than the limit of 5000 bytes"
    );
    assert_eq!(pulled.load(Ordering::SeqCst), 6);
    assert!(media.list().await.unwrap().is_empty());
    assert!(no_spool_files(&dir));

    // Exactly at the limit is fine.
    let stored = media
        .put_stream(chunks(&[7u8; 5000], 1000), &limits)
        .await
        .unwrap();
    assert_eq!(stored.size, 5000);
}

#[tokio::test]
async fn refused_images_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let limits = UploadLimits::default();

    let bomb = common::png_declaring(100_000, 100_000);
    let err = media
        .put_stream(chunks(&bomb, 16), &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooManyPixels {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{err:?}"
    );

    let jpeg = common::jpeg(33, 17);
    let err = media
        .put_stream(chunks(&jpeg[..100], 16), &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadImage(_)), "{err:?}");

    let small = UploadLimits {
        max_image_pixels: 100,
        ..UploadLimits::default()
    };
    let err = media
        .put_stream(chunks(&common::webp(20, 20), 64), &small)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyPixels { limit: 100, .. }),
        "{err:?}"
    );

    assert!(media.list().await.unwrap().is_empty());
    assert!(no_spool_files(&dir));
}

#[tokio::test]
async fn a_failing_source_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"the start")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the client went away",
        )),
    ]);
    let err = media
        .put_stream(broken, &UploadLimits::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "reading the content failed: the client went away"
    );
    assert!(media.list().await.unwrap().is_empty());
    assert!(no_spool_files(&dir));
}

#[tokio::test]
async fn the_same_content_is_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let png = common::png(12, 12);
    let first = media
        .put_stream(chunks(&png, 100), &UploadLimits::default())
        .await
        .unwrap();
    let second = media
        .put_stream(chunks(&png, 33), &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!(first, second);
    // `put` of the same bytes agrees on the key.
    assert_eq!(
        media.put(Bytes::from(png.clone())).await.unwrap(),
        first.key
    );
    assert_eq!(
        media.list().await.unwrap(),
        vec![(first.key, png.len() as u64)]
    );
    assert!(no_spool_files(&dir));
}

#[tokio::test]
async fn describe_reports_missing_objects() {
    let dir = tempfile::tempdir().unwrap();
    let media = open(&dir);
    let err = media
        .describe(&MediaKey::of(b"absent"), &ImageLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}
