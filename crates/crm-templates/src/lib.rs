//! Notification templates as GOV.UK Notify writes them: `((placeholder))`
//! and `((flag??text))` in a subject and body, parsed once, validated with
//! positions, and rendered with a caller's personalisation.
//!
//! - email and portal messages: one-line subject, plain-text body and an
//!   HTML body in which only the template has markup or links;
//! - text messages: plain text with its GSM-7/UCS-2 length in fragments;
//! - letters: subject and body as for email, plus a validated postal
//!   address from `address_line_1` … `address_line_7`.

mod address;
mod field;
mod fill;
mod markdown;
mod personalisation;
mod sms;
mod template;

pub use address::{AddressError, Destination, PostalAddress};
pub use field::{Position, SyntaxError, SyntaxProblem};
pub use personalisation::{Personalisation, PersonalisationError, Value};
pub use sms::{SMS_CHARACTER_LIMIT, SmsEncoding, SmsLength, sms_length};
pub use template::{
    EMAIL_BYTE_LIMIT, FieldName, FieldSyntaxError, LetterMessage, RenderError, Rendered,
    RichMessage, SmsMessage, Template, TemplateError, TemplateType,
};
