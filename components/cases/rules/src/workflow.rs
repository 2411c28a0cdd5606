//! Statuses and the status changes each role may make on each case type:
//! a table of (role, case type, from, to), as administrators configure it,
//! plus the two rules a table cannot say: a resolved case reopens only for
//! so many days, and a parent's closing follows its type's closure policy.

use crm_auth::policy::Role;
use crm_domain::{Invalid, Slug};
use serde::{Deserialize, Serialize};
use thiserror::Error;

crm_domain::vocabulary! {
    /// How urgent a case is.
    Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
}

crm_domain::vocabulary! {
    /// Who may read a case: `restricted` cases only their assignee, their
    /// queue's members and administrators.
    Confidentiality { Standard => "standard", Restricted => "restricted" }
}

crm_domain::vocabulary! {
    /// Whether a status leaves the case open for work or ends it.
    StatusCategory { Open => "open", Closed => "closed" }
}

crm_domain::vocabulary! {
    /// What closing a parent case does to its open children.
    ClosurePolicy {
        /// Closing the parent closes its open children with it.
        CloseChildren => "close-children",
        /// The parent cannot close while a child is open.
        BlockWhileChildOpen => "block-while-child-open",
    }
}

/// A status's key (`in-progress`, `awaiting-citizen`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusKey(Slug);

impl StatusKey {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Slug::parse(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// A case type's key (`housing-repair`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseTypeKey(Slug);

impl CaseTypeKey {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Slug::parse(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub key: StatusKey,
    pub label: String,
    pub category: StatusCategory,
    /// Whether the case's service-level clocks stop while it is here
    /// (waiting on the citizen or a third party).
    pub pauses_sla: bool,
}

/// One allowed change: `role` may move a case of `case_type` (every type
/// when `None`) from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub role: Role,
    pub case_type: Option<CaseTypeKey>,
    pub from: StatusKey,
    pub to: StatusKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// A 409 naming what the caller may do instead.
    #[error("{from} to {to} is not allowed; allowed: {}", if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") })]
    NotAllowed {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
    #[error("the case was resolved {days_ago} days ago; it can be reopened for {window} days")]
    ReopenWindowPassed { days_ago: u32, window: u32 },
    #[error("{0} child case(s) are still open; close them first")]
    ChildrenOpen(usize),
    #[error("unknown status `{0}`")]
    UnknownStatus(String),
}

/// What the case knows that the table does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    /// Whole days since the case was resolved, if it is.
    pub resolved_days_ago: Option<u32>,
    /// Open child cases.
    pub open_children: usize,
    pub closure_policy: ClosurePolicy,
}

/// What else an allowed change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Close the open children too.
    CloseChildren,
}

/// Statuses, the transition table, and the reopening window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    statuses: Vec<Status>,
    transitions: Vec<Transition>,
    reopen_within_days: u32,
}

impl Workflow {
    /// A workflow whose transitions name only its statuses.
    pub fn new(
        statuses: Vec<Status>,
        transitions: Vec<Transition>,
        reopen_within_days: u32,
    ) -> Result<Self, TransitionError> {
        let known = |key: &StatusKey| statuses.iter().any(|s| &s.key == key);
        if let Some(t) = transitions
            .iter()
            .find(|t| !known(&t.from) || !known(&t.to))
        {
            let unknown = if known(&t.from) { &t.to } else { &t.from };
            return Err(TransitionError::UnknownStatus(unknown.as_str().to_string()));
        }
        Ok(Self {
            statuses,
            transitions,
            reopen_within_days,
        })
    }

    /// The default statuses and transitions: new → assigned → in-progress
    /// ⇄ awaiting-citizen / awaiting-third-party (both pause the clocks) →
    /// resolved → closed, resolved → in-progress (a reopening), and
    /// withdrawn, rejected and duplicate (closed). Case workers and
    /// administrators make every change; intake officers triage new cases;
    /// a citizen's reply moves their case off awaiting-citizen, and a
    /// citizen may withdraw their own open case.
    pub fn defaults(reopen_within_days: u32) -> Self {
        use StatusCategory::{Closed, Open};
        let status = |key: &str, label: &str, category, pauses_sla| Status {
            key: key_of(key),
            label: label.to_string(),
            category,
            pauses_sla,
        };
        let statuses = vec![
            status("new", "New", Open, false),
            status("assigned", "Assigned", Open, false),
            status("in-progress", "In progress", Open, false),
            status("awaiting-citizen", "Awaiting the citizen", Open, true),
            status("awaiting-third-party", "Awaiting a third party", Open, true),
            status("resolved", "Resolved", Closed, false),
            status("closed", "Closed", Closed, false),
            status("withdrawn", "Withdrawn", Closed, false),
            status("rejected", "Rejected", Closed, false),
            status("duplicate", "Duplicate", Closed, false),
        ];
        let work: &[(&str, &str)] = &[
            ("new", "assigned"),
            ("new", "in-progress"),
            ("assigned", "in-progress"),
            ("in-progress", "awaiting-citizen"),
            ("in-progress", "awaiting-third-party"),
            ("awaiting-citizen", "in-progress"),
            ("awaiting-third-party", "in-progress"),
            ("in-progress", "resolved"),
            ("resolved", "closed"),
            ("resolved", "in-progress"),
        ];
        let open = [
            "new",
            "assigned",
            "in-progress",
            "awaiting-citizen",
            "awaiting-third-party",
        ];
        let ends = ["withdrawn", "rejected", "duplicate"];
        let mut edges: Vec<(Role, &str, &str)> = Vec::new();
        for role in [Role::CaseWorker, Role::Administrator] {
            edges.extend(work.iter().map(|(from, to)| (role, *from, *to)));
            for from in open {
                edges.extend(ends.iter().map(|to| (role, from, *to)));
            }
        }
        edges.extend(
            ["assigned", "rejected", "duplicate", "withdrawn"]
                .iter()
                .map(|to| (Role::IntakeOfficer, "new", *to)),
        );
        edges.push((Role::Citizen, "awaiting-citizen", "in-progress"));
        edges.extend(open.iter().map(|from| (Role::Citizen, *from, "withdrawn")));
        let transitions = edges
            .into_iter()
            .map(|(role, from, to)| Transition {
                role,
                case_type: None,
                from: key_of(from),
                to: key_of(to),
            })
            .collect();
        Self::new(statuses, transitions, reopen_within_days)
            .expect("the defaults name their statuses")
    }

    pub fn status(&self, key: &StatusKey) -> Option<&Status> {
        self.statuses.iter().find(|s| &s.key == key)
    }

    pub fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    /// The transition table, in its order.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// Where a caller acting in `roles` may move a case of `case_type` from
    /// `from`, in table order, each once.
    pub fn allowed_targets(
        &self,
        roles: &[Role],
        case_type: &CaseTypeKey,
        from: &StatusKey,
    ) -> Vec<&StatusKey> {
        let mut targets: Vec<&StatusKey> = Vec::new();
        for t in &self.transitions {
            let applies = roles.contains(&t.role)
                && t.case_type.as_ref().is_none_or(|c| c == case_type)
                && &t.from == from;
            if applies && !targets.contains(&&t.to) {
                targets.push(&t.to);
            }
        }
        targets
    }

    /// Whether a caller acting in `roles` may move this case from `from` to
    /// `to`, and what else that does.
    pub fn check(
        &self,
        roles: &[Role],
        case_type: &CaseTypeKey,
        from: &StatusKey,
        to: &StatusKey,
        facts: CaseFacts,
    ) -> Result<Effect, TransitionError> {
        let (Some(from_status), Some(to_status)) = (self.status(from), self.status(to)) else {
            let unknown = if self.status(from).is_none() {
                from
            } else {
                to
            };
            return Err(TransitionError::UnknownStatus(unknown.as_str().to_string()));
        };
        let allowed = self.allowed_targets(roles, case_type, from);
        if !allowed.contains(&to) {
            return Err(TransitionError::NotAllowed {
                from: from.as_str().to_string(),
                to: to.as_str().to_string(),
                allowed: allowed.iter().map(|k| k.as_str().to_string()).collect(),
            });
        }
        let reopening = from_status.category == StatusCategory::Closed
            && to_status.category == StatusCategory::Open;
        if reopening {
            let days_ago = facts.resolved_days_ago.unwrap_or(u32::MAX);
            if days_ago > self.reopen_within_days {
                return Err(TransitionError::ReopenWindowPassed {
                    days_ago,
                    window: self.reopen_within_days,
                });
            }
        }
        let closing = from_status.category == StatusCategory::Open
            && to_status.category == StatusCategory::Closed;
        Ok(match (closing, facts.open_children, facts.closure_policy) {
            (true, 1.., ClosurePolicy::BlockWhileChildOpen) => {
                return Err(TransitionError::ChildrenOpen(facts.open_children));
            }
            (true, 1.., ClosurePolicy::CloseChildren) => Effect::CloseChildren,
            _ => Effect::None,
        })
    }
}

fn key_of(key: &str) -> StatusKey {
    StatusKey::parse(key).expect("a default status key is a slug")
}
