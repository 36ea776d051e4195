//! Datasets of many files to import (a YOLO dataset, …): a folder, or a zip
//! unpacked into a private folder first, read through the formats crate's
//! [`FileSource`].
//!
//! Unpacking never writes outside its folder: entry names are taken only
//! when they are plain relative paths, symbolic links are skipped, and the
//! sizes are bounded while copying (a zip can lie about them), so a zip
//! bomb stops at the limits below with an error naming them.

use crate::error::{Error, Result};
use gloss_formats::{is_safe_relative_path, FileSource};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The most files a dataset may hold.
pub const MAX_DATASET_FILES: usize = 500_000;
/// The most bytes a zip may unpack to in all: 20 GiB.
pub const MAX_UNPACKED_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// The kinds of dataset Gloss reads from a folder or zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatasetKind {
    /// Ultralytics YOLO: `data.yaml`, `images/`, `labels/` (or class
    /// folders for classification, which are told apart by `--task`).
    Yolo,
    /// Pascal VOC: `Annotations/*.xml`, `JPEGImages/`, `ImageSets/`.
    Voc,
    /// CVAT for images: XML files at the top (`annotations.xml`, or one
    /// per subset as datumaro writes them) and `images/`.
    Cvat,
    /// Segmentation PNGs with a colour map: `dataset_meta.json` beside
    /// `masks/` and `images/` (datumaro's `common_semantic_segmentation`).
    MaskPng,
    /// Videos, for a project that shows one: MOT sequences, CVAT for video,
    /// image sequences (see `gloss_formats::read_video_dataset`). Chosen by
    /// the project, not by the files.
    Video,
    /// Sounds with RTTM, WebVTT, SRT or NeMo files, for a project that shows
    /// a sound (see `gloss_formats::read_speech_dataset`). Chosen by the project.
    Speech,
}

impl DatasetKind {
    /// What the files of `source` are, by the files that mark each format.
    pub(crate) fn of(source: &FolderSource) -> Option<DatasetKind> {
        let paths = &source.paths;
        if paths.iter().any(|p| p == "data.yaml") {
            return Some(DatasetKind::Yolo);
        }
        let voc = paths
            .iter()
            .any(|p| p.starts_with("Annotations/") || p.starts_with("ImageSets/Main/"));
        if voc {
            return Some(DatasetKind::Voc);
        }
        let mask_png = paths.iter().any(|p| {
            p.strip_suffix("dataset_meta.json")
                .filter(|root| root.is_empty() || root.ends_with('/'))
                .is_some_and(|root| {
                    paths
                        .iter()
                        .any(|q| q.starts_with(&format!("{root}masks/")))
                })
        });
        if mask_png {
            return Some(DatasetKind::MaskPng);
        }
        (!source.top_level_xml().is_empty()).then_some(DatasetKind::Cvat)
    }
}

/// The files of a folder, without following symbolic links.
pub(crate) struct FolderSource {
    root: PathBuf,
    /// Relative `/`-separated paths of the regular files, sorted.
    paths: Vec<String>,
}

impl FolderSource {
    /// Lists the regular files under `root` (hidden ones, starting with a
    /// dot, are left out, as the image folder import does).
    pub(crate) fn scan(root: &Path) -> Result<FolderSource> {
        let mut paths = Vec::new();
        let mut pending = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, prefix)) = pending.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|err| {
                Error::invalid(
                    "files",
                    format!("cannot read the folder {}: {err}", dir.display()),
                )
            })?;
            for entry in entries {
                let entry = entry.map_err(|err| Error::invalid("files", err.to_string()))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let kind = entry
                    .file_type()
                    .map_err(|err| Error::invalid("files", err.to_string()))?;
                let relative = format!("{prefix}{name}");
                if kind.is_dir() {
                    pending.push((entry.path(), format!("{relative}/")));
                } else if kind.is_file() && is_safe_relative_path(&relative) {
                    paths.push(relative);
                }
                if paths.len() > MAX_DATASET_FILES {
                    return Err(Error::invalid(
                        "files",
                        format!("the dataset has more than {MAX_DATASET_FILES} files"),
                    ));
                }
            }
        }
        paths.sort();
        Ok(FolderSource {
            root: root.to_path_buf(),
            paths,
        })
    }

    /// The `.xml` files at the top of the folder (CVAT's annotation files).
    pub(crate) fn top_level_xml(&self) -> Vec<&str> {
        self.paths
            .iter()
            .filter(|p| !p.contains('/') && p.to_ascii_lowercase().ends_with(".xml"))
            .map(String::as_str)
            .collect()
    }

    /// The file's path on disk, for one of [`FileSource::paths`].
    pub(crate) fn path_of(&self, relative: &str) -> Option<PathBuf> {
        self.paths
            .binary_search_by(|p| p.as_str().cmp(relative))
            .ok()
            .map(|_| self.root.join(relative))
    }
}

impl FileSource for FolderSource {
    fn paths(&self) -> Vec<String> {
        self.paths.clone()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let file = self.path_of(path).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no file `{path}` in the dataset"),
            )
        })?;
        std::fs::read(file)
    }
}

/// Unpacks the zip at `zip_path` into the empty folder `into`.
pub(crate) fn unpack_zip(zip_path: &Path, into: &Path) -> Result<()> {
    let file = std::fs::File::open(zip_path)
        .map_err(|err| Error::invalid("files", format!("cannot open the zip: {err}")))?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|err| Error::invalid("files", format!("not a readable zip: {err}")))?;
    if archive.len() > MAX_DATASET_FILES {
        return Err(Error::invalid(
            "files",
            format!(
                "the zip has {} entries; a dataset may have at most {MAX_DATASET_FILES}",
                archive.len()
            ),
        ));
    }
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|err| Error::invalid("files", format!("zip entry {index}: {err}")))?;
        let name = entry
            .name()
            .map_err(|err| Error::invalid("files", format!("zip entry {index}: {err}")))?
            .into_owned();
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        // Only plain relative paths: no `..`, no absolute names, no backslashes.
        if !is_safe_relative_path(&name) || name.split('/').any(|part| part.starts_with('.')) {
            if name.split('/').any(|part| part == "..") || name.starts_with('/') {
                return Err(Error::invalid(
                    "files",
                    format!("zip entry `{name}` points outside the zip; nothing was imported"),
                ));
            }
            // Hidden files (`.DS_Store`, `__MACOSX/._x`) are not data.
            continue;
        }
        if name.starts_with("__MACOSX/") {
            continue;
        }
        let target = into.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| Error::internal(format!("cannot unpack the zip: {err}")))?;
        }
        let mut out = std::fs::File::create(&target)
            .map_err(|err| Error::internal(format!("cannot unpack the zip: {err}")))?;
        let left = MAX_UNPACKED_BYTES - unpacked;
        let copied = io::copy(&mut (&mut entry).take(left + 1), &mut out).map_err(|err| {
            Error::invalid("files", format!("zip entry `{name}` cannot be read: {err}"))
        })?;
        if copied > left {
            return Err(Error::invalid(
                "files",
                format!(
                    "the zip unpacks to more than {} GiB; nothing was imported",
                    MAX_UNPACKED_BYTES >> 30
                ),
            ));
        }
        unpacked += copied;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    #[test]
    fn a_zip_unpacks_and_lists_its_files() {
        let zip = zip_with(&[
            ("data.yaml", b"names: [a]\n"),
            ("images/train/x.png", b"png"),
            (".hidden", b"no"),
            ("__MACOSX/._x", b"no"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        unpack_zip(zip.path(), dir.path()).unwrap();
        let source = FolderSource::scan(dir.path()).unwrap();
        assert_eq!(source.paths(), ["data.yaml", "images/train/x.png"]);
        assert_eq!(source.read("images/train/x.png").unwrap(), b"png");
        assert!(source.read("../etc/passwd").is_err());
        assert_eq!(DatasetKind::of(&source), Some(DatasetKind::Yolo));
    }

    #[test]
    fn mask_png_is_told_by_its_meta_file_beside_masks() {
        let kind_of = |files: &[&str]| {
            let dir = tempfile::tempdir().unwrap();
            for file in files {
                let path = dir.path().join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"x").unwrap();
            }
            DatasetKind::of(&FolderSource::scan(dir.path()).unwrap())
        };
        let dataset = ["dataset_meta.json", "masks/a.png", "images/a.png"];
        assert_eq!(kind_of(&dataset), Some(DatasetKind::MaskPng));
        let subsets = ["train/dataset_meta.json", "train/masks/a.png"];
        assert_eq!(kind_of(&subsets), Some(DatasetKind::MaskPng));
        assert_eq!(kind_of(&["dataset_meta.json", "images/a.png"]), None);
    }

    #[test]
    fn a_zip_reaching_outside_is_refused() {
        for name in ["../evil.txt", "a/../../evil.txt", "/abs.txt"] {
            let zip = zip_with(&[(name, b"x")]);
            let dir = tempfile::tempdir().unwrap();
            let outside = dir.path().join("inner");
            std::fs::create_dir(&outside).unwrap();
            let err = unpack_zip(zip.path(), &outside).unwrap_err();
            assert!(
                err.message.contains("points outside the zip"),
                "{name}: {}",
                err.message
            );
            assert!(!dir.path().join("evil.txt").exists());
        }
    }
}
