//! Writing outbound mail: the reply template (recipients, `Re:` subject,
//! the original quoted, threading headers) and the MIME of a stored
//! outbound message (lettre's builder), with its attachments.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::settings::EmailSettings;
use parley_store::email::{EmailMessage, NewAttachment, NewEmail};

/// Why a message cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// An address is not one.
    #[error("`{0}` is not an e-mail address")]
    Address(String),
    /// The message has no recipient.
    #[error("the message has no recipient")]
    NoRecipient,
    /// The builder refused the message.
    #[error("the message cannot be written: {0}")]
    Build(String),
}

/// A new `Message-ID` in our address's domain, without angle brackets.
pub fn new_message_id(settings: &EmailSettings) -> String {
    let domain = settings
        .address
        .rsplit_once('@')
        .map_or("parley.localhost", |(_, d)| d);
    format!("{}@{domain}", uuid::Uuid::now_v7().simple())
}

/// `Re: <subject>`, without piling up prefixes.
pub fn reply_subject(subject: Option<&str>) -> String {
    let subject = subject.unwrap_or("").trim();
    let lower = subject.to_ascii_lowercase();
    if lower.starts_with("re:") {
        subject.to_string()
    } else if subject.is_empty() {
        "Re: your message".into()
    } else {
        format!("Re: {subject}")
    }
}

/// The original, quoted below an attribution line.
pub fn quote(original: &EmailMessage) -> String {
    let who = match (&original.from_name, &original.from) {
        (Some(name), Some(address)) => format!("{name} <{address}>"),
        (None, Some(address)) => address.clone(),
        _ => "the customer".into(),
    };
    let when = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(original.at.max(0) as u64),
    );
    let mut quoted = format!("On {when}, {who} wrote:\n");
    for line in original.text.trim_end().lines() {
        if line.is_empty() {
            quoted.push_str(">\n");
        } else {
            quoted.push_str("> ");
            quoted.push_str(line);
            quoted.push('\n');
        }
    }
    quoted
}

/// What a reply takes from the message it answers, stored or being
/// stored.
pub struct Thread<'a> {
    pub message_id: Option<&'a str>,
    pub references: &'a [String],
    pub subject: Option<&'a str>,
}

impl<'a> From<&'a EmailMessage> for Thread<'a> {
    fn from(message: &'a EmailMessage) -> Self {
        Thread {
            message_id: message.message_id.as_deref(),
            references: &message.references,
            subject: message.subject.as_deref(),
        }
    }
}

impl<'a> From<&'a NewEmail> for Thread<'a> {
    fn from(message: &'a NewEmail) -> Self {
        Thread {
            message_id: message.message_id.as_deref(),
            references: &message.references,
            subject: message.subject.as_deref(),
        }
    }
}

impl Thread<'_> {
    /// The references of a reply: the original's own, then its id.
    pub fn references(&self) -> Vec<String> {
        let mut references = self.references.to_vec();
        if let Some(id) = self.message_id
            && !references.iter().any(|r| r == id)
        {
            references.push(id.to_string());
        }
        references
    }
}

fn mailbox(address: &str, name: Option<&str>) -> Result<Mailbox, ComposeError> {
    let parsed = address
        .parse()
        .map_err(|_| ComposeError::Address(address.to_string()))?;
    Ok(Mailbox::new(name.map(str::to_string), parsed))
}

/// Checks an address as the sender will need it.
pub fn check_address(address: &str) -> Result<(), ComposeError> {
    mailbox(address, None).map(|_| ())
}

/// The MIME of outbound `message` with its `attachments`, from us.
pub fn mime(
    settings: &EmailSettings,
    message: &EmailMessage,
    attachments: &[NewAttachment],
) -> Result<(Vec<u8>, lettre::address::Envelope), ComposeError> {
    if message.to.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let mut builder = lettre::Message::builder()
        .from(mailbox(&settings.address, Some(&settings.name))?)
        .subject(message.subject.clone().unwrap_or_default())
        .date_now()
        .message_id(message.message_id.as_ref().map(|id| format!("<{id}>")));
    for to in &message.to {
        builder = builder.to(mailbox(to, None)?);
    }
    for cc in &message.cc {
        builder = builder.cc(mailbox(cc, None)?);
    }
    if let Some(id) = &message.in_reply_to {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    for id in &message.references {
        builder = builder.references(format!("<{id}>"));
    }
    if message.author.as_deref() == Some("system") {
        // An automatic answer (RFC 3834): others must not answer it.
        builder = builder.header(AutoSubmitted);
    }
    let text = SinglePart::plain(message.text.clone());
    let built = if attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for attachment in attachments {
            let content_type = ContentType::parse(&attachment.content_type).unwrap_or(
                ContentType::parse("application/octet-stream")
                    .map_err(|e| ComposeError::Build(e.to_string()))?,
            );
            parts = parts.singlepart(
                Attachment::new(attachment.name.clone())
                    .body(attachment.data.clone(), content_type),
            );
        }
        builder.multipart(parts)
    }
    .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok((built.formatted(), built.envelope().clone()))
}

/// `Auto-Submitted: auto-replied`.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-replied".into())
    }
}
