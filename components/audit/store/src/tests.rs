//! The store against real SQLite files with the app's migrations.

use std::path::Path;

use audit_chain::checkpoint::{CheckpointCheck, CheckpointSigner};
use audit_chain::{GENESIS, verify};

use super::*;

const T0: i64 = 1_795_416_000_000;

fn open(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path).unwrap();
    crm_migrations::migrate(&db).unwrap();
    db
}

fn db() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("db.sqlite"));
    (dir, db)
}

fn event<'a>(actor: &'a str, resource: &'a str, contact: Option<&'a str>) -> NewEntry<'a> {
    NewEntry {
        request_id: "req-1",
        actor_id: actor,
        role: "case-officer",
        purpose: Some("case-management"),
        action: "contact.read",
        resource,
        outcome: "allowed",
        subject_contact_id: contact,
        detail: None,
    }
}

fn all(db: &impl crm_sql::Sql) -> Vec<StoredEntry> {
    entries(db, &Filter::default(), 0, 100_000).unwrap()
}

#[test]
fn appends_extend_one_verifiable_chain() {
    let (_dir, db) = db();
    let first = append(&db, &[event("staff:a", "contact/c1", Some("c1"))], || T0).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].sequence, 1);
    assert_eq!(first[0].recorded_at, T0);
    let mut denied = event("staff:b", "contact/c2", None);
    denied.outcome = "denied";
    denied.detail = Some("forbidden");
    denied.purpose = None;
    let batch = append(
        &db,
        &[event("staff:a", "contact/c1", Some("c1")), denied],
        || T0 + 5,
    )
    .unwrap();
    assert_eq!(batch.iter().map(|r| r.sequence).collect::<Vec<_>>(), [2, 3]);

    let stored = all(&db);
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].prev_hash, GENESIS);
    assert_eq!(stored[1].prev_hash, first[0].hash);
    assert_eq!(stored[2].prev_hash, batch[0].hash);
    assert_eq!(stored[2].hash, batch[1].hash);
    assert_eq!(stored[2].detail.as_deref(), Some("forbidden"));
    assert_eq!(stored[2].purpose, None);
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(3));
    assert_eq!(head(&db).unwrap(), (3, batch[1].hash.clone()));
}

#[test]
fn times_never_run_backwards_along_the_chain() {
    let (_dir, db) = db();
    append(&db, &[event("staff:a", "r", None)], || T0).unwrap();
    let earlier = append(&db, &[event("staff:a", "r", None)], || T0 - 1_000).unwrap();
    assert_eq!(earlier[0].recorded_at, T0);
}

#[test]
fn nothing_to_append_touches_nothing() {
    let (_dir, db) = db();
    assert_eq!(append(&db, &[], || T0).unwrap(), []);
    assert_eq!(head(&db).unwrap(), (0, GENESIS.to_string()));
}

#[test]
fn append_sets_synchronous_normal_on_its_connection() {
    let (_dir, db) = db();
    append(&db, &[event("staff:a", "r", None)], || T0).unwrap();
    let level: i64 = db
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(level, 1, "NORMAL");
}

#[test]
fn a_failed_append_is_a_store_error_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Not migrated: the leaf retries such a failure on a migrated connection.
    let bare = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
    let failed = append(&bare, &[event("staff:a", "r", None)], || T0);
    assert!(matches!(failed, Err(AppendError::Store(_))), "{failed:?}");
    let problem = crm_http::Problem::from(failed.unwrap_err());
    assert_eq!(problem.status, 500);
    assert!(
        !problem.detail.contains("audit_entries"),
        "{}",
        problem.detail
    );
}

#[test]
fn concurrent_appends_from_two_connections_keep_one_gapless_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    drop(open(&path));
    let writers: Vec<_> = ["staff:a", "staff:b"]
        .into_iter()
        .map(|actor| {
            let path = path.clone();
            std::thread::spawn(move || {
                let db = rusqlite::Connection::open(&path).unwrap();
                for i in 0..40 {
                    let resource = format!("{actor}/{i}");
                    let batch = [event(actor, &resource, None), event(actor, &resource, None)];
                    let receipts = append(&db, &batch, || T0 + i).unwrap();
                    assert_eq!(receipts[1].sequence, receipts[0].sequence + 1);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let db = open(&path);
    let stored = all(&db);
    assert_eq!(stored.len(), 160);
    assert!(
        stored
            .iter()
            .zip(1..)
            .all(|(entry, sequence)| entry.sequence == sequence)
    );
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(160));
    // Each batch landed whole, in its own order.
    for pair in stored.chunks(2) {
        assert_eq!(pair[0].resource, pair[1].resource);
    }
}

/// More entries than SQLite binds in one statement (32,766 variables, 13
/// per entry): one append, one gapless chain, every entry in order.
#[test]
fn an_append_larger_than_one_statement_lands_whole_and_in_order() {
    let (_dir, db) = db();
    append(&db, &[event("staff:a", "first", None)], || T0).unwrap();
    let resources: Vec<String> = (0..5_000).map(|i| format!("contact/c{i}")).collect();
    let batch: Vec<NewEntry> = resources
        .iter()
        .map(|r| event("staff:a", r, None))
        .collect();
    let receipts = append(&db, &batch, || T0 + 1).unwrap();
    assert_eq!(receipts.len(), 5_000);
    assert_eq!(receipts[0].sequence, 2);
    assert_eq!(receipts[4_999].sequence, 5_001);
    let stored = all(&db);
    assert_eq!(stored.len(), 5_001);
    assert!(stored.iter().zip(1..).all(|(e, s)| e.sequence == s));
    assert!(
        stored[1..]
            .iter()
            .zip(&resources)
            .all(|(e, r)| &e.resource == r)
    );
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(5_001));
}

/// Two connections appending batches of several statements each at once:
/// each batch lands whole and contiguous, on one gapless chain.
#[test]
fn concurrent_appends_larger_than_one_statement_keep_one_gapless_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    drop(open(&path));
    let writers: Vec<_> = ["staff:a", "staff:b"]
        .into_iter()
        .map(|actor| {
            let path = path.clone();
            std::thread::spawn(move || {
                let db = rusqlite::Connection::open(&path).unwrap();
                db.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
                for i in 0..2 {
                    let resource = format!("{actor}/{i}");
                    let batch = vec![event(actor, &resource, None); 2_600];
                    let receipts = append(&db, &batch, || T0 + i).unwrap();
                    assert_eq!(receipts[2_599].sequence, receipts[0].sequence + 2_599);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let db = open(&path);
    let stored = all(&db);
    assert_eq!(stored.len(), 10_400);
    assert!(stored.iter().zip(1..).all(|(e, s)| e.sequence == s));
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(10_400));
    for batch in stored.chunks(2_600) {
        assert!(batch.iter().all(|e| e.resource == batch[0].resource));
    }
}

/// Appended inside the caller's transaction, entries commit with the
/// caller's writes or roll back with them.
#[test]
fn entries_appended_in_a_callers_transaction_share_its_fate() {
    let (_dir, db) = db();
    let batch = vec![event("staff:a", "contact/c1", Some("c1")); 3_000];
    let rolled_back: Result<(), AppendError> = crm_sql::transaction(&db, || {
        append_in_transaction(&db, &batch, || T0)?;
        Err(AppendError::Busy)
    });
    assert!(rolled_back.is_err());
    assert_eq!(head(&db).unwrap(), (0, GENESIS.to_string()));
    let receipts: Vec<Receipt> =
        crm_sql::transaction(&db, || append_in_transaction(&db, &batch, || T0)).unwrap();
    assert_eq!(receipts.len(), 3_000);
    let stored = all(&db);
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(3_000));
}

/// Text longer than the trail keeps, or with control characters, is kept
/// bounded and escaped, and the chain verifies over what was kept.
#[test]
fn entries_keep_their_texts_bounded_and_escaped() {
    let (_dir, db) = db();
    let long = "r".repeat(100_000);
    let mut entry = event("staff:a", &long, None);
    entry.detail = Some("bad\u{0}\nline");
    append(&db, &[entry], || T0).unwrap();
    let stored = all(&db);
    assert_eq!(stored[0].resource.chars().count(), MAX_TEXT_CHARS);
    assert!(stored[0].resource.ends_with('…'));
    assert_eq!(stored[0].detail.as_deref(), Some("bad\\u{0}\\nline"));
    assert_eq!(verify(stored.iter().map(StoredEntry::chained)), Ok(1));
    assert_eq!(append::bounded("self-access"), "self-access");
}

#[test]
fn pages_filter_and_follow_the_cursor() {
    let (_dir, db) = db();
    for i in 0..10 {
        let actor = if i % 2 == 0 {
            "staff:even"
        } else {
            "staff:odd"
        };
        let contact = (i < 4).then_some("c1");
        let mut entry = event(actor, "contact/c1", contact);
        if i == 9 {
            entry.outcome = "denied";
            entry.action = "contact.erase";
        }
        append(&db, &[entry], || T0 + i * 1_000).unwrap();
    }
    let sequences = |filter: &Filter, after: u64, limit: u64| -> Vec<u64> {
        entries(&db, filter, after, limit)
            .unwrap()
            .iter()
            .map(|e| e.sequence)
            .collect()
    };
    assert_eq!(sequences(&Filter::default(), 0, 3), [1, 2, 3]);
    assert_eq!(sequences(&Filter::default(), 3, 3), [4, 5, 6]);
    assert_eq!(sequences(&Filter::default(), 9, 3), [10]);
    let odd = Filter {
        actor_id: Some("staff:odd".into()),
        ..Filter::default()
    };
    assert_eq!(sequences(&odd, 0, 100), [2, 4, 6, 8, 10]);
    assert_eq!(sequences(&odd, 4, 2), [6, 8]);
    assert_eq!(sequences(&Filter::about("c1"), 0, 100), [1, 2, 3, 4]);
    assert_eq!(sequences(&Filter::about("c2"), 0, 100), Vec::<u64>::new());
    let window = Filter {
        since: Some(T0 + 2_000),
        until: Some(T0 + 5_000),
        ..Filter::default()
    };
    assert_eq!(sequences(&window, 0, 100), [3, 4, 5]);
    let denied = Filter {
        outcome: Some("denied".into()),
        action: Some("contact.erase".into()),
        resource: Some("contact/c1".into()),
        actor_id: Some("staff:odd".into()),
        ..Filter::default()
    };
    assert_eq!(sequences(&denied, 0, 100), [10]);
}

#[test]
fn checkpoints_sign_the_head_and_are_kept_in_order() {
    let (_dir, db) = db();
    let signer = CheckpointSigner::from_seed_base64(&format!("{}=", "A".repeat(43))).unwrap();
    assert!(checkpoints(&db).unwrap().is_empty());
    let (size, head_hash) = head(&db).unwrap();
    let (empty, signature) = signer.sign(size, &head_hash, T0);
    let first = insert_checkpoint(&db, &empty, &signature).unwrap();
    append(
        &db,
        &[event("staff:a", "r", None), event("staff:a", "r", None)],
        || T0,
    )
    .unwrap();
    let (size, head_hash) = head(&db).unwrap();
    assert_eq!(size, 2);
    let (two, signature) = signer.sign(size, &head_hash, T0 + 1);
    let second = insert_checkpoint(&db, &two, &signature).unwrap();
    assert!(second > first);

    let stored = checkpoints(&db).unwrap();
    assert_eq!(
        stored.iter().map(|c| c.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(stored[1].checkpoint, two);
    assert_eq!(stored[1].signature, signature);
    // A walk of the chain finds both checkpoints on it.
    let mut check = CheckpointCheck::new(&stored);
    check.observe(0, GENESIS);
    let chain = all(&db);
    let mut verifier = audit_chain::ChainVerifier::default();
    for entry in &chain {
        verifier.push(&entry.chained()).unwrap();
        check.observe(verifier.verified(), verifier.head());
    }
    let public = signer.public_key_base64();
    assert!(check.finish(true, &stored, Some(&public)).is_empty());
}
