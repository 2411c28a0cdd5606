//! Leaf component: the audit trail's append, exported as
//! `crm:audit/trail@0.1.0` for other components to plug in.

use audit_chain::{Entry, GENESIS};
use crm_component_support::{integer, migrating_on_failure, query, text};
use crm_http::Problem;
use spin_sdk::sqlite::{Connection, Value};

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audit-leaf",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
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

/// Appends `events` in order, all or none; the schema is brought up to
/// date only if that fails.
fn append_all(events: &[Event]) -> Result<Vec<Receipt>, String> {
    let db = Connection::open_default().map_err(|e| format!("opening the database: {e}"))?;
    // A failed statement appended nothing, so any failure may be retried.
    let (_, appended) =
        migrating_on_failure(db, |_| true, |db| append_on(db, events)).map_err(|p| p.detail)?;
    appended.map_err(|p| p.detail)
}

/// Columns of an audit entry, in the order [`entry_values`] gives them.
const COLUMNS: &str = "sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, subject_contact_id, detail, prev_hash, hash";

/// Attempts an append may lose to others before it gives up (each lost
/// attempt means another append succeeded, so the chain moves on).
const MAX_ATTEMPTS: usize = 100;

/// Extends the chain from its tip with one guarded statement: the INSERT
/// adds nothing if another append extended the chain since the tip was
/// read, and then the append reads the new tip and tries again. So no
/// transaction stays open while the entries are hashed, and the write lock
/// is held for one statement.
fn append_on(db: &Connection, events: &[Event]) -> Result<Vec<Receipt>, Problem> {
    // SQLite's NORMAL, on whichever connection appends (a freshly migrated
    // one too): a read's entry is in the WAL when the read is answered,
    // where it survives a crash of the runtime, and reaches the disk
    // moments later, so a read waits for no sync of its own. A request that
    // changes data commits FULL, and is answered only once its entries are
    // durable too (crm-host settles a request's NORMAL commits with its FULL
    // ones; in rollback-journal mode NORMAL syncs at commit anyway).
    query(db, "PRAGMA synchronous = NORMAL", &[])?;
    let insert = format!(
        "INSERT INTO audit_entries ({COLUMNS}) SELECT * FROM (VALUES {}) \
         WHERE NOT EXISTS (SELECT 1 FROM audit_entries WHERE sequence > ?) RETURNING sequence",
        vec![format!("({})", ["?"; 13].join(", ")); events.len()].join(", ")
    );
    for _ in 0..MAX_ATTEMPTS {
        let tip = query(
            db,
            "SELECT sequence, hash, recorded_at FROM audit_entries ORDER BY sequence DESC LIMIT 1",
            &[],
        )?;
        let (tip_sequence, mut prev_hash, tip_recorded_at) = match tip.rows.first() {
            Some(row) => (
                integer(&row.values[0]).unwrap_or(0) as u64,
                text(&row.values[1]).unwrap_or_default(),
                integer(&row.values[2]).unwrap_or(0),
            ),
            None => (0, GENESIS.to_string(), 0),
        };
        // Never earlier than the entry before: times follow the chain.
        let recorded_at = crm_component_support::now_ms().max(tip_recorded_at);
        let mut params = Vec::with_capacity(events.len() * 13 + 1);
        let mut receipts = Vec::with_capacity(events.len());
        for (sequence, event) in (tip_sequence + 1..).zip(events) {
            let receipt = entry_values(event, sequence, &prev_hash, recorded_at, &mut params);
            prev_hash = receipt.hash.clone();
            receipts.push(receipt);
        }
        params.push(Value::Integer(tip_sequence as i64));
        if !query(db, &insert, &params)?.rows.is_empty() {
            return Ok(receipts);
        }
    }
    Err(Problem::unavailable(
        "the audit trail is too busy to append to; try again",
    ))
}

/// Hashes `event` as entry `sequence` after `prev_hash`, pushes its column
/// values (in [`COLUMNS`] order) and answers its receipt.
fn entry_values(
    event: &Event,
    sequence: u64,
    prev_hash: &str,
    recorded_at: i64,
    params: &mut Vec<Value>,
) -> Receipt {
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
    params.extend([
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
    ]);
    Receipt {
        sequence,
        hash,
        recorded_at,
    }
}

export!(AuditCore);
