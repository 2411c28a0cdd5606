//! `/staff/reports`: interaction trends and the SLA summary as charts, each
//! shown to the roles the API gives it to.

use crm_auth::policy::Action;
use crm_domain::rfc3339_utc;
use web_pages::staff::reports::{
    BREAKDOWNS, GRANULARITIES, ReportsPage, sla_summary, span_days, trends,
};
use web_pages::{Errors, Radios, render};

use super::{here, permissions, with_purpose};
use crate::api::encode;
use crate::session::Audience;
use crate::visit::{Handled, Outcome, Visit, html, now_ms};

/// `GET /staff/reports?granularity=&by=`.
pub fn reports(visit: &mut Visit) -> Handled {
    with_purpose(visit, &here(visit))?;
    let permissions = permissions(visit)?;
    let (may_trends, may_sla) = (
        permissions.may(Action::InteractionStats),
        permissions.may(Action::CaseSlaRead),
    );
    if !may_trends && !may_sla {
        return Err(Outcome::Forbidden(
            "Your role does not see reports.".to_string(),
        ));
    }
    let pick = |name: &str, options: &[(&'static str, &str)], default: &'static str| {
        let asked = visit.query(name).unwrap_or_default();
        options
            .iter()
            .map(|(value, _)| *value)
            .find(|v| *v == asked)
            .unwrap_or(default)
    };
    let granularity = pick("granularity", GRANULARITIES, "week");
    let by = pick("by", BREAKDOWNS, "channel");
    let (interactions, sla) = {
        let api = visit.api(Audience::Staff)?;
        let now = now_ms();
        let from = rfc3339_utc(now - span_days(granularity) * 86_400_000);
        let stats = if may_trends {
            Some(api.get(&format!(
                "/api/interactions/stats?from={}&to={}&granularity={granularity}&by={by}",
                encode(&from),
                encode(&rfc3339_utc(now))
            ))?)
        } else {
            None
        };
        let summary = if may_sla {
            Some(api.get("/api/cases/sla/summary")?)
        } else {
            None
        };
        (stats, summary)
    };
    let errors = Errors::default();
    let page = ReportsPage {
        chrome: visit.chrome("/staff/reports"),
        granularity: Radios::new(
            "granularity",
            "Period",
            GRANULARITIES,
            Some(granularity),
            &errors,
        ),
        by: Radios::new("by", "Lines", BREAKDOWNS, Some(by), &errors),
        breakdown: by.to_string(),
        trends: interactions.as_ref().map(trends),
        sla: sla.as_ref().map(sla_summary),
        errors,
    };
    Ok(html(200, &render(&page)))
}
