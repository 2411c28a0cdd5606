//! `audit`: reads the audit trail (`/api/audit/...`): filtered, paginated
//! entries for auditors; a citizen's own access log; a walk of the hash chain
//! that reports the first broken link and checks the signed checkpoints; and
//! signing new checkpoints with the key in the `audit_checkpoint_key` secret.

use audit_chain::ChainVerifier;
use audit_chain::checkpoint::{Checkpoint, CheckpointCheck, CheckpointSigner};
use audit_store::{Filter, StoredEntry};
use crm_component_support::{
    Action, Ctx, FieldError, Target, created, json, now_ms, query_param, serve,
};
use crm_http::Problem;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "crm:components/audited",
    with: { "crm:types/types@0.1.0": crm_component_support::wit::crm::types::types },
    generate_all,
});

crm_component_support::audit_sink!();

const MAX_PAGE: i64 = 500;
/// Entries read per query while verifying, so memory stays flat.
const VERIFY_BATCH: u64 = 1_000;

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

/// The page a request asks for: entries after sequence `after`, at most `limit`.
struct Page {
    after: i64,
    limit: i64,
}

impl Page {
    fn of(req: &Request) -> Result<Self, Problem> {
        let limit = number_param(req, "limit", 100, 1..=MAX_PAGE)?;
        let after = number_param(req, "after", 0, 0..=i64::MAX)?;
        Ok(Self { after, limit })
    }

    fn read(&self, ctx: &Ctx, filter: &Filter) -> Result<Vec<StoredEntry>, Problem> {
        let (after, limit) = (self.after as u64, self.limit as u64);
        Ok(audit_store::entries(ctx.db()?, filter, after, limit)?)
    }
}

fn entry_json(e: &StoredEntry) -> serde_json::Value {
    serde_json::json!({
        "sequence": e.sequence,
        "recorded_at": e.recorded_at,
        "request_id": e.request_id,
        "actor_id": e.actor_id,
        "role": e.role,
        "purpose": e.purpose,
        "action": e.action,
        "resource": e.resource,
        "outcome": e.outcome,
        "subject_contact_id": e.subject_contact_id,
        "detail": e.detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}

/// The link to the next page, when this one was full.
fn next_link(
    path: &str,
    entries: &[StoredEntry],
    limit: i64,
    keep: &[(&str, String)],
) -> Option<String> {
    if (entries.len() as i64) < limit {
        return None;
    }
    let last = entries.last()?.sequence;
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
    let page = Page::of(req)?;
    let mut filter = Filter::default();
    // The next page's link keeps the filters, in this order.
    let mut keep = Vec::new();
    for (param, field) in [
        ("resource", &mut filter.resource),
        ("actor", &mut filter.actor_id),
        ("subject_contact_id", &mut filter.subject_contact_id),
        ("action", &mut filter.action),
        ("outcome", &mut filter.outcome),
    ] {
        if let Some(value) = query_param(req, param).filter(|v| !v.is_empty()) {
            *field = Some(value.clone());
            keep.push((param, value));
        }
    }
    for (param, field) in [("since", &mut filter.since), ("until", &mut filter.until)] {
        if query_param(req, param).is_some() {
            let ms = number_param(req, param, 0, 0..=i64::MAX)?;
            *field = Some(ms);
            keep.push((param, ms.to_string()));
        }
    }
    let entries = page.read(ctx, &filter)?;
    let next = next_link("/api/audit/entries", &entries, page.limit, &keep);
    let entries: Vec<_> = entries.iter().map(entry_json).collect();
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
    let page = Page::of(req)?;
    let entries = page.read(ctx, &Filter::about(&contact))?;
    let own_actor = ctx.actor_id();
    let accesses: Vec<_> = entries
        .iter()
        .map(|e| {
            let who = if e.actor_id == own_actor {
                Some("you")
            } else if reveal_ids {
                Some(e.actor_id.as_str())
            } else {
                None
            };
            serde_json::json!({
                "sequence": e.sequence,
                "at": e.recorded_at,
                "role": e.role,
                "actor": who,
                "purpose": e.purpose,
                "action": e.action,
                "resource": e.resource,
                "outcome": e.outcome,
            })
        })
        .collect();
    let next = next_link("/api/audit/me", &entries, page.limit, &[]);
    Ok(json(
        200,
        &serde_json::json!({ "accesses": accesses, "next": next }),
    ))
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
    let checkpoints = audit_store::checkpoints(db)?;
    let mut held = CheckpointCheck::new(&checkpoints);
    let mut verifier = ChainVerifier::default();
    let mut broken = None;
    held.observe(0, verifier.head());
    'pages: loop {
        let entries =
            audit_store::entries(db, &Filter::default(), verifier.verified(), VERIFY_BATCH)?;
        for entry in &entries {
            if let Err(link) = verifier.push(&entry.chained()) {
                broken = Some(link);
                break 'pages;
            }
            held.observe(verifier.verified(), verifier.head());
        }
        if (entries.len() as u64) < VERIFY_BATCH {
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
    let (size, head_hash) = audit_store::head(db)?;
    let (checkpoint, signature) = signer.sign(size, &head_hash, now_ms());
    let id = audit_store::insert_checkpoint(db, &checkpoint, &signature)?;
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
    let list: Vec<_> = audit_store::checkpoints(ctx.db()?)?
        .iter()
        .map(|cp| checkpoint_json(cp.id, &cp.checkpoint, &cp.signature, &public))
        .collect();
    Ok(json(
        200,
        &serde_json::json!({ "checkpoints": list, "public_key": public }),
    ))
}
