//! "Tell us once": finding the contacts a new contact may already be.
//!
//! [`match_keys`] gives the index keys a contact is filed under and looked up
//! by; [`score`] compares the new contact with each contact found, and says
//! why they may be the same.

mod keys;
mod metaphone;
mod normalise;
mod profile;
mod score;
#[cfg(test)]
mod test_support;

pub use keys::{KeyKind, MATCH_KEY_VERSION, MatchKey, match_keys};
pub use metaphone::{PhoneticCodes, double_metaphone};
pub use normalise::{normalise_name, normalise_organisation_name};
pub use profile::MatchProfile;
pub use score::{DateDifference, MATCH_THRESHOLD, MatchCandidate, MatchReason, score};
