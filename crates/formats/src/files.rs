//! Exports made of many files (YOLO's label files, VOC's XML per image):
//! the writers hand each file to a [`FileSink`], which the engine backs with
//! a folder or a zip.

use std::io;

/// Where the files of a multi-file export go.
///
/// Paths are relative and `/`-separated, built by the writers from safe
/// parts only (see [`file_stem`]); the sink still refuses anything else.
pub trait FileSink {
    /// Writes the whole file at `path`.
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()>;
}

/// Whether `path` is relative, `/`-separated and free of `..`, `.`, empty
/// and backslash parts: what a sink may create inside its folder or zip.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

/// An image's file name without its extension: the name of its label file.
pub fn file_stem(file_name: &str) -> &str {
    match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(is_safe_relative_path("labels/train/a.txt"));
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "./a",
            "a//b",
            "a\\b",
            "..",
            "a/",
        ] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }

    #[test]
    fn stems_drop_the_last_extension() {
        assert_eq!(file_stem("a.b.png"), "a.b");
        assert_eq!(file_stem("noext"), "noext");
        assert_eq!(file_stem(".hidden"), ".hidden");
    }
}
