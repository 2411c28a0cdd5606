//! `notification`: templated portal, email, SMS and letter messages,
//! consent-checked, GOV.UK Notify-compatible.
//!
//! Routes (`crm_http::routes::NOTIFICATION`): the CRM's own API under
//! `/api/notifications/...` and `/api/templates/...` (CRM authentication),
//! Notify's v2 API under `/v2/...` and provider receipts (public routes
//! with their own credentials). See README.md for the design.

mod actor;
mod api;
mod callbacks;
mod config;
mod delivery;
mod dispatch;
mod http_out;
mod limits;
mod providers;
mod receipts;
mod records;
mod send;
mod services;
mod store;
mod templates;
mod v2;

use crm_component_support::serve_with_public;
use crm_http::Problem;
use crm_templates::TemplateType;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/notification",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

use crm_component_support::wit::Channel;

crm_component_support::audit_sink!();

/// The interface channel of a template type.
pub(crate) fn wit_channel(kind: TemplateType) -> Channel {
    match kind {
        TemplateType::Email => Channel::Email,
        TemplateType::Sms => Channel::Sms,
        TemplateType::Letter => Channel::Letter,
        TemplateType::Portal => Channel::Portal,
    }
}

fn param<'a>(params: &'a [(&'static str, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[http_component]
fn handle(req: Request) -> Response {
    serve_with_public(
        crm_http::routes::NOTIFICATION,
        &req,
        &AuditTrail,
        |operation, params, request_id| match operation {
            "receiveDeliveryReceipt" => receipts::receive(&req, param(params, "id"), request_id),
            _ => Ok(v2::serve(&req, operation, params, request_id)),
        },
        |ctx, operation, params| {
            let id = param(params, "id");
            match operation {
                "sendNotification" => api::send_route(ctx, &req),
                "getNotification" => api::read(ctx, id),
                "listInbox" => api::inbox(ctx),
                "dispatchNotifications" => dispatch::dispatch(ctx),
                "createNotifyService" => services::create_service(ctx, &req),
                "createNotifyApiKey" => services::create_key(ctx, &req, id),
                "listNotifyApiKeys" => services::list_keys(ctx, id),
                "revokeNotifyApiKey" => services::revoke_key(ctx, id, param(params, "key_id")),
                "createTemplate" => templates::create(ctx, &req),
                "listTemplates" => templates::list_route(ctx, &req),
                "getTemplate" => templates::read(ctx, id, None),
                "reviseTemplate" => templates::revise(ctx, &req, id),
                "getTemplateVersion" => templates::read(ctx, id, Some(param(params, "version"))),
                "previewTemplate" => templates::preview(ctx, &req, id),
                _ => Err(Problem::not_found(operation)),
            }
        },
    )
}
