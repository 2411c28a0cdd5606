//! The API's JSON answers as view models: what `web-http` fetched, drawn
//! into rows and lines. Missing members show as blank rather than failing
//! the page: the API decides which fields a caller may see.

use serde_json::Value;

use crate::pages::{CaseMessage, CitizenCase, InteractionLine, PersonLine, VersionLine};
use crate::patterns::{Errors, Field, SummaryRow};

/// A contact record's fields shown on a page, in order, with their labels.
pub const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("display_name", "Name"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("preferred_name", "Preferred name"),
    ("organisation_name", "Organisation"),
    ("date_of_birth", "Date of birth"),
    ("emails", "Email addresses"),
    ("phones", "Phone numbers"),
    ("postal_address", "Postal address"),
    ("residential_address", "Residential address"),
    ("preferred_channel", "Preferred way to contact you"),
    ("language", "Language"),
];

/// The summary list of a contact record (`GET /api/contacts/{id}`): each
/// field that has a value, and where it came from (APP 12).
pub fn contact_rows(record: &Value) -> Vec<SummaryRow> {
    CONTACT_FIELDS
        .iter()
        .filter_map(|(field, label)| {
            let lines = value_lines(&record[*field]);
            (!lines.is_empty()).then(|| SummaryRow {
                key: label.to_string(),
                lines,
                source: provenance(&record["provenance"], field),
            })
        })
        .collect()
}

/// A value as the lines a summary list shows: a list item or an address line each.
pub fn value_lines(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(value_lines).collect(),
        Value::Object(address) => {
            let mut lines = value_lines(&address.get("lines").cloned().unwrap_or_default());
            let town: Vec<String> = ["locality", "state", "postcode"]
                .iter()
                .filter_map(|k| address.get(*k).and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            if !town.is_empty() {
                lines.push(town.join(" "));
            }
            lines.extend(value_lines(
                &address.get("country").cloned().unwrap_or_default(),
            ));
            lines
        }
        _ => Vec::new(),
    }
}

/// "Given by phone on 7 December 2026 (staff entry, for service delivery)".
fn provenance(map: &Value, field: &str) -> Option<String> {
    let p = map.get(field)?;
    let text = |k: &str| p[k].as_str().unwrap_or_default().replace('-', " ");
    Some(format!(
        "Given by {} on {} ({}, for {})",
        text("channel"),
        date(p["collected_at"].as_str().unwrap_or_default()),
        text("source"),
        text("purpose"),
    ))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `2026-12-07T…` as "7 December 2026"; anything else as it is.
pub fn date(rfc3339: &str) -> String {
    let parts = rfc3339.get(..10).map(|d| {
        let mut it = d.split('-').map(str::parse::<usize>);
        (it.next(), it.next(), it.next())
    });
    match parts {
        Some((Some(Ok(y)), Some(Ok(m @ 1..=12)), Some(Ok(d)))) => {
            format!("{d} {} {y}", MONTHS[m - 1])
        }
        _ => rfc3339.to_string(),
    }
}

/// `2026-12-07T14:05:00Z` as "7 December 2026, 14:05 UTC".
pub fn date_time(rfc3339: &str) -> String {
    match rfc3339.get(11..16) {
        Some(time) if rfc3339.ends_with('Z') => format!("{}, {time} UTC", date(rfc3339)),
        _ => date(rfc3339),
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// `GET /api/contacts?…`'s `items` as table lines.
pub fn people(page: &Value) -> Vec<PersonLine> {
    items(&page["items"])
        .map(|c| PersonLine {
            id: text(&c["id"]),
            name: text(&c["display_name"]),
            email: value_lines(&c["emails"]).join(", "),
            phone: value_lines(&c["phones"]).join(", "),
        })
        .collect()
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

/// `GET /api/interactions?contact_id=…`'s `interactions`, newest first.
pub fn interactions(page: &Value) -> Vec<InteractionLine> {
    items(&page["interactions"])
        .map(|i| InteractionLine {
            when: date_time(i["occurred_at"].as_str().unwrap_or_default()),
            channel: text(&i["channel"]),
            summary: [&i["subject"], &i["category"]]
                .into_iter()
                .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

/// `GET /api/cases/mine`'s `cases`, each with its reply box; `reply_to` is
/// the case a refused reply was for, with what was typed.
pub fn citizen_cases(
    mine: &Value,
    reply_to: Option<(&str, &str)>,
    errors: &Errors,
) -> Vec<CitizenCase> {
    items(&mine["cases"])
        .map(|c| {
            let id = text(&c["id"]);
            let reply = Field::text("reply", "Reply about this case").id(reply_field_id(&id));
            let reply = match reply_to {
                Some((case, typed)) if case == id => reply.filled(typed, errors),
                _ => reply,
            };
            CitizenCase {
                reference: text(&c["reference"]),
                subject: text(&c["subject"]),
                status: [&c["status_label"], &c["status"]]
                    .into_iter()
                    .find_map(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                opened: date(c["opened_at"].as_str().unwrap_or_default()),
                details: c["details"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect(),
                messages: items(&c["activities"])
                    .map(|a| CaseMessage {
                        from: if a["from"] == "you" { "You" } else { "Us" }.to_string(),
                        when: date_time(a["created_at"].as_str().unwrap_or_default()),
                        subject: text(&a["subject"]),
                        body: a["body"].as_str().map(str::to_string),
                    })
                    .collect(),
                reply,
                id,
            }
        })
        .collect()
}

/// The id of the reply box of `case`, which its errors are reported against.
pub fn reply_field_id(case: &str) -> String {
    format!("reply-{case}")
}

/// `GET /api/contacts/{id}/history`'s `versions`, newest first.
pub fn versions(history: &Value) -> Vec<VersionLine> {
    let mut lines: Vec<VersionLine> = items(&history["versions"])
        .map(|v| {
            let actor = &v["actor"];
            VersionLine {
                version: v["version"].as_i64().unwrap_or_default(),
                change: text(&v["change"]),
                when: date_time(v["recorded_at"].as_str().unwrap_or_default()),
                by: match actor["id"].as_str() {
                    Some(id) => format!("{} ({id})", text(&actor["role"])),
                    None => text(&actor["role"]),
                },
                reason: text(&v["reason"]),
            }
        })
        .collect();
    lines.sort_by_key(|v| std::cmp::Reverse(v.version));
    lines
}
