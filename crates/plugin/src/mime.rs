//! Typed calls into MIME transformers (the `mime-transformer` world), with
//! the host's checks on what comes back: a transformed message is
//! untrusted input like any other.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::bindings::MimeTransformGuest;
use super::bindings::mime_transform::{self, Outcome};
use super::calls::check_text;
use super::error::PluginError;
use super::version::{Called, Guest, GuestExports, PluginVersion};
use super::world::World;

/// The least the host accepts as a transformed message's size limit,
/// whatever the input's size: 25 MiB, the e-mail channel's default
/// message size limit.
pub const MIN_OUTPUT_LIMIT: usize = 25 << 20;

/// Which way a message is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A received message, before it is parsed and stored.
    Inbound,
    /// A message about to be sent.
    Outbound,
}

impl Direction {
    /// The exported function that transforms messages going this way.
    pub fn function(self) -> &'static str {
        match self {
            Direction::Inbound => "transform-inbound",
            Direction::Outbound => "transform-outbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        })
    }
}

/// What the host does with an inbound message whose transform failed.
/// Outbound, a failed transform always means the original is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureAction {
    /// Keep the message aside and transform it again later.
    Retry,
    /// Take the message in as received, untransformed.
    Bypass,
    /// Treat the message as badly formatted.
    BadFormat,
}

impl From<mime_transform::FailureAction> for FailureAction {
    fn from(action: mime_transform::FailureAction) -> Self {
        match action {
            mime_transform::FailureAction::Retry => FailureAction::Retry,
            mime_transform::FailureAction::Bypass => FailureAction::Bypass,
            mime_transform::FailureAction::BadFormat => FailureAction::BadFormat,
        }
    }
}

/// The checked outcome of a transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MimeOutcome {
    /// Use the message as it is.
    Unchanged,
    /// Use this message instead: not empty, within the size limit and
    /// different from the input.
    Transformed(Vec<u8>),
    /// The plugin could not transform the message. `action` says what to
    /// do with an inbound message; outbound, the original is sent.
    Failed {
        /// Why, from the plugin (not empty, at most 4 KiB).
        reason: String,
        /// What to do with an inbound message.
        action: FailureAction,
    },
}

/// The largest transformed message the host accepts for an input of
/// `input_len` bytes: twice the input or [`MIN_OUTPUT_LIMIT`], whichever
/// is more.
pub fn output_limit(input_len: usize) -> usize {
    input_len.saturating_mul(2).max(MIN_OUTPUT_LIMIT)
}

/// The host's rules for a transform's outcome, given the input message.
pub fn check_outcome(outcome: Outcome, input: &[u8]) -> Result<MimeOutcome, String> {
    Ok(match outcome {
        Outcome::Unchanged => MimeOutcome::Unchanged,
        Outcome::Transformed(output) => {
            let limit = output_limit(input.len());
            if output.iter().all(u8::is_ascii_whitespace) {
                return Err("returned an empty transformed message".into());
            }
            if output.len() > limit {
                return Err(format!(
                    "returned a transformed message of {} bytes (at most {limit} for an input of {} bytes)",
                    output.len(),
                    input.len()
                ));
            }
            if output == input {
                MimeOutcome::Unchanged
            } else {
                MimeOutcome::Transformed(output)
            }
        }
        Outcome::Failed(failure) => {
            check_text("failure reason", &failure.reason)?;
            MimeOutcome::Failed {
                reason: failure.reason,
                action: failure.action.into(),
            }
        }
    })
}

/// A MIME transformer's functions; the version's world was checked
/// before the call ([`PluginVersion::expect_world`]).
fn mime_transformer(guest: &Guest) -> wasmtime::Result<&MimeTransformGuest> {
    match &guest.exports {
        GuestExports::MimeTransformer(functions) => Ok(functions),
        _ => wasmtime::bail!("not a mime-transformer"),
    }
}

impl PluginVersion {
    /// `mime-transform.transform-inbound` or `transform-outbound`:
    /// transforms one raw message. A trap, timeout, memory or fuel
    /// exhaustion, or output the host refuses (see [`check_outcome`]) is a
    /// [`PluginError`]; the caller decides what to do with the message.
    pub async fn transform_mime(
        &self,
        direction: Direction,
        mime: &[u8],
    ) -> Result<Called<MimeOutcome>, PluginError> {
        self.expect_world(World::MimeTransformer)?;
        let called = self
            .call(async |store, guest| {
                let functions = mime_transformer(guest)?;
                match direction {
                    Direction::Inbound => functions.transform_inbound(store, mime).await,
                    Direction::Outbound => functions.transform_outbound(store, mime).await,
                }
            })
            .await?;
        called.try_map(|outcome| check_outcome(outcome, mime).map_err(|m| self.invalid(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mime_transform::{Failure, FailureAction as Action};

    const INPUT: &[u8] = b"From: a@example.com\r\n\r\nhello\r\n";

    #[test]
    fn output_equal_to_the_input_is_unchanged() {
        assert_eq!(
            check_outcome(Outcome::Transformed(INPUT.to_vec()), INPUT),
            Ok(MimeOutcome::Unchanged)
        );
        let other = b"From: b@example.com\r\n\r\nhello\r\n".to_vec();
        assert_eq!(
            check_outcome(Outcome::Transformed(other.clone()), INPUT),
            Ok(MimeOutcome::Transformed(other))
        );
    }

    #[test]
    fn empty_or_oversized_output_is_refused() {
        for empty in [&b""[..], b" \r\n\r\n"] {
            let err = check_outcome(Outcome::Transformed(empty.to_vec()), INPUT).unwrap_err();
            assert!(err.contains("empty"), "{err}");
        }
        let huge = vec![b'x'; MIN_OUTPUT_LIMIT + 1];
        let err = check_outcome(Outcome::Transformed(huge), INPUT).unwrap_err();
        assert!(err.contains("at most 26214400"), "{err}");
        // A large input may grow up to twice its size.
        let input = vec![b'y'; MIN_OUTPUT_LIMIT];
        let doubled = vec![b'x'; 2 * MIN_OUTPUT_LIMIT];
        assert!(check_outcome(Outcome::Transformed(doubled), &input).is_ok());
    }

    #[test]
    fn failures_need_a_reason_and_keep_their_action() {
        let failed = |reason: &str, action| {
            check_outcome(
                Outcome::Failed(Failure {
                    reason: reason.into(),
                    action,
                }),
                INPUT,
            )
        };
        assert_eq!(
            failed("no MIME", Action::BadFormat),
            Ok(MimeOutcome::Failed {
                reason: "no MIME".into(),
                action: FailureAction::BadFormat
            })
        );
        assert!(failed(" ", Action::Retry).unwrap_err().contains("empty"));
        assert!(
            failed(&"x".repeat(5000), Action::Bypass)
                .unwrap_err()
                .contains("over 4096")
        );
    }
}
