//! `guest-directory-client`: `GET /directory/<contact id>` → the contact's
//! reach from `crm:contacts/directory` as JSON, 404 for none, 500 with the
//! error text when the lookup fails.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    inline: "package crm-test:directory-client; world client { import crm:contacts/directory@0.1.0; }",
    path: "../../../wit",
    generate_all,
});

use crm::contacts::directory::lookup;
use crm::types::types::{Actor, Channel, RequestContext};

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Portal => "portal",
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::Letter => "letter",
        Channel::Phone => "phone",
        Channel::Counter => "counter",
        Channel::Video => "video",
        Channel::Social => "social",
        Channel::FieldVisit => "field-visit",
    }
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let id = req
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let context = RequestContext {
        request_id: "req_directory_test".into(),
        actor: Actor {
            id: "directory-client".into(),
            role: "service".into(),
        },
        purpose: Some("communications".into()),
    };
    Ok(match lookup(&context, &id) {
        Ok(Some(reach)) => {
            let body = serde_json::json!({
                "contact_id": reach.contact_id,
                "display_name": reach.display_name,
                "emails": reach.emails,
                "phones": reach.phones,
                "postal_address": reach.postal_address,
                "preferred_channel": reach.preferred_channel.map(channel_name),
                "language": reach.language,
                "accessibility": reach.accessibility,
            });
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(body.to_string())
                .build()
        }
        Ok(None) => Response::new(404, "no such contact"),
        Err(e) => Response::new(500, e),
    })
}
