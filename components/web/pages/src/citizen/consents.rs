//! My consents: what the citizen has given, refused and withdrawn, per
//! purpose and channel (`GET /api/consents`), the form that gives or
//! changes one (`POST /api/consents`), and a record's receipt
//! (`GET /api/consents/{id}/receipt`).

use askama::Template;
use crm_domain::Channel;
use serde_json::Value;

use super::{sentence, time_ms};
use crate::api::{date, date_time};
use crate::patterns::{Chrome, Errors, Radios, SummaryRow};

/// The channels a consent can cover, in the order the form offers them
/// (the consent API refuses any other).
pub const CONSENT_CHANNELS: [Channel; 5] = [
    Channel::Email,
    Channel::Sms,
    Channel::Letter,
    Channel::Portal,
    Channel::Phone,
];

/// The decisions the form offers, as (value, label).
pub const DECISIONS: &[(&str, &str)] =
    &[("given", "Yes, I agree"), ("refused", "No, I do not agree")];

/// A channel as the portal names it to the person.
pub fn channel_label(channel: &str) -> String {
    match Channel::parse(channel) {
        Ok(Channel::Portal) => "Messages in this portal",
        Ok(Channel::Phone) => "Phone",
        Ok(Channel::Counter) => "At a counter",
        Ok(Channel::Email) => "Email",
        Ok(Channel::Sms) => "Text message",
        Ok(Channel::Letter) => "Letter",
        Ok(Channel::Video) => "Video call",
        Ok(Channel::Social) => "Social media",
        Ok(Channel::FieldVisit) => "A visit",
        Err(_) => return channel.to_string(),
    }
    .to_string()
}

/// The consent channels as (value, label), for the form's radios.
pub fn channel_choices() -> Vec<(&'static str, String)> {
    CONSENT_CHANNELS
        .iter()
        .map(|c| (c.as_str(), channel_label(c.as_str())))
        .collect()
}

/// One consent in force or ended, as "Your choices now" lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLine {
    pub id: String,
    pub purpose_id: String,
    /// The purpose as the catalogue describes it.
    pub purpose: String,
    pub channel_id: String,
    pub channel: String,
    pub status: String,
    /// The GOV.UK tag colour of the status.
    pub tag_class: &'static str,
    /// When it came to be as it is (given, refused, withdrawn, expired).
    pub since: String,
    /// Consent in force can be withdrawn.
    pub withdrawable: bool,
    pub change_href: String,
    pub receipt_href: String,
    /// The withdraw button's id, which a refused withdrawal's error links to.
    pub withdraw_id: String,
}

/// One decision ever recorded, as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionLine {
    pub recorded: String,
    pub purpose: String,
    pub channel: String,
    pub decision: String,
    /// How it was made: in this portal, by phone, on a paper form...
    pub made: String,
    pub status: String,
    pub receipt_href: String,
}

#[derive(Template)]
#[template(path = "my_consents.html")]
pub struct MyConsentsPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub current: Vec<ConsentLine>,
    pub history: Vec<DecisionLine>,
}

/// The privacy notice a decision made in the portal is made under (APP 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLink {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub url: Option<String>,
}

/// Give, refuse or change a consent.
#[derive(Template)]
#[template(path = "consent_choice.html")]
pub struct ConsentChoicePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub purpose: Radios,
    pub channel: Radios,
    pub decision: Radios,
    pub notice: NoticeLink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEvent {
    pub when: String,
    pub what: String,
    pub state: String,
}

/// A consent record's receipt, readable, with its digest and the download.
#[derive(Template)]
#[template(path = "consent_receipt.html")]
pub struct ConsentReceiptPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub rows: Vec<SummaryRow>,
    pub events: Vec<ReceiptEvent>,
    pub digest: String,
    pub download_href: String,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn items(list: &Value) -> impl DoubleEndedIterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

/// The catalogue's purposes (`GET /api/consents/purposes`) as (id,
/// description); only those resting on consent when `consent_only`.
pub fn purposes(catalogue: &Value, consent_only: bool) -> Vec<(String, String)> {
    items(&catalogue["purposes"])
        .filter(|p| !consent_only || p["lawful_basis"] == "consent")
        .map(|p| (text(&p["id"]), text(&p["description"])))
        .collect()
}

/// A purpose as the catalogue describes it, as a title (no full stop).
fn describe(purposes: &[(String, String)], id: &str) -> String {
    purposes.iter().find(|(p, _)| p == id).map_or_else(
        || sentence(id),
        |(_, d)| d.trim_end_matches('.').to_string(),
    )
}

/// "newsletters by email": what a decision was about, for a sentence.
pub fn decision_words(purpose: &str, channel: &str) -> String {
    format!(
        "{} by {}",
        sentence(purpose).to_lowercase(),
        channel_label(channel).to_lowercase()
    )
}

/// A record's status as (words, tag colour).
fn status(status: &str) -> (String, &'static str) {
    match status {
        "given" => ("Given".into(), "govuk-tag--green"),
        "refused" => ("Refused".into(), "govuk-tag--orange"),
        "withdrawn" => ("Withdrawn".into(), "govuk-tag--grey"),
        "expired" => ("Expired".into(), "govuk-tag--yellow"),
        "superseded" => ("Replaced by a later decision".into(), "govuk-tag--grey"),
        other => (sentence(other), "govuk-tag--grey"),
    }
}

/// How a decision reached the agency (its collection method).
fn made(method: &str) -> String {
    match method {
        "portal-form" => "In this portal".into(),
        "paper-form" => "On a paper form".into(),
        "phone-call" => "By phone".into(),
        "counter" => "At a counter".into(),
        "email" => "By email".into(),
        other => sentence(other),
    }
}

/// The id of the withdraw button of `purpose` by `channel`.
pub fn withdraw_id(purpose: &str, channel: &str) -> String {
    format!("withdraw-{purpose}-{channel}")
}

fn receipt_href(id: &str) -> String {
    format!("/my-consents/{id}/receipt")
}

/// When a record came to be as it is: its last event that set its status
/// (a receipt being issued changes nothing).
fn since(record: &Value) -> String {
    items(&record["events"])
        .rev()
        .find(|e| e["kind"] != "receipt-issued")
        .and_then(|e| e["at"].as_i64())
        .map(|ms| date(&crm_domain::rfc3339_utc(ms)))
        .unwrap_or_default()
}

/// `GET /api/consents`'s `current` records, one per purpose and channel.
pub fn current(consents: &Value, purposes: &[(String, String)]) -> Vec<ConsentLine> {
    items(&consents["current"])
        .map(|r| {
            let id = text(&r["id"]);
            let (purpose_id, channel_id) = (text(&r["purpose"]), text(&r["channel"]));
            let (status_words, tag_class) = status(r["status"].as_str().unwrap_or_default());
            ConsentLine {
                purpose: describe(purposes, &purpose_id),
                channel: channel_label(&channel_id),
                status: status_words,
                tag_class,
                since: since(r),
                withdrawable: r["status"] == "given",
                change_href: format!(
                    "/my-consents/choose?purpose={}&channel={}",
                    query_value(&purpose_id),
                    query_value(&channel_id)
                ),
                receipt_href: receipt_href(&id),
                withdraw_id: withdraw_id(&purpose_id, &channel_id),
                id,
                purpose_id,
                channel_id,
            }
        })
        .collect()
}

/// A query value, percent-encoded (`sharing:agency` keeps no bare `:`).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /api/consents`'s `history`: every decision, newest first.
pub fn history(consents: &Value, purposes: &[(String, String)]) -> Vec<DecisionLine> {
    items(&consents["history"])
        .map(|r| DecisionLine {
            recorded: r["recorded_at"].as_i64().map(time_ms).unwrap_or_default(),
            purpose: describe(purposes, r["purpose"].as_str().unwrap_or_default()),
            channel: channel_label(r["channel"].as_str().unwrap_or_default()),
            decision: match r["decision"].as_str() {
                Some("given") => "Agreed".into(),
                Some("refused") => "Did not agree".into(),
                other => sentence(other.unwrap_or_default()),
            },
            made: made(r["collection"]["method"].as_str().unwrap_or_default()),
            status: status(r["status"].as_str().unwrap_or_default()).0,
            receipt_href: receipt_href(r["id"].as_str().unwrap_or_default()),
        })
        .collect()
}

/// The newest version of privacy notice `id` (`GET /api/privacy-notices`).
pub fn newest_notice(notices: &Value, id: &str) -> Option<NoticeLink> {
    items(&notices["privacy_notices"])
        .filter(|n| n["id"] == id)
        .max_by_key(|n| n["version"].as_i64().unwrap_or_default())
        .map(|n| NoticeLink {
            id: id.to_string(),
            version: n["version"].as_i64().unwrap_or_default(),
            title: text(&n["title"]),
            url: n["url"].as_str().map(str::to_string),
        })
}

/// An event kind on a receipt, in words.
fn event_words(kind: &str) -> String {
    match kind {
        "given" => "Consent given".into(),
        "renewed" => "Consent renewed".into(),
        "refused" => "Consent refused".into(),
        "withdrawn" => "Consent withdrawn".into(),
        "superseded" => "Replaced by a later decision".into(),
        "expired-noted" => "Found to have expired".into(),
        "receipt-issued" => "Receipt issued".into(),
        other => sentence(other),
    }
}

/// A receipt (ISO/IEC TS 27560 field names) as summary rows and events.
pub fn receipt_rows(receipt: &Value) -> (Vec<SummaryRow>, Vec<ReceiptEvent>) {
    let row = |key: &str, lines: Vec<String>| SummaryRow {
        key: key.to_string(),
        lines: lines.into_iter().filter(|l| !l.is_empty()).collect(),
        source: None,
    };
    let purpose = &receipt["purposes"][0];
    let controller = &receipt["pii_controllers"][0];
    let notice = &receipt["privacy_notice"];
    let rows = vec![
        row("Record", vec![text(&receipt["record_id"])]),
        row(
            "What it is for",
            vec![text(&purpose["purpose_description"])],
        ),
        row(
            "Lawful basis",
            vec![sentence(
                purpose["lawful_basis"].as_str().unwrap_or_default(),
            )],
        ),
        row(
            "How we may contact you",
            vec![channel_label(
                receipt["channel"].as_str().unwrap_or_default(),
            )],
        ),
        row(
            "Information used",
            items(&receipt["pii_information"])
                .map(|i| sentence(i["pii_type"].as_str().unwrap_or_default()))
                .collect(),
        ),
        row(
            "Who is responsible for it",
            vec![
                text(&controller["party_name"]),
                text(&controller["party_contact"]),
            ],
        ),
        row(
            "Privacy notice",
            vec![format!(
                "{} (version {})",
                text(&notice["title"]),
                notice["version"].as_i64().unwrap_or_default()
            )],
        ),
        row(
            "Made",
            vec![made(
                receipt["collection_method"]["method"]
                    .as_str()
                    .unwrap_or_default(),
            )],
        ),
        row(
            "Recorded",
            vec![date_time(
                receipt["recorded_at"].as_str().unwrap_or_default(),
            )],
        ),
        row("How to withdraw", vec![text(&receipt["withdrawal_method"])]),
    ];
    let events = items(&receipt["event"])
        .map(|e| ReceiptEvent {
            when: date_time(e["event_time"].as_str().unwrap_or_default()),
            what: event_words(e["event_type"].as_str().unwrap_or_default()),
            state: text(&e["event_state"]),
        })
        .collect();
    (rows, events)
}
