//! The topology of a split deployment: process groups, each serving some of
//! the app's components (`crm-host up -c ID…`, a SpinApp's `components:`),
//! with where its replicas listen (for the proxy) and how it scales (for
//! Kubernetes). Read from a TOML file (`deploy/topology.toml`) or, for the
//! proxy alone, from `--group NAME=ID[,ID…]@ADDR[,ADDR…]` arguments.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::app::{Route, SpinApp};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    #[serde(default)]
    pub kubernetes: Kubernetes,
    /// By name, which names the nginx upstream and the SpinApp (`crm-<name>`).
    #[serde(rename = "group")]
    pub groups: BTreeMap<String, Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// spin.toml component ids this group serves.
    pub components: Vec<String>,
    /// `host:port` of each replica, for `deploy proxy`.
    #[serde(default)]
    pub upstreams: Vec<String>,
    /// Kubernetes: the fewest replicas (the HPA's `minReplicas`).
    #[serde(default = "defaults::replicas")]
    pub replicas: u32,
    /// Kubernetes: the most replicas the HPA may scale to.
    #[serde(default = "defaults::max_replicas")]
    pub max_replicas: u32,
    /// Kubernetes: the average CPU use, in percent of the request, that the
    /// HPA scales to hold.
    #[serde(default = "defaults::target_cpu_percent")]
    pub target_cpu_percent: u32,
    /// Kubernetes: CPU and memory requested per replica, and its memory limit.
    #[serde(default = "defaults::cpu")]
    pub cpu: String,
    #[serde(default = "defaults::memory")]
    pub memory: String,
    #[serde(default = "defaults::memory_limit")]
    pub memory_limit: String,
}

/// Cluster-wide settings of the Kubernetes manifests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kubernetes {
    /// The app's OCI image (`spin registry push`), shared by every group.
    #[serde(default = "defaults::image")]
    pub image: String,
    #[serde(default = "defaults::executor")]
    pub executor: String,
    /// The Secret holding `runtime-config.toml`.
    #[serde(default = "defaults::runtime_config_secret")]
    pub runtime_config_secret: String,
    /// The Ingress's host; every host when absent.
    pub ingress_host: Option<String>,
    pub ingress_class: Option<String>,
}

impl Default for Kubernetes {
    fn default() -> Self {
        Self {
            image: defaults::image(),
            executor: defaults::executor(),
            runtime_config_secret: defaults::runtime_config_secret(),
            ingress_host: None,
            ingress_class: None,
        }
    }
}

mod defaults {
    pub fn replicas() -> u32 {
        1
    }
    pub fn max_replicas() -> u32 {
        10
    }
    pub fn target_cpu_percent() -> u32 {
        70
    }
    pub fn cpu() -> String {
        "100m".into()
    }
    pub fn memory() -> String {
        "128Mi".into()
    }
    pub fn memory_limit() -> String {
        "256Mi".into()
    }
    pub fn image() -> String {
        "registry.crm.invalid/gov-crm:0.1.0".into()
    }
    pub fn executor() -> String {
        "containerd-shim-spin".into()
    }
    pub fn runtime_config_secret() -> String {
        "crm-runtime-config".into()
    }
}

impl Topology {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in {}", path.display()))
    }

    /// From `--group NAME=ID[,ID…]@ADDR[,ADDR…]` arguments, with the
    /// defaults for everything else.
    pub fn from_args(groups: &[String]) -> Result<Self> {
        let mut topology = Self {
            kubernetes: Kubernetes::default(),
            groups: BTreeMap::new(),
        };
        for arg in groups {
            let parsed = (|| {
                let (name, rest) = arg.split_once('=')?;
                let (components, upstreams) = rest.split_once('@')?;
                let list = |s: &str| -> Vec<String> {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                };
                Some((name.to_string(), list(components), list(upstreams)))
            })();
            let Some((name, components, upstreams)) = parsed else {
                bail!("--group `{arg}`: expected NAME=ID[,ID…]@HOST:PORT[,HOST:PORT…]");
            };
            let group = Group {
                components,
                replicas: u32::try_from(upstreams.len()).unwrap_or(u32::MAX).max(1),
                upstreams,
                max_replicas: defaults::max_replicas(),
                target_cpu_percent: defaults::target_cpu_percent(),
                cpu: defaults::cpu(),
                memory: defaults::memory(),
                memory_limit: defaults::memory_limit(),
            };
            if topology.groups.insert(name.clone(), group).is_some() {
                bail!("--group `{name}` is given twice");
            }
        }
        Ok(topology)
    }

    /// Checks the topology against the app: names usable as Kubernetes
    /// names, known components, each routed component in exactly one group
    /// (two would serve one route; none would leave it unserved).
    pub fn check(&self, app: &SpinApp) -> Result<()> {
        if self.groups.is_empty() {
            bail!("the topology has no group");
        }
        let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, group) in &self.groups {
            if !is_dns_label(name) {
                bail!(
                    "group `{name}`: a name is lower-case letters, digits and `-`, starts with a letter, at most 40 characters"
                );
            }
            if group.components.is_empty() {
                bail!("group `{name}` serves no component");
            }
            if let Some(bad) = group.upstreams.iter().find(|u| !is_host_port(u)) {
                bail!("group `{name}`: upstream `{bad}` is not HOST:PORT");
            }
            if group.replicas == 0 || group.max_replicas < group.replicas {
                bail!("group `{name}`: need 1 <= replicas <= max_replicas");
            }
            for component in &group.components {
                if !app.components.contains(component) {
                    bail!(
                        "group `{name}`: spin.toml has no component `{component}` (it has {})",
                        app.components
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                if let Some(other) = owner.insert(component, name) {
                    bail!("component `{component}` is in groups `{other}` and `{name}`");
                }
            }
        }
        let unserved: Vec<&str> = app
            .routes
            .iter()
            .filter(|r| !owner.contains_key(r.component.as_str()))
            .map(|r| r.raw.as_str())
            .collect();
        if !unserved.is_empty() {
            bail!("no group serves route(s) {}", unserved.join(", "));
        }
        Ok(())
    }

    /// The group serving `route` (after [`Topology::check`]).
    pub fn group_of(&self, route: &Route) -> &str {
        self.groups
            .iter()
            .find(|(_, g)| g.components.contains(&route.component))
            .map(|(name, _)| name.as_str())
            .expect("a checked topology serves every route")
    }
}

/// `host:port` or `[v6]:port` with a host name or address only (it is
/// written into the proxy's configuration).
fn is_host_port(upstream: &str) -> bool {
    let Some((host, port)) = upstream.rsplit_once(':') else {
        return false;
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p != 0)
}

/// A DNS-1035 label short enough to prefix and suffix (`crm-<name>`).
fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 40
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> SpinApp {
        SpinApp::parse(concat!(
            "spin_manifest_version = 2\n[application]\nname = \"demo\"\n",
            "[[trigger.http]]\nroute = \"/a/...\"\ncomponent = \"a\"\n",
            "[[trigger.http]]\nroute = \"/b\"\ncomponent = \"b\"\n",
            "[component.a]\n[component.b]\n[component.private]\n",
        ))
        .unwrap()
    }

    fn args(groups: &[&str]) -> Result<Topology> {
        Topology::from_args(&groups.iter().map(|g| g.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn group_arguments_name_components_and_replicas() {
        let topology =
            args(&["one=a@127.0.0.1:1,127.0.0.1:2", "two=b,private@127.0.0.1:3"]).unwrap();
        topology.check(&app()).unwrap();
        let one = &topology.groups["one"];
        assert_eq!(one.components, ["a"]);
        assert_eq!(one.upstreams, ["127.0.0.1:1", "127.0.0.1:2"]);
        assert_eq!(one.replicas, 2);
        assert_eq!(topology.groups["two"].components, ["b", "private"]);
        assert_eq!(topology.group_of(&app().routes[0]), "two");
    }

    #[test]
    fn a_malformed_group_argument_is_refused() {
        for bad in [
            "one",
            "one=a",
            "one=a,b@127.0.0.1:1@x",
            "one=a,b@x;y:1",
            "one=a,b@x",
        ] {
            let result = args(&[bad]).and_then(|t| t.check(&app()));
            assert!(result.is_err(), "{bad}");
        }
    }

    #[test]
    fn every_routed_component_is_in_exactly_one_group() {
        let unserved = args(&["one=a@x:1"]).unwrap().check(&app()).unwrap_err();
        assert!(unserved.to_string().contains("/b"), "{unserved}");
        let twice = args(&["one=a,b@x:1", "two=b@x:2"])
            .unwrap()
            .check(&app())
            .unwrap_err();
        assert!(twice.to_string().contains("`b` is in groups"), "{twice}");
        let unknown = args(&["one=a,b,zz@x:1"])
            .unwrap()
            .check(&app())
            .unwrap_err();
        assert!(unknown.to_string().contains("`zz`"), "{unknown}");
    }

    #[test]
    fn group_names_must_be_kubernetes_names() {
        for bad in ["One", "1a", "a_b", "a-", ""] {
            let result = args(&[&format!("{bad}=a,b@x:1")]).unwrap().check(&app());
            assert!(result.is_err(), "{bad}");
        }
    }

    #[test]
    fn the_committed_topology_fits_the_real_manifest() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let app = SpinApp::load(&root.join("spin.toml")).unwrap();
        Topology::load(&root.join("deploy/topology.toml"))
            .unwrap()
            .check(&app)
            .unwrap();
    }
}
