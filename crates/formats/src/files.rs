//! Datasets made of many files (YOLO's label files, VOC's XML per image):
//! writers hand each file to a [`FileSink`] and readers take them from a
//! [`FileSource`]; the engine backs both with a folder (a zip is unpacked
//! into one first), the tests with [`MemoryFiles`].

use std::collections::BTreeMap;
use std::io;

/// Where the files of a multi-file export go.
///
/// Paths are relative and `/`-separated, built by the writers from safe
/// parts only (see [`file_stem`]); the sink still refuses anything else.
pub trait FileSink {
    /// Writes the whole file at `path`.
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()>;
}

/// The files of a dataset being imported.
pub trait FileSource {
    /// Every file's relative, `/`-separated path, sorted.
    fn paths(&self) -> Vec<String>;
    /// The whole file at `path` (one of [`FileSource::paths`]).
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
}

/// Files kept in memory by path: a sink and a source, for tests and for
/// small datasets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryFiles(pub BTreeMap<String, Vec<u8>>);

impl MemoryFiles {
    /// The file at `path` as text (lossy), or `None`.
    pub fn text(&self, path: &str) -> Option<String> {
        self.0
            .get(path)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    }
}

impl FileSink for MemoryFiles {
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        if !is_safe_relative_path(path) {
            return Err(io::Error::other(format!(
                "`{path}` is not a safe relative path"
            )));
        }
        self.0.insert(path.to_owned(), bytes.to_vec());
        Ok(())
    }
}

impl FileSource for MemoryFiles {
    fn paths(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no file `{path}`")))
    }
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

/// A class or file name made safe as one path part: separators and
/// control characters become `_`, and `.`, `..` or nothing become `_`.
pub(crate) fn safe_path_part(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_owned(),
        _ => cleaned,
    }
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
