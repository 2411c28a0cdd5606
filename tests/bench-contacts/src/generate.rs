//! Fills an app database with contacts directly, through `contacts-rules`
//! and `contacts-store`: the same validation, normalisation, match keys,
//! search rows, version rows and outbox events as `contact-intake` writes,
//! run with rusqlite in large transactions.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use contacts_rules::collection::{FieldProvenance, ProvenanceMap, restamp};
use contacts_rules::index::index_entries;
use contacts_store::{Change, VersionMeta, Written};
use rusqlite::Connection;

use crate::people;

/// The seed of generated contacts (intake uses another).
pub const SEED: u64 = 1;
const BATCH: u64 = 20_000;

/// The id of generated contact `n`.
pub fn id(n: u64) -> String {
    format!("con_gen{n:025}")
}

/// How many contacts the database at `path` holds (0 when there is none).
pub fn existing(path: &Path) -> Result<u64> {
    if !path.exists() {
        return Ok(0);
    }
    let db = Connection::open(path)?;
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))
        .unwrap_or(0);
    Ok(n as u64)
}

/// Generates contacts `from..to` into the database at `path`.
pub fn generate(path: &Path, from: u64, to: u64) -> Result<()> {
    let db = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    // Bulk load: durability comes from the final checkpoint.
    db.pragma_update(None, "synchronous", "OFF")?;
    db.set_prepared_statement_cache_capacity(256);
    crm_migrations::migrate(&db).map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = crm_domain::CalendarDate::parse("2026-11-24").expect("a date");
    let started = Instant::now();
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        let tx = db.unchecked_transaction()?;
        for n in i..end {
            write_one(&tx, n, today)?;
        }
        tx.commit()?;
        i = end;
        let done = i - from;
        let rate = done as f64 / started.elapsed().as_secs_f64();
        eprintln!("generated {i} contacts ({rate:.0}/s)");
    }
    // No ANALYZE: the app never runs it, so neither does its benchmark.
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

fn write_one(db: &Connection, n: u64, today: crm_domain::CalendarDate) -> Result<()> {
    let body = people::contact(SEED, n);
    let fields = serde_json::from_value(body)?;
    let contact = contacts_rules::validate(&fields, today)
        .map_err(|e| anyhow::anyhow!("contact {n}: {e}"))?;
    let fields = contact.to_fields();
    let id = id(n);
    // Spread over the past five years, in order.
    let at = crm_domain::rfc3339_utc(1_638_316_800_000 + n as i64 * 150_000);
    let stamp = FieldProvenance {
        source: "import".into(),
        purpose: "service-delivery".into(),
        notice_id: "general".into(),
        notice_version: 1,
        channel: "portal".into(),
        collected_at: at.clone(),
        request_id: format!("req_gen{n}"),
    };
    let present = fields.present();
    let mut provenance = ProvenanceMap::new();
    restamp(&mut provenance, &present, &present, &stamp);
    let meta = VersionMeta {
        change: Change::Created,
        recorded_at: &at,
        actor_id: "bench-generator",
        actor_role: "service",
        request_id: &stamp.request_id,
        reason: None,
        related_contact: None,
    };
    let written = Written {
        id: &id,
        fields: &fields,
        provenance: &provenance,
        version: 1,
    };
    contacts_store::create(db, &written, &index_entries(&contact), &meta, 0)
        .with_context(|| format!("contact {n}"))
}
