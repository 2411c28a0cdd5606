//! Consent (issue 5) against a real host serving the app's `spin.toml`
//! plus `guest-consent-probe`, another component that imports
//! `crm:consent/decisions` composed with the `consent-leaf`, as the
//! app's components do: grant, refuse, withdraw, re-grant, supersede and
//! expire; receipts; the catalogues; do-not-contact entries; one-click links
//! tampered with, expired or replayed; two officers recording at once; the
//! outbox and audit entries a withdrawal writes; and every rejection as
//! problem+json.

use std::sync::OnceLock;

use base64::Engine;
use crm_tests::app::App;
use crm_tests::auth::token;
use crm_tests::{AppDir, Host, app_manifest, consent_probe};

mod consent;
mod input_bounds;

/// The link key the test host is configured with (test only).
fn link_keys() -> String {
    let secret =
        base64::engine::general_purpose::STANDARD.encode(b"consent-link-test-key-0123456789");
    format!("k-test:{secret}")
}

/// The app's manifest plus the probe that imports `crm:consent/decisions`.
fn with_probe() -> AppDir {
    AppDir::new(&app_manifest(consent_probe::MANIFEST))
}

/// The binary's shared host: the app and the probe, with a link key.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let keys = format!("consent_link_keys={}", link_keys());
        let app = App::shared_in(with_probe(), &["--variable", &keys]);
        // The first request migrates the database (crm-cli needs its tables).
        let reply = app
            .host
            .as_caller(&token("warm-up", &["case-worker"]))
            .get("/api/consents/purposes");
        assert_eq!(reply.status, 200, "{}", reply.body);
        app
    })
}

fn host() -> &'static Host {
    &app().host
}
