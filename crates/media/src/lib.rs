//! Media bytes (images, audio, video, uploaded files) in an object store: a
//! local folder by default, S3-compatible storage later, both through the
//! `object_store` crate.
//!
//! Objects are content-addressed: the key is the SHA-256 of the bytes, so a
//! file name from a user never becomes a path, the same file is stored once,
//! and an object never changes after it is written (which is what makes a
//! backup taken beside a running server consistent).
//!
//! This crate owns everything about the bytes themselves:
//! - storing and reading them ([`MediaStore`], [`MediaKey`]);
//! - taking uploads of any size in constant memory, within limits
//!   ([`MediaStore::put_stream`], [`UploadLimits`], [`Stored`]);
//! - telling what they are from their content, never from a file name
//!   ([`sniff`], [`MediaKind`]);
//! - reading image sizes from headers without decoding pixels, refusing
//!   decompression bombs ([`probe_image`]);
//! - the frame times of videos ([`probe_video_file`]) and the waveform peaks
//!   of sounds ([`audio_peaks_file`]);
//! - fetching media from URLs without letting a URL reach the server's own
//!   network ([`Fetcher`], [`FetchPolicy`]).
//!
//! It knows nothing about the database, projects or serving HTTP.

mod audio;
mod error;
mod fetch;
mod key;
mod probe;
mod sniff;
mod store;
mod upload;
mod video;

pub use audio::{audio_peaks_file, AudioPeaks, MAX_AUDIO_SECONDS, PEAKS_PER_SECOND};
pub use error::{Error, Result};
pub use fetch::{Answer, FetchPolicy, Fetcher, IpNet};
pub use key::MediaKey;
pub use probe::{probe_image, probe_image_file, ImageInfo, ImageLimits, DEFAULT_MAX_IMAGE_PIXELS};
pub use sniff::{sniff, MediaKind, SNIFF_LEN};
pub use store::MediaStore;
pub use upload::{Stored, UploadLimits};
pub use video::{
    probe_video_file, probe_video_samples, VideoFrames, VideoSamples, MAX_INDEXED_FRAMES,
};
