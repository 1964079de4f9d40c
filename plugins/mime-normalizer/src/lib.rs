//! Reference MIME transformer for Parley's e-mail channel.
//!
//! Inbound, a message whose real content is another message forwarded as
//! an attachment (see [`forward`]) is unwrapped: the forwarded message's
//! headers and body, but the forwarder stays the sender (`From` and
//! `Reply-To` are the outer message's, so replies and acknowledgements go
//! to whoever wrote to us, never to a third party), with the forwarded
//! message's author kept as context in `X-Original-From` and the outer
//! `Message-ID` in `X-Forwarded-Message-Id`; then the configured headers
//! are dropped and added. Outbound, the configured headers are
//! dropped and added. Only header blocks change, or the inner message is
//! cut out as it was: line endings and bodies stay byte for byte. A
//! message needing none of this is `unchanged`; input that is not an
//! e-mail message fails with `bad-format`.
//!
//! Configuration ([`settings`]), per direction:
//!
//! ```toml
//! [config.inbound]
//! unwrap-forwarded = true        # default true
//! max-own-text = 80              # characters the forwarder may write, default 80
//! drop-headers = ["X-Spam-*", "X-Mailer"]
//!
//! [config.outbound]
//! add-headers = { Organization = "Example Corp" }
//! drop-headers = ["X-Internal-*"]
//! ```

pub mod forward;
pub mod settings;

use parley_sdk::mime_transformer::headers::HeaderBlock;
use parley_sdk::mime_transformer::{Direction, FailureAction, Guest, Outcome, direction_config};
use parley_sdk::prelude::*;
use settings::{HeaderRules, Inbound, Outbound};

/// The exported transformer.
pub struct MimeNormalizer;

/// Header fields of which an e-mail message has at least one; a header
/// block with none of them is not an e-mail message.
const MAIL_FIELDS: [&str; 8] = [
    "From",
    "Sender",
    "Date",
    "Message-ID",
    "Received",
    "Return-Path",
    "MIME-Version",
    "Content-Type",
];

/// The header block of `mime`, if it is an e-mail message.
fn message_headers(mime: &[u8]) -> Result<HeaderBlock<'_>, String> {
    let block = HeaderBlock::parse(mime).map_err(|e| e.message)?;
    if !MAIL_FIELDS.iter().any(|name| block.get(name).is_some()) {
        return Err(format!(
            "not an e-mail message: its header block has none of {}",
            MAIL_FIELDS.join(", ")
        ));
    }
    Ok(block)
}

/// Applies `rules` to the message in `block`, after replacing the `top`
/// fields: each named field is removed, and, with a value, written at the
/// top instead. `None` when nothing changes.
fn rewrite(
    block: &HeaderBlock<'_>,
    top: &[(&str, Option<String>)],
    rules: &HeaderRules,
) -> Result<Option<Vec<u8>>, Error> {
    let mut edit = block.edit();
    for (name, value) in top {
        edit.remove(name);
        if let Some(value) = value {
            edit.prepend(name, value)?;
        }
    }
    for pattern in &rules.drop_headers {
        edit.remove(pattern);
    }
    for (name, value) in &rules.add_headers {
        let present: Vec<_> = block
            .fields()
            .iter()
            .filter(|f| f.name().eq_ignore_ascii_case(name))
            .collect();
        let kept = matches!(present.as_slice(), [field] if field.value() == value.trim());
        if !kept {
            edit.remove(name);
            edit.append(name, value)?;
        }
    }
    Ok(edit.changed().then(|| edit.finish()))
}

fn transform_inbound(mime: &[u8]) -> Outcome {
    let settings: Inbound = match direction_config(Direction::Inbound) {
        Ok(settings) => settings,
        Err(e) => return Outcome::failed(e.message, FailureAction::Retry),
    };
    let outer = match message_headers(mime) {
        Ok(block) => block,
        Err(reason) => return Outcome::failed(reason, FailureAction::BadFormat),
    };
    let inner = settings
        .unwrap_forwarded
        .then(|| forward::forwarded_message(mime, settings.max_own_text))
        .flatten();
    let result = match &inner {
        Some(inner) => match message_headers(inner) {
            Ok(block) => {
                let value =
                    |block: &HeaderBlock<'_>, name: &str| block.get(name).map(|f| f.value());
                let recorded = [
                    ("From", value(&outer, "From")),
                    ("Reply-To", value(&outer, "Reply-To")),
                    ("Sender", None),
                    ("X-Original-From", value(&block, "From")),
                    ("X-Forwarded-Message-Id", value(&outer, "Message-ID")),
                ];
                log::with_fields(
                    log::Level::Debug,
                    "unwrapped a message forwarded as an attachment",
                    &[("bytes", &inner.len().to_string())],
                );
                rewrite(&block, &recorded, &settings.headers)
                    .map(|edited| Some(edited.unwrap_or_else(|| inner.to_vec())))
            }
            Err(_) => rewrite(&outer, &[], &settings.headers),
        },
        None => rewrite(&outer, &[], &settings.headers),
    };
    match result {
        Ok(message) => Outcome::transformed_or_unchanged(message),
        Err(e) => Outcome::failed(e.message, FailureAction::Retry),
    }
}

fn transform_outbound(mime: &[u8]) -> Outcome {
    let settings: Outbound = match direction_config(Direction::Outbound) {
        Ok(settings) => settings,
        Err(e) => return Outcome::failed(e.message, FailureAction::Bypass),
    };
    if settings.headers.is_empty() {
        return Outcome::Unchanged;
    }
    let result = message_headers(mime)
        .map_err(Error::invalid_input)
        .and_then(|block| rewrite(&block, &[], &settings.headers));
    match result {
        Ok(message) => Outcome::transformed_or_unchanged(message),
        Err(e) => Outcome::failed(e.message, FailureAction::Bypass),
    }
}

impl Guest for MimeNormalizer {
    fn transform_inbound(mime: Vec<u8>) -> Outcome {
        transform_inbound(&mime)
    }

    fn transform_outbound(mime: Vec<u8>) -> Outcome {
        transform_outbound(&mime)
    }
}

parley_sdk::export_mime_transformer!(MimeNormalizer);
