//! My messages (`/my-messages`): the portal inbox through the notification
//! API with the citizen's own token, and marking a message read or unread.

use serde_json::json;
use web_pages::citizen::messages::{self as view, MyMessagesPage};
use web_pages::render;

use crate::api::encode;
use crate::session::Audience;
use crate::visit::{Handled, Visit, html, redirect};

pub fn inbox(visit: &mut Visit) -> Handled {
    let inbox = visit
        .api(Audience::Citizen)?
        .get("/api/notifications/inbox")?;
    let page = MyMessagesPage::new(
        visit.chrome("/my-messages"),
        visit.csrf(),
        view::inbox(&inbox),
    );
    Ok(html(200, &render(&page)))
}

/// `POST /my-messages/{id}/read` or `/unread`: another's message, or one
/// not in the inbox, is the API's 404 and so this page's.
pub fn mark(visit: &mut Visit, id: &str, read: bool) -> Handled {
    visit.form()?;
    let mark = if read { "read" } else { "unread" };
    visit.api(Audience::Citizen)?.post(
        &format!("/api/notifications/inbox/{}/{mark}", encode(id)),
        &json!({}),
    )?;
    visit.flash(format!("Message marked as {mark}"));
    Ok(redirect(&format!("/my-messages#message-{}", encode(id))))
}
