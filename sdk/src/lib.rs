//! # Parley plugin SDK for Rust
//!
//! Parley runs every customisable piece of a contact center (routing
//! strategies, screening rules, MIME transforms...) as a sandboxed
//! WebAssembly component that implements one *world* of the
//! `parley:plugin@0.2.0` WIT package. This crate gives Rust authors the
//! bindings of each world, helpers for the host imports, and builders for
//! the shared types.
//!
//! Enable the feature of the world you implement (`router`, `screener` or
//! `mime-transformer`), implement its `Guest` trait and export it:
//!
//! ```ignore
//! use parley_sdk::prelude::*;
//! use parley_sdk::router::{CandidateSet, Decision, Guest, Target};
//!
//! struct FirstFree;
//!
//! impl Guest for FirstFree {
//!     fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
//!         log::info(&format!("routing {}", interaction.id));
//!         Ok(Decision::route(Target::Group("support".into())))
//!     }
//!     fn on_timer(_: Interaction, _: String) -> Result<Decision, Error> {
//!         Ok(Decision::stop("timer not expected"))
//!     }
//!     fn pick_agent(_: Interaction, candidates: CandidateSet) -> Result<Option<String>, Error> {
//!         Ok(candidates.iter().max_by_key(|a| a.idle_ms()).map(|a| a.id().to_string()))
//!     }
//!     fn pick_interaction(_: AgentCandidate, waiting: Vec<Interaction>) -> Result<Option<String>, Error> {
//!         Ok(waiting.into_iter().next().map(|i| i.id))
//!     }
//! }
//!
//! parley_sdk::export_router!(FirstFree);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type
//! `cdylib`), put the `.wasm` beside a `plugin.toml` manifest, and check it
//! with `parley plugin test <dir>`. `plugins/skills-router`,
//! `plugins/rules-screener` and `plugins/mime-normalizer` in the Parley
//! repository are complete examples.

#![warn(missing_docs)]

mod bindings;
#[cfg(all(feature = "leaking-allocator", target_arch = "wasm32"))]
mod leaking_allocator;
#[macro_use]
mod world;
#[cfg(feature = "router")]
pub mod candidates;
pub mod config;
pub mod log;
mod types;

#[cfg(feature = "mime-transformer")]
pub mod mime_transformer;
#[cfg(feature = "router")]
pub mod router;
#[cfg(feature = "screener")]
pub mod screener;

/// The shared types and host-import helpers most plugins need.
pub mod prelude {
    #[cfg(feature = "router")]
    pub use crate::candidates::{Candidate, Load};
    pub use crate::config;
    pub use crate::log;
    pub use crate::types::*;
}

#[cfg(not(feature = "contract-v0-1"))]
/// Regular expressions compiled and run by the host (Rust `regex`
/// syntax), the same in every plugin language: `Regex::compile(pattern)`,
/// then `is_match`, `find`, `find_all` and `captures`.
pub use bindings::parley::plugin::patterns;
#[cfg(not(feature = "contract-v0-1"))]
/// Secrets the operator configured for the plugin (each listed under
/// `secrets` in the manifest): `secrets::get(name)`.
pub use bindings::parley::plugin::secrets;
pub use bindings::parley::plugin::{clock, kv};
pub use types::*;

#[cfg(feature = "mime-transformer")]
pub use mime_transformer::bindings::export_mime_transformer;
#[cfg(feature = "router")]
pub use router::bindings::export_router;
#[cfg(feature = "screener")]
pub use screener::bindings::export_screener;
