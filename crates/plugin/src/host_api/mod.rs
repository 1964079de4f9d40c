//! The host side of the `parley:plugin` interfaces plugins import, one
//! module per capability. Each checks its grant again at call time, even
//! though a component importing an ungranted interface is refused at load.

mod clock;
mod config;
mod kv;
mod log;
mod plugins;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::{parley::plugin as iface, types};
use super::sandbox::HostState;

impl types::Host for HostState {}

/// A host error value for the plugin.
fn host_error(kind: types::ErrorKind, message: impl Into<String>) -> types::Error {
    types::Error {
        kind,
        message: message.into(),
    }
}

/// Links every `parley:plugin` host interface into `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    type Data = HasSelf<HostState>;
    types::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::log::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::config::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::kv::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::clock::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::plugins::add_to_linker::<HostState, Data>(linker, |s| s)?;
    Ok(())
}
