//! The catalogues consent refers to: purposes (with their category and lawful
//! basis) and privacy notices (immutable versions, each with a language and
//! either its text or a URL).

use crm_domain::{HttpsUrl, Invalid, Lines, ShortText, check_text};
use thiserror::Error;

use crate::text::{check_slug, checked_string};

const SHARING_PREFIX: &str = "sharing:";

fn check_purpose_id(raw: &str) -> Result<&str, Invalid> {
    match raw.strip_prefix(SHARING_PREFIX) {
        Some(agency) => check_slug(agency)
            .map(|_| raw)
            .map_err(|e| Invalid(format!("the agency after `{SHARING_PREFIX}`: {e}"))),
        None => check_slug(raw),
    }
}

checked_string!(
    /// A purpose's id: a lowercase slug (`service-delivery`, `newsletters`) or
    /// `sharing:<agency-slug>` for disclosure to another agency.
    PurposeId,
    check_purpose_id
);

impl PurposeId {
    /// The receiving agency, for a `sharing:<agency>` purpose.
    pub fn sharing_agency(&self) -> Option<&str> {
        self.as_str().strip_prefix(SHARING_PREFIX)
    }
}

crm_domain::vocabulary!(
    /// What a purpose does with the person.
    PurposeCategory {
        /// Delivering a service the person asked for, including messages
        /// about it (status updates, appointment reminders).
        Service => "service",
        /// Messages the agency starts rather than the person asked for
        /// (newsletters, surveys, programme information).
        DirectCommunication => "direct-communication",
        /// Use of information for research or statistics. It is its own
        /// category because it is a secondary use (APP 6) that contacts
        /// nobody, so a channel's do-not-contact entry does not bear on it.
        Research => "research",
    }
);

impl PurposeCategory {
    /// Whether checks for this purpose precede contacting the person over
    /// the channel, so that a do-not-contact suppression blocks them.
    pub fn contacts_person(self) -> bool {
        matches!(self, Self::Service | Self::DirectCommunication)
    }
}

crm_domain::vocabulary!(
    /// Why the agency may use or disclose information for a purpose
    /// (Privacy Act 1988, APP 6).
    LawfulBasis {
        /// The person consented (APP 6.1(a)).
        Consent => "consent",
        /// The primary purpose the information was collected for (APP 6.1).
        PrimaryPurpose => "primary-purpose",
        /// A secondary purpose related to the primary one (directly related,
        /// for sensitive information) that the person would reasonably
        /// expect (APP 6.2(a)).
        RelatedSecondaryPurpose => "related-secondary-purpose",
        /// Required or authorised by or under an Australian law or a
        /// court/tribunal order (APP 6.2(b)).
        RequiredOrAuthorisedByLaw => "required-or-authorised-by-law",
        /// A permitted general situation, s 16A: serious threat to life,
        /// health or safety, unlawful activity, missing persons, legal
        /// claims, ADR (APP 6.2(c)).
        PermittedGeneralSituation => "permitted-general-situation",
    }
);

/// Why a purpose was refused into the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PurposeError {
    #[error("purpose {id}: a description is required: {reason}")]
    Description { id: PurposeId, reason: Invalid },
    /// Direct communication always rests on consent here, so every opt-out,
    /// including a one-click unsubscribe, is a withdrawal of that consent.
    #[error("purpose {id}: direct communication must rest on consent, not {basis}")]
    DirectCommunicationNeedsConsent { id: PurposeId, basis: LawfulBasis },
    /// The primary purpose of collection is the service itself; anything
    /// else is secondary by definition.
    #[error("purpose {id}: only a service purpose can be the primary purpose, not {category}")]
    PrimaryPurposeNotService {
        id: PurposeId,
        category: PurposeCategory,
    },
}

/// One entry of the purpose catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purpose {
    id: PurposeId,
    category: PurposeCategory,
    lawful_basis: LawfulBasis,
    description: String,
}

/// Longest purpose description accepted (characters).
const MAX_DESCRIPTION_CHARS: usize = 500;

impl Purpose {
    pub fn new(
        id: PurposeId,
        category: PurposeCategory,
        lawful_basis: LawfulBasis,
        description: &str,
    ) -> Result<Self, PurposeError> {
        let description = ShortText::parse(description, MAX_DESCRIPTION_CHARS)
            .map_err(|reason| PurposeError::Description {
                id: id.clone(),
                reason,
            })?
            .into_string();
        if category == PurposeCategory::DirectCommunication && lawful_basis != LawfulBasis::Consent
        {
            return Err(PurposeError::DirectCommunicationNeedsConsent {
                id,
                basis: lawful_basis,
            });
        }
        if lawful_basis == LawfulBasis::PrimaryPurpose && category != PurposeCategory::Service {
            return Err(PurposeError::PrimaryPurposeNotService { id, category });
        }
        Ok(Self {
            id,
            category,
            lawful_basis,
            description,
        })
    }

    pub fn id(&self) -> &PurposeId {
        &self.id
    }

    pub fn category(&self) -> PurposeCategory {
        self.category
    }

    pub fn lawful_basis(&self) -> LawfulBasis {
        self.lawful_basis
    }

    pub fn description(&self) -> &str {
        &self.description
    }
}

checked_string!(
    /// A privacy notice's id, as a slug (`general`, `research-programme`).
    NoticeId,
    check_slug
);

/// A privacy notice's version: 1, 2, 3, ... Versions are immutable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct NoticeVersion(u32);

impl NoticeVersion {
    pub const FIRST: Self = Self(1);

    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        u32::try_from(raw)
            .ok()
            .filter(|v| *v >= 1)
            .map(Self)
            .ok_or_else(|| Invalid(format!("must be a whole number from 1 to {}", u32::MAX)))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

/// The privacy notice (one version of it) a person was shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NoticeRef {
    pub id: NoticeId,
    pub version: NoticeVersion,
}

/// A BCP 47 language tag (RFC 5646 `langtag` shape), in its conventional
/// case: `en`, `en-AU`, `zh-Hant-TW`, `sr-Latn-RS`, `es-419`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Checks the shape only (subtag lengths and kinds in RFC 5646 order), not
    /// that each subtag is registered. Grandfathered tags and tags that are
    /// only private use are refused.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid(format!(
                "`{raw}` is not a BCP 47 language tag such as en, en-AU or zh-Hant-TW"
            ))
        };
        let subtags: Vec<&str> = raw.split('-').collect();
        if subtags
            .iter()
            .any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad());
        }
        let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let mut rest = subtags.iter().copied().peekable();
        let mut out: Vec<String> = Vec::with_capacity(subtags.len());

        // language = 2*3ALPHA ["-" extlang] / 5*8ALPHA (4ALPHA is reserved)
        let language = rest.next().ok_or_else(bad)?;
        if !alpha(language) || language.len() == 4 || language.len() < 2 {
            return Err(bad());
        }
        out.push(language.to_ascii_lowercase());
        if language.len() <= 3 {
            for _ in 0..3 {
                match rest.next_if(|s| s.len() == 3 && alpha(s)) {
                    Some(extlang) => out.push(extlang.to_ascii_lowercase()),
                    None => break,
                }
            }
        }
        // script = 4ALPHA, conventionally title case
        if let Some(script) = rest.next_if(|s| s.len() == 4 && alpha(s)) {
            let (first, tail) = script.split_at(1);
            out.push(first.to_ascii_uppercase() + &tail.to_ascii_lowercase());
        }
        // region = 2ALPHA / 3DIGIT, conventionally upper case
        if let Some(region) =
            rest.next_if(|s| (s.len() == 2 && alpha(s)) || (s.len() == 3 && digits(s)))
        {
            out.push(region.to_ascii_uppercase());
        }
        // variant = 5*8alphanum / (DIGIT 3alphanum)
        while let Some(variant) = rest.next_if(|s| {
            s.len() >= 5 || (s.len() == 4 && s.starts_with(|c: char| c.is_ascii_digit()))
        }) {
            out.push(variant.to_ascii_lowercase());
        }
        // extension = singleton 1*("-" 2*8alphanum); privateuse = "x" 1*("-" 1*8alphanum)
        while let Some(singleton) = rest.next_if(|s| s.len() == 1) {
            let private = singleton.eq_ignore_ascii_case("x");
            let min_len = if private { 1 } else { 2 };
            let mut count = 0;
            out.push(singleton.to_ascii_lowercase());
            while let Some(sub) = rest.next_if(|s| s.len() >= min_len) {
                out.push(sub.to_ascii_lowercase());
                count += 1;
            }
            if count == 0 {
                return Err(bad());
            }
            if private {
                break;
            }
        }
        if rest.next().is_some() {
            return Err(bad());
        }
        Ok(Self(out.join("-")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for LanguageTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Longest notice text kept inline (characters); longer notices are published
/// at a URL.
const MAX_NOTICE_TEXT_CHARS: usize = 100_000;
/// Longest notice URL accepted (bytes).
const MAX_URL_LEN: usize = 2048;

/// A notice's content: its full text, or the https URL it is published at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NoticeContent {
    Text(String),
    Url(String),
}

impl NoticeContent {
    /// Exactly one of `text` and `url` must be given.
    pub fn parse(text: Option<&str>, url: Option<&str>) -> Result<Self, Invalid> {
        match (text, url) {
            (Some(text), None) => {
                if text.trim().is_empty() {
                    return Err(Invalid("the text must not be blank".into()));
                }
                check_text(text, MAX_NOTICE_TEXT_CHARS, Lines::Many)
                    .map_err(|Invalid(reason)| Invalid(format!("the text {reason}")))?;
                Ok(Self::Text(text.to_owned()))
            }
            (None, Some(url)) => HttpsUrl::parse(url, MAX_URL_LEN)
                .map(|url| Self::Url(url.into_string()))
                .map_err(|Invalid(reason)| Invalid(format!("the URL {reason}"))),
            _ => Err(Invalid("give exactly one of text and url".into())),
        }
    }
}

/// One immutable version of a privacy notice (APP 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyNotice {
    pub id: NoticeId,
    pub version: NoticeVersion,
    pub language: LanguageTag,
    pub title: ShortText,
    pub content: NoticeContent,
    pub published_at_ms: i64,
}

impl PrivacyNotice {
    pub fn reference(&self) -> NoticeRef {
        NoticeRef {
            id: self.id.clone(),
            version: self.version,
        }
    }
}

/// Why a notice version cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoticeError {
    #[error("notice {id} version {} is already published and cannot change", version.get())]
    VersionExists {
        id: NoticeId,
        version: NoticeVersion,
    },
    #[error("notice {id} must be published as version {}, not {}", expected.get(), got.get())]
    VersionOutOfSequence {
        id: NoticeId,
        expected: NoticeVersion,
        got: NoticeVersion,
    },
    #[error("notice {id} has no versions left")]
    VersionsExhausted { id: NoticeId },
}

/// Versions are immutable and consecutive: a new version of a notice must be
/// the next number after those already `published` (any notice ids; only
/// those of `new`'s id count), and never replaces one.
pub fn check_next_version(
    published: &[PrivacyNotice],
    new: &PrivacyNotice,
) -> Result<(), NoticeError> {
    let same_id = || published.iter().filter(|n| n.id == new.id);
    if same_id().any(|n| n.version == new.version) {
        return Err(NoticeError::VersionExists {
            id: new.id.clone(),
            version: new.version,
        });
    }
    let expected = match same_id().map(|n| n.version).max() {
        None => NoticeVersion::FIRST,
        Some(latest) => latest
            .next()
            .ok_or_else(|| NoticeError::VersionsExhausted { id: new.id.clone() })?,
    };
    if new.version != expected {
        return Err(NoticeError::VersionOutOfSequence {
            id: new.id.clone(),
            expected,
            got: new.version,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(raw: &str) -> PurposeId {
        PurposeId::parse(raw).unwrap()
    }

    #[test]
    fn purpose_ids_are_slugs_or_sharing_with_an_agency() {
        assert_eq!(pid("service-delivery").sharing_agency(), None);
        assert_eq!(pid("sharing:ato").sharing_agency(), Some("ato"));
        assert_eq!(
            pid("sharing:services-australia").as_str(),
            "sharing:services-australia"
        );
        for bad in [
            "",
            "Newsletters",
            "sharing:",
            "sharing:ATO",
            "sharing:a:b",
            "share:ato",
            "news letters",
        ] {
            assert!(PurposeId::parse(bad).is_err(), "{bad}");
        }
        // Without the colon, `sharing` is a plain slug.
        assert_eq!(pid("sharing").sharing_agency(), None);
    }

    #[test]
    fn purposes_check_category_against_basis() {
        use LawfulBasis::*;
        use PurposeCategory::*;
        let ok = Purpose::new(pid("newsletters"), DirectCommunication, Consent, "News").unwrap();
        assert_eq!(ok.lawful_basis(), Consent);
        assert_eq!(
            Purpose::new(
                pid("newsletters"),
                DirectCommunication,
                RelatedSecondaryPurpose,
                "News"
            ),
            Err(PurposeError::DirectCommunicationNeedsConsent {
                id: pid("newsletters"),
                basis: RelatedSecondaryPurpose
            })
        );
        assert!(matches!(
            Purpose::new(pid("research"), Research, PrimaryPurpose, "Stats"),
            Err(PurposeError::PrimaryPurposeNotService { .. })
        ));
        assert!(Purpose::new(pid("service-delivery"), Service, PrimaryPurpose, "Cases").is_ok());
        assert!(
            Purpose::new(
                pid("sharing:ato"),
                Service,
                RequiredOrAuthorisedByLaw,
                "Tax"
            )
            .is_ok()
        );
        assert!(matches!(
            Purpose::new(pid("research"), Research, Consent, "  "),
            Err(PurposeError::Description { .. })
        ));
    }

    #[test]
    fn only_service_and_direct_communication_contact_the_person() {
        assert!(PurposeCategory::Service.contacts_person());
        assert!(PurposeCategory::DirectCommunication.contacts_person());
        assert!(!PurposeCategory::Research.contacts_person());
    }

    #[test]
    fn vocabularies_round_trip_and_list_choices() {
        for basis in LawfulBasis::ALL {
            assert_eq!(LawfulBasis::parse(basis.as_str()), Ok(*basis));
        }
        for category in PurposeCategory::ALL {
            assert_eq!(PurposeCategory::parse(category.as_str()), Ok(*category));
        }
        let err = LawfulBasis::parse("legitimate-interest").unwrap_err();
        assert!(err.0.contains("required-or-authorised-by-law"), "{err}");
    }

    #[test]
    fn language_tags_take_the_bcp47_shape_and_case() {
        for (raw, canonical) in [
            ("en", "en"),
            ("EN-au", "en-AU"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("sr-Latn-RS", "sr-Latn-RS"),
            ("es-419", "es-419"),
            ("zh-yue-HK", "zh-yue-HK"),
            ("de-CH-1996", "de-CH-1996"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
            ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),
            ("qaa-Qaaa-QM-x-southern", "qaa-Qaaa-QM-x-southern"),
            ("haw", "haw"),
        ] {
            assert_eq!(
                LanguageTag::parse(raw).map(|t| t.0),
                Ok(canonical.into()),
                "{raw}"
            );
        }
        for bad in [
            "",
            "e",
            "engl",
            "en-",
            "-en",
            "en--AU",
            "en_AU",
            "en-AU-",
            "en-a",
            "en-u-x",
            "en-x",
            "x-private",
            "en-toolongsubtag",
            "en-AU-US",
            "en-Latn-Latn",
            "1en",
            "én",
        ] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn notice_content_is_text_or_https_url() {
        assert_eq!(
            NoticeContent::parse(Some("We collect..."), None),
            Ok(NoticeContent::Text("We collect...".into()))
        );
        assert!(NoticeContent::parse(Some("   "), None).is_err());
        assert!(NoticeContent::parse(Some("Line one.\n\tLine two."), None).is_ok());
        assert_eq!(
            NoticeContent::parse(Some("We \u{0}collect"), None)
                .unwrap_err()
                .0,
            "the text must not contain the control character U+0000"
        );
        assert!(NoticeContent::parse(Some(&"a".repeat(MAX_NOTICE_TEXT_CHARS + 1)), None).is_err());
        assert!(NoticeContent::parse(None, Some("https://crm.gov.au/privacy/v1")).is_ok());
        assert!(NoticeContent::parse(None, Some("https://crm.gov.au")).is_ok());
        for bad in [
            "http://crm.gov.au/privacy",
            "https://",
            "https:///path",
            "https://user@crm.gov.au/",
            "https://crm.gov.au/a b",
            "crm.gov.au/privacy",
            "javascript:alert(1)",
        ] {
            assert!(NoticeContent::parse(None, Some(bad)).is_err(), "{bad}");
        }
        assert!(NoticeContent::parse(None, None).is_err());
        assert!(NoticeContent::parse(Some("t"), Some("https://a.au")).is_err());
    }

    #[test]
    fn notice_versions_are_positive() {
        assert_eq!(NoticeVersion::parse(1), Ok(NoticeVersion::FIRST));
        assert!(NoticeVersion::parse(0).is_err());
        assert!(NoticeVersion::parse(-3).is_err());
        assert!(NoticeVersion::parse(i64::from(u32::MAX) + 1).is_err());
    }

    fn notice(id: &str, version: i64) -> PrivacyNotice {
        PrivacyNotice {
            id: NoticeId::parse(id).unwrap(),
            version: NoticeVersion::parse(version).unwrap(),
            language: LanguageTag::parse("en-AU").unwrap(),
            title: ShortText::parse("How we handle your information", 200).unwrap(),
            content: NoticeContent::Url(format!("https://crm.gov.au/privacy/{id}/v{version}")),
            published_at_ms: 0,
        }
    }

    #[test]
    fn notice_versions_are_immutable_and_consecutive() {
        let published = [
            notice("general", 1),
            notice("general", 2),
            notice("research", 1),
        ];
        assert_eq!(
            check_next_version(&published, &notice("general", 3)),
            Ok(())
        );
        assert_eq!(
            check_next_version(&published, &notice("research", 2)),
            Ok(())
        );
        assert_eq!(check_next_version(&published, &notice("fresh", 1)), Ok(()));
        assert!(matches!(
            check_next_version(&published, &notice("general", 2)),
            Err(NoticeError::VersionExists { .. })
        ));
        assert_eq!(
            check_next_version(&published, &notice("general", 4)),
            Err(NoticeError::VersionOutOfSequence {
                id: NoticeId::parse("general").unwrap(),
                expected: NoticeVersion(3),
                got: NoticeVersion(4)
            })
        );
        assert!(matches!(
            check_next_version(&[], &notice("fresh", 2)),
            Err(NoticeError::VersionOutOfSequence { .. })
        ));
    }
}
