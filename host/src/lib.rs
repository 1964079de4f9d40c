//! # Parley
//!
//! An open-source digital-engagement (contact-center) platform: the host
//! runtime owns queues, storage and protocol I/O, and everything a
//! customer customises (routing strategies, screening rules, ...) is a
//! sandboxed WebAssembly component loaded through the `parley:plugin` WIT
//! contract.
//!
//! - [`agents`]: accounts, roles, skills, capacity rules and presence.
//! - [`chat`]: the web chat channel (sessions, transcripts, live delivery).
//! - [`content`]: the content of stored interactions as screeners see it.
//! - [`email`]: the e-mail channel (parsing and threading so far).
//! - [`engine`]: routing, assignment and operations on interactions.
//! - [`fields`]: field codes in standard responses.
//! - [`plugin`]: the plugin runtime (engine, sandbox, hot reload, fixtures).
//! - [`process`]: business processes (queues, views, workbins).
//! - [`retention`]: archiving and deleting finished interactions.
//! - [`store`]: durable interactions and their event log, contacts and
//!   their history with full-text search, standard responses (SQLite or
//!   PostgreSQL).
//! - [`server`]: the HTTP API.
//! - [`cli`]: the `parley` command line.
//! - [`settings`]: the server's configuration file.

pub mod agents;
pub mod chat;
pub mod cli;
pub mod content;
pub mod email;
pub mod engine;
pub mod fields;
pub mod plugin;
pub mod process;
pub mod retention;
pub mod server;
pub mod settings;
pub mod store;
pub mod watch;
