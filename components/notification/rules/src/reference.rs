//! The sender's own `reference` for a message, returned with it and in
//! status callbacks.

use crm_domain::{Invalid, Lines, check_text};

/// The longest reference kept: our bound (the Notify contract in
/// ../shared/reference/govuk-notify.md states none), far above any case or
/// batch reference a sender would use.
pub const MAX_REFERENCE_CHARS: usize = 1_000;

/// A reference is one line of at most [`MAX_REFERENCE_CHARS`] characters,
/// kept as sent.
pub fn check_reference(raw: &str) -> Result<(), Invalid> {
    check_text(raw, MAX_REFERENCE_CHARS, Lines::One)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_one_bounded_line() {
        assert_eq!(check_reference(""), Ok(()));
        assert_eq!(check_reference(&"r".repeat(1000)), Ok(()));
        assert_eq!(
            check_reference(&"r".repeat(1001)).unwrap_err().0,
            "must be at most 1000 characters"
        );
        for refused in ["ref\u{0}1", "ref\n1", "ref\u{9b}"] {
            assert!(check_reference(refused).is_err(), "{refused:?}");
        }
    }
}
