//! Contacts as stored, read by id, through their merges, and by match key.

use contacts_rules::ContactFields;
use contacts_rules::collection::{ProvenanceMap, from_stored};
use crm_sql::{Sql, Value};

use crate::{MAX_MERGE_HOPS, StoreError, integer, run, text};

/// The columns [`Stored::decode`] reads, in its order.
pub(crate) const CONTACT_COLUMNS: &str = "c.id, c.record, c.provenance, c.version, c.created_at, c.updated_at, c.merged_into, c.search_rowid";

/// A contact as stored (any state).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub fields: ContactFields,
    pub provenance: ProvenanceMap,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The contact it was merged into, if it was.
    pub merged_into: Option<String>,
    /// Its row in the search tables: stable and increasing, the listing
    /// order.
    pub search_rowid: i64,
}

impl Stored {
    /// A row of [`CONTACT_COLUMNS`].
    pub(crate) fn decode(row: &[Value]) -> Result<Self, StoreError> {
        let column = |i: usize| row.get(i).unwrap_or(&Value::Null);
        let id = text(column(0)).unwrap_or_default();
        let unreadable = |what: &str, why: String| StoreError::Unreadable {
            contact: id.clone(),
            what: what.into(),
            why,
        };
        let fields = serde_json::from_str(&text(column(1)).unwrap_or_default())
            .map_err(|e| unreadable("record", e.to_string()))?;
        let provenance = from_stored(&text(column(2)).unwrap_or_else(|| "{}".into()))
            .map_err(|e| unreadable("provenance", e))?;
        Ok(Self {
            fields,
            provenance,
            version: integer(column(3)).unwrap_or(1),
            created_at: text(column(4)).unwrap_or_default(),
            updated_at: text(column(5)).unwrap_or_default(),
            merged_into: text(column(6)),
            search_rowid: integer(column(7)).unwrap_or_default(),
            id,
        })
    }
}

/// Contacts `sql` selects (its columns [`CONTACT_COLUMNS`]).
pub(crate) fn select(
    db: &impl Sql,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Stored>, StoreError> {
    run(db, sql, params)?
        .iter()
        .map(|row| Stored::decode(row))
        .collect()
}

/// Contact `id` (any state), if there is one.
pub fn load(db: &impl Sql, id: &str) -> Result<Option<Stored>, StoreError> {
    Ok(select(
        db,
        &format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?"),
        &[id.into()],
    )?
    .into_iter()
    .next())
}

/// The contact `id` resolves to: itself, or the survivor of its merges
/// (following at most [`MAX_MERGE_HOPS`]); none for an unknown id.
pub fn resolve(db: &impl Sql, id: &str) -> Result<Option<Stored>, StoreError> {
    let mut next = id.to_string();
    for _ in 0..MAX_MERGE_HOPS {
        let Some(stored) = load(db, &next)? else {
            return Ok(None);
        };
        match &stored.merged_into {
            Some(survivor) => next = survivor.clone(),
            None => return Ok(Some(stored)),
        }
    }
    Err(StoreError::MergeChainTooLong(id.to_string()))
}

/// The survivor `id` resolves to, then every contact merged into it,
/// directly or through other merges, by id; empty for an unknown id.
pub fn merge_family(db: &impl Sql, id: &str) -> Result<Vec<String>, StoreError> {
    let Some(survivor) = resolve(db, id)? else {
        return Ok(Vec::new());
    };
    let merged = run(
        db,
        "WITH RECURSIVE merged (id, hops) AS ( \
             SELECT id, 1 FROM contacts WHERE merged_into = ? \
             UNION SELECT c.id, m.hops + 1 FROM contacts c JOIN merged m ON c.merged_into = m.id \
             WHERE m.hops < ? \
         ) SELECT id FROM merged ORDER BY id",
        &[survivor.id.as_str().into(), (MAX_MERGE_HOPS as i64).into()],
    )?;
    Ok(std::iter::once(survivor.id)
        .chain(merged.iter().filter_map(|row| text(row.first()?)))
        .collect())
}

/// Candidates read per match key: a common name in a populous postcode
/// makes a large block, and each candidate is parsed and scored.
pub const CANDIDATES_PER_KEY: usize = 20;

/// The current contacts filed under any of `keys`, at most
/// [`CANDIDATES_PER_KEY`] per key (deterministic keys first, so a shared
/// identifier is never crowded out by a blocking key).
pub fn candidates(db: &impl Sql, keys: &[String]) -> Result<Vec<Stored>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut ordered: Vec<&String> = keys.iter().filter(|k| !is_blocking(k)).collect();
    ordered.extend(keys.iter().filter(|k| is_blocking(k)));
    let block = format!(
        "SELECT * FROM (SELECT contact_id FROM contact_match_keys WHERE key = ? LIMIT {CANDIDATES_PER_KEY})"
    );
    let blocks = vec![block.as_str(); ordered.len()].join(" UNION ");
    let params: Vec<Value> = ordered.into_iter().map(|k| k.as_str().into()).collect();
    select(
        db,
        &format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.merged_into IS NULL AND c.id IN ({blocks})"
        ),
        &params,
    )
}

/// Blocking keys (name and birth date, name and postcode, organisation
/// name) are shared by many contacts; the others name one or a few.
fn is_blocking(key: &str) -> bool {
    ["nd:", "np:", "on:"].iter().any(|p| key.starts_with(p))
}
