//! `parley:plugin/clock`: wall-clock time (`clock` grant).

use super::iface::clock::Host;
use crate::plugin::observe::tape::tape;
use crate::plugin::sandbox::HostState;
use std::time::{SystemTime, UNIX_EPOCH};

impl Host for HostState {
    fn now(&mut self) -> wasmtime::Result<u64> {
        if !self.ctx.grants.clock {
            wasmtime::bail!(
                "plugin `{}` read the clock without the `clock` grant",
                self.ctx.name
            );
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        tape(&self.ctx.name, "clock.now", || {
            (Default::default(), now.into())
        });
        Ok(now)
    }
}
