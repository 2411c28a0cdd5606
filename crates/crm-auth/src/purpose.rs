//! Purpose of use: a read of personal information says why, in the
//! `purpose-of-use` header, from a configured list.

use thiserror::Error;

use crate::policy::Principal;

/// The request header that carries the purpose of use.
pub const HEADER: &str = "purpose-of-use";

/// What a citizen reading their own information is taken to be doing.
pub const SELF_ACCESS: &str = "self-access";

/// The configured purposes, e.g. from the `purposes_of_use` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeList(Vec<String>);

/// A purpose of use a request stated, checked: one of the configured list,
/// or `self-access` for a citizen. Only [`PurposeList::stated`] and
/// [`PurposeList::for_read`] make one, so no unchecked header is taken for
/// a purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose(String);

impl Purpose {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most characters of a refused header an error repeats.
const SHOWN_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PurposeError {
    #[error("reading personal information needs a `purpose-of-use` header, one of: {0}")]
    Missing(String),
    /// `given` is the header's first characters, escaped.
    #[error("purpose of use `{given}` is not one of: {allowed}")]
    NotAllowed { given: String, allowed: String },
}

impl PurposeList {
    /// Parses a comma-separated list; blanks are ignored.
    pub fn parse(csv: &str) -> Self {
        Self(
            csv.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    fn allowed(&self) -> String {
        self.0.join(", ")
    }

    /// The purpose a request's header states, if it states one: on any
    /// request, one of the list (or a citizen's `self-access`).
    pub fn stated(
        &self,
        caller: &Principal,
        header: Option<&str>,
    ) -> Result<Option<Purpose>, PurposeError> {
        match header.map(str::trim).filter(|h| !h.is_empty()) {
            None => Ok(None),
            Some(given) if self.0.iter().any(|p| p == given) => Ok(Some(Purpose(given.into()))),
            Some(SELF_ACCESS) if matches!(caller, Principal::Citizen { .. }) => {
                Ok(Some(Purpose(SELF_ACCESS.into())))
            }
            Some(given) => Err(PurposeError::NotAllowed {
                given: given
                    .chars()
                    .take(SHOWN_CHARS)
                    .flat_map(char::escape_debug)
                    .collect(),
                allowed: self.allowed(),
            }),
        }
    }

    /// The purpose a read is made for: the one `stated`. Citizens reading
    /// their own record need not state one: theirs is `self-access` (APP 12).
    pub fn for_read(
        &self,
        caller: &Principal,
        stated: Option<&Purpose>,
    ) -> Result<Purpose, PurposeError> {
        match stated {
            Some(purpose) => Ok(purpose.clone()),
            None if matches!(caller, Principal::Citizen { .. }) => Ok(Purpose(SELF_ACCESS.into())),
            None => Err(PurposeError::Missing(self.allowed())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;

    #[test]
    fn staff_reads_need_a_listed_purpose_and_citizens_default_to_self_access() {
        let list = PurposeList::parse("service-delivery, case-management,,");
        let staff = Principal::Staff {
            subject: "s".into(),
            roles: vec![Role::CaseWorker],
        };
        let citizen = Principal::Citizen {
            subject: "c".into(),
            contact_id: Some("con_1".into()),
        };
        let stated = list.stated(&staff, Some(" case-management ")).unwrap();
        assert_eq!(
            stated.as_ref().map(Purpose::as_str),
            Some("case-management")
        );
        assert_eq!(
            list.for_read(&staff, stated.as_ref()).unwrap().as_str(),
            "case-management"
        );
        assert_eq!(list.stated(&staff, Some("  ")), Ok(None));
        assert_eq!(
            list.for_read(&staff, None),
            Err(PurposeError::Missing(
                "service-delivery, case-management".into()
            ))
        );
        assert!(matches!(
            list.stated(&staff, Some("curiosity")),
            Err(PurposeError::NotAllowed { .. })
        ));
        assert!(matches!(
            list.stated(&staff, Some(SELF_ACCESS)),
            Err(PurposeError::NotAllowed { .. })
        ));
        assert_eq!(
            list.stated(&citizen, Some(SELF_ACCESS))
                .unwrap()
                .unwrap()
                .as_str(),
            SELF_ACCESS
        );
        assert_eq!(list.for_read(&citizen, None).unwrap().as_str(), SELF_ACCESS);
    }

    #[test]
    fn a_refused_purpose_is_repeated_short_and_escaped() {
        let list = PurposeList::parse("service-delivery");
        let staff = Principal::Staff {
            subject: "s".into(),
            roles: vec![Role::CaseWorker],
        };
        let huge = format!("\u{1}{}", "p".repeat(100_000));
        let error = list.stated(&staff, Some(&huge)).unwrap_err().to_string();
        assert!(error.len() < 200, "{error}");
        assert!(error.contains("`\\u{1}ppp"), "{error}");
    }
}
