//! `interaction-log`: the interaction log over HTTP (`/api/interactions/...`):
//! appends, the timeline, amendments, disposal under legal holds, trends and
//! chain verification. The rules are `interactions-rules`'; every read and
//! write of the log goes through `interactions-store`, which the
//! `interactions-leaf` shares, so appends from here and from other
//! components take one path onto one chain per contact.

mod holds;
mod log;
mod stats;
mod view;

use crm_component_support::{Action, Ctx, FieldError, Target, query_pairs, serve};
use crm_http::Problem;
use interactions_rules::values::{EntryId, OfficerId};
use interactions_store::StoreError;
use serde::de::DeserializeOwned;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/interaction-log",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::INTERACTION_LOG,
        &req,
        &AuditTrail,
        |ctx, operation, params| {
            let param = || params.first().map_or("", |(_, v)| v.as_str());
            match operation {
                "appendInteraction" => log::append(ctx, &req),
                "listInteractions" => log::timeline(ctx, &req),
                "getInteraction" => log::read(ctx, param()),
                "amendInteraction" => log::amend(ctx, &req, param()),
                "disposeInteraction" => log::dispose(ctx, &req, param()),
                "verifyInteractionChain" => log::verify(ctx, &req),
                "interactionStats" => stats::stats(ctx, &req),
                "placeLegalHold" => holds::place(ctx, &req),
                "listLegalHolds" => holds::list(ctx, &req),
                "getLegalHold" => holds::get(ctx, param()),
                "liftLegalHold" => holds::lift(ctx, &req, param()),
                _ => Err(Problem::not_found(operation)),
            }
        },
    )
}

/// The query string as `T` (each parameter a string field; unknown or
/// repeated parameters are refused).
fn query<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    let mut fields = serde_json::Map::new();
    for (name, value) in query_pairs(req) {
        if fields
            .insert(name.clone(), serde_json::Value::String(value))
            .is_some()
        {
            return Err(Problem::validation(vec![FieldError::new(
                &name,
                "must be given once",
            )]));
        }
    }
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| Problem::validation(vec![FieldError::new("query", e.to_string())]))
}

/// A configuration variable of this component.
fn variable(name: &str) -> Result<String, Problem> {
    spin_sdk::variables::get(name)
        .map_err(|e| Problem::internal(format!("configuration variable `{name}`: {e}")))
}

/// The authenticated caller, as the log records who did something.
fn actor(ctx: &Ctx) -> Result<OfficerId, Problem> {
    OfficerId::parse(&ctx.actor_id())
        .map_err(|e| Problem::internal(format!("the caller's id cannot be recorded: {}", e.0)))
}

/// A fresh entry id.
fn new_entry_id() -> Result<EntryId, Problem> {
    EntryId::parse(&crm_component_support::new_id("int")).map_err(|e| Problem::internal(e.0))
}

/// A store failure: ours, never the caller's.
fn store_problem(e: StoreError) -> Problem {
    Problem::internal(e.to_string())
}

/// Authorises `action` on entry `id`'s contact, or, when there is no such
/// entry, as a general action and then answers 404 (so the answer says no
/// more than the caller may know).
fn require_on_entry(ctx: &mut Ctx, action: Action, id: &str) -> Result<(EntryId, String), Problem> {
    let resource = format!("interaction/{id}");
    let found = match EntryId::parse(id) {
        Ok(entry) => interactions_store::contact_of(ctx.db()?, &entry)
            .map_err(store_problem)?
            .map(|contact| (entry, contact.to_string())),
        Err(_) => None,
    };
    match found {
        Some((entry, contact)) => {
            ctx.require(action, Target::Contact(&contact), &resource)?;
            Ok((entry, contact))
        }
        None => {
            ctx.require(action, Target::General, &resource)?;
            Err(Problem::not_found(format!("no {resource}")))
        }
    }
}
