//! `web`: the citizen portal at `/` and the staff console at `/staff/`,
//! server-rendered with `web-pages`. It holds no data of its own but
//! sessions: every read and write goes through the app's HTTP API with the
//! user's token ([`api`]). Every page works without JavaScript: forms post,
//! then redirect to a page that shows the result (POST–redirect–GET), and a
//! refused form is drawn again with what was typed and the GOV.UK error
//! summary.

mod api;
mod assets;
mod compression;
mod console;
mod oidc;
mod portal;
mod session;
mod sign_in;
mod visit;

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

use crate::visit::{Outcome, Visit};

/// No inline script or style, nothing from elsewhere, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The policy, with the identity provider as a form target when people sign
/// in there: signing out redirects on to its end-session endpoint.
fn content_security_policy() -> String {
    match oidc::provider_origin() {
        Some(origin) => CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
        ),
        None => CONTENT_SECURITY_POLICY.to_string(),
    }
}

#[http_component]
fn handle(req: Request) -> Response {
    let mut response = respond(&req);
    compression::compress_page(&req, &mut response);
    response.set_header("content-security-policy", content_security_policy());
    response.set_header("referrer-policy", "same-origin");
    response.set_header("x-content-type-options", "nosniff");
    response
}

fn respond(req: &Request) -> Response {
    let path = req.path().to_string();
    let method = req.method().to_string();
    if let Some(name) = path.strip_prefix("/assets/")
        && (method == "GET" || method == "HEAD")
        && let Some(response) = assets::serve(req, name)
    {
        return response;
    }
    // `/...` also catches what the API's routes leave under their prefixes:
    // those are API misses, answered as crm-host answers an unrouted path.
    if is_api_path(&path) {
        let problem = crm_http::Problem::not_found(format!("no operation at {path}"));
        return Response::builder()
            .status(problem.status)
            .header("content-type", "application/problem+json")
            .body(problem.to_json())
            .build();
    }
    let mut visit = match Visit::begin(req) {
        Ok(visit) => visit,
        Err(e) => return visit::unavailable(&e.to_string()),
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let outcome = match (method.as_str(), segments.as_slice()) {
        ("GET", [""]) => portal::start(&mut visit),
        ("GET", ["sign-in"]) => portal::sign_in_form(&mut visit),
        ("POST", ["sign-in"]) => portal::sign_in(&mut visit),
        ("GET", ["sign-in", "oidc"]) => oidc::start(&mut visit),
        ("GET", ["sign-in", "callback"]) => oidc::callback(&mut visit),
        ("POST", ["sign-out"]) => portal::sign_out(&mut visit),
        ("GET", ["my-details"]) => portal::my_details(&mut visit),
        ("GET", ["my-cases"]) => portal::my_cases(&mut visit),
        ("POST", ["my-cases", case, "messages"]) => portal::reply(&mut visit, case),
        ("GET", ["my-details", "correction"]) => portal::correction::form(&mut visit),
        ("POST", ["my-details", "correction"]) => portal::correction::submit(&mut visit),
        ("GET", ["my-consents"]) => portal::consents::list(&mut visit),
        ("POST", ["my-consents"]) => portal::consents::record(&mut visit),
        ("GET", ["my-consents", "choose"]) => portal::consents::choice_form(&mut visit),
        ("POST", ["my-consents", "withdraw"]) => portal::consents::withdraw(&mut visit),
        ("GET", ["my-consents", id, "receipt"]) => portal::consents::receipt(&mut visit, id),
        ("GET", ["my-consents", id, "receipt.json"]) => {
            portal::consents::receipt_download(&mut visit, id)
        }
        ("GET", ["my-messages"]) => portal::messages::inbox(&mut visit),
        ("POST", ["my-messages", id, "read"]) => portal::messages::mark(&mut visit, id, true),
        ("POST", ["my-messages", id, "unread"]) => portal::messages::mark(&mut visit, id, false),
        ("GET", ["who-looked"]) => portal::access_log::page(&mut visit),
        ("GET", ["staff"]) => console::start(&mut visit),
        ("GET", ["staff", "purpose"]) => console::purpose_form(&mut visit),
        ("POST", ["staff", "purpose"]) => console::state_purpose(&mut visit),
        ("GET", ["staff", "search"]) => console::search(&mut visit),
        (_, ["staff", rest @ ..]) => console::route(&mut visit, &method, rest),
        _ => Err(Outcome::NotFound),
    };
    visit.finish(outcome)
}

/// `/api…` and `/v2…`: the API's and GOV.UK Notify's prefixes.
fn is_api_path(path: &str) -> bool {
    ["/api", "/v2"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}
