//! Writing what `consent-rules` planned: a new record that supersedes the
//! ruling one, and withdrawals, each announced on the outbox by the same
//! statements' transaction.

use consent_rules::{
    Appended, CONSENT_WITHDRAWN, ConsentRecord, ConsentWithdrawn, RecordPlan, Via,
};
use crm_sql::Sql;

use crate::{StoreError, Written, append_event, insert_record, outbox};

/// Writes a planned decision: the superseded record's event, the new
/// record, and, when it ends consent that was in force (one of `current`),
/// the `consent.withdrawn` outbox event, via `via`.
pub fn write_record_plan(
    db: &impl Sql,
    plan: &RecordPlan,
    current: &[ConsentRecord],
    via: Via,
    written: Written<'_>,
) -> Result<(), StoreError> {
    if let Some(superseded) = &plan.superseded {
        append_event(db, superseded, written)?;
    }
    insert_record(db, &plan.record, written)?;
    if let Some(revoked) = current
        .iter()
        .find(|r| Some(&r.id) == plan.revokes.as_ref())
    {
        announce_withdrawal(db, revoked, written.at_ms, via, written)?;
    }
    Ok(())
}

/// Appends a planned withdrawal to its record (one of `records`) and
/// announces it; returns the record with the event.
pub fn write_withdrawal(
    db: &impl Sql,
    records: Vec<ConsentRecord>,
    appended: Appended,
    written: Written<'_>,
) -> Result<ConsentRecord, StoreError> {
    append_event(db, &appended, written)?;
    let mut record = records
        .into_iter()
        .find(|r| r.id == appended.record_id)
        .ok_or(StoreError::Missing("the withdrawn record is missing"))?;
    announce_withdrawal(
        db,
        &record,
        appended.event.at_ms,
        appended.event.via,
        written,
    )?;
    record.events.push(appended.event);
    Ok(record)
}

/// Writes the `consent.withdrawn` outbox event for `record`, whose consent
/// stopped at `at_ms`.
fn announce_withdrawal(
    db: &impl Sql,
    record: &ConsentRecord,
    at_ms: i64,
    via: Via,
    written: Written<'_>,
) -> Result<(), StoreError> {
    let event = ConsentWithdrawn::new(record, at_ms, via);
    outbox(
        db,
        CONSENT_WITHDRAWN,
        record.id.as_str(),
        &event.to_json(),
        written,
    )
}
