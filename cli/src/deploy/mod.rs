//! `crm-cli deploy`: configurations for a split deployment, generated from
//! `spin.toml` and a topology, so routes are written in one place.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

mod app;
mod kubernetes;
mod nginx;
mod topology;

use app::SpinApp;
use topology::Topology;

#[derive(clap::Subcommand)]
pub enum DeployCommand {
    /// Write an nginx configuration routing each spin.toml route to the
    /// replicas of the group serving its component.
    Proxy {
        #[command(flatten)]
        source: Source,
        /// Where the proxy listens (nginx `listen`).
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// A whole nginx.conf for `nginx -p DIR` rather than the blocks for
        /// an `http { }` (Debian: /etc/nginx/conf.d/crm.conf).
        #[arg(long)]
        standalone: bool,
        /// The file to write; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write SpinKube manifests (SpinApp and HPA per group, the runtime-config
    /// Secret, an Ingress) into a directory.
    Kubernetes {
        #[command(flatten)]
        source: Source,
        #[arg(long, short, default_value = "deploy/kubernetes")]
        output: PathBuf,
    },
}

/// The app and its topology.
#[derive(clap::Args)]
pub struct Source {
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// The topology file (see deploy/topology.toml).
    #[arg(long, conflicts_with = "groups")]
    topology: Option<PathBuf>,
    /// A group instead of a topology file (repeatable):
    /// NAME=COMPONENT[,COMPONENT…]@HOST:PORT[,HOST:PORT…].
    #[arg(long = "group")]
    groups: Vec<String>,
}

impl Source {
    fn load(&self) -> Result<(SpinApp, Topology)> {
        let app = SpinApp::load(&self.manifest)?;
        let topology = match &self.topology {
            Some(path) => Topology::load(path)?,
            None if !self.groups.is_empty() => Topology::from_args(&self.groups)?,
            None => Topology::load(Path::new("deploy/topology.toml"))
                .context("no --group given and no deploy/topology.toml")?,
        };
        Ok((app, topology))
    }
}

pub fn run(command: DeployCommand) -> Result<()> {
    match command {
        DeployCommand::Proxy {
            source,
            listen,
            standalone,
            output,
        } => {
            let (app, topology) = source.load()?;
            let config = nginx::generate(&app, &topology, &nginx::Options { listen, standalone })?;
            match output {
                Some(path) => std::fs::write(&path, config)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{config}"),
            }
            Ok(())
        }
        DeployCommand::Kubernetes { source, output } => {
            let (app, topology) = source.load()?;
            let files = kubernetes::generate(&app, &topology)?;
            std::fs::create_dir_all(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            for (name, text) in files {
                let path = output.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
    }
}
