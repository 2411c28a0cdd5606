//! Reading the log: an interaction with its amendments (as corrected, or as
//! a tombstone), and timeline pages by keyset over the projection.

use std::collections::HashMap;

use interactions_rules::values::{ContactId, EntryId};
use interactions_rules::{
    CorrectedView, Entry, EntryBody, Page, Retained, TimelinePosition, TimelineQuery, Tombstone,
    corrected_view,
};

use crate::StoreError;
use crate::chain::{self, Contact};
use crate::rows::{StoredEntry, select};
use crm_sql::{Sql, Value, placeholders};

/// An interaction as the log now shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The interaction as stored (its content is gone once disposed of).
    pub entry: Entry,
    /// Its amendments, direct or of amendments, in recorded order.
    pub amendments: Vec<Entry>,
    pub state: RecordState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordState {
    /// As corrected, with the original and every amendment reachable.
    Present(Box<CorrectedView>),
    /// Disposed of: the facts and the disposal that removed the content.
    Disposed(Box<Tombstone>),
}

impl Record {
    /// The record of interaction `root` given its `family`: its amendments
    /// and, once disposed of, its disposal, in recorded order.
    pub fn assemble(root: Entry, family: Vec<Entry>) -> Result<Self, StoreError> {
        let EntryBody::Interaction { content, .. } = &root.body else {
            return Err(StoreError::Inconsistent(format!(
                "{} is not an interaction",
                root.id
            )));
        };
        let (amendments, others): (Vec<Entry>, Vec<Entry>) = family
            .into_iter()
            .partition(|e| matches!(e.body, EntryBody::Amendment { .. }));
        let state = match content {
            Retained::Present(_) => RecordState::Present(Box::new(
                corrected_view(&root, &amendments)
                    .map_err(|e| StoreError::Inconsistent(e.to_string()))?,
            )),
            Retained::Disposed { by } => {
                let tombstone = others
                    .iter()
                    .find(|e| e.id == *by)
                    .and_then(|disposal| Tombstone::of(&root, disposal))
                    .ok_or_else(|| {
                        StoreError::Inconsistent(format!(
                            "{} names disposal {by}, which is not its disposal",
                            root.id
                        ))
                    })?;
                RecordState::Disposed(Box::new(tombstone))
            }
        };
        Ok(Self {
            entry: root,
            amendments,
            state,
        })
    }
}

/// The entry `id` and its contact.
pub(crate) fn find_entry(
    db: &impl Sql,
    id: &EntryId,
) -> Result<Option<(Contact, StoredEntry)>, StoreError> {
    let rows = db.run(
        "SELECT contact_key, sequence FROM interaction_entries WHERE id = ?",
        &[id.as_str().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (Value::Integer(key), Value::Integer(sequence)) = (&row[0], &row[1]) else {
        return Err(StoreError::Inconsistent(format!("entry {id} has no key")));
    };
    let contact = chain::by_key(db, *key)?;
    let entry = select(db, &contact, "", "sequence = ?", &[(*sequence).into()])?
        .pop()
        .ok_or_else(|| StoreError::Inconsistent(format!("entry {id} vanished")))?;
    Ok(Some((contact, entry)))
}

/// The interaction `stored` is about (itself, for an interaction).
pub(crate) fn root_entry(
    db: &impl Sql,
    contact: &Contact,
    stored: &StoredEntry,
) -> Result<Entry, StoreError> {
    let Some(root_sequence) = stored.root_sequence else {
        return Ok(stored.entry.clone());
    };
    select(db, contact, "", "sequence = ?", &[root_sequence.into()])?
        .pop()
        .map(|root| root.entry)
        .ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "{} is about sequence {root_sequence}, which is missing",
                stored.entry.id
            ))
        })
}

/// The amendments and disposal of the interaction at `root_sequence`.
pub(crate) fn family(
    db: &impl Sql,
    contact: &Contact,
    root_sequence: u64,
) -> Result<Vec<StoredEntry>, StoreError> {
    select(
        db,
        contact,
        FAMILY_INDEX,
        "root_sequence = ?",
        &[root_sequence.into()],
    )
}

/// Named for the same reason as the timeline's indexes: left to itself the
/// planner walks every entry of the contact instead of this small index.
pub(crate) const FAMILY_INDEX: &str = "INDEXED BY interaction_entries_by_root";

/// The interaction `id` belongs to (an amendment's or a disposal's id
/// answers with its interaction), or `None`.
pub fn record(db: &impl Sql, id: &EntryId) -> Result<Option<Record>, StoreError> {
    let Some((contact, stored)) = find_entry(db, id)? else {
        return Ok(None);
    };
    let root = root_entry(db, &contact, &stored)?;
    let family = family(db, &contact, root.sequence)?
        .into_iter()
        .map(|s| s.entry)
        .collect();
    Record::assemble(root, family).map(Some)
}

/// The contact entry `id` belongs to, to authorise an action on it before
/// anything else is read.
pub fn contact_of(db: &impl Sql, id: &EntryId) -> Result<Option<ContactId>, StoreError> {
    let rows = db.run(
        "SELECT c.contact_id FROM interaction_entries e JOIN interaction_chains c USING (contact_key) WHERE e.id = ?",
        &[id.as_str().into()],
    )?;
    match rows.first().map(|r| &r[0]) {
        None => Ok(None),
        Some(Value::Text(contact)) => ContactId::parse(contact)
            .map(Some)
            .map_err(|e| StoreError::Inconsistent(format!("contact id of {id}: {}", e.0))),
        Some(_) => Err(StoreError::Inconsistent(format!("contact id of {id}"))),
    }
}

/// One page of a contact's timeline, newest first (see
/// [`interactions_rules::timeline`] for the keyset and the indexes), with the
/// interactions of the contacts `merged` into it shown among its own: one
/// keyset query per contact, merged in timeline order.
pub fn timeline(
    db: &impl Sql,
    query: &TimelineQuery,
    merged: &[ContactId],
) -> Result<Page<Record>, StoreError> {
    let mut contacts = Vec::with_capacity(1 + merged.len());
    for id in std::iter::once(&query.filter.contact_id).chain(merged) {
        if let Some(contact) = chain::find(db, id)? {
            contacts.push(contact);
        }
    }
    let mut positions = Vec::new();
    for contact in &contacts {
        let (sql, params) = page_sql(contact.key, query);
        for row in db.run(&sql, &params)? {
            positions.push(match row.as_slice() {
                [Value::Integer(occurred_at_ms), Value::Integer(sequence)] => TimelinePosition {
                    occurred_at_ms: *occurred_at_ms,
                    contact_key: contact.key,
                    sequence: *sequence as u64,
                },
                _ => {
                    return Err(StoreError::Inconsistent(
                        "a timeline row is malformed".into(),
                    ));
                }
            });
        }
    }
    positions.sort_unstable_by(|a, b| b.cmp(a));
    positions.truncate(query.page_size.get() + 1);
    let page = Page::from_rows(positions, query.page_size, |position| *position);
    // Each contact's records in one pair of queries, then back in page order.
    let mut records: HashMap<i64, std::vec::IntoIter<Record>> = HashMap::new();
    for contact in &contacts {
        let mine: Vec<TimelinePosition> = page
            .items
            .iter()
            .filter(|p| p.contact_key == contact.key)
            .copied()
            .collect();
        records.insert(contact.key, records_at(db, contact, &mine)?.into_iter());
    }
    let items = page
        .items
        .iter()
        .map(|p| {
            records
                .get_mut(&p.contact_key)
                .and_then(Iterator::next)
                .ok_or_else(|| StoreError::Inconsistent("a timeline record went missing".into()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next_after: page.next_after,
    })
}

/// The keyset query of one page. The index is named: without statistics
/// SQLite's planner would rather walk the whole contact by primary key than
/// use a filter's index, which for a contact with 100,000 interactions is
/// the difference between a few rows and all of them. With several filters
/// the likely most selective one's index is used (case, category, channel,
/// direction); with none, the primary key serves the contact and the range.
pub(crate) fn page_sql(contact_key: i64, query: &TimelineQuery) -> (String, Vec<Value>) {
    let filter = &query.filter;
    let index = if filter.case_ref.is_some() {
        " INDEXED BY interaction_timeline_by_case"
    } else if filter.category.is_some() {
        " INDEXED BY interaction_timeline_by_category"
    } else if filter.channel.is_some() {
        " INDEXED BY interaction_timeline_by_channel"
    } else if filter.direction.is_some() {
        " INDEXED BY interaction_timeline_by_direction"
    } else {
        ""
    };
    let mut sql = format!(
        "SELECT occurred_at, sequence FROM interaction_timeline{index} WHERE contact_key = ?"
    );
    let mut params = vec![Value::Integer(contact_key)];
    let mut and = |predicate: &str, values: Vec<Value>| {
        sql.push_str(" AND ");
        sql.push_str(predicate);
        params.extend(values);
    };
    if let Some(channel) = filter.channel {
        and("channel = ?", vec![channel.as_str().into()]);
    }
    if let Some(direction) = filter.direction {
        and("direction = ?", vec![direction.as_str().into()]);
    }
    if let Some(category) = &filter.category {
        and("category = ?", vec![category.as_str().into()]);
    }
    if let Some(case) = &filter.case_ref {
        and("case_ref = ?", vec![case.as_str().into()]);
    }
    if let Some(from) = filter.from_ms {
        and("occurred_at >= ?", vec![from.into()]);
    }
    if let Some(to) = filter.to_ms {
        and("occurred_at < ?", vec![to.into()]);
    }
    // After the cursor in `occurred_at DESC, contact DESC, sequence DESC`:
    // at the cursor's instant, a contact keyed below the cursor's comes
    // after it whatever its sequence, and one keyed above came before.
    if let Some(after) = query.after {
        match contact_key.cmp(&after.contact_key) {
            std::cmp::Ordering::Equal => and(
                "(occurred_at, sequence) < (?, ?)",
                vec![after.occurred_at_ms.into(), after.sequence.into()],
            ),
            std::cmp::Ordering::Less => and("occurred_at <= ?", vec![after.occurred_at_ms.into()]),
            std::cmp::Ordering::Greater => {
                and("occurred_at < ?", vec![after.occurred_at_ms.into()])
            }
        }
    }
    sql.push_str(" ORDER BY occurred_at DESC, sequence DESC LIMIT ?");
    params.push(((query.page_size.get() + 1) as u64).into());
    (sql, params)
}

/// The records at `positions`, in their order: the interactions in one
/// query, their amendments and disposals in another.
fn records_at(
    db: &impl Sql,
    contact: &Contact,
    positions: &[TimelinePosition],
) -> Result<Vec<Record>, StoreError> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let sequences: Vec<u64> = positions.iter().map(|p| p.sequence).collect();
    let marks = placeholders(sequences.len());
    let params: Vec<Value> = sequences.iter().map(|&s| s.into()).collect();
    let mut roots: HashMap<u64, Entry> =
        select(db, contact, "", &format!("sequence IN ({marks})"), &params)?
            .into_iter()
            .map(|s| (s.entry.sequence, s.entry))
            .collect();
    let mut families: HashMap<u64, Vec<Entry>> = HashMap::new();
    let family_of = format!("root_sequence IN ({marks})");
    for stored in select(db, contact, FAMILY_INDEX, &family_of, &params)? {
        families
            .entry(stored.root())
            .or_default()
            .push(stored.entry);
    }
    sequences
        .iter()
        .map(|sequence| {
            let root = roots.remove(sequence).ok_or_else(|| {
                StoreError::Inconsistent(format!(
                    "the timeline shows sequence {sequence}, which has no entry"
                ))
            })?;
            Record::assemble(root, families.remove(sequence).unwrap_or_default())
        })
        .collect()
}
