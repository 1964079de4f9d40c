//! Raw MIME to what the e-mail channel stores and shows: addresses,
//! subject, threading headers, text and HTML bodies (any charset, any
//! transfer encoding), attachments and inline images, forwarded messages.
//! Hostile input is refused with a reason, never half-read: over-large
//! messages or header blocks, too many parts, attachments that decode to
//! more than the message may hold.

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

/// Limits a message must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest raw message, bytes.
    pub max_bytes: usize,
    /// Largest header block (before the first empty line), bytes.
    pub max_header_bytes: usize,
    /// Most MIME parts.
    pub max_parts: usize,
    /// Most bytes all parts may decode to.
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 25 << 20,
            max_header_bytes: 256 << 10,
            max_parts: 500,
            max_decoded_bytes: 100 << 20,
        }
    }
}

/// Why a message cannot be taken in as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Larger than the limit.
    #[error("the message has {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    /// A header block larger than the limit.
    #[error("the header block is larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    /// More parts than the limit.
    #[error("the message has {parts} MIME parts; the limit is {limit}")]
    TooManyParts {
        /// How many.
        parts: usize,
        limit: usize,
    },
    /// Its parts decode to more than the limit (a bomb, or a mistake).
    #[error("the message's parts decode to more than {limit} bytes")]
    DecodesTooLarge { limit: usize },
    /// Not a MIME message at all.
    #[error("not an e-mail message: {0}")]
    NotMime(String),
}

/// A mailbox: display name and address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Mailbox {
    /// Display name, decoded.
    pub name: Option<String>,
    /// Address, lower case.
    pub address: String,
}

/// An attachment or inline part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Attachment {
    /// File name, if it has one.
    pub name: Option<String>,
    /// Media type, e.g. `image/png` or `message/rfc822`.
    pub content_type: String,
    /// `Content-ID`, for inline images the HTML refers to (`cid:`).
    pub content_id: Option<String>,
    /// Shown inline rather than offered as a file.
    pub inline: bool,
    /// Decoded bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Size of `data`.
    pub size: usize,
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Email {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids.
    pub in_reply_to: Vec<String>,
    /// `References` ids, oldest first.
    pub references: Vec<String>,
    /// Sender.
    pub from: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// Recipients.
    pub to: Vec<Mailbox>,
    /// Copies.
    pub cc: Vec<Mailbox>,
    /// Subject, decoded.
    pub subject: Option<String>,
    /// `Date`, ms since the Unix epoch.
    pub date: Option<i64>,
    /// Plain text body (converted from HTML when there is only HTML).
    pub text: Option<String>,
    /// HTML body, when there is one.
    pub html: Option<String>,
    /// Attachments and inline parts, forwarded messages among them.
    pub attachments: Vec<Attachment>,
    /// Sent by a program, not a person (`Auto-Submitted`, bulk or list
    /// `Precedence`, `List-Id`, a mailer daemon): never answered
    /// automatically (RFC 3834).
    pub automatic: bool,
    /// Why a machine wrote it in answer to something, if one did: a report
    /// (RFC 3464 delivery status, RFC 8098 disposition), an auto-reply
    /// (RFC 3834 `Auto-Submitted: auto-replied`, the usual vendor headers
    /// and out-of-office subjects) or a mailer daemon's message. Such mail
    /// is kept but not queued to agents.
    pub machine: Option<String>,
    /// `report-type` of a `multipart/report` (`delivery-status` for a
    /// bounce).
    pub report_type: Option<String>,
}

impl Email {
    /// The ids this message may be threaded to, the most direct first:
    /// `In-Reply-To`, then `References` newest to oldest.
    pub fn thread_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.in_reply_to.iter().map(String::as_str).collect();
        for id in self.references.iter().rev() {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        ids
    }
}

fn header_end(raw: &[u8]) -> usize {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|list| list.iter().map(|id| id.to_string()).collect())
        .unwrap_or_default()
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|m| match m.address() {
                    Some(address) => Some(Mailbox {
                        name: m.name().map(str::to_string),
                        address: address.to_ascii_lowercase(),
                    }),
                    // Some mailers encode the whole `Name <address>` as one
                    // RFC 2047 encoded-word, which decodes to a name only:
                    // read the decoded text as an address, as mail clients do.
                    None => m.name().and_then(decoded_mailbox),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The mailbox written in `text` (`Name <address>` or a bare address).
fn decoded_mailbox(text: &str) -> Option<Mailbox> {
    if text.contains(['\r', '\n']) {
        return None;
    }
    let header = format!("From: {text}\r\n\r\n");
    let message = MessageParser::default().parse(header.as_bytes())?;
    let first = message.from()?.first()?;
    Some(Mailbox {
        name: first.name().map(str::to_string),
        address: first.address()?.to_ascii_lowercase(),
    })
}

/// Parses `raw` within `limits`.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<Email, Malformed> {
    if raw.len() > limits.max_bytes {
        return Err(Malformed::TooLarge {
            size: raw.len(),
            limit: limits.max_bytes,
        });
    }
    if header_end(raw) > limits.max_header_bytes {
        return Err(Malformed::HeadersTooLarge {
            limit: limits.max_header_bytes,
        });
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| Malformed::NotMime("no header could be read".into()))?;
    // A message has at least one header it is known by (a lenient parser
    // takes any first line for a header).
    let known = message
        .headers()
        .iter()
        .any(|h| !matches!(h.name, HeaderName::Other(_)));
    if !known {
        return Err(Malformed::NotMime("it has no e-mail headers".into()));
    }
    if message.parts.len() > limits.max_parts {
        return Err(Malformed::TooManyParts {
            parts: message.parts.len(),
            limit: limits.max_parts,
        });
    }
    let decoded: usize = message.parts.iter().map(|p| p.len()).sum();
    if decoded > limits.max_decoded_bytes {
        return Err(Malformed::DecodesTooLarge {
            limit: limits.max_decoded_bytes,
        });
    }
    let attachments = message
        .attachments()
        .map(|part| {
            let data = part.contents().to_vec();
            Attachment {
                name: part.attachment_name().map(str::to_string),
                content_type: part.content_type().map_or_else(
                    || "application/octet-stream".to_string(),
                    |ct| match ct.subtype() {
                        Some(sub) => format!("{}/{sub}", ct.ctype()),
                        None => ct.ctype().to_string(),
                    },
                ),
                content_id: part
                    .content_id()
                    .map(|id| id.trim_matches(['<', '>']).to_string()),
                inline: part
                    .content_disposition()
                    .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline")),
                size: data.len(),
                data,
            }
        })
        .collect();
    Ok(Email {
        message_id: message.message_id().map(str::to_string),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        from: mailboxes(message.from()).into_iter().next(),
        reply_to: mailboxes(message.reply_to()),
        to: mailboxes(message.to()),
        cc: mailboxes(message.cc()),
        subject: message.subject().map(str::to_string),
        date: message.date().map(|d| d.to_timestamp() * 1000),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .filter(|t| !t.trim().is_empty())
            .or_else(|| readable_part(&message)),
        // Only a real HTML part (the parser renders text as HTML too).
        html: message.html_part(0).and_then(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        }),
        attachments,
        automatic: automatic(&message),
        machine: machine(&message),
        report_type: message
            .content_type()
            .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
            .filter(|ct| {
                ct.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            })
            .and_then(|ct| ct.attribute("report-type"))
            .map(str::to_ascii_lowercase),
    })
}

/// The best readable text of a message whose body has none: a nested
/// message's text, else the first text part sent as an attachment (HTML
/// read as text), so the agent does not see an empty message.
fn readable_part(message: &mail_parser::Message<'_>) -> Option<String> {
    let readable = |text: String| Some(text).filter(|t| !t.trim().is_empty());
    let nested = message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(inner) => inner.body_text(0).and_then(|t| readable(t.into_owned())),
        _ => None,
    });
    nested.or_else(|| {
        message.parts.iter().find_map(|part| match &part.body {
            PartType::Text(text) => readable(text.to_string()),
            PartType::Html(html) => readable(mail_parser::decoders::html::html_to_text(html)),
            _ => None,
        })
    })
}

/// Subjects mail programs give their out-of-office and automatic replies.
const AUTO_REPLY_SUBJECTS: [&str; 7] = [
    "automatic reply:",
    "auto-reply:",
    "autoreply:",
    "out of office",
    "abwesenheitsnotiz",
    "réponse automatique",
    "respuesta automática",
];

/// Why a machine wrote the message in answer to something, if one did.
fn machine(message: &mail_parser::Message<'_>) -> Option<String> {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(kind) = message
        .content_type()
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
        .filter(|ct| {
            ct.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .map(|ct| {
            ct.attribute("report-type")
                .unwrap_or("unknown")
                .to_ascii_lowercase()
        })
    {
        return Some(format!("a {kind} report"));
    }
    if header("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied")) {
        return Some("an auto-reply (Auto-Submitted: auto-replied)".into());
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
        if header(name).is_some_and(|v| v != "no") {
            return Some(format!("an auto-reply ({name})"));
        }
    }
    if header("Precedence").is_some_and(|v| v == "auto_reply") {
        return Some("an auto-reply (Precedence: auto_reply)".into());
    }
    let subject = message.subject().unwrap_or_default().trim().to_lowercase();
    if let Some(prefix) = AUTO_REPLY_SUBJECTS.iter().find(|p| subject.starts_with(*p)) {
        return Some(format!("an auto-reply (subject `{prefix}`)"));
    }
    if is_daemon(message) {
        return Some("a mailer daemon's message".into());
    }
    None
}

/// Whether the sender is a mailer daemon or postmaster.
fn is_daemon(message: &mail_parser::Message<'_>) -> bool {
    mailboxes(message.from()).first().is_some_and(|m| {
        let local = m.address.split('@').next().unwrap_or_default();
        matches!(local, "mailer-daemon" | "postmaster")
    })
}

/// Whether a program sent the message (RFC 3834 section 2 and the usual
/// signs of lists and mailer daemons).
fn automatic(message: &mail_parser::Message<'_>) -> bool {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| v != "no");
    let bulk = header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"));
    let list = header("List-Id").is_some();
    auto_submitted || bulk || list || machine(message).is_some()
}
