//! Embeds the assets `npm run build` left in `components/web/dist/` (spin.toml's
//! build command runs it) under fingerprinted names, as gzip and brotli
//! copies compressed once here rather than on every request. No plain copy:
//! the rare client that takes neither gets the gzip copy inflated, which
//! keeps 180 KB out of the component.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// (file in dist/, content type). `app.mjs` imports GOV.UK Frontend's module,
/// so that one is fingerprinted first and the import rewritten.
const ASSETS: &[(&str, &str)] = &[
    ("app.css", "text/css; charset=utf-8"),
    ("govuk-frontend.min.js", "text/javascript; charset=utf-8"),
    ("app.mjs", "text/javascript; charset=utf-8"),
];

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    println!("cargo::rerun-if-changed={}", dist.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    let mut renamed: Vec<(String, String)> = Vec::new();
    for (file, content_type) in ASSETS {
        let path = dist.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}. Build the assets first: `npm ci && npm run build` in components/web \
                 (spin.toml's build command for `web` does)",
                path.display()
            )
        });
        for (from, to) in &renamed {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace(from, to)
                .into_bytes();
        }
        let hash = hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)[..8]);
        let (stem, ext) = file.split_once('.').unwrap();
        let name = format!("{stem}-{hash}.{ext}");
        renamed.push((format!("./{file}"), format!("./{name}")));
        let write = |suffix: &str, data: &[u8]| {
            let p = out.join(format!("{name}{suffix}"));
            std::fs::write(&p, data).unwrap();
            p.display().to_string()
        };
        let gzip = write(".gz", &gzip(&bytes));
        let brotli = write(".br", &brotli(&bytes));
        writeln!(
            table,
            "    Asset {{ logical: {file:?}, name: {name:?}, content_type: {content_type:?}, \
             etag: \"\\\"{hash}\\\"\", \
             gzip: include_bytes!({gzip:?}), brotli: include_bytes!({brotli:?}) }},"
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out.join("assets.rs"), table).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out
}
