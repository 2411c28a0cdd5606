//! `interaction_legal_holds`: disposal freezes on a contact or a case.
//! Placing and lifting are recorded (who, when, why); a hold is never
//! deleted, and a trigger allows only its one lift.

use interactions_rules::values::{CaseRef, ContactId, HoldId, OfficerId, Reason};
use interactions_rules::{HoldScope, LegalHold, NewLegalHold};
use thiserror::Error;

use crate::StoreError;
use crm_sql::{Row, Sql, SqlError, Value, transaction};

/// A hold and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHold {
    pub hold: LegalHold,
    pub reason: String,
    pub placed_by: String,
    pub lifted_by: Option<String>,
    pub lift_reason: Option<String>,
}

const COLUMNS: &str =
    "id, contact_id, case_ref, reason, placed_at, placed_by, lifted_at, lifted_by, lift_reason";

fn decode(row: &Row) -> Result<StoredHold, StoreError> {
    let bad = |what: &str| StoreError::Inconsistent(format!("a legal hold's {what} is malformed"));
    let text = |i: usize| match &row[i] {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    };
    let int = |i: usize| match &row[i] {
        Value::Integer(v) => Some(*v),
        _ => None,
    };
    let id = text(0)
        .and_then(|t| HoldId::parse(&t).ok())
        .ok_or_else(|| bad("id"))?;
    let scope = match (text(1), text(2)) {
        (Some(contact), None) => ContactId::parse(&contact)
            .map(HoldScope::Contact)
            .map_err(|_| bad("contact"))?,
        (None, Some(case)) => CaseRef::parse(&case)
            .map(HoldScope::Case)
            .map_err(|_| bad("case"))?,
        _ => return Err(bad("scope")),
    };
    Ok(StoredHold {
        hold: LegalHold {
            id,
            scope,
            placed_at_ms: int(4).ok_or_else(|| bad("placed_at"))?,
            lifted_at_ms: int(6),
        },
        reason: text(3).ok_or_else(|| bad("reason"))?,
        placed_by: text(5).ok_or_else(|| bad("placed_by"))?,
        lifted_by: text(7),
        lift_reason: text(8),
    })
}

fn scope_columns(scope: &HoldScope) -> (Value, Value) {
    match scope {
        HoldScope::Contact(contact) => (contact.as_str().into(), Value::Null),
        HoldScope::Case(case) => (Value::Null, case.as_str().into()),
    }
}

/// Places a hold, in force from `now_ms`.
pub fn place(
    db: &impl Sql,
    id: HoldId,
    new: NewLegalHold,
    placed_by: &OfficerId,
    now_ms: i64,
) -> Result<StoredHold, StoreError> {
    let (contact, case) = scope_columns(&new.scope);
    db.run(
        "INSERT INTO interaction_legal_holds (id, contact_id, case_ref, reason, placed_at, placed_by) VALUES (?, ?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            contact,
            case,
            new.reason.as_str().into(),
            now_ms.into(),
            placed_by.as_str().into(),
        ],
    )?;
    Ok(StoredHold {
        hold: LegalHold {
            id,
            scope: new.scope,
            placed_at_ms: now_ms,
            lifted_at_ms: None,
        },
        reason: new.reason.as_str().to_string(),
        placed_by: placed_by.as_str().to_string(),
        lifted_by: None,
        lift_reason: None,
    })
}

/// Why a hold was not lifted.
#[derive(Debug, Error)]
pub enum HoldError {
    #[error("there is no legal hold {0}")]
    NotFound(HoldId),
    #[error("legal hold {0} was already lifted")]
    AlreadyLifted(HoldId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SqlError> for HoldError {
    fn from(e: SqlError) -> Self {
        Self::Store(e.into())
    }
}

/// Lifts hold `id` from `now_ms`.
pub fn lift(
    db: &impl Sql,
    id: &HoldId,
    reason: &Reason,
    lifted_by: &OfficerId,
    now_ms: i64,
) -> Result<StoredHold, HoldError> {
    transaction(db, || {
        let mut hold = get(db, id)?.ok_or_else(|| HoldError::NotFound(id.clone()))?;
        if hold.hold.lifted_at_ms.is_some() {
            return Err(HoldError::AlreadyLifted(id.clone()));
        }
        db.run(
            "UPDATE interaction_legal_holds SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
            &[
                now_ms.into(),
                lifted_by.as_str().into(),
                reason.as_str().into(),
                id.as_str().into(),
            ],
        )?;
        hold.hold.lifted_at_ms = Some(now_ms);
        hold.lifted_by = Some(lifted_by.as_str().to_string());
        hold.lift_reason = Some(reason.as_str().to_string());
        Ok(hold)
    })
}

/// Hold `id`, if there is one.
pub fn get(db: &impl Sql, id: &HoldId) -> Result<Option<StoredHold>, StoreError> {
    db.run(
        &format!("SELECT {COLUMNS} FROM interaction_legal_holds WHERE id = ?"),
        &[id.as_str().into()],
    )?
    .first()
    .map(decode)
    .transpose()
}

/// Every hold on `scope` (every hold when `None`), oldest first.
pub fn list(db: &impl Sql, scope: Option<&HoldScope>) -> Result<Vec<StoredHold>, StoreError> {
    let rows = match scope {
        None => db.run(
            &format!("SELECT {COLUMNS} FROM interaction_legal_holds ORDER BY placed_at, id"),
            &[],
        )?,
        Some(HoldScope::Contact(contact)) => db.run(
            &format!(
                "SELECT {COLUMNS} FROM interaction_legal_holds WHERE contact_id = ? ORDER BY placed_at, id"
            ),
            &[contact.as_str().into()],
        )?,
        Some(HoldScope::Case(case)) => db.run(
            &format!(
                "SELECT {COLUMNS} FROM interaction_legal_holds WHERE case_ref = ? ORDER BY placed_at, id"
            ),
            &[case.as_str().into()],
        )?,
    };
    rows.iter().map(decode).collect()
}

/// The holds not yet lifted that could freeze an interaction of `contact`:
/// those on the contact and every case hold (`may_dispose` picks the ones
/// on the interaction's cases).
pub(crate) fn active_holds_for(
    db: &impl Sql,
    contact: &ContactId,
) -> Result<Vec<LegalHold>, StoreError> {
    db.run(
        &format!(
            "SELECT {COLUMNS} FROM interaction_legal_holds \
             WHERE lifted_at IS NULL AND (contact_id = ? OR case_ref IS NOT NULL)"
        ),
        &[contact.as_str().into()],
    )?
    .iter()
    .map(|row| decode(row).map(|stored| stored.hold))
    .collect()
}
