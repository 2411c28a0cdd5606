//! A leaf that breaks the composition rule on purpose: it exports
//! `crm:consent/decisions` but imports `crm:audit/trail` itself. Spin does not
//! resolve a dependency's own `crm:*` imports, so an app using it must not start.

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package crm-test:relay;
        world relay {
            import crm:audit/trail@0.1.0;
            export crm:consent/decisions@0.1.0;
        }
    ",
    world: "crm-test:relay/relay",
    generate_all,
});

use crm::audit::trail::{Event, Outcome, append};
use crm::types::types::{Actor, Channel, RequestContext};
use exports::crm::consent::decisions::{Decision, Guest};

struct Relay;

impl Guest for Relay {
    fn check(
        contact: String,
        purpose: String,
        _channel: Channel,
        _at: i64,
    ) -> Result<Decision, String> {
        let event = Event {
            context: RequestContext {
                request_id: "relay".into(),
                actor: Actor {
                    id: "relay".into(),
                    role: "test".into(),
                },
                purpose: Some(purpose),
            },
            action: "consent.check".into(),
            resource: format!("contact/{contact}"),
            outcome: Outcome::Allowed,
            subject_contact: Some(contact),
            detail: None,
        };
        append(&event)?;
        Ok(Decision {
            permitted: true,
            consent_id: None,
            reason: "relayed".into(),
        })
    }
}

export!(Relay);
