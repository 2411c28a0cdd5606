//! `audit`: reads the audit trail (`/api/audit/...`): lists entries with a
//! cursor and walks the hash chain to find the first broken link.

use crm_audit_chain::{Entry, Stored};
use crm_component_support::{FieldError, integer, json, open_db, query, query_param, serve, text};
use crm_http::Problem;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{QueryResult, Value};

const COLUMNS: &str = "sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, prev_hash, hash";
const MAX_PAGE: i64 = 500;

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::AUDIT,
        &req,
        |operation, _, _| match operation {
            "listAuditEntries" => list(&req),
            "verifyAuditChain" => verify(),
            _ => Err(Problem::not_found(operation)),
        },
    )
}

fn number_param(
    req: &Request,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, Problem> {
    match query_param(req, name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    name,
                    format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )])
            }),
    }
}

fn list(req: &Request) -> Result<Response, Problem> {
    let limit = number_param(req, "limit", 100, 1..=MAX_PAGE)?;
    let after = number_param(req, "after", 0, 0..=i64::MAX)?;
    let db = open_db()?;
    let rows = query(
        &db,
        &format!(
            "SELECT {COLUMNS} FROM audit_entries WHERE sequence > ? ORDER BY sequence LIMIT ?"
        ),
        &[Value::Integer(after), Value::Integer(limit)],
    )?;
    let entries: Vec<serde_json::Value> = rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            serde_json::json!({
                "sequence": integer(&v[0]),
                "recorded_at": integer(&v[1]),
                "request_id": text(&v[2]),
                "actor_id": text(&v[3]),
                "role": text(&v[4]),
                "purpose": text(&v[5]),
                "action": text(&v[6]),
                "resource": text(&v[7]),
                "outcome": text(&v[8]),
                "prev_hash": text(&v[9]),
                "hash": text(&v[10]),
            })
        })
        .collect();
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().and_then(|e| e["sequence"].as_i64()))
        .flatten()
        .map(|last| format!("/api/audit/entries?after={last}&limit={limit}"));
    Ok(json(
        200,
        &serde_json::json!({ "entries": entries, "next": next }),
    ))
}

fn verify() -> Result<Response, Problem> {
    let db = open_db()?;
    let rows: QueryResult = query(
        &db,
        &format!("SELECT {COLUMNS} FROM audit_entries ORDER BY sequence"),
        &[],
    )?;
    let owned: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|row| {
            row.values
                .iter()
                .map(|v| text(v).unwrap_or_default())
                .collect()
        })
        .collect();
    let stored = rows.rows.iter().zip(&owned).map(|(row, t)| Stored {
        entry: Entry {
            sequence: integer(&row.values[0]).unwrap_or(0) as u64,
            recorded_at: integer(&row.values[1]).unwrap_or(0),
            request_id: &t[2],
            actor_id: &t[3],
            role: &t[4],
            purpose: text(&row.values[5]).is_some().then_some(t[5].as_str()),
            action: &t[6],
            resource: &t[7],
            outcome: &t[8],
        },
        prev_hash: &t[9],
        hash: &t[10],
    });
    let body = match crm_audit_chain::verify(stored) {
        Ok(count) => serde_json::json!({ "valid": true, "entries": count }),
        Err(broken) => serde_json::json!({
            "valid": false,
            "entries": owned.len(),
            "first_broken_sequence": broken.sequence,
            "reason": broken.reason,
        }),
    };
    Ok(json(200, &body))
}
