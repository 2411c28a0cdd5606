//! Spin's HTTP routing: exact routes and `/...` prefix wildcards; an exact
//! route beats any wildcard and a longer wildcard beats a shorter one.
//! Private components have no route and are reached only by in-process
//! chaining to `<id>.spin.internal`.

use anyhow::{Result, bail};

#[derive(Debug, Clone)]
struct Entry {
    component: String,
    /// The route as written in the manifest, e.g. `/api/...`.
    raw: String,
    /// The route without its wildcard, e.g. `/api` (empty for `/...`).
    base: String,
    wildcard: bool,
}

/// The route table of the served components.
#[derive(Debug, Default)]
pub struct Router {
    entries: Vec<Entry>,
}

/// What a request path matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub component: &'a str,
    /// `spin-matched-route` / `spin-raw-component-route`: the route as written.
    pub raw_route: &'a str,
    /// `spin-component-route`: the route without its `/...`.
    pub component_route: &'a str,
    /// `spin-path-info`: the part of the path after the component route.
    pub path_info: String,
}

impl Router {
    /// Builds the table; two components claiming one route is an error.
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut entries: Vec<Entry> = Vec::new();
        for (route, component) in routes {
            // Like Spin, a route written without its leading `/` is absolute.
            let absolute;
            let route = if route.starts_with('/') {
                route
            } else {
                absolute = format!("/{route}");
                absolute.as_str()
            };
            let (base, wildcard) = match route.strip_suffix("/...") {
                Some(base) => (base.to_string(), true),
                None if route == "/..." => (String::new(), true),
                None => (route.trim_end_matches('/').to_string(), false),
            };
            if let Some(other) = entries
                .iter()
                .find(|e| e.base == base && e.wildcard == wildcard)
            {
                bail!(
                    "route `{route}` of component `{component}` is already taken by component `{}`",
                    other.component
                );
            }
            entries.push(Entry {
                component: component.to_string(),
                raw: route.to_string(),
                base,
                wildcard,
            });
        }
        // Most specific first: exact routes, then longer wildcards.
        entries.sort_by(|a, b| {
            a.wildcard
                .cmp(&b.wildcard)
                .then(b.base.len().cmp(&a.base.len()))
        });
        Ok(Self { entries })
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        self.entries.iter().find_map(|e| {
            let path_info = if e.wildcard {
                let rest = path.strip_prefix(e.base.as_str())?;
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                rest.to_string()
            } else if trimmed == e.base || (e.base.is_empty() && trimmed == "/") {
                String::new()
            } else {
                return None;
            };
            Some(RouteMatch {
                component: &e.component,
                raw_route: &e.raw,
                component_route: &e.base,
                path_info,
            })
        })
    }

    /// Routes for the start-up banner, in manifest-like form.
    pub fn describe(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.component.as_str(), e.raw.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new([
            ("/api/...", "api"),
            ("/api/contacts/...", "contacts"),
            ("/api/contacts/special", "special"),
            ("/exact", "exact"),
            ("/...", "fallback"),
        ])
        .unwrap()
    }

    fn component(path: &str) -> Option<String> {
        router().route(path).map(|m| m.component.to_string())
    }

    #[test]
    fn most_specific_route_wins() {
        assert_eq!(
            component("/api/contacts/special").as_deref(),
            Some("special")
        );
        assert_eq!(component("/api/contacts/1").as_deref(), Some("contacts"));
        assert_eq!(component("/api/contacts").as_deref(), Some("contacts"));
        assert_eq!(component("/api/other").as_deref(), Some("api"));
        assert_eq!(component("/exact").as_deref(), Some("exact"));
        assert_eq!(component("/exact/below").as_deref(), Some("fallback"));
        assert_eq!(component("/apix").as_deref(), Some("fallback"));
        assert_eq!(component("/").as_deref(), Some("fallback"));
    }

    #[test]
    fn wildcards_do_not_match_siblings_with_a_common_prefix() {
        let r = Router::new([("/api/...", "api")]).unwrap();
        assert!(r.route("/apix").is_none());
        assert!(r.route("/").is_none());
    }

    #[test]
    fn path_info_and_component_route() {
        let r = router();
        let m = r.route("/api/contacts/7/history").unwrap();
        assert_eq!(m.path_info, "/7/history");
        assert_eq!(m.component_route, "/api/contacts");
        assert_eq!(m.raw_route, "/api/contacts/...");
        let m = r.route("/exact").unwrap();
        assert_eq!(m.path_info, "");
        let m = r.route("/anything/else").unwrap();
        assert_eq!(m.path_info, "/anything/else");
        assert_eq!(m.component_route, "");
    }

    #[test]
    fn duplicate_routes_are_refused() {
        let err = Router::new([("/a/...", "one"), ("/a/...", "two")]).unwrap_err();
        assert!(err.to_string().contains("`one`"));
    }
}
