//! Web addresses a person or a system will follow.

use crate::error::{Invalid, invalid};

/// An absolute `https` URL: `https://host[:port]` then an optional path,
/// query and fragment, in RFC 3986's characters (anything else
/// percent-encoded), at most `max` characters. No credentials, no other
/// scheme: `javascript:`, `data:` and plain `http:` are refused, and so is a
/// host that is not an ASCII DNS name or IP address (IDNs in punycode).
/// Kept as given (trimmed): a URL someone cited or signed stays theirs.
///
/// Hand-written rather than the `url` crate: its IDNA tables would add
/// hundreds of kilobytes to every component for a check this narrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(raw: &str, max: usize) -> Result<Self, Invalid> {
        let refused = || {
            invalid(format!(
                "must be an absolute https:// URL of at most {max} characters, without credentials"
            ))
        };
        let url = raw.trim();
        if url.chars().count() > max {
            return Err(refused());
        }
        let scheme_end = "https://".len();
        let Some(rest) = url
            .get(..scheme_end)
            .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
            .map(|_| &url[scheme_end..])
        else {
            return Err(refused());
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        // An IPv6 address has colons of its own, inside its brackets.
        let host_end = match authority.find(']') {
            Some(bracket) if authority.starts_with('[') => bracket + 1,
            _ => authority.find(':').unwrap_or(authority.len()),
        };
        let (host, port) = authority.split_at(host_end);
        let port = match port {
            "" => None,
            port => Some(port.strip_prefix(':').ok_or_else(refused)?),
        };
        let port_ok = port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
        if !is_host(host) || !port_ok || !tail.chars().all(is_url_char) {
            return Err(refused());
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A DNS name of letters, digits and hyphens in dot-separated labels, an
/// IPv4 address, or a bracketed IPv6 address.
fn is_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// RFC 3986's unreserved, reserved and `%` characters.
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_https_urls() {
        for (raw, kept) in [
            (
                "https://records.example.gov.au/d/7",
                "https://records.example.gov.au/d/7",
            ),
            (
                " HTTPS://Records.Example.gov.au:8443/D/7?v=2#p3 ",
                "HTTPS://Records.Example.gov.au:8443/D/7?v=2#p3",
            ),
            ("https://10.0.0.1/x", "https://10.0.0.1/x"),
            ("https://[::1]:443/x", "https://[::1]:443/x"),
            ("https://example.gov.au", "https://example.gov.au"),
            (
                "https://example.gov.au/a%20b",
                "https://example.gov.au/a%20b",
            ),
        ] {
            assert_eq!(HttpsUrl::parse(raw, 2048).unwrap().as_str(), kept, "{raw}");
        }
        for refused in [
            "javascript:alert(1)",
            "http://example.gov.au/",
            "data:text/html,<b>",
            "/relative/path",
            "example.gov.au/d/1",
            "https://",
            "https:///path",
            "https://user:pw@example.gov.au/",
            "https://exa mple.gov.au/",
            "https://example.gov.au/a b",
            "https://example.gov.au/\u{0}",
            "https://example.gov.au/<script>",
            "https://exämple.gov.au/",
            "https://example.gov.au:/",
            "https://example.gov.au:http/",
            "https://-bad.gov.au/",
            "urn:isbn:0451450523",
            "ftp://example.gov.au/",
        ] {
            assert!(HttpsUrl::parse(refused, 2048).is_err(), "{refused}");
        }
        assert!(HttpsUrl::parse(&format!("https://a.au/{}", "x".repeat(20)), 20).is_err());
    }
}
