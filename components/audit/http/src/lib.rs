//! `audit`: reads the audit trail (`/api/audit/...`): filtered, paginated
//! entries for auditors; a citizen's own access log; a walk of the hash chain
//! that reports the first broken link and checks the signed checkpoints; and
//! signing new checkpoints with the key in the `audit_checkpoint_key` secret.

use audit_chain::checkpoint::{Checkpoint, CheckpointCheck, CheckpointSigner, SignedCheckpoint};
use audit_chain::{ChainVerifier, Entry, GENESIS, Stored};
use crm_component_support::{
    Action, Ctx, FieldError, Target, created, integer, json, now_ms, query, query_param, serve,
    text,
};
use crm_http::Problem;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{Connection, RowResult as Row, Value};

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audited",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

const COLUMNS: &str = "sequence, recorded_at, request_id, actor_id, role, purpose, action, resource, outcome, subject_contact_id, detail, prev_hash, hash";
const MAX_PAGE: i64 = 500;
/// Entries read per query while verifying, so memory stays flat.
const VERIFY_BATCH: i64 = 1_000;

#[http_component]
fn handle(req: Request) -> Response {
    serve(
        crm_http::routes::AUDIT,
        &req,
        &AuditTrail,
        |ctx, operation, _| match operation {
            "listAuditEntries" => list(ctx, &req),
            "listOwnAccess" => own_access(ctx, &req),
            "verifyAuditChain" => verify(ctx),
            "createAuditCheckpoint" => create_checkpoint(ctx),
            "listAuditCheckpoints" => list_checkpoints(ctx),
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

/// A page of entries matching `filters` (column, value) after the cursor.
fn page(
    db: &Connection,
    filters: &[(&str, Value)],
    after: i64,
    limit: i64,
) -> Result<Vec<Row>, Problem> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_entries WHERE sequence > ?");
    let mut params = vec![Value::Integer(after)];
    for (condition, value) in filters {
        sql.push_str(" AND ");
        sql.push_str(condition);
        params.push(value.clone());
    }
    sql.push_str(" ORDER BY sequence LIMIT ?");
    params.push(Value::Integer(limit));
    Ok(query(db, &sql, &params)?.rows)
}

fn entry_json(row: &Row) -> serde_json::Value {
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
        "subject_contact_id": text(&v[9]),
        "detail": text(&v[10]),
        "prev_hash": text(&v[11]),
        "hash": text(&v[12]),
    })
}

/// The link to the next page, when this one was full.
fn next_link(path: &str, rows: &[Row], limit: i64, keep: &[(&str, String)]) -> Option<String> {
    if (rows.len() as i64) < limit {
        return None;
    }
    let last = rows.last().and_then(|r| integer(&r.values[0]))?;
    let mut link = format!("{path}?after={last}&limit={limit}");
    for (name, value) in keep {
        link.push_str(&format!("&{name}={}", percent_encode(value)));
    }
    Some(link)
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn list(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::AuditRead, Target::General, "audit/entries")?;
    let limit = number_param(req, "limit", 100, 1..=MAX_PAGE)?;
    let after = number_param(req, "after", 0, 0..=i64::MAX)?;
    let mut filters = Vec::new();
    let mut keep = Vec::new();
    for (param, condition) in [
        ("resource", "resource = ?"),
        ("actor", "actor_id = ?"),
        ("subject_contact_id", "subject_contact_id = ?"),
        ("action", "action = ?"),
        ("outcome", "outcome = ?"),
    ] {
        if let Some(value) = query_param(req, param).filter(|v| !v.is_empty()) {
            filters.push((condition, Value::Text(value.clone())));
            keep.push((param, value));
        }
    }
    for (param, condition) in [("since", "recorded_at >= ?"), ("until", "recorded_at < ?")] {
        if query_param(req, param).is_some() {
            let ms = number_param(req, param, 0, 0..=i64::MAX)?;
            filters.push((condition, Value::Integer(ms)));
            keep.push((param, ms.to_string()));
        }
    }
    let rows = page(ctx.db()?, &filters, after, limit)?;
    let entries: Vec<_> = rows.iter().map(entry_json).collect();
    let next = next_link("/api/audit/entries", &rows, limit, &keep);
    Ok(json(
        200,
        &serde_json::json!({ "entries": entries, "next": next }),
    ))
}

/// A citizen's own access log: who touched their information, when, what
/// and why. Staff are shown by role, or also by id when the
/// `audit_me_staff_identity` policy variable is `id`.
fn own_access(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    ctx.require(Action::AuditReadOwn, Target::General, "audit/me")?;
    let Some(contact) = ctx.own_contact().map(str::to_string) else {
        return Err(Problem::not_found("no contact is linked to this identity"));
    };
    let reveal_ids = spin_sdk::variables::get("audit_me_staff_identity").is_ok_and(|v| v == "id");
    let limit = number_param(req, "limit", 100, 1..=MAX_PAGE)?;
    let after = number_param(req, "after", 0, 0..=i64::MAX)?;
    let rows = page(
        ctx.db()?,
        &[("subject_contact_id = ?", Value::Text(contact))],
        after,
        limit,
    )?;
    let own_actor = ctx.actor_id();
    let accesses: Vec<_> = rows
        .iter()
        .map(|row| {
            let v = &row.values;
            let actor = text(&v[3]).unwrap_or_default();
            let who = if actor == own_actor {
                Some("you".to_string())
            } else if reveal_ids {
                Some(actor)
            } else {
                None
            };
            serde_json::json!({
                "sequence": integer(&v[0]),
                "at": integer(&v[1]),
                "role": text(&v[4]),
                "actor": who,
                "purpose": text(&v[5]),
                "action": text(&v[6]),
                "resource": text(&v[7]),
                "outcome": text(&v[8]),
            })
        })
        .collect();
    let next = next_link("/api/audit/me", &rows, limit, &[]);
    Ok(json(
        200,
        &serde_json::json!({ "accesses": accesses, "next": next }),
    ))
}

fn stored<'a>(row: &Row, t: &'a [String]) -> Stored<'a> {
    let v = &row.values;
    let optional = |i: usize| text(&v[i]).is_some().then_some(t[i].as_str());
    Stored {
        entry: Entry {
            sequence: integer(&v[0]).unwrap_or(0) as u64,
            recorded_at: integer(&v[1]).unwrap_or(0),
            request_id: &t[2],
            actor_id: &t[3],
            role: &t[4],
            purpose: optional(5),
            action: &t[6],
            resource: &t[7],
            outcome: &t[8],
            subject_contact_id: optional(9),
            detail: optional(10),
        },
        prev_hash: &t[11],
        hash: &t[12],
    }
}

fn checkpoints(db: &Connection) -> Result<Vec<SignedCheckpoint>, Problem> {
    let rows = query(
        db,
        "SELECT id, size, head_hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY id",
        &[],
    )?;
    Ok(rows
        .rows
        .iter()
        .map(|row| {
            let v = &row.values;
            SignedCheckpoint {
                id: integer(&v[0]).unwrap_or_default(),
                checkpoint: Checkpoint {
                    size: integer(&v[1]).unwrap_or_default() as u64,
                    head_hash: text(&v[2]).unwrap_or_default(),
                    created_at: integer(&v[3]).unwrap_or_default(),
                    key_id: text(&v[4]).unwrap_or_default(),
                },
                signature: text(&v[5]).unwrap_or_default(),
            }
        })
        .collect())
}

fn signer() -> Option<CheckpointSigner> {
    spin_sdk::variables::get("audit_checkpoint_key")
        .ok()
        .filter(|k| !k.trim().is_empty())
        .and_then(|k| CheckpointSigner::from_seed_base64(&k).ok())
}

fn verify(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(Action::AuditVerify, Target::General, "audit/chain")?;
    let db = ctx.db()?;
    let checkpoints = checkpoints(db)?;
    let mut held = CheckpointCheck::new(&checkpoints);
    let mut verifier = ChainVerifier::default();
    let mut broken = None;
    held.observe(0, verifier.head());
    'pages: loop {
        let rows = page(db, &[], verifier.verified() as i64, VERIFY_BATCH)?;
        for row in &rows {
            let texts: Vec<String> = row
                .values
                .iter()
                .map(|v| text(v).unwrap_or_default())
                .collect();
            if let Err(link) = verifier.push(&stored(row, &texts)) {
                broken = Some(link);
                break 'pages;
            }
            held.observe(verifier.verified(), verifier.head());
        }
        if (rows.len() as i64) < VERIFY_BATCH {
            break;
        }
    }
    let public = signer().map(|s| s.public_key_base64());
    let failures: Vec<_> = held
        .finish(broken.is_none(), &checkpoints, public.as_deref())
        .into_iter()
        .map(|f| serde_json::json!({"checkpoint": f.id, "size": f.size, "reason": f.reason}))
        .collect();
    let mut body = serde_json::json!({
        "valid": broken.is_none() && failures.is_empty(),
        "entries": verifier.verified(),
        "head_hash": verifier.head(),
        "checkpoints": {
            "count": checkpoints.len(),
            "signatures_checked": public.is_some(),
            "failures": failures,
        },
    });
    if let Some(link) = broken {
        body["first_broken_sequence"] = link.sequence.into();
        body["reason"] = link.reason.into();
    }
    Ok(json(200, &body))
}

fn create_checkpoint(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(
        Action::AuditCheckpoint,
        Target::General,
        "audit/checkpoints",
    )?;
    let signer = signer().ok_or_else(|| {
        Problem::unavailable(
            "checkpoints are not configured: set the `audit_checkpoint_key` secret variable to a base64 Ed25519 seed (crm-cli audit-key)",
        )
        .with_kind("checkpoint-key-missing", "Checkpoint key not configured")
    })?;
    let db = ctx.db()?;
    let head = query(
        db,
        "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1",
        &[],
    )?;
    let (size, head_hash) = head.rows.first().map_or((0, GENESIS.to_string()), |row| {
        (
            integer(&row.values[0]).unwrap_or(0) as u64,
            text(&row.values[1]).unwrap_or_default(),
        )
    });
    let (checkpoint, signature) = signer.sign(size, &head_hash, now_ms());
    let inserted = query(
        db,
        "INSERT INTO audit_checkpoints (size, head_hash, created_at, key_id, signature) VALUES (?, ?, ?, ?, ?) RETURNING id",
        &[
            Value::Integer(size as i64),
            Value::Text(head_hash),
            Value::Integer(checkpoint.created_at),
            Value::Text(checkpoint.key_id.clone()),
            Value::Text(signature.clone()),
        ],
    )?;
    let id = inserted
        .rows
        .first()
        .and_then(|r| integer(&r.values[0]))
        .unwrap_or_default();
    Ok(created(
        "/api/audit/checkpoints",
        &checkpoint_json(id, &checkpoint, &signature, &signer.public_key_base64()),
    ))
}

fn checkpoint_json(
    id: i64,
    checkpoint: &Checkpoint,
    signature: &str,
    public_key: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "size": checkpoint.size,
        "head_hash": checkpoint.head_hash,
        "created_at": checkpoint.created_at,
        "key_id": checkpoint.key_id,
        "signature": signature,
        "public_key": public_key,
        "signed_text": String::from_utf8_lossy(&checkpoint.signed_bytes()),
    })
}

fn list_checkpoints(ctx: &mut Ctx) -> Result<Response, Problem> {
    ctx.require(Action::AuditVerify, Target::General, "audit/checkpoints")?;
    let public = signer().map(|s| s.public_key_base64()).unwrap_or_default();
    let list: Vec<_> = checkpoints(ctx.db()?)?
        .iter()
        .map(|cp| checkpoint_json(cp.id, &cp.checkpoint, &cp.signature, &public))
        .collect();
    Ok(json(
        200,
        &serde_json::json!({ "checkpoints": list, "public_key": public }),
    ))
}
