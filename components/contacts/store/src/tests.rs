//! The store against a real SQLite database with the app's migrations.

use contacts_rules::collection::{FieldProvenance, ProvenanceMap};
use contacts_rules::index::index_entries;
use contacts_rules::search::{Export, SEARCH_LIMITS, SearchParams, plan};
use contacts_rules::{Contact, validate};
use crm_domain::CalendarDate;
use crm_http::IdempotencyKey;
use crm_sql::{Sql, transaction};
use serde_json::json;

use super::*;

/// A migrated in-memory database.
fn database() -> rusqlite::Connection {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    crm_migrations::migrate(&db).unwrap();
    db
}

fn contact(value: serde_json::Value) -> Contact {
    validate(
        &serde_json::from_value(value).unwrap(),
        CalendarDate::parse("2026-11-24").unwrap(),
    )
    .unwrap()
}

fn meta(change: Change) -> VersionMeta<'static> {
    VersionMeta {
        change,
        recorded_at: "2026-11-24T00:00:00.000Z",
        actor_id: "staff-1",
        actor_role: "intake-officer",
        request_id: "req_1",
        reason: None,
        related_contact: None,
    }
}

fn stamp() -> ProvenanceMap {
    let p = FieldProvenance {
        source: "staff-entry".into(),
        purpose: "service-delivery".into(),
        notice_id: "general".into(),
        notice_version: 1,
        channel: "counter".into(),
        collected_at: "2026-11-24T00:00:00.000Z".into(),
        request_id: "req_1".into(),
    };
    ProvenanceMap::from([("family_name".to_string(), p)])
}

fn insert(db: &impl Sql, id: &str, c: &Contact) {
    let fields = c.to_fields();
    let provenance = stamp();
    let written = Written {
        id,
        fields: &fields,
        provenance: &provenance,
        version: 1,
    };
    create(db, &written, &index_entries(c), &meta(Change::Created), 0).unwrap();
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn smith() -> Contact {
    contact(
        json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
        "date_of_birth": "1980-05-17", "emails": ["john@x.au"], "tags": ["vip"]}),
    )
}

/// Corrects `id` from `old` (at `version - 1`) to `new`.
fn correct(db: &impl Sql, id: &str, version: i64, old: &Contact, new: &Contact) -> bool {
    let fields = new.to_fields();
    let provenance = stamp();
    let written = Written {
        id,
        fields: &fields,
        provenance: &provenance,
        version,
    };
    let meta = VersionMeta {
        reason: Some("typo"),
        ..meta(Change::Corrected)
    };
    update(
        db,
        &written,
        &index_entries(old),
        &index_entries(new),
        &["family_name"],
        &meta,
        0,
    )
    .unwrap()
}

/// Merges `duplicate` (at version 1) into `survivor` (at version 1, its
/// record unchanged), as the merge route does: both in one transaction.
fn merge(db: &impl Sql, survivor: &str, duplicate: &str, c: &Contact) -> Result<bool, StoreError> {
    let fields = c.to_fields();
    let provenance = stamp();
    let index = index_entries(c);
    let survivor_now = load(db, survivor)?.unwrap();
    let duplicate_now = load(db, duplicate)?.unwrap();
    transaction(db, || {
        let kept = update(
            db,
            &Written {
                id: survivor,
                fields: &survivor_now.fields,
                provenance: &survivor_now.provenance,
                version: survivor_now.version + 1,
            },
            &index,
            &index,
            &[],
            &VersionMeta {
                related_contact: Some(duplicate),
                ..meta(Change::Merged)
            },
            0,
        )?;
        let retired = retire(
            db,
            &Written {
                id: duplicate,
                fields: &fields,
                provenance: &provenance,
                version: duplicate_now.version + 1,
            },
            &index,
            survivor,
            &VersionMeta {
                related_contact: Some(survivor),
                ..meta(Change::MergedInto)
            },
            0,
        )?;
        Ok(kept && retired)
    })
}

#[test]
fn a_created_contact_is_filed_everywhere_in_one_go_and_reads_back() {
    let db = database();
    let c = smith();
    insert(&db, "con_1", &c);
    let found = candidates(&db, &index_entries(&c).keys).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "con_1");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_versions"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_labels WHERE label = 't:vip'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_search WHERE contact_search MATCH 'names:\"smi\"*'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM outbox_events WHERE topic = 'contact.created'"
        ),
        1
    );
    let payload: String = db
        .query_row("SELECT payload FROM outbox_events", [], |r| r.get(0))
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["contact_id"], "con_1");
    assert_eq!(payload["change"], "created");
    assert!(
        !payload.to_string().contains("john@x.au"),
        "names of fields, never values"
    );
    // Versions cannot be changed.
    assert!(db.execute("DELETE FROM contact_versions", []).is_err());

    let stored = load(&db, "con_1").unwrap().unwrap();
    assert_eq!(stored.fields, c.to_fields());
    assert_eq!(stored.provenance, stamp());
    assert_eq!(stored.version, 1);
    assert_eq!(stored.created_at, "2026-11-24T00:00:00.000Z");
    assert_eq!(stored.updated_at, stored.created_at);
    assert_eq!(stored.merged_into, None);
    assert_eq!(stored.search_rowid, 1);
    assert_eq!(load(&db, "con_nobody").unwrap(), None);

    insert(
        &db,
        "con_2",
        &contact(json!({"archetype": "individual", "family_name": "Ng"})),
    );
    assert_eq!(load(&db, "con_2").unwrap().unwrap().search_rowid, 2);
}

#[test]
fn an_unreadable_record_is_reported_not_shown() {
    let db = database();
    insert(&db, "con_1", &smith());
    db.execute("UPDATE contacts SET record = '{' WHERE id = 'con_1'", [])
        .unwrap();
    let e = load(&db, "con_1").unwrap_err();
    assert!(
        matches!(&e, StoreError::Unreadable { contact, what, .. } if contact == "con_1" && what == "record"),
        "{e}"
    );
    let problem = crm_http::Problem::from(e);
    assert_eq!(problem.status, 500);
    assert!(
        problem
            .detail
            .starts_with("contact con_1: unreadable record")
    );
}

#[test]
fn a_database_failure_is_answered_without_its_statement() {
    let db = database();
    db.execute_batch("DROP TABLE contact_idempotency").unwrap();
    let key = IdempotencyKey::new("k-1", &[b"staff-1"], &[b"POST"]).unwrap();
    let e = kept(&db, &key).unwrap_err();
    assert!(
        matches!(&e, StoreError::Sql { statement, .. } if statement.starts_with("SELECT fingerprint")),
        "{e}"
    );
    let problem = crm_http::Problem::from(e);
    assert_eq!(problem.status, 500);
    assert_eq!(
        problem.detail,
        "a database statement failed (the details are in the log)"
    );
}

#[test]
fn a_correction_moves_the_index_checks_the_version_and_keeps_the_history() {
    let db = database();
    let old = contact(
        json!({"archetype": "individual", "family_name": "Smith", "emails": ["a@x.au"], "tags": ["vip"]}),
    );
    insert(&db, "con_1", &old);
    let new =
        contact(json!({"archetype": "individual", "family_name": "Jones", "emails": ["b@x.au"]}));
    assert!(
        correct(&db, "con_1", 2, &old, &new),
        "version 1 was current"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_match_keys WHERE key = 'em:a@x.au'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_match_keys WHERE key = 'em:b@x.au'"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_labels"), 0);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_search WHERE contact_search MATCH 'jones'"
        ),
        1
    );
    // The same update again is stale, and writes nothing.
    assert!(!correct(&db, "con_1", 2, &old, &new));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_versions"), 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox_events"), 2);

    let stored = load(&db, "con_1").unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.fields.family_name.as_deref(), Some("Jones"));

    let history = versions(&db, "con_1").unwrap();
    let changes: Vec<(i64, &str)> = history
        .iter()
        .map(|v| (v.version, v.change.as_str()))
        .collect();
    assert_eq!(changes, [(1, "created"), (2, "corrected")]);
    let (first, second) = (&history[0], &history[1]);
    assert_eq!(first.record["family_name"], "Smith");
    assert_eq!(second.record["family_name"], "Jones");
    assert_eq!(second.reason.as_deref(), Some("typo"));
    assert_eq!(second.actor_id, "staff-1");
    assert_eq!(second.actor_role, "intake-officer");
    assert_eq!(second.request_id.as_deref(), Some("req_1"));
    assert_eq!(second.provenance, stamp());
    assert_eq!(second.related_contact, None);
    assert!(versions(&db, "con_nobody").unwrap().is_empty());
}

#[test]
fn a_retired_duplicate_leaves_the_indexes_and_resolves_to_its_survivor() {
    let db = database();
    let dup = contact(
        json!({"archetype": "individual", "family_name": "Smith", "emails": ["a@x.au"], "tags": ["vip"]}),
    );
    insert(&db, "con_surv", &smith());
    insert(&db, "con_dup", &dup);
    assert!(merge(&db, "con_surv", "con_dup", &dup).unwrap());
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_match_keys WHERE contact_id = 'con_dup'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM contact_labels l JOIN contacts c ON c.search_rowid = l.search_rowid WHERE c.id = 'con_dup'"
        ),
        0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_search"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM outbox_events WHERE topic = 'contact.merged'"
        ),
        2
    );

    let duplicate = load(&db, "con_dup").unwrap().unwrap();
    assert_eq!(duplicate.merged_into.as_deref(), Some("con_surv"));
    assert_eq!(duplicate.version, 2);
    assert_eq!(resolve(&db, "con_dup").unwrap().unwrap().id, "con_surv");
    assert_eq!(resolve(&db, "con_surv").unwrap().unwrap().id, "con_surv");
    assert_eq!(resolve(&db, "con_nobody").unwrap(), None);
    let last = versions(&db, "con_dup").unwrap().pop().unwrap();
    assert_eq!(
        (last.change.as_str(), last.related_contact.as_deref()),
        ("merged-into", Some("con_surv"))
    );
    let last = versions(&db, "con_surv").unwrap().pop().unwrap();
    assert_eq!(
        (last.change.as_str(), last.related_contact.as_deref()),
        ("merged", Some("con_dup"))
    );
    // Only current contacts are candidates.
    let found = candidates(&db, &index_entries(&dup).keys).unwrap();
    assert!(found.iter().all(|s| s.id != "con_dup"), "{found:?}");
    // A merged contact cannot be merged or corrected again.
    assert!(!merge(&db, "con_surv", "con_dup", &dup).unwrap());
    assert!(!correct(&db, "con_dup", 3, &dup, &smith()));
}

#[test]
fn a_stale_merge_writes_nothing() {
    let db = database();
    let c = smith();
    insert(&db, "con_a", &c);
    insert(&db, "con_b", &c);
    // The survivor was corrected after it was read: the merge's transaction
    // returns a stale survivor, and the caller fails it, rolling back.
    let fields = c.to_fields();
    let provenance = stamp();
    let result: Result<(), StoreError> = transaction(&db, || {
        let stale = Written {
            id: "con_a",
            fields: &fields,
            provenance: &provenance,
            version: 5,
        };
        let index = index_entries(&c);
        assert!(!update(
            &db,
            &stale,
            &index,
            &index,
            &[],
            &meta(Change::Merged),
            0
        )?);
        retire(
            &db,
            &Written {
                id: "con_b",
                version: 2,
                ..stale
            },
            &index,
            "con_a",
            &meta(Change::MergedInto),
            0,
        )?;
        Err(StoreError::MergeChainTooLong("abandoned".into()))
    });
    assert!(result.is_err());
    assert_eq!(load(&db, "con_b").unwrap().unwrap().merged_into, None);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_versions"), 2);
}

#[test]
fn merge_families_follow_chains_of_merges() {
    let db = database();
    let c = smith();
    for id in ["con_a", "con_b", "con_c", "con_d", "con_other"] {
        insert(&db, id, &c);
    }
    // b into c, then c into a, and d into a: a chain and a sibling.
    assert!(merge(&db, "con_c", "con_b", &c).unwrap());
    assert!(merge(&db, "con_a", "con_c", &c).unwrap());
    assert!(merge(&db, "con_a", "con_d", &c).unwrap());
    for id in ["con_a", "con_b", "con_c", "con_d"] {
        assert_eq!(resolve(&db, id).unwrap().unwrap().id, "con_a", "{id}");
        assert_eq!(
            merge_family(&db, id).unwrap(),
            ["con_a", "con_b", "con_c", "con_d"],
            "{id}"
        );
    }
    assert_eq!(merge_family(&db, "con_other").unwrap(), ["con_other"]);
    assert!(merge_family(&db, "con_nobody").unwrap().is_empty());
}

#[test]
fn a_chain_of_merges_too_long_is_a_fault() {
    let db = database();
    let c = smith();
    let ids: Vec<String> = (0..=MAX_MERGE_HOPS)
        .map(|i| format!("con_{i:02}"))
        .collect();
    for id in &ids {
        insert(&db, id, &c);
    }
    // Each merged into the next: the first is MAX_MERGE_HOPS hops from the last.
    for pair in ids.windows(2) {
        assert!(merge(&db, &pair[1], &pair[0], &c).unwrap());
    }
    assert_eq!(
        resolve(&db, &ids[1]).unwrap().unwrap().id,
        ids[MAX_MERGE_HOPS]
    );
    assert!(matches!(
        resolve(&db, &ids[0]),
        Err(StoreError::MergeChainTooLong(id)) if id == ids[0]
    ));
    assert!(merge_family(&db, &ids[0]).is_err());
}

#[test]
fn candidates_come_by_match_key_deterministic_keys_first() {
    let db = database();
    // More namesakes than a blocking key reads, and one sharing an email.
    let namesake = |i: usize| {
        contact(
            json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
            "date_of_birth": "1980-05-17", "emails": [format!("js{i}@x.au")]}),
        )
    };
    for i in 0..CANDIDATES_PER_KEY + 5 {
        insert(&db, &format!("con_{i:02}"), &namesake(i));
    }
    insert(&db, "con_email", &smith());
    insert(
        &db,
        "con_unrelated",
        &contact(json!({"archetype": "individual", "family_name": "Ng"})),
    );
    let keys = index_entries(&smith()).keys;
    assert!(keys.iter().any(|k| k.starts_with("nd:")), "{keys:?}");
    let found = candidates(&db, &keys).unwrap();
    assert!(
        found.iter().any(|s| s.id == "con_email"),
        "the email is never crowded out"
    );
    assert!(found.len() <= CANDIDATES_PER_KEY * keys.len());
    assert!(found.iter().all(|s| s.id != "con_unrelated"));
    assert!(candidates(&db, &[]).unwrap().is_empty());
    assert!(
        candidates(&db, &["em:nobody@x.au".into()])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_answer_is_kept_under_its_key_and_a_reused_key_is_told_apart() {
    let db = database();
    let key = |request: &[u8]| {
        IdempotencyKey::new("k-1", &[b"staff-1", b"createContact"], &[request]).unwrap()
    };
    let answer = Answer::json(201, json!({"id": "con_1"}))
        .with_location("/api/contacts/con_1".into())
        .with_etag("\"v1\"".into());
    assert_eq!(kept(&db, &key(b"one")).unwrap(), None);
    transaction(&db, || keep(&db, &key(b"one"), &answer, 0)).unwrap();
    assert_eq!(
        kept(&db, &key(b"one")).unwrap(),
        Some(Kept::Answer(answer.clone()))
    );
    assert_eq!(kept(&db, &key(b"two")).unwrap(), Some(Kept::Reused));
    let other_caller =
        IdempotencyKey::new("k-1", &[b"staff-2", b"createContact"], &[b"one"]).unwrap();
    assert_eq!(kept(&db, &other_caller).unwrap(), None);
    // A key answers once.
    assert!(keep(&db, &key(b"one"), &answer, 0).is_err());
    let bare = Answer::json(200, json!({"created": 0}));
    keep(&db, &other_caller, &bare, 0).unwrap();
    assert_eq!(kept(&db, &other_caller).unwrap(), Some(Kept::Answer(bare)));
}

#[test]
fn an_import_batch_is_written_all_or_none() {
    let db = database();
    let rows: Vec<(String, Contact)> = ["Alder", "Birch", "Cedar"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                format!("con_{i}"),
                contact(json!({"archetype": "individual", "family_name": name})),
            )
        })
        .collect();
    // A failure part-way (here the last row's id is taken) keeps none.
    insert(&db, "con_2", &smith());
    let batch = |db: &rusqlite::Connection| {
        transaction(db, || {
            for (id, c) in &rows {
                let fields = c.to_fields();
                let provenance = stamp();
                let written = Written {
                    id,
                    fields: &fields,
                    provenance: &provenance,
                    version: 1,
                };
                create(db, &written, &index_entries(c), &meta(Change::Created), 0)?;
            }
            Ok::<_, StoreError>(())
        })
    };
    assert!(matches!(batch(&db), Err(StoreError::Sql { .. })));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contacts"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_versions"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_search"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox_events"), 1);

    let db = database();
    batch(&db).unwrap();
    for (id, c) in &rows {
        assert_eq!(load(&db, id).unwrap().unwrap().fields, c.to_fields());
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contact_search"), 3);
}

fn params(pairs: &[(&str, &str)]) -> SearchParams {
    let mut p = SearchParams::default();
    for (k, v) in pairs {
        assert!(p.set(k, v.to_string()));
    }
    p
}

fn ids(db: &impl Sql, pairs: &[(&str, &str)]) -> Vec<String> {
    let plan = plan(&params(pairs), SEARCH_LIMITS).unwrap();
    search(db, &plan)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

fn fixture() -> rusqlite::Connection {
    let db = database();
    insert(
        &db,
        "con_1",
        &contact(
            json!({"archetype": "individual", "given_name": "John", "family_name": "Smith",
            "emails": ["john@x.au"], "phones": ["0412 345 678"], "tags": ["vip"]}),
        ),
    );
    insert(
        &db,
        "con_2",
        &contact(
            json!({"archetype": "individual", "given_name": "Jane", "family_name": "Smyth",
            "identifiers": [{"scheme": "crn", "value": "123456789A"}], "categories": ["priority"]}),
        ),
    );
    insert(
        &db,
        "con_3",
        &contact(
            json!({"archetype": "business", "organisation_name": "Smithson Pty Ltd",
            "identifiers": [{"scheme": "abn", "value": "51 824 753 556"}], "tags": ["vip"]}),
        ),
    );
    db
}
#[test]
fn filters_find_the_right_contacts_newest_first() {
    let db = fixture();
    assert_eq!(ids(&db, &[]), ["con_3", "con_2", "con_1"]);
    assert_eq!(ids(&db, &[("name", "smi")]), ["con_3", "con_1"]);
    // Phonetic: Smith sounds like Smyth.
    assert_eq!(ids(&db, &[("name", "Smith")]), ["con_3", "con_2", "con_1"]);
    assert_eq!(ids(&db, &[("name", "jo smith")]), ["con_1"]);
    assert_eq!(ids(&db, &[("email", "JOHN@X.AU")]), ["con_1"]);
    assert_eq!(ids(&db, &[("phone", "+61 412 345 678")]), ["con_1"]);
    assert_eq!(ids(&db, &[("identifier", "abn:51824753556")]), ["con_3"]);
    assert_eq!(ids(&db, &[("identifier", "crn:123 456 789a")]), ["con_2"]);
    assert_eq!(ids(&db, &[("archetype", "business")]), ["con_3"]);
    assert_eq!(ids(&db, &[("tag", "vip")]), ["con_3", "con_1"]);
    assert_eq!(
        ids(&db, &[("tag", "vip"), ("archetype", "individual")]),
        ["con_1"]
    );
    assert_eq!(ids(&db, &[("category", "priority")]), ["con_2"]);
    assert_eq!(
        ids(&db, &[("email", "john@x.au"), ("name", "jane")]),
        ["con_1"],
        "Jane sounds like John"
    );
    assert_eq!(
        ids(&db, &[("email", "john@x.au"), ("name", "lee")]),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&db, &[("name", "smith"), ("tag", "vip")]),
        ["con_3", "con_1"]
    );
    assert_eq!(
        ids(&db, &[("updated_since", "2026-11-24")]),
        ["con_1", "con_2", "con_3"]
    );
    assert!(ids(&db, &[("updated_since", "2026-11-25T00:00:00Z")]).is_empty());
}

/// Name and label searches come out of their driver in order, so
/// SQLite stops at the limit instead of sorting every match.
#[test]
fn drivers_produce_rows_in_order() {
    let db = fixture();
    for pairs in [
        &[("name", "smith")][..],
        &[("tag", "vip")],
        &[("archetype", "individual")],
        &[],
        &[("name", "smith"), ("cursor", "7234")],
    ] {
        let plan = plan(&params(pairs), SEARCH_LIMITS).unwrap();
        let (sql, params) = search::statement(&plan);
        let steps: Vec<String> = db
            .run(&format!("EXPLAIN QUERY PLAN {sql}"), &params)
            .unwrap()
            .into_iter()
            .map(|row| format!("{:?}", row[3]))
            .collect();
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{pairs:?}: {steps:?}"
        );
    }
}

#[test]
fn cursors_page_in_a_stable_order() {
    let db = fixture();
    let first = plan(&params(&[("limit", "2")]), SEARCH_LIMITS).unwrap();
    let rows = search(&db, &first).unwrap();
    assert_eq!(
        rows.len(),
        3,
        "one more than the limit says there is a next page"
    );
    let cursor = first.cursor_after(rows[1].search_rowid, "");
    assert_eq!(ids(&db, &[("limit", "2"), ("cursor", &cursor)]), ["con_1"]);
    let by_change = plan(&params(&[("updated_since", "2026-01-01")]), SEARCH_LIMITS).unwrap();
    let cursor = by_change.cursor_after(1, "2026-11-24T00:00:00.000Z");
    assert_eq!(
        ids(&db, &[("updated_since", "2026-01-01"), ("cursor", &cursor)]),
        ["con_2", "con_3"]
    );
    // A cursor from another kind of search is refused.
    assert!(plan(&params(&[("cursor", &cursor)]), SEARCH_LIMITS).is_err());
}

/// Every row of the export, page by page: (ids of each page).
fn export_pages(
    db: &rusqlite::Connection,
    pairs: &[(&str, &str)],
    page: usize,
) -> Vec<Vec<String>> {
    let mut export = Export::new(&params(pairs), page).unwrap();
    let mut pages = Vec::new();
    while let Some(plan) = export.next_page() {
        let rows = search(db, &plan).unwrap();
        assert!(rows.len() <= plan.limit + 1);
        let kept = export.keep(&plan, rows, |s| (s.search_rowid, s.updated_at.as_str()));
        pages.push(kept.into_iter().map(|s| s.id).collect());
        assert!(pages.len() <= 10, "the export never ends: {pages:?}");
    }
    pages
}

#[test]
fn an_export_reads_every_match_in_keyset_pages() {
    let db = fixture();
    assert_eq!(
        export_pages(&db, &[], 1),
        [vec!["con_3"], vec!["con_2"], vec!["con_1"]]
    );
    // A full last page needs one more query to find nothing after it.
    assert_eq!(
        export_pages(&db, &[], 2),
        [vec!["con_3", "con_2"], vec!["con_1"]]
    );
    assert_eq!(export_pages(&db, &[], 3), [vec!["con_3", "con_2", "con_1"]]);
    assert_eq!(
        export_pages(&db, &[("tag", "vip")], 1),
        [vec!["con_3"], vec!["con_1"]]
    );
    assert_eq!(
        export_pages(&db, &[("updated_since", "2026-01-01")], 2),
        [vec!["con_1", "con_2"], vec!["con_3"]]
    );
    assert_eq!(
        export_pages(&db, &[("name", "nobody")], 2),
        [Vec::<String>::new()]
    );
    // `limit` bounds the whole export, across pages.
    assert_eq!(
        export_pages(&db, &[("limit", "2")], 1),
        [vec!["con_3"], vec!["con_2"]]
    );
    assert_eq!(export_pages(&db, &[("limit", "1")], 5), [vec!["con_3"]]);
    assert_eq!(
        export_pages(&db, &[("limit", "5000")], 2),
        [vec!["con_3", "con_2"], vec!["con_1"]]
    );
    // A cursor from a search page starts the export after it.
    let first = plan(&params(&[("limit", "1")]), SEARCH_LIMITS).unwrap();
    let rows = search(&db, &first).unwrap();
    let cursor = first.cursor_after(rows[0].search_rowid, "");
    assert_eq!(
        export_pages(&db, &[("cursor", &cursor)], 5),
        [vec!["con_2", "con_1"]]
    );
}
