//! The plugin's configuration values, from the `[config]` table of its
//! manifest. Strings arrive as they are; other TOML values (numbers,
//! arrays, tables) arrive as JSON text, which [`json`] decodes.

use crate::Error;
use crate::bindings::parley::plugin::config as host;
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// The raw text of `key`, if configured.
pub fn text(key: &str) -> Option<String> {
    host::get(key)
}

/// Every configured key and value, sorted by key.
pub fn entries() -> Vec<(String, String)> {
    host::entries()
}

/// `key` parsed with [`FromStr`] (numbers, booleans...), or `default` when
/// it is not configured. A value that does not parse is an error naming
/// the key.
pub fn parse_or<T: FromStr>(key: &str, default: T) -> Result<T, Error> {
    match host::get(key) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| Error::invalid_input(format!("config `{key}`: cannot parse `{raw}`"))),
    }
}

/// `key` decoded from JSON into `T`, or `None` when it is not configured.
/// A value that does not decode is an error naming the key.
pub fn json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    host::get(key)
        .map(|raw| {
            serde_json::from_str(&raw)
                .map_err(|e| Error::invalid_input(format!("config `{key}`: {e}")))
        })
        .transpose()
}
