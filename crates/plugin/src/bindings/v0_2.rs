//! `parley:plugin@0.2.0`, the latest contract: generated from
//! `wit/v0.2.0` (the `host` world, the union of every plugin world). The
//! host implements its imports in `host_api`.

wasmtime::component::bindgen!({
    world: "host",
    path: "../../wit/v0.2.0",
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
