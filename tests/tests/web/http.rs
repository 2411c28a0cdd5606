//! What the web component answers over plain HTTP, below what a browser shows.

use std::io::{Read, Write};
use std::net::TcpStream;

use crm_tests::Reply;

use crate::host;

fn header<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[test]
fn pages_carry_the_security_headers_and_the_api_keeps_its_routes() {
    let page = host().get("/sign-in");
    assert_eq!(page.status, 200, "{}", page.body);
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert!(page.body.contains("Development sign-in"));
    // Over loopback http the cookie drops `Secure` (and so `__Host-`), and
    // keeps the rest.
    let cookie = header(&page, "set-cookie");
    assert!(cookie.starts_with("crm-session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly; SameSite=Lax; Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");

    // `/...` takes only what the API's longer routes leave.
    let api = host().get("/api/contacts");
    assert_eq!(api.status, 401, "{}", api.body);
    assert_eq!(header(&api, "content-type"), "application/problem+json");
    let missing = host().get("/no-such-page");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found"));
    // A path under the API's prefixes that no API route takes is still an
    // API miss: a problem, not a page.
    for path in ["/api/contactsx", "/api/no-such", "/api"] {
        let miss = host().get(path);
        assert_eq!(miss.status, 404, "{path}: {}", miss.body);
        assert_eq!(
            header(&miss, "content-type"),
            "application/problem+json",
            "{path}"
        );
    }
}

#[test]
fn a_post_without_the_sessions_csrf_token_is_refused_and_signs_no_one_in() {
    let page = host().get("/sign-in");
    let cookie = header(&page, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let forged = host().request(
        "POST",
        "/sign-in",
        &[
            ("cookie", cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some(b"csrf_token=forged&role=administrator&subject=mallory"),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("Your form could not be sent"));
    assert!(forged.header("set-cookie").is_none());
    // With no session at all, too.
    let bare = host().request(
        "POST",
        "/sign-in",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"role=administrator&subject=mallory"),
    );
    assert_eq!(bare.status, 403, "{}", bare.body);
}

#[test]
fn assets_are_fingerprinted_immutable_compressed_and_revalidated() {
    let page = host().get("/sign-in");
    let css = page
        .body
        .split("href=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|h| h.starts_with("/assets/app-"))
        })
        .expect("the stylesheet link")
        .to_string();
    assert!(css.ends_with(".css"), "{css}");
    let plain = host().request("GET", &css, &[("accept-encoding", "identity")], None);
    assert_eq!(plain.status, 200);
    assert_eq!(
        header(&plain, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&plain, "content-type"), "text/css; charset=utf-8");
    assert!(plain.header("content-encoding").is_none());
    // Arial, and no GDS Transport (licensed only for gov.uk).
    assert!(plain.body.contains("arial,sans-serif"));
    assert!(!plain.body.contains("GDS Transport"));
    assert!(!plain.body.contains("@font-face"));

    let etag = header(&plain, "etag").to_string();
    let (gzip_headers, gzip) = raw_get(&css, "accept-encoding: gzip");
    assert!(
        gzip_headers.contains("content-encoding: gzip"),
        "{gzip_headers}"
    );
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&gzip[..])
        .read_to_string(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, plain.body);
    let (br_headers, br) = raw_get(&css, "accept-encoding: gzip, deflate, br");
    assert!(br_headers.contains("content-encoding: br"), "{br_headers}");
    let mut unbrotlied = Vec::new();
    brotli::BrotliDecompress(&mut &br[..], &mut unbrotlied).expect("brotli");
    assert_eq!(unbrotlied, plain.body.as_bytes());
    assert!(
        br.len() < plain.body.len() / 4,
        "compressed: {} of {}",
        br.len(),
        plain.body.len()
    );
    let (refused, _) = raw_get(&css, "accept-encoding: br;q=0, gzip");
    assert!(refused.contains("content-encoding: gzip"), "{refused}");
    let cached = host().request("GET", &css, &[("if-none-match", etag.as_str())], None);
    assert_eq!(cached.status, 304);
    // A name that is not a fingerprinted asset is not served.
    assert_eq!(host().get("/assets/app.css").status, 404);
}

/// Pages are gzip-compressed only for a request the browser says came
/// from this site or its user (`Sec-Fetch-Site`): a cross-site one could
/// reflect chosen text beside the CSRF token (BREACH), so it and one that
/// does not say get the page as it is.
#[test]
fn pages_are_compressed_only_for_requests_from_this_site() {
    for site in ["same-origin", "none"] {
        let (head, body) = raw_get(
            "/sign-in",
            &format!("accept-encoding: gzip, br\r\nsec-fetch-site: {site}"),
        );
        assert!(head.contains("content-encoding: gzip"), "{site}: {head}");
        assert!(
            head.contains("vary: accept-encoding, sec-fetch-site"),
            "{head}"
        );
        let mut page = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut page)
            .expect("gzip");
        assert!(page.contains("Development sign-in"), "{site}");
        assert!(page.contains("name=\"csrf_token\""), "{site}");
        assert!(
            body.len() < page.len() / 2,
            "{} of {}",
            body.len(),
            page.len()
        );
    }
    for site in [
        "accept-encoding: gzip\r\nsec-fetch-site: cross-site",
        "accept-encoding: gzip\r\nsec-fetch-site: same-site",
        "accept-encoding: gzip",
        "sec-fetch-site: same-origin",
    ] {
        let (head, body) = raw_get("/sign-in", site);
        assert!(!head.contains("content-encoding"), "{site}: {head}");
        assert!(
            head.contains("vary: accept-encoding, sec-fetch-site"),
            "{head}"
        );
        let page = String::from_utf8(body).expect("a plain page");
        assert!(page.contains("name=\"csrf_token\""), "{site}");
    }
}

/// A GET over a bare connection, for a binary (compressed) body: its
/// lower-cased head and its body.
fn raw_get(path: &str, header: &str) -> (String, Vec<u8>) {
    let authority = host()
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = TcpStream::connect(&authority).expect("connecting");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\n{header}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("reading");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
    (head, answer[split..].to_vec())
}
