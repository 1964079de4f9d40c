//! # Parley
//!
//! An open-source digital-engagement (contact-center) platform: the host
//! runtime owns queues, storage and protocol I/O, and everything a
//! customer customises (routing strategies, screening rules, MIME
//! transforms...) is a sandboxed WebAssembly component loaded through the
//! `parley:plugin` WIT contract.
//!
//! This crate is the `parley` command and the composition root; the parts
//! are crates of their own (`crates/`), from the bottom up:
//!
//! - `parley-core`: media types, agents and their rules, time, watching.
//! - `parley-plugin`: the plugin runtime (sandbox, hot reload, cases,
//!   recording and shadow runs); `parley-bundled`: the reference plugins
//!   compiled into the binary.
//! - `parley-store`: interactions, the event log, channels' content,
//!   contacts, standard responses and retention (SQLite or PostgreSQL).
//! - `parley-engine`: business processes, routing and operations.
//! - `parley-chat`, `parley-email`: the channels.
//! - `parley-server`: the HTTP API, event stream and pages.
//!
//! Here: [`app`] wires them from the [`settings`]; [`cli`] is the command
//! line.

pub mod app;
pub mod cli;
pub mod settings;
