//! A new consent decision as a caller submits it, and its parsing into
//! [`NewConsent`], whose every field has passed its checks.

use crm_domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalogue::{LawfulBasis, NoticeId, NoticeRef, NoticeVersion, Purpose, PurposeId};
use crate::events::Via;
use crate::text::{DataCategory, Reference};
use crm_domain::{ContactId, OfficerId};

crm_domain::channel_subset!(
    /// The channels a consent can cover: the ways the agency reaches a person.
    Channel {
        Email,
        Sms,
        Letter,
        Portal,
        Phone,
    }
);

crm_domain::vocabulary!(
    /// What the person decided.
    ConsentDecision {
        Given => "given",
        Refused => "refused",
    }
);

crm_domain::vocabulary!(
    /// How a grantor may act for the subject.
    Relationship {
        /// A parent or guardian of a child.
        ParentOrGuardian => "parent-or-guardian",
        /// An attorney under an enduring or general power of attorney.
        PowerOfAttorney => "power-of-attorney",
        /// A nominee appointed to deal with the agency for the person.
        Nominee => "nominee",
        /// Any other representative the person authorised in writing.
        AuthorisedRepresentative => "authorised-representative",
    }
);

/// Someone who decided on the subject's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grantor {
    pub contact_id: ContactId,
    pub relationship: Relationship,
}

crm_domain::vocabulary!(
    /// How a decision reached the agency.
    CollectionMethod {
        PortalForm => "portal-form",
        PaperForm => "paper-form",
        PhoneCall => "phone-call",
        Counter => "counter",
        Email => "email",
    }
);

impl CollectionMethod {
    /// The evidence fields this method requires; the others must be absent,
    /// so a record never carries evidence that does not fit how it was taken.
    pub fn required_evidence(self) -> &'static [&'static str] {
        match self {
            // The citizen is authenticated; the form version fixes the wording.
            Self::PortalForm => &["form_version"],
            Self::PaperForm => &["form_version", "document_reference", "officer_id"],
            Self::PhoneCall => &["call_reference", "officer_id"],
            Self::Counter => &["officer_id"],
            Self::Email => &["message_id", "officer_id"],
        }
    }

    pub fn via(self) -> Via {
        match self {
            Self::PortalForm => Via::Portal,
            Self::PaperForm => Via::Paper,
            Self::PhoneCall => Via::Phone,
            Self::Counter => Via::Counter,
            Self::Email => Via::Email,
        }
    }
}

/// The collection method with the evidence it requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Collection {
    PortalForm {
        form_version: Reference,
    },
    PaperForm {
        form_version: Reference,
        /// The scanned form.
        document_reference: Reference,
        /// Who keyed it in.
        officer_id: OfficerId,
    },
    PhoneCall {
        /// The recorded call.
        call_reference: Reference,
        officer_id: OfficerId,
    },
    Counter {
        officer_id: OfficerId,
    },
    Email {
        /// The person's email, by its Message-ID.
        message_id: Reference,
        officer_id: OfficerId,
    },
}

impl Collection {
    pub fn method(&self) -> CollectionMethod {
        match self {
            Self::PortalForm { .. } => CollectionMethod::PortalForm,
            Self::PaperForm { .. } => CollectionMethod::PaperForm,
            Self::PhoneCall { .. } => CollectionMethod::PhoneCall,
            Self::Counter { .. } => CollectionMethod::Counter,
            Self::Email { .. } => CollectionMethod::Email,
        }
    }
}

/// When a decision holds: from `given_at` up to, not including, `valid_until`
/// (half-open, so at `valid_until` itself it has expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Validity {
    given_at_ms: i64,
    valid_until_ms: Option<i64>,
}

/// Where a moment falls against a validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Before,
    Within,
    After,
}

/// Why a validity period was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ValidityError {
    #[error("must not be before the Unix epoch")]
    BeforeEpoch,
    #[error("must be after given_at")]
    EndsBeforeStart,
}

impl Validity {
    pub fn new(given_at_ms: i64, valid_until_ms: Option<i64>) -> Result<Self, ValidityError> {
        // Both bounds are then non-negative, so their difference cannot overflow.
        if given_at_ms < 0 {
            return Err(ValidityError::BeforeEpoch);
        }
        if valid_until_ms.is_some_and(|until| until <= given_at_ms) {
            return Err(ValidityError::EndsBeforeStart);
        }
        Ok(Self {
            given_at_ms,
            valid_until_ms,
        })
    }

    /// When the person decided (given or refused).
    pub fn given_at_ms(&self) -> i64 {
        self.given_at_ms
    }

    pub fn valid_until_ms(&self) -> Option<i64> {
        self.valid_until_ms
    }

    /// How long the decision holds, if it is time-limited.
    pub fn duration_ms(&self) -> Option<i64> {
        self.valid_until_ms.map(|until| until - self.given_at_ms)
    }

    pub(crate) fn window(&self, at_ms: i64) -> Window {
        if at_ms < self.given_at_ms {
            Window::Before
        } else if self.valid_until_ms.is_some_and(|until| at_ms >= until) {
            Window::After
        } else {
            Window::Within
        }
    }
}

/// A decision ready to be recorded. Build one with [`ConsentRequest::parse`];
/// a stored row is rebuilt field by field with each field type's parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewConsent {
    pub subject: ContactId,
    pub grantor: Option<Grantor>,
    pub purpose: PurposeId,
    /// The purpose's basis when the decision was recorded, kept with it.
    pub lawful_basis: LawfulBasis,
    pub data_categories: Vec<DataCategory>,
    pub channel: Channel,
    pub decision: ConsentDecision,
    pub notice: NoticeRef,
    pub collection: Collection,
    pub validity: Validity,
}

/// Every field of a request that failed its check.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid consent: {}", list(.errors))]
pub struct InvalidConsent {
    pub errors: Vec<FieldError>,
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(FieldError::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A consent decision as submitted (JSON body of `POST /api/consents`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub contact_id: String,
    pub grantor: Option<GrantorRequest>,
    pub purpose: String,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub decision: String,
    pub notice_id: String,
    pub notice_version: i64,
    pub collection: CollectionRequest,
    pub given_at: i64,
    pub valid_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantorRequest {
    pub contact_id: String,
    pub relationship: String,
}

/// The collection method and whichever evidence fields it requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionRequest {
    pub method: String,
    pub form_version: Option<String>,
    pub document_reference: Option<String>,
    pub officer_id: Option<String>,
    pub call_reference: Option<String>,
    pub message_id: Option<String>,
}

/// Most data categories one decision may name.
const MAX_DATA_CATEGORIES: usize = 32;

/// Collects field errors while parsing, so a caller hears about all of them.
#[derive(Default)]
struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result
            .map_err(|Invalid(reason)| self.fail(field, reason))
            .ok()
    }

    fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError::new(field, reason));
    }
}

impl ConsentRequest {
    /// Parses the request against the purpose catalogue. `now_ms` is when it
    /// is being recorded: a decision cannot be dated after that.
    pub fn parse(&self, purposes: &[Purpose], now_ms: i64) -> Result<NewConsent, InvalidConsent> {
        let mut fields = Fields::default();
        let subject = fields.check("contact_id", ContactId::parse(&self.contact_id));
        let grantor = self.grantor.as_ref().map(|g| {
            let contact_id = fields.check("grantor.contact_id", ContactId::parse(&g.contact_id));
            if contact_id.is_some() && contact_id == subject {
                fields.fail("grantor.contact_id", "must differ from contact_id");
            }
            let relationship =
                fields.check("grantor.relationship", Relationship::parse(&g.relationship));
            Some(Grantor {
                contact_id: contact_id?,
                relationship: relationship?,
            })
        });
        let purpose = fields
            .check("purpose", PurposeId::parse(&self.purpose))
            .and_then(|id| {
                let Some(entry) = purposes.iter().find(|p| *p.id() == id) else {
                    fields.fail("purpose", format!("{id} is not in the purpose catalogue"));
                    return None;
                };
                if entry.lawful_basis() != LawfulBasis::Consent {
                    fields.fail(
                        "purpose",
                        format!(
                            "{id} rests on {}, not consent, so there is no consent to record",
                            entry.lawful_basis()
                        ),
                    );
                    return None;
                }
                Some(id)
            });
        let data_categories = self.parse_data_categories(&mut fields);
        let channel = fields.check("channel", Channel::parse(&self.channel));
        let decision = fields.check("decision", ConsentDecision::parse(&self.decision));
        let notice_id = fields.check("notice_id", NoticeId::parse(&self.notice_id));
        let notice_version =
            fields.check("notice_version", NoticeVersion::parse(self.notice_version));
        let collection = self.collection.parse(&mut fields);
        if decision == Some(ConsentDecision::Refused) && self.valid_until.is_some() {
            fields.fail("valid_until", "a refusal has no validity period");
        }
        let validity = if self.given_at > now_ms {
            fields.fail("given_at", "must not be after the time of recording");
            None
        } else {
            match Validity::new(self.given_at, self.valid_until) {
                Err(e @ ValidityError::BeforeEpoch) => {
                    fields.fail("given_at", e.to_string());
                    None
                }
                Err(e @ ValidityError::EndsBeforeStart) => {
                    fields.fail("valid_until", e.to_string());
                    None
                }
                Ok(validity) => Some(validity),
            }
        };

        let (
            Some(subject),
            Some(purpose),
            Some(data_categories),
            Some(channel),
            Some(decision),
            Some(notice_id),
            Some(notice_version),
            Some(collection),
            Some(validity),
        ) = (
            subject,
            purpose,
            data_categories,
            channel,
            decision,
            notice_id,
            notice_version,
            collection,
            validity,
        )
        else {
            return Err(InvalidConsent {
                errors: fields.errors,
            });
        };
        // A grantor that failed its checks left its errors behind.
        if !fields.errors.is_empty() {
            return Err(InvalidConsent {
                errors: fields.errors,
            });
        }
        Ok(NewConsent {
            subject,
            grantor: grantor.flatten(),
            purpose,
            lawful_basis: LawfulBasis::Consent,
            data_categories,
            channel,
            decision,
            notice: NoticeRef {
                id: notice_id,
                version: notice_version,
            },
            collection,
            validity,
        })
    }

    fn parse_data_categories(&self, fields: &mut Fields) -> Option<Vec<DataCategory>> {
        if self.data_categories.is_empty() || self.data_categories.len() > MAX_DATA_CATEGORIES {
            fields.fail(
                "data_categories",
                format!("must list 1 to {MAX_DATA_CATEGORIES} categories"),
            );
            return None;
        }
        let mut parsed = Vec::with_capacity(self.data_categories.len());
        let mut all_ok = true;
        for (i, raw) in self.data_categories.iter().enumerate() {
            match fields.check(&format!("data_categories[{i}]"), DataCategory::parse(raw)) {
                Some(category) if parsed.contains(&category) => {
                    fields.fail(&format!("data_categories[{i}]"), "is listed twice");
                    all_ok = false;
                }
                Some(category) => parsed.push(category),
                None => all_ok = false,
            }
        }
        all_ok.then_some(parsed)
    }
}

impl CollectionRequest {
    /// The collection this describes, checked on its own (for example, one
    /// read back from storage, where it was kept as [`Collection`]'s JSON).
    pub fn to_collection(&self) -> Result<Collection, InvalidConsent> {
        let mut fields = Fields::default();
        match self.parse(&mut fields) {
            Some(collection) if fields.errors.is_empty() => Ok(collection),
            _ => Err(InvalidConsent {
                errors: fields.errors,
            }),
        }
    }

    fn parse(&self, fields: &mut Fields) -> Option<Collection> {
        let method = fields.check("collection.method", CollectionMethod::parse(&self.method))?;
        let mut evidence = |name: &str, raw: &Option<String>| -> Option<String> {
            let path = format!("collection.{name}");
            match (raw, method.required_evidence().contains(&name)) {
                (Some(raw), true) => Some(raw.clone()),
                (None, true) => {
                    fields.fail(&path, format!("is required for {method}"));
                    None
                }
                (Some(_), false) => {
                    fields.fail(&path, format!("is not used with {method}"));
                    None
                }
                (None, false) => None,
            }
        };
        let form_version = evidence("form_version", &self.form_version);
        let document_reference = evidence("document_reference", &self.document_reference);
        let officer_id = evidence("officer_id", &self.officer_id);
        let call_reference = evidence("call_reference", &self.call_reference);
        let message_id = evidence("message_id", &self.message_id);

        let mut reference = |name: &str, raw: Option<String>| {
            raw.and_then(|raw| fields.check(&format!("collection.{name}"), Reference::parse(&raw)))
        };
        let form_version = reference("form_version", form_version);
        let document_reference = reference("document_reference", document_reference);
        let call_reference = reference("call_reference", call_reference);
        let message_id = reference("message_id", message_id);
        let officer_id = officer_id
            .and_then(|raw| fields.check("collection.officer_id", OfficerId::parse(&raw)));

        Some(match method {
            CollectionMethod::PortalForm => Collection::PortalForm {
                form_version: form_version?,
            },
            CollectionMethod::PaperForm => Collection::PaperForm {
                form_version: form_version?,
                document_reference: document_reference?,
                officer_id: officer_id?,
            },
            CollectionMethod::PhoneCall => Collection::PhoneCall {
                call_reference: call_reference?,
                officer_id: officer_id?,
            },
            CollectionMethod::Counter => Collection::Counter {
                officer_id: officer_id?,
            },
            CollectionMethod::Email => Collection::Email {
                message_id: message_id?,
                officer_id: officer_id?,
            },
        })
    }
}
