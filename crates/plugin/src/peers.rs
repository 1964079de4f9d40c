//! Calls from one plugin into another (`parley:plugin/plugins`), made
//! through whatever holds the live plugin versions (the registry), and the
//! host's side that knows the stored interactions those calls may screen.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::bindings::types::{Error, ScreenRequest, ScreenResult};
use super::error::PluginError;

/// A boxed future, for the object-safe traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The plugins a plugin may call into.
pub trait PluginPeers: Send + Sync {
    /// Screens `request` with the live version of the screener `plugin`.
    fn screen<'a>(
        &'a self,
        plugin: &'a str,
        request: ScreenRequest,
    ) -> BoxFuture<'a, Result<ScreenResult, PluginError>>;

    /// The host's stored interactions, when they are reachable (a server
    /// has set them; a plugin test or a bare registry has none).
    fn content(&self) -> Option<Arc<dyn InteractionContent>>;
}

/// What the host stores of interactions, as screeners see it. The plugin
/// runtime reaches the store only through this (see
/// [`Registry::set_content`](super::Registry::set_content)).
pub trait InteractionContent: Send + Sync {
    /// The screen request of the stored interaction `interaction`: its
    /// media type, subject, attached data and content, cut to the host's
    /// limit. An error value (`not-found`, `unavailable`) for the calling
    /// plugin when it cannot be read.
    fn screen_request<'a>(
        &'a self,
        interaction: &'a str,
    ) -> BoxFuture<'a, Result<ScreenRequest, Error>>;
}
