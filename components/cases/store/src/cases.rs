//! Cases: their gapless references, rows with optimistic versions, keyset
//! queue pages, children, a merge family's cases, and participants.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cases_rules::{
    CaseReference, CaseTypeKey, Confidentiality, Priority, StatusCategory, StatusKey,
};
use cases_sla::ClockState;
use crm_domain::{CalendarDate, Channel, ContactId, OfficerId};
use crm_sql::{Sql, Value, placeholders};
use thiserror::Error;

use crate::queues::QueueOrder;
use crate::row::Fields;
use crate::{StoreError, run};

/// Takes the next reference of `year`, in the caller's transaction: a case
/// insert that rolls back gives its number back, so the numbers of the
/// cases kept have no gaps.
pub fn next_reference(db: &impl Sql, year: u16) -> Result<CaseReference, StoreError> {
    let rows = run(
        db,
        "INSERT INTO case_reference_counters (year, last_number) VALUES (?, 1) \
         ON CONFLICT (year) DO UPDATE SET last_number = last_number + 1 RETURNING last_number",
        &[i64::from(year).into()],
    )?;
    let number = rows
        .first()
        .map(|row| Fields::new("case_reference_counters", row, 0).int(0, "last_number"))
        .transpose()?
        .unwrap_or_default();
    u32::try_from(number)
        .ok()
        .and_then(|n| CaseReference::new(year, n))
        .ok_or_else(|| {
            StoreError::Unrepresentable(format!("case number {number} of {year} has no reference"))
        })
}

/// A case as stored. `version` starts at 1 and goes up by one with every
/// change ([`update_case`]); `due_at` is the earliest due time of its
/// running clocks ([`set_case_due`](crate::set_case_due)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: String,
    pub reference: CaseReference,
    pub case_type: CaseTypeKey,
    pub subject: String,
    pub details: String,
    pub priority: Priority,
    pub channel: Option<Channel>,
    pub contact: Option<ContactId>,
    pub queue: Option<String>,
    pub assignee: Option<OfficerId>,
    pub parent: Option<String>,
    pub confidentiality: Confidentiality,
    pub status: StatusKey,
    pub status_category: StatusCategory,
    pub version: i64,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub resolution_code: Option<String>,
    pub resolution_summary: Option<String>,
    pub due_at: Option<i64>,
    pub created_by: String,
    pub updated_at: i64,
}

/// What the priority ordering sorts on: most urgent first.
fn priority_rank(priority: Priority) -> i64 {
    match priority {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
        Priority::Low => 3,
    }
}

/// The columns [`decode_case`] reads, in its order.
pub(crate) const CASE_COLUMNS: &str = "id, reference, case_type, subject, details, priority, \
    channel, contact_id, queue_id, assignee, parent_id, confidentiality, status, \
    status_category, version, opened_at, first_response_at, resolved_at, closed_at, \
    resolution_code, resolution_summary, due_at, created_by, updated_at";

pub(crate) fn decode_case(row: &[Value]) -> Result<CaseRecord, StoreError> {
    let f = Fields::new("cases", row, 0);
    Ok(CaseRecord {
        id: f.text(0, "id")?,
        reference: f.parse(1, "reference", str::parse::<CaseReference>)?,
        case_type: f.parse(2, "case_type", CaseTypeKey::parse)?,
        subject: f.text(3, "subject")?,
        details: f.text(4, "details")?,
        priority: f.parse(5, "priority", Priority::parse)?,
        channel: f.opt_parse(6, "channel", Channel::parse)?,
        contact: f.opt_parse(7, "contact_id", ContactId::parse)?,
        queue: f.opt_text(8, "queue_id")?,
        assignee: f.opt_parse(9, "assignee", OfficerId::parse)?,
        parent: f.opt_text(10, "parent_id")?,
        confidentiality: f.parse(11, "confidentiality", Confidentiality::parse)?,
        status: f.parse(12, "status", StatusKey::parse)?,
        status_category: f.parse(13, "status_category", StatusCategory::parse)?,
        version: f.int(14, "version")?,
        opened_at: f.int(15, "opened_at")?,
        first_response_at: f.opt_int(16, "first_response_at")?,
        resolved_at: f.opt_int(17, "resolved_at")?,
        closed_at: f.opt_int(18, "closed_at")?,
        resolution_code: f.opt_text(19, "resolution_code")?,
        resolution_summary: f.opt_text(20, "resolution_summary")?,
        due_at: f.opt_int(21, "due_at")?,
        created_by: f.text(22, "created_by")?,
        updated_at: f.int(23, "updated_at")?,
    })
}

/// The values of the columns a change may write, in [`MUTABLE`]'s order.
fn mutable_values(case: &CaseRecord) -> Vec<Value> {
    vec![
        case.case_type.as_str().into(),
        case.subject.as_str().into(),
        case.details.as_str().into(),
        case.priority.as_str().into(),
        priority_rank(case.priority).into(),
        case.channel.map(Channel::as_str).into(),
        case.contact.as_ref().map(ContactId::as_str).into(),
        case.queue.as_deref().into(),
        case.assignee.as_ref().map(OfficerId::as_str).into(),
        case.parent.as_deref().into(),
        case.confidentiality.as_str().into(),
        case.status.as_str().into(),
        case.status_category.as_str().into(),
        case.first_response_at.into(),
        case.resolved_at.into(),
        case.closed_at.into(),
        case.resolution_code.as_deref().into(),
        case.resolution_summary.as_deref().into(),
        case.due_at.into(),
        case.updated_at.into(),
    ]
}

const MUTABLE: [&str; 20] = [
    "case_type",
    "subject",
    "details",
    "priority",
    "priority_rank",
    "channel",
    "contact_id",
    "queue_id",
    "assignee",
    "parent_id",
    "confidentiality",
    "status",
    "status_category",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "resolution_code",
    "resolution_summary",
    "due_at",
    "updated_at",
];

/// Writes a new case as given (its `version` is normally 1).
pub fn insert_case(db: &impl Sql, case: &CaseRecord) -> Result<(), StoreError> {
    let mut params: Vec<Value> = vec![
        case.id.as_str().into(),
        case.reference.to_string().into(),
        case.version.into(),
        case.opened_at.into(),
        case.created_by.as_str().into(),
    ];
    params.extend(mutable_values(case));
    run(
        db,
        &format!(
            "INSERT INTO cases (id, reference, version, opened_at, created_by, {}) VALUES ({})",
            MUTABLE.join(", "),
            placeholders(params.len())
        ),
        &params,
    )?;
    Ok(())
}

pub fn case_by_id(db: &impl Sql, id: &str) -> Result<Option<CaseRecord>, StoreError> {
    run(
        db,
        &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?"),
        &[id.into()],
    )?
    .first()
    .map(|row| decode_case(row))
    .transpose()
}

pub fn case_by_reference(
    db: &impl Sql,
    reference: &CaseReference,
) -> Result<Option<CaseRecord>, StoreError> {
    run(
        db,
        &format!("SELECT {CASE_COLUMNS} FROM cases WHERE reference = ?"),
        &[reference.to_string().into()],
    )?
    .first()
    .map(|row| decode_case(row))
    .transpose()
}

/// Writes every field a change may make (not the id, reference, opening
/// or author) and `version` = `expected_version` + 1, only if the stored
/// case is still at `expected_version`: false when someone else changed it
/// first (the caller answers 412) or it does not exist.
pub fn update_case(
    db: &impl Sql,
    case: &CaseRecord,
    expected_version: i64,
) -> Result<bool, StoreError> {
    let assignments: Vec<String> = MUTABLE.iter().map(|c| format!("{c} = ?")).collect();
    let mut params = mutable_values(case);
    params.extend([
        (expected_version + 1).into(),
        case.id.as_str().into(),
        expected_version.into(),
    ]);
    let updated = run(
        db,
        &format!(
            "UPDATE cases SET {}, version = ? WHERE id = ? AND version = ? RETURNING id",
            assignments.join(", ")
        ),
        &params,
    )?;
    Ok(!updated.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a cursor of this list (ask for the first page again)")]
pub struct CursorError;

/// Where a page ended: the last case's sort key in an order, and its id.
/// Opaque to clients ([`encode`](Self::encode)), and only good for the
/// order it was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCursor {
    order: QueueOrder,
    keys: Vec<i64>,
    id: String,
}

impl CaseCursor {
    /// Resumes after `case` in `order`.
    pub fn after(order: QueueOrder, case: &CaseRecord) -> Self {
        let keys = match order {
            QueueOrder::Due => vec![case.due_at.unwrap_or(i64::MAX)],
            QueueOrder::Priority => vec![priority_rank(case.priority), case.opened_at],
            QueueOrder::Fifo => vec![case.opened_at],
        };
        Self {
            order,
            keys,
            id: case.id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(i64::to_string).collect();
        let text = format!("{}.{}.{}", self.order.as_str(), keys.join("."), self.id);
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads what [`encode`](Self::encode) wrote for `order`.
    pub fn decode(raw: &str, order: QueueOrder) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        let text = String::from_utf8(bytes).map_err(|_| CursorError)?;
        let width = order.keys().len() - 1;
        let mut parts = text.splitn(width + 2, '.');
        if parts.next() != Some(order.as_str()) {
            return Err(CursorError);
        }
        let keys = parts
            .by_ref()
            .take(width)
            .map(|k| k.parse::<i64>().map_err(|_| CursorError))
            .collect::<Result<Vec<_>, _>>()?;
        let id = parts
            .next()
            .filter(|id| !id.is_empty())
            .ok_or(CursorError)?;
        if keys.len() != width {
            return Err(CursorError);
        }
        Ok(Self {
            order,
            keys,
            id: id.to_string(),
        })
    }

    /// `(key, …, id) > (?, …, ?)` and its parameters, for a list in
    /// `order` (a cursor of another order is the caller's mistake: it
    /// cannot resume this list).
    fn condition(&self, order: QueueOrder) -> Result<(String, Vec<Value>), StoreError> {
        if self.order != order {
            return Err(StoreError::Unrepresentable(format!(
                "a cursor of the `{}` order cannot resume a list in `{order}` order",
                self.order
            )));
        }
        let mut params: Vec<Value> = self.keys.iter().map(|k| Value::Integer(*k)).collect();
        params.push(self.id.as_str().into());
        Ok((
            format!("({}) > ({})", order.order_by(), placeholders(params.len())),
            params,
        ))
    }
}

/// One page of a case list: the filters (each optional; `statuses` empty
/// is any status), the order, and where the last page ended.
#[derive(Debug, Clone)]
pub struct QueuePage<'a> {
    pub queue: Option<&'a str>,
    pub assignee: Option<&'a OfficerId>,
    pub statuses: &'a [StatusKey],
    pub category: Option<StatusCategory>,
    /// Any of these (empty: any priority).
    pub priorities: &'a [Priority],
    /// Cases whose [`SLA_STATE`] is any of these (empty: any, or none).
    pub sla_states: &'a [ClockState],
    pub order: QueueOrder,
    /// Made with the same `order`.
    pub after: Option<CaseCursor>,
    pub limit: u32,
}

/// A case's SLA state, as the sweep last left its clocks: the most urgent
/// of their states (breached, then warning, in progress, paused); NULL when
/// none of them is running or waiting. One expression for the queue page's
/// filter and [`sla_states`], so the state a case is shown in is the one it
/// is found by.
const SLA_STATE: &str = "(SELECT CASE MAX(CASE state WHEN 'breached' THEN 4 \
    WHEN 'warning' THEN 3 WHEN 'in-progress' THEN 2 WHEN 'paused' THEN 1 END) \
    WHEN 4 THEN 'breached' WHEN 3 THEN 'warning' WHEN 2 THEN 'in-progress' \
    WHEN 1 THEN 'paused' END FROM case_clocks WHERE case_clocks.case_id = cases.id)";

/// The [`SLA_STATE`] of each of `ids` that has one, by case id.
pub fn sla_states(db: &impl Sql, ids: &[&str]) -> Result<HashMap<String, ClockState>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let params: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    let rows = run(
        db,
        &format!(
            "SELECT id, {SLA_STATE} FROM cases WHERE id IN ({})",
            placeholders(ids.len())
        ),
        &params,
    )?;
    let mut states = HashMap::new();
    for row in &rows {
        let f = Fields::new("cases", row, 0);
        if let Some(state) = f.opt_parse(1, "sla state", |s| {
            ClockState::parse(s).ok_or("not a clock state")
        })? {
            states.insert(f.text(0, "id")?, state);
        }
    }
    Ok(states)
}

/// A page of cases in `page.order`, after `page.after`: keyset pagination
/// (no OFFSET), one index range for a queue and category.
pub fn queue_page(db: &impl Sql, page: &QueuePage<'_>) -> Result<Vec<CaseRecord>, StoreError> {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if let Some(queue) = page.queue {
        conditions.push("queue_id = ?".into());
        params.push(queue.into());
    }
    if let Some(assignee) = page.assignee {
        conditions.push("assignee = ?".into());
        params.push(assignee.as_str().into());
    }
    if !page.statuses.is_empty() {
        conditions.push(format!("status IN ({})", placeholders(page.statuses.len())));
        params.extend(page.statuses.iter().map(|s| s.as_str().into()));
    }
    if let Some(category) = page.category {
        conditions.push("status_category = ?".into());
        params.push(category.as_str().into());
    }
    if !page.priorities.is_empty() {
        conditions.push(format!(
            "priority IN ({})",
            placeholders(page.priorities.len())
        ));
        params.extend(page.priorities.iter().map(|p| p.as_str().into()));
    }
    if !page.sla_states.is_empty() {
        conditions.push(format!(
            "{SLA_STATE} IN ({})",
            placeholders(page.sla_states.len())
        ));
        params.extend(page.sla_states.iter().map(|s| s.as_str().into()));
    }
    if let Some(after) = &page.after {
        let (condition, values) = after.condition(page.order)?;
        conditions.push(condition);
        params.extend(values);
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    params.push(i64::from(page.limit).into());
    run(
        db,
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases {filter} ORDER BY {} LIMIT ?",
            page.order.order_by()
        ),
        &params,
    )?
    .iter()
    .map(|row| decode_case(row))
    .collect()
}

/// The cases of any of `contacts` (a survivor and every contact merged into
/// it), first opened first, after a [`QueueOrder::Fifo`] cursor.
pub fn cases_of_contacts(
    db: &impl Sql,
    contacts: &[ContactId],
    after: Option<&CaseCursor>,
    limit: u32,
) -> Result<Vec<CaseRecord>, StoreError> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Value> = contacts.iter().map(|c| c.as_str().into()).collect();
    let mut filter = format!("contact_id IN ({})", placeholders(contacts.len()));
    if let Some(after) = after {
        let (condition, values) = after.condition(QueueOrder::Fifo)?;
        filter.push_str(&format!(" AND {condition}"));
        params.extend(values);
    }
    params.push(i64::from(limit).into());
    run(
        db,
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {filter} ORDER BY {} LIMIT ?",
            QueueOrder::Fifo.order_by()
        ),
        &params,
    )?
    .iter()
    .map(|row| decode_case(row))
    .collect()
}

fn children_where(
    db: &impl Sql,
    parent: &str,
    open_only: bool,
) -> Result<Vec<CaseRecord>, StoreError> {
    let open = if open_only {
        " AND status_category = 'open'"
    } else {
        ""
    };
    run(
        db,
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE parent_id = ?{open} ORDER BY opened_at, id"
        ),
        &[parent.into()],
    )?
    .iter()
    .map(|row| decode_case(row))
    .collect()
}

/// A case's children still open, first opened first.
pub fn open_children(db: &impl Sql, parent: &str) -> Result<Vec<CaseRecord>, StoreError> {
    children_where(db, parent, true)
}

/// All of a case's children, first opened first.
pub fn children(db: &impl Sql, parent: &str) -> Result<Vec<CaseRecord>, StoreError> {
    children_where(db, parent, false)
}

crm_domain::vocabulary! {
    /// Who a participant is.
    PartyKind { Contact => "contact", Staff => "staff" }
}

/// A contact or a staff member on a case, in a role of its type, from and
/// to a date (open-ended when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub kind: PartyKind,
    pub party_id: String,
    pub role: String,
    pub from: Option<CalendarDate>,
    pub to: Option<CalendarDate>,
}

pub fn add_participant(
    db: &impl Sql,
    case_id: &str,
    participant: &Participant,
) -> Result<(), StoreError> {
    run(
        db,
        "INSERT INTO case_participants (case_id, kind, party_id, role, from_date, to_date) \
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            case_id.into(),
            participant.kind.as_str().into(),
            participant.party_id.as_str().into(),
            participant.role.as_str().into(),
            participant.from.map(|d| d.to_string()).into(),
            participant.to.map(|d| d.to_string()).into(),
        ],
    )?;
    Ok(())
}

/// A case's participants, in the order they were added.
pub fn participants(db: &impl Sql, case_id: &str) -> Result<Vec<Participant>, StoreError> {
    run(
        db,
        "SELECT id, kind, party_id, role, from_date, to_date FROM case_participants \
         WHERE case_id = ? ORDER BY id",
        &[case_id.into()],
    )?
    .iter()
    .map(|row| {
        let f = Fields::new("case_participants", row, 0);
        Ok(Participant {
            kind: f.parse(1, "kind", PartyKind::parse)?,
            party_id: f.text(2, "party_id")?,
            role: f.text(3, "role")?,
            from: f.opt_parse(4, "from_date", CalendarDate::parse)?,
            to: f.opt_parse(5, "to_date", CalendarDate::parse)?,
        })
    })
    .collect()
}
