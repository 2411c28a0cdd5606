//! "Tell us once": the stored contacts a contact may already be. Candidates
//! come from the match-key index only (a bounded number per key), and each
//! is scored with `contacts-matching`.

use contacts_matching::{MatchCandidate, MatchReason};
use contacts_rules::Contact;
use contacts_rules::index::IndexEntries;
use contacts_store::Stored;
use crm_component_support::{Action, Ctx, Outcome, RecordKind, Target};
use crm_http::Problem;
use crm_sql::Sql;
use serde_json::{Value, json};

use crate::records::today;

pub struct Candidate {
    pub stored: Stored,
    pub found: MatchCandidate,
}

/// Candidates for `contact` (filed under `index`), best first, leaving out
/// `exclude`.
pub fn candidates(
    db: &impl Sql,
    contact: &Contact,
    index: &IndexEntries,
    exclude: &[&str],
) -> Result<Vec<Candidate>, Problem> {
    let profile = contact.match_profile();
    let today = today();
    let mut found = Vec::new();
    for stored in contacts_store::candidates(db, &index.keys)? {
        if exclude.contains(&stored.id.as_str()) {
            continue;
        }
        // A stored record that no longer validates cannot be compared.
        let Ok(existing) = contacts_rules::validate(&stored.fields, today) else {
            continue;
        };
        if let Some(candidate) = contacts_matching::score(&profile, &existing.match_profile()) {
            found.push(Candidate {
                stored,
                found: candidate,
            });
        }
    }
    found.sort_by(|a, b| {
        b.found
            .score
            .total_cmp(&a.found.score)
            .then_with(|| a.stored.id.cmp(&b.stored.id))
    });
    Ok(found)
}

/// The reasons `candidate` matched that the caller may see: none that
/// discloses a field hidden from it.
pub fn visible_reasons<'a>(ctx: &Ctx, candidate: &'a Candidate) -> Vec<&'a MatchReason> {
    let hidden = ctx.hidden_fields(RecordKind::Contact, Target::Contact(&candidate.stored.id));
    candidate
        .found
        .reasons
        .iter()
        .filter(|reason| !reason.fields().iter().any(|field| hidden.contains(field)))
        .collect()
}

/// The candidates as a caller sees them: ids, scores and reasons, and the
/// display name and archetype for callers who may search contacts.
pub fn shown(ctx: &Ctx, candidates: &[Candidate]) -> Value {
    let named = ctx.holds(Action::ContactSearch, Target::General);
    let shown = candidates
        .iter()
        .map(|c| {
            let mut item = json!({
                "contact_id": c.stored.id,
                "score": c.found.score,
                "reasons": visible_reasons(ctx, c),
            });
            if named {
                item["display_name"] = json!(c.stored.fields.display_name);
                item["archetype"] = json!(c.stored.fields.archetype);
            }
            item
        })
        .collect();
    Value::Array(shown)
}

/// Records each candidate shown in the audit trail (never inside a
/// transaction: the trail writes on its own connection).
pub fn record_shown<'a>(
    ctx: &Ctx,
    candidates: impl IntoIterator<Item = &'a Candidate>,
) -> Result<(), Problem> {
    let records: Vec<_> = candidates
        .into_iter()
        .map(|c| {
            (
                format!("contact/{}", c.stored.id),
                Some(c.stored.id.clone()),
            )
        })
        .collect();
    ctx.record_many(
        Action::ContactSearch,
        &records,
        Outcome::Allowed,
        Some("match-candidate"),
    )
}

/// [`shown`], recorded.
pub fn disclose(ctx: &Ctx, candidates: &[Candidate]) -> Result<Value, Problem> {
    record_shown(ctx, candidates)?;
    Ok(shown(ctx, candidates))
}
