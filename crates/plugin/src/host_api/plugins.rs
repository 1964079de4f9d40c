//! `parley:plugin/plugins`: calls into other plugins listed in the
//! caller's `calls` grant. A call may use half of the caller's remaining
//! deadline; whatever goes wrong in it is an error value for the caller.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::host_error;
use super::iface::plugins::Host;
use crate::bindings::types::{Error, ErrorKind, ScreenRequest, ScreenResult};
use crate::error::{FailureKind, PluginError};
use crate::observe::tape::tape;
use crate::observe::wit_json;
use crate::peers::PluginPeers;
use crate::sandbox::HostState;
use serde_json::Map;

/// The error value a caller gets for a failed call into `plugin`.
fn to_wit(failure: PluginError) -> Error {
    let kind = match failure.kind {
        FailureKind::NotFound => ErrorKind::NotFound,
        FailureKind::Timeout => ErrorKind::Timeout,
        FailureKind::Overloaded => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    host_error(kind, failure.to_string())
}

/// Runs a call into another plugin within `budget`; past it the call is
/// dropped (its instance discarded) and the caller gets `timeout`.
async fn within<T>(
    budget: Duration,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(budget, call)
        .await
        .unwrap_or_else(|_| {
            Err(host_error(
                ErrorKind::Timeout,
                format!(
                    "no answer within {} ms (half of the caller's remaining deadline)",
                    budget.as_millis()
                ),
            ))
        })
}

impl HostState {
    /// The peers to call `plugin` through, if the grant allows it.
    fn peers_for(&self, plugin: &str) -> Result<Arc<dyn PluginPeers>, Error> {
        if !self.ctx.grants.calls.iter().any(|c| c == plugin) {
            return Err(host_error(
                ErrorKind::Denied,
                format!("the manifest does not grant calls to `{plugin}`"),
            ));
        }
        self.ctx
            .peers
            .as_ref()
            .and_then(|p| p.upgrade())
            .ok_or_else(|| host_error(ErrorKind::Unavailable, "no plugins are reachable here"))
    }

    /// The time a call into another plugin may take: half of what is left
    /// of the caller's deadline.
    fn call_budget(&self) -> Duration {
        self.time_left() / 2
    }
}

impl Host for HostState {
    async fn screen(
        &mut self,
        plugin: String,
        request: ScreenRequest,
    ) -> wasmtime::Result<Result<ScreenResult, Error>> {
        let peers = match self.peers_for(&plugin) {
            Ok(peers) => peers,
            Err(denied) => return Ok(Err(denied)),
        };
        let screened = within(self.call_budget(), async {
            peers.screen(&plugin, request).await.map_err(to_wit)
        })
        .await;
        tape(&self.ctx.name, "plugins.screen", || {
            let params = Map::from_iter([("plugin".to_string(), plugin.into())]);
            (params, wit_json::result(&screened, wit_json::screen_result))
        });
        Ok(screened)
    }

    async fn screen_interaction(
        &mut self,
        plugin: String,
        interaction_id: String,
    ) -> wasmtime::Result<Result<ScreenResult, Error>> {
        let peers = match self.peers_for(&plugin) {
            Ok(peers) => peers,
            Err(denied) => return Ok(Err(denied)),
        };
        if !self.scope.contains(&interaction_id) {
            return Ok(Err(host_error(
                ErrorKind::Denied,
                format!("interaction `{interaction_id}` is not one this call was given"),
            )));
        }
        let Some(content) = peers.content() else {
            return Ok(Err(host_error(
                ErrorKind::Unavailable,
                "no stored interactions are reachable here",
            )));
        };
        let screened = within(self.call_budget(), async {
            let request = content.screen_request(&interaction_id).await?;
            peers.screen(&plugin, request).await.map_err(to_wit)
        })
        .await;
        tape(&self.ctx.name, "plugins.screen-interaction", || {
            let params = Map::from_iter([
                ("plugin".to_string(), plugin.into()),
                ("interaction-id".to_string(), interaction_id.into()),
            ]);
            (params, wit_json::result(&screened, wit_json::screen_result))
        });
        Ok(screened)
    }
}
