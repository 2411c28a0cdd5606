//! Domain newtypes: a value of one of these types has passed its checks,
//! because parsing is the only way to make one. Refusals carry a reason
//! written for the person filling in the field; composite values report every
//! refused field by name.

mod address;
mod archetype;
mod business;
mod channel;
mod country;
mod date;
mod email;
mod error;
mod identifier;
mod ids;
mod name;
mod phone;
mod preference;
mod provenance;
mod relationship;
mod rfc3339;
mod text;
mod url;
mod vocabulary;

pub use address::{
    Address, AddressInput, AddressKind, AustralianState, CountryCode, Postcode, Region,
};
pub use archetype::Archetype;
pub use business::{Abn, Acn};
pub use channel::{Channel, PreferredChannel};
pub use date::{
    CalendarDate, DateOfBirth, civil_from_days, days_from_civil, days_in_month, is_leap,
};
pub use email::Email;
pub use error::{FieldError, FieldErrors, Invalid};
pub use identifier::AgencyIdentifier;
pub use ids::{ContactId, OfficerId};
pub use name::{NamePart, OrganisationName, PersonName};
pub use phone::PhoneE164;
pub use preference::{AccessibilityNeeds, LanguageTag};
pub use provenance::{Collected, NoticeVersion, Provenance};
pub use relationship::RelationshipKind;
pub use rfc3339::{parse_rfc3339_ms, parse_rfc3339_ms_lenient, rfc3339_utc};
pub use text::{Lines, ShortText, Slug, Tag, check_text};
pub use url::HttpsUrl;

/// For [`vocabulary!`]'s `Serialize` impls.
#[doc(hidden)]
pub use serde as __serde;
