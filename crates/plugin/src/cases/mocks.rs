//! Mocked `parley:plugin` host imports for fixture cases: every call is
//! recorded; mocks from the case answer first, then defaults that behave
//! like the production host (config from the manifest, an in-memory
//! key-value store, logging); anything else fails the case by name.

use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Linker, Val};
use wasmtime::{Engine, component::Component};

use super::case::{Case, Mock};
use crate::sandbox::HostState;
use crate::values::{bytes_json, from_val, to_val};
use crate::world::imported_functions;

/// A host call made during a case.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// `interface.function`.
    pub function: String,
    /// Arguments by name.
    pub params: Map<String, Json>,
    /// What the mock returned.
    pub result: Json,
}

/// The mocked host of one case.
#[derive(Debug)]
pub struct CaseHost {
    config: BTreeMap<String, String>,
    kv: BTreeMap<String, Vec<u8>>,
    clock: Option<u64>,
    secrets: BTreeMap<String, String>,
    mocks: Vec<Mock>,
    /// Calls in the order they were made.
    pub calls: Vec<RecordedCall>,
}

impl CaseHost {
    /// The host of `case`, over the manifest's configuration.
    pub fn new(case: &Case, manifest_config: &BTreeMap<String, String>) -> CaseHost {
        let mut config = manifest_config.clone();
        for (key, value) in &case.host.config {
            let text = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            config.insert(key.clone(), text);
        }
        CaseHost {
            config,
            kv: case
                .host
                .kv
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                .collect(),
            clock: case.host.clock,
            secrets: case.host.secrets.clone(),
            mocks: case.host.mocks.clone(),
            calls: Vec::new(),
        }
    }

    fn mocked(&self, function: &str, params: &Map<String, Json>) -> Option<Json> {
        self.mocks
            .iter()
            .find(|m| {
                m.function == function
                    && m.params
                        .as_ref()
                        .is_none_or(|want| want.iter().all(|(k, v)| params.get(k) == Some(v)))
            })
            .map(|m| m.result.clone())
    }

    fn text_arg(params: &Map<String, Json>, name: &str) -> String {
        params
            .get(name)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// What the production host would answer, where that needs no mock.
    fn default_answer(
        &mut self,
        function: &str,
        params: &Map<String, Json>,
    ) -> Result<Json, String> {
        let key = Self::text_arg(params, "key");
        Ok(match function {
            "log.log" => Json::Null,
            "config.get" => self.config.get(&key).map_or(Json::Null, |v| json!(v)),
            "config.entries" => json!(
                self.config
                    .iter()
                    .map(|(k, v)| json!([k, v]))
                    .collect::<Vec<_>>()
            ),
            "kv.get" => json!({ "ok": self.kv.get(&key).map(|v| bytes_json(v)) }),
            "kv.set" => {
                let value: Vec<u8> = params
                    .get("value")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|b| b.as_u64().map(|b| b as u8))
                            .collect()
                    })
                    .unwrap_or_default();
                self.kv.insert(key, value);
                json!({ "ok": null })
            }
            "kv.delete" => {
                self.kv.remove(&key);
                json!({ "ok": null })
            }
            "kv.increment" => {
                let delta = params.get("delta").and_then(Json::as_i64).unwrap_or(0);
                let current = self
                    .kv
                    .get(&key)
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
                    .unwrap_or(0);
                let next = current.saturating_add(delta);
                self.kv.insert(key, next.to_string().into_bytes());
                json!({ "ok": next })
            }
            "secrets.get" => {
                let name = Self::text_arg(params, "name");
                match self.secrets.get(&name) {
                    Some(value) => json!({ "ok": value }),
                    None => json!({ "err": {
                        "kind": "not-found",
                        "message": format!("the case gives no secret `{name}` under `host.secrets`"),
                    }}),
                }
            }
            "clock.now" => match self.clock {
                Some(now) => json!(now),
                None => {
                    return Err("`clock.now` was called but the case sets no `host.clock`".into());
                }
            },
            _ => {
                return Err(format!(
                    "no mock for `{function}`: add one under `host.mocks`"
                ));
            }
        })
    }

    /// Answers one host call.
    fn answer(
        &mut self,
        function: &str,
        ty: &ComponentFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), String> {
        let params: Map<String, Json> = ty
            .params()
            .zip(params)
            .map(|((name, _), val)| (name.to_string(), from_val(val)))
            .collect();
        let result = match self.mocked(function, &params) {
            Some(result) => result,
            None => self.default_answer(function, &params)?,
        };
        if let (Some(slot), Some(result_ty)) = (results.first_mut(), ty.results().next()) {
            *slot = to_val(&result, &result_ty, &format!("mock result of `{function}`"))?;
        }
        self.calls.push(RecordedCall {
            function: function.to_string(),
            params,
            result,
        });
        Ok(())
    }
}

/// Defines every `parley:plugin` function the component imports as a
/// recorded mock on `linker`, except the pattern engine, which is pure and
/// runs for real.
pub fn link_mocks(
    linker: &mut Linker<HostState>,
    engine: &Engine,
    component: &Component,
) -> anyhow::Result<()> {
    for (interface, functions) in imported_functions(component, engine) {
        let short = interface
            .split_once('/')
            .map_or(interface.as_str(), |(_, rest)| rest)
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        if short == "patterns" {
            crate::host_api::link_patterns(linker)?;
            continue;
        }
        let mut instance = linker.instance(&interface)?;
        for (name, _) in functions {
            let qualified = format!("{short}.{name}");
            instance.func_new(&name, move |mut store, ty, params, results| {
                let host =
                    store.data_mut().mocks.as_mut().ok_or_else(|| {
                        wasmtime::format_err!("fixture mocks called outside a case")
                    })?;
                host.answer(&qualified, &ty, params, results)
                    .map_err(|message| wasmtime::format_err!("{message}"))
            })?;
        }
    }
    Ok(())
}
