//! `parley:plugin/secrets`: the secrets the operator configured for the
//! plugin (`secrets` grant). Reads are never taped: a recording holds no
//! secret value, and a replayed call reads them as a fixture case gives
//! them.

use super::host_error;
use super::iface::secrets::Host;
use crate::bindings::types::{Error, ErrorKind};
use crate::sandbox::HostState;

impl Host for HostState {
    fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if !self.ctx.grants.secrets.contains(&name) {
            return Ok(Err(host_error(
                ErrorKind::Denied,
                format!("the manifest does not grant the secret `{name}`"),
            )));
        }
        Ok(self
            .ctx
            .secrets
            .get(&name)
            .map(str::to_string)
            .ok_or_else(|| {
                host_error(
                    ErrorKind::NotFound,
                    format!("no value is configured for the secret `{name}`"),
                )
            }))
    }
}
