//! Leaf component: the audit trail's append, exported as
//! `crm:audit/trail@0.1.0` for other components to plug in.

use crm_audit_chain::{Entry, GENESIS};
use crm_component_support::{integer, open_db, query, text, transaction};
use spin_sdk::sqlite::Value;

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/audit-core",
    generate_all,
});

use exports::crm::audit::trail::{Event, Guest, Outcome, Receipt};

struct AuditCore;

impl Guest for AuditCore {
    fn append(event: Event) -> Result<Receipt, String> {
        let db = open_db().map_err(|p| p.detail)?;
        let outcome = match event.outcome {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        };
        let context = &event.context;
        // The write lock makes reading the last link and appending one step.
        transaction(&db, |db| {
            let last = query(db, "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1", &[])?;
            let (sequence, prev_hash) = match last.rows.first() {
                Some(row) => (
                    integer(&row.values[0]).unwrap_or(0) as u64 + 1,
                    text(&row.values[1]).unwrap_or_default(),
                ),
                None => (1, GENESIS.to_string()),
            };
            let entry = Entry {
                sequence,
                recorded_at: crm_component_support::now_ms(),
                request_id: &context.request_id,
                actor_id: &context.actor.id,
                role: &context.actor.role,
                purpose: context.purpose.as_deref(),
                action: &event.action,
                resource: &event.resource,
                outcome,
                subject_contact_id: event.subject_contact.as_deref(),
                detail: event.detail.as_deref(),
            };
            let hash = entry.hash(&prev_hash);
            query(
                db,
                "INSERT INTO audit_entries (sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, subject_contact_id, detail, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    Value::Integer(sequence as i64),
                    Value::Integer(entry.recorded_at),
                    Value::Text(context.request_id.clone()),
                    Value::Text(context.actor.id.clone()),
                    Value::Text(context.actor.role.clone()),
                    context.purpose.clone().map_or(Value::Null, Value::Text),
                    Value::Text(event.action.clone()),
                    Value::Text(event.resource.clone()),
                    Value::Text(outcome.to_string()),
                    event.subject_contact.clone().map_or(Value::Null, Value::Text),
                    event.detail.clone().map_or(Value::Null, Value::Text),
                    Value::Text(prev_hash.clone()),
                    Value::Text(hash.clone()),
                ],
            )?;
            Ok(Receipt { sequence, hash, recorded_at: entry.recorded_at })
        })
        .map_err(|p| p.detail)
    }
}

export!(AuditCore);
