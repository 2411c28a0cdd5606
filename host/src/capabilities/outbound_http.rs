//! Outbound HTTP (`wasi:http/outgoing-handler`): the manifest's
//! `allowed_outbound_hosts` allow-list, and in-process chaining for
//! `http://self` and `http://<component>.spin.internal`, which never touch a
//! socket. Chained requests go to an [`OutboundChain`], which the HTTP
//! trigger implements (as Spin's outbound-HTTP factor leaves local service
//! chaining to `spin-trigger-http`), so this module needs nothing above it.

use std::sync::Arc;

use anyhow::Result;
use crm_host_allowed_hosts::{OutboundPattern, default_port};
use futures::future::BoxFuture;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::capabilities::sqlite::Acknowledgement;

/// A component's parsed allow-list (the patterns' rules are
/// `crm-host-allowed-hosts`', which the notification component checks callback
/// URLs with too).
#[derive(Debug, Default)]
pub struct AllowedHosts(Vec<OutboundPattern>);

impl AllowedHosts {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        entries
            .into_iter()
            .map(|entry| OutboundPattern::parse(entry).map_err(anyhow::Error::from))
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

/// How a chained (outbound, in-process) request is addressed.
pub enum Chained {
    /// `http://self/...`: through the router.
    Router,
    /// `http://<id>.spin.internal/...`: straight to a component, routed or private.
    Component(String),
}

/// Where an allowed request is chained to, or `None` for the network.
fn chained(uri: &http::Uri) -> Option<Chained> {
    match uri.host()? {
        "self" => Some(Chained::Router),
        host => host
            .strip_suffix(".spin.internal")
            .map(|id| Chained::Component(id.to_string())),
    }
}

/// Serves chained requests in-process: the hook the HTTP trigger implements.
pub trait OutboundChain: Send + Sync {
    fn chain(
        self: Arc<Self>,
        request: http::Request<WasiBody>,
        to: Chained,
    ) -> BoxFuture<'static, http::Response<WasiBody>>;
}

/// The `wasi:http` hooks of one component instance: the allow-list check,
/// the in-process chaining, and settling the request's writes first.
pub struct OutboundHooks {
    pub chain: Arc<dyn OutboundChain>,
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
        let chain = Arc::clone(&self.chain);
        let ack = self.ack.clone();
        let done = || Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>;
        Box::new(async move {
            ack.settle().await.map_err(|e| {
                HttpError::InternalError(Some(format!(
                    "the request's writes could not be made durable: {e}"
                )))
            })?;
            match chained(request.uri()) {
                Some(to) => Ok((chain.chain(request, to).await, done())),
                None => {
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
}
