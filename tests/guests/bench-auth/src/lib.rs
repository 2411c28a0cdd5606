//! What the security benchmark drives: the same trivial answer with and
//! without the CRM's authentication, authorisation and audit, so the
//! difference is what they cost a request.
//!
//! - `/bench/plain`: routed by the shared `serve`, no caller, no audit;
//! - `/bench/authenticated`: authenticates the bearer credential only (no
//!   authorisation, no audit), to split the cost of the next route;
//! - `/bench/authed`: authenticates the bearer credential, authorises a
//!   purpose-bound contact read and appends it to the audit trail;
//! - `/bench/write` and `/bench/authed-write`: the same pair for a request
//!   that writes anyway (one row into `bench_writes`, which the benchmark
//!   creates), the second authorising an interaction append first.

use crm_component_support::{Action, Target, json, query, serve_with_public};
use crm_http::Problem;
use crm_http::routes::{Route, public_route};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{Connection, Value};

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audited",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

const ROUTES: &[Route] = &[
    public_route("GET", "/bench/plain", "plain"),
    public_route("POST", "/bench/write", "write"),
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
    Route {
        method: "POST",
        path: "/bench/authed-write",
        operation_id: "authed-write",
        public: false,
    },
];

/// Writes one row: the work both write routes do.
fn write_row(db: &Connection) -> Result<Response, Problem> {
    query(
        db,
        "INSERT INTO bench_writes (at) VALUES (?)",
        &[Value::Integer(crm_component_support::now_ms())],
    )?;
    Ok(json(200, &"ok"))
}

#[http_component]
fn handle(req: Request) -> Response {
    serve_with_public(
        ROUTES,
        &req,
        &AuditTrail,
        |operation, _, _| match operation {
            "write" => write_row(
                &Connection::open_default()
                    .map_err(|e| Problem::internal(format!("opening the database: {e}")))?,
            ),
            _ => Ok(json(200, &"ok")),
        },
        |ctx, operation, _| {
            if operation == "authenticated" {
                return Ok(json(200, &"ok"));
            }
            if operation == "authed-write" {
                ctx.require(
                    Action::InteractionAppend,
                    Target::Contact("con_bench"),
                    "contact/con_bench/interactions",
                )?;
                return write_row(ctx.db()?);
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
