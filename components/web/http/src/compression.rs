//! Pages gzip-compressed for a client that accepts it, but only when the
//! browser says the request came from our own pages or was typed in
//! (`Sec-Fetch-Site: same-origin` or `none`). A cross-site request can make
//! a page reflect text the attacker chose beside the session's CSRF token,
//! and the compressed sizes would then give the token away a guess at a
//! time (BREACH); such a request, or one that does not say, gets the page
//! as it is.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use spin_sdk::http::{Request, Response};

/// Whether `accept_encoding` lists `coding` without `q=0`.
pub fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            })
    })
}

/// Whether the browser says `req` came from this site or from the user.
fn from_this_site(req: &Request) -> bool {
    let site = req.header("sec-fetch-site").and_then(|v| v.as_str());
    matches!(site, Some("same-origin" | "none"))
}

/// Compresses `response` in place if it is a page `req` may have compressed.
pub fn compress_page(req: &Request, response: &mut Response) {
    let is_page = response
        .header("content-type")
        .and_then(|v| v.as_str())
        .is_some_and(|t| t.starts_with("text/html"));
    if !is_page || response.header("content-encoding").is_some() || response.body().is_empty() {
        return;
    }
    // Caches must tell apart answers to requests that differ in either.
    response.set_header("vary", "accept-encoding, sec-fetch-site");
    let accept_encoding = req
        .header("accept-encoding")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if !from_this_site(req) || !accepts(accept_encoding, "gzip") {
        return;
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(response.body())
        .and_then(|()| encoder.finish());
    if let Ok(compressed) = compressed {
        *response.body_mut() = compressed;
        response.set_header("content-encoding", "gzip");
    }
}
