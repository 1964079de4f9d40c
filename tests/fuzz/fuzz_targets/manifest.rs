//! The plugin manifest (`plugin.toml`, written by whoever uploads a
//! plugin): any text is a manifest or a reason; a manifest's limits stay
//! within the operator's policy, and it reads back as itself once written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_plugin::manifest::{LimitPolicy, Manifest};
use std::path::Path;

fuzz_target!(|text: &str| {
    let path = Path::new("plugin.toml");
    let Ok(manifest) = Manifest::parse(text, path) else {
        return;
    };
    let policy = LimitPolicy::default();
    if let Ok(limits) = manifest.limits(&policy) {
        assert!(limits.memory_bytes <= policy.max.memory_bytes);
        assert!(limits.deadline <= policy.max.deadline);
        if let Some(mb) = manifest.limits.memory_mb {
            assert_eq!(
                limits.memory_bytes >> 20,
                mb,
                "memory-mb read as another size"
            );
        }
    }
    manifest.config_entries();
    let written = toml::to_string(&manifest).expect("a parsed manifest can be written");
    let again = Manifest::parse(&written, path)
        .unwrap_or_else(|e| panic!("a written manifest reads back: {e}\n{written}"));
    // Compared as text: a `nan` in the configuration equals nothing.
    assert_eq!(toml::to_string(&again).expect("written again"), written);
});
