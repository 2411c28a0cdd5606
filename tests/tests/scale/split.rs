use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use crm_tests::app::{admin, assert_problem, officer};
use crm_tests::auth::{cli, token};
use crm_tests::{Caller, Host, Reply, Value, json};

use crm_tests::split::{Deployment, replica};

use crate::{groups, shared};

fn auditor(host: &Host) -> Caller<'_> {
    host.as_caller(&token("auditor-1", &["auditor"]))
        .purpose("audit")
}

/// Each id in `intake`'s 201 answers.
fn created_id(reply: &Reply) -> String {
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().expect("id").to_string()
}

/// How many requests for `component` `host`'s request log shows.
fn served(host: &Host, component: &str) -> usize {
    let needle = format!("\"component\":\"{component}\"");
    host.stderr
        .lines()
        .iter()
        .filter(|l| l.contains(&needle))
        .count()
}

fn audit_verdict(deployment: &Deployment) -> Value {
    let reply = auditor(deployment.proxy()).get("/api/audit/verify");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// A unique name per call (letters only, as names are), so tests sharing the
/// deployment never match each other's contacts.
fn unique(stem: &str) -> String {
    use std::sync::atomic::AtomicU8;
    static NEXT: AtomicU8 = AtomicU8::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!(
        "{stem}{}{}",
        char::from(b'a' + n / 26),
        char::from(b'a' + n % 26)
    )
}

#[test]
fn every_route_reaches_its_group_through_the_proxy() {
    let deployment = shared();
    let proxy = deployment.proxy();
    let intake = |n: usize| {
        officer(proxy, "officer-1").post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": format!("Routed {n}")}),
        )
    };
    let contacts: Vec<String> = (0..4).map(|n| created_id(&intake(n))).collect();
    // Round-robin: both intake replicas took some.
    for index in 0..2 {
        assert!(
            served(deployment.replica("intake", index), "contact-intake") > 0,
            "intake replica {index} served nothing"
        );
    }
    let consent = officer(proxy, "officer-1").post_json(
        "/api/consents",
        &crm_tests::consent::decision(
            &contacts[0],
            "status-updates",
            "email",
            "given",
            "officer-1",
        ),
    );
    assert_eq!(consent.status, 201, "{}", consent.body);
    assert!(served(deployment.replica("consent", 0), "consent") > 0);
    let appended = officer(proxy, "officer-1").post_json(
        "/api/interactions",
        &json!({
            "contact_id": contacts[1], "channel": "phone", "direction": "inbound",
            "category": "enquiry", "occurred_at": "2026-05-01T10:00:00Z", "subject": "Routed",
        }),
    );
    assert_eq!(appended.status, 201, "{}", appended.body);
    let entries = auditor(proxy).get(&format!("/api/audit/entries?resource={}", contacts[1]));
    assert_eq!(entries.status, 200, "{}", entries.body);
    // A wildcard's base is routed too (contact-intake's own problem answers
    // it); a sibling sharing its prefix is not.
    let base = officer(proxy, "officer-1").get("/api/contacts?zz=1");
    assert_problem(&base, 400, "validation");
    let sibling = proxy.get("/api/contactsx");
    assert_eq!(sibling.status, 404, "{}", sibling.body);
    assert_eq!(
        sibling.header("content-type"),
        Some("application/problem+json")
    );
    // The proxy's own health, and each group's through it.
    assert_eq!(proxy.get("/.well-known/spin/health").status, 200);
    for group in ["intake", "consent", "records"] {
        let health = proxy.get(&format!("/.well-known/spin/health/{group}"));
        assert_eq!(health.status, 200, "{group}: {}", health.body);
    }
    // A component not in a process is not served by it.
    let elsewhere = officer(deployment.replica("intake", 0), "officer-1").get("/api/interactions");
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
}

#[test]
fn racing_duplicate_intakes_on_two_replicas_create_one_contact() {
    let deployment = shared();
    let family = unique("Racer");
    let body = json!({"archetype": "individual", "family_name": family, "emails": [format!("{family}@example.com")]});
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|n| {
                let replica = deployment.replica("intake", n % 2);
                let body = &body;
                s.spawn(move || {
                    officer(replica, "officer-1")
                        .post_json("/api/contacts", body)
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
    let stored: i64 = deployment
        .db()
        .query_row(
            "SELECT COUNT(*) FROM contact_match_keys WHERE key = ?1",
            [format!("em:{}@example.com", family.to_lowercase())],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
}

#[test]
fn audit_and_interaction_chains_stay_single_under_writers_in_every_process() {
    let deployment = shared();
    let proxy = deployment.proxy();
    let contact = created_id(&officer(proxy, "officer-1").post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": unique("Chained")}),
    ));
    // Interaction appends on both records replicas, while intakes and
    // consents on the other processes append to the audit trail.
    let sequences: Vec<u64> = std::thread::scope(|s| {
        let appenders: Vec<_> = (0..4)
            .map(|t| {
                let replica = deployment.replica("records", t % 2);
                let contact = &contact;
                s.spawn(move || {
                    (0..6)
                        .map(|n| {
                            let reply = officer(replica, "officer-1").post_json(
                                "/api/interactions",
                                &json!({
                                    "contact_id": contact, "channel": "phone", "direction": "inbound",
                                    "category": "enquiry", "occurred_at": "2026-05-01T10:00:00Z",
                                    "subject": format!("Call {t}.{n}"),
                                }),
                            );
                            assert_eq!(reply.status, 201, "{}", reply.body);
                            reply.json()["sequence"].as_u64().expect("sequence")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let others: Vec<_> = (0..4)
            .map(|t| {
                let deployment = &deployment;
                s.spawn(move || {
                    for n in 0..4 {
                        let host = if t % 2 == 0 {
                            deployment.replica("intake", n % 2)
                        } else {
                            deployment.replica("consent", 0)
                        };
                        let reply = if t % 2 == 0 {
                            officer(host, "officer-2").post_json(
                                "/api/contacts",
                                &json!({"archetype": "individual", "display_name": unique("Busy")}),
                            )
                        } else {
                            admin(host, "admin-1").get("/api/consents/purposes")
                        };
                        assert!(reply.status < 300, "{}", reply.body);
                    }
                })
            })
            .collect();
        for other in others {
            other.join().unwrap();
        }
        appenders
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let sequences: Vec<u64> = {
        let mut sorted = sequences;
        sorted.sort_unstable();
        sorted
    };
    assert_eq!(sequences, (1..=24).collect::<Vec<_>>());
    let interactions =
        auditor(proxy).get(&format!("/api/interactions/verify?contact_id={contact}"));
    assert_eq!(interactions.status, 200, "{}", interactions.body);
    let interactions = interactions.json();
    assert_eq!(interactions["valid"], true, "{interactions}");
    assert_eq!(interactions["entries"], 24, "{interactions}");
    let verdict = audit_verdict(deployment);
    assert_eq!(verdict["valid"], true, "{verdict}");
    // And offline, over the file every process wrote.
    let db = deployment.state.path().join("sqlite_db.db");
    let offline = cli(&["audit", "verify", "--db", db.to_str().unwrap()]);
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stdout)
    );
}

#[test]
fn an_idempotency_key_is_honoured_across_replicas() {
    let deployment = shared();
    let body = json!({"archetype": "individual", "family_name": unique("Keyed"), "emails": ["keyed@example.com"]});
    let send = |index: usize| {
        officer(deployment.replica("intake", index), "officer-1")
            .header(
                "idempotency-key",
                &format!("scale-{}", body["family_name"].as_str().unwrap()),
            )
            .post_json("/api/contacts", &body)
    };
    let first = send(0);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = send(1);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
}

/// Four writers send `write(writer, n)` (a path and a body) through the
/// proxy, before, across and after a SIGKILL of replica 0 of `group`; the
/// ids of the writes acknowledged with a 2xx.
fn writes_across_a_kill(
    deployment: &Deployment,
    group: &str,
    write: impl Fn(usize, usize) -> (&'static str, Value) + Sync,
) -> Vec<String> {
    let proxy = deployment.proxy();
    let victim = deployment.replica(group, 0);
    let killed = AtomicBool::new(false);
    let acknowledged: Vec<String> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (killed, write) = (&killed, &write);
                s.spawn(move || {
                    let mut ids = Vec::new();
                    // Writes before the kill, across it, and 8 after it.
                    let mut after = 0;
                    for n in 0.. {
                        if killed.load(Ordering::SeqCst) {
                            after += 1;
                            if after > 8 {
                                break;
                            }
                        }
                        let (path, body) = write(t, n);
                        let reply = officer(proxy, "officer-1").post_json(path, &body);
                        // A request cut off by the kill is answered 502 by
                        // the proxy: not acknowledged, so not owed.
                        if (200..300).contains(&reply.status) {
                            ids.push(reply.json()["id"].as_str().expect("id").to_string());
                        } else {
                            assert_eq!(reply.status, 502, "{}", reply.body);
                        }
                    }
                    ids
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SIGKILL, as a crash. SAFETY: kill(2) on a child of this process.
        unsafe { libc::kill(victim.pid() as libc::pid_t, libc::SIGKILL) };
        killed.store(true, Ordering::SeqCst);
        writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    // Each group's writes here go to its first component.
    assert!(
        served(victim, &deployment.group(group).components[0]) > 0,
        "the killed replica had served nothing"
    );
    assert!(
        acknowledged.len() >= 30,
        "only {} acknowledged",
        acknowledged.len()
    );
    let unique_ids: BTreeSet<&String> = acknowledged.iter().collect();
    assert_eq!(unique_ids.len(), acknowledged.len());
    acknowledged
}

#[test]
fn killing_an_intake_replica_loses_no_acknowledged_write() {
    let deployment = Deployment::start(groups());
    let acknowledged = writes_across_a_kill(&deployment, "intake", |t, n| {
        let name = format!("Survivor {t}.{n}");
        (
            "/api/contacts",
            json!({"archetype": "individual", "display_name": name}),
        )
    });
    for id in &acknowledged {
        let read = officer(deployment.proxy(), "officer-1").get(&format!("/api/contacts/{id}"));
        assert_eq!(read.status, 200, "{id}: {}", read.body);
    }
    let verdict = audit_verdict(&deployment);
    assert_eq!(verdict["valid"], true, "{verdict}");
}

#[test]
fn killing_a_records_replica_mid_append_leaves_one_whole_chain() {
    let deployment = Deployment::start(groups());
    let proxy = deployment.proxy();
    let contact = created_id(&officer(proxy, "officer-1").post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Appended Across"}),
    ));
    let acknowledged = writes_across_a_kill(&deployment, "records", |t, n| {
        let body = json!({
            "contact_id": contact, "channel": "phone", "direction": "inbound",
            "category": "enquiry", "occurred_at": "2026-05-01T10:00:00Z",
            "subject": format!("Call {t}.{n}"),
        });
        ("/api/interactions", body)
    });
    for id in &acknowledged {
        let read = officer(proxy, "officer-1").get(&format!("/api/interactions/{id}"));
        assert_eq!(read.status, 200, "{id}: {}", read.body);
    }
    let chain = auditor(proxy).get(&format!("/api/interactions/verify?contact_id={contact}"));
    assert_eq!(chain.status, 200, "{}", chain.body);
    let chain = chain.json();
    assert_eq!(chain["valid"], true, "{chain}");
    // An append committed as its process died is in the chain unacknowledged.
    assert!(
        chain["entries"].as_u64().unwrap() >= acknowledged.len() as u64,
        "{chain}"
    );
    let verdict = audit_verdict(&deployment);
    assert_eq!(verdict["valid"], true, "{verdict}");
}

/// A records process killed while consent is withdrawn elsewhere catches up
/// from the outbox when it comes back: the withdrawal, recorded by the
/// consent process while no notification process ran, cancels the message
/// queued before it.
#[test]
fn a_restarted_process_catches_up_from_the_outbox() {
    let state = tempfile::tempdir().unwrap();
    let intake = replica(state.path(), &["contact-intake"]);
    let consent_process = replica(state.path(), &["consent"]);
    let records = replica(state.path(), &["interaction-log", "notification", "audit"]);
    let reply = admin(&consent_process, "admin-1").post_json(
        "/api/consents/purposes",
        &crm_tests::consent::direct_purpose("reminders"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let contact = created_id(&officer(&intake, "officer-1").post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Caught Up",
                "email": "caught.up@example.gov.au", "preferred_channel": "email"}),
    ));
    let given = officer(&consent_process, "officer-1").post_json(
        "/api/consents",
        &crm_tests::consent::decision(&contact, "reminders", "email", "given", "officer-1"),
    );
    assert_eq!(given.status, 201, "{}", given.body);
    let template = crm_tests::app::comms(&records, "comms-1").post_json(
        "/api/templates",
        &json!({"name": "Later", "type": "email", "subject": "Later",
                "body": "See you", "purpose": "reminders"}),
    );
    let template = created_id(&template);
    // Due tomorrow, so only the withdrawal can move it before the test ends.
    let tomorrow: String = rusqlite::Connection::open_in_memory()
        .unwrap()
        .query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 day')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let queued = created_id(&crm_tests::app::comms(&records, "comms-1").post_json(
        "/api/notifications",
        &json!({"template_id": template, "contact_id": contact,
                "scheduled_for": tomorrow}),
    ));

    // SAFETY: kill(2) on a child of this process.
    unsafe { libc::kill(records.pid() as libc::pid_t, libc::SIGKILL) };
    drop(records);
    let withdrawn = officer(&consent_process, "officer-1").post_json(
        "/api/consents/withdrawals",
        &crm_tests::consent::withdrawal(&contact, "reminders", "email"),
    );
    assert!(matches!(withdrawn.status, 200 | 201), "{}", withdrawn.body);

    let records = replica(state.path(), &["interaction-log", "notification", "audit"]);
    let summary = admin(&records, "admin-1").post_json("/api/notifications/dispatch", &json!({}));
    assert_eq!(summary.status, 200, "{}", summary.body);
    assert!(
        summary.json()["withdrawals_cancelled"].as_u64().unwrap() >= 1,
        "{}",
        summary.body
    );
    let read =
        crm_tests::app::comms(&records, "comms-1").get(&format!("/api/notifications/{queued}"));
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["status"], "cancelled", "{}", read.body);
    drop((intake, consent_process));
}
