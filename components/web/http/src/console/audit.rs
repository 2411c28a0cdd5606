//! The auditor's pages: `/staff/audit` (the trail, filtered and paged) and
//! `/staff/audit/verify` (the chain's verdict).

use crm_auth::policy::Action;
use web_pages::staff::audit::{AuditFilters, AuditPage, Paging, VerifyPage, audit_lines};
use web_pages::{Errors, render};

use super::{add_refusals, here, permissions, with_purpose};
use crate::api::{ApiError, encode};
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html};

/// Entries a page shows.
const PAGE_SIZE: usize = 50;

fn query_string<K: AsRef<str>>(pairs: &[(K, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", name.as_ref(), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /staff/audit?actor=&action=&resource=&subject_contact_id=&outcome=&since-…&until-…&after=`.
pub fn trail(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    let permissions = permissions(visit)?;
    if !permissions.may(Action::AuditRead) {
        return Err(Outcome::Forbidden(
            "Only auditors read the audit trail.".to_string(),
        ));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(visit.req.query().as_bytes())
        .into_owned()
        .collect();
    let filters = AuditFilters::from_query(&pairs);
    let after = visit.query("after").filter(|a| !a.is_empty());
    let mut errors = Errors::default();
    let mut page = serde_json::Value::Null;
    match filters.api_query() {
        Ok(mut query) => {
            query.push(("limit", PAGE_SIZE.to_string()));
            if let Some(after) = &after {
                query.push(("after", after.clone()));
            }
            match visit
                .api(Audience::Staff)?
                .get(&format!("/api/audit/entries?{}", query_string(&query)))
            {
                Ok(found) => page = found,
                Err(ApiError::Problem {
                    status: 400,
                    errors: refused,
                    detail,
                    ..
                }) => add_refusals(&mut errors, refused, &detail, "actor", |field, reason| {
                    (field.to_string(), format!("{field} {reason}"))
                }),
                Err(e) => return Err(e.into()),
            }
        }
        Err(refused) => errors = refused,
    }
    let entries = audit_lines(&page);
    let filter_query = query_string(&filters.page_query());
    let link = |extra: Option<String>| {
        let parts: Vec<String> = [Some(filter_query.clone()), extra]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            "/staff/audit".to_string()
        } else {
            format!("/staff/audit?{}", parts.join("&"))
        }
    };
    let paging = Paging {
        first_href: after.as_ref().map(|_| link(None)),
        next_href: page["next"]
            .as_str()
            .and(entries.last())
            .map(|last| link(Some(format!("after={}", last.sequence)))),
    };
    let status = if errors.is_empty() { 200 } else { 400 };
    let audit_page = AuditPage::new(
        visit.chrome("/staff/audit"),
        &filters,
        errors,
        entries,
        paging,
        permissions.may(Action::AuditVerify),
    );
    Ok(html(status, &render(&audit_page)))
}

/// `GET /staff/audit/verify`: walks the chain (the API does) and says
/// whether it holds.
pub fn verify(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    if !permissions(visit)?.may(Action::AuditVerify) {
        return Err(Outcome::Forbidden(
            "Your role does not verify the audit chain.".to_string(),
        ));
    }
    let verdict = visit.api(Audience::Staff)?.get("/api/audit/verify")?;
    let page = VerifyPage::new(visit.chrome("/staff/audit"), &verdict);
    Ok(html(200, &render(&page)))
}
