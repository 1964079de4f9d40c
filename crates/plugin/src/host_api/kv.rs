//! `parley:plugin/kv`: the per-plugin key-value store (`kv` grant).

use super::host_error;
use super::iface::kv::Host;
use crate::bindings::types::{Error, ErrorKind};
use crate::kv::{KvError, KvStore};
use crate::observe::tape::tape;
use crate::observe::wit_json;
use crate::sandbox::HostState;
use crate::values::bytes_json;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

impl HostState {
    fn kv(&self) -> Result<Arc<KvStore>, Error> {
        self.ctx
            .kv
            .clone()
            .ok_or_else(|| host_error(ErrorKind::Denied, "the manifest does not grant `kv`"))
    }
}

fn to_wit(err: KvError) -> Error {
    match err {
        KvError::Invalid(message) => host_error(ErrorKind::InvalidInput, message),
        KvError::Full => host_error(ErrorKind::Unavailable, err.to_string()),
    }
}

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let got = self.kv().and_then(|kv| kv.get(&key).map_err(to_wit));
        tape(&self.ctx.name, "kv.get", || {
            let params = Map::from_iter([("key".to_string(), key.clone().into())]);
            let result = wit_json::result(&got, |v| v.as_deref().map_or(Json::Null, bytes_json));
            (params, result)
        });
        Ok(got)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv().and_then(|kv| kv.set(&key, value).map_err(to_wit)))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv().and_then(|kv| kv.delete(&key).map_err(to_wit)))
    }

    fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        Ok(self
            .kv()
            .and_then(|kv| kv.increment(&key, delta).map_err(to_wit)))
    }
}
