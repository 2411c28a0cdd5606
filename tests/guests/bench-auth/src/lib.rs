//! What the security benchmark drives: the same trivial answer with and
//! without the CRM's authentication, authorisation and audit, so the
//! difference is what they cost a request.
//!
//! - `/bench/plain`: routed by the shared `serve`, no caller, no audit;
//! - `/bench/authenticated`: authenticates the bearer credential only (no
//!   authorisation, no audit), to split the cost of the next route;
//! - `/bench/authed`: authenticates the bearer credential, authorises a
//!   purpose-bound contact read and appends it to the audit trail.

use crm_component_support::{Action, Target, json, serve_with_public};
use crm_http::Problem;
use crm_http::routes::{Route, public_route};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audited",
    generate_all,
});

crm_component_support::audit_sink!();

const ROUTES: &[Route] = &[
    public_route("GET", "/bench/plain", "plain"),
    Route {
        method: "GET",
        path: "/bench/authenticated",
        operation_id: "authenticated",
        public: false,
    },
    Route {
        method: "GET",
        path: "/bench/authed",
        operation_id: "authed",
        public: false,
    },
];

#[http_component]
fn handle(req: Request) -> Response {
    serve_with_public(
        ROUTES,
        &req,
        &AuditTrail,
        |_, _, _| Ok(json(200, &"ok")),
        |ctx, operation, _| {
            if operation == "authenticated" {
                return Ok(json(200, &"ok"));
            }
            ctx.require(
                Action::ContactRead,
                Target::Contact("con_bench"),
                "contact/con_bench",
            )?;
            Ok::<_, Problem>(json(200, &"ok"))
        },
    )
}
