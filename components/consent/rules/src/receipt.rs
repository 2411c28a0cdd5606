//! Machine-readable receipts of a consent record, with ISO/IEC TS 27560
//! field names, sealed with a SHA-256 digest of their RFC 8785 canonical form.
//!
//! A receipt is one record's processing block laid flat (one record is one
//! purpose on one channel): `schema_version`, `record_id`,
//! `pii_principal_id`, `language`, `privacy_notice`, `purposes` (each with
//! `lawful_basis`), `pii_information`, `pii_controllers`, `jurisdiction`,
//! `recipient_third_parties` (for `sharing:<agency>`), `collection_method`,
//! `withdrawal_method` and the `event` list (`event_time`, `event_type`,
//! `event_state`, `validity_duration`). Names outside the standard
//! (`grantor`, `channel`, `recorded_at`, `supersedes`, `event_actor`,
//! `event_via`, `superseded_by`, `digest`) carry what this CRM adds.

use crm_domain::{ShortText, rfc3339_utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::catalogue::{NoticeContent, NoticeRef, PrivacyNotice, Purpose, PurposeId};
use crate::consent::Window;
use crate::events::EventKind;
use crate::jcs::{JcsError, canonicalize};
use crate::record::ConsentRecord;

pub const SCHEMA_VERSION: &str = "ISO/IEC TS 27560:2023; crm-consent-receipt 1";
/// The member holding the digest; it is left out of what the digest covers.
pub const DIGEST_FIELD: &str = "digest";

/// The agency as controller of the information, and how to withdraw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    pub name: ShortText,
    /// Where to reach the controller (privacy officer email or page).
    pub contact: ShortText,
    /// For example `AU`.
    pub jurisdiction: ShortText,
    /// How the person can withdraw (for example, the portal page, the phone
    /// number, and the unsubscribe link in each message).
    pub withdrawal_method: ShortText,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReceiptError {
    #[error("record {record} is for purpose {record_purpose}, not {given}")]
    PurposeMismatch {
        record: String,
        record_purpose: PurposeId,
        given: PurposeId,
    },
    #[error("record {record} cites notice {}/{}, not {}/{}",
        cited.id, cited.version.get(), given.id, given.version.get())]
    NoticeMismatch {
        record: String,
        cited: NoticeRef,
        given: NoticeRef,
    },
    #[error(transparent)]
    Canonical(#[from] JcsError),
    #[error("the receipt is not a JSON object with a `digest` member holding a sha-256 value")]
    NoDigest,
    #[error("the receipt's digest does not match its content")]
    DigestMismatch,
}

/// Builds the sealed receipt of `record` (with the events it has now).
/// `purpose` and `notice` are the catalogue entries the record cites.
pub fn build_receipt(
    record: &ConsentRecord,
    purpose: &Purpose,
    notice: &PrivacyNotice,
    controller: &Controller,
) -> Result<Value, ReceiptError> {
    let consent = &record.consent;
    if *purpose.id() != consent.purpose {
        return Err(ReceiptError::PurposeMismatch {
            record: record.id.to_string(),
            record_purpose: consent.purpose.clone(),
            given: purpose.id().clone(),
        });
    }
    if notice.reference() != consent.notice {
        return Err(ReceiptError::NoticeMismatch {
            record: record.id.to_string(),
            cited: consent.notice.clone(),
            given: notice.reference(),
        });
    }
    let mut receipt = Map::new();
    let mut put = |name: &str, value: Value| {
        receipt.insert(name.to_owned(), value);
    };
    put("schema_version", json!(SCHEMA_VERSION));
    put("record_id", json!(record.id));
    put("pii_principal_id", json!(consent.subject));
    if let Some(grantor) = &consent.grantor {
        put(
            "grantor",
            json!({"party_id": grantor.contact_id, "party_role": grantor.relationship}),
        );
    }
    put("language", json!(notice.language));
    put("privacy_notice", privacy_notice(notice));
    put(
        "purposes",
        json!([{
            "purpose": purpose.id(),
            "purpose_category": purpose.category(),
            "purpose_description": purpose.description(),
            "lawful_basis": consent.lawful_basis,
        }]),
    );
    put("channel", json!(consent.channel));
    put(
        "pii_information",
        consent
            .data_categories
            .iter()
            .map(|c| json!({"pii_type": c, "sensitive": c.is_sensitive()}))
            .collect(),
    );
    put(
        "pii_controllers",
        json!([{
            "party_name": controller.name.as_str(),
            "party_role": "controller",
            "party_contact": controller.contact.as_str(),
        }]),
    );
    put("jurisdiction", json!(controller.jurisdiction.as_str()));
    if let Some(agency) = consent.purpose.sharing_agency() {
        put("recipient_third_parties", json!([agency]));
    }
    put("collection_method", json!(consent.collection));
    put(
        "withdrawal_method",
        json!(controller.withdrawal_method.as_str()),
    );
    put("recorded_at", json!(rfc3339_utc(record.recorded_at_ms)));
    if let Some(previous) = &record.supersedes {
        put("supersedes", json!(previous));
    }
    put("event", events(record));
    seal(Value::Object(receipt))
}

fn privacy_notice(notice: &PrivacyNotice) -> Value {
    let mut value = json!({
        "notice_id": notice.id,
        "version": notice.version,
        "title": notice.title.as_str(),
        "published_at": rfc3339_utc(notice.published_at_ms),
    });
    // A reference and a hash of the wording, never a copy of it.
    let (name, content) = match &notice.content {
        NoticeContent::Url(url) => ("url", url.clone()),
        NoticeContent::Text(text) => ("text_sha256", hex(&Sha256::digest(text.as_bytes()))),
    };
    value[name] = json!(content);
    value
}

/// The event list, each with the 27560 state it left the record in. Events
/// that change nothing (a receipt issued) show the state at their time.
fn events(record: &ConsentRecord) -> Value {
    let validity = &record.consent.validity;
    // The state the last state-setting event left.
    let mut set = "Requested";
    record
        .events
        .iter()
        .map(|event| {
            let state = match event.kind.state() {
                Some(new_state) => {
                    set = new_state;
                    new_state
                }
                None if matches!(set, "Given" | "RenewedGiven")
                    && validity.window(event.at_ms) == Window::After =>
                {
                    "Expired"
                }
                None => set,
            };
            let mut value = json!({
                "event_time": rfc3339_utc(event.at_ms),
                "event_type": event.kind,
                "event_state": state,
                "event_actor": event.actor,
                "event_via": event.via,
            });
            if matches!(event.kind, EventKind::Given | EventKind::Renewed)
                && let Some(duration_ms) = validity.duration_ms()
            {
                value["validity_duration"] = json!(iso8601_duration(duration_ms));
            }
            if let Some(by) = &event.superseded_by {
                value["superseded_by"] = json!(by);
            }
            value
        })
        .collect()
}

/// A positive duration in ISO 8601 form: whole days as `P30D`, otherwise
/// seconds as `PT90S` or `PT1.500S`.
fn iso8601_duration(ms: i64) -> String {
    const DAY_MS: i64 = 86_400_000;
    if ms % DAY_MS == 0 {
        format!("P{}D", ms / DAY_MS)
    } else if ms % 1000 == 0 {
        format!("PT{}S", ms / 1000)
    } else {
        format!("PT{}.{:03}S", ms / 1000, ms % 1000)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (lower-case hex) of the RFC 8785 form of `receipt` without its
/// `digest` member.
pub fn receipt_digest(receipt: &Value) -> Result<String, ReceiptError> {
    let mut content = receipt.clone();
    if let Some(members) = content.as_object_mut() {
        members.remove(DIGEST_FIELD);
    }
    Ok(hex(&Sha256::digest(canonicalize(&content)?.as_bytes())))
}

/// Adds (or replaces) the `digest` member.
fn seal(mut receipt: Value) -> Result<Value, ReceiptError> {
    let value = receipt_digest(&receipt)?;
    receipt[DIGEST_FIELD] = json!({
        "algorithm": "sha-256",
        "canonicalization": "RFC 8785",
        "value": value,
    });
    Ok(receipt)
}

/// Checks that a receipt's digest matches its content, as anyone holding it
/// can.
pub fn verify_receipt(receipt: &Value) -> Result<(), ReceiptError> {
    let claimed = receipt
        .get(DIGEST_FIELD)
        .filter(|d| d.get("algorithm") == Some(&json!("sha-256")))
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .ok_or(ReceiptError::NoDigest)?;
    if receipt_digest(receipt)? == claimed {
        Ok(())
    } else {
        Err(ReceiptError::DigestMismatch)
    }
}
