//! Calling any exported function of a plugin version with JSON arguments
//! (fixture cases and the invoke API), typed by the component's own WIT.

use serde_json::{Map, Value as Json};
use wasmtime::Store;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Func, Instance, Val};

use super::bindings::candidate_set_json;
use super::sandbox::HostState;
use super::values::{from_val, to_val};
use super::version::PluginVersion;

/// Converts JSON arguments, keyed by WIT parameter name, into values.
pub fn params_from_json(
    ty: &ComponentFunc,
    function: &str,
    input: &Map<String, Json>,
) -> Result<Vec<Val>, String> {
    if let Some(extra) = input
        .keys()
        .find(|k| !ty.params().any(|(n, _)| n == k.as_str()))
    {
        return Err(format!(
            "input has `{extra}`, which `{function}` does not take"
        ));
    }
    ty.params()
        .map(|(name, param_ty)| {
            let json = input
                .get(name)
                .ok_or_else(|| format!("input has no `{name}`"))?;
            match (function, name, &param_ty, json) {
                // Candidates are written as a list of agents whatever the
                // contract; 0.2.0 and later take them as a `candidate-set`.
                ("pick-agent", "candidates", Type::Record(_), Json::Array(_)) => {
                    let set = candidate_set_json(json).map_err(|e| format!("{name}: {e}"))?;
                    to_val(&set, &param_ty, name)
                }
                _ => to_val(json, &param_ty, name),
            }
        })
        .collect()
}

/// Finds `function` in the exported interface `export` of an instance.
pub fn find_export(
    store: &mut Store<HostState>,
    instance: &Instance,
    export: &str,
    function: &str,
) -> Option<Func> {
    let interface = instance.get_export_index(&mut *store, None, export)?;
    let index = instance.get_export_index(&mut *store, Some(&interface), function)?;
    instance.get_func(&mut *store, index)
}

/// Calls `func` with `params` and returns its result as JSON (`null` for
/// a function without results).
pub async fn call_json(
    store: &mut Store<HostState>,
    func: Func,
    params: &[Val],
) -> wasmtime::Result<Json> {
    let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
    func.call_async(&mut *store, params, &mut results).await?;
    Ok(results.first().map_or(Json::Null, from_val))
}

/// The type of `function` in the interface the version's world exports,
/// read from the component without instantiating it.
pub fn export_type(version: &PluginVersion, function: &str) -> Option<ComponentFunc> {
    let engine = version.engine().engine();
    version
        .component()
        .component_type()
        .exports(engine)
        .filter(|(name, _)| *name == version.export_name())
        .find_map(|(_, item)| match item.ty {
            ComponentItem::ComponentInstance(instance) => {
                instance
                    .exports(engine)
                    .find_map(|(name, item)| match item.ty {
                        ComponentItem::ComponentFunc(ty) if name == function => Some(ty),
                        _ => None,
                    })
            }
            _ => None,
        })
}
