//! Appends to a contact's chain. Each runs in one `BEGIN IMMEDIATE`
//! transaction: read the tip, seal the entry onto it with `interactions-rules`,
//! write the entry, the timeline projection and the new tip.

use interactions_rules::values::{EntryId, OfficerId};
use interactions_rules::{
    AppendRefused, DisposalRefused, DisposalRequest, Entry, EntryBody, InteractionFacts,
    NewAmendment, NewInteraction, Retained, corrected_view,
};
use thiserror::Error;

use crate::StoreError;
use crate::chain::{self, Contact};
use crate::holds::active_holds_for;
use crate::idempotency::{self, Kept};
use crate::read::{Record, family, find_entry, record, root_entry};
use crate::rows::{
    StoredEntry, delete_timeline_row, insert_entry, insert_timeline_row, tombstone_row,
};
use crm_http::IdempotencyKey;
use crm_sql::{Sql, SqlError, transaction};

/// Appends a new interaction to its contact's chain (starting the chain for
/// a contact's first one). `id` is fresh; `recorded_by` is the caller.
pub fn append_interaction(
    db: &impl Sql,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewInteraction,
) -> Result<Entry, StoreError> {
    transaction(db, || seal_interaction(db, id, recorded_by, new))
}

/// How an append under an `Idempotency-Key` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The interaction as first answered: appended now, or, for a retry, the
    /// one the key's first request appended (its tombstone once disposed of).
    pub record: Record,
    /// Answered from the key: nothing was appended.
    pub replayed: bool,
}

/// Why an append under an `Idempotency-Key` was not made.
#[derive(Debug, Error)]
pub enum AppendError {
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SqlError> for AppendError {
    fn from(e: SqlError) -> Self {
        Self::Store(e.into())
    }
}

/// As [`append_interaction`] (the same statements), under an idempotency
/// `key` when one is given: a request whose key was seen before is answered
/// with the entry it first appended instead of appending again. The key is
/// looked up and kept inside the append's `BEGIN IMMEDIATE` transaction, so
/// racing retries serialise and exactly one of them appends.
pub fn append_interaction_once(
    db: &impl Sql,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewInteraction,
    key: Option<&IdempotencyKey>,
) -> Result<Appended, AppendError> {
    transaction(db, || {
        match key
            .map(|key| idempotency::stored(db, key))
            .transpose()?
            .flatten()
        {
            Some(Kept::Reused) => return Err(AppendError::KeyReused),
            Some(Kept::Entry(first)) => {
                return Ok(Appended {
                    record: first_answer(db, &first)?,
                    replayed: true,
                });
            }
            None => {}
        }
        let entry = seal_interaction(db, id, recorded_by, new)?;
        if let Some(key) = key {
            idempotency::keep(db, key, &entry.id, entry.recorded_at_ms)?;
        }
        Ok(Appended {
            record: Record::assemble(entry, Vec::new())?,
            replayed: false,
        })
    })
}

/// The interaction `id` as its append answered (without later amendments),
/// or its tombstone once disposed of.
fn first_answer(db: &impl Sql, id: &EntryId) -> Result<Record, StoreError> {
    let missing =
        || StoreError::Inconsistent(format!("an idempotency key names {id}, which is missing"));
    let (_, stored) = find_entry(db, id)?.ok_or_else(missing)?;
    match &stored.entry.body {
        EntryBody::Interaction {
            content: Retained::Present(_),
            ..
        } => Record::assemble(stored.entry, Vec::new()),
        _ => record(db, id)?.ok_or_else(missing),
    }
}

/// Seals `new` onto its contact's chain and writes it (inside a
/// transaction): the one append path.
fn seal_interaction(
    db: &impl Sql,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewInteraction,
) -> Result<Entry, StoreError> {
    let (contact, tip) = chain::tip(db, new.contact_id())?;
    let entry = interactions_rules::append_interaction(&tip, id, recorded_by, new)
        .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
    let EntryBody::Interaction { facts, .. } = &entry.body else {
        unreachable!("append_interaction seals an interaction")
    };
    insert_entry(db, &contact, &entry, None)?;
    insert_timeline_row(db, &contact, entry.sequence, facts)?;
    chain::advance(db, &contact, &entry)?;
    Ok(entry)
}

/// Why an amendment was not appended.
#[derive(Debug, Error)]
pub enum AmendError {
    #[error("there is no entry {0}")]
    NotFound(EntryId),
    #[error(transparent)]
    Refused(#[from] AppendRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SqlError> for AmendError {
    fn from(e: SqlError) -> Self {
        Self::Store(e.into())
    }
}

/// Appends an amendment of `target` (an interaction, or an amendment being
/// corrected) and rewrites the interaction's timeline row as corrected.
/// Returns the amendment and the interaction as it now reads.
pub fn amend(
    db: &impl Sql,
    target: &EntryId,
    id: EntryId,
    recorded_by: OfficerId,
    new: NewAmendment,
) -> Result<(Entry, Record), AmendError> {
    transaction(db, || {
        let (contact, target) =
            find_entry(db, target)?.ok_or_else(|| AmendError::NotFound(target.clone()))?;
        let root = root_entry(db, &contact, &target)?;
        let amendments = amendments_of(family(db, &contact, root.sequence)?);
        let tip = chain::tip_of(db, &contact)?;
        let amendment =
            interactions_rules::append_amendment(&tip, &target.entry, id, recorded_by, new)?;
        let before = corrected_view(&root, &amendments).map_err(inconsistent)?;
        insert_entry(db, &contact, &amendment, Some(root.sequence))?;
        let mut all = amendments;
        all.push(amendment.clone());
        let after = corrected_view(&root, &all).map_err(inconsistent)?;
        let moved_from = before.facts.occurred_at_ms;
        rewrite_timeline_row(db, &contact, &root, moved_from, &after.facts)?;
        chain::advance(db, &contact, &amendment)?;
        let record = Record::assemble(root, all)?;
        Ok((amendment, record))
    })
}

/// Why a disposal was not recorded.
#[derive(Debug, Error)]
pub enum DisposeError {
    #[error("there is no entry {0}")]
    NotFound(EntryId),
    #[error(transparent)]
    Refused(#[from] DisposalRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SqlError> for DisposeError {
    fn from(e: SqlError) -> Self {
        Self::Store(e.into())
    }
}

/// Records the disposal of interaction `target` under a records authority,
/// unless a legal hold on its contact or any of its cases is in force, and
/// replaces its content and its amendments' with tombstones. Its facts and
/// every hash stay, so the chain still verifies; its timeline row returns to
/// the facts as first recorded (amended facts were content of the patches).
/// `now_ms` is read under the write lock, after any hold committed before.
pub fn dispose(
    db: &impl Sql,
    target: &EntryId,
    id: EntryId,
    request: DisposalRequest,
    now_ms: impl FnOnce() -> i64,
) -> Result<(Entry, Record), DisposeError> {
    transaction(db, || {
        let (contact, target) =
            find_entry(db, target)?.ok_or_else(|| DisposeError::NotFound(target.clone()))?;
        let target = target.entry;
        let amendments = amendments_of(family(db, &contact, target.sequence)?);
        let holds = active_holds_for(db, &contact.id)?;
        let tip = chain::tip_of(db, &contact)?;
        let disposal = interactions_rules::append_disposal(
            &tip,
            id,
            &target,
            &amendments,
            &holds,
            request,
            now_ms(),
        )?;
        let before = corrected_view(&target, &amendments).map_err(inconsistent)?;
        let mut tombstoned: Vec<Entry> =
            std::iter::once(target.clone()).chain(amendments).collect();
        interactions_rules::tombstone(&disposal, &mut tombstoned)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        insert_entry(db, &contact, &disposal, Some(target.sequence))?;
        for entry in &tombstoned {
            tombstone_row(db, &contact, entry.sequence, &disposal.id)?;
        }
        let EntryBody::Interaction { facts, .. } = &target.body else {
            unreachable!("append_disposal refuses anything but an interaction")
        };
        let moved_from = before.facts.occurred_at_ms;
        rewrite_timeline_row(db, &contact, &target, moved_from, facts)?;
        chain::advance(db, &contact, &disposal)?;
        let mut family: Vec<Entry> = tombstoned.split_off(1);
        family.push(disposal.clone());
        let record = Record::assemble(tombstoned.remove(0), family)?;
        Ok((disposal, record))
    })
}

fn amendments_of(family: Vec<StoredEntry>) -> Vec<Entry> {
    family
        .into_iter()
        .map(|stored| stored.entry)
        .filter(|entry| matches!(entry.body, EntryBody::Amendment { .. }))
        .collect()
}

fn inconsistent(e: impl std::fmt::Display) -> StoreError {
    StoreError::Inconsistent(e.to_string())
}

/// Replaces the timeline row of `root`, filed under `old_occurred_at_ms`.
fn rewrite_timeline_row(
    db: &impl Sql,
    contact: &Contact,
    root: &Entry,
    old_occurred_at_ms: i64,
    facts: &InteractionFacts,
) -> Result<(), StoreError> {
    delete_timeline_row(db, contact, old_occurred_at_ms, root.sequence)?;
    insert_timeline_row(db, contact, root.sequence, facts)
}
