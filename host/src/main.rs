//! `crm-host`: runs this project's Spin application (`spin.toml`) the way
//! `spin up` does, on wasmtime. See the README for what it supports.

mod app;
mod capabilities;
mod engine;
mod manifest;
mod precompiled;
mod request_log;
mod routing;
mod runtime_config;
mod server;
mod slow_lane;
mod state;
mod trigger_http;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::runtime_config::RuntimeConfig;
use crate::trigger_http::Limits;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(
    name = "crm-host",
    version,
    about = "A Spin-compatible runtime for this project's spin.toml"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application (like `spin up`).
    Up(Box<UpArgs>),
    /// Run every component's build command (like `spin build`).
    Build {
        /// The manifest, or a directory holding `spin.toml`.
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        manifest: PathBuf,
    },
}

#[derive(Parser)]
struct UpArgs {
    /// The manifest, or a directory holding `spin.toml`.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Build the components first.
    #[arg(long)]
    build: bool,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Serve only these components (repeatable).
    #[arg(long = "component-id", short = 'c')]
    component_ids: Vec<String>,
    /// Where key-value stores and SQLite databases live.
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// SQL run at start on a database: `STATEMENT`, `@file.sql` or `@file.sql:label`.
    #[arg(long = "sqlite")]
    sqlite: Vec<String>,
    /// An application variable: `name=value` or `@file` of such lines.
    #[arg(long = "variable")]
    variables: Vec<String>,
    /// State directory (default: `.spin` beside the manifest).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Compiled-code cache directory (default: `<state-dir>/cache`).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// A request whose guest runs longer than this fails with 503.
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Linear memory cap per instance.
    #[arg(long, default_value_t = 128)]
    max_memory_mib: usize,
    /// Larger request bodies are refused with 413.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_request_body_bytes: usize,
}

fn main() -> ExitCode {
    // wasmtime builds an error value as each request's instance is torn
    // down; with RUST_BACKTRACE set, every one of them captured a native
    // backtrace nobody reads (about 5 µs a request). Panics still print
    // theirs; an operator can still ask for error backtraces explicitly.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: no other thread exists yet to read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let result = match Cli::parse().command {
        Command::Up(args) => up(*args),
        Command::Build { manifest } => manifest::load(&manifest).and_then(|m| build(&m)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn up(args: UpArgs) -> Result<()> {
    let manifest = manifest::load(&args.manifest)?;
    if args.build {
        build(&manifest)?;
    }
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| manifest.dir.join(".spin"));
    let cache_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| state_dir.join("cache"));
    let runtime_config = match &args.runtime_config_file {
        Some(path) => RuntimeConfig::load(path)?,
        None => RuntimeConfig::default(),
    };
    let options = app::Options {
        manifest,
        state_dir,
        cache_dir,
        runtime_config,
        component_ids: args.component_ids,
        variables: parse_variables(&args.variables)?,
        sqlite_statements: parse_sqlite(&args.sqlite)?,
        limits: Limits {
            request_timeout: Duration::from_millis(args.request_timeout_ms),
            max_memory_bytes: args.max_memory_mib << 20,
            max_request_body_bytes: args.max_request_body_bytes,
        },
    };
    // The acceptor and signal handling; requests run on `server`'s workers.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = app::load(options)?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving http://{addr}")?;
        writeln!(out, "Available Routes:")?;
        for (component, route) in app.router.describe() {
            writeln!(out, "  {component}: http://{addr}{route}")?;
        }
        out.flush()?;
        drop(out);
        server::serve(app, listener, DRAIN_TIMEOUT).await
    })
}

/// `name=value` pairs, or `@file` holding one per line.
fn parse_variables(args: &[String]) -> Result<HashMap<String, String>> {
    let mut variables = HashMap::new();
    for arg in args {
        let lines = match arg.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("--variable @{file}"))?
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(String::from)
                .collect(),
            None => vec![arg.clone()],
        };
        for line in lines {
            let Some((name, value)) = line.split_once('=') else {
                bail!("--variable `{line}`: expected name=value");
            };
            variables.insert(name.trim().to_string(), value.to_string());
        }
    }
    Ok(variables)
}

/// `SQL`, `@file.sql` or `@file.sql:label` → (label, statements).
fn parse_sqlite(args: &[String]) -> Result<Vec<(String, String)>> {
    args.iter()
        .map(|arg| match arg.strip_prefix('@') {
            Some(spec) => {
                let (file, label) = match spec.rsplit_once(':') {
                    Some((file, label)) if !Path::new(spec).exists() => (file, label),
                    _ => (spec, "default"),
                };
                let sql =
                    std::fs::read_to_string(file).with_context(|| format!("--sqlite @{file}"))?;
                Ok((label.to_string(), sql))
            }
            None => Ok(("default".to_string(), arg.clone())),
        })
        .collect()
}

/// Runs each component's `[component.<id>.build]` command, stopping at the first failure.
fn build(manifest: &manifest::LoadedManifest) -> Result<()> {
    for (id, component) in &manifest.manifest.component {
        let Some(build) = &component.build else {
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => manifest.dir.join(dir),
            None => manifest.dir.clone(),
        };
        for command in build.command.commands() {
            eprintln!("Building component {id} with `{command}`");
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&workdir)
                .status()
                .with_context(|| format!("running the build command of `{id}`"))?;
            if !status.success() {
                bail!("the build command of component `{id}` failed ({status}): {command}");
            }
        }
    }
    Ok(())
}
