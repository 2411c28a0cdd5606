//! `crm-cli shrink-wasm`: runs binaryen's `wasm-opt -Oz` over the core
//! modules inside built components (spin.toml's build commands call it),
//! which rustc's own size settings leave 10–15 % larger. `wasm-opt` reads
//! core modules only, so each module section is optimised on its own and
//! spliced back: a component refers to its modules by index and to their
//! exports by name, so nothing outside the section changes. The result is
//! validated before it replaces the file; without `wasm-opt` on the PATH
//! the file is left as built.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A component section holding a core module.
const CORE_MODULE_SECTION: u8 = 1;

/// rustc's default features for wasm32-wasip2, which the optimiser may keep
/// using (and no others).
const FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

pub fn run(files: &[PathBuf]) -> Result<()> {
    if Command::new("wasm-opt").arg("--version").output().is_err() {
        eprintln!(
            "wasm-opt not found (Debian: binaryen): components left as built, {} file(s)",
            files.len()
        );
        return Ok(());
    }
    for file in files {
        shrink_file(file).with_context(|| format!("shrinking {}", file.display()))?;
    }
    Ok(())
}

fn shrink_file(file: &Path) -> Result<()> {
    // cargo copies its linked output over `file` on every build, changed or
    // not, so the shrunk bytes are kept beside it with the fingerprint of
    // what they were made from, and put back when that comes again.
    let (cache, source) = (
        file.with_extension("wasm.shrunk"),
        file.with_extension("wasm.shrunk-source"),
    );
    let built = std::fs::read(file)?;
    let cached = std::fs::read(&cache).ok();
    if cached.as_deref() == Some(&built[..]) {
        return Ok(());
    }
    let shrunk = match cached {
        Some(shrunk) if std::fs::read_to_string(&source).ok() == Some(fingerprint(&built)) => {
            shrunk
        }
        _ => {
            let shrunk = splice(&built, optimise)?;
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&shrunk)
                .context("the shrunk component does not validate")?;
            std::fs::write(&cache, &shrunk)?;
            std::fs::write(&source, fingerprint(&built))?;
            println!(
                "{}: {} -> {} bytes",
                file.display(),
                built.len(),
                shrunk.len()
            );
            shrunk
        }
    };
    let temporary = file.with_extension("wasm.shrinking");
    std::fs::write(&temporary, &shrunk)?;
    // A rename, not a write in place: cargo's copy in deps/ is a hard link
    // to this file and stays as it linked it.
    std::fs::rename(&temporary, file)?;
    Ok(())
}

/// What identifies a file's content well enough to skip work twice.
fn fingerprint(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{} {:016x}", bytes.len(), hasher.finish())
}

/// `component` with each core module section's contents passed through
/// `optimise` (kept as it was when that does not make it smaller).
fn splice(component: &[u8], optimise: impl Fn(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    if component.len() < 8 || &component[..4] != b"\0asm" {
        bail!("not a WebAssembly binary");
    }
    if component[4..8] != [0x0d, 0x00, 0x01, 0x00] {
        bail!("not a component (a core module needs no splicing: run wasm-opt on it)");
    }
    let mut out = component[..8].to_vec();
    let mut at = 8;
    while at < component.len() {
        let id = component[at];
        let (size, header) = read_leb(&component[at + 1..])?;
        let start = at + 1 + header;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= component.len())
            .context("a section runs past the end")?;
        let payload = &component[start..end];
        let payload = if id == CORE_MODULE_SECTION {
            let optimised = optimise(payload)?;
            if optimised.len() < payload.len() {
                optimised
            } else {
                payload.to_vec()
            }
        } else {
            payload.to_vec()
        };
        out.push(id);
        write_leb(&mut out, payload.len());
        out.extend_from_slice(&payload);
        at = end;
    }
    Ok(out)
}

fn optimise(module: &[u8]) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let (input, output) = (dir.path().join("in.wasm"), dir.path().join("out.wasm"));
    std::fs::write(&input, module)?;
    let done = Command::new("wasm-opt")
        .arg("-Oz")
        .args(FEATURES)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .context("running wasm-opt")?;
    if !done.status.success() {
        bail!("wasm-opt: {}", String::from_utf8_lossy(&done.stderr));
    }
    Ok(std::fs::read(&output)?)
}

/// An unsigned LEB128 number: its value and how many bytes it took.
fn read_leb(bytes: &[u8]) -> Result<(usize, usize)> {
    let mut value: usize = 0;
    for (i, byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    bail!("a section size is not a valid LEB128 number")
}

fn write_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component of two sections: a core module (id 1) and a custom one.
    fn component(module: &[u8]) -> Vec<u8> {
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        bytes.push(CORE_MODULE_SECTION);
        write_leb(&mut bytes, module.len());
        bytes.extend_from_slice(module);
        bytes.extend_from_slice(&[0, 4, 1, b'x', 7, 7]);
        bytes
    }

    #[test]
    fn only_module_sections_change_and_sizes_are_rewritten() {
        let module = vec![9u8; 200]; // a two-byte LEB size
        let spliced = splice(&component(&module), |m| Ok(m[..3].to_vec())).unwrap();
        assert_eq!(spliced, component(&[9, 9, 9]));
    }

    #[test]
    fn a_module_the_optimiser_grows_is_kept() {
        let original = component(&[1, 2, 3]);
        let spliced = splice(&original, |m| Ok([m, m].concat())).unwrap();
        assert_eq!(spliced, original);
    }

    #[test]
    fn what_is_not_a_component_is_refused() {
        assert!(splice(b"\0asm\x01\x00\x00\x00", |m| Ok(m.to_vec())).is_err());
        assert!(splice(b"ELF", |m| Ok(m.to_vec())).is_err());
        let mut truncated = component(&[1, 2, 3]);
        truncated.truncate(12);
        assert!(splice(&truncated, |m| Ok(m.to_vec())).is_err());
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 1 << 20, 1_300_000] {
            let mut bytes = Vec::new();
            write_leb(&mut bytes, value);
            assert_eq!(read_leb(&bytes).unwrap(), (value, bytes.len()));
        }
    }
}
