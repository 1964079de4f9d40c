//! Reading a plugin version from a plugin directory: `plugin.toml`, the
//! component it names, and its fixture cases.

use std::path::Path;

use super::cases::load_cases;
use super::error::LoadError;
use super::manifest::Manifest;
use super::version::PluginSource;

/// Reads the plugin in `dir` (or the manifest path itself).
pub fn read_plugin_dir(path: &Path, origin: &str) -> Result<PluginSource, LoadError> {
    let (manifest, manifest_text) = Manifest::read(path)?;
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let component_path = dir.join(&manifest.component);
    let component = std::fs::read(&component_path).map_err(|e| {
        LoadError::new(
            &manifest.name,
            format!("cannot read {}: {e}", component_path.display()),
        )
    })?;
    let cases =
        load_cases(&dir.join(&manifest.cases)).map_err(|e| LoadError::new(&manifest.name, e))?;
    let mut source = PluginSource::new(manifest, manifest_text, component, origin);
    source.base_dir = Some(dir);
    source.cases = cases;
    Ok(source)
}
