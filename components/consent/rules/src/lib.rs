//! The pure logic of the `consent` component: the purpose and privacy notice
//! catalogues, consent records that are never overwritten, the consent check,
//! do-not-contact suppressions, receipts with ISO/IEC TS 27560 field names and
//! an RFC 8785 digest, and signed one-click unsubscribe links.
//!
//! Nothing here reads a clock or a random source: callers pass times
//! (`*_ms`, milliseconds since the Unix epoch, UTC), ids and nonces in.

mod text;

mod catalogue;
mod consent;
mod decision;
mod events;
mod jcs;
mod lifecycle;
mod link;
mod outbox;
mod receipt;
mod record;
mod stored;
mod suppression;

#[cfg(test)]
mod tests;

pub use catalogue::{
    LanguageTag, LawfulBasis, NoticeContent, NoticeError, NoticeId, NoticeRef, NoticeVersion,
    PrivacyNotice, Purpose, PurposeCategory, PurposeError, PurposeId, check_next_version,
};
pub use consent::{
    Channel, Collection, CollectionMethod, CollectionRequest, ConsentDecision, ConsentRequest,
    Grantor, GrantorRequest, InvalidConsent, NewConsent, Relationship, Validity, ValidityError,
};
pub use crm_domain::{ContactId, OfficerId};
pub use decision::{Decision, Reason, decide};
pub use events::{Actor, ConsentEvent, EventKind, Via};
pub use jcs::{JcsError, canonicalize};
pub use lifecycle::{
    Appended, PlanError, RecordPlan, note_expiry, plan_record, plan_unsubscribe, plan_withdrawal,
};
pub use link::{
    KeyId, LinkError, LinkKey, LinkKeyring, LinkKeysError, Nonce, UNSUBSCRIBE_PATH,
    UnsubscribeClaims, WeakLinkKey, redeem_unsubscribe, sign_unsubscribe, unsubscribe_url,
    verify_unsubscribe,
};
pub use outbox::{CONSENT_WITHDRAWN, ConsentWithdrawn};
pub use receipt::{
    Controller, DIGEST_FIELD, ReceiptError, SCHEMA_VERSION, build_receipt, receipt_digest,
    verify_receipt,
};
pub use record::{ConsentRecord, Status, current_records, ruling_record, status_at};
pub use stored::{
    CorruptRow, MAX_NOTICE_TITLE_CHARS, StoredEvent, StoredNotice, StoredRecord, stored_purpose,
    stored_suppression,
};
pub use suppression::{Suppression, SuppressionReason, active_suppression};
pub use text::{DataCategory, RecordId, Reference};
