//! What the signed-in staff member's roles let them do, so a page offers
//! only the actions and sections the API would allow them. The roles are
//! read from their token's roles claim (`auth_roles_claim`), the one the
//! API reads, through the API's own role-to-action matrix; the API still
//! decides every request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_auth::policy::{Action, Grant, Role};
use serde_json::Value;
use web_pages::staff::details::Identifying;

pub struct Permissions(Vec<Role>);

impl Permissions {
    /// The roles `token` (a JWT the session holds) names.
    pub fn of(token: &str) -> Self {
        let claim = spin_sdk::variables::get("auth_roles_claim")
            .ok()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "roles".to_string());
        let claims: Value = token
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self(
            claims[claim.as_str()]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str().and_then(Role::parse))
                .collect(),
        )
    }

    /// Whether one of the roles holds `action` on any record.
    pub fn may(&self, action: Action) -> bool {
        self.0.iter().any(|role| action.grant(*role) == Grant::Any)
    }

    /// Whether they see a contact's date of birth and identifiers.
    pub fn identifying(&self) -> Identifying {
        if self.may(Action::ContactReadIdentifiers) {
            Identifying::Shown
        } else {
            Identifying::Hidden
        }
    }
}
