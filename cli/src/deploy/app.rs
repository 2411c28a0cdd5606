//! What a deployment needs from `spin.toml`: the app's name, its components,
//! and each HTTP route with the component that serves it, read as Spin reads
//! them (a route without its leading `/` is absolute; `/...` is a wildcard).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The parts of a Spin manifest (v2) that a deployment is generated from.
#[derive(Debug)]
pub struct SpinApp {
    pub name: String,
    pub components: BTreeSet<String>,
    /// Public routes, as Spin orders them: exact routes first, then longer
    /// wildcards before shorter ones.
    pub routes: Vec<Route>,
    /// Labels of the SQLite databases and key-value stores the components use.
    pub sqlite_databases: BTreeSet<String>,
    pub key_value_stores: BTreeSet<String>,
}

/// One public HTTP route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// As written in the manifest (with its leading `/`), e.g. `/api/contacts/...`.
    pub raw: String,
    /// The route without its wildcard, e.g. `/api/contacts` (empty for `/...`).
    pub base: String,
    /// `/...`: the base and every path below it, not siblings sharing its prefix.
    pub wildcard: bool,
    pub component: String,
}

#[derive(Deserialize)]
struct Manifest {
    spin_manifest_version: u32,
    application: Application,
    #[serde(default)]
    trigger: Triggers,
    #[serde(default)]
    component: BTreeMap<String, toml::Table>,
}

#[derive(Deserialize)]
struct Application {
    name: String,
}

#[derive(Deserialize, Default)]
struct Triggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

#[derive(Deserialize)]
struct HttpTrigger {
    /// A path, or `{ private = true }` (reachable only by service chaining).
    route: toml::Value,
    /// A component id, or an inline component table.
    component: toml::Value,
}

impl SpinApp {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        if manifest.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        let labels = |field: &str| -> BTreeSet<String> {
            manifest
                .component
                .values()
                .filter_map(|c| c.get(field)?.as_array())
                .flatten()
                .filter_map(|label| Some(label.as_str()?.to_string()))
                .collect()
        };
        let (sqlite_databases, key_value_stores) =
            (labels("sqlite_databases"), labels("key_value_stores"));
        let components: BTreeSet<String> = manifest.component.into_keys().collect();
        let mut routes: Vec<Route> = Vec::new();
        for trigger in manifest.trigger.http {
            let toml::Value::String(component) = trigger.component else {
                bail!(
                    "a trigger with an inline component cannot be deployed on its own: give the component an id"
                )
            };
            if !components.contains(&component) {
                bail!(
                    "a trigger names component `{component}`, which the manifest does not define"
                );
            }
            let route = match trigger.route {
                toml::Value::String(route) => route,
                // A private route is not served to clients.
                toml::Value::Table(_) => continue,
                other => bail!("route `{other}` is neither a path nor {{ private = true }}"),
            };
            let route = Route::new(&route, component);
            if let Some(other) = routes
                .iter()
                .find(|r| r.base == route.base && r.wildcard == route.wildcard)
            {
                bail!(
                    "route `{}` of component `{}` is already taken by component `{}`",
                    route.raw,
                    route.component,
                    other.component
                );
            }
            routes.push(route);
        }
        routes.sort_by(|a, b| {
            a.wildcard
                .cmp(&b.wildcard)
                .then(b.base.len().cmp(&a.base.len()))
                .then(a.base.cmp(&b.base))
        });
        Ok(Self {
            name: manifest.application.name,
            components,
            routes,
            sqlite_databases,
            key_value_stores,
        })
    }
}

impl Route {
    fn new(route: &str, component: String) -> Self {
        let raw = if route.starts_with('/') {
            route.to_string()
        } else {
            format!("/{route}")
        };
        let (base, wildcard) = match raw.strip_suffix("/...") {
            Some(base) => (base.to_string(), true),
            None => (raw.trim_end_matches('/').to_string(), false),
        };
        Self {
            raw,
            base,
            wildcard,
            component,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "spin_manifest_version = 2\n[application]\nname = \"demo\"\n";

    fn app(body: &str) -> Result<SpinApp> {
        SpinApp::parse(&format!("{HEADER}{body}"))
    }

    #[test]
    fn the_real_manifest_routes_every_http_component() {
        let app = SpinApp::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml"))
            .expect("spin.toml parses");
        assert_eq!(app.name, "gov-crm");
        assert_eq!(
            app.sqlite_databases,
            BTreeSet::from(["default".to_string()])
        );
        assert_eq!(
            app.key_value_stores,
            BTreeSet::from(["default".to_string()])
        );
        let routed: BTreeSet<&str> = app.routes.iter().map(|r| r.component.as_str()).collect();
        assert_eq!(
            routed,
            BTreeSet::from([
                "audit",
                "cases",
                "consent",
                "contact-intake",
                "interaction-log",
                "notification",
                "web"
            ])
        );
        let contacts = app.routes.iter().find(|r| r.raw == "/api/contacts/...");
        assert_eq!(
            contacts.map(|r| (r.base.as_str(), r.wildcard, r.component.as_str())),
            Some(("/api/contacts", true, "contact-intake"))
        );
    }

    #[test]
    fn routes_are_ordered_as_spin_matches_them() {
        let app = app(concat!(
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"a\"\n",
            "[[trigger.http]]\nroute = \"/x/...\"\ncomponent = \"a\"\n",
            "[[trigger.http]]\nroute = \"x/y/...\"\ncomponent = \"b\"\n",
            "[[trigger.http]]\nroute = \"/x/\"\ncomponent = \"b\"\n",
            "[[trigger.http]]\nroute = { private = true }\ncomponent = \"c\"\n",
            "[component.a]\n[component.b]\n[component.c]\n",
        ))
        .unwrap();
        let order: Vec<(&str, &str, bool)> = app
            .routes
            .iter()
            .map(|r| (r.raw.as_str(), r.base.as_str(), r.wildcard))
            .collect();
        assert_eq!(
            order,
            [
                ("/x/", "/x", false),
                ("/x/y/...", "/x/y", true),
                ("/x/...", "/x", true),
                ("/...", "", true),
            ]
        );
        assert!(app.components.contains("c"));
    }

    #[test]
    fn a_route_claimed_twice_is_refused() {
        let error = app(concat!(
            "[[trigger.http]]\nroute = \"/x/...\"\ncomponent = \"a\"\n",
            "[[trigger.http]]\nroute = \"x/...\"\ncomponent = \"b\"\n",
            "[component.a]\n[component.b]\n",
        ))
        .unwrap_err();
        assert!(
            error.to_string().contains("already taken by component `a`"),
            "{error}"
        );
    }

    #[test]
    fn a_trigger_of_an_undefined_component_is_refused() {
        let error = app("[[trigger.http]]\nroute = \"/x\"\ncomponent = \"zz\"\n").unwrap_err();
        assert!(error.to_string().contains("`zz`"), "{error}");
    }
}
