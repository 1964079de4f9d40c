//! Calls from one plugin into another (`parley:plugin/plugins`), made
//! through whatever holds the live plugin versions (the registry).

use std::future::Future;
use std::pin::Pin;

use super::bindings::types::{ScreenRequest, ScreenResult};
use super::error::PluginError;

/// A boxed future, for the object-safe trait below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The plugins a plugin may call into.
pub trait PluginPeers: Send + Sync {
    /// Screens `request` with the live version of the screener `plugin`.
    fn screen<'a>(
        &'a self,
        plugin: &'a str,
        request: ScreenRequest,
    ) -> BoxFuture<'a, Result<ScreenResult, PluginError>>;
}
