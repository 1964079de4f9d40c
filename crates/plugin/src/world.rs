//! The plugin worlds of `parley:plugin`, and the check that a compiled
//! component matches the world its manifest declares and imports only
//! what its grants allow.

use serde::{Deserialize, Serialize};
use std::fmt;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use super::bindings::ContractVersion;
use super::manifest::Capabilities;

/// The WIT package every plugin world belongs to.
pub const PACKAGE: &str = "parley:plugin";

/// A plugin world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Routing strategies (`export routing`).
    Router,
    /// Screening rules (`export screening`).
    Screener,
    /// MIME transforms of the e-mail channel (`export mime-transform`).
    MimeTransformer,
    /// Drivers of social channels (`export social`), since 0.2.1.
    SocialDriver,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::Router => "router",
            World::Screener => "screener",
            World::MimeTransformer => "mime-transformer",
            World::SocialDriver => "social-driver",
        })
    }
}

/// A host interface a plugin may import, with the grant it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostInterface {
    Types,
    Log,
    Config,
    Kv,
    Clock,
    Plugins,
    Secrets,
    Patterns,
}

impl HostInterface {
    fn from_name(name: &str) -> Option<HostInterface> {
        Some(match name {
            "types" => HostInterface::Types,
            "log" => HostInterface::Log,
            "config" => HostInterface::Config,
            "kv" => HostInterface::Kv,
            "clock" => HostInterface::Clock,
            "plugins" => HostInterface::Plugins,
            "secrets" => HostInterface::Secrets,
            "patterns" => HostInterface::Patterns,
            _ => return None,
        })
    }

    /// The contract version that added the interface.
    fn since(self) -> ContractVersion {
        match self {
            HostInterface::Secrets | HostInterface::Patterns => ContractVersion::V0_2,
            _ => ContractVersion::V0_1,
        }
    }

    /// The grant this interface needs, if any, as named in a manifest.
    fn required_grant(self, grants: &Capabilities) -> Option<&'static str> {
        match self {
            HostInterface::Kv if !grants.kv => Some("kv = true"),
            HostInterface::Clock if !grants.clock => Some("clock = true"),
            HostInterface::Plugins if grants.calls.is_empty() => Some("calls = [...]"),
            HostInterface::Secrets if grants.secrets.is_empty() => Some("secrets = [...]"),
            _ => None,
        }
    }
}

impl World {
    /// The interface this world exports.
    pub fn export_interface(self) -> &'static str {
        match self {
            World::Router => "routing",
            World::Screener => "screening",
            World::MimeTransformer => "mime-transform",
            World::SocialDriver => "social",
        }
    }

    /// The contract release that added the world.
    pub fn since(self) -> &'static str {
        match self {
            World::SocialDriver => "0.2.1",
            _ => "0.1.0",
        }
    }

    /// Whether plugins of this world may import `parley:plugin/plugins`.
    pub fn may_call_plugins(self) -> bool {
        self == World::Router
    }

    fn imports(self, interface: HostInterface) -> bool {
        interface != HostInterface::Plugins || self.may_call_plugins()
    }
}

/// A qualified WIT name split into package, interface and version.
struct QualifiedName<'a> {
    package: &'a str,
    interface: &'a str,
    version: Option<&'a str>,
}

fn split_name(name: &str) -> Option<QualifiedName<'_>> {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    Some(QualifiedName {
        package,
        interface,
        version,
    })
}

/// The released contract version `version` is semver-compatible with.
fn compatible(version: Option<&str>) -> Option<ContractVersion> {
    ContractVersion::compatible_with(version?)
}

/// A release's numbers, to order releases.
fn release_order(release: &str) -> Vec<u64> {
    release.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

/// The releases this host implements, for messages.
fn supported() -> String {
    ContractVersion::ALL
        .iter()
        .flat_map(|v| v.releases().iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The imports and exports of a component, by name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComponentShape {
    /// Names of the component's imports.
    pub imports: Vec<String>,
    /// Names of the component's exports.
    pub exports: Vec<String>,
}

impl ComponentShape {
    /// Reads the shape of a compiled component.
    pub fn of(component: &Component, engine: &Engine) -> ComponentShape {
        let ty = component.component_type();
        ComponentShape {
            imports: ty
                .imports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
            exports: ty
                .exports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
        }
    }

    /// Checks the shape against `world` and `grants` and returns the name
    /// of the exported world interface as the component spells it, with
    /// the contract version it was built against (any version this host
    /// implements, patch versions included). The error names the offending
    /// import or export.
    pub fn check(
        &self,
        world: World,
        grants: &Capabilities,
    ) -> Result<(String, ContractVersion), String> {
        let wanted = format!("{PACKAGE}/{}", world.export_interface());
        let exported = self.exports.iter().find_map(|e| {
            let name = split_name(e)?;
            (format!("{}/{}", name.package, name.interface) == wanted)
                .then(|| compatible(name.version))
                .flatten()
                .map(|contract| (e.clone(), contract))
        });
        let Some((exported, contract)) = exported else {
            return Err(format!(
                "declares world `{world}` but does not export `{wanted}` of a version this host implements ({}) (it exports: {})",
                supported(),
                if self.exports.is_empty() {
                    "nothing".to_string()
                } else {
                    self.exports.join(", ")
                }
            ));
        };
        let release = split_name(&exported)
            .and_then(|name| name.version)
            .unwrap_or_default();
        if release_order(release) < release_order(world.since()) {
            return Err(format!(
                "exports `{exported}`, but the `{world}` world was added in {PACKAGE}@{}",
                world.since()
            ));
        }
        let problems: Vec<String> = self
            .imports
            .iter()
            .filter_map(|import| check_import(import, world, contract, grants).err())
            .collect();
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok((exported, contract))
    }
}

/// Checks one import of a component built against `contract`.
fn check_import(
    import: &str,
    world: World,
    contract: ContractVersion,
    grants: &Capabilities,
) -> Result<(), String> {
    let Some(name) = split_name(import) else {
        return Err(format!(
            "imports `{import}`, which is not an interface of any Parley world"
        ));
    };
    if name.package == "wasi:http" && grants.http.is_empty() {
        return Err(format!(
            "imports `{import}` but its manifest does not grant outbound HTTP (add `http = [\"https://host\"]` under [capabilities])"
        ));
    }
    if name.package.split(':').next() == Some("wasi") {
        // WASI is linked with a context that denies everything the
        // manifest does not grant (see `sandbox`), outbound HTTP with the
        // origins it grants (see `outbound`).
        return Ok(());
    }
    if name.package != PACKAGE {
        return Err(format!(
            "imports `{import}`, which is not an interface of any Parley world"
        ));
    }
    match compatible(name.version) {
        None => {
            return Err(format!(
                "imports `{import}`, built against a version of {PACKAGE} this host does not implement ({})",
                supported()
            ));
        }
        Some(version) if version != contract => {
            return Err(format!(
                "imports `{import}` but exports the `{world}` world of {PACKAGE}@{}: a component is built against one version of the contract",
                contract.as_str()
            ));
        }
        Some(_) => {}
    }
    let interface = HostInterface::from_name(name.interface)
        .filter(|i| world.imports(*i) && i.since() <= contract)
        .ok_or_else(|| format!("imports `{import}`, which the `{world}` world does not provide"))?;
    if let Some(grant) = interface.required_grant(grants) {
        return Err(format!(
            "imports `{import}` but its manifest does not grant it (add `{grant}` under [capabilities])"
        ));
    }
    Ok(())
}

/// The functions a component imports from one host interface, with their
/// types, for linking mocks in fixture tests.
pub fn imported_functions(
    component: &Component,
    engine: &Engine,
) -> Vec<(
    String,
    Vec<(String, wasmtime::component::types::ComponentFunc)>,
)> {
    component
        .component_type()
        .imports(engine)
        .filter_map(|(name, item)| match item.ty {
            ComponentItem::ComponentInstance(instance) if name.starts_with(PACKAGE) => {
                let funcs = instance
                    .exports(engine)
                    .filter_map(|(f, item)| match item.ty {
                        ComponentItem::ComponentFunc(ty) => Some((f.to_string(), ty)),
                        _ => None,
                    })
                    .collect();
                Some((name.to_string(), funcs))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(imports: &[&str], exports: &[&str]) -> ComponentShape {
        ComponentShape {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn router_with_log_and_wasi_passes() {
        let s = shape(
            &["parley:plugin/log@0.1.0", "wasi:cli/environment@0.2.6"],
            &["parley:plugin/routing@0.1.0"],
        );
        s.check(World::Router, &Capabilities::default()).unwrap();
    }

    #[test]
    fn missing_export_names_the_world_and_exports() {
        let s = shape(&[], &["parley:plugin/screening@0.1.0"]);
        let err = s
            .check(World::Router, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("parley:plugin/routing` of a version"), "{err}");
        assert!(err.contains("(0.1.0, 0.2.0, 0.2.1)"), "{err}");
        assert!(
            err.contains("it exports: parley:plugin/screening@0.1.0"),
            "{err}"
        );
    }

    #[test]
    fn ungranted_import_is_named_with_the_grant() {
        let s = shape(
            &["parley:plugin/kv@0.1.0"],
            &["parley:plugin/routing@0.1.0"],
        );
        let err = s
            .check(World::Router, &Capabilities::default())
            .unwrap_err();
        assert!(
            err.contains("parley:plugin/kv@0.1.0") && err.contains("kv = true"),
            "{err}"
        );
    }

    #[test]
    fn screeners_cannot_import_plugins() {
        let grants = Capabilities {
            calls: vec!["x".into()],
            ..Capabilities::default()
        };
        let s = shape(
            &["parley:plugin/plugins@0.1.0"],
            &["parley:plugin/screening@0.1.0"],
        );
        let err = s.check(World::Screener, &grants).unwrap_err();
        assert!(err.contains("does not provide"), "{err}");
    }

    #[test]
    fn mime_transformers_export_mime_transform_and_cannot_call_plugins() {
        let s = shape(
            &["parley:plugin/config@0.1.0"],
            &["parley:plugin/mime-transform@0.1.0"],
        );
        assert_eq!(
            s.check(World::MimeTransformer, &Capabilities::default())
                .unwrap(),
            (
                "parley:plugin/mime-transform@0.1.0".to_string(),
                ContractVersion::V0_1
            )
        );
        let err = s
            .check(World::Screener, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("parley:plugin/screening`"), "{err}");
        let grants = Capabilities {
            calls: vec!["x".into()],
            ..Capabilities::default()
        };
        let calling = shape(
            &["parley:plugin/plugins@0.1.0"],
            &["parley:plugin/mime-transform@0.1.0"],
        );
        let err = calling.check(World::MimeTransformer, &grants).unwrap_err();
        assert!(err.contains("does not provide"), "{err}");
    }

    #[test]
    fn foreign_and_incompatible_imports_are_refused() {
        let foreign = shape(&["acme:evil/net@1.0.0"], &["parley:plugin/routing@0.1.0"]);
        assert!(
            foreign
                .check(World::Router, &Capabilities::default())
                .is_err()
        );
        let future = shape(
            &["parley:plugin/log@0.3.0"],
            &["parley:plugin/routing@0.2.0"],
        );
        let err = future
            .check(World::Router, &Capabilities::default())
            .unwrap_err();
        assert!(
            err.contains("does not implement (0.1.0, 0.2.0, 0.2.1)"),
            "{err}"
        );
        let mixed = shape(
            &["parley:plugin/log@0.2.0"],
            &["parley:plugin/routing@0.1.0"],
        );
        let err = mixed
            .check(World::Router, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("one version of the contract"), "{err}");
        let patch = shape(
            &["parley:plugin/log@0.1.3"],
            &["parley:plugin/routing@0.1.2"],
        );
        assert_eq!(
            patch
                .check(World::Router, &Capabilities::default())
                .unwrap()
                .1,
            ContractVersion::V0_1
        );
    }

    #[test]
    fn the_social_driver_world_needs_0_2_1() {
        let driver = shape(
            &["parley:plugin/config@0.2.1"],
            &["parley:plugin/social@0.2.1"],
        );
        let (exported, contract) = driver
            .check(World::SocialDriver, &Capabilities::default())
            .unwrap();
        assert_eq!(
            (exported.as_str(), contract),
            ("parley:plugin/social@0.2.1", ContractVersion::V0_2)
        );
        let early = shape(&[], &["parley:plugin/social@0.2.0"]);
        let err = early
            .check(World::SocialDriver, &Capabilities::default())
            .unwrap_err();
        assert!(
            err.contains("the `social-driver` world was added in parley:plugin@0.2.1"),
            "{err}"
        );
        let calling = shape(
            &["parley:plugin/plugins@0.2.1"],
            &["parley:plugin/social@0.2.1"],
        );
        let err = calling
            .check(World::SocialDriver, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("does not provide"), "{err}");
    }

    #[test]
    fn interfaces_added_later_are_not_in_older_versions() {
        let s = shape(
            &["parley:plugin/patterns@0.2.0"],
            &["parley:plugin/routing@0.2.0"],
        );
        s.check(World::Router, &Capabilities::default()).unwrap();
        let old = shape(
            &["parley:plugin/patterns@0.1.0"],
            &["parley:plugin/routing@0.1.0"],
        );
        let err = old
            .check(World::Router, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("does not provide"), "{err}");
        let secrets = shape(
            &["parley:plugin/secrets@0.2.0"],
            &["parley:plugin/screening@0.2.0"],
        );
        let err = secrets
            .check(World::Screener, &Capabilities::default())
            .unwrap_err();
        assert!(err.contains("secrets = [...]"), "{err}");
        let grants = Capabilities {
            secrets: vec!["crm-token".into()],
            ..Capabilities::default()
        };
        secrets.check(World::Screener, &grants).unwrap();
    }
}
