//! The per-plugin key-value store behind `parley:plugin/kv`.
//!
//! Each plugin name has its own namespace, shared by all its versions, so
//! state survives hot reloads and rollbacks. Entries live in memory for
//! the life of the server process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 << 10;
/// Most keys one plugin may hold.
pub const MAX_KEYS: usize = 10_000;

/// Why a key-value operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// Key or value too large, or a counter operation on a non-counter.
    #[error("{0}")]
    Invalid(String),
    /// The plugin holds the most keys it may.
    #[error("the store is full ({MAX_KEYS} keys)")]
    Full,
}

/// One plugin's namespace.
#[derive(Debug, Default)]
pub struct KvStore {
    entries: Mutex<HashMap<String, Vec<u8>>>,
}

fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(KvError::Invalid(format!(
            "keys must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

impl KvStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        Ok(self.lock().get(key).cloned())
    }

    /// Stores `value` under `key`.
    pub fn set(&self, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        check_key(key)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(KvError::Invalid(format!(
                "values must be at most {MAX_VALUE_BYTES} bytes"
            )));
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            return Err(KvError::Full);
        }
        entries.insert(key.to_string(), value);
        Ok(())
    }

    /// Removes `key`.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        check_key(key)?;
        self.lock().remove(key);
        Ok(())
    }

    /// Adds `delta` to the decimal counter under `key` and returns it.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        check_key(key)?;
        let mut entries = self.lock();
        let current = match entries.get(key) {
            None => 0,
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| KvError::Invalid(format!("`{key}` does not hold a counter")))?,
        };
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            return Err(KvError::Full);
        }
        let next = current
            .checked_add(delta)
            .ok_or_else(|| KvError::Invalid(format!("counter `{key}` would overflow")))?;
        entries.insert(key.to_string(), next.to_string().into_bytes());
        Ok(next)
    }
}

/// The namespaces of every plugin.
#[derive(Debug, Default)]
pub struct KvSpace {
    stores: Mutex<HashMap<String, Arc<KvStore>>>,
}

impl KvSpace {
    /// The namespace of `plugin`, created on first use.
    pub fn for_plugin(&self, plugin: &str) -> Arc<KvStore> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        stores.entry(plugin.to_string()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete() {
        let kv = KvStore::default();
        kv.set("a", b"1".to_vec()).unwrap();
        assert_eq!(kv.get("a").unwrap(), Some(b"1".to_vec()));
        kv.delete("a").unwrap();
        assert_eq!(kv.get("a").unwrap(), None);
    }

    #[test]
    fn counters_add_up_and_refuse_text() {
        let kv = KvStore::default();
        assert_eq!(kv.increment("n", 2).unwrap(), 2);
        assert_eq!(kv.increment("n", -5).unwrap(), -3);
        kv.set("t", b"hello".to_vec()).unwrap();
        assert!(matches!(kv.increment("t", 1), Err(KvError::Invalid(_))));
    }

    #[test]
    fn limits_are_enforced() {
        let kv = KvStore::default();
        assert!(kv.set("", vec![]).is_err());
        assert!(kv.set("k", vec![0; MAX_VALUE_BYTES + 1]).is_err());
        for i in 0..MAX_KEYS {
            kv.set(&i.to_string(), vec![]).unwrap();
        }
        assert_eq!(kv.set("one-more", vec![]), Err(KvError::Full));
        kv.set("0", b"replacing is fine".to_vec()).unwrap();
    }

    #[test]
    fn namespaces_are_separate() {
        let space = KvSpace::default();
        space.for_plugin("a").set("k", b"a".to_vec()).unwrap();
        assert_eq!(space.for_plugin("b").get("k").unwrap(), None);
        assert_eq!(space.for_plugin("a").get("k").unwrap(), Some(b"a".to_vec()));
    }
}
