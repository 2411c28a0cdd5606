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

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PurposeError {
    #[error("reading personal information needs a `purpose-of-use` header, one of: {0}")]
    Missing(String),
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

    /// The purpose a read is made for. Citizens reading their own record
    /// need not state one: theirs is `self-access` (APP 12).
    pub fn for_read(
        &self,
        caller: &Principal,
        header: Option<&str>,
    ) -> Result<String, PurposeError> {
        match header.map(str::trim).filter(|h| !h.is_empty()) {
            None if matches!(caller, Principal::Citizen { .. }) => Ok(SELF_ACCESS.to_string()),
            None => Err(PurposeError::Missing(self.allowed())),
            Some(given) if self.0.iter().any(|p| p == given) => Ok(given.to_string()),
            Some(SELF_ACCESS) if matches!(caller, Principal::Citizen { .. }) => {
                Ok(SELF_ACCESS.to_string())
            }
            Some(given) => Err(PurposeError::NotAllowed {
                given: given.to_string(),
                allowed: self.allowed(),
            }),
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
        assert_eq!(
            list.for_read(&staff, Some("case-management")),
            Ok("case-management".into())
        );
        assert_eq!(
            list.for_read(&staff, None),
            Err(PurposeError::Missing(
                "service-delivery, case-management".into()
            ))
        );
        assert!(matches!(
            list.for_read(&staff, Some("curiosity")),
            Err(PurposeError::NotAllowed { .. })
        ));
        assert!(matches!(
            list.for_read(&staff, Some(SELF_ACCESS)),
            Err(PurposeError::NotAllowed { .. })
        ));
        assert_eq!(list.for_read(&citizen, None), Ok(SELF_ACCESS.into()));
    }
}
