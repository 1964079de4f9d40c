//! The e-mail channel: mailboxes read over IMAP or POP3 and web forms
//! become e-mail interactions ([`intake`]); agents reply from the desktop,
//! through a supervisor's review when their group needs it, and the
//! [`outbox`] sends over SMTP. Protocol code ([`imap`], [`pop3`],
//! [`connect`]) and MIME code ([`parse`], [`compose`], [`bounce`],
//! [`transform`] through plugins) are
//! kept apart from the channel's logic.

pub mod bounce;
pub mod compose;
pub mod connect;
mod error;
pub mod imap;
pub mod intake;
pub mod mailbox;
pub mod outbox;
pub mod parse;
pub mod pop3;
mod settings;
pub mod transform;

pub use error::EmailError;
pub use settings::{
    EmailSettings, Endpoint, FormSettings, MailboxSettings, MimeSettings, Protocol, Security,
    SmtpSettings,
};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use intake::{Acknowledgements, Intake, Source};
use mailbox::{Mailbox, MailboxStatus};
use outbox::{Outbox, Reply, Verdict};
use parley_core::masking::Masking;
use parley_core::quota::RateLimit;
use parley_engine::Engine;
use parley_store::Interaction;
use parley_store::email::EmailMessage;

/// The e-mail channel.
pub struct EmailChannel {
    engine: Arc<Engine>,
    settings: Arc<EmailSettings>,
    intake: Arc<Intake>,
    outbox: Arc<Outbox>,
    mailboxes: std::sync::Mutex<Vec<Arc<Mailbox>>>,
    /// Acknowledgements per address and day, per web form.
    form_acknowledgements: HashMap<String, Arc<RateLimit<String>>>,
}

impl EmailChannel {
    /// The channel over `engine`, as `settings` say. Call
    /// [`EmailChannel::start_tasks`] to read mailboxes and send.
    pub fn new(engine: Arc<Engine>, settings: EmailSettings) -> Result<Arc<EmailChannel>, String> {
        let mut names = std::collections::HashSet::new();
        for mailbox in &settings.mailboxes {
            if !names.insert(mailbox.name.as_str()) {
                return Err(format!("mailbox `{}` is configured twice", mailbox.name));
            }
        }
        compose::check_address(&settings.address).map_err(|e| format!("[email] address: {e}"))?;
        let settings = Arc::new(settings);
        let outbox = Outbox::new(engine.clone(), settings.clone());
        let masking = Masking::new(&settings.masking).map_err(|e| format!("[email] {e}"))?;
        let intake = Arc::new(Intake::new(
            engine.clone(),
            settings.clone(),
            outbox.clone(),
            masking,
        ));
        let form_acknowledgements = settings
            .forms
            .iter()
            .map(|form| {
                let limit = RateLimit::per_day(
                    "form-acknowledgement",
                    "acknowledgements to this address today",
                    form.acknowledgements_per_day,
                );
                (form.name.clone(), Arc::new(limit))
            })
            .collect();
        Ok(Arc::new(EmailChannel {
            engine,
            settings,
            intake,
            outbox,
            mailboxes: std::sync::Mutex::new(Vec::new()),
            form_acknowledgements,
        }))
    }

    /// Intake, which mailboxes and forms hand their messages to.
    pub fn intake(&self) -> &Arc<Intake> {
        &self.intake
    }

    /// Starts reading the mailboxes and sending.
    pub fn start_tasks(&self) -> Result<(), EmailError> {
        self.outbox.start()?;
        let mut mailboxes = self.mailboxes.lock().unwrap_or_else(|p| p.into_inner());
        for settings in &self.settings.mailboxes {
            mailboxes.push(Mailbox::spawn(settings.clone(), self.intake.clone()));
        }
        Ok(())
    }

    pub fn settings(&self) -> &EmailSettings {
        &self.settings
    }

    /// How each mailbox is doing.
    pub fn mailboxes(&self) -> Vec<MailboxStatus> {
        self.mailboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|m| m.status())
            .collect()
    }

    /// Takes in a post of web form `form`; returns the interaction's id.
    pub async fn take_form(
        &self,
        form: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<String, EmailError> {
        let settings = self.form(form)?;
        let acknowledgements = match self.form_acknowledgements.get(&settings.name) {
            Some(limit) if settings.acknowledge => Acknowledgements::Limited(limit.clone()),
            _ => Acknowledgements::Off,
        };
        let source = Source {
            name: format!("form:{}", settings.name),
            queue: settings.queue.clone(),
            acknowledgements,
        };
        self.intake.take_form(&source, fields).await
    }

    /// The settings of web form `name`.
    pub fn form(&self, name: &str) -> Result<&FormSettings, EmailError> {
        self.settings
            .forms
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| EmailError::Invalid(format!("there is no web form `{name}`")))
    }

    /// The messages of an e-mail interaction, oldest first.
    pub async fn messages(&self, interaction: &str) -> Result<Vec<EmailMessage>, EmailError> {
        Ok(self.engine.store().emails_of(interaction).await?)
    }

    /// The reply an agent starts from.
    pub async fn template(&self, interaction: &Interaction) -> Result<EmailMessage, EmailError> {
        self.outbox.template(interaction).await
    }

    /// Stores `agent`'s reply; it waits for review if the agent is in the
    /// review group.
    pub async fn reply(
        &self,
        interaction: &Interaction,
        agent: &str,
        reply: Reply,
    ) -> Result<EmailMessage, EmailError> {
        let review = match &self.settings.review_group {
            Some(group) => self
                .engine
                .store()
                .agent(agent)
                .await?
                .groups
                .contains(group),
            None => false,
        };
        self.outbox.reply(interaction, agent, reply, review).await
    }

    /// A supervisor's verdict on a reply under review.
    pub async fn review(
        &self,
        id: &str,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<(), EmailError> {
        self.outbox.review(id, reviewer, verdict).await
    }

    /// The author's new version of a rejected or failed reply.
    pub async fn resubmit(
        &self,
        id: &str,
        author: &str,
        subject: Option<String>,
        text: String,
    ) -> Result<(), EmailError> {
        let message = self.engine.store().email(id).await?;
        if message.author.as_deref() != Some(author) {
            return Err(EmailError::Forbidden(format!(
                "only the author of e-mail message `{id}` may change it"
            )));
        }
        self.outbox.resubmit(id, subject, text).await
    }
}
