//! Integration tests of Parley, one module per capability.

mod api;
mod cli;
mod engine;
mod faults;
mod history;
mod hot_reload;
mod instances;
mod processes;
mod sandbox;
mod store;
