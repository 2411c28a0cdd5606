//! The `crm:types` WIT bindings, generated once: every component's
//! `wit_bindgen::generate!` maps `crm:types/types@0.1.0` here with `with:`,
//! so all of them share one `Channel`, `RequestContext` and `Actor`, and
//! the conversions below.

wit_bindgen::generate!({
    path: "../../wit/deps/crm-types",
    inline: "package crm:component-support;
             world types { import crm:types/types@0.1.0; }",
    with: { "crm:types/types@0.1.0": generate },
    generate_unused_types: true,
});

pub use self::crm::types::types::{Actor, Channel, RequestContext};

use crate::auth::Ctx;

impl From<Channel> for crm_domain::Channel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Portal => Self::Portal,
            Channel::Email => Self::Email,
            Channel::Sms => Self::Sms,
            Channel::Letter => Self::Letter,
            Channel::Phone => Self::Phone,
            Channel::Counter => Self::Counter,
            Channel::Video => Self::Video,
            Channel::Social => Self::Social,
            Channel::FieldVisit => Self::FieldVisit,
        }
    }
}

impl From<crm_domain::Channel> for Channel {
    fn from(channel: crm_domain::Channel) -> Self {
        use crm_domain::Channel as Domain;
        match channel {
            Domain::Portal => Self::Portal,
            Domain::Email => Self::Email,
            Domain::Sms => Self::Sms,
            Domain::Letter => Self::Letter,
            Domain::Phone => Self::Phone,
            Domain::Counter => Self::Counter,
            Domain::Video => Self::Video,
            Domain::Social => Self::Social,
            Domain::FieldVisit => Self::FieldVisit,
        }
    }
}

/// The spelling of a `crm:types` channel (`field-visit`).
pub fn channel_name(channel: Channel) -> &'static str {
    crm_domain::Channel::from(channel).as_str()
}

/// The `crm:types` channel spelled `name` exactly, if there is one.
pub fn parse_channel(name: &str) -> Option<Channel> {
    crm_domain::Channel::parse(name).ok().map(Channel::from)
}

/// `ctx`'s verified caller, to pass into another capability's interface.
pub fn request_context(ctx: &Ctx) -> RequestContext {
    RequestContext {
        request_id: ctx.request_id.clone(),
        actor: Actor {
            id: ctx.actor_id(),
            role: ctx.role().to_string(),
        },
        purpose: ctx.purpose().map(|p| p.as_str().to_string()),
    }
}
