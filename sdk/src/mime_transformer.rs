//! The `mime-transformer` world: MIME transforms of the e-mail channel.
//!
//! Implement [`Guest`] (`transform_inbound` and `transform_outbound`, each
//! taking the raw message and returning an [`Outcome`]) and export it with
//! [`export_mime_transformer!`](crate::export_mime_transformer). Read each
//! direction's settings with [`direction_config`], and edit header blocks
//! byte for byte with [`headers::HeaderBlock`].

world_bindings!(
    "mime-transformer",
    "export_mime_transformer",
    "parley_sdk::mime_transformer::bindings"
);

pub mod headers;

pub use bindings::exports::parley::plugin::mime_transform::{
    Failure, FailureAction, Guest, Outcome,
};

use crate::Error;
use serde::de::DeserializeOwned;

/// Which way a message is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A received message (`transform-inbound`).
    Inbound,
    /// A message about to be sent (`transform-outbound`).
    Outbound,
}

impl Direction {
    /// The `[config]` key holding this direction's settings: `inbound` or
    /// `outbound`.
    pub fn config_key(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// This direction's settings: the manifest's `[config.inbound]` or
/// `[config.outbound]` table decoded into `T`, or `T::default()` when the
/// table is absent. A table that does not decode is an error naming it.
pub fn direction_config<T: DeserializeOwned + Default>(direction: Direction) -> Result<T, Error> {
    Ok(crate::config::json(direction.config_key())?.unwrap_or_default())
}

impl Outcome {
    /// A failed transform with its reason and what the host should do with
    /// an inbound message (outbound, the host sends the original).
    pub fn failed(reason: impl Into<String>, action: FailureAction) -> Self {
        Outcome::Failed(Failure {
            reason: reason.into(),
            action,
        })
    }

    /// `transformed(message)`, or `unchanged` when there is no new message.
    pub fn transformed_or_unchanged(message: Option<Vec<u8>>) -> Self {
        message.map_or(Outcome::Unchanged, Outcome::Transformed)
    }
}
