//! Media types and channels. An interaction's media type names the
//! channel that keeps its content (a chat's transcript, an e-mail's
//! messages); any other name an API client submits (`workitem`, `fax`...)
//! is an interaction with no channel content. Code that does something per
//! channel matches on [`Channel`] (or [`Media`]) without a wildcard, so a
//! new channel is a compile error wherever it has a part to play.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares the channels: each becomes a variant of [`Channel`] and of
/// [`Media`] with its wire name, so the list of channels, their names and
/// the media types come from this one list.
macro_rules! channels {
    ($($(#[$doc:meta])* $variant:ident => $name:literal),* $(,)?) => {
        /// A channel: a media type whose interactions have content of their
        /// own, kept and shown by that channel's parts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Channel {
            $($(#[$doc])* $variant,)*
        }

        impl Channel {
            /// Every channel.
            pub const ALL: &[Channel] = &[$(Channel::$variant),*];

            /// Its media type's name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Channel::$variant => $name,)*
                }
            }

            /// Its media type.
            pub fn media(self) -> Media {
                match self {
                    $(Channel::$variant => Media::$variant,)*
                }
            }
        }

        /// The media type of an interaction (kebab-case on the wire).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Media {
            $($(#[$doc])* $variant,)*
            /// A media type no channel keeps content for, by its name.
            Other(String),
        }

        impl Media {
            /// The media type called `name`.
            pub fn parse(name: &str) -> Media {
                match name {
                    $($name => Media::$variant,)*
                    other => Media::Other(other.to_string()),
                }
            }

            /// Its name on the wire and in the store.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Media::$variant => $name,)*
                    Media::Other(name) => name,
                }
            }

            /// Its channel, if it has one.
            pub fn channel(&self) -> Option<Channel> {
                match self {
                    $(Media::$variant => Some(Channel::$variant),)*
                    Media::Other(_) => None,
                }
            }
        }
    };
}

channels! {
    /// Web chat: a conversation with a transcript.
    Chat => "chat",
    /// E-mail: received and sent messages with attachments.
    Email => "email",
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
        for channel in Channel::ALL {
            assert_eq!(channel.media().channel(), Some(*channel));
            assert_eq!(Media::parse(channel.as_str()), channel.media());
        }
        assert_eq!(Media::Other("fax".into()).channel(), None);
        assert_eq!(
            serde_json::to_string(&Media::Chat).unwrap(),
            "\"chat\"".to_string()
        );
    }
}
