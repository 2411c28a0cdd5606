//! A contact record's pages: details (with relationships and the
//! interaction timeline), versions, consents, messages and cases, each one
//! read of the record for its header and one of its section.

use crm_auth::policy::Action;
use web_pages::staff::record::{
    ConsentsPage, ContactCasesPage, ContactPage, MessagesPage, RecordAccess, RecordHeader,
    RecordSection, consent_lines, contact_case_lines, message_lines, relationships,
};
use web_pages::{Errors, VersionsPage, api, render};

use super::{Permissions, here, permissions, with_purpose};
use crate::api::{Answer, ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html};

/// The contact as the API answers it to this staff member, with its
/// version (`ETag`); a merged contact's pages are its survivor's.
pub(super) fn load(visit: &Visit, id: &str) -> Result<Answer, Outcome> {
    match visit
        .api(Audience::Staff)?
        .get_versioned(&format!("/api/contacts/{}", encode(id)))
    {
        Err(ApiError::Problem {
            status: 308, body, ..
        }) => Err(Outcome::Redirect(format!(
            "/staff/contacts/{}",
            encode(body["merged_into"].as_str().unwrap_or_default())
        ))),
        answer => Ok(answer?),
    }
}

/// What the staff member may read and do on a record.
pub(super) fn access(permissions: &Permissions) -> RecordAccess {
    RecordAccess {
        consents: permissions.may(Action::ConsentRead),
        messages: permissions.may(Action::NotificationRead),
        cases: permissions.may(Action::CaseRead),
        correct: permissions.may(Action::ContactUpdate),
        record_interaction: permissions.may(Action::InteractionAppend),
        send_message: permissions.may(Action::NotificationSend)
            && permissions.may(Action::TemplateRead),
    }
}

/// The record's header for `section`, refusing a section the staff
/// member's roles do not read (the API would refuse it too).
fn header(
    visit: &mut Visit,
    id: &str,
    section: RecordSection,
) -> Result<(RecordHeader, serde_json::Value, Permissions), Outcome> {
    with_purpose(visit, &here(visit))?;
    let permissions = permissions(visit)?;
    let access = access(&permissions);
    let allowed = match section {
        RecordSection::Details => true,
        RecordSection::Consents => access.consents,
        RecordSection::Messages => access.messages,
        RecordSection::Cases => access.cases,
    };
    if !allowed {
        return Err(Outcome::Forbidden(
            "Your role does not let you see this part of a record.".to_string(),
        ));
    }
    let record = load(visit, id)?.json;
    Ok((
        RecordHeader::new(&record, section, access),
        record,
        permissions,
    ))
}

/// `GET /staff/contacts/{id}`: the record and a page of its timeline
/// (a later one with `?cursor=`), for roles that read interactions.
pub fn contact(visit: &mut Visit, id: &str) -> Handled {
    let (record, json, permissions) = header(visit, id, RecordSection::Details)?;
    let base = format!("/staff/contacts/{}", encode(id));
    let cursor = visit.query("cursor");
    let timeline = if permissions.may(Action::InteractionRead) {
        let mut path = format!("/api/interactions?page_size=20&contact_id={}", encode(id));
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        Some(visit.api(Audience::Staff)?.get(&path)?)
    } else {
        None
    };
    let page = ContactPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        versions_href: format!("{base}/versions"),
        rows: api::contact_rows(&json),
        relationships: relationships(&json),
        interactions: timeline.as_ref().map(api::interactions),
        newest_href: cursor.as_ref().map(|_| base.clone()),
        next_page_href: timeline.as_ref().and_then(|t| {
            t["next_cursor"]
                .as_str()
                .map(|c| format!("{base}?cursor={}", encode(c)))
        }),
        record,
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/contacts/{id}/versions`: every version of the record.
pub fn versions(visit: &mut Visit, id: &str) -> Handled {
    let (record, _, _) = header(visit, id, RecordSection::Details)?;
    let history = visit
        .api(Audience::Staff)?
        .get(&format!("/api/contacts/{}/history", encode(id)))?;
    let page = VersionsPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        name: record.name,
        record_href: format!("/staff/contacts/{}", encode(id)),
        versions: api::versions(&history),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/contacts/{id}/consents`: the consents in force and every
/// decision.
pub fn consents(visit: &mut Visit, id: &str) -> Handled {
    let (record, _, _) = header(visit, id, RecordSection::Consents)?;
    let listed = visit
        .api(Audience::Staff)?
        .get(&format!("/api/consents?contact_id={}", encode(id)))?;
    let page = ConsentsPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        record,
        current: consent_lines(&listed["current"]),
        history: consent_lines(&listed["history"]),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/contacts/{id}/messages`: the messages sent to them, newest
/// first (older ones with `?older_than=`).
pub fn messages(visit: &mut Visit, id: &str) -> Handled {
    let (record, _, _) = header(visit, id, RecordSection::Messages)?;
    let base = format!("/staff/contacts/{}/messages", encode(id));
    let older_than = visit.query("older_than");
    let mut path = format!("/api/notifications?limit=20&contact_id={}", encode(id));
    if let Some(older) = &older_than {
        path.push_str(&format!("&older_than={}", encode(older)));
    }
    let listed = visit.api(Audience::Staff)?.get(&path)?;
    let page = MessagesPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        record,
        messages: message_lines(&listed),
        newest_href: older_than.as_ref().map(|_| base.clone()),
        next_page_href: listed["next_older_than"]
            .as_str()
            .map(|m| format!("{base}?older_than={}", encode(m))),
    };
    Ok(html(200, &render(&page)))
}

/// `GET /staff/contacts/{id}/cases`: their cases, first opened first.
pub fn cases(visit: &mut Visit, id: &str) -> Handled {
    let (record, _, _) = header(visit, id, RecordSection::Cases)?;
    let base = format!("/staff/contacts/{}/cases", encode(id));
    let cursor = visit.query("cursor");
    let mut path = format!("/api/cases?limit=20&contact_id={}", encode(id));
    if let Some(cursor) = &cursor {
        path.push_str(&format!("&cursor={}", encode(cursor)));
    }
    let listed = visit.api(Audience::Staff)?.get(&path)?;
    let page = ContactCasesPage {
        chrome: visit.chrome("/staff/search"),
        errors: Errors::default(),
        record,
        cases: contact_case_lines(&listed),
        newest_href: cursor.as_ref().map(|_| base.clone()),
        next_page_href: listed["next_cursor"]
            .as_str()
            .map(|c| format!("{base}?cursor={}", encode(c))),
    };
    Ok(html(200, &render(&page)))
}
