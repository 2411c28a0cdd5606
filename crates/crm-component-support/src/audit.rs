//! What a component records in the audit trail, independent of the
//! `crm:audit/trail` bindings each component generates for itself; the
//! [`audit_sink!`](crate::audit_sink) macro connects the two.

/// How an attempted action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
}

impl Outcome {
    /// The outcome's name in the trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub request_id: &'a str,
    pub actor_id: &'a str,
    pub role: &'a str,
    pub purpose: Option<&'a crm_auth::purpose::Purpose>,
    pub action: &'a str,
    pub resource: &'a str,
    pub subject_contact: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: Option<&'a str>,
}

/// Appends records to the audit trail.
pub trait AuditSink {
    fn append(&self, record: &AuditRecord<'_>) -> Result<(), String>;
    /// Appends `records` in order, all or none, in one write.
    fn append_many(&self, records: &[AuditRecord<'_>]) -> Result<(), String>;
}

/// Defines `AuditTrail`, an [`AuditSink`] over the component's generated
/// `crm:audit/trail` import (each component's bindings have their own types).
#[macro_export]
macro_rules! audit_sink {
    () => {
        /// The audit trail, through the plugged-in `audit-leaf`.
        struct AuditTrail;

        impl AuditTrail {
            fn event(r: &$crate::audit::AuditRecord<'_>) -> crm::audit::trail::Event {
                use crm::audit::trail::{Event, Outcome};
                Event {
                    context: $crate::wit::RequestContext {
                        request_id: r.request_id.to_string(),
                        actor: $crate::wit::Actor {
                            id: r.actor_id.to_string(),
                            role: r.role.to_string(),
                        },
                        purpose: r.purpose.map(|p| p.as_str().to_string()),
                    },
                    action: r.action.to_string(),
                    resource: r.resource.to_string(),
                    outcome: match r.outcome {
                        $crate::audit::Outcome::Allowed => Outcome::Allowed,
                        $crate::audit::Outcome::Denied => Outcome::Denied,
                        $crate::audit::Outcome::Failed => Outcome::Failed,
                    },
                    subject_contact: r.subject_contact.map(str::to_string),
                    detail: r.detail.map(str::to_string),
                }
            }
        }

        impl $crate::audit::AuditSink for AuditTrail {
            fn append(&self, r: &$crate::audit::AuditRecord<'_>) -> Result<(), String> {
                crm::audit::trail::append(&Self::event(r)).map(drop)
            }

            fn append_many(
                &self,
                records: &[$crate::audit::AuditRecord<'_>],
            ) -> Result<(), String> {
                let events: Vec<_> = records.iter().map(Self::event).collect();
                crm::audit::trail::append_many(&events).map(drop)
            }
        }
    };
}
