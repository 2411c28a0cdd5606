//! What the routes answer with: records, events, catalogue entries and
//! do-not-contact entries as JSON, with the request bodies' field names and
//! times in ms since the Unix epoch (notices: RFC 3339, as before).

use consent_rules::{
    ConsentEvent, ConsentRecord, EventKind, NoticeContent, PrivacyNotice, status_at,
};
use consent_store::{PurposeEntry, SuppressionEntry};
use crm_domain::rfc3339_utc;
use serde_json::{Value, json};

/// A record with its status at `now_ms`; `all` are the contact's records
/// (those that may supersede it).
pub fn record(record: &ConsentRecord, all: &[ConsentRecord], now_ms: i64) -> Value {
    let consent = &record.consent;
    let superseded_by = record
        .events
        .iter()
        .find(|e| e.kind == EventKind::Superseded)
        .and_then(|e| e.superseded_by.as_ref());
    let mut value = json!({
        "id": record.id,
        "contact_id": consent.subject,
        "purpose": consent.purpose,
        "lawful_basis": consent.lawful_basis,
        "data_categories": consent.data_categories,
        "channel": consent.channel,
        "decision": consent.decision,
        "notice_id": consent.notice.id,
        "notice_version": consent.notice.version,
        "collection": consent.collection,
        "given_at": consent.validity.given_at_ms(),
        "valid_until": consent.validity.valid_until_ms(),
        "recorded_at": record.recorded_at_ms,
        "supersedes": record.supersedes,
        "superseded_by": superseded_by,
        "status": status_at(record, all, now_ms),
        "events": record.events.iter().map(event).collect::<Vec<_>>(),
    });
    if let Some(grantor) = &consent.grantor {
        value["grantor"] = json!({
            "contact_id": grantor.contact_id,
            "relationship": grantor.relationship,
        });
    }
    value
}

fn event(event: &ConsentEvent) -> Value {
    let mut value = json!({
        "at": event.at_ms,
        "kind": event.kind,
        "actor": event.actor,
        "via": event.via,
    });
    if let Some(by) = &event.superseded_by {
        value["superseded_by"] = json!(by);
    }
    value
}

pub fn purpose(entry: &PurposeEntry) -> Value {
    let purpose = &entry.purpose;
    json!({
        "id": purpose.id(),
        "revision": entry.revision,
        "category": purpose.category(),
        "lawful_basis": purpose.lawful_basis(),
        "description": purpose.description(),
        "sharing_agency": purpose.id().sharing_agency(),
        "revised_at": entry.revised_at_ms,
        "revised_by": entry.revised_by,
    })
}

/// A notice version; its text only when `with_text` (lists leave it out).
pub fn notice(notice: &PrivacyNotice, with_text: bool) -> Value {
    let mut value = json!({
        "id": notice.id,
        "version": notice.version,
        "language": notice.language,
        "title": notice.title.as_str(),
        "published_at": rfc3339_utc(notice.published_at_ms),
    });
    match &notice.content {
        NoticeContent::Url(url) => value["url"] = json!(url),
        NoticeContent::Text(text) if with_text => value["text"] = json!(text),
        NoticeContent::Text(_) => {}
    }
    value
}

/// A do-not-contact entry, and whether it applies at `now_ms`.
pub fn suppression(entry: &SuppressionEntry, active: bool) -> Value {
    json!({
        "id": entry.id,
        "contact_id": entry.contact_id,
        "channel": entry.channel,
        "reason": entry.reason,
        "note": entry.note,
        "since": entry.since_ms,
        "until": entry.until_ms,
        "created_at": entry.created_at_ms,
        "created_by": entry.created_by,
        "lifted": entry.lift.as_ref().map(|l| json!({"at": l.at_ms, "by": l.by, "reason": l.reason})),
        "active": active,
    })
}
