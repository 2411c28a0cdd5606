//! A successful answer ([`Answer`], as data, so that an idempotent POST can
//! keep it and answer a retry with the same thing) as a response.

use contacts_store::Answer;
use crm_http::IDEMPOTENT_REPLAYED_HEADER;
use spin_sdk::http::Response;

/// The response; `replayed` marks the answer to a retried request.
pub fn respond(answer: Answer, replayed: bool) -> Response {
    let mut response = crm_component_support::json(answer.status, &answer.body);
    if let Some(location) = &answer.location {
        response.set_header("location", location);
    }
    if let Some(etag) = &answer.etag {
        response.set_header("etag", etag);
    }
    if replayed {
        response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
    }
    response
}
