//! `GET /v2/received-text-messages`: the text messages sent to the caller's
//! service's numbers, newest first, 250 a page, `older_than` an id, with
//! `links.next` on every page that is not empty, as Notify pages them.

use crm_component_support::query_param;
use notification_rules::{NotifyError, notify_time};
use notification_store::received_texts::{self, ReceivedText};
use serde_json::{Value as Json, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite::Connection;

use super::{Caller, PAGE, audit, base_url, internal, is_uuid, ok};
use crate::store_problem;

fn view(text: &ReceivedText) -> Json {
    json!({
        "id": text.id,
        "user_number": text.user_number,
        "notify_number": text.notify_number,
        "created_at": notify_time(text.created_at),
        "service_id": text.service_id,
        "content": text.content,
    })
}

pub(super) fn list(
    req: &Request,
    db: &Connection,
    caller: &Caller,
) -> Result<Response, NotifyError> {
    let older_than = query_param(req, "older_than");
    if older_than.as_deref().is_some_and(|id| !is_uuid(id)) {
        return Err(NotifyError::validation(["older_than is not a valid UUID"]));
    }
    let texts = received_texts::list(db, caller.service_id.as_str(), older_than.as_deref(), PAGE)
        .map_err(|e| internal(&store_problem(e)))?;
    audit(
        caller,
        "notification.read",
        &format!(
            "notify-service/{}/received-text-messages",
            caller.service_id
        ),
        None,
    )?;
    let page = format!("{}/v2/received-text-messages", base_url(req));
    let mut links = json!({ "current": match &older_than {
        Some(id) => format!("{page}?older_than={id}"),
        None => page.clone(),
    }});
    if let Some(last) = texts.last() {
        links["next"] = json!(format!("{page}?older_than={}", last.id));
    }
    let views: Vec<Json> = texts.iter().map(view).collect();
    Ok(ok(
        200,
        &json!({ "received_text_messages": views, "links": links }),
    ))
}
