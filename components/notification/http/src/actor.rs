//! Who caused what the component does, for the audit trail and the
//! interaction log: the authenticated caller of a `/api` route, a Notify
//! API key on `/v2`, or a provider posting a receipt.

use crm_component_support::Ctx;
use crm_component_support::Purpose;
use crm_component_support::audit::{AuditRecord, AuditSink, Outcome};
use crm_http::Problem;

use crate::AuditTrail;
use crm_component_support::wit::{Actor as WitActor, RequestContext};

#[derive(Debug, Clone)]
pub struct Actor {
    pub request_id: String,
    pub id: String,
    pub role: String,
    pub purpose: Option<Purpose>,
}

impl Actor {
    /// The caller of an authenticated route, as its last allowed action
    /// recorded them.
    pub fn of(ctx: &Ctx) -> Self {
        Self {
            request_id: ctx.request_id.clone(),
            id: ctx.actor_id(),
            role: ctx.role().to_string(),
            purpose: ctx.purpose().cloned(),
        }
    }

    /// Appends an audit entry; failing closed, as `Ctx` does.
    pub fn record(
        &self,
        action: &str,
        resource: &str,
        subject: Option<&str>,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<(), Problem> {
        AuditTrail
            .append(&AuditRecord {
                request_id: &self.request_id,
                actor_id: &self.id,
                role: &self.role,
                purpose: self.purpose.as_ref(),
                action,
                resource,
                subject_contact: subject,
                outcome,
                detail,
            })
            .map_err(|e| Problem::unavailable(format!("the audit trail cannot be written: {e}")))
    }

    pub fn context(&self) -> RequestContext {
        RequestContext {
            request_id: self.request_id.clone(),
            actor: WitActor {
                id: self.id.clone(),
                role: self.role.clone(),
            },
            purpose: self.purpose.as_ref().map(|p| p.as_str().to_string()),
        }
    }
}
