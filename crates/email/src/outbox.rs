//! Outbound mail: replies from agents (through a supervisor's review when
//! the author's group needs it), automatic acknowledgements, and the
//! sender that hands queued messages to the SMTP server, retrying with
//! growing pauses and telling permanent refusals (bounces) from passing
//! trouble. The message as sent is kept with the interaction's history.

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use super::compose::{self, Thread};
use super::error::EmailError;
use super::settings::{EmailSettings, Security, SmtpSettings};
use super::transform;
use parley_engine::Engine;
use parley_store::email::{
    Direction, EmailMessage, MimeKind, NewAttachment, NewEmail, Status, StatusChange,
};
use parley_store::{Interaction, StoreError, now_ms};

/// Longest pause between two send attempts of a message.
const MAX_RETRY: Duration = Duration::from_secs(3600);
/// Messages handed to the SMTP server per pass.
const BATCH: i64 = 100;

/// A reply as an agent writes it.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Recipients (default: the customer).
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    /// Subject (default: `Re:` the customer's).
    pub subject: Option<String>,
    pub text: String,
    /// New attachments.
    pub attachments: Vec<NewAttachment>,
}

/// A supervisor's verdict on a reply under review.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Send it, with the reviewer's edit of subject and text if given.
    Approve(Option<(Option<String>, String)>),
    /// Send it back to its author with a comment.
    Reject(String),
}

pub struct Outbox {
    engine: Arc<Engine>,
    settings: Arc<EmailSettings>,
    wake: Notify,
}

impl Outbox {
    /// The outbox of `engine`'s store.
    pub fn new(engine: Arc<Engine>, settings: Arc<EmailSettings>) -> Arc<Outbox> {
        Arc::new(Outbox {
            engine,
            settings,
            wake: Notify::new(),
        })
    }

    fn outbound(&self, to: Vec<String>, original: Thread<'_>) -> NewEmail {
        NewEmail {
            message_id: Some(compose::new_message_id(&self.settings)),
            in_reply_to: original.message_id.map(str::to_string),
            references: original.references(),
            from: Some(self.settings.address.clone()),
            from_name: Some(self.settings.name.clone()),
            to,
            subject: Some(compose::reply_subject(original.subject)),
            ..NewEmail::new(Direction::Outbound, Status::Queued)
        }
    }

    /// The acknowledgement of `original`, an inbound message about to be
    /// stored, if the settings name a standard response for it; stored in
    /// the same write as `original`, so it is sent once, whatever stops
    /// the server. Without it (no response, no sender) `None`, logged: the
    /// customer's message is stored whatever happens here.
    pub async fn acknowledgement(&self, original: &NewEmail) -> Option<NewEmail> {
        let response_id = self.settings.acknowledge_with.as_ref()?;
        let to = original
            .reply_to
            .clone()
            .or_else(|| original.from.clone())?;
        let responses = match self.engine.store().responses().await {
            Ok(responses) => responses,
            Err(err) => {
                tracing::warn!("no acknowledgement: the standard responses cannot be read: {err}");
                return None;
            }
        };
        let Some(response) = responses.into_iter().find(|r| r.id == *response_id) else {
            tracing::warn!("no acknowledgement: there is no standard response `{response_id}`");
            return None;
        };
        let customer = original.from_name.clone().unwrap_or_else(|| to.clone());
        let text = response
            .text
            .replace("{customer}", &customer)
            .replace("{agent}", &self.settings.name);
        Some(NewEmail {
            text,
            author: Some("system".into()),
            ..self.outbound(vec![to], original.into())
        })
    }

    /// Wakes the sender: something was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The reply an agent starts from: to the customer, `Re:` subject,
    /// the last customer message quoted.
    pub async fn template(&self, interaction: &Interaction) -> Result<EmailMessage, EmailError> {
        let original = self.last_inbound(interaction).await?;
        let to = original
            .reply_to
            .clone()
            .or_else(|| original.from.clone())
            .into_iter()
            .collect();
        let new = self.outbound(to, (&original).into());
        Ok(EmailMessage {
            id: String::new(),
            interaction_id: interaction.id.clone(),
            direction: Direction::Outbound,
            status: Status::Queued,
            source: None,
            message_id: new.message_id,
            in_reply_to: new.in_reply_to,
            references: new.references,
            from: new.from,
            from_name: new.from_name,
            reply_to: None,
            to: new.to,
            cc: Vec::new(),
            subject: new.subject,
            text: format!("\n\n{}", compose::quote(&original)),
            html: None,
            error: None,
            author: None,
            reviewer: None,
            attempts: 0,
            next_attempt_at: None,
            at: now_ms(),
            updated_at: now_ms(),
            attachments: Vec::new(),
        })
    }

    async fn last_inbound(&self, interaction: &Interaction) -> Result<EmailMessage, EmailError> {
        self.engine
            .store()
            .emails_of(&interaction.id)
            .await?
            .into_iter()
            .rev()
            .find(|m| m.direction == Direction::Inbound && m.status == Status::Received)
            .ok_or_else(|| {
                EmailError::Invalid(format!(
                    "interaction `{}` has no customer message to reply to",
                    interaction.id
                ))
            })
    }

    /// Stores `agent`'s reply on `interaction`: queued to be sent, or
    /// waiting for review when `review` says so.
    pub async fn reply(
        &self,
        interaction: &Interaction,
        agent: &str,
        reply: Reply,
        review: bool,
    ) -> Result<EmailMessage, EmailError> {
        if reply.text.trim().is_empty() {
            return Err(EmailError::Invalid("the reply has no text".into()));
        }
        let original = self.last_inbound(interaction).await?;
        let to = if reply.to.is_empty() {
            original
                .reply_to
                .clone()
                .or_else(|| original.from.clone())
                .into_iter()
                .collect()
        } else {
            reply.to
        };
        for address in to.iter().chain(&reply.cc) {
            compose::check_address(address)?;
        }
        let default = self.outbound(to, (&original).into());
        let message = NewEmail {
            status: if review {
                Status::Review
            } else {
                Status::Queued
            },
            cc: reply.cc,
            subject: reply.subject.or(default.subject.clone()),
            text: reply.text,
            author: Some(agent.to_string()),
            attachments: reply.attachments,
            ..default
        };
        let stored = self
            .engine
            .store()
            .compose_email(&interaction.id, message)
            .await?;
        self.wake.notify_one();
        Ok(self.engine.store().email(&stored.id).await?)
    }

    /// A supervisor's verdict on a reply under review.
    pub async fn review(
        &self,
        id: &str,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<(), EmailError> {
        let change = match verdict {
            Verdict::Approve(edit) => StatusChange {
                status: Some(Status::Queued),
                next_attempt_at: Some(Some(now_ms())),
                error: Some(None),
                edit,
                ..StatusChange::default()
            },
            Verdict::Reject(comment) => StatusChange {
                status: Some(Status::Rejected),
                error: Some(Some(comment)),
                ..StatusChange::default()
            },
        };
        self.engine
            .store()
            .change_email(StatusChange {
                id: id.to_string(),
                expect: vec![Status::Review],
                reviewer: Some(reviewer.to_string()),
                ..change
            })
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The author's new version of a rejected reply (back to review) or of
    /// a failed one (queued to be sent again, with the same `Message-ID`).
    pub async fn resubmit(
        &self,
        id: &str,
        subject: Option<String>,
        text: String,
    ) -> Result<(), EmailError> {
        let store = self.engine.store();
        // A rejected reply goes back to review; one that failed (or whose
        // send was interrupted) is queued to be sent again.
        let (status, next_attempt_at) = match store.email(id).await?.status {
            Status::Failed => (Status::Queued, Some(Some(now_ms()))),
            _ => (Status::Review, None),
        };
        store
            .change_email(StatusChange {
                id: id.to_string(),
                expect: vec![Status::Rejected, Status::Failed],
                status: Some(status),
                edit: Some((subject, text)),
                next_attempt_at,
                ..StatusChange::default()
            })
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Starts the sender, if the settings name an SMTP server.
    pub fn start(self: &Arc<Self>) -> Result<(), EmailError> {
        let Some(smtp) = self.settings.smtp.clone() else {
            return Ok(());
        };
        let transport = transport(&smtp)?;
        let outbox = self.clone();
        tokio::spawn(async move {
            if let Err(err) = outbox.reconcile().await {
                tracing::warn!("reconciling interrupted sends failed: {err}");
            }
            loop {
                if let Err(err) = outbox.send_due(&smtp, &transport).await {
                    tracing::warn!("sending e-mail failed: {err}");
                }
                tokio::select! {
                    _ = outbox.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
        Ok(())
    }

    async fn send_due(
        &self,
        smtp: &SmtpSettings,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
    ) -> Result<(), EmailError> {
        let store = self.engine.store();
        loop {
            let due = store
                .emails_in_status(Status::Queued, Some(now_ms()), BATCH)
                .await?;
            let full = due.len() as i64 == BATCH;
            for message in due {
                self.send(smtp, transport, &message).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Messages a stopped server left `sending` may or may not have been
    /// accepted by the SMTP server; none is sent again on its own. Each
    /// becomes `failed`, saying so, for a person to resubmit or not.
    async fn reconcile(&self) -> Result<(), EmailError> {
        let store = self.engine.store();
        loop {
            let interrupted = store.emails_in_status(Status::Sending, None, BATCH).await?;
            let full = interrupted.len() as i64 == BATCH;
            for message in interrupted {
                store
                    .change_email(StatusChange {
                        id: message.id.clone(),
                        expect: vec![Status::Sending],
                        status: Some(Status::Failed),
                        error: Some(Some(
                            "the server stopped while sending this message: it may have been delivered; resubmit it to send it again".into(),
                        )),
                        next_attempt_at: Some(None),
                        ..StatusChange::default()
                    })
                    .await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Sends one message: the attempt is stored first (`sending`, counted),
    /// so a message the SMTP server accepted is never sent again, whatever
    /// happens to the database afterwards; its outcome is then stored,
    /// retried until the database takes it.
    async fn send(
        &self,
        smtp: &SmtpSettings,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        message: &EmailMessage,
    ) -> Result<(), EmailError> {
        let store = self.engine.store();
        store
            .change_email(StatusChange {
                id: message.id.clone(),
                expect: vec![Status::Queued],
                status: Some(Status::Sending),
                attempted: true,
                ..StatusChange::default()
            })
            .await?;
        let attachments = store.email_attachment_data(&message.id).await?;
        let change = match compose::mime(&self.settings, message, &attachments) {
            Err(err) => StatusChange {
                status: Some(Status::Failed),
                error: Some(Some(err.to_string())),
                next_attempt_at: Some(None),
                ..StatusChange::default()
            },
            Ok((mime, envelope)) => {
                let registry = self.engine.registry();
                let (mime, kept) = transform::outbound(registry, &self.settings.mime, mime).await;
                self.deliver(smtp, transport, message, &envelope, mime, kept)
                    .await
            }
        };
        let outcome = StatusChange {
            id: message.id.clone(),
            expect: vec![Status::Sending],
            ..change
        };
        let mut pause = Duration::from_millis(100);
        loop {
            match store.change_email(outcome.clone()).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Database(err)) => {
                    tracing::warn!(message = %message.id, "storing the outcome of a send failed, trying again: {err}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_RETRY);
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Hands `mime` to the SMTP server; the change of status that follows.
    async fn deliver(
        &self,
        smtp: &SmtpSettings,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        message: &EmailMessage,
        envelope: &lettre::address::Envelope,
        mime: Vec<u8>,
        kept: Vec<(MimeKind, Vec<u8>)>,
    ) -> StatusChange {
        match transport.send_raw(envelope, &mime).await {
            Ok(_) => StatusChange {
                status: Some(Status::Sent),
                error: Some(None),
                next_attempt_at: Some(None),
                mime: kept,
                ..StatusChange::default()
            },
            Err(err) if err.is_permanent() => StatusChange {
                status: Some(Status::Bounced),
                error: Some(Some(err.to_string())),
                next_attempt_at: Some(None),
                ..StatusChange::default()
            },
            Err(err) => self.retry(smtp, message, err.to_string()),
        }
    }

    /// Another try later, or the end after the last attempt.
    fn retry(&self, smtp: &SmtpSettings, message: &EmailMessage, error: String) -> StatusChange {
        let attempts = message.attempts + 1;
        if attempts >= i64::from(smtp.max_attempts) {
            return StatusChange {
                status: Some(Status::Failed),
                error: Some(Some(format!("gave up after {attempts} attempts: {error}"))),
                next_attempt_at: Some(None),
                ..StatusChange::default()
            };
        }
        let pause = Duration::from_secs(smtp.retry_after_s)
            .saturating_mul(1 << (attempts - 1).min(20))
            .min(MAX_RETRY);
        StatusChange {
            status: Some(Status::Queued),
            error: Some(Some(error)),
            next_attempt_at: Some(Some(now_ms() + pause.as_millis() as i64)),
            ..StatusChange::default()
        }
    }
}

/// The SMTP transport the settings describe.
fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailError> {
    let endpoint = &smtp.endpoint;
    let tls = match endpoint.security {
        Security::None => Tls::None,
        security => {
            let mut params = TlsParameters::builder(endpoint.host.clone());
            if let Some(path) = &endpoint.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| EmailError::Invalid(format!("ca-file {}: {e}", path.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| EmailError::Invalid(format!("ca-file {}: {e}", path.display())))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| EmailError::Invalid(format!("SMTP TLS: {e}")))?;
            if security == Security::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let default_port = match endpoint.security {
        Security::Tls => 465,
        _ => 587,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&endpoint.host)
        .port(endpoint.port.unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(Duration::from_secs(endpoint.timeout_s.max(1))));
    if let Some(user) = &endpoint.user {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            endpoint.password().unwrap_or_default(),
        ));
    }
    Ok(builder.build())
}
