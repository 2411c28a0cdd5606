//! The interaction log (issue 6) against a real host serving the app: the
//! model, appends over HTTP and through the `crm:interactions/log` leaf onto
//! one chain, amendments (of amendments), disposal under legal holds,
//! the timeline with filters and cursors while appends continue, trends
//! with small-cell suppression, access by role, and broken chains caught
//! by the verification route after the database file is edited.

use std::sync::OnceLock;

use crm_tests::Host;
use crm_tests::app::App;

mod input_bounds;
mod interactions;

/// The binary's one shared host: the app's `spin.toml`, its state in a temp dir.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| App::shared(&[]))
}

fn host() -> &'static Host {
    &app().host
}
