//! Bindings of the `common` world: the shared types and host imports.
//! Each world module reuses these through `with`, so every world sees the
//! same Rust types.

#![allow(missing_docs)] // generated code; the WIT documents it

#[cfg(not(feature = "contract-v0-1"))]
wit_bindgen::generate!({
    world: "common",
    path: "wit",
    generate_all,
});

#[cfg(feature = "contract-v0-1")]
wit_bindgen::generate!({
    world: "common",
    path: "wit-v0.1.0",
    generate_all,
});
