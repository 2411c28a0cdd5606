//! `crm-cli`: the operator's tool for the CRM's security records.
//!
//! - `dev-token`: mints a token signed with the DEVELOPMENT key in `dev/`
//!   that the default configuration trusts (never for a deployment);
//! - `api-key create | list | revoke`: service clients' keys, stored hashed;
//! - `citizen link`: links a citizen identity (issuer, subject) to a contact;
//! - `audit keygen | verify`: the checkpoint signing key, and an offline walk
//!   of the audit trail in a database file;
//! - `deploy proxy | kubernetes`: an nginx configuration and SpinKube
//!   manifests for a split deployment, generated from spin.toml;
//! - `shrink-wasm`: `wasm-opt -Oz` on built components (spin.toml's build
//!   commands).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use crm_auth_store::Revocation;
use rand_core::{OsRng, RngCore};
use rusqlite::Connection;

mod audit;
mod deploy;
mod shrink;

/// The development key, compiled in so `dev-token` works from anywhere.
const DEV_KEY: &str = include_str!("../../dev/dev-signing-key.json");
const DEV_ISSUER: &str = "https://dev-only.crm.invalid";
const DEFAULT_DB: &str = ".spin/sqlite_db.db";

#[derive(Parser)]
#[command(about = "Operator tool for the government CRM's security records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// DEVELOPMENT ONLY: print a bearer token signed with the development key.
    DevToken(DevToken),
    /// Print the development key's public JWKS (the default `auth_jwks`).
    DevJwks,
    /// Service clients' API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Citizen identities linked to contacts.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Configurations for a split deployment (reverse proxy, Kubernetes).
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// Optimise built Wasm components for size with binaryen's `wasm-opt`
    /// (left as they are when it is not installed).
    ShrinkWasm {
        /// Component files, rewritten in place.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct DevToken {
    /// Role claim (repeatable): intake-officer, case-worker,
    /// communications-officer, auditor, administrator, citizen.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// The subject (`sub`).
    #[arg(long, default_value = "dev-user")]
    sub: String,
    /// The OIDC `email` claim (a template's `created_by` on Notify's `/v2`).
    #[arg(long)]
    email: Option<String>,
    #[arg(long, default_value = DEV_ISSUER)]
    issuer: String,
    #[arg(long, default_value = "gov-crm")]
    audience: String,
    /// Lifetime in seconds (negative for an already expired token).
    #[arg(long, default_value_t = 3600, allow_hyphen_values = true)]
    ttl_secs: i64,
    /// Seconds until the token becomes valid (`nbf`).
    #[arg(long, default_value_t = 0)]
    not_before_secs: i64,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it once (only its hash is stored).
    Create {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// Who the key belongs to (a service or partner agency).
        #[arg(long)]
        owner: String,
        /// An action the key may perform (repeatable), e.g. contact.read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// Revoke a key: it is refused from the next request on.
    Revoke {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        key_id: String,
    },
}

#[derive(Subcommand)]
enum CitizenCommand {
    /// Link a citizen identity to the contact it is.
    Link {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        #[arg(long, default_value = DEV_ISSUER)]
        issuer: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        contact: String,
        /// Who made the link (recorded with it).
        #[arg(long, default_value = "crm-cli")]
        by: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Generate a checkpoint signing key: the seed for the
    /// `audit_checkpoint_key` secret, and its public key.
    Keygen,
    /// Verify the trail in a database file: every link of the hash chain,
    /// and the stored checkpoints (signatures too, given the public key).
    /// Exits 1 when anything fails.
    Verify {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// The checkpoint key's public half, base64.
        #[arg(long)]
        public_key: Option<String>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::DevToken(args) => dev_token(args),
        Command::DevJwks => {
            println!("{}", crm_auth::jwt::signing::jwks(&[&dev_key()?]));
            Ok(())
        }
        Command::ApiKey(command) => api_key(command),
        Command::Citizen(CitizenCommand::Link {
            db,
            issuer,
            subject,
            contact,
            by,
        }) => {
            crm_auth_store::link_citizen(&open(&db)?, &issuer, &subject, &contact, now_ms(), &by)?;
            eprintln!("linked {issuer} {subject} to {contact}");
            Ok(())
        }
        Command::Audit(AuditCommand::Keygen) => {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let seed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seed);
            let signer = audit_chain::checkpoint::CheckpointSigner::from_seed_base64(&seed)?;
            println!("audit_checkpoint_key (secret): {seed}");
            println!("public key: {}", signer.public_key_base64());
            Ok(())
        }
        Command::Deploy(command) => deploy::run(command),
        Command::ShrinkWasm { files } => shrink::run(&files),
        Command::Audit(AuditCommand::Verify { db, public_key }) => {
            let db = open_existing(&db)?;
            let report = audit::verify(&db, public_key.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&report.to_json())?);
            if !report.valid() {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn dev_key() -> Result<crm_auth::jwt::signing::SigningKey> {
    let jwk: serde_json::Value = serde_json::from_str(DEV_KEY)?;
    let field = |name: &str| {
        jwk[name]
            .as_str()
            .with_context(|| format!("dev key lacks `{name}`"))
    };
    Ok(crm_auth::jwt::signing::SigningKey::es256_from_d(
        field("kid")?,
        field("d")?,
    )?)
}

fn dev_token(args: DevToken) -> Result<()> {
    let now = now_ms() / 1000;
    let mut claims = serde_json::json!({
        "iss": args.issuer,
        "aud": args.audience,
        "sub": args.sub,
        "iat": now,
        "nbf": now + args.not_before_secs,
        "exp": now + args.ttl_secs,
        "roles": args.roles,
    });
    if let Some(email) = args.email {
        claims["email"] = email.into();
    }
    eprintln!("DEVELOPMENT ONLY: signed with the public development key in dev/");
    println!("{}", dev_key()?.sign(&claims));
    Ok(())
}

/// The shared database, brought up to the current schema.
fn open(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let db = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    db.busy_timeout(std::time::Duration::from_secs(5))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    crm_migrations::migrate(&db)?;
    Ok(db)
}

/// A database that must already exist (verification never creates one).
fn open_existing(path: &Path) -> Result<Connection> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let db = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    db.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(db)
}

fn api_key(command: ApiKeyCommand) -> Result<()> {
    match command {
        ApiKeyCommand::Create {
            db,
            owner,
            scopes,
            expires_in_days,
            description,
        } => {
            let scopes = crm_auth::api_key::grantable_scopes(&scopes)?;
            let (mut id, mut secret) = ([0u8; 8], [0u8; 32]);
            OsRng.fill_bytes(&mut id);
            OsRng.fill_bytes(&mut secret);
            let now = now_ms();
            let expires_at = expires_in_days.map(|d| now + i64::from(d) * 86_400_000);
            let issued = crm_auth::api_key::issue(id, secret, &owner, scopes, now, expires_at);
            let r = &issued.record;
            crm_auth_store::insert_key(&open(&db)?, r, description.as_deref())?;
            eprintln!(
                "created key {} for {owner}; it is shown once, store it now",
                r.key_id
            );
            println!("{}", issued.presented);
            Ok(())
        }
        ApiKeyCommand::List { db } => {
            for key in crm_auth_store::keys(&open(&db)?)? {
                println!(
                    "{}",
                    serde_json::json!({
                        "key_id": key.key_id,
                        "owner": key.owner,
                        "scopes": key.scopes,
                        "created_at": key.created_at,
                        "expires_at": key.expires_at,
                        "revoked_at": key.revoked_at,
                    })
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { db, key_id } => {
            match crm_auth_store::revoke_key(&open(&db)?, &key_id, now_ms())? {
                Revocation::NoSuchKey => bail!("no key {key_id}"),
                Revocation::AlreadyRevoked { at } => {
                    bail!("key {key_id} was already revoked at {at}")
                }
                Revocation::Revoked => {
                    eprintln!("revoked {key_id}");
                    Ok(())
                }
            }
        }
    }
}
