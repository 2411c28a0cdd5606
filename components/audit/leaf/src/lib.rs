//! Leaf component: the audit trail's append, exported as
//! `crm:audit/trail@0.1.0` for other components to plug in. The chain and
//! its table are `audit-store`'s.

use audit_store::NewEntry;
use crm_component_support::{migrating_on_failure, now_ms};
use crm_http::Problem;
use spin_sdk::sqlite::Connection;

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
    let entries: Vec<NewEntry> = events.iter().map(new_entry).collect();
    let db = Connection::open_default().map_err(|e| format!("opening the database: {e}"))?;
    // A failed statement appended nothing, so any failure may be retried.
    let (_, appended) =
        migrating_on_failure(db, |_| true, |db| audit_store::append(db, &entries, now_ms))
            .map_err(|p| p.detail)?;
    let receipts = appended.map_err(|e| Problem::from(e).detail)?;
    Ok(receipts
        .into_iter()
        .map(|r| Receipt {
            sequence: r.sequence,
            hash: r.hash,
            recorded_at: r.recorded_at,
        })
        .collect())
}

fn new_entry(event: &Event) -> NewEntry<'_> {
    let context = &event.context;
    NewEntry {
        request_id: &context.request_id,
        actor_id: &context.actor.id,
        role: &context.actor.role,
        purpose: context.purpose.as_deref(),
        action: &event.action,
        resource: &event.resource,
        outcome: match event.outcome {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        },
        subject_contact_id: event.subject_contact.as_deref(),
        detail: event.detail.as_deref(),
    }
}

export!(AuditCore);
