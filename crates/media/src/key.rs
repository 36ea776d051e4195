//! Content addresses: the key of an object is the SHA-256 of its bytes.

use crate::{Error, Result};
use object_store::path::Path;
use sha2::{Digest, Sha256};
use std::fmt;

/// The key of a media object: the lowercase hex SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MediaKey(String);

impl MediaKey {
    pub fn of(bytes: &[u8]) -> MediaKey {
        MediaKey::from_digest(Sha256::digest(bytes).as_slice())
    }

    /// The key for a hash computed piece by piece (a streamed upload).
    pub(crate) fn from_digest(digest: &[u8]) -> MediaKey {
        MediaKey(hex::encode(digest))
    }

    /// Accepts only what [`MediaKey::of`] produces: 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<MediaKey> {
        let is_hash = text.len() == 64
            && text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if is_hash {
            Ok(MediaKey(text.to_string()))
        } else {
            Err(Error::BadKey(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Objects are spread over 256 folders so that no folder grows huge.
    pub(crate) fn path(&self) -> Path {
        Path::from(format!("{}/{}", &self.0[..2], self.0))
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_never_paths() {
        assert!(MediaKey::parse("../../etc/passwd").is_err());
        assert!(MediaKey::parse(&"A".repeat(64)).is_err());
    }

    #[test]
    fn key_is_the_sha256() {
        assert_eq!(
            MediaKey::of(b"hello").as_str(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }
}
