//! Serving stored media to the people allowed to see it.

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::import::media_url;
use crate::Engine;
use bytes::Bytes;
use futures::stream::BoxStream;
use gloss_media::MediaKey;
use gloss_types::MediaRecord;

/// A media object ready to be sent.
pub struct MediaDownload {
    pub record: MediaRecord,
    pub body: BoxStream<'static, gloss_media::Result<Bytes>>,
    /// Whether a browser should save it rather than show it: everything but
    /// images, audio and video, so that an uploaded HTML or SVG file can
    /// never run as a page of Gloss.
    pub attachment: bool,
}

impl Engine {
    /// A media object, if the caller is a member of a project that uses it
    /// (admins: any project). Anything else is "not found", like a key that
    /// does not exist, so keys reveal nothing.
    pub async fn media_download(&self, actor: &Actor, key: &str) -> Result<MediaDownload> {
        let key = MediaKey::parse(key).map_err(|_| Error::not_found("media"))?;
        let user = match actor {
            Actor::User(user) if !actor.is_admin() => Some(user.id),
            _ => None,
        };
        let row = self
            .store
            .visible_media(key.as_str(), user)
            .await?
            .ok_or_else(|| Error::not_found("media"))?;
        let body = self.media.stream(&key).await?;
        let content_type = row.media.content_type.clone();
        let attachment = !(content_type.starts_with("image/") && content_type != "image/svg+xml"
            || content_type.starts_with("audio/")
            || content_type.starts_with("video/"));
        Ok(MediaDownload {
            record: MediaRecord {
                url: media_url(&row.media.key),
                key: row.media.key,
                content_type,
                size: row.media.size,
                width: row.media.width,
                height: row.media.height,
                file_name: row.file_name,
            },
            body,
            attachment,
        })
    }
}
