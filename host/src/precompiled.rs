//! Compiled components kept on disk by what they were made from, so that a
//! start whose Wasm files are unchanged neither composes (wac) nor asks
//! wasmtime's cache, which hashes the composed bytes and decompresses the
//! code: it maps the compiled code straight from the file (issue 16: the
//! whole app served within 100 ms of `exec`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::Concurrency;

/// `<cache-dir>/components/<key>-<engine>.cwasm`.
pub struct Precompiled {
    dir: PathBuf,
    /// Which `crm-host` build composes: another one may compose the same
    /// inputs differently (its deny adapter, its rules), and wasmtime only
    /// checks its own version when it loads the code.
    host: String,
}

/// What a composed component is made of: its own Wasm and each
/// dependency's, with how they are plugged in.
pub struct Inputs {
    pub source: Vec<u8>,
    pub dependencies: Vec<crm_host_compose::Dependency>,
}

impl Precompiled {
    pub fn new(cache_dir: &Path) -> Self {
        // The executable's size and modification time: a rebuilt host is
        // another host. Unknown, every start compiles anew.
        let host = std::env::current_exe()
            .and_then(std::fs::metadata)
            .and_then(|m| Ok(format!("{} {:?}", m.len(), m.modified()?)))
            .unwrap_or_else(|_| format!("unknown {}", std::process::id()));
        Self {
            dir: cache_dir.join("components"),
            host,
        }
    }

    /// A name for everything that decides the composed bytes.
    pub fn key(&self, inputs: &Inputs) -> String {
        let mut hash = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        field(self.host.as_bytes());
        field(&inputs.source);
        for dependency in &inputs.dependencies {
            field(dependency.name.as_bytes());
            field(dependency.export.as_deref().unwrap_or("").as_bytes());
            field(format!("{:?}", dependency.inherit).as_bytes());
            field(&dependency.source);
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str, concurrency: Concurrency) -> PathBuf {
        let engine = match concurrency {
            Concurrency::Off => "plain",
            Concurrency::On => "concurrent",
        };
        self.dir.join(format!("{key}-{engine}.cwasm"))
    }

    /// Whether `key` was compiled for the engine with `concurrency`.
    pub fn has(&self, key: &str, concurrency: Concurrency) -> bool {
        self.path(key, concurrency).exists()
    }

    /// The component compiled from `key`'s inputs for `engine`; `None` when
    /// there is none, or it was made by a wasmtime or engine settings this
    /// one cannot use (it is then compiled again and replaced).
    pub fn load(&self, key: &str, concurrency: Concurrency, engine: &Engine) -> Option<Component> {
        let path = self.path(key, concurrency);
        // SAFETY: the file was written by `store` below from a component
        // this host compiled (`Component::serialize`), in the host's own
        // cache directory, which is trusted as wasmtime's own cache is;
        // wasmtime checks its header, version and settings.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    /// Keeps `component`, compiled from `key`'s inputs, for later starts.
    /// Best effort: a start that cannot write it only logs why.
    pub fn store(&self, key: &str, concurrency: Concurrency, component: &Component) {
        let written = (|| -> Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let bytes = component.serialize()?;
            // Renamed into place whole, so a concurrent start never maps half a file.
            let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
            file.write_all(&bytes)?;
            file.persist(self.path(key, concurrency))?;
            Ok(())
        })();
        if let Err(e) = written {
            eprintln!(
                "{}",
                serde_json::json!({"level": "warn", "msg": "could not keep a compiled component for later starts", "dir": self.dir.display().to_string(), "error": format!("{e:#}")})
            );
        }
    }
}
