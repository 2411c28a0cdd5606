//! Outbound HTTP (`wasi:http/outgoing-handler`): the manifest's
//! `allowed_outbound_hosts` allow-list, and in-process chaining for
//! `http://self` and `http://<component>.spin.internal`, which never touch a
//! socket.

use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::capabilities::sqlite::Acknowledgement;
use crate::trigger_http::{App, Chained};

/// One `allowed_outbound_hosts` entry: `scheme://host[:port]`, where scheme,
/// host and port may be `*`, host may be `*.suffix`, and `self` names this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com` matches `a.example.com`, not `example.com`.
    Subdomain(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    /// No port written: the scheme's default.
    Default,
    Exact(u16),
    Range(u16, u16),
}

impl AllowedHost {
    pub fn parse(text: &str) -> Result<Self> {
        let Some((scheme, rest)) = text.split_once("://") else {
            bail!("`{text}` must name a scheme, e.g. `https://{text}`");
        };
        ensure!(
            scheme == "*"
                || scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+'),
            "`{text}`: invalid scheme `{scheme}`"
        );
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        ensure!(
            !rest.contains('/'),
            "`{text}`: an allowed host may not contain a path"
        );
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        ensure!(!host.is_empty(), "`{text}`: the host is missing");
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Subdomain(suffix.to_ascii_lowercase())
        } else {
            ensure!(
                !host.contains('*'),
                "`{text}`: `*` is allowed only as the whole host or as `*.domain`"
            );
            HostPattern::Exact(host.to_ascii_lowercase())
        };
        let port = match port {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => match p.split_once("..") {
                Some((lo, hi)) => PortPattern::Range(
                    lo.parse()
                        .with_context(|| format!("`{text}`: bad port range"))?,
                    hi.parse()
                        .with_context(|| format!("`{text}`: bad port range"))?,
                ),
                None => PortPattern::Exact(
                    p.parse()
                        .with_context(|| format!("`{text}`: bad port `{p}`"))?,
                ),
            },
        };
        Ok(Self {
            scheme: (scheme != "*").then(|| scheme.to_ascii_lowercase()),
            host,
            port,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Exact(h) => h == host,
            HostPattern::Subdomain(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Default => Some(port) == default_port(scheme),
            PortPattern::Exact(p) => p == port,
            PortPattern::Range(lo, hi) => (lo..=hi).contains(&port),
        };
        scheme_ok && host_ok && port_ok
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A component's parsed allow-list.
#[derive(Debug, Default)]
pub struct AllowedHosts(Vec<AllowedHost>);

impl AllowedHosts {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        entries
            .into_iter()
            .map(AllowedHost::parse)
            .collect::<Result<_>>()
            .map(Self)
    }

    pub fn allows(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let Some(host) = uri.host().map(str::to_ascii_lowercase) else {
            return false;
        };
        let Some(port) = uri.port_u16().or_else(|| default_port(&scheme)) else {
            return false;
        };
        self.0.iter().any(|a| a.allows(&scheme, &host, port))
    }
}

/// The component an allow-list entry chains to in-process: `Some("*")` for
/// `*.spin.internal`, `Some(id)` for `<id>.spin.internal`, `None` otherwise.
pub fn chained_component(pattern: &str) -> Option<&str> {
    let rest = pattern.split_once("://").map_or(pattern, |(_, rest)| rest);
    let host = rest.split([':', '/']).next().unwrap_or(rest);
    host.strip_suffix(".spin.internal")
}

/// Where an allowed request goes.
enum Destination {
    /// Back into this app's router (`http://self`).
    SelfApp,
    /// Straight to one component, routed or private (`<id>.spin.internal`).
    Component(String),
    Network,
}

fn destination(uri: &http::Uri) -> Destination {
    match uri.host() {
        Some("self") => Destination::SelfApp,
        Some(host) => match host.strip_suffix(".spin.internal") {
            Some(id) => Destination::Component(id.to_string()),
            None => Destination::Network,
        },
        None => Destination::Network,
    }
}

/// The `wasi:http` hooks of one component instance: the allow-list check,
/// the in-process chaining, and settling the request's writes first.
pub struct OutboundHooks {
    pub app: Arc<App>,
    pub allowed: Arc<AllowedHosts>,
    /// Whoever is called may act on what the request wrote, so it goes out
    /// only once that is durable.
    pub ack: Acknowledgement,
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        if !self.allowed.allows(request.uri()) {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let app = Arc::clone(&self.app);
        let ack = self.ack.clone();
        let done = || Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>;
        Box::new(async move {
            ack.settle().await.map_err(|e| {
                HttpError::InternalError(Some(format!(
                    "the request's writes could not be made durable: {e}"
                )))
            })?;
            match destination(request.uri()) {
                Destination::SelfApp => Ok((app.dispatch(request, Chained::Router).await, done())),
                Destination::Component(id) => {
                    Ok((app.dispatch(request, Chained::Component(id)).await, done()))
                }
                Destination::Network => {
                    use http_body_util::BodyExt;
                    let (response, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
                    Ok((
                        response.map(BodyExt::boxed_unsync),
                        Box::new(io) as Box<dyn Future<Output = _> + Send>,
                    ))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(patterns: &[&str], url: &str) -> bool {
        AllowedHosts::parse(patterns.iter().copied())
            .unwrap()
            .allows(&url.parse().unwrap())
    }

    #[test]
    fn exact_hosts_use_the_scheme_default_port() {
        assert!(allows(
            &["https://api.example.com"],
            "https://api.example.com/x"
        ));
        assert!(!allows(
            &["https://api.example.com"],
            "http://api.example.com/x"
        ));
        assert!(!allows(
            &["https://api.example.com"],
            "https://api.example.com:8443/"
        ));
        assert!(!allows(&["https://api.example.com"], "https://evil.com/"));
    }

    #[test]
    fn wildcards() {
        assert!(allows(&["https://*.example.com"], "https://a.example.com/"));
        assert!(!allows(&["https://*.example.com"], "https://example.com/"));
        assert!(!allows(&["https://*.example.com"], "https://aexample.com/"));
        assert!(allows(&["http://127.0.0.1:*"], "http://127.0.0.1:4567/"));
        assert!(allows(&["*://localhost:3000"], "http://localhost:3000/"));
        assert!(allows(
            &["http://localhost:3000..3010"],
            "http://localhost:3005/"
        ));
        assert!(!allows(
            &["http://localhost:3000..3010"],
            "http://localhost:3011/"
        ));
        assert!(allows(&["http://self"], "http://self/api"));
        assert!(allows(
            &["http://*.spin.internal"],
            "http://audit.spin.internal/"
        ));
    }

    #[test]
    fn chaining_targets() {
        assert_eq!(
            chained_component("http://audit.spin.internal"),
            Some("audit")
        );
        assert_eq!(chained_component("http://*.spin.internal:80"), Some("*"));
        assert_eq!(chained_component("https://example.com"), None);
        assert_eq!(chained_component("http://self"), None);
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "example.com",
            "https://example.com/path",
            "https://ex*ample.com",
            "https://a.com:port",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }
}
