//! Reading an IMAP folder (async-imap): each round lists the folder's
//! messages by UID, takes in those not taken in yet, deletes or marks
//! seen what is stored, then waits in IDLE (or sleeps) for more.

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use std::time::Duration;

use super::connect::{self, Conn, ConnectError};
use super::intake::{Intake, Source, Taken};
use super::mailbox::RoundError;
use super::settings::{Endpoint, MailboxSettings, Security};
use parley_store::email::MailboxItem;

/// Longest IDLE before it is renewed (servers drop it after 30 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(20 * 60);

impl From<async_imap::error::Error> for RoundError {
    fn from(err: async_imap::error::Error) -> Self {
        RoundError::Server(err.to_string())
    }
}

impl From<ConnectError> for async_imap::error::Error {
    fn from(err: ConnectError) -> Self {
        async_imap::error::Error::Io(std::io::Error::other(err.to_string()))
    }
}

/// A logged-in IMAP session on the mailbox's folder.
pub struct Imap {
    /// `None` only while it idles.
    session: Option<Session<Conn>>,
    settings: MailboxSettings,
    uid_validity: u32,
    idle: bool,
    uidplus: bool,
    /// Every UID below this one is settled (taken in and deleted or
    /// marked); rounds list only from here.
    settled_below: u32,
}

impl Imap {
    /// Connects, secures, logs in and selects the folder.
    pub async fn connect(settings: &MailboxSettings) -> Result<Imap, RoundError> {
        let endpoint = &settings.endpoint;
        let default_port = if endpoint.security == Security::Tls {
            993
        } else {
            143
        };
        let conn = connect::open(endpoint, default_port).await?;
        let mut client = Client::new(conn);
        greeting(&mut client, endpoint).await?;
        if endpoint.security == Security::Starttls {
            connect::timed(endpoint, client.run_command_and_check_ok("STARTTLS", None)).await?;
            let conn = connect::upgrade(endpoint, client.into_inner()).await?;
            client = Client::new(conn);
        }
        let user = endpoint.user.clone().unwrap_or_default();
        let password = endpoint.password().unwrap_or_default();
        let mut session = connect::timed(endpoint, async {
            client.login(user, password).await.map_err(|(err, _)| err)
        })
        .await?;
        let capabilities = connect::timed(endpoint, session.capabilities()).await?;
        let idle = settings.idle && capabilities.has_str("IDLE");
        let uidplus = capabilities.has_str("UIDPLUS");
        let folder = connect::timed(endpoint, session.select(&settings.folder)).await?;
        let uid_validity = folder.uid_validity.ok_or_else(|| {
            RoundError::Server(format!("folder `{}` has no UIDVALIDITY", settings.folder))
        })?;
        Ok(Imap {
            session: Some(session),
            settings: settings.clone(),
            uid_validity,
            idle,
            uidplus,
            settled_below: 1,
        })
    }

    fn session(&mut self) -> Result<&mut Session<Conn>, RoundError> {
        self.session
            .as_mut()
            .ok_or_else(|| RoundError::Server("the IMAP connection was lost while idling".into()))
    }

    fn item(&self, uid: u32) -> MailboxItem {
        MailboxItem {
            mailbox: self.settings.name.clone(),
            item: format!("{}:{uid}", self.uid_validity),
        }
    }

    /// Takes in every new message of the folder; returns how many were
    /// stored.
    pub async fn round(&mut self, intake: &Intake, source: &Source) -> Result<usize, RoundError> {
        let endpoint = self.settings.endpoint.clone();
        let from = self.settled_below;
        let session = self.session()?;
        while session.unsolicited_responses.try_recv().is_ok() {}
        // `N:*` always matches the newest message, even below N.
        let mut uids: Vec<u32> =
            connect::timed(&endpoint, session.uid_search(format!("UID {from}:*")))
                .await?
                .into_iter()
                .filter(|uid| *uid >= from)
                .collect();
        uids.sort_unstable();
        let names: Vec<String> = uids.iter().map(|uid| self.item(*uid).item).collect();
        let known = intake.known(&self.settings.name, &names).await?;
        let mut stored = 0;
        let mut deferred = false;
        for uid in uids {
            let item = self.item(uid);
            if !known.contains(&item.item) {
                let limit = intake.max_message_bytes();
                let Some((raw, cut)) = self.fetch(uid, limit).await? else {
                    continue; // expunged meanwhile by another client
                };
                match intake.take(source, raw, cut, Some(item)).await {
                    Taken::Stored => stored += 1,
                    Taken::Known => {}
                    Taken::Later => {
                        deferred = true;
                        continue;
                    }
                }
            }
            self.settle(uid).await?;
            if !deferred {
                self.settled_below = uid + 1;
            }
        }
        if !self.settings.leave_on_server && !self.uidplus {
            let session = self.session()?;
            connect::timed(&endpoint, async {
                let expunged = session.expunge().await?;
                expunged.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(stored)
    }

    /// Message `uid`, and whether it was cut: its size is asked first, and
    /// a message over `limit` bytes is fetched only up to it (kept as
    /// malformed, as the POP3 reader does), never whole.
    async fn fetch(
        &mut self,
        uid: u32,
        limit: usize,
    ) -> Result<Option<(Vec<u8>, bool)>, RoundError> {
        let endpoint = self.settings.endpoint.clone();
        let session = self.session()?;
        let sized = connect::timed(&endpoint, async {
            let fetches = session.uid_fetch(uid.to_string(), "RFC822.SIZE").await?;
            fetches.try_collect::<Vec<_>>().await
        })
        .await?;
        let Some(size) = sized.iter().find_map(|f| f.size) else {
            return Ok(None);
        };
        let cut = size as usize > limit;
        let items = if cut {
            format!("BODY.PEEK[]<0.{limit}>")
        } else {
            "BODY.PEEK[]".to_string()
        };
        let fetched = connect::timed(&endpoint, async {
            let fetches = session.uid_fetch(uid.to_string(), &items).await?;
            fetches.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(fetched
            .iter()
            .find_map(|f| f.body())
            .map(|body| (body.to_vec(), cut)))
    }

    /// Removes (or, leaving mail on the server, marks seen) message `uid`.
    async fn settle(&mut self, uid: u32) -> Result<(), RoundError> {
        let endpoint = self.settings.endpoint.clone();
        let (leave, uidplus) = (self.settings.leave_on_server, self.uidplus);
        let flag = if leave {
            "+FLAGS.SILENT (\\Seen)"
        } else {
            "+FLAGS.SILENT (\\Deleted)"
        };
        let session = self.session()?;
        connect::timed(&endpoint, async {
            let updates = session.uid_store(uid.to_string(), flag).await?;
            updates.try_collect::<Vec<_>>().await
        })
        .await?;
        if !leave && uidplus {
            connect::timed(&endpoint, async {
                let expunged = session.uid_expunge(uid.to_string()).await?;
                expunged.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(())
    }

    /// Waits for the folder to change: in IDLE when the server offers it,
    /// otherwise for the poll interval.
    pub async fn wait(&mut self) -> Result<(), RoundError> {
        if !self.idle {
            tokio::time::sleep(Duration::from_secs(self.settings.poll_interval_s.max(1))).await;
            return Ok(());
        }
        let session = self
            .session
            .take()
            .ok_or_else(|| RoundError::Server("the IMAP connection was lost".into()))?;
        let mut idle = session.idle();
        connect::timed(&self.settings.endpoint, idle.init()).await?;
        let (wait, _interrupt) = idle.wait_with_timeout(IDLE_RENEW);
        // New mail, a timeout or a broken connection all end the wait; the
        // next round (or `done`) finds out which.
        let _ = wait.await;
        let session = connect::timed(&self.settings.endpoint, idle.done()).await?;
        self.session = Some(session);
        Ok(())
    }
}

/// Reads the server's greeting.
async fn greeting(client: &mut Client<Conn>, endpoint: &Endpoint) -> Result<(), RoundError> {
    let greeting = connect::timed(endpoint, async {
        client
            .read_response()
            .await
            .map_err(async_imap::error::Error::from)
    })
    .await?;
    match greeting {
        Some(_) => Ok(()),
        None => Err(RoundError::Server(
            "the IMAP server closed the connection before greeting".into(),
        )),
    }
}
