//! `parley:plugin/plugins`: calls into other plugins listed in the
//! caller's `calls` grant.

use super::host_error;
use super::iface::plugins::Host;
use crate::plugin::bindings::types::{Error, ErrorKind, ScreenRequest, ScreenResult};
use crate::plugin::error::FailureKind;
use crate::plugin::sandbox::HostState;

impl Host for HostState {
    async fn screen(
        &mut self,
        plugin: String,
        request: ScreenRequest,
    ) -> wasmtime::Result<Result<ScreenResult, Error>> {
        if !self.ctx.grants.calls.contains(&plugin) {
            return Ok(Err(host_error(
                ErrorKind::Denied,
                format!("the manifest does not grant calls to `{plugin}`"),
            )));
        }
        let Some(peers) = self.ctx.peers.as_ref().and_then(|p| p.upgrade()) else {
            return Ok(Err(host_error(
                ErrorKind::Unavailable,
                "no plugins are reachable here",
            )));
        };
        Ok(peers.screen(&plugin, request).await.map_err(|failure| {
            let kind = match failure.kind {
                FailureKind::NotFound => ErrorKind::NotFound,
                FailureKind::Timeout => ErrorKind::Timeout,
                FailureKind::Overloaded => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            };
            host_error(kind, failure.to_string())
        }))
    }
}
