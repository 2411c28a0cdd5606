//! Who looked at my record: the citizen's own access log
//! (`GET /api/audit/me`), a page at a time, oldest first as the API keeps
//! it: who (by role, and by id when the agency's policy shows ids), when,
//! why (the purpose of use) and what.

use askama::Template;
use serde_json::Value;

use super::{sentence, time_ms};
use crate::patterns::{Chrome, Errors};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub when: String,
    pub who: String,
    pub why: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "who_looked.html")]
pub struct WhoLookedPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub accesses: Vec<AccessLine>,
    /// Back to the first page, on any later one.
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}

/// A role the trail records, as who acted.
fn role_words(role: &str) -> String {
    match role {
        "intake-officer" => "An intake officer".into(),
        "case-worker" => "A case worker".into(),
        "communications-officer" => "A communications officer".into(),
        "auditor" => "An auditor".into(),
        "administrator" => "An administrator".into(),
        "service" => "A connected system".into(),
        "unsubscribe-link" => "An unsubscribe link".into(),
        other => sentence(other),
    }
}

/// An action the trail records, as what was done with the information.
fn action_words(action: &str) -> String {
    match action {
        "contact.create" => "Created your record".into(),
        "contact.read" => "Read your details".into(),
        "contact.read-identifiers" => "Read your identifiers and date of birth".into(),
        "contact.update" => "Changed your details".into(),
        "contact.merge" => "Merged your record with a duplicate".into(),
        "contact.search" => "Found your record in a search".into(),
        "contact.export" => "Exported your record".into(),
        "consent.record" => "Recorded a consent decision".into(),
        "consent.read" => "Read your consents".into(),
        "consent.withdraw" => "Withdrew a consent".into(),
        "suppression.read" => "Read your contact preferences".into(),
        "suppression.manage" => "Changed your contact preferences".into(),
        "interaction.append" => "Recorded a contact with you".into(),
        "interaction.read" => "Read your contact history".into(),
        "notification.send" => "Sent you a message".into(),
        "notification.read" => "Read a message sent to you".into(),
        "notification.status" => "Recorded how a message to you went".into(),
        "notification.receipt" => "Received a delivery report of a message to you".into(),
        "notification.document-download" => "Downloaded a file sent to you".into(),
        "interaction.amend" => "Corrected a record of a contact with you".into(),
        "interaction.dispose" => "Disposed of a record of a contact with you".into(),
        "legal-hold.read" => "Read a legal hold on your records".into(),
        "legal-hold.manage" => "Placed or lifted a legal hold on your records".into(),
        "inbox.read" => "Read your messages".into(),
        "inbox.update" => "Marked a message read or unread".into(),
        "case.open" => "Opened a case".into(),
        "case.read" => "Read your case".into(),
        "case.work" => "Worked on your case".into(),
        "case.assign" => "Assigned your case".into(),
        other => sentence(other),
    }
}

/// `/api/audit/me`'s `accesses` as table lines.
pub fn accesses(page: &Value) -> Vec<AccessLine> {
    page["accesses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let role = role_words(a["role"].as_str().unwrap_or_default());
            let who = match a["actor"].as_str() {
                Some("you") => "You".to_string(),
                Some(id) => format!("{role} ({id})"),
                None => role,
            };
            let mut what = action_words(a["action"].as_str().unwrap_or_default());
            match a["outcome"].as_str() {
                Some("denied") => what.push_str(" (refused)"),
                Some("failed") => what.push_str(" (did not complete)"),
                _ => {}
            }
            AccessLine {
                when: a["at"].as_i64().map(time_ms).unwrap_or_default(),
                who,
                why: match a["purpose"].as_str() {
                    Some("self-access") => "Your own use of this service".into(),
                    Some(purpose) => sentence(purpose),
                    None => "None stated".into(),
                },
                what,
            }
        })
        .collect()
}

/// The sequence after which the next page starts, from the API's `next`
/// link (`/api/audit/me?after=N&limit=L`).
pub fn next_after(page: &Value) -> Option<u64> {
    let next = page["next"].as_str()?;
    let query = next.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("after="))
        .and_then(|n| n.parse().ok())
}
