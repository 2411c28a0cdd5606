//! What every capability shares: authentication and the audit trail. Every
//! kind of bad token and API key is refused with 401 and audited, roles and
//! scopes grant only what the matrix says, a citizen sees only their own
//! record, reads state a purpose, a citizen reads who looked at their
//! record, and the audit trail's chain and signed checkpoints catch
//! tampering, through the API and `crm-cli` (`security`); and the app as
//! configured by default: its trail read from the start, tampering with the
//! table, and `openapi.yaml` against what is served (`whole_app`), as
//! schemathesis finds it in every role (`schemathesis`).

use std::sync::OnceLock;

use crm_tests::Host;
use crm_tests::app::App;

mod schemathesis;
mod security;
mod whole_app;

/// A base64 Ed25519 seed for the checkpoint key (test only).
const CHECKPOINT_SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The shared host of `security`: the app with a checkpoint key.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let key = format!("audit_checkpoint_key={CHECKPOINT_SEED}");
        App::shared(&["--variable", &key])
    })
}

fn host() -> &'static Host {
    &app().host
}

/// The shared host of `whole_app`: the app as configured by default, whose
/// trail those tests read from its first entry.
fn default_app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| App::shared(&[]))
}
