//! `contact-intake`: one record per person or organisation (issue 4).
//!
//! Intake validates and normalises each field (`contacts-rules`, on the
//! `crm-domain` newtypes), refuses optional fields whose purpose the consent
//! interface does not permit, and runs "tell us once" matching before it
//! writes. Corrections and merges write new versions; every write keeps its
//! version, match keys, search row, labels and outbox event in one
//! transaction (`contacts-store` holds all of its SQL); every POST takes an
//! `Idempotency-Key`.

mod correct;
mod export;
mod idempotency;
mod import;
mod input;
mod intake;
mod matching;
mod merge;
mod records;
mod reply;
mod search;

use crm_component_support::serve;
use crm_http::Problem;
use spin_sdk::http::{OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/contact-intake",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

/// Takes the response outparam, so that the export can stream its body;
/// every other answer is sent whole, as for a handler returning a
/// `Response`.
#[http_component]
async fn handle(req: Request, out: ResponseOutparam) {
    // The export takes `out` once it starts streaming.
    let mut out = Some(out);
    let response = serve(
        crm_http::routes::CONTACT_INTAKE,
        &req,
        &AuditTrail,
        |ctx, operation, params| {
            let id = params.first().map_or("", |(_, id)| id.as_str());
            match operation {
                "createContact" => intake::create(ctx, &req),
                "matchContacts" => intake::match_only(ctx, &req),
                "searchContacts" => search::search(ctx, &req),
                "exportContacts" => export::export(ctx, &req, &mut out),
                "importContacts" => import::import(ctx, &req),
                "getContact" => records::get(ctx, id),
                "getOwnContact" => records::get_own(ctx),
                "correctContact" => correct::correct(ctx, &req, id),
                "getContactHistory" => records::history(ctx, id),
                "mergeContact" => merge::merge(ctx, &req, id),
                _ => Err(Problem::not_found(operation)),
            }
        },
    );
    if let Some(out) = out {
        send(out, response).await;
    }
}

/// Sends a whole response through `out`.
async fn send(out: ResponseOutparam, mut response: Response) {
    let body = std::mem::take(response.body_mut());
    match OutgoingResponse::try_from(response) {
        Ok(outgoing) => {
            if let Err(e) = out.set_with_body(outgoing, body).await {
                eprintln!("could not send the response: {e}");
            }
        }
        Err(e) => eprintln!("could not convert the response: {e}"),
    }
}
