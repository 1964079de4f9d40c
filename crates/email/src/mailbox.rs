//! Keeps one mailbox read: connect, take in what is new, wait, repeat; on
//! any failure reconnect after a growing pause (1 s doubling to 5 min). A
//! message that fails to be taken in is left on the server and tried again
//! next round; nothing a message contains can stop the mailbox.

use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::connect::ConnectError;
use super::imap::Imap;
use super::intake::{Acknowledgements, Intake, Source, Taken};
use super::pop3::{Pop3, Pop3Error};
use super::settings::{MailboxSettings, Protocol};
use parley_store::email::MailboxItem;
use parley_store::{StoreError, now_ms};

/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Why a round failed.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// Connecting or TLS failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server refused or broke the protocol.
    #[error("{0}")]
    Server(String),
    /// The store could not say what was taken in.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Pop3Error> for RoundError {
    fn from(err: Pop3Error) -> Self {
        match err {
            Pop3Error::Connect(err) => RoundError::Connect(err),
            other => RoundError::Server(other.to_string()),
        }
    }
}

/// How a mailbox is doing, for operators.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct MailboxStatus {
    /// Mailbox name.
    pub name: String,
    /// `imap` or `pop3`.
    pub protocol: String,
    /// Connected now (IMAP) or the last round succeeded (POP3).
    pub connected: bool,
    /// Messages taken in since the server started.
    pub taken: u64,
    /// When the last round ended well, ms since the Unix epoch.
    pub last_round_at: Option<i64>,
    /// The last failure, if the mailbox is failing.
    pub error: Option<String>,
    /// Failures in a row.
    pub failures: u32,
}

/// A mailbox being read.
pub struct Mailbox {
    settings: MailboxSettings,
    intake: Arc<Intake>,
    status: Mutex<MailboxStatus>,
}

impl Mailbox {
    /// Starts reading the mailbox in the background.
    pub fn spawn(settings: MailboxSettings, intake: Arc<Intake>) -> Arc<Mailbox> {
        let status = MailboxStatus {
            name: settings.name.clone(),
            protocol: match settings.protocol {
                Protocol::Imap => "imap".into(),
                Protocol::Pop3 => "pop3".into(),
            },
            ..MailboxStatus::default()
        };
        let mailbox = Arc::new(Mailbox {
            settings,
            intake,
            status: Mutex::new(status),
        });
        tokio::spawn(mailbox.clone().run());
        mailbox
    }

    /// How it is doing.
    pub fn status(&self) -> MailboxStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update(&self, change: impl FnOnce(&mut MailboxStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn source(&self) -> Source {
        Source {
            name: self.settings.name.clone(),
            queue: self.settings.queue.clone(),
            acknowledgements: Acknowledgements::Each,
        }
    }

    fn round_done(&self, stored: usize) {
        self.update(|s| {
            s.connected = true;
            s.taken += stored as u64;
            s.last_round_at = Some(now_ms());
            s.error = None;
            s.failures = 0;
        });
    }

    async fn run(self: Arc<Self>) {
        let mut pause = Duration::from_secs(1);
        loop {
            let result = match self.settings.protocol {
                Protocol::Imap => self.imap_session().await,
                Protocol::Pop3 => self.pop3_session().await,
            };
            if let Err(err) = result {
                tracing::warn!(mailbox = %self.settings.name, "mailbox failed; reconnecting in {pause:?}: {err}");
                self.update(|s| {
                    s.connected = false;
                    s.error = Some(err.to_string());
                    s.failures += 1;
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            } else {
                pause = Duration::from_secs(1);
            }
        }
    }

    /// One IMAP connection: rounds until the connection fails.
    async fn imap_session(&self) -> Result<(), RoundError> {
        let mut imap = Imap::connect(&self.settings).await?;
        loop {
            let stored = imap.round(&self.intake, &self.source()).await?;
            self.round_done(stored);
            imap.wait().await?;
        }
    }

    /// POP3 rounds, one connection each (deletions apply at `QUIT`).
    async fn pop3_session(&self) -> Result<(), RoundError> {
        loop {
            let stored = self.pop3_round().await?;
            self.round_done(stored);
            tokio::time::sleep(Duration::from_secs(self.settings.poll_interval_s.max(1))).await;
        }
    }

    async fn pop3_round(&self) -> Result<usize, RoundError> {
        let mut pop = Pop3::connect(&self.settings.endpoint).await?;
        let listing = pop.uidl().await?;
        let names: Vec<String> = listing.iter().map(|(_, uid)| uid.clone()).collect();
        let known = self.intake.known(&self.settings.name, &names).await?;
        let source = self.source();
        let mut stored = 0;
        for (number, uid) in listing {
            if !known.contains(&uid) {
                let limit = self.intake.max_message_bytes();
                let (raw, cut) = pop.retr(number, limit).await?;
                let item = MailboxItem {
                    mailbox: self.settings.name.clone(),
                    item: uid,
                };
                match self.intake.take(&source, raw, cut, Some(item)).await {
                    Taken::Stored => stored += 1,
                    Taken::Known => {}
                    Taken::Later => continue,
                }
            }
            if !self.settings.leave_on_server {
                pop.dele(number).await?;
            }
        }
        pop.quit().await?;
        Ok(stored)
    }
}
