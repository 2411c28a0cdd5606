//! GOV.UK Frontend's compiled CSS and JavaScript, embedded by build.rs under
//! fingerprinted names: a name never changes content, so browsers may keep
//! them for a year without asking again.

use spin_sdk::http::{Request, Response};

use crate::compression::accepts;

pub struct Asset {
    /// The file's name in `dist/`.
    pub logical: &'static str,
    /// `app-<hash>.css`: the name it is served under.
    pub name: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    /// The file gzip-compressed, which is also where its plain bytes come
    /// from (build.rs embeds no plain copy).
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Where pages link to: `/assets/<fingerprinted name>`.
pub fn href(logical: &str) -> String {
    let asset = ASSETS
        .iter()
        .find(|a| a.logical == logical)
        .expect("build.rs embeds every asset pages link to");
    format!("/assets/{}", asset.name)
}

/// `GET /assets/<name>`: the asset in the best encoding the client accepts,
/// or 304 when it already has it.
pub fn serve(req: &Request, name: &str) -> Option<Response> {
    let asset = ASSETS.iter().find(|a| a.name == name)?;
    let header = |name: &str| {
        req.header(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut response = Response::builder();
    response
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("etag", asset.etag)
        .header("vary", "accept-encoding")
        .header("content-type", asset.content_type);
    if header("if-none-match")
        .split(',')
        .any(|tag| tag.trim() == asset.etag || tag.trim() == "*")
    {
        return Some(response.status(304).build());
    }
    let accepted = header("accept-encoding");
    let body = match Encoding::chosen(&accepted) {
        Some(Encoding::Brotli) => {
            response.header("content-encoding", "br");
            asset.brotli.to_vec()
        }
        Some(Encoding::Gzip) => {
            response.header("content-encoding", "gzip");
            asset.gzip.to_vec()
        }
        None => inflated(asset.gzip),
    };
    Some(response.status(200).body(body).build())
}

/// The plain bytes of a gzip copy build.rs made.
fn inflated(gzip: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzip), &mut plain)
        .expect("build.rs wrote a whole gzip stream");
    plain
}

#[derive(Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Brotli, else gzip, if `accept-encoding` lists it without `q=0`.
    fn chosen(accept_encoding: &str) -> Option<Self> {
        if accepts(accept_encoding, "br") {
            Some(Self::Brotli)
        } else if accepts(accept_encoding, "gzip") {
            Some(Self::Gzip)
        } else {
            None
        }
    }
}
