//! The host side of the `parley:plugin` interfaces plugins import, one
//! module per capability. Each checks its grant again at call time, even
//! though a component importing an ungranted interface is refused at load.

mod clock;
mod config;
mod kv;
mod log;
pub mod patterns;
mod plugins;
mod secrets;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::v0_2::parley::plugin as iface;
use super::bindings::{types, v0_1_0};
use super::sandbox::HostState;

impl types::Host for HostState {}

/// A host error value for the plugin.
fn host_error(kind: types::ErrorKind, message: impl Into<String>) -> types::Error {
    types::Error {
        kind,
        message: message.into(),
    }
}

/// Links every `parley:plugin` host interface of every contract version
/// into `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    v0_1_0::add_to_linker(linker)?;
    type Data = HasSelf<HostState>;
    types::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::log::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::config::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::kv::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::clock::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::plugins::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::secrets::add_to_linker::<HostState, Data>(linker, |s| s)?;
    link_patterns(linker)
}

/// Links `parley:plugin/patterns`, the one host interface fixture cases
/// run for real instead of mocked.
pub(crate) fn link_patterns(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    iface::patterns::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}
