//! The store's statements timed natively on the generated file, with the
//! host's settings (WAL, `synchronous = FULL`, SQLite's default page cache,
//! a connection per operation as the host's pool hands out): what a request
//! costs SQLite, apart from the host, the Wasm guest, authentication and the
//! audit trail.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use interactions_rules::values::{EntryId, OfficerId};
use interactions_rules::{
    CursorCodec, NewInteraction, RawInteraction, RawTimelineQuery, TimelineQuery,
};

use crate::generate::BIG_CONTACT;

fn open(db_file: &Path) -> Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(db_file)?;
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
    Ok(db)
}

fn percentiles(name: &str, mut took: Vec<Duration>) {
    took.sort_unstable();
    let at = |q: f64| {
        let i = ((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1;
        took[i].as_secs_f64() * 1000.0
    };
    println!(
        "| {name} (native) | {} | {:.2} | {:.2} | {:.2} |",
        took.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

pub fn measure(db_file: &Path, count: usize) -> Result<()> {
    if !db_file.exists() {
        bail!("{} is missing: run `generate` first", db_file.display());
    }
    let db = open(db_file)?;
    let codec = CursorCodec::new(&[7; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let query = |cursor: Option<String>| {
        TimelineQuery::parse(
            &RawTimelineQuery {
                contact_id: Some(BIG_CONTACT.into()),
                cursor,
                ..RawTimelineQuery::default()
            },
            &codec,
        )
        .map_err(|e| anyhow::anyhow!("{e:?}"))
    };
    // Cursors at every depth, from a walk.
    let mut cursors = Vec::new();
    let mut page = interactions_store::timeline(&db, &query(None)?, &[])?;
    while let Some(after) = page.next_after {
        let cursor = codec.encode(after, &query(None)?.filter);
        page = interactions_store::timeline(&db, &query(Some(cursor.clone()))?, &[])?;
        cursors.push(cursor);
    }
    println!("| operation | count | p50 ms | p90 ms | p99 ms |\n|---|---|---|---|---|");
    let mut took = Vec::with_capacity(count);
    for _ in 0..count {
        let begun = Instant::now();
        let db = open(db_file)?;
        interactions_store::timeline(&db, &query(None)?, &[])?;
        took.push(begun.elapsed());
    }
    percentiles("first page of 50", std::mem::take(&mut took));
    for n in 0..count {
        let cursor = cursors[(n * 7919) % cursors.len()].clone();
        let begun = Instant::now();
        let db = open(db_file)?;
        interactions_store::timeline(&db, &query(Some(cursor))?, &[])?;
        took.push(begun.elapsed());
    }
    percentiles("page of 50 at any depth", std::mem::take(&mut took));
    for n in 0..count {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        let raw = RawInteraction {
            contact_id: Some(BIG_CONTACT.into()),
            channel: Some("phone".into()),
            direction: Some("inbound".into()),
            officer_id: Some("staff:bench".into()),
            category: Some("enquiry".into()),
            subject: Some(format!("Native benchmark call {n}")),
            ..RawInteraction::default()
        };
        let new = NewInteraction::parse(&raw, now).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let id = EntryId::parse(&format!("int_native_{n}_{}", std::process::id()))
            .map_err(|e| anyhow::anyhow!(e.0))?;
        let by = OfficerId::parse("staff:bench").map_err(|e| anyhow::anyhow!(e.0))?;
        let begun = Instant::now();
        let db = open(db_file)?;
        interactions_store::append_interaction(&db, id, by, new)?;
        took.push(begun.elapsed());
    }
    percentiles("append", took);
    Ok(())
}
