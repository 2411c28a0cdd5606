//! The web component (issue 19) in a real browser: Debian's headless
//! Chromium, driven over WebDriver from Rust (`fantoccini`), against the
//! app's own `spin.toml` on a real crm-host. Each flow runs with JavaScript
//! on and off; every page visited is screenshotted under
//! `target/web-screenshots/` and checked by axe-core (`browser`). The
//! citizen portal (`portal`), the staff console (`console`), and what the
//! component answers over plain HTTP: headers, cookies, CSRF, assets
//! (`http`); OpenID Connect sign-in against a real provider (`oidc`).

use std::sync::OnceLock;

use crm_tests::app::App;
use crm_tests::auth::token;
use crm_tests::{Caller, Host};
use serde_json::json;

mod browser;
mod citizen;
mod citizen_browser;
mod console;
mod http;
mod oidc;
mod portal;
mod staff_browser;
mod staff_client;
mod staff_pages;
mod staff_reports;

/// The binary's one shared host: the app's `spin.toml`, which trusts the
/// development key, so the development sign-in is offered.
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| App::shared(&[]))
}

fn host() -> &'static Host {
    &app().host
}

fn intake() -> Caller<'static> {
    host()
        .as_caller(&token("intake-web", &["intake-officer"]))
        .purpose("service-delivery")
}

/// A new individual with an email and a mobile number ending in
/// `phone_tail` (tests share the host, so each its own, else "tell us
/// once" finds them the same person); answers their id.
fn person(given: &str, family: &str, email: &str, phone_tail: u32) -> String {
    person_by(&intake(), given, family, email, phone_tail)
}

/// [`person`], taken in by `intake` (on another host).
fn person_by(intake: &Caller, given: &str, family: &str, email: &str, phone_tail: u32) -> String {
    let reply = intake.post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "given_name": given, "family_name": family,
                "emails": [email], "phones": [format!("0412 345 {phone_tail:03}")],
                "collection": {"source": "phone", "channel": "phone"}}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().expect("id").to_string()
}
