//! `[email]` settings: the mailboxes read, the SMTP server replies go
//! through, the MIME transform plugins, web forms, review and the
//! automatic acknowledgement.

use parley_core::masking::Rule;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EmailSettings {
    /// The queue new e-mails enter unless their mailbox or form names one.
    pub queue: String,
    /// The tenant e-mails belong to.
    pub tenant: String,
    /// Our address: the `From` of replies and acknowledgements.
    pub address: String,
    /// The display name with it.
    pub name: String,
    /// Largest message taken in, in bytes; larger ones are kept for
    /// inspection as malformed.
    pub max_message_bytes: usize,
    /// Replies by members of this agent group wait for a supervisor's
    /// approval before they are sent.
    pub review_group: Option<String>,
    /// The standard response sent to acknowledge a new e-mail, if any.
    pub acknowledge_with: Option<String>,
    /// Mailboxes to read.
    #[serde(rename = "mailbox")]
    pub mailboxes: Vec<MailboxSettings>,
    /// The SMTP server to send through; without one nothing is sent and
    /// outbound messages wait in `queued`.
    pub smtp: Option<SmtpSettings>,
    /// MIME transform plugins.
    pub mime: MimeSettings,
    /// Web forms that become e-mail interactions.
    #[serde(rename = "form")]
    pub forms: Vec<FormSettings>,
    /// Privacy masking of what customers write: subjects, bodies,
    /// attachment names and form fields (default: card numbers masked).
    /// A message a rule changed keeps no raw MIME copy.
    pub masking: Vec<Rule>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            queue: "inbound".into(),
            tenant: "default".into(),
            address: "support@parley.localhost".into(),
            name: "Customer Care".into(),
            max_message_bytes: 25 * 1024 * 1024,
            review_group: None,
            acknowledge_with: None,
            mailboxes: Vec::new(),
            smtp: None,
            mime: MimeSettings::default(),
            forms: vec![FormSettings::default()],
            masking: vec![Rule::card_numbers()],
        }
    }
}

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465).
    Tls,
    /// Plain text upgraded with STARTTLS / STLS before logging in.
    Starttls,
    /// No TLS (only for servers on the same machine).
    None,
}

/// Where to connect and how to prove who we are.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Endpoint {
    /// Server host name (checked against its certificate).
    pub host: String,
    /// Port; the protocol's default for the security when absent.
    pub port: Option<u16>,
    /// TLS mode.
    pub security: Security,
    /// User name.
    pub user: Option<String>,
    /// The password written here (prefer `password-file` or
    /// `password-env`, which keep it out of the settings).
    pub password: Option<String>,
    /// Environment variable holding the password instead.
    pub password_env: Option<String>,
    /// File holding the password instead (read at each login, so a
    /// rotated password is picked up; surrounding whitespace is ignored).
    pub password_file: Option<PathBuf>,
    /// A PEM file of certificates to trust besides the public roots
    /// (a private CA, a self-signed server).
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the server on each step.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
}

fn default_timeout() -> u64 {
    30
}

impl Endpoint {
    /// The password: from its file, its environment variable or the
    /// settings.
    pub fn password(&self) -> Option<String> {
        if let Some(path) = &self.password_file {
            return match std::fs::read_to_string(path) {
                Ok(text) => Some(text.trim().to_string()),
                Err(err) => {
                    tracing::error!(file = %path.display(), "cannot read the password file: {err}");
                    None
                }
            };
        }
        match &self.password_env {
            Some(var) => std::env::var(var).ok(),
            None => self.password.clone(),
        }
    }
}

/// Which protocol a mailbox speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// IMAP4rev1, with IDLE when the server offers it.
    Imap,
    Pop3,
}

/// `[[email.mailbox]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MailboxSettings {
    /// Name, unique: intake progress is kept under it.
    pub name: String,
    pub protocol: Protocol,
    /// Server and credentials.
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// IMAP folder to read.
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Keep messages on the server after taking them in (IMAP marks them
    /// seen); otherwise they are deleted once stored.
    #[serde(default)]
    pub leave_on_server: bool,
    /// Seconds between checks when the server cannot push (no IDLE, POP3).
    #[serde(default = "default_poll")]
    pub poll_interval_s: u64,
    /// Use IMAP IDLE when offered.
    #[serde(default = "yes")]
    pub idle: bool,
    /// The queue its e-mails enter, instead of `[email] queue`.
    pub queue: Option<String>,
}

fn default_folder() -> String {
    "INBOX".into()
}

fn default_poll() -> u64 {
    30
}

fn yes() -> bool {
    true
}

/// `[email.smtp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SmtpSettings {
    /// Server and credentials.
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Send attempts before a message fails for good.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Seconds before the first retry; each later one waits twice as long,
    /// up to an hour.
    #[serde(default = "default_retry")]
    pub retry_after_s: u64,
}

fn default_attempts() -> u32 {
    8
}

fn default_retry() -> u64 {
    30
}

/// `[email.mime]`: the `mime-transformer` plugins and what to keep.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MimeSettings {
    /// Plugin transforming messages as they arrive, before parsing.
    pub inbound: Option<String>,
    /// Plugin transforming messages before they are sent.
    pub outbound: Option<String>,
    /// Also keep the message as it arrived when the inbound plugin
    /// transformed it.
    #[serde(default)]
    pub inbound_keep_received_mime: bool,
    /// Also keep the message as transformed and sent when the outbound
    /// plugin transformed it (the message as written is always kept).
    #[serde(default)]
    pub outbound_keep_sent_mime: bool,
}

/// `[[email.form]]`: a web form posted to `/v1/email/forms/{name}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FormSettings {
    /// Name in the URL.
    pub name: String,
    /// The queue its e-mails enter, instead of `[email] queue`.
    pub queue: Option<String>,
    /// Largest post, in bytes.
    #[serde(default = "default_form_bytes")]
    pub max_bytes: usize,
    /// Whether posts are acknowledged (with `[email] acknowledge-with`):
    /// anyone can post any address, so the acknowledgement goes to
    /// whoever was named.
    #[serde(default = "default_acknowledge")]
    pub acknowledge: bool,
    /// Acknowledgements to one address a day at most, from this form.
    #[serde(default = "default_acknowledgements_per_day")]
    pub acknowledgements_per_day: u32,
}

fn default_form_bytes() -> usize {
    64 * 1024
}

fn default_acknowledge() -> bool {
    true
}

fn default_acknowledgements_per_day() -> u32 {
    3
}

impl Default for FormSettings {
    fn default() -> Self {
        FormSettings {
            name: "contact".into(),
            queue: None,
            max_bytes: default_form_bytes(),
            acknowledge: default_acknowledge(),
            acknowledgements_per_day: default_acknowledgements_per_day(),
        }
    }
}
