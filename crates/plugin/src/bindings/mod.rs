//! Host bindings of the `parley:plugin` contract: one module per minor
//! version, each generated from the frozen WIT of that version's latest
//! release under `wit/` (the way Zed's extension host keeps `since_vX`);
//! the releases of one minor version only add to each other, so one
//! module serves them all. The latest version's types are the host's; an
//! older version maps its values onto them, so the rest of the host calls
//! every component the same way, whatever version it was built against.

#![allow(missing_docs)] // generated code; the WIT documents it

mod candidate_set;
pub mod v0_1_0;
pub mod v0_2;

use wasmtime::Store;
use wasmtime::component::Instance;

use crate::sandbox::HostState;
pub use candidate_set::candidate_set_json;
pub use v0_2::exports::parley::plugin::{mime_transform, routing, screening, social};
pub use v0_2::parley::plugin::types;

use types::{AgentCandidate, Error, Interaction, ScreenRequest, ScreenResult};

/// A minor version of the contract: the releases that share it, which
/// one binding module serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContractVersion {
    /// `parley:plugin@0.1.0`, frozen.
    V0_1,
    /// `parley:plugin@0.2.0` and `0.2.1`, the latest.
    V0_2,
}

impl ContractVersion {
    /// Every version this host loads, oldest first.
    pub const ALL: [ContractVersion; 2] = [ContractVersion::V0_1, ContractVersion::V0_2];
    /// The version new plugins are built against.
    pub const LATEST: ContractVersion = ContractVersion::V0_2;

    /// The releases of this version, oldest first, as in WIT names.
    pub fn releases(self) -> &'static [&'static str] {
        match self {
            ContractVersion::V0_1 => &["0.1.0"],
            ContractVersion::V0_2 => &["0.2.0", "0.2.1"],
        }
    }

    /// The version's first release, naming the version in messages.
    pub fn as_str(self) -> &'static str {
        self.releases()[0]
    }

    /// The version a component's `@release` belongs to: the one with the
    /// same `0.minor` while the package is pre-1.0 (a later patch than
    /// this host knows only adds what the component may not use).
    pub fn compatible_with(release: &str) -> Option<ContractVersion> {
        let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
        Self::ALL
            .into_iter()
            .find(|v| major_minor(v.as_str()) == major_minor(release))
    }
}

/// The result of calling an export: a trap, or the plugin's own outcome.
type Returned<T> = wasmtime::Result<Result<T, Error>>;

/// Maps an older version's outcome onto the latest types.
fn upgrade<T: Into<U>, U>(returned: Result<T, Error>) -> Result<U, Error> {
    returned.map(Into::into)
}

/// Declares, for one export interface, the enum of its export indices
/// per contract version (found once per plugin version, on its
/// pre-instance) and the enum of its functions in one instance (looked up
/// and type-checked once, when the instance is made, so a call pays for
/// neither).
macro_rules! export_interface {
    ($(#[$doc:meta])* $indices:ident => $guest:ident, $interface:ident) => {
        $(#[$doc])*
        pub enum $indices {
            V0_1(v0_1_0::exports::parley::plugin::$interface::GuestIndices),
            V0_2($interface::GuestIndices),
        }

        /// The functions of one instance, whatever contract version it
        /// was built against.
        pub enum $guest {
            V0_1(v0_1_0::exports::parley::plugin::$interface::Guest),
            V0_2($interface::Guest),
        }

        impl $indices {
            /// The functions of `instance`.
            pub fn load(
                &self,
                store: &mut Store<HostState>,
                instance: &Instance,
            ) -> wasmtime::Result<$guest> {
                Ok(match self {
                    Self::V0_1(indices) => $guest::V0_1(indices.load(store, instance)?),
                    Self::V0_2(indices) => $guest::V0_2(indices.load(store, instance)?),
                })
            }
        }
    };
}

export_interface!(
    /// A router's exports, whatever contract version it was built against.
    RoutingExports => RoutingGuest, routing
);
export_interface!(
    /// A screener's exports, whatever contract version it was built against.
    ScreeningExports => ScreeningGuest, screening
);
export_interface!(
    /// A MIME transformer's exports, whatever contract version it was
    /// built against.
    MimeTransformExports => MimeTransformGuest, mime_transform
);

/// Calls one function of either version of an export interface; `upgrade`
/// maps an older version's result onto the latest types.
macro_rules! dispatch {
    ($functions:expr, |$guest:ident| $call:expr, $upgrade:expr) => {
        match $functions {
            Self::V0_1($guest) => $call.await.map($upgrade),
            Self::V0_2($guest) => $call.await,
        }
    };
}

impl RoutingGuest {
    pub async fn on_queued(
        &self,
        store: &mut Store<HostState>,
        interaction: &Interaction,
    ) -> Returned<routing::Decision> {
        dispatch!(
            self,
            |guest| guest.call_on_queued(store, interaction),
            upgrade
        )
    }

    pub async fn on_timer(
        &self,
        store: &mut Store<HostState>,
        interaction: &Interaction,
        tag: &str,
    ) -> Returned<routing::Decision> {
        dispatch!(
            self,
            |guest| guest.call_on_timer(store, interaction, tag),
            upgrade
        )
    }

    pub async fn pick_agent(
        &self,
        store: &mut Store<HostState>,
        interaction: &Interaction,
        candidates: &[AgentCandidate],
    ) -> Returned<Option<String>> {
        match self {
            Self::V0_1(guest) => guest.call_pick_agent(store, interaction, candidates).await,
            Self::V0_2(guest) => {
                let candidates = routing::CandidateSet::from_agents(candidates);
                guest.call_pick_agent(store, interaction, &candidates).await
            }
        }
    }

    pub async fn pick_interaction(
        &self,
        store: &mut Store<HostState>,
        agent: &AgentCandidate,
        waiting: &[Interaction],
    ) -> Returned<Option<String>> {
        dispatch!(
            self,
            |guest| guest.call_pick_interaction(store, agent, waiting),
            upgrade
        )
    }
}

impl ScreeningGuest {
    pub async fn screen(
        &self,
        store: &mut Store<HostState>,
        request: &ScreenRequest,
    ) -> Returned<ScreenResult> {
        dispatch!(self, |guest| guest.call_screen(store, request), upgrade)
    }
}

impl MimeTransformGuest {
    pub async fn transform_inbound(
        &self,
        store: &mut Store<HostState>,
        mime: &[u8],
    ) -> wasmtime::Result<mime_transform::Outcome> {
        dispatch!(
            self,
            |guest| guest.call_transform_inbound(store, mime),
            Into::into
        )
    }

    pub async fn transform_outbound(
        &self,
        store: &mut Store<HostState>,
        mime: &[u8],
    ) -> wasmtime::Result<mime_transform::Outcome> {
        dispatch!(
            self,
            |guest| guest.call_transform_outbound(store, mime),
            Into::into
        )
    }
}
