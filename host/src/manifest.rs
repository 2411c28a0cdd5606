//! The Spin application manifest (`spin.toml`, `spin_manifest_version = 2`):
//! its serde model and the checks Spin makes when it loads it, so a manifest
//! that Spin 4 would refuse is refused here too, with a message that names the
//! culprit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

// Fields that Spin accepts but crm-host has no use for (descriptions, build
// watch lists, registry sources, ...) are still modelled, so manifests
// written for Spin load here and unknown fields can be refused.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, AppVariable>,
    #[serde(default)]
    pub trigger: BTreeMap<String, Vec<HttpTrigger>>,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    /// Application-level trigger settings; none apply to the HTTP trigger.
    pub trigger: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AppVariable {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct HttpTrigger {
    pub id: Option<String>,
    pub route: RouteSpec,
    pub component: String,
    pub executor: Option<toml::Table>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    Path(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Component {
    pub source: String,
    pub description: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<FileMount>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    pub build: Option<Build>,
    pub tool: Option<toml::Table>,
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FileMount {
    Pattern(String),
    Placement { source: String, destination: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Build {
    pub command: BuildCommand,
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BuildCommand {
    One(String),
    Many(Vec<String>),
}

impl BuildCommand {
    pub fn commands(&self) -> Vec<&str> {
        match self {
            Self::One(command) => vec![command],
            Self::Many(commands) => commands.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum Dependency {
    Path {
        path: String,
        export: Option<String>,
        inherit_configuration: Option<InheritSetting>,
    },
    Component {
        component: String,
        export: Option<String>,
        inherit_configuration: Option<InheritSetting>,
    },
    Registry {
        version: String,
        registry: Option<String>,
        package: Option<String>,
        export: Option<String>,
    },
    Url {
        url: String,
        digest: String,
        export: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InheritSetting {
    All(bool),
    Some(Vec<String>),
}

/// The capability sets a dependency may inherit, as Spin 4 names them.
pub const CAPABILITY_SETS: &[&str] = &[
    "ai_models",
    "allowed_outbound_hosts",
    "environment",
    "files",
    "key_value_stores",
    "sqlite_databases",
    "variables",
];

/// A loaded manifest and the directory its relative paths start from.
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

/// Reads `spin.toml` (or `<dir>/spin.toml`) and checks it.
pub fn load(path: &Path) -> Result<LoadedManifest> {
    let path = if path.is_dir() {
        path.join("spin.toml")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    let manifest = parse(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
    let path = std::path::absolute(&path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(LoadedManifest { manifest, dir })
}

/// Parses and validates manifest text.
pub fn parse(text: &str) -> Result<Manifest> {
    let raw: toml::Table = toml::from_str(text).context("not valid TOML")?;
    match raw.get("spin_manifest_version") {
        Some(toml::Value::Integer(2)) => {}
        Some(toml::Value::String(v)) if v == "1" => {
            bail!("manifest version 1 is not supported: use `spin_manifest_version = 2`")
        }
        Some(other) => bail!("unsupported `spin_manifest_version = {other}`: expected 2"),
        None => bail!("missing `spin_manifest_version = 2`"),
    }
    let manifest: Manifest = raw
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{}", e.message().trim_end()))?;
    validate(&manifest)?;
    Ok(manifest)
}

fn validate(manifest: &Manifest) -> Result<()> {
    for (name, variable) in &manifest.variables {
        ensure!(
            is_variable_name(name),
            "variable `{name}`: names are lower-case letters, digits and underscores, starting with a letter"
        );
        ensure!(
            variable.required != variable.default.is_some(),
            "variable `{name}`: give either `default` or `required = true`"
        );
    }
    for (trigger_type, triggers) in &manifest.trigger {
        ensure!(
            trigger_type == "http",
            "trigger type `{trigger_type}` is not supported by crm-host (only `http`)"
        );
        for trigger in triggers {
            ensure!(
                manifest.component.contains_key(&trigger.component),
                "[[trigger.http]] route {:?} names component `{}`, which is not defined",
                trigger.route,
                trigger.component
            );
            match &trigger.route {
                RouteSpec::Path(route) => check_route(route)?,
                RouteSpec::Private(p) => ensure!(
                    p.private,
                    "component `{}`: `route = {{ private = false }}` is not a route",
                    trigger.component
                ),
            }
        }
    }
    for (id, component) in &manifest.component {
        check_component(id, component, manifest)?;
    }
    Ok(())
}

fn check_route(route: &str) -> Result<()> {
    ensure!(
        route.starts_with('/'),
        "route `{route}` must start with `/`"
    );
    let body = route.strip_suffix("/...").unwrap_or(route);
    ensure!(
        !body.contains("...") && !route.contains("//"),
        "route `{route}`: a wildcard `/...` may appear only at the end"
    );
    Ok(())
}

fn check_component(id: &str, component: &Component, manifest: &Manifest) -> Result<()> {
    ensure!(
        is_component_id(id),
        "component id `{id}`: ids are lower-case kebab-case (letters, digits, `-`)"
    );
    for name in component.variables.keys() {
        ensure!(
            is_variable_name(name),
            "component `{id}`: variable `{name}` is not a valid name"
        );
    }
    for host in &component.allowed_outbound_hosts {
        // Templates are checked once their variables are resolved.
        if !host.contains("{{") {
            crate::capabilities::outbound_http::AllowedHost::parse(host)
                .with_context(|| format!("component `{id}`: allowed_outbound_hosts"))?;
        }
    }
    for label in component
        .key_value_stores
        .iter()
        .chain(&component.sqlite_databases)
    {
        ensure!(
            !label.is_empty(),
            "component `{id}`: store and database labels may not be empty"
        );
    }
    let per_dependency = component.dependencies.values().any(|d| {
        matches!(
            d,
            Dependency::Path {
                inherit_configuration: Some(_),
                ..
            } | Dependency::Component {
                inherit_configuration: Some(_),
                ..
            }
        )
    });
    ensure!(
        !(component.dependencies_inherit_configuration && per_dependency),
        "component `{id}`: `dependencies_inherit_configuration` and per-dependency `inherit_configuration` cannot be mixed"
    );
    for (name, dependency) in &component.dependencies {
        let inherit = match dependency {
            Dependency::Path {
                inherit_configuration,
                ..
            } => inherit_configuration,
            Dependency::Component {
                component: other,
                inherit_configuration,
                ..
            } => {
                let Some(target) = manifest.component.get(other) else {
                    bail!(
                        "component `{id}`: dependency `{name}` names component `{other}`, which is not defined"
                    );
                };
                ensure!(
                    target.has_no_resources(),
                    "component `{id}`: dependency `{name}` names component `{other}`, which has its own resources or permissions; Dependencies may not have their own resources"
                );
                inherit_configuration
            }
            Dependency::Registry { .. } | Dependency::Url { .. } => bail!(
                "component `{id}`: dependency `{name}` comes from a registry or URL; crm-host loads dependencies from `path` or `component` only"
            ),
        };
        if let Some(InheritSetting::Some(sets)) = inherit {
            for set in sets {
                ensure!(
                    CAPABILITY_SETS.contains(&set.as_str()),
                    "component `{id}`: dependency `{name}`: unknown inherit_configuration entry `{set}` (known: {})",
                    CAPABILITY_SETS.join(", ")
                );
            }
        }
    }
    Ok(())
}

impl Component {
    fn has_no_resources(&self) -> bool {
        self.variables.is_empty()
            && self.environment.is_empty()
            && self.files.is_empty()
            && self.allowed_outbound_hosts.is_empty()
            && self.key_value_stores.is_empty()
            && self.sqlite_databases.is_empty()
            && self.ai_models.is_empty()
            && self.dependencies.is_empty()
    }
}

fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_component_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = { private = true }
component = "internal"
[component.api]
source = "api.wasm"
sqlite_databases = ["default"]
allowed_outbound_hosts = ["https://*.example.com", "http://self"]
[component.api.dependencies]
"crm:consent/decisions@0.1.0" = { path = "leaf.wasm", inherit_configuration = ["sqlite_databases"] }
[component.internal]
source = "internal.wasm"
"#;

    fn error_of(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn a_good_manifest_parses() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.component.len(), 2);
        assert_eq!(manifest.trigger["http"].len(), 2);
    }

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let text = GOOD.replace(
            "sqlite_databases = [\"default\"]",
            "sqlite_dbs = [\"default\"]",
        );
        assert!(
            error_of(&text).contains("sqlite_dbs"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn version_one_and_missing_version_are_refused() {
        assert!(error_of("spin_manifest_version = \"1\"").contains("version 1"));
        assert!(error_of("[application]\nname = \"x\"").contains("spin_manifest_version"));
    }

    #[test]
    fn trigger_naming_an_unknown_component_is_refused() {
        let text = GOOD.replace("component = \"api\"", "component = \"apx\"");
        assert!(error_of(&text).contains("`apx`"));
    }

    #[test]
    fn bad_routes_are_refused() {
        for route in ["api/...", "/a/.../b", "/a//b"] {
            let text = GOOD.replace("/api/...", route);
            assert!(
                error_of(&text).contains("route"),
                "{route}: {}",
                error_of(&text)
            );
        }
    }

    #[test]
    fn bad_outbound_hosts_are_refused() {
        let text = GOOD.replace("https://*.example.com", "example.com");
        assert!(
            error_of(&text).contains("example.com"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn variables_need_a_default_or_required() {
        let text = GOOD.replace(
            "greeting = { default = \"hi\" }",
            "greeting = { secret = true }",
        );
        assert!(error_of(&text).contains("greeting"));
    }

    #[test]
    fn component_dependencies_with_resources_are_refused() {
        let text = GOOD.replace(
            "{ path = \"leaf.wasm\", inherit_configuration = [\"sqlite_databases\"] }",
            "{ component = \"internal\" }",
        ) + "key_value_stores = [\"default\"]\n";
        assert!(error_of(&text).contains("may not have their own resources"));
    }

    #[test]
    fn inherit_forms_do_not_mix() {
        let text = GOOD.replace(
            "sqlite_databases = [\"default\"]",
            "sqlite_databases = [\"default\"]\ndependencies_inherit_configuration = true",
        );
        assert!(error_of(&text).contains("cannot be mixed"));
    }

    #[test]
    fn unknown_capability_sets_are_refused() {
        let text = GOOD.replace("[\"sqlite_databases\"] }", "[\"sqlite\"] }");
        assert!(error_of(&text).contains("`sqlite`"));
    }
}
