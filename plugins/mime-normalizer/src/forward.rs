//! Messages forwarded as an attachment: an outer message, written by
//! whoever forwarded it (a person, or a mail rule), whose real content is
//! one attached `message/rfc822` part.
//!
//! A message counts as such a forward when its own parts (the attached
//! message's parts aside) are exactly one attached message, text of at
//! most `max-own-text` characters (whitespace and a plain-text signature
//! after a `-- ` line not counted; HTML counted as the text it shows) and
//! inline images (signature logos). Any other attachment, a second
//! attached message or more text means the forwarder added content of
//! their own, and the message stays as it is.

use mail_parser::{Encoding, MessageParser, MessagePart, MimeHeaders, PartType};
use std::borrow::Cow;

/// The raw bytes of the message forwarded as an attachment in `mime`, if
/// `mime` is such a forward: a slice of `mime` as it was, or the decoded
/// bytes when the attached message was transfer-encoded.
pub fn forwarded_message(mime: &[u8], max_own_text: usize) -> Option<Cow<'_, [u8]>> {
    let message = MessageParser::default().parse(mime)?;
    let mut forwarded = None;
    let (mut plain, mut html, mut has_plain) = (0, 0, false);
    for part in &message.parts {
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => {
                if forwarded.replace((part, inner)).is_some() {
                    return None;
                }
            }
            PartType::Binary(_) | PartType::InlineBinary(_) if is_inline_image(part) => {}
            _ if is_attachment(part) => return None,
            PartType::Text(text) => {
                has_plain = true;
                plain += plain_text_len(text);
            }
            PartType::Html(text) => html += html_text_len(text),
            PartType::Binary(_) | PartType::InlineBinary(_) => return None,
        }
    }
    let (part, inner) = forwarded?;
    if (if has_plain { plain } else { html }) > max_own_text {
        return None;
    }
    Some(match part.encoding {
        Encoding::None => {
            Cow::Borrowed(mime.get(part.offset_body as usize..part.offset_end as usize)?)
        }
        _ => Cow::Owned(inner.raw_message.to_vec()),
    })
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.is_attachment())
        || part.attachment_name().is_some()
}

/// An image shown inside the text (a signature logo): inline, or referred
/// to by a Content-ID, and not an attachment.
fn is_inline_image(part: &MessagePart<'_>) -> bool {
    let image = part
        .content_type()
        .is_some_and(|t| t.ctype().eq_ignore_ascii_case("image"));
    let disposition = part.content_disposition();
    image
        && !disposition.is_some_and(|d| d.is_attachment())
        && (part.content_id().is_some() || disposition.is_some_and(|d| d.is_inline()))
}

/// Characters of plain text, whitespace and the signature (from a `-- `
/// line on) not counted.
fn plain_text_len(text: &str) -> usize {
    let mut count = 0;
    for line in text.lines() {
        if line == "-- " || line == "--" {
            break;
        }
        count += line.chars().filter(|c| !c.is_whitespace()).count();
    }
    count
}

/// Elements whose content is not shown as text.
const HIDDEN: [&str; 4] = ["head", "style", "script", "title"];

/// Characters of text an HTML body shows: tags, comments, the content of
/// [`HIDDEN`] elements and whitespace (`&nbsp;` included) not counted, an
/// entity counted as one character.
fn html_text_len(html: &str) -> usize {
    // ASCII lowercasing keeps every byte offset.
    let lower = html.to_ascii_lowercase();
    let mut count = 0;
    let mut i = 0;
    let after = |from: usize, end: &str| {
        lower[from..]
            .find(end)
            .map_or(lower.len(), |at| from + at + end.len())
    };
    while i < lower.len() {
        let rest = &lower[i..];
        if rest.starts_with("<!--") {
            i = after(i, "-->");
        } else if let Some(element) = HIDDEN.iter().find(|e| {
            rest.strip_prefix('<')
                .and_then(|r| r.strip_prefix(*e))
                .is_some_and(|r| r.starts_with(['>', ' ', '\t', '\r', '\n', '/']))
        }) {
            i = after(after(i, &format!("</{element}")), ">");
        } else if rest.starts_with('<') {
            i = after(i, ">");
        } else if let Some(semicolon) = rest
            .starts_with('&')
            .then(|| rest.bytes().take(12).position(|b| b == b';'))
            .flatten()
        {
            let end = i + semicolon + 1;
            if !matches!(&lower[i..end], "&nbsp;" | "&#160;" | "&#xa0;") {
                count += 1;
            }
            i = end;
        } else {
            let c = html[i..].chars().next().unwrap_or(' ');
            if !c.is_whitespace() {
                count += 1;
            }
            i += c.len_utf8();
        }
    }
    count
}
