//! The plugin runtime: loads WebAssembly components that implement a
//! `parley:plugin` world, runs them sandboxed with limits, hot-swaps
//! versions and tests them against fixture cases.
//!
//! - [`runtime`]: the one process-wide wasmtime engine (pooling, epochs,
//!   cache).
//! - [`manifest`] and [`world`]: what a plugin declares, and the check of
//!   the compiled component against it.
//! - [`sandbox`] and [`host_api`]: the per-call store, WASI policy, limits
//!   and the host interfaces plugins import.
//! - [`version`], [`calls`] and [`mime`]: a loaded version and typed calls
//!   into it.
//! - [`registry`], [`versions`] and [`watcher`]: live versions by name, hot
//!   reload, the version history and rollback.
//! - [`cases`] and [`values`]: the fixture cases a plugin is tested
//!   against (`parley plugin test`, and every load) and their JSON values.

pub mod bindings;
pub mod calls;
pub mod cases;
pub mod error;
mod host_api;
pub mod invoke;
pub mod kv;
pub mod manifest;
pub mod mime;
pub mod observe;
pub mod outbound;
pub mod peers;
pub mod registry;
pub mod runtime;
pub mod sandbox;
pub mod secrets;
pub mod social;
pub mod source;
pub mod values;
pub mod version;
pub mod versions;
pub mod watcher;
pub mod world;

pub use error::{FailureKind, LoadError, PluginError};
pub use manifest::{GrantPolicy, LimitPolicy, Limits, Manifest};
pub use mime::{Direction, FailureAction, MimeOutcome};
pub use registry::Registry;
pub use runtime::{PluginRuntime, RuntimeSettings};
pub use version::{Called, PluginSource, PluginVersion};
pub use world::World;
