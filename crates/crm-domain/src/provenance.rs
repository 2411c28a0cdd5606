//! Where each stored field came from (APP 3 and APP 5).

use crate::error::{FieldErrors, invalid};
use crate::text::Slug;

/// The privacy notice shown when a field was collected, as the `consent`
/// component's `privacy_notices` table names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoticeVersion {
    pub notice_id: Slug,
    pub version: u32,
}

/// The collection record kept with a field: how it was collected (e.g.
/// `self-service`, `phone`, `representative`, `third-party`), why (the
/// collection purpose, e.g. `service-delivery`), and which privacy notice the
/// person was shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Provenance {
    pub source: Slug,
    pub purpose: Slug,
    pub notice_version: NoticeVersion,
}

impl Provenance {
    /// Field names in errors: `source`, `purpose`, `notice_id`, `notice_version`.
    pub fn parse(
        source: &str,
        purpose: &str,
        notice_id: &str,
        notice_version: i64,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let source = errors.check("source", Slug::parse(source));
        let purpose = errors.check("purpose", Slug::parse(purpose));
        let notice_id = errors.check("notice_id", Slug::parse(notice_id));
        let version = errors.check(
            "notice_version",
            u32::try_from(notice_version)
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| invalid("must be a notice version from 1")),
        );
        let (Some(source), Some(purpose), Some(notice_id), Some(version)) =
            (source, purpose, notice_id, version)
        else {
            return Err(errors);
        };
        Ok(Self {
            source,
            purpose,
            notice_version: NoticeVersion { notice_id, version },
        })
    }
}

/// A stored value with its collection record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Collected<T> {
    pub value: T,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_records_source_purpose_and_notice() {
        let provenance =
            Provenance::parse("self-service", "service-delivery", "general", 1).unwrap();
        assert_eq!(provenance.source.as_str(), "self-service");
        assert_eq!(provenance.purpose.as_str(), "service-delivery");
        assert_eq!(provenance.notice_version.notice_id.as_str(), "general");
        assert_eq!(provenance.notice_version.version, 1);
        let collected = Collected {
            value: "0412 345 678",
            provenance,
        };
        assert_eq!(collected.provenance.source.as_str(), "self-service");
    }

    #[test]
    fn provenance_refusals_name_fields() {
        let errors = Provenance::parse("", "service delivery", "general", 0).unwrap_err();
        let fields: Vec<_> = errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("source", "must not be empty"),
                (
                    "purpose",
                    "must contain only letters, digits and hyphens, not ' '"
                ),
                ("notice_version", "must be a notice version from 1"),
            ]
        );
        assert!(
            Provenance::parse(
                "phone",
                "service-delivery",
                "general",
                i64::from(u32::MAX) + 1
            )
            .is_err()
        );
    }
}
