//! A real OpenID provider: `tests/oidc/provider.mjs` (oidc-provider from
//! npm, installed by `scripts/test` with `npm ci`) under Node.js on a
//! loopback port, with the users and the client a test gives it. It dies
//! with the thread that spawned it, or when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

/// A free loopback port (for a server that must know another's port before
/// either starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl OidcProvider {
    /// Starts the provider with `config` (see the script's header: `port`,
    /// `audience`, `roles_claim`, `client`, `users`) and waits until it serves.
    pub fn start(config: &Value) -> Self {
        let script = crate::workspace().join("tests/oidc/provider.mjs");
        assert!(
            crate::workspace()
                .join("tests/oidc/node_modules/oidc-provider")
                .exists(),
            "oidc-provider is missing: run `npm ci --prefix tests/oidc` (scripts/test does)"
        );
        let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
        let mut command = Command::new(&node);
        command
            .arg(&script)
            .arg(config.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::die_with_spawning_thread(&mut command);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{node}` ({e}): the tests need Node.js"));
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    let _ = sender.send(issuer.to_string());
                }
            }
        });
        let issuer = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the OpenID provider did not start");
        Self { child, issuer }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
