mod common;

use gloss_media::{sniff, MediaKind};

fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let size = 16 + 4 * compatible.len() as u32;
    let mut out = size.to_be_bytes().to_vec();
    out.extend_from_slice(b"ftyp");
    out.extend_from_slice(major);
    out.extend_from_slice(&[0, 0, 2, 0]);
    for brand in compatible {
        out.extend_from_slice(*brand);
    }
    out.extend_from_slice(b"\0\0\0\x08free");
    out
}

fn ebml(doc_type: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82,
    ];
    out.push(0x80 | doc_type.len() as u8);
    out.extend_from_slice(doc_type);
    out
}

#[test]
fn tells_each_kind_from_its_first_bytes() {
    let cases: Vec<(Vec<u8>, MediaKind)> = vec![
        (common::png(3, 2), MediaKind::Png),
        (common::jpeg(3, 2), MediaKind::Jpeg),
        (common::webp(3, 2), MediaKind::WebP),
        (common::tiff8(3, 2), MediaKind::Tiff),
        (b"II*\0\x08\0\0\0".to_vec(), MediaKind::Tiff),
        (b"MM\0*\0\0\0\x08".to_vec(), MediaKind::Tiff),
        (common::gif_header(3, 2), MediaKind::Gif),
        (b"GIF87a\x03\0\x02\0".to_vec(), MediaKind::Gif),
        (common::bmp_header(3, 2), MediaKind::Bmp),
        (ftyp(b"isom", &[b"isom", b"avc1", b"mp41"]), MediaKind::Mp4),
        (ftyp(b"mp42", &[b"mp42", b"isom"]), MediaKind::Mp4),
        (ftyp(b"qt  ", &[b"qt  "]), MediaKind::QuickTime),
        (ftyp(b"M4A ", &[b"M4A ", b"mp42"]), MediaKind::M4a),
        (ftyp(b"avif", &[b"avif", b"mif1"]), MediaKind::Avif),
        (ftyp(b"mif1", &[b"mif1", b"avif"]), MediaKind::Avif),
        (ftyp(b"heic", &[b"mif1", b"heic"]), MediaKind::Heic),
        (ebml(b"webm"), MediaKind::WebM),
        (ebml(b"matroska"), MediaKind::Matroska),
        (b"RIFF\x24\0\0\0WAVEfmt ".to_vec(), MediaKind::Wav),
        (b"ID3\x04\0\0\0\0\0\x21".to_vec(), MediaKind::Mp3),
        // An MPEG-1 layer III frame header: 128 kbit/s, 44.1 kHz.
        (vec![0xff, 0xfb, 0x90, 0x64, 0, 0], MediaKind::Mp3),
        (b"fLaC\0\0\0\x22".to_vec(), MediaKind::Flac),
        (b"OggS\0\x02\0\0".to_vec(), MediaKind::Ogg),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(), MediaKind::Pdf),
        (b"PK\x03\x04\x14\0\0\0".to_vec(), MediaKind::Zip),
        (b"PK\x05\x06\0\0\0\0".to_vec(), MediaKind::Zip),
        (br#"{"name": "x", "n": 1}"#.to_vec(), MediaKind::Json),
        (b"\n  [ {\"a\": 1} ]".to_vec(), MediaKind::Json),
        (b"[1, 2, 3]".to_vec(), MediaKind::Json),
        (b"[true]".to_vec(), MediaKind::Json),
        (b"hello, world\n".to_vec(), MediaKind::Text),
        (
            b"\xef\xbb\xbfwith a byte order mark".to_vec(),
            MediaKind::Text,
        ),
        (b"[this] is markdown".to_vec(), MediaKind::Text),
        (
            "na\u{ef}ve caf\u{e9}\tr\u{e9}sum\u{e9}".as_bytes().to_vec(),
            MediaKind::Text,
        ),
        (vec![0, 1, 2, 3, 0xfe, 0xff], MediaKind::Unknown),
        (Vec::new(), MediaKind::Unknown),
    ];
    for (head, expected) in cases {
        assert_eq!(sniff(&head), expected, "{:?}", &head[..head.len().min(16)]);
    }
}

#[test]
fn a_png_is_a_png_whatever_it_is_called() {
    // There is no name to go by: `sniff` only ever sees bytes, so a PNG
    // uploaded as photo.jpg is still image/png (see also the upload tests).
    let kind = sniff(&common::png(4, 4));
    assert_eq!(kind, MediaKind::Png);
    assert_eq!(kind.content_type(), "image/png");
    assert_eq!(kind.extension(), "png");
}

#[test]
fn markup_and_scripts_are_plain_text_never_images() {
    for text in [
        "<!doctype html><html><script>alert(1)</script></html>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
        "#!/bin/sh\necho hi\n",
        "<script>fetch('/api')</script>",
        "BMW is a car, BM is not a bitmap",
        "GIF is a format",
    ] {
        let kind = sniff(text.as_bytes());
        assert_eq!(kind, MediaKind::Text, "{text}");
        assert!(!kind.is_image(), "{text}");
        assert_eq!(kind.content_type(), "text/plain; charset=utf-8");
    }
}

#[test]
fn near_misses_are_not_media() {
    // AAC in ADTS starts with a sync word too, but with MPEG layer bits 00.
    assert_eq!(sniff(&[0xff, 0xf1, 0x50, 0x80, 0, 0]), MediaKind::Unknown);
    // Text cut in the middle of a character is still text.
    let cut = &"caf\u{e9}".as_bytes()[..4];
    assert_eq!(sniff(cut), MediaKind::Text);
    // Control characters make it binary.
    assert_eq!(sniff(b"abc\0def"), MediaKind::Unknown);
    assert_eq!(sniff(b"\x1b[31mred\x1b[0m"), MediaKind::Unknown);
}

#[test]
fn kinds_know_their_family() {
    assert!(MediaKind::Jpeg.is_image() && !MediaKind::Jpeg.is_video());
    assert!(MediaKind::Mp4.is_video() && !MediaKind::Mp4.is_audio());
    assert!(MediaKind::M4a.is_audio() && !MediaKind::M4a.is_video());
    assert!(MediaKind::Mp3.is_audio());
    assert!(MediaKind::WebM.is_video());
    assert!(!MediaKind::Pdf.is_image() && !MediaKind::Pdf.is_audio() && !MediaKind::Pdf.is_video());
    assert_eq!(
        MediaKind::Unknown.content_type(),
        "application/octet-stream"
    );
    assert_eq!(MediaKind::Jpeg.extension(), "jpg");
    assert_eq!(MediaKind::Mp3.content_type(), "audio/mpeg");
}
