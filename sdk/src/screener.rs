//! The `screener` world: screening rules.
//!
//! Implement [`Guest`] and export it with [`export_screener!`](crate::export_screener).

world_bindings!(
    "screener",
    "export_screener",
    "parley_sdk::screener::bindings"
);

pub use bindings::exports::parley::plugin::screening::Guest;
