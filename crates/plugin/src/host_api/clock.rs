//! `parley:plugin/clock`: wall-clock time (`clock` grant).

use super::iface::clock::Host;
use crate::observe::tape::tape;
use crate::sandbox::HostState;

impl Host for HostState {
    fn now(&mut self) -> wasmtime::Result<u64> {
        if !self.ctx.grants.clock {
            wasmtime::bail!(
                "plugin `{}` read the clock without the `clock` grant",
                self.ctx.name
            );
        }
        let now = parley_core::now_ms().max(0) as u64;
        tape(&self.ctx.name, "clock.now", || {
            (Default::default(), now.into())
        });
        Ok(now)
    }
}
