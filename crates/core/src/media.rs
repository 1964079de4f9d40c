//! Media types. An interaction's media type names the channel that keeps
//! its content (a chat's transcript, an e-mail's messages); any other name
//! an API client submits (`workitem`, `fax`...) is an interaction with no
//! channel content. Code that does something per channel matches on
//! [`Media`] without a wildcard, so a new variant is a compile error
//! wherever its channel has a part to play.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The media type of an interaction (kebab-case on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Media {
    /// Web chat: a conversation with a transcript.
    Chat,
    /// E-mail: received and sent messages with attachments.
    Email,
    /// A media type no channel keeps content for, by its name.
    Other(String),
}

impl Media {
    /// The media type called `name`.
    pub fn parse(name: &str) -> Media {
        match name {
            "chat" => Media::Chat,
            "email" => Media::Email,
            other => Media::Other(other.to_string()),
        }
    }

    /// Its name on the wire and in the store.
    pub fn as_str(&self) -> &str {
        match self {
            Media::Chat => "chat",
            Media::Email => "email",
            Media::Other(name) => name,
        }
    }
}

impl fmt::Display for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Media> for String {
    fn from(media: Media) -> String {
        media.as_str().to_string()
    }
}

impl Serialize for Media {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Media {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Media, D::Error> {
        Ok(Media::parse(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["chat", "email", "workitem"] {
            assert_eq!(Media::parse(name).as_str(), name);
        }
        assert_eq!(Media::parse("email"), Media::Email);
        assert_eq!(Media::parse("sms"), Media::Other("sms".into()));
        assert_eq!(
            serde_json::to_string(&Media::Chat).unwrap(),
            "\"chat\"".to_string()
        );
    }
}
