//! The contact record kept by `contact-intake` (issue 4), as plain Rust so
//! that the rules are tested natively (`contacts-store` keeps what they
//! make in SQLite):
//!
//! - [`fields`]: the JSON shape of a contact, in and out;
//! - [`contact`]: validation into domain types, normalised fields, the
//!   matching profile;
//! - [`collection`]: per-field provenance and the consent rule for optional
//!   fields;
//! - [`change`]: corrections and merges;
//! - [`index`]: match keys, name-search terms, labels;
//! - [`search`]: search filters checked into a plan, and export paging;
//! - [`csv`] and [`bulk`]: import and export;
//! - [`reach`]: how to reach a contact.

pub mod bulk;
pub mod change;
pub mod collection;
pub mod contact;
pub mod csv;
pub mod fields;
pub mod index;
pub mod reach;
pub mod search;

pub use contact::{Contact, validate};
pub use fields::ContactFields;
