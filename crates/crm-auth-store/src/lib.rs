//! The authentication tables (`migrations/0002_security.sql`,
//! `0008_token_cache.sql`) as every component reads them when it
//! authenticates a caller: a presented API key's stored row, a citizen's
//! link to their contact record, and the cache of verified bearer tokens.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
        crm_migrations::migrate(&db).unwrap();
        (dir, db)
    }

    #[test]
    fn a_stored_key_reads_back_with_its_scopes_and_dates() {
        let (_dir, db) = database();
        assert_eq!(stored_key(&db, "k1").unwrap(), None);
        db.execute(
            "INSERT INTO api_keys (key_id, secret_hash, owner, scopes, created_at, expires_at, description) VALUES ('k1', 'h', 'svc:portal', 'contact.read contact.create', 5, 9, '')",
            [],
        )
        .unwrap();
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
        db.execute("UPDATE api_keys SET revoked_at = 7 WHERE key_id = 'k1'", [])
            .unwrap();
        assert_eq!(stored_key(&db, "k1").unwrap().unwrap().revoked_at, Some(7));
    }

    #[test]
    fn a_citizen_link_is_per_issuer_and_subject() {
        let (_dir, db) = database();
        db.execute(
            "INSERT INTO citizen_links (issuer, subject, contact_id, linked_at, linked_by) VALUES ('https://idp', 'sub-1', 'con_1', 1, 'officer')",
            [],
        )
        .unwrap();
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
