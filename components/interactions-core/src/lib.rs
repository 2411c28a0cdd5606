//! Leaf component: the interaction log's append, exported as
//! `crm:interactions/log@0.1.0`. Interactions are never rewritten.

use crm_component_support::{new_id, now_ms, open_db, query};
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/interactions-core",
    generate_all,
});

use crm::types::types::Channel;
use exports::crm::interactions::log::{Direction, Guest, NewInteraction};

crm_component_support::channel_names!(Channel);

struct InteractionsCore;

impl Guest for InteractionsCore {
    fn append(interaction: NewInteraction) -> Result<String, String> {
        if interaction.contact_id.trim().is_empty() {
            return Err("contact-id: must not be empty".into());
        }
        if interaction.subject.trim().is_empty() {
            return Err("subject: must not be empty".into());
        }
        let db = open_db().map_err(|p| p.detail)?;
        let id = new_id("int");
        let direction = match interaction.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        };
        query(
            &db,
            "INSERT INTO interactions (id, contact_id, channel, direction, occurred_at, recorded_at, subject, notes, notification_id, actor_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Value::Text(id.clone()),
                Value::Text(interaction.contact_id),
                Value::Text(channel_name(interaction.channel).to_string()),
                Value::Text(direction.to_string()),
                Value::Integer(interaction.occurred_at),
                Value::Integer(now_ms()),
                Value::Text(interaction.subject),
                interaction.notes.map_or(Value::Null, Value::Text),
                interaction.notification_id.map_or(Value::Null, Value::Text),
                Value::Text(interaction.context.actor.id),
            ],
        )
        .map_err(|p| p.detail)?;
        Ok(id)
    }
}

export!(InteractionsCore);
