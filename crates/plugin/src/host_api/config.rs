//! `parley:plugin/config`: the plugin's own configuration. Always granted.

use super::iface::config::Host;
use crate::sandbox::HostState;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.ctx.config.get(&key).cloned())
    }

    fn entries(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .ctx
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
