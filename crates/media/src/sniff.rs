//! What a file is, from its first bytes ("magic numbers") and never from its
//! name: a name is whatever the uploader typed, the bytes are what a browser
//! or decoder will actually see.
//!
//! Anything textual is reported as plain text or JSON, never as HTML, SVG or
//! a script, so that serving it back with the sniffed type cannot run code in
//! a browser.

/// How many leading bytes [`sniff`] looks at; pass at least this many when
/// the content is that long.
pub const SNIFF_LEN: usize = 4096;

/// The kind of a media object, as told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Png,
    Jpeg,
    WebP,
    Tiff,
    Gif,
    Bmp,
    Avif,
    Heic,
    Mp4,
    /// An MP4 container holding only audio (`.m4a`).
    M4a,
    QuickTime,
    WebM,
    Matroska,
    Wav,
    Mp3,
    Flac,
    Ogg,
    Pdf,
    Zip,
    Json,
    /// UTF-8 text, including HTML, SVG and scripts (deliberately not told apart).
    Text,
    /// Anything else: served as `application/octet-stream`.
    Unknown,
}

impl MediaKind {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Png => "image/png",
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::WebP => "image/webp",
            MediaKind::Tiff => "image/tiff",
            MediaKind::Gif => "image/gif",
            MediaKind::Bmp => "image/bmp",
            MediaKind::Avif => "image/avif",
            MediaKind::Heic => "image/heic",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::M4a => "audio/mp4",
            MediaKind::QuickTime => "video/quicktime",
            MediaKind::WebM => "video/webm",
            MediaKind::Matroska => "video/x-matroska",
            MediaKind::Wav => "audio/wav",
            MediaKind::Mp3 => "audio/mpeg",
            MediaKind::Flac => "audio/flac",
            MediaKind::Ogg => "audio/ogg",
            MediaKind::Pdf => "application/pdf",
            MediaKind::Zip => "application/zip",
            MediaKind::Json => "application/json",
            // The heuristic only accepts UTF-8, so say so rather than let a
            // browser guess the charset.
            MediaKind::Text => "text/plain; charset=utf-8",
            MediaKind::Unknown => "application/octet-stream",
        }
    }

    /// The usual file extension, without the dot (for download names).
    pub fn extension(self) -> &'static str {
        match self {
            MediaKind::Png => "png",
            MediaKind::Jpeg => "jpg",
            MediaKind::WebP => "webp",
            MediaKind::Tiff => "tif",
            MediaKind::Gif => "gif",
            MediaKind::Bmp => "bmp",
            MediaKind::Avif => "avif",
            MediaKind::Heic => "heic",
            MediaKind::Mp4 => "mp4",
            MediaKind::M4a => "m4a",
            MediaKind::QuickTime => "mov",
            MediaKind::WebM => "webm",
            MediaKind::Matroska => "mkv",
            MediaKind::Wav => "wav",
            MediaKind::Mp3 => "mp3",
            MediaKind::Flac => "flac",
            MediaKind::Ogg => "ogg",
            MediaKind::Pdf => "pdf",
            MediaKind::Zip => "zip",
            MediaKind::Json => "json",
            MediaKind::Text => "txt",
            MediaKind::Unknown => "bin",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            MediaKind::Png
                | MediaKind::Jpeg
                | MediaKind::WebP
                | MediaKind::Tiff
                | MediaKind::Gif
                | MediaKind::Bmp
                | MediaKind::Avif
                | MediaKind::Heic
        )
    }

    pub fn is_audio(self) -> bool {
        matches!(
            self,
            MediaKind::M4a | MediaKind::Wav | MediaKind::Mp3 | MediaKind::Flac | MediaKind::Ogg
        )
    }

    pub fn is_video(self) -> bool {
        matches!(
            self,
            MediaKind::Mp4 | MediaKind::QuickTime | MediaKind::WebM | MediaKind::Matroska
        )
    }
}

/// Tells the kind of content from its first bytes (up to [`SNIFF_LEN`]).
pub fn sniff(head: &[u8]) -> MediaKind {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        MediaKind::Png
    } else if at(0, b"\xff\xd8\xff") {
        MediaKind::Jpeg
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        MediaKind::Gif
    } else if at(0, b"II*\0") || at(0, b"MM\0*") || at(0, b"II+\0") || at(0, b"MM\0+") {
        // The last two are BigTIFF.
        MediaKind::Tiff
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        MediaKind::WebP
    } else if (at(0, b"RIFF") || at(0, b"RF64")) && at(8, b"WAVE") {
        MediaKind::Wav
    } else if at(4, b"ftyp") {
        sniff_iso_media(head)
    } else if at(0, b"\x1a\x45\xdf\xa3") {
        // EBML; the document type near the start says WebM or Matroska.
        let start = &head[..head.len().min(64)];
        if start.windows(4).any(|window| window == b"webm") {
            MediaKind::WebM
        } else {
            MediaKind::Matroska
        }
    } else if at(0, b"fLaC") {
        MediaKind::Flac
    } else if at(0, b"OggS") {
        MediaKind::Ogg
    } else if at(0, b"ID3") || is_mp3_frame(head) {
        MediaKind::Mp3
    } else if at(0, b"%PDF-") {
        MediaKind::Pdf
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") || at(0, b"PK\x07\x08") {
        MediaKind::Zip
    } else if is_bmp(head) {
        MediaKind::Bmp
    } else if let Some(text) = utf8_text(head) {
        if looks_like_json(text) {
            MediaKind::Json
        } else {
            MediaKind::Text
        }
    } else {
        MediaKind::Unknown
    }
}

/// ISO base media files (MP4, MOV, M4A, HEIF, AVIF) all start with an `ftyp`
/// box; its brands say which one it is.
fn sniff_iso_media(head: &[u8]) -> MediaKind {
    let box_size = head
        .get(0..4)
        .map(|size| u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize)
        .unwrap_or(0);
    let ftyp = &head[..box_size.clamp(8, 256).min(head.len())];
    let major = ftyp.get(8..12).unwrap_or_default();
    // Compatible brands follow the major brand and a 4-byte minor version.
    let mut brands = ftyp.get(16..).unwrap_or_default().chunks_exact(4);
    if matches!(major, b"avif" | b"avis") || brands.any(|brand| brand == b"avif") {
        return MediaKind::Avif;
    }
    match major {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
            MediaKind::Heic
        }
        b"qt  " => MediaKind::QuickTime,
        b"M4A " | b"M4B " => MediaKind::M4a,
        _ => MediaKind::Mp4,
    }
}

/// An MPEG audio frame header without an ID3 tag: 11 sync bits, then fields
/// that must not hold their reserved values. Checking those keeps random
/// binary starting with 0xFF from passing as MP3 (and excludes AAC's ADTS).
fn is_mp3_frame(head: &[u8]) -> bool {
    let [0xff, second, third, ..] = *head else {
        return false;
    };
    let sync = second & 0xe0 == 0xe0;
    let version = (second >> 3) & 0b11; // 0b01 is reserved
    let layer = (second >> 1) & 0b11; // 0b00 is reserved
    let bitrate = third >> 4; // 0b1111 is invalid
    let sample_rate = (third >> 2) & 0b11; // 0b11 is reserved
    sync && version != 0b01 && layer != 0b00 && bitrate != 0b1111 && sample_rate != 0b11
}

/// "BM" alone is too weak (plenty of text starts with it), so the reserved
/// bytes and the size of the header that follows must make sense too.
fn is_bmp(head: &[u8]) -> bool {
    if head.len() < 18 || !head.starts_with(b"BM") || head[6..10] != [0, 0, 0, 0] {
        return false;
    }
    let info_size = u32::from_le_bytes([head[14], head[15], head[16], head[17]]);
    matches!(info_size, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// The head as text when it is UTF-8 without control characters other than
/// the usual whitespace. The head may end in the middle of a character.
fn utf8_text(head: &[u8]) -> Option<&str> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // `error_len() == None` means the bytes ran out mid-character.
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&head[..err.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let is_plain = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'));
    (!text.is_empty() && is_plain).then_some(text)
}

/// A cheap guess: an object or array whose first element looks like JSON.
fn looks_like_json(text: &str) -> bool {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('{') {
        let rest = rest.trim_start();
        return rest.starts_with('"') || rest.starts_with('}');
    }
    let Some(rest) = text.strip_prefix('[') else {
        return false;
    };
    let rest = rest.trim_start();
    rest.starts_with(['{', '[', '"', ']', '-'])
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null"]
            .iter()
            .any(|word| rest.starts_with(word))
}
