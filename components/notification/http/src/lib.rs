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
mod case_updates;
mod config;
mod delivery;
mod dispatch;
mod documents;
mod http_out;
mod inbound;
mod limits;
mod providers;
mod receipts;
mod records;
mod send;
mod services;
mod templates;
mod v2;

use crm_component_support::serve_with_public;
use crm_http::Problem;
use crm_templates::TemplateType;
use notification_store::StoreError;
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

/// A store failure as the 500 answer. The database's words name tables and
/// columns, so they go to the log, not the caller.
pub(crate) fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::Sql(e) => {
            eprintln!("database statement failed: {e}");
            Problem::internal("a database statement failed (the details are in the log)")
        }
        StoreError::Corrupt(_) => Problem::internal(error.to_string()),
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction (`crm_sql::transaction`):
/// all of it is written or none.
pub(crate) fn in_transaction<T, E: From<Problem>>(
    db: &impl crm_sql::Sql,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    /// The database's failure to begin or commit, or `f`'s.
    enum Failed<E> {
        Sql(crm_sql::SqlError),
        Other(E),
    }
    impl<E> From<crm_sql::SqlError> for Failed<E> {
        fn from(e: crm_sql::SqlError) -> Self {
            Self::Sql(e)
        }
    }
    crm_sql::transaction(db, || f().map_err(Failed::Other)).map_err(|failed| match failed {
        Failed::Sql(e) => E::from(store_problem(e.into())),
        Failed::Other(e) => e,
    })
}

fn param<'a>(params: &'a [(&'static str, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[http_component]
fn handle(req: Request) -> Response {
    // Notify's clients read every `/v2` error in Notify's shape, an unknown
    // path's too.
    if req.path().starts_with("/v2/")
        && let Err(missed) = crm_component_support::route(crm_http::routes::NOTIFICATION, &req)
    {
        let request_id = crm_component_support::request_id(&req);
        let mut response = v2::unrouted(&req, &missed, &request_id);
        response.set_header("x-request-id", request_id);
        return response;
    }
    serve_with_public(
        crm_http::routes::NOTIFICATION,
        &req,
        &AuditTrail,
        |operation, params, request_id| match operation {
            "receiveDeliveryReceipt" => receipts::receive(&req, param(params, "id"), request_id),
            "receiveTextMessage" => inbound::receive(&req, param(params, "id"), request_id),
            "getNotifyDocument" | "confirmNotifyDocument" => {
                documents::download(&req, param(params, "id"), request_id)
            }
            _ => Ok(v2::serve(&req, operation, params, request_id)),
        },
        |ctx, operation, params| {
            use notification_store::senders::SenderKind::{EmailReplyTo, LetterContact, SmsSender};
            let id = param(params, "id");
            match operation {
                "sendNotification" => api::send_route(ctx, &req),
                "listNotifications" => api::list_route(ctx, &req),
                "getNotification" => api::read(ctx, id),
                "listInbox" => api::inbox(ctx),
                "markInboxMessageRead" => api::mark_inbox(ctx, id, true),
                "markInboxMessageUnread" => api::mark_inbox(ctx, id, false),
                "dispatchNotifications" => dispatch::dispatch(ctx),
                "createNotifyService" => services::create_service(ctx, &req),
                "createNotifyApiKey" => services::create_key(ctx, &req, id),
                "listNotifyApiKeys" => services::list_keys(ctx, id),
                "revokeNotifyApiKey" => services::revoke_key(ctx, id, param(params, "key_id")),
                "addNotifyEmailReplyTo" => services::add_sender(ctx, &req, id, EmailReplyTo),
                "listNotifyEmailReplyTo" => services::list_senders(ctx, id, EmailReplyTo),
                "addNotifySmsSender" => services::add_sender(ctx, &req, id, SmsSender),
                "listNotifySmsSenders" => services::list_senders(ctx, id, SmsSender),
                "addNotifyLetterContact" => services::add_sender(ctx, &req, id, LetterContact),
                "listNotifyLetterContacts" => services::list_senders(ctx, id, LetterContact),
                "createTemplate" => templates::create(ctx, &req),
                "listTemplates" => templates::list_route(ctx, &req),
                "getTemplate" => templates::read(ctx, id, None),
                "reviseTemplate" => templates::revise(ctx, &req, id),
                "getTemplateVersion" => templates::read(ctx, id, Some(param(params, "version"))),
                "previewTemplate" => templates::preview(ctx, &req, id),
                "setTemplateServices" => templates::set_services(ctx, &req, id),
                _ => Err(Problem::not_found(operation)),
            }
        },
    )
}
