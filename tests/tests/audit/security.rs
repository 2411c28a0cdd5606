use base64::Engine;
use crm_auth::jwt::signing::{SigningKey, jwks, sign_with_header};
use crm_tests::app::{App, assert_problem, new_contact, request_id};
use crm_tests::auth::{
    DEV_ISSUER, api_key, claims, cli, cli_ok, dev_key, link_citizen, now_secs, token,
};
use crm_tests::{Host, Reply, Value, json};

use crate::{CHECKPOINT_SEED, app, host};

/// Audit rows for `request_id`, as (action, outcome, detail).
fn audited(request_id: &str) -> Vec<(String, String, Option<String>)> {
    app().audit_entries("action, outcome, detail", "request_id", request_id, |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// A bad credential is a 401 with a Bearer challenge, and is audited.
fn assert_refused(reply: &Reply, needle: &str) {
    let body = assert_problem(reply, 401, "unauthorized");
    let challenge = reply.header("www-authenticate").expect("challenge");
    assert!(challenge.starts_with("Bearer realm=\"crm\""), "{challenge}");
    assert!(
        body["detail"].as_str().unwrap().contains(needle),
        "{needle} not in {body}"
    );
    let entries = audited(&request_id(reply));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "authenticate");
    assert_eq!(entries[0].1, "denied");
    assert!(entries[0].2.as_deref().unwrap().contains(needle));
}

#[test]
fn a_request_without_a_credential_is_refused_and_audited() {
    let reply = host().get("/api/contacts/con_x");
    assert_refused(&reply, "no credential");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer realm=\"crm\"")
    );
    let basic = host().request(
        "GET",
        "/api/audit/entries",
        &[("authorization", "Basic dXNlcjpwYXNz")],
        None,
    );
    assert_refused(&basic, "Bearer scheme");
    // The host's own endpoints stay open.
    assert_eq!(host().get("/.well-known/spin/health").status, 200);
}

#[test]
fn invalid_tokens_are_refused_with_the_reason() {
    let contact = new_contact(host(), "Token Target");
    let path = format!("/api/contacts/{contact}");
    let key = dev_key();
    let with = |name: &str, value: Value| {
        let mut c = claims("staff-1", &["case-worker"]);
        c[name] = value;
        key.sign(&c)
    };
    let now = now_secs();
    let cases = [
        (with("exp", json!(now - 120)), "expired"),
        (with("nbf", json!(now + 600)), "not valid yet"),
        (with("iss", json!("https://evil.example")), "not trusted"),
        (with("aud", json!("another-service")), "audience"),
        (
            SigningKey::generate_es256("crm-dev-1").sign(&claims("staff-1", &["case-worker"])),
            "signature",
        ),
        (
            sign_with_header(
                &json!({"alg": "none", "typ": "JWT"}),
                &claims("staff-1", &["administrator"]),
                |_| vec![],
            ),
            "algorithm `none`",
        ),
        (
            // HMAC keyed with the published public key: alg confusion.
            sign_with_header(
                &json!({"alg": "HS256", "kid": "crm-dev-1"}),
                &claims("staff-1", &["administrator"]),
                |input| hmac_sha256(jwks(&[&key]).as_bytes(), input),
            ),
            "algorithm `HS256`",
        ),
        ("not-a-jwt".to_string(), "compact JWS"),
    ];
    for (bad, needle) in cases {
        let reply = host().as_caller(&bad).purpose("case-management").get(&path);
        assert_refused(&reply, needle);
    }
    // The same request with a good token works.
    let good = host()
        .as_caller(&token("staff-1", &["case-worker"]))
        .purpose("case-management")
        .get(&path);
    assert_eq!(good.status, 200, "{}", good.body);
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<_>>();
    let inner = Sha256::digest([pad(0x36), message.to_vec()].concat());
    Sha256::digest([pad(0x5c), inner.to_vec()].concat()).to_vec()
}

#[test]
fn roles_grant_only_what_the_matrix_says() {
    let contact = new_contact(host(), "Matrix Person");
    let path = format!("/api/contacts/{contact}");
    let as_role = |roles: &[&str]| {
        host()
            .as_caller(&token("staff-9", roles))
            .purpose("case-management")
    };
    // A communications officer may read but not create contacts.
    assert_eq!(as_role(&["communications-officer"]).get(&path).status, 200);
    let denied = as_role(&["communications-officer"]).post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "X"}),
    );
    assert_problem(&denied, 403, "forbidden");
    let entries = audited(&request_id(&denied));
    assert_eq!(entries[0].0, "contact.create");
    assert_eq!(entries[0].1, "denied");
    // Auditors read the trail, not the records.
    assert_problem(&as_role(&["auditor"]).get(&path), 403, "forbidden");
    // Escalation attempts: unknown or service roles in a token grant nothing,
    // and citizen mixed with staff roles is refused outright.
    assert_problem(&as_role(&["root", "service"]).get(&path), 403, "forbidden");
    let mut stringly = claims("staff-9", &[]);
    stringly["roles"] = json!("administrator");
    let reply = host()
        .as_caller(&dev_key().sign(&stringly))
        .get("/api/audit/verify");
    assert_problem(&reply, 403, "forbidden");
    let mixed = host()
        .as_caller(&token("citizen-9", &["citizen", "administrator"]))
        .get("/api/audit/verify");
    assert_refused(&mixed, "mixes the citizen role");
    // Role names are case-sensitive: no "Administrator" back door.
    assert_problem(
        &as_role(&["Administrator"]).get("/api/audit/verify"),
        403,
        "forbidden",
    );
}

#[test]
fn reads_of_personal_information_state_a_purpose() {
    let contact = new_contact(host(), "Purposeful");
    let path = format!("/api/contacts/{contact}");
    let caseworker = || host().as_caller(&token("staff-3", &["case-worker"]));
    let missing = caseworker().get(&path);
    let body = assert_problem(&missing, 400, "purpose-of-use");
    assert_eq!(body["errors"][0]["field"], "purpose-of-use");
    assert_eq!(audited(&request_id(&missing))[0].1, "denied");
    assert_problem(
        &caseworker().purpose("curiosity").get(&path),
        400,
        "purpose-of-use",
    );
    let ok = caseworker().purpose("complaint-handling").get(&path);
    assert_eq!(ok.status, 200);
    let purpose: String = app()
        .db()
        .query_row(
            "SELECT purpose FROM audit_entries WHERE request_id = ?1",
            [request_id(&ok)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(purpose, "complaint-handling");
}

#[test]
fn api_keys_are_hashed_scoped_revocable_and_expire() {
    let contact = new_contact(host(), "Keyed");
    let key = api_key(&app().db_path(), "partner-portal", &["contact.read"]);
    let key_id = key.split('_').nth(1).unwrap().to_string();
    let stored: String = app()
        .db()
        .query_row(
            "SELECT secret_hash FROM api_keys WHERE key_id = ?1",
            [&key_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !key.contains(&stored),
        "only a hash of the secret is stored"
    );
    let path = format!("/api/contacts/{contact}");
    let portal = || host().as_caller(&key).purpose("service-delivery");
    let read = portal().get(&path);
    assert_eq!(read.status, 200, "{}", read.body);
    let actor: String = app()
        .db()
        .query_row(
            "SELECT actor_id FROM audit_entries WHERE request_id = ?1",
            [request_id(&read)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, format!("key:{key_id}"));
    // Outside its scopes.
    assert_problem(
        &portal().post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": "Y"}),
        ),
        403,
        "forbidden",
    );
    // A wrong secret for a real key id.
    let mut wrong = key.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert_refused(
        &host()
            .as_caller(&wrong)
            .purpose("service-delivery")
            .get(&path),
        "not recognised",
    );
    // Privileged scopes cannot be granted at all.
    let refused = cli(&[
        "api-key",
        "create",
        "--db",
        app().db_path().to_str().unwrap(),
        "--owner",
        "x",
        "--scope",
        "audit.read",
    ]);
    assert!(!refused.status.success());
    // Revocation takes effect on the very next request.
    cli_ok(&[
        "api-key",
        "revoke",
        "--db",
        app().db_path().to_str().unwrap(),
        &key_id,
    ]);
    assert_refused(&portal().get(&path), "revoked");
    // Expiry.
    let expiring = api_key(&app().db_path(), "short-lived", &["contact.read"]);
    let expiring_id = expiring.split('_').nth(1).unwrap();
    app()
        .db()
        .execute(
            "UPDATE api_keys SET expires_at = 1 WHERE key_id = ?1",
            [expiring_id],
        )
        .unwrap();
    assert_refused(
        &host()
            .as_caller(&expiring)
            .purpose("service-delivery")
            .get(&path),
        "expired",
    );
}

#[test]
fn a_citizen_sees_only_their_own_record_and_who_looked_at_it() {
    let mine = new_contact(host(), "Citizen Self");
    let theirs = new_contact(host(), "Someone Else");
    link_citizen(&app().db_path(), "citizen-42", &mine);
    let citizen = || host().as_caller(&token("citizen-42", &["citizen"]));
    assert_eq!(
        citizen().get(&format!("/api/contacts/{mine}")).status,
        200,
        "own record, no purpose header needed (self-access)"
    );
    // Another contact looks exactly like a missing one.
    let other = citizen().get(&format!("/api/contacts/{theirs}"));
    let missing = citizen().get("/api/contacts/con_does_not_exist");
    assert_problem(&other, 404, "not-found");
    assert_problem(&missing, 404, "not-found");
    assert_eq!(
        audited(&request_id(&other)),
        [(
            "contact.read".to_string(),
            "denied".to_string(),
            Some("not-own-record".to_string())
        )]
    );
    // Unlinked citizens reach nothing.
    assert_problem(
        &host()
            .as_caller(&token("citizen-unlinked", &["citizen"]))
            .get(&format!("/api/contacts/{mine}")),
        404,
        "not-found",
    );
    // Staff read the record; the citizen's access log shows it by role.
    let staff = host()
        .as_caller(&token("officer-77", &["case-worker"]))
        .purpose("case-management")
        .get(&format!("/api/contacts/{mine}"));
    assert_eq!(staff.status, 200);
    let log = citizen().get("/api/audit/me");
    assert_eq!(log.status, 200, "{}", log.body);
    let accesses = log.json()["accesses"].as_array().unwrap().clone();
    let staff_read = accesses
        .iter()
        .find(|a| a["role"] == "case-worker" && a["action"] == "contact.read")
        .expect("the case worker's read is in the log");
    assert_eq!(staff_read["purpose"], "case-management");
    assert_eq!(
        staff_read["actor"],
        Value::Null,
        "staff ids hidden by default"
    );
    assert!(
        accesses.iter().any(|a| a["actor"] == "you"),
        "the citizen's own reads show as theirs"
    );
    assert!(
        accesses
            .iter()
            .all(|a| !a["resource"].as_str().unwrap().contains(&theirs)),
        "nothing about other contacts"
    );
    // The access log is the citizen's: staff cannot call it.
    assert_problem(
        &host()
            .as_caller(&token("auditor-1", &["auditor"]))
            .get("/api/audit/me"),
        403,
        "forbidden",
    );
}

#[test]
fn auditors_filter_the_trail_and_others_cannot_read_it() {
    let contact = new_contact(host(), "Filtered");
    new_contact(host(), "Filtered Too");
    let auditor = || {
        host()
            .as_caller(&token("auditor-5", &["auditor"]))
            .purpose("audit")
    };
    let page = auditor().get(&format!(
        "/api/audit/entries?subject_contact_id={contact}&action=contact.create"
    ));
    assert_eq!(page.status, 200, "{}", page.body);
    let entries = page.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor_id"], "staff:intake-1");
    assert_eq!(entries[0]["role"], "intake-officer");
    let by_actor = auditor()
        .get("/api/audit/entries?actor=staff:intake-1&limit=2")
        .json();
    assert!(
        by_actor["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_id"] == "staff:intake-1")
    );
    assert!(
        by_actor["next"]
            .as_str()
            .unwrap()
            .contains("actor=staff%3Aintake-1")
    );
    let later = auditor().get(&format!("/api/audit/entries?since={}", i64::MAX / 2));
    assert_eq!(later.json()["entries"].as_array().unwrap().len(), 0);
    assert_problem(
        &host()
            .as_caller(&token("admin-1", &["administrator"]))
            .purpose("audit")
            .get("/api/audit/entries"),
        403,
        "forbidden",
    );
}

/// Tampering with the trail in the database file is caught by `verify` and
/// by `crm-cli`; a signed checkpoint catches entries cut off the end. Its
/// own host and state, since it breaks the chain.
#[test]
fn tampering_is_caught_by_the_chain_the_checkpoints_and_crm_cli() {
    let key = format!("audit_checkpoint_key={CHECKPOINT_SEED}");
    let App { host, state, .. } = App::start(&["--variable", &key]);
    let auditor = || host.as_caller(&token("auditor-7", &["auditor"]));
    let officer = host.as_caller(&token("officer-7", &["intake-officer"]));
    for name in ["A", "B", "C", "D"] {
        let reply = officer.post_json(
            "/api/contacts",
            &json!({"archetype": "business", "display_name": name}),
        );
        assert_eq!(reply.status, 201);
    }
    let checkpoint = auditor().post_json("/api/audit/checkpoints", &json!({}));
    assert_eq!(checkpoint.status, 201, "{}", checkpoint.body);
    let checkpoint = checkpoint.json();
    let public_key = checkpoint["public_key"].as_str().unwrap().to_string();
    let size = checkpoint["size"].as_i64().unwrap();
    assert!(size >= 5, "four creates and the checkpoint's own entry");
    let db_file = state.path().join("sqlite_db.db");
    let db_arg = db_file.to_str().unwrap();
    let cli_verify = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--db", db_arg];
        args.extend(extra);
        cli(&args)
    };
    assert!(cli_verify(&["--public-key", &public_key]).status.success());
    let verdict = auditor().get("/api/audit/verify").json();
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["checkpoints"]["signatures_checked"], true);

    // Cut the last entries off: the chain alone still links up, the
    // checkpoint does not.
    let db = rusqlite::Connection::open(&db_file).unwrap();
    db.execute_batch("DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;")
        .unwrap();
    db.execute("DELETE FROM audit_entries WHERE sequence >= ?1", [size - 1])
        .unwrap();
    let verdict = auditor().get("/api/audit/verify").json();
    assert_eq!(verdict["valid"], false, "{verdict}");
    assert!(verdict.get("first_broken_sequence").is_none());
    let reason = verdict["checkpoints"]["failures"][0]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("removed from its end"), "{reason}");
    let offline = cli_verify(&["--public-key", &public_key]);
    assert_eq!(offline.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&offline.stdout).contains("removed from its end"));

    // Edit an entry in the middle: the first broken link is reported.
    db.execute(
        "UPDATE audit_entries SET outcome = 'denied' WHERE sequence = 2",
        [],
    )
    .unwrap();
    let verdict = auditor().get("/api/audit/verify").json();
    assert_eq!(verdict["first_broken_sequence"], 2, "{verdict}");
    let offline: Value = serde_json::from_slice(&cli_verify(&[]).stdout).unwrap();
    assert_eq!(offline["first_broken_sequence"], 2);
    // A forged checkpoint signature is caught.
    db.execute(
        "UPDATE audit_checkpoints SET created_at = created_at + 1",
        [],
    )
    .unwrap();
    let offline: Value =
        serde_json::from_slice(&cli_verify(&["--public-key", &public_key]).stdout).unwrap();
    assert!(
        offline["checkpoints"]["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["reason"] == "the signature does not verify"),
        "{offline}"
    );
    assert!(host.stop().success());
}

/// Audited requests racing each other (single entries, and searches that
/// append one entry per contact found in one write) extend one chain: each
/// request's entries exactly once, sequences without gaps, times never
/// going back along the chain, and `verify` finds it whole.
#[test]
fn concurrent_audited_requests_extend_one_unbroken_chain() {
    let tag = "Chainrace";
    let contacts: Vec<String> = (0..3)
        .map(|i| new_contact(host(), &format!("{tag} Person{i}")))
        .collect();
    let answered: Vec<(String, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|thread| {
                let contacts = &contacts;
                scope.spawn(move || {
                    let reader = || {
                        host()
                            .as_caller(&token(&format!("racer-{thread}"), &["case-worker"]))
                            .purpose("case-management")
                    };
                    (0..15)
                        .map(|i| {
                            if (thread + i) % 3 == 0 {
                                let reply = reader().get(&format!("/api/contacts?name={tag}"));
                                assert_eq!(reply.status, 200, "{}", reply.body);
                                let found = reply.json()["items"].as_array().unwrap().len();
                                assert_eq!(found, 3, "{}", reply.body);
                                // The search itself, then one entry per contact found.
                                (request_id(&reply), 1 + found)
                            } else {
                                let reply =
                                    reader().get(&format!("/api/contacts/{}", contacts[i % 3]));
                                assert_eq!(reply.status, 200, "{}", reply.body);
                                (request_id(&reply), 1)
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for (request_id, expected) in &answered {
        let entries = audited(request_id);
        assert_eq!(entries.len(), *expected, "{request_id}: {entries:?}");
        assert!(entries.iter().all(|(_, outcome, _)| outcome == "allowed"));
    }
    let trail: Vec<(i64, i64)> = {
        let db = app().db();
        let mut statement = db
            .prepare("SELECT sequence, recorded_at FROM audit_entries ORDER BY sequence")
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(trail[0].0, 1);
    for pair in trail.windows(2) {
        assert_eq!(pair[1].0, pair[0].0 + 1, "a gap in the sequence");
        assert!(pair[1].1 >= pair[0].1, "time went back: {pair:?}");
    }
    let verdict = host()
        .as_caller(&token("auditor-race", &["auditor"]))
        .purpose("audit")
        .get("/api/audit/verify")
        .json();
    assert_eq!(verdict["valid"], true, "{verdict}");
}

/// Keys fetched from the issuer's JWKS URL (here an RS256 key on a local
/// server standing in for the identity provider), cached in key-value.
#[test]
fn a_jwks_fetched_from_the_issuer_is_used_and_cached() {
    let key = SigningKey::generate_rs256("idp-rsa-1", 2048);
    let document: &'static str = Box::leak(jwks(&[&key]).into_boxed_str());
    let idp = crm_tests::LocalServer::start(document);
    let origin = format!("http://127.0.0.1:{}", idp.port);
    let url = format!("auth_jwks_url={origin}/jwks.json");
    let origin_var = format!("auth_jwks_origin={origin}");
    let App { host, state, .. } = App::start(&["--variable", &url, "--variable", &origin_var]);
    // Three different tokens, so each is verified against the keys (the
    // verified-token cache cannot answer for them): the JWKS comes from the
    // key-value cache after the first fetch.
    for name in ["First", "Second", "Third"] {
        let mut c = claims(&format!("staff-rsa-{name}"), &["intake-officer"]);
        c["iss"] = json!(DEV_ISSUER);
        let reply = host.as_caller(&key.sign(&c)).post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": name}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(
        *idp.hits.lock().unwrap(),
        1,
        "the JWKS is fetched once, then cached"
    );
    let kv = rusqlite::Connection::open(state.path().join("sqlite_key_value.db")).unwrap();
    let cached: String = kv
        .query_row(
            "SELECT key FROM spin_key_value WHERE key LIKE 'auth:jwks:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cached, format!("auth:jwks:{origin}/jwks.json"));
    // The development key is not in the fetched set.
    let reply = host
        .as_caller(&token("staff-dev", &["intake-officer"]))
        .post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": "Dev"}),
        );
    assert_eq!(reply.status, 401, "{}", reply.body);
    // An unknown kid refetches only when the cached set is old enough, so a
    // flood of bad tokens cannot turn into a flood of fetches.
    assert_eq!(*idp.hits.lock().unwrap(), 1);
    assert!(host.stop().success());
}

#[test]
fn dev_tokens_from_crm_cli_are_accepted() {
    let token = cli_ok(&["dev-token", "--role", "intake-officer", "--sub", "cli-user"]);
    let reply = host().as_caller(&token).post_json(
        "/api/contacts",
        &json!({"archetype": "partner", "display_name": "Via CLI"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let expired = cli_ok(&[
        "dev-token",
        "--role",
        "intake-officer",
        "--ttl-secs",
        "-3600",
    ]);
    assert_refused(
        &host().as_caller(&expired).get("/api/contacts/x"),
        "expired",
    );
    let jwks: Value = serde_json::from_str(&cli_ok(&["dev-jwks"])).unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid);
}

/// A verified token is cached by digest (never the token itself) for at most
/// its own lifetime, so its signature is not checked on every request.
#[test]
fn verified_tokens_are_cached_by_digest_within_their_lifetime() {
    let mut c = claims("cache-user", &["intake-officer"]);
    let exp = now_secs() + 120;
    c["exp"] = json!(exp);
    let token = dev_key().sign(&c);
    for name in ["Cached One", "Cached Two"] {
        let reply = host().as_caller(&token).post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": name}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let rows: Vec<(String, String, i64)> = {
        let db = app().db();
        let mut statement = db
            .prepare("SELECT digest, token, cache_until FROM auth_token_cache WHERE token LIKE '%cache-user%'")
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(rows.len(), 1, "one verification for two requests");
    let (digest, cached, until) = &rows[0];
    assert_eq!(digest.len(), 64);
    assert!(!cached.contains(&token) && !cached.contains(token.split('.').nth(2).unwrap()));
    assert!(*until <= exp * 1000, "never trusted past exp");
}

#[test]
fn a_callers_request_id_is_kept_only_when_it_is_a_plausible_correlation_id() {
    let plain = host().request(
        "GET",
        "/api/contacts/con_x",
        &[("x-request-id", "portal-7f3a.42:b_c")],
        None,
    );
    assert_eq!(request_id(&plain), "portal-7f3a.42:b_c");
    assert_eq!(audited("portal-7f3a.42:b_c").len(), 1);
    let long = "x".repeat(65);
    for forged in [long.as_str(), "with space", "quote\"d", ""] {
        let reply = host().request(
            "GET",
            "/api/contacts/con_x",
            &[("x-request-id", forged)],
            None,
        );
        let id = request_id(&reply);
        assert_ne!(id, forged, "a forged request id was kept");
        assert!(id.starts_with("req"), "{id}");
        assert_eq!(
            audited(&id).len(),
            1,
            "the denial is audited under the new id"
        );
    }
}

#[test]
fn a_token_with_an_unusable_subject_is_refused() {
    for subject in ["s".repeat(256), "two words".to_string()] {
        let reply = host()
            .as_caller(&token(&subject, &["case-worker"]))
            .purpose("case-management")
            .post_json(
                "/api/consents",
                &json!({"contact_id": "con_x", "purpose": "status-updates"}),
            );
        assert_refused(&reply, "sub");
    }
}

/// `crm-cli audit verify` on a copy of the trail with one entry taken out
/// of its middle: the next entry is reported as the first broken link, and
/// closing the gap by renumbering the rest breaks the hash links instead.
#[test]
fn an_entry_deleted_from_the_middle_of_the_trail_is_caught_offline() {
    let first = new_contact(host(), "Middle First");
    let middle = new_contact(host(), "Middle Second");
    let last = new_contact(host(), "Middle Third");
    // A consistent copy of the shared host's database (WAL included), to
    // tamper with while the host goes on writing its own.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    app()
        .db()
        .execute_batch(&format!("VACUUM INTO '{}'", copy.display()))
        .unwrap();
    let copy_arg = copy.to_str().unwrap();
    let verify = || {
        let output = cli(&["audit", "verify", "--db", copy_arg]);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "no report ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), report)
    };
    let (code, clean) = verify();
    assert_eq!(code, Some(0), "{clean}");
    assert_eq!(clean["valid"], true, "{clean}");
    let copied = rusqlite::Connection::open(&copy).unwrap();
    let created_entry = |contact: &str| -> i64 {
        copied
            .query_row(
                "SELECT sequence FROM audit_entries WHERE subject_contact_id = ?1 AND action = 'contact.create'",
                [contact],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (before, removed, after) = (
        created_entry(&first),
        created_entry(&middle),
        created_entry(&last),
    );
    assert!(
        before < removed && removed < after,
        "{before} {removed} {after}"
    );
    assert_eq!(clean["entries"].as_i64(), Some(copied_len(&copied)));

    // The append-only triggers stop the application, not someone with the file.
    assert!(
        copied
            .execute("DELETE FROM audit_entries WHERE sequence = ?1", [removed])
            .is_err()
    );
    copied
        .execute_batch(
            "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;",
        )
        .unwrap();
    assert_eq!(
        copied
            .execute("DELETE FROM audit_entries WHERE sequence = ?1", [removed])
            .unwrap(),
        1
    );
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["first_broken_sequence"], removed + 1, "{report}");
    assert_eq!(report["reason"], "an entry is missing before this one");
    assert_eq!(report["entries"], removed - 1, "verified up to the gap");

    // Renumbering the later entries to close the gap: the entry now at the
    // gap does not link to the one before it.
    copied
        .execute(
            "UPDATE audit_entries SET sequence = -sequence WHERE sequence > ?1",
            [removed],
        )
        .unwrap();
    copied
        .execute(
            "UPDATE audit_entries SET sequence = -sequence - 1 WHERE sequence < 0",
            [],
        )
        .unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["first_broken_sequence"], removed, "{report}");
    assert_eq!(
        report["reason"], "prev_hash does not match the previous entry",
        "{report}"
    );
    // The live trail is untouched.
    let verdict = host()
        .as_caller(&token("auditor-mid", &["auditor"]))
        .get("/api/audit/verify")
        .json();
    assert_eq!(verdict["valid"], true, "{verdict}");
}

fn copied_len(db: &rusqlite::Connection) -> i64 {
    db.query_row("SELECT COUNT(*) FROM audit_entries", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn auditors_filter_the_trail_by_resource() {
    let wanted = new_contact(host(), "Resource Wanted");
    let other = new_contact(host(), "Resource Other");
    let reader = || {
        host()
            .as_caller(&token("reader-res", &["case-worker"]))
            .purpose("case-management")
    };
    let read = reader().get(&format!("/api/contacts/{wanted}"));
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(reader().get(&format!("/api/contacts/{other}")).status, 200);
    let auditor = || {
        host()
            .as_caller(&token("auditor-res", &["auditor"]))
            .purpose("audit")
    };
    let resource = format!("contact/{wanted}");
    let stored: Vec<i64> = {
        let db = app().db();
        let mut statement = db
            .prepare("SELECT sequence FROM audit_entries WHERE resource = ?1 ORDER BY sequence")
            .unwrap();
        statement
            .query_map([&resource], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(stored.len() >= 2, "the create and the read: {stored:?}");
    let page = auditor().get(&format!("/api/audit/entries?resource=contact%2F{wanted}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let entries = page.json()["entries"].as_array().unwrap().clone();
    assert!(
        entries.iter().all(|e| e["resource"] == resource.as_str()),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["request_id"] == request_id(&read) && e["action"] == "contact.read"),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "contact.create" && e["subject_contact_id"] == wanted.as_str()),
        "{entries:?}"
    );
    assert!(!page.body.contains(&other), "{}", page.body);
    let sequences: Vec<i64> = entries
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, stored);
    // Page by page, the filter is kept.
    let mut paged = Vec::new();
    let mut next = Some(format!(
        "/api/audit/entries?resource=contact%2F{wanted}&limit=1"
    ));
    while let Some(path) = next {
        let page = auditor().get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let page = page.json();
        for e in page["entries"].as_array().unwrap() {
            assert_eq!(e["resource"], resource.as_str(), "{path}: {e}");
            paged.push(e["sequence"].as_i64().unwrap());
        }
        next = page["next"].as_str().map(str::to_string);
        if let Some(link) = &next {
            assert!(
                link.contains(&format!("resource=contact%2F{wanted}")),
                "{link}"
            );
        }
    }
    assert_eq!(paged, stored);
    let nothing = auditor().get("/api/audit/entries?resource=contact%2Fcon_nobody");
    assert_eq!(nothing.json()["entries"], json!([]));
}

/// Who looked at a citizen's record, as the citizen's access log shows it.
fn staff_read_in_access_log(host: &Host, db: &std::path::Path, tag: &str) -> Value {
    let officer = host.as_caller(&token(&format!("intake-{tag}"), &["intake-officer"]));
    let created = officer.post_json(
        "/api/contacts",
        &json!({"archetype": "individual", "display_name": "Logged Citizen"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let contact = created.json()["id"].as_str().unwrap().to_string();
    let citizen_sub = format!("citizen-{tag}");
    link_citizen(db, &citizen_sub, &contact);
    let staff = host
        .as_caller(&token(&format!("officer-{tag}"), &["case-worker"]))
        .purpose("case-management")
        .get(&format!("/api/contacts/{contact}"));
    assert_eq!(staff.status, 200, "{}", staff.body);
    let citizen = || host.as_caller(&token(&citizen_sub, &["citizen"]));
    assert_eq!(
        citizen().get(&format!("/api/contacts/{contact}")).status,
        200
    );
    let log = citizen().get("/api/audit/me");
    assert_eq!(log.status, 200, "{}", log.body);
    let accesses = log.json()["accesses"].as_array().unwrap().clone();
    assert!(
        accesses
            .iter()
            .any(|a| a["actor"] == "you" && a["action"] == "contact.read"),
        "the citizen's own reads show as theirs: {accesses:?}"
    );
    accesses
        .iter()
        .find(|a| a["role"] == "case-worker" && a["action"] == "contact.read")
        .unwrap_or_else(|| panic!("no staff read in {accesses:?}"))
        .clone()
}

#[test]
fn a_citizens_access_log_names_staff_by_id_only_when_configured() {
    // Default (the shared host): the role, never the id.
    let by_role = staff_read_in_access_log(host(), &app().db_path(), "role-only");
    assert_eq!(by_role["role"], "case-worker");
    assert_eq!(by_role["purpose"], "case-management");
    assert_eq!(by_role["actor"], Value::Null, "{by_role}");

    // `audit_me_staff_identity = "id"`: the staff id as well.
    let App {
        host: id_host,
        state,
        ..
    } = App::start(&["--variable", "audit_me_staff_identity=id"]);
    let by_id = staff_read_in_access_log(&id_host, &state.path().join("sqlite_db.db"), "with-id");
    assert_eq!(by_id["role"], "case-worker");
    assert_eq!(by_id["purpose"], "case-management");
    assert_eq!(by_id["actor"], "staff:officer-with-id", "{by_id}");
    assert!(id_host.stop().success());
}

/// One refusal by role: who asks what, and how it must be audited.
struct Refusal<'a> {
    role: &'a str,
    method: &'a str,
    path: &'a str,
    component: &'a str,
    body: Option<Value>,
    action: &'a str,
    resource: &'a str,
}

/// A 403 from each component: a problem, and exactly one `denied` entry for
/// the request naming the caller, the role, the action and the resource.
#[test]
fn every_refusal_by_role_is_audited_as_denied_in_every_component() {
    let contact = new_contact(host(), "Denied Everywhere");
    let contact_path = format!("/api/contacts/{contact}");
    let contact_resource = format!("contact/{contact}");
    let cases = [
        Refusal {
            role: "communications-officer",
            method: "POST",
            path: "/api/contacts",
            component: "contact-intake",
            body: Some(json!({"archetype": "individual", "display_name": "Not Mine"})),
            action: "contact.create",
            resource: "contacts",
        },
        Refusal {
            role: "intake-officer",
            method: "GET",
            path: "/api/audit/entries",
            component: "audit",
            body: None,
            action: "audit.read",
            resource: "audit/entries",
        },
        Refusal {
            role: "case-worker",
            method: "POST",
            path: "/api/consents/purposes",
            component: "consent",
            body: Some(
                json!({"id": "denied-purpose", "category": "research", "lawful_basis": "consent", "description": "Never added"}),
            ),
            action: "consent.catalogue-manage",
            resource: "consent-purpose/denied-purpose",
        },
        Refusal {
            role: "intake-officer",
            method: "GET",
            path: "/api/interactions/stats",
            component: "interaction-log",
            body: None,
            action: "interaction.stats",
            resource: "interactions/stats",
        },
        Refusal {
            role: "intake-officer",
            method: "POST",
            path: "/api/notifications/dispatch",
            component: "notification",
            body: Some(json!({})),
            action: "notification.dispatch",
            resource: "notifications/dispatch",
        },
        Refusal {
            role: "auditor",
            method: "GET",
            path: &contact_path,
            component: "contact-intake",
            body: None,
            action: "contact.read",
            resource: &contact_resource,
        },
    ];
    for case in cases {
        let sub = format!("denied-{}", case.role);
        let reply = host().as_caller(&token(&sub, &[case.role])).request(
            case.method,
            case.path,
            case.body.as_ref(),
        );
        let problem = assert_problem(&reply, 403, "forbidden");
        assert!(
            problem["detail"].as_str().unwrap().contains(case.action),
            "{}: {problem}",
            case.component
        );
        let rows: Vec<Value> = {
            let db = app().db();
            let mut statement = db
                .prepare("SELECT actor_id, role, action, resource, outcome, detail FROM audit_entries WHERE request_id = ?1 ORDER BY sequence")
                .unwrap();
            statement
                .query_map([request_id(&reply)], |r| {
                    Ok(json!({
                        "actor_id": r.get::<_, String>(0)?,
                        "role": r.get::<_, String>(1)?,
                        "action": r.get::<_, String>(2)?,
                        "resource": r.get::<_, String>(3)?,
                        "outcome": r.get::<_, String>(4)?,
                        "detail": r.get::<_, Option<String>>(5)?,
                    }))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            rows,
            [json!({
                "actor_id": format!("staff:{sub}"),
                "role": case.role,
                "action": case.action,
                "resource": case.resource,
                "outcome": "denied",
                "detail": "forbidden",
            })],
            "{}: {} {}",
            case.component,
            case.method,
            case.path
        );
    }
    // Nothing was written by the refused requests.
    let written = |sql: &str| -> i64 { app().db().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        written("SELECT COUNT(*) FROM consent_purposes WHERE id = 'denied-purpose'"),
        0
    );
    assert_eq!(
        written("SELECT COUNT(*) FROM contacts WHERE display_name = 'Not Mine'"),
        0
    );
}

/// A citizen lifting a do-not-contact entry the agency recorded is refused
/// with 403 after the action itself was allowed (the rule looks at the
/// entry's reason): that refusal too must be audited as `denied`.
#[test]
fn a_citizen_refused_a_staff_suppression_lift_is_audited_as_denied() {
    let contact = new_contact(host(), "Suppressed Citizen");
    let comms = host()
        .as_caller(&token("comms-dnc", &["communications-officer"]))
        .purpose("communications");
    let entry = comms.post_json(
        "/api/consents/suppressions",
        &json!({"contact_id": contact, "channel": "email", "reason": "complaint"}),
    );
    assert_eq!(entry.status, 201, "{}", entry.body);
    let entry_id = entry.json()["id"].as_str().unwrap().to_string();
    link_citizen(&app().db_path(), "citizen-lift", &contact);
    let refused = host()
        .as_caller(&token("citizen-lift", &["citizen"]))
        .post_json(
            &format!("/api/consents/suppressions/{entry_id}/lift"),
            &json!({"reason": "mine to lift"}),
        );
    assert_problem(&refused, 403, "forbidden");
    let entries = audited(&request_id(&refused));
    assert!(
        entries
            .iter()
            .any(|e| e.0 == "suppression.manage" && e.1 == "denied"),
        "a 403 must be recorded as denied: {entries:?}"
    );
    assert!(
        entries.iter().all(|e| e.1 != "allowed"),
        "a refused request must not be recorded as allowed: {entries:?}"
    );
}

#[test]
fn the_first_request_to_a_fresh_database_is_audited_even_when_refused() {
    // The audit-leaf leaf brings the schema up to date itself when its
    // append fails for want of it (here, before any component migrated).
    let App { host, state, .. } = App::start(&[]);
    let reply = host.get("/api/interactions?contact_id=con_x");
    assert_eq!(reply.status, 401, "{}", reply.body);
    let id = request_id(&reply);
    let db = rusqlite::Connection::open(state.path().join("sqlite_db.db")).unwrap();
    let (action, outcome): (String, String) = db
        .query_row(
            "SELECT action, outcome FROM audit_entries WHERE request_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("authenticate", "denied")
    );
    assert!(host.stop().success());
}

/// A read's audit entry is appended with `synchronous=NORMAL`: the read does
/// not wait for a disk sync, but the entry is in the WAL before the answer
/// leaves, so a host killed right after answering has lost none of them.
#[test]
fn the_audit_entries_of_answered_reads_survive_a_killed_host() {
    let App {
        host: own, state, ..
    } = App::start(&[]);
    let created = own
        .as_caller(&token("intake-1", &["intake-officer"]))
        .post_json(
            "/api/contacts",
            &json!({"archetype": "individual", "display_name": "Killed Host Reader"}),
        );
    assert_eq!(created.status, 201, "{}", created.body);
    let contact = created.json()["id"].as_str().expect("id").to_string();
    let reader = own
        .as_caller(&token("reader-1", &["case-worker"]))
        .purpose("case-management");
    let reads: Vec<String> = (0..30)
        .map(|_| {
            let reply = reader.get(&format!("/api/contacts/{contact}"));
            assert_eq!(reply.status, 200, "{}", reply.body);
            request_id(&reply)
        })
        .collect();
    // No drain and no clean close, well within the time the host takes to
    // sync a NORMAL commit.
    own.stop_with(libc::SIGKILL);

    let db_file = state.path().join("sqlite_db.db");
    let db = rusqlite::Connection::open(&db_file).expect("open the app database");
    for request_id in &reads {
        let outcomes: Vec<String> = db
            .prepare("SELECT outcome FROM audit_entries WHERE request_id = ?1 AND action = 'contact.read'")
            .unwrap()
            .query_map([request_id], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(outcomes, ["allowed"], "{request_id}");
    }
    drop(db);
    let verified = cli(&["audit", "verify", "--db", db_file.to_str().unwrap()]);
    assert!(verified.status.success(), "{verified:?}");
}

/// The longest text an audit entry holds in any column (docs/security.md).
const MAX_AUDIT_TEXT_CHARS: i64 = 512;

/// The longest text any column of `request_id`'s entries holds.
fn longest_audited_text(request_id: &str) -> i64 {
    app()
        .db()
        .query_row(
            "SELECT IFNULL(MAX(MAX(LENGTH(request_id), LENGTH(actor_id), LENGTH(role), \
             LENGTH(IFNULL(purpose, '')), LENGTH(action), LENGTH(resource), \
             LENGTH(IFNULL(subject_contact_id, '')), LENGTH(IFNULL(detail, '')))), 0) \
             FROM audit_entries WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .unwrap()
}

/// A purpose of use is one of `purposes_of_use` on any request, write or
/// read: another (here 100,000 characters) is a 400 naming the header,
/// recorded as one bounded denial, and never stored as a purpose.
#[test]
fn a_purpose_of_use_that_is_not_listed_is_refused_on_writes_and_reads() {
    let contact = new_contact(host(), "Purpose Bound");
    let huge = "p".repeat(100_000);
    let intake = || host().as_caller(&token("intake-9", &["intake-officer"]));
    let body = json!({"archetype": "individual", "display_name": "Purpose Bound Too"});
    let refused = [
        intake().purpose(&huge).post_json("/api/contacts", &body),
        intake()
            .purpose(&huge)
            .get(&format!("/api/contacts/{contact}")),
        intake()
            .purpose("marketing")
            .post_json("/api/contacts", &body),
    ];
    for reply in &refused {
        let problem = assert_problem(reply, 400, "purpose-of-use");
        assert_eq!(problem["errors"][0]["field"], "purpose-of-use", "{problem}");
        assert!(reply.body.len() < 2_000, "the answer echoes the header");
        let id = request_id(reply);
        let entries = audited(&id);
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].1, "denied");
        assert!(longest_audited_text(&id) <= MAX_AUDIT_TEXT_CHARS);
        let purposes: i64 = app()
            .db()
            .query_row(
                "SELECT COUNT(*) FROM audit_entries WHERE request_id = ?1 AND purpose IS NOT NULL",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(purposes, 0);
    }
    let listed = intake()
        .purpose("service-delivery")
        .post_json("/api/contacts", &body);
    assert_eq!(listed.status, 201, "{}", listed.body);
    let purpose: String = app()
        .db()
        .query_row(
            "SELECT purpose FROM audit_entries WHERE request_id = ?1 LIMIT 1",
            [request_id(&listed)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(purpose, "service-delivery");
}

/// Text a request chooses (here a 60,000-character path segment with a
/// control character) reaches the trail bounded and escaped.
#[test]
fn request_derived_text_reaches_the_trail_bounded() {
    let long_id = format!("con_{}%01x", "9".repeat(60_000));
    let reply = host()
        .as_caller(&token("intake-9", &["intake-officer"]))
        .purpose("service-delivery")
        .get(&format!("/api/contacts/{long_id}"));
    assert!(
        reply.status >= 400 && reply.status < 500,
        "{}",
        reply.status
    );
    let id = request_id(&reply);
    assert!(!audited(&id).is_empty());
    assert!(longest_audited_text(&id) <= MAX_AUDIT_TEXT_CHARS);
}

/// The entries of the request `reply` answered, as an auditor reads them
/// through the audit API: (action, resource, outcome, detail).
fn read_through_the_api(actor: &str, reply: &Reply) -> Vec<(String, String, String, Value)> {
    let page = host()
        .as_caller(&token("auditor-attempts", &["auditor"]))
        .purpose("audit")
        .get(&format!("/api/audit/entries?actor={actor}&limit=500"));
    assert_eq!(page.status, 200, "{}", page.body);
    let id = request_id(reply);
    page.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request_id"] == id.as_str())
        .map(|e| {
            let text = |name: &str| e[name].as_str().unwrap().to_string();
            (
                text("action"),
                text("resource"),
                text("outcome"),
                e["detail"].clone(),
            )
        })
        .collect()
}

/// Every attempt that reaches a component is in the trail, refused or not:
/// an unlinked citizen's consent and suppression reads that name no
/// contact (400 before any action of the matrix), a method a route does
/// not have (405) and a path with no operation (404).
#[test]
fn attempts_refused_before_an_action_are_audited() {
    let citizen = host().as_caller(&token("citizen-unlinked-15", &["citizen"]));
    for path in ["/api/consents", "/api/consents/suppressions"] {
        let reply = citizen.get(path);
        assert_problem(&reply, 400, "validation");
        assert_eq!(
            read_through_the_api("citizen:citizen-unlinked-15", &reply),
            [(
                "request".to_string(),
                path.to_string(),
                "denied".to_string(),
                json!("validation")
            )],
            "{path}"
        );
    }
    let staff = host()
        .as_caller(&token("staff-attempts-15", &["case-worker"]))
        .purpose("case-management");
    let not_allowed = staff.send("DELETE", "/api/contacts", None);
    assert_problem(&not_allowed, 405, "method-not-allowed");
    let no_operation = staff.get("/api/contacts/con_1/nothing-here");
    assert_problem(&no_operation, 404, "not-found");
    for (reply, path, detail) in [
        (&not_allowed, "/api/contacts", "method-not-allowed"),
        (
            &no_operation,
            "/api/contacts/con_1/nothing-here",
            "not-found",
        ),
    ] {
        assert_eq!(
            read_through_the_api("staff:staff-attempts-15", reply),
            [(
                "request".to_string(),
                path.to_string(),
                "denied".to_string(),
                json!(detail)
            )]
        );
    }
    // Without a credential it is the authentication that is refused.
    let anonymous = host().request("DELETE", "/api/contacts", &[], None);
    assert_refused(&anonymous, "no credential");
}
