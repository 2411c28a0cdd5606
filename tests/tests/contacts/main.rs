//! Contact intake (issue 4) against a real host serving the app: the model
//! and its provenance, validation per field, the consent rule for optional
//! fields, "tell us once" matching, versioned corrections with ETags,
//! merges, search, CSV import and export, idempotency keys, the outbox,
//! field filtering and citizens, the audit trail, and the `contacts-leaf`
//! leaf through a guest that imports `crm:contacts/directory`.

use std::sync::OnceLock;

use crm_tests::Host;
use crm_tests::app::App;

mod contacts;
mod input_bounds;
mod match_disclosure;

/// The binary's one shared host: the app's `spin.toml`, its state in a temp dir.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| App::shared(&[]))
}

fn host() -> &'static Host {
    &app().host
}
