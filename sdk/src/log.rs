//! Structured logging into the host's log. The host tags every line with
//! the plugin's name and version.

pub use crate::bindings::parley::plugin::log::Level;
use crate::bindings::parley::plugin::log::log;

/// Logs `message` at `level` with structured `fields`.
pub fn with_fields(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    log(level, message, &fields);
}

/// Logs a debugging line.
pub fn debug(message: &str) {
    log(Level::Debug, message, &[]);
}

/// Logs an informational line.
pub fn info(message: &str) {
    log(Level::Info, message, &[]);
}

/// Logs a warning.
pub fn warn(message: &str) {
    log(Level::Warn, message, &[]);
}

/// Logs an error.
pub fn error(message: &str) {
    log(Level::Error, message, &[]);
}
