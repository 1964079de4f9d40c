//! JSON lifted into component-model values by the WIT types of the
//! bundled plugins' exports, as the invoke API and fixture cases do. An
//! input is written as a fixture case (`{"function", "input", "expect"}`,
//! so the plugins' cases are the seeds): any JSON is a value or a reason,
//! a value prints back as JSON that lifts to the same value, and
//! normalizing an expected result is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_plugin::invoke::params_from_json;
use parley_plugin::values::{from_val, normalize, readable, to_val};
use serde_json::Value as Json;
use std::sync::LazyLock;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Type};
use wasmtime::{Config, Engine};

/// Every exported function of every bundled plugin: its name and type.
static FUNCTIONS: LazyLock<Vec<(String, ComponentFunc)>> = LazyLock::new(|| {
    let engine = Engine::new(&Config::new()).expect("an engine");
    let mut functions = Vec::new();
    for plugin in parley_bundled::all() {
        let component = Component::new(&engine, plugin.component).expect("a bundled component");
        for (_, item) in component.component_type().exports(&engine) {
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                continue;
            };
            for (name, item) in instance.exports(&engine) {
                if let ComponentItem::ComponentFunc(ty) = item.ty {
                    functions.push((format!("{}.{name}", plugin.name), ty));
                }
            }
        }
    }
    assert!(
        !functions.is_empty(),
        "the bundled plugins export functions"
    );
    functions
});

/// Lifting what a value prints as gives the value back.
fn round_trip(json: &Json, ty: &Type, what: &str) {
    let Ok(val) = to_val(json, ty, "") else {
        return;
    };
    let printed = from_val(&val);
    let again = to_val(&printed, ty, "")
        .unwrap_or_else(|e| panic!("{what}: {json} lifted, printed as {printed}, refused: {e}"));
    assert_eq!(again, val, "{what}: {json} printed as {printed}");
    readable(&printed, ty);
}

fuzz_target!(
    // Compiling the bundled plugins is not a unit's time.
    init: {
        LazyLock::force(&FUNCTIONS);
    },
    |data: &[u8]| lift(data)
);

fn lift(data: &[u8]) {
    let Ok(case) = serde_json::from_slice::<Json>(data) else {
        return;
    };
    let Some(wanted) = case["function"].as_str() else {
        return;
    };
    for (name, function) in FUNCTIONS
        .iter()
        .filter(|(name, _)| name.ends_with(&format!(".{wanted}")))
    {
        if let Json::Object(input) = &case["input"]
            && let Ok(values) = params_from_json(function, name, input)
        {
            for ((param, ty), val) in function.params().zip(&values) {
                round_trip(&from_val(val), &ty, &format!("{name}({param})"));
            }
        }
        for ty in function.results() {
            let expect = &case["expect"];
            round_trip(expect, &ty, &format!("{name} result"));
            if let Ok(once) = normalize(expect, &ty) {
                assert_eq!(normalize(&once, &ty).as_ref(), Ok(&once), "{name} result");
            }
        }
    }
}
