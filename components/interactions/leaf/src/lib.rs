//! Leaf component: the interaction log's append, exported as
//! `crm:interactions/log@0.1.0` for components that record touchpoints (the
//! notification component records each send through it). The input is
//! validated by `interactions-rules` and appended by `interactions-store`,
//! the same path as `POST /api/interactions`, onto the same per-contact chain.

use crm_component_support::{new_id, now_ms, open_db};
use crm_domain::rfc3339_utc;
use crm_http::IdempotencyKey;
use interactions_rules::values::{EntryId, OfficerId};
use interactions_rules::{NewInteraction as ValidInteraction, RawInteraction};

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/interactions-leaf",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

use crm_component_support::wit::channel_name;
use exports::crm::interactions::log::{Direction, Guest, NewInteraction};

/// The category of an interaction appended without one (the interface lets
/// callers leave it out; the log files every interaction under one).
const DEFAULT_CATEGORY: &str = "general";

struct InteractionsCore;

impl Guest for InteractionsCore {
    fn append(interaction: NewInteraction) -> Result<String, String> {
        let recorded_at = now_ms();
        let actor = interaction.context.actor.id;
        // Who acted is who recorded it, and (the interface has no officer)
        // who dealt with the contact.
        let raw = RawInteraction {
            contact_id: Some(interaction.contact_id),
            channel: Some(channel_name(interaction.channel).to_string()),
            direction: Some(
                match interaction.direction {
                    Direction::Inbound => "inbound",
                    Direction::Outbound => "outbound",
                }
                .to_string(),
            ),
            occurred_at: Some(rfc3339_utc(interaction.occurred_at)),
            officer_id: Some(actor.clone()),
            category: Some(
                interaction
                    .category
                    .unwrap_or_else(|| DEFAULT_CATEGORY.to_string()),
            ),
            tags: interaction.tags,
            case_reference: interaction.case_reference,
            subject: Some(interaction.subject),
            notes: interaction.notes,
            outcome: interaction.outcome,
            notification_id: interaction.notification_id,
            documents: Vec::new(),
        };
        let source = interaction.source_id;
        let valid = ValidInteraction::parse(&raw, recorded_at).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let recorded_by =
            OfficerId::parse(&actor).map_err(|e| format!("context.actor.id: {}", e.0))?;
        let id = EntryId::parse(&new_id("int")).map_err(|e| e.0)?;
        let db = open_db().map_err(|p| p.detail)?;
        // One touchpoint per notification or other source: a caller that
        // crashed after appending and before noting the id appends again,
        // and gets the first entry's id back.
        let key = match &source {
            Some(source) => once_key("source", source)?,
            None => match valid.facts().notification_id.as_ref() {
                Some(notification) => once_key("notification", notification.as_str())?,
                None => None,
            },
        };
        interactions_store::append_interaction_once(&db, id, recorded_by, valid, key.as_ref())
            .map(|appended| appended.record.entry.id.to_string())
            .map_err(|e| e.to_string())
    }
}

/// The idempotency key an interaction caused by `id` (a notification, or
/// another `kind` of source) is appended under: scoped to this interface
/// and the kind, fingerprinting only the id, so a retry whose details moved
/// on (a later status) still finds the first.
fn once_key(kind: &str, id: &str) -> Result<Option<IdempotencyKey>, String> {
    IdempotencyKey::new(
        id,
        &[b"crm:interactions/log", kind.as_bytes()],
        &[id.as_bytes()],
    )
    .map(Some)
    .map_err(|e| format!("{kind}-id: {e}"))
}

export!(InteractionsCore);
