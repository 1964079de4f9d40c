//! Gives the component a larger first memory, so that a call's allocations
//! fit in it without growing memory (each growth costs the host a system
//! call, and a fresh instance would pay it on every call).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=--initial-memory=2097152");
    }
}
