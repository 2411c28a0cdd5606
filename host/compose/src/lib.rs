//! Load-time composition of a Spin component with its
//! `[component.<id>.dependencies]`, following Spin 4 (`spin-compose` and
//! `spin-capabilities`), built on `wac-graph`.
//!
//! What [`compose`] does, in Spin's order:
//!
//! 1. Each dependency name (`"ns:pkg/iface@ver"`, `"ns:pkg/iface"`, `"ns:pkg@ver"`,
//!    `"ns:pkg"` or a plain kebab name) is matched against the parent's imports;
//!    a name that matches none is an error.
//! 2. The dependency's capability imports that it does not inherit from the parent
//!    ([`InheritConfiguration`], see [`CAPABILITY_SETS`]) are plugged with the
//!    deny adapter ([`DENY_ADAPTER`]); inherited ones stay imports for the host.
//! 3. The (adapted) dependency is registered in the graph under its WIT package
//!    name, so two dependencies from one package are refused ("package `x` has
//!    already been registered in the graph"), as on Spin.
//! 4. Each matched parent import is wired to the dependency's export of the same
//!    name (or the one named by `export`), after a subtype check.
//! 5. The parent's exports are re-exported; everything not wired stays an import
//!    of the composed component. In particular a dependency's own imports of
//!    other `crm:*` interfaces are *not* satisfied from sibling dependencies:
//!    they become imports of the result and the host then refuses to start it,
//!    exactly as Spin does.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use semver::Version;
use wac_graph::types::{Package, SubtypeChecker, WorldId, are_semver_compatible};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId, RegisterPackageError};

/// The deny adapter component (built from `deny-adapter/`, see its README).
pub const DENY_ADAPTER: &[u8] = include_bytes!("../deny_adapter.wasm");

/// Which of the parent's capabilities a dependency may use
/// (`inherit_configuration` in `spin.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InheritConfiguration {
    /// `inherit_configuration = true` (or `dependencies_inherit_configuration = true`).
    All,
    /// `inherit_configuration = false`, or not given.
    None,
    /// `inherit_configuration = ["key_value_stores", ...]`; names not in
    /// [`CAPABILITY_SETS`] are ignored, as on Spin.
    Some(Vec<String>),
}

/// One `[component.<id>.dependencies]` entry, its source already loaded.
#[derive(Clone)]
pub struct Dependency {
    /// The key in `spin.toml`: `"crm:consent/decisions@0.1.0"` (one interface), or
    /// `"crm:consent"` / `"crm:consent@0.1.0"` (every import from that package).
    pub name: String,
    /// `export = "..."`: the dependency's export that satisfies the import(s),
    /// instead of the export named like the import.
    pub export: Option<String>,
    /// The dependency component's bytes.
    pub source: Vec<u8>,
    /// What it inherits from the parent.
    pub inherit: InheritConfiguration,
}

impl fmt::Debug for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dependency")
            .field("name", &self.name)
            .field("export", &self.export)
            .field("source", &format_args!("<{} bytes>", self.source.len()))
            .field("inherit", &self.inherit)
            .finish()
    }
}

/// The capability sets a dependency can inherit, and the host interfaces each
/// covers. An interface of a set that is not inherited is answered by the deny
/// adapter, which exports exactly the interfaces listed here (checked by a test).
pub const CAPABILITY_SETS: &[(&str, &[&str])] = &[
    ("ai_models", &[]),
    (
        "allowed_outbound_hosts",
        &["wasi:http/outgoing-handler@0.2.6"],
    ),
    ("environment", &["wasi:cli/environment@0.2.6"]),
    ("files", &["wasi:filesystem/preopens@0.2.6"]),
    (
        "key_value_stores",
        &[
            "fermyon:spin/key-value@2.0.0",
            "spin:key-value/key-value@3.0.0",
        ],
    ),
    (
        "sqlite_databases",
        &["fermyon:spin/sqlite@2.0.0", "spin:sqlite/sqlite@3.0.0"],
    ),
    (
        "variables",
        &[
            "fermyon:spin/variables@2.0.0",
            "spin:variables/variables@3.0.0",
        ],
    ),
];

/// Why a component could not be composed with its dependencies. Every message
/// names the dependency concerned.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The dependency key is not a valid dependency name.
    #[error("dependency `{dependency}`: invalid dependency name: {reason}")]
    InvalidName { dependency: String, reason: String },
    /// The parent is not a component (or cannot be read).
    #[error("the component cannot be composed with its dependencies: {reason}")]
    InvalidComponent { reason: String },
    /// The dependency is not a component (or cannot be read / adapted).
    #[error("dependency `{dependency}`: {reason}")]
    InvalidDependency { dependency: String, reason: String },
    /// The dependency name matches no import of the parent.
    #[error("dependency `{dependency}` doesn't match any import of the component")]
    UnmatchedName { dependency: String },
    /// Another dependency came from the same WIT package.
    #[error(
        "dependency `{dependency}`: package `{package}` has already been registered in the graph \
         (another dependency of this component comes from the same WIT package; \
         each dependency must come from its own package)"
    )]
    PackageAlreadyRegistered { dependency: String, package: String },
    /// One import would be satisfied by several dependencies.
    #[error("dependency conflicts: {}", format_conflicts(.conflicts))]
    Conflicts {
        /// Import name and the dependencies that match it.
        conflicts: Vec<(String, Vec<String>)>,
    },
    /// The dependency lacks the export that should satisfy the import.
    #[error("dependency `{dependency}` doesn't export `{export}` to satisfy import `{import}`")]
    MissingExport {
        dependency: String,
        export: String,
        import: String,
    },
    /// The dependency's export does not have the type the parent imports.
    #[error(
        "dependency `{dependency}` exports `{export}` which is not compatible with import \
         `{import}`: {reason}"
    )]
    IncompatibleExport {
        dependency: String,
        export: String,
        import: String,
        reason: String,
    },
    /// wac-graph refused to wire the dependency.
    #[error("dependency `{dependency}`: {reason}")]
    Graph { dependency: String, reason: String },
    /// The composed component could not be encoded.
    #[error("failed to encode the composed component: {reason}")]
    Encode { reason: String },
}

fn format_conflicts(conflicts: &[(String, Vec<String>)]) -> String {
    conflicts
        .iter()
        .map(|(import, deps)| {
            let deps = deps
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("import `{import}` is satisfied by dependencies {deps}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `{:#}` of an error: its whole chain on one line.
fn chain(e: impl Into<anyhow::Error>) -> String {
    format!("{:#}", e.into())
}

/// The name under which the parent is registered; no dependency name can
/// take it.
const PARENT_PACKAGE: &str = "(component)";

const NOT_A_COMPONENT: &str = "not a WebAssembly component (a core module, or not Wasm at all)";

/// Whether `bytes` start with the header of a binary component.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}

/// Composes `parent_source` with `dependencies` (see the crate docs). With no
/// dependencies the parent is returned unchanged.
pub fn compose(parent_source: &[u8], dependencies: &[Dependency]) -> Result<Vec<u8>, ComposeError> {
    if dependencies.is_empty() {
        return Ok(parent_source.to_vec());
    }

    if !is_component(parent_source) {
        return Err(ComposeError::InvalidComponent {
            reason: NOT_A_COMPONENT.into(),
        });
    }
    let mut graph = CompositionGraph::new();
    let parent = Package::from_bytes(PARENT_PACKAGE, None, parent_source, graph.types_mut())
        .map_err(|e| ComposeError::InvalidComponent { reason: chain(e) })?;
    let parent_world = parent.ty();
    let parent_package = graph
        .register_package(parent)
        .map_err(|e| ComposeError::InvalidComponent { reason: chain(e) })?;
    let parent_instance = graph.instantiate(parent_package);

    let (prepared, wiring) = prepare_dependencies(&mut graph, parent_world, dependencies)?;

    // Wire each matched import to the dependency's export.
    let mut cache = HashSet::new();
    let mut checker = SubtypeChecker::new(&mut cache);
    for (import, index) in wiring {
        let dep = &prepared[index];
        let export = dep.export.clone().unwrap_or_else(|| import.clone());
        let Some(&export_ty) = graph.types()[dep.world].exports.get(&export) else {
            return Err(ComposeError::MissingExport {
                dependency: dep.name.clone(),
                export,
                import,
            });
        };
        let import_ty = graph.types()[parent_world].imports[&import];
        checker
            .is_subtype(export_ty, graph.types(), import_ty, graph.types())
            .map_err(|e| ComposeError::IncompatibleExport {
                dependency: dep.name.clone(),
                export: export.clone(),
                import: import.clone(),
                reason: chain(e),
            })?;
        let graph_error = |e: anyhow::Error| ComposeError::Graph {
            dependency: dep.name.clone(),
            reason: chain(e),
        };
        let alias = graph
            .alias_instance_export(dep.instance, &export)
            .map_err(|e| graph_error(e.into()))?;
        graph
            .set_instantiation_argument(parent_instance, &import, alias)
            .map_err(|e| graph_error(e.into()))?;
    }

    // The composition exports what the parent exports.
    let exports: Vec<String> = graph.types()[parent_world]
        .exports
        .keys()
        .cloned()
        .collect();
    for name in exports {
        let encode_error = |e: anyhow::Error| ComposeError::Encode { reason: chain(e) };
        let alias = graph
            .alias_instance_export(parent_instance, &name)
            .map_err(|e| encode_error(e.into()))?;
        graph
            .export(alias, &name)
            .map_err(|e| encode_error(e.into()))?;
    }

    graph
        .encode(EncodeOptions::default())
        .map_err(|e| ComposeError::Encode { reason: chain(e) })
}

/// A dependency registered and instantiated in the graph.
struct Prepared {
    name: String,
    world: WorldId,
    instance: NodeId,
    export: Option<String>,
}

/// The registered dependencies, and for every matched import of the parent
/// the index of the one dependency that satisfies it.
type Wiring = (Vec<Prepared>, Vec<(String, usize)>);

/// Matches the dependencies to the parent's imports and registers and
/// instantiates each (deny adapter applied).
fn prepare_dependencies(
    graph: &mut CompositionGraph,
    parent_world: WorldId,
    dependencies: &[Dependency],
) -> Result<Wiring, ComposeError> {
    let imports: Vec<String> = graph.types()[parent_world]
        .imports
        .keys()
        .cloned()
        .collect();

    let mut prepared = Vec::new();
    let mut matches: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for dep in dependencies {
        let name =
            DependencyName::parse(&dep.name).map_err(|reason| ComposeError::InvalidName {
                dependency: dep.name.clone(),
                reason,
            })?;
        let matched: Vec<&String> = imports.iter().filter(|i| name.matches(i)).collect();
        if matched.is_empty() {
            return Err(ComposeError::UnmatchedName {
                dependency: dep.name.clone(),
            });
        }

        let invalid = |reason: String| ComposeError::InvalidDependency {
            dependency: dep.name.clone(),
            reason,
        };
        if !is_component(&dep.source) {
            return Err(invalid(NOT_A_COMPONENT.into()));
        }
        let source =
            apply_deny_adapter(&dep.source, &dep.inherit).map_err(|e| invalid(chain(e)))?;
        let package_name = name.package_name();
        let package = Package::from_bytes(&package_name, None, source, graph.types_mut())
            .map_err(|e| invalid(chain(e)))?;
        let world = package.ty();
        let package_id = graph.register_package(package).map_err(|e| match e {
            RegisterPackageError::PackageAlreadyRegistered { key } => {
                ComposeError::PackageAlreadyRegistered {
                    dependency: dep.name.clone(),
                    package: key.to_string(),
                }
            }
        })?;
        let instance = graph.instantiate(package_id);
        for import in matched {
            matches
                .entry(import.clone())
                .or_default()
                .push(prepared.len());
        }
        prepared.push(Prepared {
            name: dep.name.clone(),
            world,
            instance,
            export: dep.export.clone(),
        });
    }

    let conflicts: Vec<(String, Vec<String>)> = matches
        .iter()
        .filter(|(_, deps)| deps.len() > 1)
        .map(|(import, deps)| {
            let names = deps.iter().map(|&d| prepared[d].name.clone()).collect();
            (import.clone(), names)
        })
        .collect();
    if !conflicts.is_empty() {
        return Err(ComposeError::Conflicts { conflicts });
    }
    let wiring = matches
        .into_iter()
        .map(|(import, deps)| (import, deps[0]))
        .collect();
    Ok((prepared, wiring))
}

/// A parsed dependency key (Spin's `DependencyName`).
#[derive(Debug, PartialEq)]
enum DependencyName {
    /// `foo-bar`: matches the plain import `foo-bar`.
    Plain(String),
    /// `ns:pkg[/iface][@version]`.
    Package {
        package: String,
        interface: Option<String>,
        version: Option<Version>,
    },
}

impl DependencyName {
    fn parse(s: &str) -> Result<Self, String> {
        if !s.contains([':', '/']) {
            check_kebab(s)?;
            return Ok(Self::Plain(s.to_string()));
        }
        let (name, version) = match s.split_once('@') {
            Some((name, version)) => {
                let version = Version::parse(version)
                    .map_err(|e| format!("invalid version `{version}`: {e}"))?;
                (name, Some(version))
            }
            None => (s, None),
        };
        let (package, interface) = match name.split_once('/') {
            Some((package, interface)) => {
                check_kebab(interface).map_err(|e| format!("interface `{interface}`: {e}"))?;
                (package, Some(interface.to_string()))
            }
            None => (name, None),
        };
        let Some((namespace, pkg)) = package.split_once(':') else {
            return Err(format!(
                "package `{package}` must be `namespace:name`, e.g. `crm:consent`"
            ));
        };
        for label in [namespace, pkg] {
            check_kebab(label)
                .and_then(|()| match label.bytes().any(|b| b.is_ascii_uppercase()) {
                    true => Err(format!("`{label}`: package names are lowercase")),
                    false => Ok(()),
                })
                .map_err(|e| format!("package `{package}`: {e}"))?;
        }
        Ok(Self::Package {
            package: package.to_string(),
            interface,
            version,
        })
    }

    /// The name it is registered under in the graph: the package without
    /// version (as Spin), or the plain name.
    fn package_name(&self) -> String {
        match self {
            Self::Plain(name) => name.clone(),
            Self::Package { package, .. } => package.clone(),
        }
    }

    /// Spin's `matches_import`: same package, and same interface and exactly
    /// the same version where the dependency name gives them. Import names
    /// that are neither plain nor `ns:pkg/iface[@version]` match nothing.
    fn matches(&self, import: &str) -> bool {
        match self {
            Self::Plain(name) => name == import,
            Self::Package {
                package,
                interface,
                version,
            } => {
                let Some((import_package, rest)) = import.split_once('/') else {
                    return false;
                };
                let (import_interface, import_version) = match rest.split_once('@') {
                    Some((interface, version)) => match Version::parse(version) {
                        Ok(v) => (interface, Some(v)),
                        Err(_) => return false,
                    },
                    None => (rest, None),
                };
                import_package == package
                    && interface.as_deref().is_none_or(|i| i == import_interface)
                    && version
                        .as_ref()
                        .is_none_or(|v| Some(v) == import_version.as_ref())
            }
        }
    }
}

/// Spin's kebab-case id rule: `-`-separated words, each starting with an ASCII
/// letter, alphanumeric, all lowercase or all uppercase.
fn check_kebab(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty name".into());
    }
    for word in s.split('-') {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!("`{s}`: words separated by '-' must not be empty"));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!("`{s}`: each word must start with an ASCII letter"));
        }
        let upper = first.is_ascii_uppercase();
        for c in chars {
            if !c.is_ascii_alphanumeric() {
                return Err(format!(
                    "`{s}`: words may only contain ASCII letters and digits"
                ));
            }
            if c.is_ascii_alphabetic() && c.is_ascii_uppercase() != upper {
                return Err(format!(
                    "`{s}`: each word must be all lowercase or all uppercase"
                ));
            }
        }
    }
    Ok(())
}

/// The host interfaces a dependency may import from the host.
fn allowed_interfaces(inherit: &InheritConfiguration) -> Vec<&'static str> {
    let inherited = |set: &str| match inherit {
        InheritConfiguration::All => true,
        InheritConfiguration::None => false,
        InheritConfiguration::Some(sets) => sets.iter().any(|s| s == set),
    };
    CAPABILITY_SETS
        .iter()
        .filter(|(set, _)| inherited(set))
        .flat_map(|(_, interfaces)| interfaces.iter().copied())
        .collect()
}

/// The dependency and the deny adapter registered in a graph of their own,
/// with the adapter exports to plug into the dependency's imports.
struct DenyPlan {
    graph: CompositionGraph,
    dependency: (PackageId, WorldId),
    adapter: PackageId,
    /// (adapter export, dependency import)
    plugs: Vec<(String, String)>,
}

/// Works out which imports of the dependency the deny adapter answers (Spin's
/// `apply_deny_adapter`): each adapter export whose capability set is not
/// inherited goes to the import of the same name, else to the first
/// semver-compatible one, provided its type fits.
fn plan_deny_adapter(source: &[u8], inherit: &InheritConfiguration) -> anyhow::Result<DenyPlan> {
    let allowed = allowed_interfaces(inherit);
    let mut graph = CompositionGraph::new();

    let dependency = Package::from_bytes("(dependency)", None, source, graph.types_mut())?;
    let dependency_world = dependency.ty();
    let dependency_id = graph.register_package(dependency)?;
    let adapter = Package::from_bytes("(deny-adapter)", None, DENY_ADAPTER, graph.types_mut())?;
    let adapter_world = adapter.ty();
    let adapter_id = graph.register_package(adapter)?;

    let mut cache = HashSet::new();
    let mut checker = SubtypeChecker::new(&mut cache);
    let types = graph.types();
    let imports = &types[dependency_world].imports;
    let mut plugs = Vec::new();
    for (export, &export_ty) in &types[adapter_world].exports {
        if allowed.contains(&export.as_str()) {
            continue;
        }
        let socket = imports.get_key_value(export).or_else(|| {
            imports
                .iter()
                .find(|(import, _)| are_semver_compatible(export, import))
        });
        if let Some((import, &import_ty)) = socket
            && checker
                .is_subtype(export_ty, types, import_ty, types)
                .is_ok()
        {
            plugs.push((export.clone(), import.clone()));
        }
    }
    Ok(DenyPlan {
        graph,
        dependency: (dependency_id, dependency_world),
        adapter: adapter_id,
        plugs,
    })
}

/// Plugs the dependency's imports of capabilities it does not inherit with the
/// deny adapter (see [`plan_deny_adapter`]). Returns the source unchanged when
/// nothing is plugged. The adapter's own WASI imports (types it mentions, and
/// what the Rust standard library needs) become imports of the result.
fn apply_deny_adapter(source: &[u8], inherit: &InheritConfiguration) -> anyhow::Result<Vec<u8>> {
    let DenyPlan {
        mut graph,
        dependency: (dependency_id, dependency_world),
        adapter,
        plugs,
    } = plan_deny_adapter(source, inherit)?;
    if plugs.is_empty() {
        return Ok(source.to_vec());
    }

    let dependency_instance = graph.instantiate(dependency_id);
    let adapter_instance = graph.instantiate(adapter);
    for (export, import) in plugs {
        let alias = graph.alias_instance_export(adapter_instance, &export)?;
        graph.set_instantiation_argument(dependency_instance, &import, alias)?;
    }
    let exports: Vec<String> = graph.types()[dependency_world]
        .exports
        .keys()
        .cloned()
        .collect();
    for name in exports {
        let alias = graph.alias_instance_export(dependency_instance, &name)?;
        graph.export(alias, &name)?;
    }
    Ok(graph.encode(EncodeOptions::default())?)
}

#[cfg(test)]
mod tests;
