//! The authentication tables (`migrations/0002_security.sql`,
//! `0008_token_cache.sql`): as every component reads them when it
//! authenticates a caller (a presented API key's stored row, a citizen's
//! link to their contact record, the cache of verified bearer tokens), and
//! as `crm-cli` writes them (issuing, listing and revoking keys, linking
//! citizens).
//! Failures are logged with their statement ([`crm_sql::run_logged`]);
//! callers answer them as a 500 without SQLite's words.

use crm_auth::api_key::{StoredKey, parse_scopes};
use crm_sql::{Sql, SqlError, Value, integer, run_logged, text};

/// The stored row of API key `key_id`, revoked or expired ones included
/// (the caller says why a key is refused).
pub fn stored_key(db: &impl Sql, key_id: &str) -> Result<Option<StoredKey>, SqlError> {
    let rows = run_logged(
        db,
        "SELECT key_id, secret_hash, owner, scopes, created_at, expires_at, revoked_at FROM api_keys WHERE key_id = ?",
        &[Value::from(key_id)],
    )?;
    Ok(rows.first().map(|v| StoredKey {
        key_id: text(&v[0]).unwrap_or_default(),
        secret_hash: text(&v[1]).unwrap_or_default(),
        owner: text(&v[2]).unwrap_or_default(),
        scopes: parse_scopes(&text(&v[3]).unwrap_or_default()),
        created_at: integer(&v[4]).unwrap_or_default(),
        expires_at: integer(&v[5]),
        revoked_at: integer(&v[6]),
    }))
}

/// The contact a citizen (`subject` at `issuer`) is linked to, if any.
pub fn citizen_link(
    db: &impl Sql,
    issuer: &str,
    subject: &str,
) -> Result<Option<String>, SqlError> {
    let rows = run_logged(
        db,
        "SELECT contact_id FROM citizen_links WHERE issuer = ? AND subject = ?",
        &[Value::from(issuer), Value::from(subject)],
    )?;
    Ok(rows.first().and_then(|row| text(&row[0])))
}

/// A verified token cached under `digest` that is still good at `now_ms`
/// (as the JSON it was cached as).
pub fn cached_token(db: &impl Sql, digest: &str, now_ms: i64) -> Result<Option<String>, SqlError> {
    let rows = run_logged(
        db,
        "SELECT token FROM auth_token_cache WHERE digest = ? AND cache_until > ?",
        &[Value::from(digest), Value::Integer(now_ms)],
    )?;
    Ok(rows.first().and_then(|row| text(&row[0])))
}

/// Caches a verified token until `cache_until_ms`, and drops up to 64
/// entries that lapsed by `now_ms`, so the table stays small without a
/// sweeper. Best effort: a failure costs a verification next time, so it is
/// not logged.
pub fn cache_token(
    db: &impl Sql,
    digest: &str,
    token_json: &str,
    cache_until_ms: i64,
    now_ms: i64,
) -> Result<(), SqlError> {
    db.run(
        "INSERT OR REPLACE INTO auth_token_cache (digest, token, cache_until) VALUES (?, ?, ?)",
        &[
            Value::from(digest),
            Value::from(token_json),
            Value::Integer(cache_until_ms),
        ],
    )?;
    db.run(
        "DELETE FROM auth_token_cache WHERE digest IN (SELECT digest FROM auth_token_cache WHERE cache_until <= ? LIMIT 64)",
        &[Value::Integer(now_ms)],
    )?;
    Ok(())
}

/// An API key as `crm-cli api-key list` shows it: its scopes as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    pub key_id: String,
    pub owner: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Stores an issued key (its secret only as the hash).
pub fn insert_key(
    db: &impl Sql,
    key: &StoredKey,
    description: Option<&str>,
) -> Result<(), SqlError> {
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    run_logged(
        db,
        "INSERT INTO api_keys (key_id, secret_hash, owner, scopes, created_at, expires_at, description) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(key.key_id.as_str()),
            Value::from(key.secret_hash.as_str()),
            Value::from(key.owner.as_str()),
            Value::from(scopes.join(" ")),
            Value::Integer(key.created_at),
            Value::from(key.expires_at),
            Value::from(description),
        ],
    )?;
    Ok(())
}

/// Every key, oldest first.
pub fn keys(db: &impl Sql) -> Result<Vec<ListedKey>, SqlError> {
    let rows = run_logged(
        db,
        "SELECT key_id, owner, scopes, created_at, expires_at, revoked_at FROM api_keys ORDER BY created_at",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|v| ListedKey {
            key_id: text(&v[0]).unwrap_or_default(),
            owner: text(&v[1]).unwrap_or_default(),
            scopes: text(&v[2])
                .unwrap_or_default()
                .split(' ')
                .map(str::to_string)
                .collect(),
            created_at: integer(&v[3]).unwrap_or_default(),
            expires_at: integer(&v[4]),
            revoked_at: integer(&v[5]),
        })
        .collect())
}

/// What revoking a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    NoSuchKey,
    AlreadyRevoked { at: i64 },
}

/// Revokes `key_id` at `now_ms`, unless it is unknown or already revoked
/// (one transaction, so two revocations cannot both succeed).
pub fn revoke_key(db: &impl Sql, key_id: &str, now_ms: i64) -> Result<Revocation, SqlError> {
    crm_sql::transaction(db, || {
        let rows = run_logged(
            db,
            "SELECT revoked_at FROM api_keys WHERE key_id = ?",
            &[Value::from(key_id)],
        )?;
        match rows.first().map(|row| integer(&row[0])) {
            None => Ok(Revocation::NoSuchKey),
            Some(Some(at)) => Ok(Revocation::AlreadyRevoked { at }),
            Some(None) => {
                run_logged(
                    db,
                    "UPDATE api_keys SET revoked_at = ? WHERE key_id = ?",
                    &[Value::Integer(now_ms), Value::from(key_id)],
                )?;
                Ok(Revocation::Revoked)
            }
        }
    })
}

/// Links a citizen (`subject` at `issuer`) to their contact record, or
/// moves an existing link to `contact_id`.
pub fn link_citizen(
    db: &impl Sql,
    issuer: &str,
    subject: &str,
    contact_id: &str,
    linked_at_ms: i64,
    linked_by: &str,
) -> Result<(), SqlError> {
    run_logged(
        db,
        "INSERT INTO citizen_links (issuer, subject, contact_id, linked_at, linked_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (issuer, subject) DO UPDATE SET contact_id = excluded.contact_id, linked_at = excluded.linked_at, linked_by = excluded.linked_by",
        &[
            Value::from(issuer),
            Value::from(subject),
            Value::from(contact_id),
            Value::Integer(linked_at_ms),
            Value::from(linked_by),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
        crm_migrations::migrate(&db).unwrap();
        (dir, db)
    }

    fn key(key_id: &str, created_at: i64) -> StoredKey {
        StoredKey {
            key_id: key_id.into(),
            secret_hash: "h".into(),
            owner: "svc:portal".into(),
            scopes: parse_scopes("contact.read contact.create"),
            created_at,
            expires_at: Some(9),
            revoked_at: None,
        }
    }

    #[test]
    fn a_stored_key_reads_back_with_its_scopes_and_dates() {
        let (_dir, db) = database();
        assert_eq!(stored_key(&db, "k1").unwrap(), None);
        insert_key(&db, &key("k1", 5), Some("the portal")).unwrap();
        let key = stored_key(&db, "k1").unwrap().unwrap();
        assert_eq!(
            (
                key.key_id.as_str(),
                key.secret_hash.as_str(),
                key.owner.as_str()
            ),
            ("k1", "h", "svc:portal")
        );
        assert_eq!(key.scopes, parse_scopes("contact.read contact.create"));
        assert_eq!(
            (key.created_at, key.expires_at, key.revoked_at),
            (5, Some(9), None)
        );
        assert_eq!(revoke_key(&db, "k1", 7).unwrap(), Revocation::Revoked);
        assert_eq!(stored_key(&db, "k1").unwrap().unwrap().revoked_at, Some(7));
        assert_eq!(
            revoke_key(&db, "k1", 8).unwrap(),
            Revocation::AlreadyRevoked { at: 7 }
        );
        assert_eq!(revoke_key(&db, "k2", 8).unwrap(), Revocation::NoSuchKey);
    }

    #[test]
    fn keys_are_listed_oldest_first_with_their_scopes_as_stored() {
        let (_dir, db) = database();
        insert_key(&db, &key("k2", 20), None).unwrap();
        insert_key(&db, &key("k1", 10), None).unwrap();
        let listed = keys(&db).unwrap();
        let ids: Vec<&str> = listed.iter().map(|k| k.key_id.as_str()).collect();
        assert_eq!(ids, ["k1", "k2"]);
        assert_eq!(listed[0].scopes, ["contact.read", "contact.create"]);
        assert_eq!(
            (listed[0].expires_at, listed[0].revoked_at),
            (Some(9), None)
        );
    }

    #[test]
    fn a_citizen_link_is_per_issuer_and_subject() {
        let (_dir, db) = database();
        link_citizen(&db, "https://idp", "sub-1", "con_0", 1, "officer").unwrap();
        link_citizen(&db, "https://idp", "sub-1", "con_1", 2, "officer").unwrap();
        assert_eq!(
            citizen_link(&db, "https://idp", "sub-1")
                .unwrap()
                .as_deref(),
            Some("con_1")
        );
        assert_eq!(citizen_link(&db, "https://other", "sub-1").unwrap(), None);
        assert_eq!(citizen_link(&db, "https://idp", "sub-2").unwrap(), None);
    }

    #[test]
    fn a_cached_token_is_read_until_it_lapses_and_lapsed_ones_are_dropped() {
        let (_dir, db) = database();
        cache_token(&db, "d1", "{\"a\":1}", 100, 0).unwrap();
        assert_eq!(
            cached_token(&db, "d1", 99).unwrap().as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(cached_token(&db, "d1", 100).unwrap(), None);
        cache_token(&db, "d1", "{\"a\":2}", 300, 50).unwrap();
        assert_eq!(
            cached_token(&db, "d1", 200).unwrap().as_deref(),
            Some("{\"a\":2}")
        );
        cache_token(&db, "d2", "{}", 500, 400).unwrap();
        let left: i64 = db
            .query_row("SELECT COUNT(*) FROM auth_token_cache", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            left, 1,
            "d1 lapsed at 300 and went with the next write at 400"
        );
    }
}
