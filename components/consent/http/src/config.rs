//! The component's own Spin variables (see `spin.toml`).

use consent_rules::{Controller, LinkKeyring, LinkKeysError};
use crm_domain::ShortText;
use crm_http::Problem;
use serde::Deserialize;

/// `<key id>:<base64 secret>` entries; the first signs links, all verify.
const LINK_KEYS: &str = "consent_link_keys";
/// The public base URL links point at.
const LINK_BASE_URL: &str = "consent_link_base_url";
/// JSON naming the controller in receipts.
const CONTROLLER: &str = "consent_receipt_controller";

fn variable(name: &str) -> Result<String, Problem> {
    spin_sdk::variables::get(name)
        .map_err(|e| Problem::internal(format!("configuration variable `{name}`: {e}")))
}

/// The unsubscribe link keys. Unset, links are neither minted nor honoured:
/// there is no development default, because a published key would let
/// anyone withdraw anyone's consent.
pub fn link_keys() -> Result<LinkKeyring, Problem> {
    LinkKeyring::parse(&variable(LINK_KEYS)?).map_err(|e| {
        let detail = match e {
            LinkKeysError::Unset => format!(
                "one-click unsubscribe links are off: set the secret variable `{LINK_KEYS}` \
                 (for example SPIN_VARIABLE_CONSENT_LINK_KEYS=k1:$(openssl rand -base64 32))"
            ),
            other => format!("`{LINK_KEYS}`: {other}"),
        };
        Problem::unavailable(detail).with_kind(
            "unsubscribe-links-unavailable",
            "Unsubscribe links unavailable",
        )
    })
}

pub fn link_base_url() -> Result<String, Problem> {
    variable(LINK_BASE_URL)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControllerConfig {
    name: String,
    contact: String,
    jurisdiction: String,
    withdrawal_method: String,
}

/// The agency as controller, for receipts.
pub fn controller() -> Result<Controller, Problem> {
    let bad = |reason: String| Problem::internal(format!("`{CONTROLLER}`: {reason}"));
    let config: ControllerConfig =
        serde_json::from_str(&variable(CONTROLLER)?).map_err(|e| bad(e.to_string()))?;
    let text = |raw: &str| ShortText::parse(raw, 500).map_err(|e| bad(e.0));
    Ok(Controller {
        name: text(&config.name)?,
        contact: text(&config.contact)?,
        jurisdiction: text(&config.jurisdiction)?,
        withdrawal_method: text(&config.withdrawal_method)?,
    })
}
