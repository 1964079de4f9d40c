//! Generates the bindings of one plugin world on top of the shared
//! `common` bindings, with a public export macro for plugin crates.

/// `world_bindings!("router", "export_router", "parley_sdk::router::bindings")`
/// generates `pub mod bindings` for the world, against the latest contract
/// or, with the `contract-v0-1` feature, the frozen 0.1.0 one.
macro_rules! world_bindings {
    ($world:literal, $export_macro:literal, $module:literal) => {
        #[doc(hidden)]
        #[allow(missing_docs)]
        pub mod bindings {
            #[cfg(not(feature = "contract-v0-1"))]
            wit_bindgen::generate!({
                world: $world,
                path: "wit",
                with: {
                    "parley:plugin/types@0.2.0": crate::bindings::parley::plugin::types,
                    "parley:plugin/log@0.2.0": crate::bindings::parley::plugin::log,
                    "parley:plugin/config@0.2.0": crate::bindings::parley::plugin::config,
                    "parley:plugin/kv@0.2.0": crate::bindings::parley::plugin::kv,
                    "parley:plugin/clock@0.2.0": crate::bindings::parley::plugin::clock,
                    "parley:plugin/secrets@0.2.0": crate::bindings::parley::plugin::secrets,
                    "parley:plugin/patterns@0.2.0": crate::bindings::parley::plugin::patterns,
                },
                pub_export_macro: true,
                export_macro_name: $export_macro,
                default_bindings_module: $module,
            });
            #[cfg(feature = "contract-v0-1")]
            wit_bindgen::generate!({
                world: $world,
                path: "wit-v0.1.0",
                with: {
                    "parley:plugin/types@0.1.0": crate::bindings::parley::plugin::types,
                    "parley:plugin/log@0.1.0": crate::bindings::parley::plugin::log,
                    "parley:plugin/config@0.1.0": crate::bindings::parley::plugin::config,
                    "parley:plugin/kv@0.1.0": crate::bindings::parley::plugin::kv,
                    "parley:plugin/clock@0.1.0": crate::bindings::parley::plugin::clock,
                },
                pub_export_macro: true,
                export_macro_name: $export_macro,
                default_bindings_module: $module,
            });
        }
    };
}
