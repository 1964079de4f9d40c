//! `parley:plugin@0.2`, the latest contract: generated from its latest
//! release, `wit/v0.2.1` (the `host` world, the union of every plugin
//! world). A release of the same minor version only adds to the one
//! before, so this module serves components built against any of them:
//! wasmtime matches a component's `@0.2.0` names to these `@0.2.1` ones
//! (semver-compatible, for imports and exports alike). The host
//! implements its imports in `host_api`.

wasmtime::component::bindgen!({
    world: "host",
    path: "../../wit/v0.2.1",
    with: {
        "parley:plugin/patterns.regex": crate::host_api::patterns::CompiledRegex,
    },
    imports: {
        "parley:plugin/plugins.screen": async | trappable,
        "parley:plugin/plugins.screen-interaction": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});
