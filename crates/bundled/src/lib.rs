//! The reference plugins built into the `parley` binary (compiled from
//! `plugins/` by the build script), installed into a plugin directory on
//! first start. A crate of its own so that editing a plugin rebuilds only
//! this crate and the binary.

use std::path::{Path, PathBuf};

/// A plugin built into the binary.
#[derive(Debug)]
pub struct BundledPlugin {
    /// Plugin name.
    pub name: &'static str,
    /// `plugin.toml` text.
    pub manifest: &'static str,
    /// File name of the component.
    pub component_file: &'static str,
    /// Component bytes.
    pub component: &'static [u8],
    /// Fixture cases: file name and JSON text.
    pub cases: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// Every bundled plugin.
pub fn all() -> &'static [BundledPlugin] {
    BUNDLED
}

/// The bundled plugin called `name`.
pub fn find(name: &str) -> Option<&'static BundledPlugin> {
    BUNDLED.iter().find(|p| p.name == name)
}

impl BundledPlugin {
    /// Writes the plugin into `plugins_dir/<name>` and returns that path.
    pub fn install(&self, plugins_dir: &Path) -> std::io::Result<PathBuf> {
        let dir = plugins_dir.join(self.name);
        std::fs::create_dir_all(dir.join("cases"))?;
        std::fs::write(dir.join("plugin.toml"), self.manifest)?;
        std::fs::write(dir.join(self.component_file), self.component)?;
        for (file, text) in self.cases {
            std::fs::write(dir.join("cases").join(file), text)?;
        }
        Ok(dir)
    }
}

/// Installs every bundled plugin that `plugins_dir` does not have yet.
/// Returns the names installed.
pub fn install_missing(plugins_dir: &Path) -> std::io::Result<Vec<&'static str>> {
    let mut installed = Vec::new();
    for plugin in BUNDLED {
        if !plugins_dir.join(plugin.name).exists() {
            plugin.install(plugins_dir)?;
            installed.push(plugin.name);
        }
    }
    Ok(installed)
}
