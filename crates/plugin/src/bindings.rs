//! Host bindings of the `parley:plugin` WIT package, generated once from
//! the `host` world (the union of all plugin worlds).

#![allow(missing_docs)] // generated code; the WIT documents it

wasmtime::component::bindgen!({
    world: "host",
    path: "../../wit",
    imports: {
        "parley:plugin/plugins.screen": async | trappable,
        "parley:plugin/plugins.screen-interaction": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});

pub use exports::parley::plugin::{mime_transform, routing, screening};
pub use parley::plugin::types;
