//! `parley:plugin@0.1.0`, frozen: generated from `wit/v0.1.0` with its
//! shared types taken from the latest version (they are the same), its
//! imports served by the latest version's host implementations, and its
//! own export types mapped onto the latest ones.

use super::v0_2 as latest;
use crate::sandbox::HostState;
use latest::exports::parley::plugin::{mime_transform as latest_mime, routing as latest_routing};
use latest::parley::plugin as latest_iface;
use latest_iface::types::{Error, ScreenRequest, ScreenResult};
use wasmtime::component::{HasSelf, Linker};

wasmtime::component::bindgen!({
    world: "host",
    path: "../../wit/v0.1.0",
    with: {
        "parley:plugin/types@0.1.0": super::v0_2::parley::plugin::types,
    },
    imports: {
        "parley:plugin/plugins.screen": async | trappable,
        "parley:plugin/plugins.screen-interaction": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});

use exports::parley::plugin::{mime_transform, routing};
use parley::plugin as iface;

/// Links the 0.1.0 host interfaces into `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    type Data = HasSelf<HostState>;
    // `types` holds only types; its instance must exist to be imported.
    linker.instance("parley:plugin/types@0.1.0")?;
    iface::log::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::config::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::kv::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::clock::add_to_linker::<HostState, Data>(linker, |s| s)?;
    iface::plugins::add_to_linker::<HostState, Data>(linker, |s| s)?;
    Ok(())
}

impl iface::log::Host for HostState {
    fn log(
        &mut self,
        level: iface::log::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        use iface::log::Level;
        use latest_iface::log::Level as Latest;
        let level = match level {
            Level::Trace => Latest::Trace,
            Level::Debug => Latest::Debug,
            Level::Info => Latest::Info,
            Level::Warn => Latest::Warn,
            Level::Error => Latest::Error,
        };
        latest_iface::log::Host::log(self, level, message, fields)
    }
}

impl iface::config::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        latest_iface::config::Host::get(self, key)
    }

    fn entries(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        latest_iface::config::Host::entries(self)
    }
}

impl iface::kv::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        latest_iface::kv::Host::get(self, key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        latest_iface::kv::Host::set(self, key, value)
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), Error>> {
        latest_iface::kv::Host::delete(self, key)
    }

    fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        latest_iface::kv::Host::increment(self, key, delta)
    }
}

impl iface::clock::Host for HostState {
    fn now(&mut self) -> wasmtime::Result<u64> {
        latest_iface::clock::Host::now(self)
    }
}

impl iface::plugins::Host for HostState {
    async fn screen(
        &mut self,
        plugin: String,
        request: ScreenRequest,
    ) -> wasmtime::Result<Result<ScreenResult, Error>> {
        latest_iface::plugins::Host::screen(self, plugin, request).await
    }

    async fn screen_interaction(
        &mut self,
        plugin: String,
        interaction_id: String,
    ) -> wasmtime::Result<Result<ScreenResult, Error>> {
        latest_iface::plugins::Host::screen_interaction(self, plugin, interaction_id).await
    }
}

impl From<routing::Decision> for latest_routing::Decision {
    fn from(decision: routing::Decision) -> Self {
        latest_routing::Decision {
            action: decision.action.into(),
            changes: decision.changes.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<routing::Action> for latest_routing::Action {
    fn from(action: routing::Action) -> Self {
        use latest_routing::Action as Latest;
        match action {
            routing::Action::Route(request) => Latest::Route(latest_routing::RouteRequest {
                target: request.target.into(),
                timer: request.timer.map(Into::into),
            }),
            routing::Action::MoveToQueue(queue) => Latest::MoveToQueue(queue),
            routing::Action::Wait(timer) => Latest::Wait(timer.into()),
            routing::Action::Stop(reason) => Latest::Stop(reason),
        }
    }
}

impl From<routing::Target> for latest_routing::Target {
    fn from(target: routing::Target) -> Self {
        use latest_routing::Target as Latest;
        match target {
            routing::Target::Agent(id) => Latest::Agent(id),
            routing::Target::Group(name) => Latest::Group(name),
            routing::Target::Skills(skills) => Latest::Skills(
                skills
                    .into_iter()
                    .map(|s| latest_routing::SkillRequirement {
                        skill: s.skill,
                        min_level: s.min_level,
                    })
                    .collect(),
            ),
        }
    }
}

impl From<routing::Timer> for latest_routing::Timer {
    fn from(timer: routing::Timer) -> Self {
        latest_routing::Timer {
            after_ms: timer.after_ms,
            tag: timer.tag,
        }
    }
}

impl From<routing::Change> for latest_routing::Change {
    fn from(change: routing::Change) -> Self {
        use latest_routing::Change as Latest;
        match change {
            routing::Change::SetPriority(priority) => Latest::SetPriority(priority),
            routing::Change::SetAttribute(attribute) => Latest::SetAttribute(attribute),
            routing::Change::RemoveAttribute(key) => Latest::RemoveAttribute(key),
            routing::Change::Notify(text) => Latest::Notify(text),
        }
    }
}

impl From<mime_transform::Outcome> for latest_mime::Outcome {
    fn from(outcome: mime_transform::Outcome) -> Self {
        use latest_mime::{Failure, FailureAction, Outcome as Latest};
        match outcome {
            mime_transform::Outcome::Unchanged => Latest::Unchanged,
            mime_transform::Outcome::Transformed(mime) => Latest::Transformed(mime),
            mime_transform::Outcome::Failed(failure) => Latest::Failed(Failure {
                reason: failure.reason,
                action: match failure.action {
                    mime_transform::FailureAction::Retry => FailureAction::Retry,
                    mime_transform::FailureAction::Bypass => FailureAction::Bypass,
                    mime_transform::FailureAction::BadFormat => FailureAction::BadFormat,
                },
            }),
        }
    }
}
