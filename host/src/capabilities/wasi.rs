//! WASI 0.2 for one component: its `environment`, its `files` mounted
//! read-only, and stdout/stderr written line by line with a `[<component-id>] `
//! prefix, so interleaved guests stay readable.

use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Result, bail};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::manifest::FileMount;

/// What every instance of one component gets from WASI.
pub struct WasiTemplate {
    environment: Vec<(String, String)>,
    mounts: Vec<(PathBuf, String)>,
    prefix: Arc<str>,
}

impl WasiTemplate {
    pub fn new(
        component_id: &str,
        environment: &std::collections::BTreeMap<String, String>,
        files: &[FileMount],
        manifest_dir: &std::path::Path,
    ) -> Result<Self> {
        let mut mounts = Vec::new();
        for file in files {
            let (source, destination) = match file {
                FileMount::Placement {
                    source,
                    destination,
                } => (source.as_str(), destination.clone()),
                // A plain pattern is mounted at the same relative place under `/`.
                FileMount::Pattern(pattern) => (
                    pattern.as_str(),
                    format!("/{}", pattern.trim_start_matches("./")),
                ),
            };
            let host = manifest_dir.join(source);
            if !host.is_dir() {
                bail!(
                    "component `{component_id}`: `files` entry `{source}` must be a directory beside the manifest (crm-host mounts directories)"
                );
            }
            mounts.push((host, destination));
        }
        Ok(Self {
            environment: environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            mounts,
            prefix: format!("[{component_id}] ").into(),
        })
    }

    pub fn build(&self) -> Result<WasiCtx> {
        let mut builder = WasiCtxBuilder::new();
        builder
            .envs(&self.environment)
            .stdout(PrefixedOutput {
                prefix: Arc::clone(&self.prefix),
                stderr: false,
            })
            .stderr(PrefixedOutput {
                prefix: Arc::clone(&self.prefix),
                stderr: true,
            });
        for (host, guest) in &self.mounts {
            builder.preopened_dir(host, guest, FsPerms::ReadOnly)?;
        }
        Ok(builder.build())
    }
}

/// The host's stdout or stderr, seen by a guest.
struct PrefixedOutput {
    prefix: Arc<str>,
    stderr: bool,
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            prefix: Arc::clone(&self.prefix),
            stderr: self.stderr,
            pending: Vec::new(),
        })
    }
}

/// Buffers a partial line until its newline (or the stream's end).
struct LineWriter {
    prefix: Arc<str>,
    stderr: bool,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let mut out: Box<dyn Write> = if self.stderr {
            Box::new(std::io::stderr().lock())
        } else {
            Box::new(std::io::stdout().lock())
        };
        let _ = out
            .write_all(self.prefix.as_bytes())
            .and_then(|()| out.write_all(line))
            .and_then(|()| out.write_all(b"\n"));
    }

    fn flush_complete_lines(&mut self) {
        while let Some(newline) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=newline).collect();
            self.emit(&line[..line.len() - 1]);
        }
    }
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.flush_complete_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}
