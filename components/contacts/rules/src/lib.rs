//! The contact record kept by `contact-intake` (issue 4), as plain Rust so
//! that the rules are tested natively and the benchmark's generator writes
//! exactly what the component writes:
//!
//! - [`fields`]: the JSON shape of a contact, in and out;
//! - [`contact`]: validation into domain types, normalised fields, the
//!   matching profile;
//! - [`collection`]: per-field provenance and the consent rule for optional
//!   fields;
//! - [`change`]: corrections and merges;
//! - [`index`]: match keys, name-search terms, labels;
//! - [`store`]: the SQL of each write; [`search`]: the SQL of each search;
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
pub mod store;

pub use contact::{Contact, validate};
pub use fields::ContactFields;
