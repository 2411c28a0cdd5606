//! Leaf component: the audit trail's append, exported as
//! `crm:audit/trail@0.1.0` for other components to plug in.

use crm_audit_chain::{Entry, GENESIS};
use crm_component_support::{integer, open_db, query, text, transaction};
use crm_http::Problem;
use spin_sdk::sqlite::{Connection, Value};

wit_bindgen::generate!({
    path: "../../wit",
    world: "crm:components/audit-core",
    generate_all,
});

use exports::crm::audit::trail::{Event, Guest, Outcome, Receipt};

struct AuditCore;

impl Guest for AuditCore {
    fn append(event: Event) -> Result<Receipt, String> {
        let mut receipts = append_all(std::slice::from_ref(&event))?;
        Ok(receipts.remove(0))
    }

    fn append_many(events: Vec<Event>) -> Result<Vec<Receipt>, String> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        append_all(&events)
    }
}

/// Appends `events` in order in one transaction. The schema is brought up
/// to date only when an append fails, since the component asking has almost
/// always migrated already: that saves a statement on every audited request.
fn append_all(events: &[Event]) -> Result<Vec<Receipt>, String> {
    let db = Connection::open_default().map_err(|e| format!("opening the database: {e}"))?;
    match append_on(&db, events) {
        Ok(receipts) => Ok(receipts),
        // Rolled back, so nothing was appended: migrate and try once more.
        Err(_) => {
            let migrated = open_db().map_err(|p| p.detail)?;
            append_on(&migrated, events).map_err(|p| p.detail)
        }
    }
}

/// The write lock makes reading the last link and extending the chain one
/// step.
fn append_on(db: &Connection, events: &[Event]) -> Result<Vec<Receipt>, Problem> {
    transaction(db, |db| {
        let last = query(
            db,
            "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1",
            &[],
        )?;
        let (mut sequence, mut prev_hash) = match last.rows.first() {
            Some(row) => (
                integer(&row.values[0]).unwrap_or(0) as u64,
                text(&row.values[1]).unwrap_or_default(),
            ),
            None => (0, GENESIS.to_string()),
        };
        let recorded_at = crm_component_support::now_ms();
        events
            .iter()
            .map(|event| {
                sequence += 1;
                let receipt = insert(db, event, sequence, &prev_hash, recorded_at)?;
                prev_hash = receipt.hash.clone();
                Ok(receipt)
            })
            .collect()
    })
}

fn insert(
    db: &Connection,
    event: &Event,
    sequence: u64,
    prev_hash: &str,
    recorded_at: i64,
) -> Result<Receipt, Problem> {
    let outcome = match event.outcome {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
        Outcome::Failed => "failed",
    };
    let context = &event.context;
    let entry = Entry {
        sequence,
        recorded_at,
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
    let hash = entry.hash(prev_hash);
    let optional = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Text);
    query(
        db,
        "INSERT INTO audit_entries (sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, subject_contact_id, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Integer(sequence as i64),
            Value::Integer(recorded_at),
            Value::Text(context.request_id.clone()),
            Value::Text(context.actor.id.clone()),
            Value::Text(context.actor.role.clone()),
            optional(&context.purpose),
            Value::Text(event.action.clone()),
            Value::Text(event.resource.clone()),
            Value::Text(outcome.to_string()),
            optional(&event.subject_contact),
            optional(&event.detail),
            Value::Text(prev_hash.to_string()),
            Value::Text(hash.clone()),
        ],
    )?;
    Ok(Receipt {
        sequence,
        hash,
        recorded_at,
    })
}

export!(AuditCore);
