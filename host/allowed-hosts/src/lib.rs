//! Spin's `allowed_outbound_hosts` patterns: `scheme://host[:port]`, where
//! scheme, host and port may be `*`, the host may be `*.domain` (its
//! subdomains, not the domain itself), the port may be a range `lo..hi`, and
//! no port means the scheme's default. `crm-host` lets a component's
//! outbound request through when one of its patterns allows the request's
//! origin; the notification component refuses a status callback URL outside
//! `notification_callback_origin`, which could never be called. One crate,
//! so both decide alike.

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPattern {
    /// `None` for `*`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: `a.example.com`, not `example.com`.
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundPatternError {
    #[error("`{0}` must name a scheme, e.g. `https://host`")]
    NoScheme(String),
    #[error("`{0}`: invalid scheme")]
    BadScheme(String),
    #[error("`{0}`: an allowed host may not contain a path")]
    Path(String),
    #[error("`{0}`: the host is missing")]
    NoHost(String),
    #[error("`{0}`: `*` is allowed only as the whole host or as `*.domain`")]
    Wildcard(String),
    #[error("`{0}`: bad port")]
    BadPort(String),
}

/// The port a scheme means when none is given.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn is_scheme(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

impl OutboundPattern {
    pub fn parse(text: &str) -> Result<Self, OutboundPatternError> {
        let text = text.trim();
        let err = |f: fn(String) -> OutboundPatternError| f(text.to_string());
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| err(OutboundPatternError::NoScheme))?;
        if scheme != "*" && !is_scheme(scheme) {
            return Err(err(OutboundPatternError::BadScheme));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(err(OutboundPatternError::Path));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        if host.is_empty() {
            return Err(err(OutboundPatternError::NoHost));
        }
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.is_empty() || suffix.contains('*') {
                return Err(err(OutboundPatternError::Wildcard));
            }
            HostPattern::Subdomain(suffix.to_ascii_lowercase())
        } else if host.contains('*') {
            return Err(err(OutboundPatternError::Wildcard));
        } else {
            HostPattern::Exact(host.to_ascii_lowercase())
        };
        let number = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| err(OutboundPatternError::BadPort))
        };
        let port = match port {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => match p.split_once("..") {
                Some((lo, hi)) => PortPattern::Range(number(lo)?, number(hi)?),
                None => PortPattern::Exact(number(p)?),
            },
        };
        Ok(Self {
            scheme: (scheme != "*").then(|| scheme.to_ascii_lowercase()),
            host,
            port,
        })
    }

    /// Whether a request to `url` would be let through. A URL this cannot
    /// read (no scheme or host, user info, a bad port, a scheme with no
    /// default port and none given) is not.
    pub fn allows_url(&self, url: &str) -> bool {
        url_origin(url).is_some_and(|(scheme, host, port)| self.allows(&scheme, &host, port))
    }

    /// Whether the pattern allows this origin (`scheme` and `host` lower
    /// case, `port` the one given or the scheme's default).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
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

/// A URL's lower-cased scheme and host and its port (given, else the
/// scheme's default).
fn url_origin(url: &str) -> Option<(String, String, u16)> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    if !is_scheme(scheme) {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    // User info could make a reader see another host than the client does.
    if authority.contains(['@', '\\', '%']) {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let after = &authority[end + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&authority[..=end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || (host.contains(['[', ']']) && !host.starts_with('[')) {
        return None;
    }
    let port = match port {
        None => default_port(&scheme)?,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, url: &str) -> bool {
        OutboundPattern::parse(pattern).unwrap().allows_url(url)
    }

    #[test]
    fn an_exact_host_with_the_scheme_default_port() {
        let p = "https://api.example.com";
        assert!(allows(p, "https://api.example.com/callbacks"));
        assert!(allows(p, "https://API.Example.com"));
        assert!(allows(p, "https://api.example.com:443/x?y#z"));
        assert!(allows(p, "https://api.example.com?x=1"));
        assert!(!allows(p, "https://api.example.com:8443/x"));
        assert!(!allows(p, "https://other.example.com/x"));
        assert!(!allows(p, "https://a.api.example.com/x"));
        assert!(!allows(p, "https://api.example.com.evil.com/x"));
    }

    #[test]
    fn a_subdomain_wildcard() {
        let p = "https://*.gov.au";
        assert!(allows(p, "https://portal.example.gov.au/callbacks"));
        assert!(allows(p, "https://a.gov.au/"));
        assert!(!allows(p, "https://gov.au/"), "not the domain itself");
        assert!(!allows(p, "https://evilgov.au/"));
        assert!(!allows(p, "https://a.gov.au.evil.com/"));
        assert!(!allows(p, "https://example.com/"));
        assert!(!allows(p, "https://a.gov.au:8443/"));
    }

    #[test]
    fn the_scheme_must_match_unless_it_is_a_wildcard() {
        assert!(!allows("https://*.gov.au", "http://a.gov.au/"));
        assert!(!allows("http://a.gov.au", "https://a.gov.au/"));
        assert!(allows("*://a.gov.au:8080", "http://a.gov.au:8080/"));
        assert!(allows("*://a.gov.au:8080", "https://a.gov.au:8080/"));
        assert!(allows("HTTPS://A.gov.au", "https://a.gov.au/"));
    }

    #[test]
    fn ports_exact_any_and_ranges() {
        assert!(allows("http://127.0.0.1:*", "http://127.0.0.1:4567/cb"));
        assert!(allows("http://127.0.0.1:*", "http://127.0.0.1/cb"));
        assert!(!allows("http://127.0.0.1:*", "http://localhost:4567/cb"));
        assert!(allows("https://a.gov.au:8443", "https://a.gov.au:8443/"));
        assert!(!allows("https://a.gov.au:8443", "https://a.gov.au/"));
        assert!(allows(
            "http://localhost:3000..3010",
            "http://localhost:3005/"
        ));
        assert!(!allows(
            "http://localhost:3000..3010",
            "http://localhost:3011/"
        ));
        assert!(allows("http://[::1]:8080", "http://[::1]:8080/cb"));
        assert!(allows("https://*:*", "https://anything.example.com:1/"));
    }

    #[test]
    fn urls_that_cannot_be_read_are_not_allowed() {
        let p = "https://*.gov.au";
        for url in [
            "portal.example.gov.au/callbacks",
            "https://",
            "https:///path",
            "https://user@portal.gov.au/",
            "https://evil.com\\@portal.gov.au/",
            "https://evil.com%2f@portal.gov.au/",
            "https://portal.gov.au:/",
            "https://portal.gov.au:99999/",
            "https://portal.gov.au:-1/",
            "https://portal .gov.au/",
            "https://portal.gov.au/\n",
        ] {
            assert!(!allows(p, url), "{url}");
        }
        assert!(!allows("*://*:*", "ftp://example.com/"), "no default port");
        assert!(allows("*://*:*", "ftp://example.com:21/"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "example.com",
            "https://example.com/path",
            "https://ex*ample.com",
            "https://*.",
            "https://a.com:port",
            "https://:80",
            "ht tp://a.com",
        ] {
            assert!(OutboundPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(OutboundPattern::parse("https://example.com/").is_ok());
    }
}
