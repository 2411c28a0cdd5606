//! Work queues: their members and capacities, handing the next case to an
//! officer atomically, and round-robin assignment.

use cases_rules::StatusKey;
use crm_domain::OfficerId;
use crm_sql::{Sql, Value, placeholders};

use crate::cases::{CASE_COLUMNS, CaseRecord, decode_case};
use crate::row::{Fields, json_list, string_list};
use crate::{StoreError, run};

crm_domain::vocabulary! {
    /// An order cases are listed and taken in. Each ends with the case id,
    /// so the order is total and pages can resume after any case.
    QueueOrder {
        /// Soonest due first (a case with no running clock last).
        Due => "due",
        /// Most urgent first, then first come, first served.
        Priority => "priority",
        /// First come, first served.
        Fifo => "fifo",
    }
}

impl QueueOrder {
    /// The SQL expressions sorted on, in order (the migration's indexes use
    /// the same expressions).
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Due => &["IFNULL(due_at, 9223372036854775807)", "id"],
            Self::Priority => &["priority_rank", "opened_at", "id"],
            Self::Fifo => &["opened_at", "id"],
        }
    }

    pub(crate) fn order_by(self) -> String {
        self.keys().join(", ")
    }

    /// The one expression this rule sorts on when it is one of a queue's
    /// several rules.
    fn primary(self) -> &'static str {
        self.keys()[0]
    }
}

/// The ORDER BY of a queue's rules, first rule first, each by its own key
/// (`priority` then `due`: most urgent first, soonest due among equals),
/// ending with the id so the order is total.
fn rules_order_by(rules: &[QueueOrder]) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for rule in rules {
        if !keys.contains(&rule.primary()) {
            keys.push(rule.primary());
        }
    }
    keys.push("id");
    keys.join(", ")
}

/// A queue, and the order its cases are worked in (first rule first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub id: String,
    pub name: String,
    pub ordering: Vec<QueueOrder>,
}

/// Someone who works a queue: how many of its open cases they may hold at
/// once, and when round robin last gave them one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMember {
    pub officer: OfficerId,
    pub capacity: u32,
    pub last_assigned_at: Option<i64>,
}

/// Creates the queue at `now`, or renames and reorders it.
pub fn put_queue(db: &impl Sql, queue: &Queue, now: i64) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO case_queues (id, name, ordering, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, ordering = excluded.ordering",
        &[
            queue.id.as_str().into(),
            queue.name.as_str().into(),
            json_list(queue.ordering.iter().map(|o| o.as_str())).into(),
            now.into(),
        ],
    )?;
    Ok(())
}

fn decode_queue(row: &[Value]) -> Result<Queue, StoreError> {
    let f = Fields::new("case_queues", row, 0);
    Ok(Queue {
        id: f.text(0, "id")?,
        name: f.text(1, "name")?,
        ordering: f.json(2, "ordering", |v| string_list(v, QueueOrder::parse))?,
    })
}

pub fn queue(db: &impl Sql, id: &str) -> Result<Option<Queue>, StoreError> {
    run(
        db,
        "SELECT id, name, ordering FROM case_queues WHERE id = ?",
        &[id.into()],
    )?
    .first()
    .map(|row| decode_queue(row))
    .transpose()
}

/// Every queue, by id.
pub fn queues(db: &impl Sql) -> Result<Vec<Queue>, StoreError> {
    run(
        db,
        "SELECT id, name, ordering FROM case_queues ORDER BY id",
        &[],
    )?
    .iter()
    .map(|row| decode_queue(row))
    .collect()
}

/// A queue's members, by officer.
pub fn members(db: &impl Sql, queue: &str) -> Result<Vec<QueueMember>, StoreError> {
    run(
        db,
        "SELECT officer_id, capacity, last_assigned_at FROM case_queue_members \
         WHERE queue_id = ? ORDER BY officer_id",
        &[queue.into()],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_queue_members", row, 0);
        let capacity = f.int(1, "capacity")?;
        Ok(QueueMember {
            officer: f.parse(0, "officer_id", OfficerId::parse)?,
            capacity: u32::try_from(capacity)
                .map_err(|_| f.corrupt("capacity", format!("{capacity} is out of range")))?,
            last_assigned_at: f.opt_int(2, "last_assigned_at")?,
        })
    })
    .collect()
}

/// Makes `members` the queue's members: others leave, new ones join with
/// the `last_assigned_at` given, and those who stay get their new capacity
/// but keep their place in the round robin.
pub fn set_members(db: &impl Sql, queue: &str, members: &[QueueMember]) -> Result<(), StoreError> {
    let mut params: Vec<Value> = vec![queue.into()];
    params.extend(members.iter().map(|m| m.officer.as_str().into()));
    run(
        db,
        &format!(
            "DELETE FROM case_queue_members WHERE queue_id = ? AND officer_id NOT IN ({})",
            placeholders(members.len())
        ),
        &params,
    )?;
    for member in members {
        run(
            db,
            "INSERT INTO case_queue_members (queue_id, officer_id, capacity, last_assigned_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (queue_id, officer_id) \
             DO UPDATE SET capacity = excluded.capacity",
            &[
                queue.into(),
                member.officer.as_str().into(),
                i64::from(member.capacity).into(),
                member.last_assigned_at.into(),
            ],
        )?;
    }
    Ok(())
}

pub fn is_member(db: &impl Sql, queue: &str, officer: &OfficerId) -> Result<bool, StoreError> {
    Ok(!run(
        db,
        "SELECT 1 FROM case_queue_members WHERE queue_id = ? AND officer_id = ?",
        &[queue.into(), officer.as_str().into()],
    )?
    .is_empty())
}

/// Gives `officer` the first unassigned open case of `queue` by its `rules`
/// whose status is `workable` (any open status when empty), skipping
/// restricted cases unless `may_read_restricted`: one `UPDATE` picks and
/// assigns it, inside the caller's `BEGIN IMMEDIATE`, so officers taking at
/// once never get the same case. The member's round-robin time moves on.
pub fn take_next(
    db: &impl Sql,
    queue: &str,
    officer: &OfficerId,
    workable: &[StatusKey],
    rules: &[QueueOrder],
    now: i64,
    may_read_restricted: bool,
) -> Result<Option<CaseRecord>, StoreError> {
    let mut params: Vec<Value> = vec![officer.as_str().into(), now.into(), queue.into()];
    let mut filters = String::new();
    if !workable.is_empty() {
        filters.push_str(&format!(
            " AND status IN ({})",
            placeholders(workable.len())
        ));
        params.extend(workable.iter().map(|s| s.as_str().into()));
    }
    if !may_read_restricted {
        filters.push_str(" AND confidentiality = 'standard'");
    }
    let taken = run(
        db,
        &format!(
            "UPDATE cases SET assignee = ?, version = version + 1, updated_at = ? \
             WHERE id = (SELECT id FROM cases WHERE queue_id = ? AND status_category = 'open' \
             AND assignee IS NULL{filters} ORDER BY {} LIMIT 1) \
             RETURNING {CASE_COLUMNS}",
            rules_order_by(rules)
        ),
        &params,
    )?;
    let Some(row) = taken.first() else {
        return Ok(None);
    };
    record_assignment(db, queue, officer, now)?;
    decode_case(row).map(Some)
}

/// Round robin: the member with capacity left (fewer of the queue's open
/// cases than their capacity) who was given a case longest ago (never
/// first), ties by officer id.
pub fn next_assignee(db: &impl Sql, queue: &str) -> Result<Option<OfficerId>, StoreError> {
    run(
        db,
        "SELECT m.officer_id FROM case_queue_members m WHERE m.queue_id = ? \
         AND m.capacity > (SELECT COUNT(*) FROM cases c WHERE c.assignee = m.officer_id \
             AND c.status_category = 'open' AND c.queue_id = m.queue_id) \
         ORDER BY m.last_assigned_at IS NOT NULL, m.last_assigned_at, m.officer_id LIMIT 1",
        &[queue.into()],
    )?
    .first()
    .map(|row| Fields::new("case_queue_members", row, 0).parse(0, "officer_id", OfficerId::parse))
    .transpose()
}

/// `officer` was given a case of `queue` at `now`: last in the round robin.
pub fn record_assignment(
    db: &impl Sql,
    queue: &str,
    officer: &OfficerId,
    now: i64,
) -> Result<(), StoreError> {
    run(
        db,
        "UPDATE case_queue_members SET last_assigned_at = ? WHERE queue_id = ? AND officer_id = ?",
        &[now.into(), queue.into(), officer.as_str().into()],
    )?;
    Ok(())
}

/// How many open cases `officer` holds, in every queue.
pub fn open_assigned_count(db: &impl Sql, officer: &OfficerId) -> Result<u64, StoreError> {
    let rows = run(
        db,
        "SELECT COUNT(*) FROM cases WHERE assignee = ? AND status_category = 'open'",
        &[officer.as_str().into()],
    )?;
    match rows.first() {
        Some(row) => Fields::new("cases", row, 0).count(0, "COUNT(*)"),
        None => Ok(0),
    }
}
