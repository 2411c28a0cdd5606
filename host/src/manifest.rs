//! The `spin.toml` (manifest version 2) model and its validation.
//!
//! The serde model follows Spin 4's `spin-manifest` schema (`deny_unknown_fields`
//! where Spin has it). What this host does not support (registry or URL
//! sources, other trigger types, AI models) is refused at start-up with a
//! message naming the field, as is anything invalid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

use crm_host_allowed_hosts::OutboundPattern;

/// `spin.toml` (fields mirror Spin's schema; some are accepted but unused).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Manifest {
    pub spin_manifest_version: toml::Value,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, AppVariable>,
    #[serde(default)]
    pub trigger: BTreeMap<String, Vec<Trigger>>,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    #[serde(rename = "trigger", default)]
    pub trigger_global_configs: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// An application variable (`[variables]`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AppVariable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

/// `[[trigger.http]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Trigger {
    #[serde(default)]
    pub id: String,
    pub route: RouteSpec,
    pub component: String,
    #[serde(default)]
    pub executor: Option<toml::Table>,
}

/// A trigger's `route`: a pattern, or `{ private = true }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    Path(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

/// `[component.<id>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Component {
    pub source: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<FileMount>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub targets: Option<Vec<toml::Value>>,
    #[serde(default)]
    pub build: Option<BuildConfig>,
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    pub profile: BTreeMap<String, toml::Table>,
}

/// A `files` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FileMount {
    Pattern(String),
    Placement { source: String, destination: String },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BuildConfig {
    pub command: Commands,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Commands {
    Single(String),
    Multiple(Vec<String>),
}

impl Commands {
    pub fn commands(&self) -> Vec<&str> {
        match self {
            Commands::Single(c) => vec![c.as_str()],
            Commands::Multiple(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// `inherit_configuration = true | false | [...]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum InheritSetting {
    All(bool),
    Some(Vec<String>),
}

/// The names `inherit_configuration = [...]` may use (as Spin 4).
pub const INHERITABLE: &[&str] = &[
    "ai_models",
    "allowed_outbound_hosts",
    "environment",
    "files",
    "key_value_stores",
    "sqlite_databases",
    "variables",
];

/// One `[component.<id>.dependencies]` value.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "toml::Value")]
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
    },
    Url {
        url: String,
    },
}

impl Dependency {
    pub fn inherit_configuration(&self) -> Option<&InheritSetting> {
        match self {
            Dependency::Path {
                inherit_configuration,
                ..
            }
            | Dependency::Component {
                inherit_configuration,
                ..
            } => inherit_configuration.as_ref(),
            _ => None,
        }
    }

    fn export(&self) -> Option<&String> {
        match self {
            Dependency::Path { export, .. } | Dependency::Component { export, .. } => {
                export.as_ref()
            }
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDependency {
    path: Option<String>,
    component: Option<String>,
    url: Option<String>,
    digest: Option<String>,
    version: Option<String>,
    registry: Option<String>,
    package: Option<String>,
    export: Option<String>,
    inherit_configuration: Option<InheritSetting>,
}

impl TryFrom<toml::Value> for Dependency {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        if let toml::Value::String(version) = value {
            return Ok(Dependency::Registry { version });
        }
        let raw: RawDependency = value.try_into().map_err(|e: toml::de::Error| {
            format!("invalid dependency: {}", e.message().trim_end())
        })?;
        let export = raw.export;
        let inherit_configuration = raw.inherit_configuration;
        match (raw.path, raw.component, raw.url, raw.version) {
            (Some(path), None, None, None) => Ok(Dependency::Path {
                path,
                export,
                inherit_configuration,
            }),
            (None, Some(component), None, None) => Ok(Dependency::Component {
                component,
                export,
                inherit_configuration,
            }),
            (None, None, Some(url), None) => {
                let _ = raw.digest;
                Ok(Dependency::Url { url })
            }
            (None, None, None, Some(version)) => {
                let _ = (raw.registry, raw.package);
                Ok(Dependency::Registry { version })
            }
            _ => Err(
                "a dependency needs exactly one of `path`, `component`, `url` or `version`"
                    .to_string(),
            ),
        }
    }
}

/// A parsed and validated manifest with the directory its paths are relative to.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub dir: PathBuf,
    pub path: PathBuf,
}

/// Finds the manifest (a file, or `spin.toml` in a directory), parses and
/// validates it.
pub fn load(from: &Path) -> Result<LoadedManifest> {
    let path = if from.is_dir() {
        from.join("spin.toml")
    } else {
        from.to_path_buf()
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    let manifest = parse(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedManifest {
        manifest,
        dir,
        path,
    })
}

/// Parses and validates manifest text.
pub fn parse(text: &str) -> Result<Manifest> {
    let value: toml::Table = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    match value.get("spin_manifest_version") {
        Some(toml::Value::Integer(2)) => {}
        Some(toml::Value::String(s)) if s == "1" => {
            bail!("manifest version 1 is not supported: use `spin_manifest_version = 2`")
        }
        Some(v) => bail!("`spin_manifest_version` must be 2, found {v}"),
        None => bail!("missing `spin_manifest_version = 2`"),
    }
    let manifest: Manifest = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    validate(&manifest)?;
    Ok(manifest)
}

pub fn is_kebab(s: &str) -> bool {
    is_cased(s, '-')
}

pub fn is_snake(s: &str) -> bool {
    is_cased(s, '_')
}

fn is_cased(s: &str, sep: char) -> bool {
    !s.is_empty()
        && s.split(sep).all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks a route pattern: `/exact/path`, `/prefix/...` or `/...`.
pub fn validate_route(route: &str) -> Result<()> {
    if route.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("routes may not contain whitespace");
    }
    if route.contains('?') || route.contains('#') {
        bail!("routes may not contain a query or fragment");
    }
    let without_wildcard = route.strip_suffix("...").unwrap_or(route);
    if without_wildcard.contains("...") {
        bail!("`...` is allowed only as the last segment, as in `/prefix/...`");
    }
    if route.ends_with("...") && !(route == "..." || route.ends_with("/...")) {
        bail!("a wildcard route must end in `/...`");
    }
    if route.contains("//") {
        bail!("routes may not contain empty segments (`//`)");
    }
    Ok(())
}

/// All the checks Spin makes at load time that this host relies on.
pub fn validate(m: &Manifest) -> Result<()> {
    for (name, var) in &m.variables {
        if !is_snake(name) {
            bail!("variable name `{name}` is invalid: names must be lower_snake_case");
        }
        if var.required && var.default.is_some() {
            bail!("variable `{name}`: a required variable may not have a default value");
        }
    }
    for (id, c) in &m.component {
        validate_component(id, c, m).with_context(|| format!("component `{id}` is invalid"))?;
    }
    let mut any = false;
    for (kind, triggers) in &m.trigger {
        if kind != "http" {
            bail!("trigger type `{kind}` is not supported by crm-host (only `http`)");
        }
        for (i, t) in triggers.iter().enumerate() {
            any = true;
            let what = format!("[[trigger.http]] #{} (component `{}`)", i + 1, t.component);
            if !m.component.contains_key(&t.component) {
                bail!(
                    "[[trigger.http]] #{}: the trigger names component `{}`, which is not defined in [component]",
                    i + 1,
                    t.component
                );
            }
            if let Some(exec) = &t.executor {
                match exec.get("type").and_then(|v| v.as_str()) {
                    Some("http") => {}
                    other => bail!(
                        "{what}: executor `{}` is not supported (only `http`)",
                        other.unwrap_or("?")
                    ),
                }
            }
            match &t.route {
                RouteSpec::Path(r) => {
                    validate_route(r).with_context(|| format!("{what}: bad route `{r}`"))?
                }
                RouteSpec::Private(PrivateRoute { private: true }) => {}
                RouteSpec::Private(_) => bail!(
                    "{what}: route must be a string pattern or `{{ private = true }}`, not `{{ private = false }}`"
                ),
            }
        }
    }
    if !any {
        bail!("the application has no `[[trigger.http]]`");
    }
    Ok(())
}

fn check_template_refs(value: &str, m: &Manifest, what: &str) -> Result<()> {
    let mut rest = value;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .with_context(|| format!("{what}: unclosed `{{{{` in `{value}`"))?;
        let name = rest[start + 2..start + end].trim();
        if !m.variables.contains_key(name) {
            bail!(
                "{what}: `{value}` refers to application variable `{name}`, which is not defined in [variables]"
            );
        }
        rest = &rest[start + end + 2..];
    }
    Ok(())
}

fn validate_component(id: &str, c: &Component, m: &Manifest) -> Result<()> {
    if !is_kebab(id) {
        bail!("component id `{id}` is invalid: ids must be kebab-case");
    }
    if c.source.is_empty() {
        bail!("`source` is empty");
    }
    if !c.allowed_http_hosts.is_empty() {
        bail!("`allowed_http_hosts` is deprecated and not supported: use `allowed_outbound_hosts`");
    }
    if !c.ai_models.is_empty() {
        bail!("`ai_models` is not supported by crm-host");
    }
    for (name, value) in &c.variables {
        if !is_snake(name) {
            bail!("variable name `{name}` is invalid: names must be lower_snake_case");
        }
        check_template_refs(value, m, &format!("variable `{name}`"))?;
    }
    if c.allowed_outbound_hosts.len() == 1 && c.allowed_outbound_hosts[0] == "insecure:allow-all" {
        bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead");
    }
    for host in &c.allowed_outbound_hosts {
        if host.contains("{{") {
            check_template_refs(host, m, "allowed_outbound_hosts")?;
        } else {
            OutboundPattern::parse(host)
                .with_context(|| format!("allowed_outbound_hosts: invalid entry `{host}`"))?;
        }
    }
    for label in c.key_value_stores.iter().chain(&c.sqlite_databases) {
        if !(is_kebab(label) || is_snake(label)) {
            bail!("store label `{label}` is invalid: expected kebab-case or snake_case");
        }
    }
    for f in &c.files {
        if let FileMount::Placement { destination, .. } = f
            && !destination.starts_with('/')
        {
            bail!("files: destination `{destination}` must be an absolute path")
        }
    }
    validate_dependencies(id, c, m)
}

fn check_dependency_name(name: &str) -> Result<()> {
    let (pkg_iface, version) = match name.split_once('@') {
        Some((a, v)) => (a, Some(v)),
        None => (name, None),
    };
    if let Some(v) = version {
        semver::Version::parse(v).map_err(|e| anyhow!("bad version `{v}`: {e}"))?;
    }
    match pkg_iface.split_once(':') {
        Some((ns, rest)) => {
            let (pkg, iface) = match rest.split_once('/') {
                Some((p, i)) => (p, Some(i)),
                None => (rest, None),
            };
            if !is_kebab(ns) || !is_kebab(pkg) || iface.is_some_and(|i| !is_kebab(i)) {
                bail!("expected `namespace:package[/interface][@version]` in kebab-case");
            }
        }
        None if version.is_none() && is_kebab(pkg_iface) => {}
        None => bail!("expected `namespace:package[/interface][@version]` or a kebab-case name"),
    }
    Ok(())
}

fn validate_dependencies(id: &str, c: &Component, m: &Manifest) -> Result<()> {
    let mut any_per_dep = false;
    for (name, dep) in &c.dependencies {
        check_dependency_name(name)
            .with_context(|| format!("dependency `{name}`: invalid dependency name"))?;
        match dep {
            Dependency::Registry { version } => bail!(
                "dependency `{name}` (version `{version}`): registry dependencies are not supported by crm-host; use `{{ path = \"...\" }}` or `{{ component = \"...\" }}`"
            ),
            Dependency::Url { url } => {
                bail!("dependency `{name}` ({url}): URL dependencies are not supported by crm-host")
            }
            Dependency::Component { component, .. } => {
                let Some(target) = m.component.get(component) else {
                    bail!("dependency `{name}`: dependency ID {component} does not exist");
                };
                ensure_acceptable_dependency(target, component, id)?;
            }
            Dependency::Path { path, .. } if path.is_empty() => {
                bail!("dependency `{name}`: `path` is empty")
            }
            Dependency::Path { .. } => {}
        }
        if name.contains(':') && !name.contains('/') && dep.export().is_some() {
            bail!(
                "using an export to satisfy the package dependency `{name}` is not currently permitted"
            );
        }
        if let Some(InheritSetting::Some(list)) = dep.inherit_configuration() {
            for item in list {
                if !INHERITABLE.contains(&item.as_str()) {
                    bail!(
                        "dependency `{name}`: unknown inherit_configuration key `{item}` (expected one of {})",
                        INHERITABLE.join(", ")
                    );
                }
            }
        }
        any_per_dep |= dep.inherit_configuration().is_some();
    }
    if c.dependencies_inherit_configuration.is_some() && any_per_dep {
        bail!(
            "Component `{id}` specifies both `dependencies_inherit_configuration` and per-dependency \
             `inherit_configuration`. These are mutually exclusive; use one or the other."
        );
    }
    Ok(())
}

fn ensure_acceptable_dependency(c: &Component, dep_id: &str, depender: &str) -> Result<()> {
    let mut surprises = Vec::new();
    for (field, empty) in [
        ("ai_models", c.ai_models.is_empty()),
        ("allowed_http_hosts", c.allowed_http_hosts.is_empty()),
        (
            "allowed_outbound_hosts",
            c.allowed_outbound_hosts.is_empty(),
        ),
        ("dependencies", c.dependencies.is_empty()),
        ("environment", c.environment.is_empty()),
        ("files", c.files.is_empty()),
        ("key_value_stores", c.key_value_stores.is_empty()),
        ("sqlite_databases", c.sqlite_databases.is_empty()),
        ("variables", c.variables.is_empty()),
    ] {
        if !empty {
            surprises.push(field);
        }
    }
    if surprises.is_empty() {
        Ok(())
    } else {
        bail!(
            "Dependencies may not have their own resources or permissions. Component {dep_id} cannot be used as a dependency of {depender} because it specifies: {}",
            surprises.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[[trigger.http]]
route = "/a/..."
component = "a"
[component.a]
source = "a.wasm"
"#;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn minimal_ok() {
        let m = parse(BASE).unwrap();
        assert_eq!(m.trigger["http"].len(), 1);
        assert_eq!(m.component["a"].source, "a.wasm");
    }

    #[test]
    fn unknown_field_refused() {
        let e = err(&format!("{BASE}colour = \"red\"\n"));
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn unknown_component_in_trigger() {
        let e = err(&BASE.replace("component = \"a\"", "component = \"b\""));
        assert!(e.contains("`b`"), "{e}");
    }

    #[test]
    fn bad_route() {
        let e = err(&BASE.replace("/a/...", "/a/.../b"));
        assert!(e.contains("route"), "{e}");
        let e = err(&BASE.replace("/a/...", "/a b"));
        assert!(e.contains("route"), "{e}");
    }

    #[test]
    fn missing_source() {
        let e = err(&BASE.replace("source = \"a.wasm\"", ""));
        assert!(e.contains("source"), "{e}");
    }

    #[test]
    fn bad_version() {
        let e = err(&BASE.replace("= 2", "= 3"));
        assert!(e.contains("spin_manifest_version"), "{e}");
    }

    #[test]
    fn bad_outbound_host() {
        let e = err(&format!(
            "{BASE}allowed_outbound_hosts = [\"example.com\"]\n"
        ));
        assert!(e.contains("example.com"), "{e}");
        parse(&format!(
            "{BASE}allowed_outbound_hosts = [\"https://*.example.com\", \"http://self\", \"http://*.spin.internal\", \"*://localhost:*\"]\n"
        ))
        .unwrap();
    }

    #[test]
    fn private_route() {
        let m = parse(&BASE.replace("route = \"/a/...\"", "route = { private = true }")).unwrap();
        assert!(matches!(m.trigger["http"][0].route, RouteSpec::Private(_)));
        let e = err(&BASE.replace("route = \"/a/...\"", "route = { private = false }"));
        assert!(e.contains("private"), "{e}");
    }

    #[test]
    fn variables_must_exist() {
        let e = err(&format!("{BASE}variables = {{ x = \"{{{{ nope }}}}\" }}\n"));
        assert!(e.contains("nope"), "{e}");
        let ok = format!("{BASE}variables = {{ x = \"{{{{ yes }}}}\" }}\n").replace(
            "[application]",
            "[variables]\nyes = { default = \"1\" }\n[application]",
        );
        parse(&ok).unwrap();
    }

    #[test]
    fn component_dependency_without_resources() {
        let text = format!(
            "{BASE}[component.a.dependencies]\n\"x:y/z@0.1.0\" = {{ component = \"b\" }}\n[component.b]\nsource = \"b.wasm\"\nkey_value_stores = [\"default\"]\n"
        );
        let e = err(&text);
        assert!(e.contains("may not have their own resources"), "{e}");
        assert!(e.contains("key_value_stores"), "{e}");
        parse(&text.replace("key_value_stores = [\"default\"]", "")).unwrap();
    }

    #[test]
    fn inherit_forms_do_not_mix() {
        let text = format!(
            "{BASE}dependencies_inherit_configuration = true\n[component.a.dependencies]\n\"x:y/z@0.1.0\" = {{ path = \"d.wasm\", inherit_configuration = [\"sqlite_databases\"] }}\n"
        );
        let e = err(&text);
        assert!(e.contains("mutually exclusive"), "{e}");
        let m = parse(&text.replace("dependencies_inherit_configuration = true\n", "")).unwrap();
        assert_eq!(
            m.component["a"].dependencies["x:y/z@0.1.0"].inherit_configuration(),
            Some(&InheritSetting::Some(vec!["sqlite_databases".into()]))
        );
    }

    #[test]
    fn bad_inherit_key_and_unsupported_sources() {
        let text = format!(
            "{BASE}[component.a.dependencies]\n\"x:y/z@0.1.0\" = {{ path = \"d.wasm\", inherit_configuration = [\"sqlite\"] }}\n"
        );
        assert!(err(&text).contains("sqlite"));
        let text = format!("{BASE}[component.a.dependencies]\n\"x:y/z@0.1.0\" = \"0.1.0\"\n");
        assert!(err(&text).contains("registry"));
        let text = format!(
            "{BASE}[component.a.dependencies]\n\"x:y/z@0.1.0\" = {{ path = \"d.wasm\", colour = 1 }}\n"
        );
        assert!(err(&text).contains("colour"));
    }

    #[test]
    fn bad_component_id() {
        let e = err(&BASE
            .replace("[component.a]", "[component.A_b]")
            .replace("component = \"a\"", "component = \"A_b\""));
        assert!(e.contains("kebab"), "{e}");
    }
}
