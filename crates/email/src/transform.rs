//! The `mime-transformer` plugins of `[email.mime]`: on the way in before
//! a message is parsed and stored, on the way out before it is sent. A
//! plugin that fails without naming an action, traps or is missing never
//! stops mail: the message goes on as it was (and the failure is logged).

use super::settings::MimeSettings;
use parley_plugin::{Direction, FailureAction, MimeOutcome, Registry};
use parley_store::email::MimeKind;

/// What the inbound transform decided.
pub enum Inbound {
    /// Take in `bytes`; `kept` are copies to store besides it.
    Use {
        /// The message to parse and store.
        bytes: Vec<u8>,
        /// The original, when it changed and is to be kept.
        kept: Vec<(MimeKind, Vec<u8>)>,
    },
    /// Leave the message where it is and try again later.
    Later,
    /// Keep the message as badly formatted.
    BadFormat {
        /// Why.
        reason: String,
        /// The message as received.
        raw: Vec<u8>,
    },
}

/// Runs the inbound plugin, if one is configured, on `raw`.
pub async fn inbound(registry: &Registry, settings: &MimeSettings, raw: Vec<u8>) -> Inbound {
    let unchanged = |raw| Inbound::Use {
        bytes: raw,
        kept: Vec::new(),
    };
    let Some(name) = &settings.inbound else {
        return unchanged(raw);
    };
    match call(registry, name, Direction::Inbound, &raw).await {
        Some(MimeOutcome::Transformed(bytes)) => Inbound::Use {
            bytes,
            kept: if settings.inbound_keep_received_mime {
                vec![(MimeKind::Original, raw)]
            } else {
                Vec::new()
            },
        },
        Some(MimeOutcome::Failed { reason, action }) => match action {
            FailureAction::Retry => {
                tracing::info!(plugin = %name, "the inbound MIME transform asks to retry later: {reason}");
                Inbound::Later
            }
            FailureAction::Bypass => unchanged(raw),
            FailureAction::BadFormat => Inbound::BadFormat {
                reason: format!("the MIME transform `{name}` refused it: {reason}"),
                raw,
            },
        },
        Some(MimeOutcome::Unchanged) | None => unchanged(raw),
    }
}

/// Runs the outbound plugin, if one is configured, on `mime`: the bytes to
/// send and the copies to keep (the sent copy always; the original too
/// when it changed and `outbound-keep-sent-mime` says so).
pub async fn outbound(
    registry: &Registry,
    settings: &MimeSettings,
    mime: Vec<u8>,
) -> (Vec<u8>, Vec<(MimeKind, Vec<u8>)>) {
    let transformed = match &settings.outbound {
        Some(name) => match call(registry, name, Direction::Outbound, &mime).await {
            Some(MimeOutcome::Transformed(bytes)) => Some(bytes),
            Some(MimeOutcome::Failed { reason, .. }) => {
                tracing::warn!(plugin = %name, "the outbound MIME transform failed; the original is sent: {reason}");
                None
            }
            _ => None,
        },
        None => None,
    };
    match transformed {
        Some(bytes) => {
            let mut kept = vec![(MimeKind::Sent, bytes.clone())];
            if settings.outbound_keep_sent_mime {
                kept.push((MimeKind::Original, mime));
            }
            (bytes, kept)
        }
        None => (mime.clone(), vec![(MimeKind::Sent, mime)]),
    }
}

/// Calls plugin `name`; `None` (logged) if it is missing or failed.
async fn call(
    registry: &Registry,
    name: &str,
    direction: Direction,
    mime: &[u8],
) -> Option<MimeOutcome> {
    let version = match registry.get(name) {
        Ok(version) => version,
        Err(err) => {
            tracing::warn!(plugin = %name, "no MIME transform; the message goes on unchanged: {err}");
            return None;
        }
    };
    match version.transform_mime(direction, mime).await {
        Ok(called) => Some(called.value),
        Err(err) => {
            tracing::warn!(plugin = %name, "the MIME transform failed; the message goes on unchanged: {err}");
            None
        }
    }
}
