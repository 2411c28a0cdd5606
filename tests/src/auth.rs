//! Credentials for tests: tokens signed with the development key that the
//! app's default configuration trusts (or with keys it does not), and the
//! `crm-cli` binary for API keys, citizen links and offline verification.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use crm_auth::jwt::signing::SigningKey;
use serde_json::{Value, json};

/// The issuer and audience of the app's default configuration.
pub const DEV_ISSUER: &str = "https://dev-only.crm.invalid";
pub const AUDIENCE: &str = "gov-crm";

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The development signing key in `dev/`.
pub fn dev_key() -> SigningKey {
    let text = std::fs::read_to_string(crate::workspace().join("dev/dev-signing-key.json"))
        .expect("dev/dev-signing-key.json");
    let jwk: Value = serde_json::from_str(&text).expect("dev key JSON");
    SigningKey::es256_from_d(jwk["kid"].as_str().unwrap(), jwk["d"].as_str().unwrap())
        .expect("dev key")
}

/// Claims of a valid token for `sub` with `roles`, for five minutes.
pub fn claims(sub: &str, roles: &[&str]) -> Value {
    let now = now_secs();
    json!({"iss": DEV_ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300, "roles": roles})
}

/// A valid development token for `sub` acting in `roles`.
pub fn token(sub: &str, roles: &[&str]) -> String {
    dev_key().sign(&claims(sub, roles))
}

/// A development token for `sub` in `roles` valid for `seconds`, for
/// benchmarks that outlast five minutes.
pub fn lasting_token(sub: &str, roles: &[&str], seconds: i64) -> String {
    let mut claims = claims(sub, roles);
    claims["exp"] = json!(now_secs() + seconds);
    dev_key().sign(&claims)
}

/// The benchmarks' bearer credential for `sub` in `roles`: a token good
/// for two hours.
pub fn bench_bearer(sub: &str, roles: &[&str]) -> String {
    format!("Bearer {}", lasting_token(sub, roles, 7200))
}

/// The `crm-cli` binary: `CRM_CLI_BIN`, else the debug build (built by
/// `scripts/test`).
pub fn cli_bin() -> PathBuf {
    let path = std::env::var_os("CRM_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace().join("target/debug/crm-cli"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p crm-cli` (scripts/test does)",
        path.display()
    );
    path
}

/// Runs `crm-cli` with `args`.
pub fn cli(args: &[&str]) -> Output {
    Command::new(cli_bin())
        .args(args)
        .output()
        .expect("run crm-cli")
}

/// Runs `crm-cli`, asserting success; returns its stdout, trimmed.
pub fn cli_ok(args: &[&str]) -> String {
    let output = cli(args);
    assert!(
        output.status.success(),
        "crm-cli {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// Creates an API key in the app database at `db` with `scopes`.
pub fn api_key(db: &Path, owner: &str, scopes: &[&str]) -> String {
    let db = db.to_str().expect("utf-8 path");
    let mut args = vec!["api-key", "create", "--db", db, "--owner", owner];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    cli_ok(&args)
}

/// Links the development issuer's `subject` to `contact`.
pub fn link_citizen(db: &Path, subject: &str, contact: &str) {
    let db = db.to_str().expect("utf-8 path");
    cli_ok(&[
        "citizen",
        "link",
        "--db",
        db,
        "--subject",
        subject,
        "--contact",
        contact,
    ]);
}
