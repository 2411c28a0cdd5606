//! Why and how each field was collected (APP 3 and APP 5), and which fields
//! need the contact's consent for the stated purpose.
//!
//! Every write names a collection: its `source` (how: `self-service`,
//! `phone`, `counter`, `staff-entry`, `import`, ...), its `purpose` (why:
//! `service-delivery`, ...), the privacy notice shown (`notice_id` and
//! `notice_version`) and the `channel` it came through. Each field the write
//! sets is stamped with that collection in the record's provenance map.
//!
//! **The consent rule for optional fields.** A field is *necessary* when the
//! purpose cannot be served without it, and *optional* otherwise:
//! - `accessibility_needs` is always optional: it may reveal health
//!   information, which is sensitive (APP 3.3);
//! - `date_of_birth` and `residential_address` are necessary for
//!   [`SERVICE_DELIVERY`] (proving identity and eligibility) and optional for
//!   any other purpose;
//! - every other field is necessary for every purpose.
//!
//! Setting an optional field needs `crm:consent/decisions.check(contact,
//! purpose, channel, now)` to permit the purpose; purposes whose lawful
//! basis is not consent are permitted by the consent component without a
//! record. A new contact has no consent record yet, so optional fields under
//! a consent-based purpose are refused at intake: create the contact
//! without them, record the consent, then correct the record.

use std::collections::BTreeMap;

use crm_domain::{Channel, FieldErrors, Provenance};
use serde::{Deserialize, Serialize};

/// The primary purpose of collection.
pub const SERVICE_DELIVERY: &str = "service-delivery";

/// Optional whatever the purpose.
const ALWAYS_OPTIONAL: [&str; 1] = ["accessibility_needs"];
/// Necessary only for [`SERVICE_DELIVERY`].
const SERVICE_ONLY: [&str; 2] = ["date_of_birth", "residential_address"];

/// Whether setting `field` for `purpose` needs the consent check.
pub fn needs_consent(field: &str, purpose: &str) -> bool {
    ALWAYS_OPTIONAL.contains(&field)
        || (SERVICE_ONLY.contains(&field) && purpose != SERVICE_DELIVERY)
}

/// A collection as a caller states it; absent members take the
/// component's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionFields {
    pub source: Option<String>,
    pub purpose: Option<String>,
    pub notice_id: Option<String>,
    pub notice_version: Option<i64>,
    /// The channel the information came through (`portal`, `phone`, ...),
    /// which the consent check is asked about.
    pub channel: Option<String>,
}

/// What a write's collection defaults to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionDefaults {
    pub source: String,
    pub purpose: String,
    pub notice_id: String,
    pub notice_version: i64,
    pub channel: String,
}

/// A checked collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub provenance: Provenance,
    pub channel: Channel,
}

impl Collection {
    /// Field names in errors: `collection.source`, `collection.purpose`,
    /// `collection.notice_id`, `collection.notice_version`, `collection.channel`.
    pub fn parse(
        fields: Option<&CollectionFields>,
        defaults: &CollectionDefaults,
    ) -> Result<Self, FieldErrors> {
        let given = fields.cloned().unwrap_or_default();
        let mut errors = FieldErrors::default();
        let provenance = errors.check_nested(
            "collection",
            Provenance::parse(
                given.source.as_deref().unwrap_or(&defaults.source),
                given.purpose.as_deref().unwrap_or(&defaults.purpose),
                given.notice_id.as_deref().unwrap_or(&defaults.notice_id),
                given.notice_version.unwrap_or(defaults.notice_version),
            ),
        );
        let channel_name = given.channel.as_deref().unwrap_or(&defaults.channel);
        let channel = errors.check("collection.channel", Channel::parse(channel_name));
        match (provenance, channel) {
            (Some(provenance), Some(channel)) if errors.is_empty() => Ok(Self {
                provenance,
                channel,
            }),
            _ => Err(errors),
        }
    }

    pub fn purpose(&self) -> &str {
        self.provenance.purpose.as_str()
    }

    /// The stamp put on each field this collection sets.
    pub fn stamp(&self, collected_at: &str, request_id: &str) -> FieldProvenance {
        FieldProvenance {
            source: self.provenance.source.as_str().into(),
            purpose: self.provenance.purpose.as_str().into(),
            notice_id: self.provenance.notice_version.notice_id.as_str().into(),
            notice_version: self.provenance.notice_version.version,
            channel: self.channel.as_str().into(),
            collected_at: collected_at.into(),
            request_id: request_id.into(),
        }
    }
}

/// How one stored field was collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProvenance {
    pub source: String,
    pub purpose: String,
    pub notice_id: String,
    pub notice_version: u32,
    pub channel: String,
    pub collected_at: String,
    pub request_id: String,
}

/// Field name → how its current value was collected.
pub type ProvenanceMap = BTreeMap<String, FieldProvenance>;

/// The stored form of a [`ProvenanceMap`]: each distinct collection once,
/// and the fields it stamped (a record's fields are mostly collected
/// together, so this is a fraction of the size of the map).
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredProvenance {
    #[serde(default)]
    collections: Vec<FieldProvenance>,
    #[serde(default)]
    fields: BTreeMap<String, usize>,
}

/// `map` as stored.
pub fn to_stored(map: &ProvenanceMap) -> String {
    let mut stored = StoredProvenance::default();
    for (field, stamp) in map {
        let index = match stored.collections.iter().position(|c| c == stamp) {
            Some(index) => index,
            None => {
                stored.collections.push(stamp.clone());
                stored.collections.len() - 1
            }
        };
        stored.fields.insert(field.clone(), index);
    }
    serde_json::to_string(&stored).expect("provenance serialises")
}

/// The map from its stored form.
pub fn from_stored(text: &str) -> Result<ProvenanceMap, String> {
    let stored: StoredProvenance = serde_json::from_str(text).map_err(|e| e.to_string())?;
    stored
        .fields
        .into_iter()
        .map(|(field, index)| {
            let stamp = stored.collections.get(index).ok_or_else(|| {
                format!("field {field} names collection {index}, which is missing")
            })?;
            Ok((field, stamp.clone()))
        })
        .collect()
}

/// Stamps `fields` with `stamp` and drops fields no longer held.
pub fn restamp(
    map: &mut ProvenanceMap,
    set: &[&'static str],
    held: &[&'static str],
    stamp: &FieldProvenance,
) {
    for field in set {
        map.insert((*field).to_string(), stamp.clone());
    }
    map.retain(|field, _| held.contains(&field.as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> CollectionDefaults {
        CollectionDefaults {
            source: "staff-entry".into(),
            purpose: SERVICE_DELIVERY.into(),
            notice_id: "general".into(),
            notice_version: 1,
            channel: "counter".into(),
        }
    }

    #[test]
    fn the_consent_rule() {
        assert!(needs_consent("accessibility_needs", SERVICE_DELIVERY));
        assert!(!needs_consent("date_of_birth", SERVICE_DELIVERY));
        assert!(needs_consent("date_of_birth", "research"));
        assert!(needs_consent("residential_address", "newsletters"));
        assert!(!needs_consent("emails", "newsletters"));
    }

    #[test]
    fn collections_default_and_refuse_per_field() {
        let c = Collection::parse(None, &defaults()).unwrap();
        assert_eq!(c.purpose(), SERVICE_DELIVERY);
        assert_eq!(c.channel, Channel::Counter);
        let stamp = c.stamp("2026-11-24T00:00:00.000Z", "req_1");
        assert_eq!(stamp.notice_id, "general");
        let given = CollectionFields {
            purpose: Some("Research".into()),
            channel: Some("portal".into()),
            ..Default::default()
        };
        assert_eq!(
            Collection::parse(Some(&given), &defaults())
                .unwrap()
                .purpose(),
            "research"
        );
        let bad = CollectionFields {
            source: Some("".into()),
            notice_version: Some(0),
            channel: Some("fax".into()),
            ..Default::default()
        };
        let fields: Vec<String> = Collection::parse(Some(&bad), &defaults())
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "collection.source",
                "collection.notice_version",
                "collection.channel"
            ]
        );
    }

    #[test]
    fn provenance_is_stored_compactly_and_read_back() {
        let c = Collection::parse(None, &defaults()).unwrap();
        let mut map = ProvenanceMap::new();
        restamp(
            &mut map,
            &["emails", "phones", "tags"],
            &["emails", "phones", "tags"],
            &c.stamp("t1", "r1"),
        );
        restamp(
            &mut map,
            &["tags"],
            &["emails", "phones", "tags"],
            &c.stamp("t2", "r2"),
        );
        let stored = to_stored(&map);
        assert_eq!(stored.matches("staff-entry").count(), 2, "{stored}");
        assert_eq!(from_stored(&stored).unwrap(), map);
        assert_eq!(from_stored("{}").unwrap(), ProvenanceMap::new());
        assert!(from_stored(r#"{"collections": [], "fields": {"tags": 0}}"#).is_err());
    }

    #[test]
    fn restamping_keeps_only_held_fields() {
        let c = Collection::parse(None, &defaults()).unwrap();
        let mut map = ProvenanceMap::new();
        restamp(
            &mut map,
            &["emails", "phones"],
            &["emails", "phones"],
            &c.stamp("t1", "r1"),
        );
        restamp(&mut map, &["emails"], &["emails"], &c.stamp("t2", "r2"));
        assert_eq!(map.len(), 1);
        assert_eq!(map["emails"].collected_at, "t2");
    }
}
