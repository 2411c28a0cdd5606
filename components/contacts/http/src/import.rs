//! `POST /api/contacts/import` (`text/csv`): every row is validated and
//! matched, against the store and against the rows before it. A file with
//! any invalid row writes nothing and answers the per-row report; otherwise
//! the new rows are created in one transaction (all or none) and duplicates
//! are reported, not created, unless `on_duplicate=create`. `dry_run=true`
//! answers the report without writing.

use std::collections::HashMap;

use contacts_rules::bulk::Header;
use contacts_rules::collection::{Collection, CollectionFields, ProvenanceMap, restamp};
use contacts_rules::index::{IndexEntries, index_entries};
use contacts_rules::{Contact, ContactFields};
use contacts_store::{Answer, Change, VersionMeta, Written};
use crm_component_support::audit::AuditRecord;
use crm_component_support::{
    Action, Ctx, FieldError, Outcome as AuditOutcome, Target, new_id, now_ms, query_param,
};
use crm_http::Problem;
use crm_sql::Sql;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};

use crate::idempotency::{Idempotency, Outcome, once};
use crate::input::{check_consent, collection_defaults, field_errors, too_large, unknown_params};
use crate::matching::{Candidate, candidates, record_shown, shown};
use crate::records::{now_text, today};
use crm_component_support::transaction;

const MAX_CSV_BYTES: usize = 4 * 1024 * 1024;
const MAX_ROWS: usize = 5000;
const PARAMS: [&str; 8] = [
    "dry_run",
    "on_duplicate",
    "duplicate_reason",
    "source",
    "purpose",
    "notice_id",
    "notice_version",
    "channel",
];

fn invalid_csv(detail: String) -> Problem {
    Problem::validation(vec![FieldError::new("body", detail)])
        .with_kind("invalid-csv", "Malformed CSV")
}

/// The import's options from the query string.
struct Options {
    dry_run: bool,
    create_duplicates: Option<String>,
    collection: Collection,
}

fn options(ctx: &Ctx, req: &Request) -> Result<Options, Problem> {
    let mut errors = unknown_params(req, &PARAMS, "an import parameter");
    let flag = |name: &str, errors: &mut Vec<FieldError>| match query_param(req, name).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new(name, "must be true or false"));
            false
        }
    };
    let dry_run = flag("dry_run", &mut errors);
    let create_duplicates = match query_param(req, "on_duplicate").as_deref() {
        None | Some("skip") => None,
        Some("create") => match query_param(req, "duplicate_reason") {
            Some(reason) if !reason.trim().is_empty() => Some(reason.trim().to_string()),
            _ => {
                errors.push(FieldError::new(
                    "duplicate_reason",
                    "is required with on_duplicate=create",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("on_duplicate", "must be skip or create"));
            None
        }
    };
    let notice_version = match query_param(req, "notice_version") {
        None => None,
        Some(v) => match v.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new("notice_version", "must be a number"));
                None
            }
        },
    };
    let given = CollectionFields {
        source: query_param(req, "source"),
        purpose: query_param(req, "purpose"),
        notice_id: query_param(req, "notice_id"),
        notice_version,
        channel: query_param(req, "channel"),
    };
    let collection =
        match Collection::parse(Some(&given), &collection_defaults(ctx, Some("import"))?) {
            Ok(c) => Some(c),
            Err(e) => {
                // Named as the query parameters are.
                errors.extend(field_errors(e).into_iter().map(|mut f| {
                    f.field = f.field.trim_start_matches("collection.").to_string();
                    f
                }));
                None
            }
        };
    match collection {
        Some(collection) if errors.is_empty() => Ok(Options {
            dry_run,
            create_duplicates,
            collection,
        }),
        _ => Err(Problem::validation(errors)),
    }
}

/// One data row, checked.
struct Row {
    line: usize,
    checked: Result<New, Vec<FieldError>>,
}

struct New {
    id: String,
    contact: Contact,
    fields: ContactFields,
    index: IndexEntries,
}

/// What matching made of a valid row.
enum Verdict {
    Create,
    DuplicateOfRow(usize),
    DuplicateOf(Vec<Candidate>),
}

pub fn import(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::ContactImport, Target::General, "contacts/import")?;
    // A retry is answered with its first report before any row is checked
    // again: consent revised since then does not turn an import that was
    // accepted into a refusal.
    once(ctx, req, "importContacts", |ctx, key| {
        let (rows, options) = checked_rows(ctx, req)?;
        import_rows(ctx, key, rows, &options)
    })
}

/// The file's rows, each validated (consent included), or the per-row
/// report of why nothing can be imported.
fn checked_rows(ctx: &Ctx, req: &Request) -> Result<(Vec<Row>, Options), Problem> {
    let content_type = req
        .header("content-type")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("text/csv") {
        return Err(
            Problem::refused("unsupported-media-type", "send the contacts as text/csv")
                .with_kind("unsupported-media-type", "Unsupported media type")
                .with_status(415),
        );
    }
    if req.body().len() > MAX_CSV_BYTES {
        return Err(too_large(MAX_CSV_BYTES));
    }
    let text = std::str::from_utf8(req.body())
        .map_err(|e| invalid_csv(format!("the file is not UTF-8: {e}")))?;
    let options = options(ctx, req)?;
    let records = contacts_rules::csv::parse(text).map_err(|e| {
        invalid_csv(e.to_string())
            .with_extension("line", json!(e.line))
            .with_extension("column", json!(e.column))
    })?;
    let (head, data) = records
        .split_first()
        .ok_or_else(|| invalid_csv("the file is empty".into()))?;
    let header = Header::parse(&head.fields).map_err(|e| invalid_csv(e.to_string()))?;
    if data.is_empty() {
        return Err(invalid_csv("the file has a header and no rows".into()));
    }
    if data.len() > MAX_ROWS {
        return Err(invalid_csv(format!(
            "the file has {} rows; import at most {MAX_ROWS} at a time",
            data.len()
        )));
    }
    let today = today();
    let rows: Vec<Row> = data
        .iter()
        .map(|record| {
            let checked = if record.fields.len() != header.len() {
                Err(vec![FieldError::new(
                    "row",
                    format!(
                        "has {} fields; the header has {}",
                        record.fields.len(),
                        header.len()
                    ),
                )])
            } else {
                check_row(&header.fields(&record.fields), today, &options.collection)
            };
            Row {
                line: record.line,
                checked,
            }
        })
        .collect();
    if rows.iter().any(|r| r.checked.is_err()) {
        let report: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| match &row.checked {
                Ok(_) => json!({"row": i + 1, "line": row.line, "status": "valid"}),
                Err(errors) => {
                    json!({"row": i + 1, "line": row.line, "status": "invalid", "errors": errors})
                }
            })
            .collect();
        let invalid = rows.iter().filter(|r| r.checked.is_err()).count();
        let mut problem = Problem::validation(Vec::new())
            .with_kind("import-invalid", "Invalid rows")
            .with_extension("rows", Value::Array(report))
            .with_extension("invalid", json!(invalid));
        problem.detail = format!("{invalid} row(s) are invalid; nothing was imported");
        return Err(problem);
    }
    Ok((rows, options))
}

fn check_row(
    fields: &ContactFields,
    today: crm_domain::CalendarDate,
    collection: &Collection,
) -> Result<New, Vec<FieldError>> {
    let contact = contacts_rules::validate(fields, today).map_err(field_errors)?;
    let id = new_id("con");
    let fields = contact.to_fields();
    check_consent(&id, collection, &fields.present()).map_err(|p| p.errors)?;
    let index = index_entries(&contact);
    Ok(New {
        id,
        contact,
        fields,
        index,
    })
}

fn import_rows(
    ctx: &mut Ctx,
    key: Option<&Idempotency>,
    rows: Vec<Row>,
    options: &Options,
) -> Result<Outcome, Problem> {
    let new: Vec<(usize, New)> = rows
        .into_iter()
        .filter_map(|r| r.checked.ok().map(|new| (r.line, new)))
        .collect();
    let db = ctx.db()?;
    let now = now_text();
    let (actor_id, actor_role, request_id) = (
        ctx.actor_id(),
        ctx.role().to_string(),
        ctx.request_id.clone(),
    );
    let stamp = options.collection.stamp(&now, &request_id);
    let (outcome, verdicts) = transaction(db, |db| {
        if let Some(key) = key
            && let Some(reply) = key.stored(db)?
        {
            return Ok((Outcome::Replayed(reply), Vec::new()));
        }
        let verdicts = match_rows(db, &new, options)?;
        let mut report = Vec::with_capacity(new.len());
        let (mut created, mut duplicates) = (0, 0);
        for (i, ((line, row), verdict)) in new.iter().zip(&verdicts).enumerate() {
            let mut item = json!({"row": i + 1, "line": line});
            match verdict {
                Verdict::Create if options.dry_run => item["status"] = json!("would-create"),
                Verdict::Create => {
                    let present = row.fields.present();
                    let mut provenance = ProvenanceMap::new();
                    restamp(&mut provenance, &present, &present, &stamp);
                    let meta = VersionMeta {
                        change: Change::Created,
                        recorded_at: &now,
                        actor_id: &actor_id,
                        actor_role: &actor_role,
                        request_id: &request_id,
                        reason: options.create_duplicates.as_deref(),
                        related_contact: None,
                    };
                    let written = Written {
                        id: &row.id,
                        fields: &row.fields,
                        provenance: &provenance,
                        version: 1,
                    };
                    contacts_store::create(db, &written, &row.index, &meta, now_ms())?;
                    item["status"] = json!("created");
                    item["contact_id"] = json!(row.id);
                }
                Verdict::DuplicateOfRow(j) => {
                    item["status"] = json!("duplicate");
                    item["duplicate_of_row"] = json!(j + 1);
                }
                Verdict::DuplicateOf(found) => {
                    item["status"] = json!("duplicate");
                    item["candidates"] = shown(ctx, found);
                }
            }
            match verdict {
                Verdict::Create => created += 1,
                _ => duplicates += 1,
            }
            report.push(item);
        }
        let reply = Answer::json(
            200,
            json!({"dry_run": options.dry_run, "created": created, "duplicates": duplicates, "rows": report}),
        );
        if options.dry_run || created == 0 {
            return Ok((Outcome::NotWritten(reply), verdicts));
        }
        // Each created contact's entry commits with it, or neither does.
        let created: Vec<_> = new
            .iter()
            .zip(&verdicts)
            .filter(|(_, verdict)| matches!(verdict, Verdict::Create))
            .map(|((_, row), _)| (format!("contact/{}", row.id), Some(row.id.clone())))
            .collect();
        ctx.record_many_in_transaction(
            |entries| append_in_transaction(db, entries),
            Action::ContactCreate,
            &created,
            AuditOutcome::Allowed,
            Some("import"),
        )?;
        if let Some(key) = key {
            key.keep(db, &reply)?;
        }
        Ok((Outcome::Written(reply), verdicts))
    })?;
    // The candidates shown are recorded before the answer discloses them.
    let shown = verdicts.iter().flat_map(|verdict| match verdict {
        Verdict::DuplicateOf(found) => found.as_slice(),
        _ => &[],
    });
    record_shown(ctx, shown)?;
    Ok(outcome)
}

/// Each row's verdict: a duplicate of an earlier row of the file (sharing a
/// key and scoring), a duplicate of stored contacts, or new.
fn match_rows(
    db: &impl Sql,
    new: &[(usize, New)],
    options: &Options,
) -> Result<Vec<Verdict>, Problem> {
    let mut verdicts = Vec::with_capacity(new.len());
    // Key → rows to be created with it.
    let mut filed: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, row)) in new.iter().enumerate() {
        let profile = row.contact.match_profile();
        let earlier = row
            .index
            .keys
            .iter()
            .filter_map(|k| filed.get(k.as_str()))
            .flatten()
            .copied()
            .find(|&j| {
                contacts_matching::score(&profile, &new[j].1.contact.match_profile()).is_some()
            });
        let verdict = match (earlier, options.create_duplicates.is_some()) {
            (Some(j), false) => Verdict::DuplicateOfRow(j),
            (_, create) => {
                let found = candidates(db, &row.contact, &row.index, &[])?;
                if found.is_empty() || create {
                    Verdict::Create
                } else {
                    Verdict::DuplicateOf(found)
                }
            }
        };
        if matches!(verdict, Verdict::Create) {
            for k in &row.index.keys {
                filed.entry(k.as_str()).or_default().push(i);
            }
        }
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Appends `records` to the audit trail inside the import's transaction on
/// `db`, through the audit capability's store: the one write in this
/// component that does not go through `crm:audit/trail`, because the leaf
/// writes on a connection of its own and contact versions cannot be taken
/// back once committed.
fn append_in_transaction(
    db: &impl crm_sql::Sql,
    records: &[AuditRecord<'_>],
) -> Result<(), Problem> {
    let entries: Vec<_> = records
        .iter()
        .map(|r| audit_store::NewEntry {
            request_id: r.request_id,
            actor_id: r.actor_id,
            role: r.role,
            purpose: r.purpose.map(crm_auth::purpose::Purpose::as_str),
            action: r.action,
            resource: r.resource,
            outcome: r.outcome.as_str(),
            subject_contact_id: r.subject_contact,
            detail: r.detail,
        })
        .collect();
    audit_store::append_in_transaction(db, &entries, now_ms)?;
    Ok(())
}
