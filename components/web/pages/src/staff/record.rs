//! A contact record in sections, each its own page under the same header:
//! details (with relationships and the interaction timeline), consents,
//! messages sent to them, and their cases. The header offers only the
//! sections and actions the staff member's roles allow, and a section shows
//! only what the API answered: a field it leaves out is not drawn.

use askama::Template;
use crm_domain::rfc3339_utc;
use serde_json::Value;

use crate::api::{date, date_time};
use crate::pages::InteractionLine;
use crate::patterns::{Chrome, Errors, Link, SummaryRow};

/// Which of a record's pages this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSection {
    Details,
    Consents,
    Messages,
    Cases,
}

/// What the staff member's roles let them read and do on a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordAccess {
    pub consents: bool,
    pub messages: bool,
    pub cases: bool,
    pub correct: bool,
    pub record_interaction: bool,
    pub send_message: bool,
}

/// The header every page of a record shares.
#[derive(Debug, Clone)]
pub struct RecordHeader {
    pub name: String,
    pub version: i64,
    pub sections: Vec<Link>,
    pub actions: Vec<Link>,
}

impl RecordHeader {
    /// `record` is the contact as `GET /api/contacts/{id}` answered it.
    pub fn new(record: &Value, current: RecordSection, access: RecordAccess) -> Self {
        let id = record["id"].as_str().unwrap_or_default();
        let base = format!("/staff/contacts/{id}");
        let sections = [
            (RecordSection::Details, "", "Details", true),
            (
                RecordSection::Consents,
                "/consents",
                "Consents",
                access.consents,
            ),
            (
                RecordSection::Messages,
                "/messages",
                "Messages",
                access.messages,
            ),
            (RecordSection::Cases, "/cases", "Cases", access.cases),
        ];
        let actions = [
            ("/correct", "Correct the record", access.correct),
            (
                "/interactions/new",
                "Record an interaction",
                access.record_interaction,
            ),
            ("/messages/new", "Send a message", access.send_message),
        ];
        Self {
            name: record["display_name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            version: record["version"].as_i64().unwrap_or_default(),
            sections: sections
                .into_iter()
                .filter(|(_, _, _, allowed)| *allowed)
                .map(|(section, path, label, _)| Link {
                    href: format!("{base}{path}"),
                    label: label.to_string(),
                    current: section == current,
                })
                .collect(),
            actions: actions
                .into_iter()
                .filter(|(_, _, allowed)| *allowed)
                .map(|(path, label, _)| Link {
                    href: format!("{base}{path}"),
                    label: label.to_string(),
                    current: false,
                })
                .collect(),
        }
    }
}

/// A relationship to another contact (`relationships`, shown only to
/// roles the API gives it to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipLine {
    pub kind: String,
    pub contact_href: String,
    pub contact_id: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
pub struct ContactPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub record: RecordHeader,
    pub versions_href: String,
    pub rows: Vec<SummaryRow>,
    /// `None` when the API did not answer them to this role.
    pub relationships: Option<Vec<RelationshipLine>>,
    /// `None` for a role that does not read interactions.
    pub interactions: Option<Vec<InteractionLine>>,
    pub newest_href: Option<String>,
    pub next_page_href: Option<String>,
}

/// The record's `relationships`, if the API answered them.
pub fn relationships(record: &Value) -> Option<Vec<RelationshipLine>> {
    let list = record.get("relationships")?.as_array()?;
    Some(
        list.iter()
            .map(|r| {
                let id = r["contact_id"].as_str().unwrap_or_default().to_string();
                RelationshipLine {
                    kind: match r["kind"].as_str().unwrap_or_default() {
                        "representative-of" => "Represents".to_string(),
                        "official-of" => "An official of".to_string(),
                        "partner-of" => "Partner of".to_string(),
                        "household-member" => "Lives in the same household as".to_string(),
                        other => other.replace('-', " "),
                    },
                    contact_href: format!("/staff/contacts/{id}"),
                    contact_id: id,
                }
            })
            .collect(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLine {
    pub purpose: String,
    pub channel: String,
    pub status: String,
    /// The GOV.UK tag colour of the status.
    pub tag: &'static str,
    pub decided: String,
    pub valid_until: String,
    pub how: String,
}

#[derive(Template)]
#[template(path = "staff_consents.html")]
pub struct ConsentsPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub record: RecordHeader,
    pub current: Vec<ConsentLine>,
    pub history: Vec<ConsentLine>,
}

/// `GET /api/consents?contact_id=`'s records as lines.
pub fn consent_lines(records: &Value) -> Vec<ConsentLine> {
    items(records)
        .map(|r| {
            let status = text(&r["status"]);
            ConsentLine {
                purpose: text(&r["purpose"]),
                channel: text(&r["channel"]),
                tag: match status.as_str() {
                    "given" => "govuk-tag--green",
                    "refused" | "withdrawn" => "govuk-tag--red",
                    "expired" => "govuk-tag--orange",
                    _ => "govuk-tag--grey",
                },
                status,
                decided: r["given_at"]
                    .as_i64()
                    .map_or(String::new(), |ms| date(&rfc3339_utc(ms))),
                valid_until: r["valid_until"]
                    .as_i64()
                    .map_or("No end date".to_string(), |ms| date(&rfc3339_utc(ms))),
                how: text(&r["collection"]["method"]).replace('-', " "),
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLine {
    pub when: String,
    pub channel: String,
    pub subject: String,
    pub status: String,
    pub tag: &'static str,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "staff_messages.html")]
pub struct MessagesPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub record: RecordHeader,
    pub messages: Vec<MessageLine>,
    pub newest_href: Option<String>,
    pub next_page_href: Option<String>,
}

/// `GET /api/notifications?contact_id=`'s `notifications` as lines.
pub fn message_lines(page: &Value) -> Vec<MessageLine> {
    items(&page["notifications"])
        .map(|m| {
            let status = text(&m["status"]);
            MessageLine {
                when: date_time(m["created_at"].as_str().unwrap_or_default()),
                channel: text(&m["channel"]),
                subject: m["subject"]
                    .as_str()
                    .or_else(|| m["body"].as_str().and_then(|b| b.lines().next()))
                    .unwrap_or_default()
                    .to_string(),
                tag: match status.as_str() {
                    "delivered" | "received" | "sent" => "govuk-tag--green",
                    "permanent-failure" | "temporary-failure" | "technical-failure"
                    | "validation-failed" | "virus-scan-failed" => "govuk-tag--red",
                    "cancelled" => "govuk-tag--grey",
                    _ => "govuk-tag--blue",
                },
                status: status.replace('-', " "),
                purpose: text(&m["purpose"]),
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCaseLine {
    pub href: String,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "staff_contact_cases.html")]
pub struct ContactCasesPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub record: RecordHeader,
    pub cases: Vec<ContactCaseLine>,
    pub newest_href: Option<String>,
    pub next_page_href: Option<String>,
}

/// `GET /api/cases?contact_id=`'s `cases` as lines.
pub fn contact_case_lines(page: &Value) -> Vec<ContactCaseLine> {
    items(&page["cases"])
        .map(|c| ContactCaseLine {
            href: format!("/staff/cases/{}", text(&c["id"])),
            reference: text(&c["reference"]),
            subject: text(&c["subject"]),
            status: text(&c["status"]).replace('-', " "),
            priority: text(&c["priority"]),
            opened: date(c["opened_at"].as_str().unwrap_or_default()),
        })
        .collect()
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}
