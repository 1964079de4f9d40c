//! The one way an interaction comes in. Every channel (and the API's
//! plain submission) hands the engine a new interaction and the store
//! write that keeps it with the channel's content; the engine checks it,
//! runs the write and queues it for routing, so nothing is stored queued
//! without being routed.

use std::future::Future;
use std::sync::Arc;

use parley_store::email::Stored as StoredEmail;
use parley_store::{Interaction, NewInteraction, State, Store, StoreError};

use crate::{Engine, EngineError};

/// What a channel's store write returns: the stored interaction, maybe
/// with more.
pub trait Admitted {
    /// The interaction as stored.
    fn interaction(&self) -> &Interaction;
}

impl Admitted for Interaction {
    fn interaction(&self) -> &Interaction {
        self
    }
}

impl Admitted for StoredEmail {
    fn interaction(&self) -> &Interaction {
        &self.interaction
    }
}

impl Engine {
    /// Admits `new`: checks it against the running processes (its queue
    /// exists, its process handles its media type), runs `write` (the
    /// channel's store write, which stores `new` with what the channel
    /// keeps of it in one transaction, and anything the channel must do
    /// before routing starts) and queues the stored interaction for
    /// routing if it is queued.
    pub async fn admit<T, W, F>(
        self: &Arc<Self>,
        new: NewInteraction,
        write: W,
    ) -> Result<T, EngineError>
    where
        T: Admitted,
        W: FnOnce(Store, NewInteraction) -> F,
        F: Future<Output = Result<T, StoreError>>,
    {
        self.check_submission(&new)?;
        let admitted = write(self.store().clone(), new).await?;
        if admitted.interaction().state == State::Queued {
            self.enqueue(&admitted.interaction().id);
        }
        Ok(admitted)
    }

    /// Admits a plain interaction with no channel content (the API's
    /// submission).
    pub async fn submit(self: &Arc<Self>, new: NewInteraction) -> Result<Interaction, EngineError> {
        self.admit(new, |store, new| async move { store.submit(new).await })
            .await
    }
}
