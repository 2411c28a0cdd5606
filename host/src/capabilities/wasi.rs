//! WASI 0.2 for one component: its `environment`, its `files` (copied as
//! Spin does, see [`super::files`]) mounted read-only at `/`, and
//! stdout/stderr written line by line with a `[<component-id>] ` prefix, so
//! interleaved guests stay readable.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::files::ComponentFiles;
use crate::manifest::FileMount;

/// What every instance of one component gets from WASI.
pub struct WasiTemplate {
    environment: Vec<(String, String)>,
    files: Option<Arc<ComponentFiles>>,
    prefix: Arc<str>,
}

impl WasiTemplate {
    pub fn new(
        component_id: &str,
        environment: &std::collections::BTreeMap<String, String>,
        files: &[FileMount],
        exclude_files: &[String],
        manifest_dir: &std::path::Path,
    ) -> Result<Self> {
        let files = if files.is_empty() {
            None
        } else {
            let copied = ComponentFiles::copy(manifest_dir, files, exclude_files)
                .with_context(|| format!("component `{component_id}`: files"))?;
            Some(Arc::new(copied))
        };
        Ok(Self {
            environment: environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            files,
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
        if let Some(files) = &self.files {
            builder.preopened_dir(files.root(), "/", FsPerms::ReadOnly)?;
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
