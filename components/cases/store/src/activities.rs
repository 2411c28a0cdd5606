//! A case's activities: numbered 1, 2, … per case as they are added, read
//! newest first, and the done touchpoints (calls, letters, messages)
//! logged in the contact's interaction log once.

use cases_rules::{ActivityKind, Direction};
use crm_sql::{Sql, Value};

use crate::row::{Fields, flag};
use crate::{StoreError, run};

crm_domain::vocabulary! {
    /// Where an activity stands.
    ActivityStatus { Scheduled => "scheduled", Done => "done", Cancelled => "cancelled" }
}

crm_domain::vocabulary! {
    /// Who did an activity.
    ActorKind { Staff => "staff", Citizen => "citizen", System => "system" }
}

/// An activity to add; the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub id: String,
    pub case_id: String,
    pub kind: ActivityKind,
    pub status: ActivityStatus,
    pub subject: String,
    pub body: Option<String>,
    pub direction: Direction,
    pub citizen_visible: bool,
    /// The officer's, contact's or system's id.
    pub actor: String,
    pub actor_kind: ActorKind,
    pub due_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
}

/// An activity as stored: its number on the case, and the interaction log
/// entry it became (a done touchpoint, once logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub kind: ActivityKind,
    pub status: ActivityStatus,
    pub subject: String,
    pub body: Option<String>,
    pub direction: Direction,
    pub citizen_visible: bool,
    pub actor: String,
    pub actor_kind: ActorKind,
    pub due_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub interaction_id: Option<String>,
}

const ACTIVITY_COLUMNS: &str = "id, case_id, seq, kind, status, subject, body, direction, \
    citizen_visible, actor, actor_kind, due_at, completed_at, created_at, interaction_id";

fn decode_activity(row: &[Value]) -> Result<ActivityRecord, StoreError> {
    let f = Fields::new("case_activities", row, 0);
    Ok(ActivityRecord {
        id: f.text(0, "id")?,
        case_id: f.text(1, "case_id")?,
        seq: f.int(2, "seq")?,
        kind: f.parse(3, "kind", ActivityKind::parse)?,
        status: f.parse(4, "status", ActivityStatus::parse)?,
        subject: f.text(5, "subject")?,
        body: f.opt_text(6, "body")?,
        direction: f.parse(7, "direction", Direction::parse)?,
        citizen_visible: f.flag(8, "citizen_visible")?,
        actor: f.text(9, "actor")?,
        actor_kind: f.parse(10, "actor_kind", ActorKind::parse)?,
        due_at: f.opt_int(11, "due_at")?,
        completed_at: f.opt_int(12, "completed_at")?,
        created_at: f.int(13, "created_at")?,
        interaction_id: f.opt_text(14, "interaction_id")?,
    })
}

/// Adds `new` as the case's next activity (its `seq` is one more than the
/// case's last, taken in the caller's transaction).
pub fn insert_activity(db: &impl Sql, new: &NewActivity) -> Result<ActivityRecord, StoreError> {
    let rows = run(
        db,
        &format!(
            "INSERT INTO case_activities (id, case_id, seq, kind, status, subject, body, direction, \
             citizen_visible, actor, actor_kind, due_at, completed_at, created_at) \
             VALUES (?, ?, (SELECT IFNULL(MAX(seq), 0) + 1 FROM case_activities WHERE case_id = ?), \
             ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {ACTIVITY_COLUMNS}"
        ),
        &[
            new.id.as_str().into(),
            new.case_id.as_str().into(),
            new.case_id.as_str().into(),
            new.kind.as_str().into(),
            new.status.as_str().into(),
            new.subject.as_str().into(),
            new.body.as_deref().into(),
            new.direction.as_str().into(),
            flag(new.citizen_visible),
            new.actor.as_str().into(),
            new.actor_kind.as_str().into(),
            new.due_at.into(),
            new.completed_at.into(),
            new.created_at.into(),
        ],
    )?;
    match rows.first() {
        Some(row) => decode_activity(row),
        None => Err(StoreError::Unrepresentable(format!(
            "activity {} was not added",
            new.id
        ))),
    }
}

/// A case's activities newest first, before `before_seq` when given, only
/// the citizen-visible ones when asked.
pub fn activities(
    db: &impl Sql,
    case_id: &str,
    before_seq: Option<i64>,
    limit: u32,
    citizen_visible_only: bool,
) -> Result<Vec<ActivityRecord>, StoreError> {
    let visible = if citizen_visible_only {
        " AND citizen_visible = 1"
    } else {
        ""
    };
    run(
        db,
        &format!(
            "SELECT {ACTIVITY_COLUMNS} FROM case_activities WHERE case_id = ? AND seq < ?{visible} \
             ORDER BY seq DESC LIMIT ?"
        ),
        &[
            case_id.into(),
            before_seq.unwrap_or(i64::MAX).into(),
            i64::from(limit).into(),
        ],
    )?
    .iter()
    .map(|row| decode_activity(row))
    .collect()
}

pub fn activity(
    db: &impl Sql,
    case_id: &str,
    id: &str,
) -> Result<Option<ActivityRecord>, StoreError> {
    run(
        db,
        &format!("SELECT {ACTIVITY_COLUMNS} FROM case_activities WHERE case_id = ? AND id = ?"),
        &[case_id.into(), id.into()],
    )?
    .first()
    .map(|row| decode_activity(row))
    .transpose()
}

/// Writes an activity's status and completion time (nothing else of an
/// activity changes); false when there is no such activity.
pub fn update_activity(db: &impl Sql, activity: &ActivityRecord) -> Result<bool, StoreError> {
    let updated = run(
        db,
        "UPDATE case_activities SET status = ?, completed_at = ? WHERE case_id = ? AND id = ? \
         RETURNING id",
        &[
            activity.status.as_str().into(),
            activity.completed_at.into(),
            activity.case_id.as_str().into(),
            activity.id.as_str().into(),
        ],
    )?;
    Ok(!updated.is_empty())
}

/// Records that the activity is interaction `interaction_id` in the log,
/// only if it was not logged yet: false when it was (a retry logs once).
pub fn mark_logged(
    db: &impl Sql,
    activity_id: &str,
    interaction_id: &str,
) -> Result<bool, StoreError> {
    let marked = run(
        db,
        "UPDATE case_activities SET interaction_id = ? WHERE id = ? AND interaction_id IS NULL \
         RETURNING id",
        &[interaction_id.into(), activity_id.into()],
    )?;
    Ok(!marked.is_empty())
}

/// Done touchpoints (anything but a note, a task or an assignment, inbound
/// or outbound) not in the interaction log yet, oldest first. The
/// conditions are the `case_activities_unlogged` index's, word for word.
pub fn unlogged_touchpoints(db: &impl Sql, limit: u32) -> Result<Vec<ActivityRecord>, StoreError> {
    run(
        db,
        &format!(
            "SELECT {ACTIVITY_COLUMNS} FROM case_activities \
             WHERE status = 'done' AND interaction_id IS NULL \
             AND direction IN ('inbound', 'outbound') \
             AND kind NOT IN ('note', 'task', 'assignment') \
             ORDER BY created_at, id LIMIT ?"
        ),
        &[i64::from(limit).into()],
    )?
    .iter()
    .map(|row| decode_activity(row))
    .collect()
}
