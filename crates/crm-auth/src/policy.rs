//! Who may do what: roles, actions, the role-to-action matrix, and
//! `may(caller, action, target)`.
//!
//! The matrix is data ([`MATRIX`]); `docs/security.md` holds the same table
//! and a test keeps the two equal.

/// Everything a caller can ask to do. Names are stable: they appear in the
/// audit trail and as API-key scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    ContactCreate,
    ContactRead,
    /// See a contact's identifiers, date of birth and relationships.
    ContactReadIdentifiers,
    ContactUpdate,
    ContactMerge,
    ContactSearch,
    ContactImport,
    ContactExport,
    ConsentRecord,
    ConsentRead,
    ConsentWithdraw,
    ConsentCatalogueManage,
    /// See a contact's do-not-contact entries (a read of personal information).
    SuppressionRead,
    SuppressionManage,
    InteractionAppend,
    InteractionRead,
    InteractionAmend,
    InteractionDispose,
    InteractionStats,
    /// See legal holds: which contacts or cases are held, and why (a read of
    /// personal information).
    LegalHoldRead,
    LegalHoldManage,
    NotificationSend,
    NotificationRead,
    NotificationDispatch,
    /// Create GOV.UK Notify-compatible services and their API keys, revoke keys.
    NotificationServiceManage,
    TemplateManage,
    TemplateRead,
    InboxRead,
    /// Mark one's own portal messages read or unread (changes no message).
    InboxUpdate,
    AuditRead,
    AuditVerify,
    AuditCheckpoint,
    AuditReadOwn,
    /// Open a case (a citizen: about themselves).
    CaseOpen,
    /// See cases, their activities and clocks (a read of personal information).
    CaseRead,
    /// Change a case: its status, details, activities and participants.
    CaseWork,
    /// Assign cases to officers and queues, take the next case of a queue.
    CaseAssign,
    /// Configure case types, statuses, transitions, service levels,
    /// calendars and queues.
    CaseConfigure,
    /// Move SLA clocks on as time passes (scheduled, like dispatch).
    CaseSlaSweep,
    /// Count clocks by queue and state (no personal information).
    CaseSlaRead,
    /// See case types, statuses, transitions, service levels, calendars and
    /// queues (no personal information).
    CaseConfigRead,
}

/// Roles a caller acts in. Staff roles come from the token's roles claim;
/// `Citizen` from a token whose subject is linked to one contact; `Service`
/// from an API key, whose scopes are its actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    IntakeOfficer,
    CaseWorker,
    CommunicationsOfficer,
    Auditor,
    Administrator,
    Citizen,
    Service,
}

impl Role {
    pub const STAFF: [Role; 5] = [
        Role::IntakeOfficer,
        Role::CaseWorker,
        Role::CommunicationsOfficer,
        Role::Auditor,
        Role::Administrator,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "intake-officer" => Self::IntakeOfficer,
            "case-worker" => Self::CaseWorker,
            "communications-officer" => Self::CommunicationsOfficer,
            "auditor" => Self::Auditor,
            "administrator" => Self::Administrator,
            "citizen" => Self::Citizen,
            "service" => Self::Service,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IntakeOfficer => "intake-officer",
            Self::CaseWorker => "case-worker",
            Self::CommunicationsOfficer => "communications-officer",
            Self::Auditor => "auditor",
            Self::Administrator => "administrator",
            Self::Citizen => "citizen",
            Self::Service => "service",
        }
    }
}

/// How a role holds an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    No,
    /// On any record.
    Any,
    /// Only on the caller's own contact record (citizens).
    Own,
}

use Grant::{Any, No, Own};

/// One row of the matrix: an action, its name, whether a service key may
/// hold it as a scope, and the grant of each role in [`MATRIX_ROLES`] order.
pub struct MatrixRow {
    pub action: Action,
    pub name: &'static str,
    pub service_scope: bool,
    pub grants: [Grant; 6],
}

/// Column order of [`MatrixRow::grants`].
pub const MATRIX_ROLES: [Role; 6] = [
    Role::IntakeOfficer,
    Role::CaseWorker,
    Role::CommunicationsOfficer,
    Role::Auditor,
    Role::Administrator,
    Role::Citizen,
];

const fn row(
    action: Action,
    name: &'static str,
    service_scope: bool,
    grants: [Grant; 6],
) -> MatrixRow {
    MatrixRow {
        action,
        name,
        service_scope,
        grants,
    }
}

/// The role-to-action matrix. Columns: intake-officer, case-worker,
/// communications-officer, auditor, administrator, citizen.
pub const MATRIX: &[MatrixRow] = &[
    row(
        Action::ContactCreate,
        "contact.create",
        true,
        [Any, Any, No, No, No, No],
    ),
    row(
        Action::ContactRead,
        "contact.read",
        true,
        [Any, Any, Any, No, No, Own],
    ),
    row(
        Action::ContactReadIdentifiers,
        "contact.read-identifiers",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::ContactUpdate,
        "contact.update",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::ContactMerge,
        "contact.merge",
        false,
        [No, Any, No, No, No, No],
    ),
    row(
        Action::ContactSearch,
        "contact.search",
        true,
        [Any, Any, Any, No, No, No],
    ),
    row(
        Action::ContactImport,
        "contact.import",
        true,
        [Any, No, No, No, No, No],
    ),
    row(
        Action::ContactExport,
        "contact.export",
        false,
        [No, Any, Any, No, No, No],
    ),
    row(
        Action::ConsentRecord,
        "consent.record",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::ConsentRead,
        "consent.read",
        true,
        [Any, Any, Any, No, No, Own],
    ),
    row(
        Action::ConsentWithdraw,
        "consent.withdraw",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::ConsentCatalogueManage,
        "consent.catalogue-manage",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::SuppressionRead,
        "suppression.read",
        true,
        [No, Any, Any, No, No, Own],
    ),
    row(
        Action::SuppressionManage,
        "suppression.manage",
        true,
        [No, Any, Any, No, No, Own],
    ),
    row(
        Action::InteractionAppend,
        "interaction.append",
        true,
        [Any, Any, Any, No, No, No],
    ),
    row(
        Action::InteractionRead,
        "interaction.read",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::InteractionAmend,
        "interaction.amend",
        false,
        [Any, Any, No, No, No, No],
    ),
    row(
        Action::InteractionDispose,
        "interaction.dispose",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::InteractionStats,
        "interaction.stats",
        true,
        [No, Any, Any, Any, Any, No],
    ),
    row(
        Action::LegalHoldRead,
        "legal-hold.read",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::LegalHoldManage,
        "legal-hold.manage",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::NotificationSend,
        "notification.send",
        true,
        [No, Any, Any, No, No, No],
    ),
    row(
        Action::NotificationRead,
        "notification.read",
        true,
        [No, Any, Any, No, No, No],
    ),
    row(
        Action::NotificationDispatch,
        "notification.dispatch",
        true,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::NotificationServiceManage,
        "notification.service-manage",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::TemplateManage,
        "template.manage",
        false,
        [No, No, Any, No, Any, No],
    ),
    row(
        Action::TemplateRead,
        "template.read",
        true,
        [No, Any, Any, No, Any, No],
    ),
    row(
        Action::InboxRead,
        "inbox.read",
        false,
        [No, No, No, No, No, Own],
    ),
    row(
        Action::InboxUpdate,
        "inbox.update",
        false,
        [No, No, No, No, No, Own],
    ),
    row(
        Action::AuditRead,
        "audit.read",
        false,
        [No, No, No, Any, No, No],
    ),
    row(
        Action::AuditVerify,
        "audit.verify",
        false,
        [No, No, No, Any, Any, No],
    ),
    row(
        Action::AuditCheckpoint,
        "audit.checkpoint",
        false,
        [No, No, No, Any, Any, No],
    ),
    row(
        Action::AuditReadOwn,
        "audit.read-own",
        false,
        [No, No, No, No, No, Own],
    ),
    row(
        Action::CaseOpen,
        "case.open",
        true,
        [Any, Any, No, No, No, Own],
    ),
    row(
        Action::CaseRead,
        "case.read",
        true,
        [Any, Any, No, Any, Any, Own],
    ),
    row(
        Action::CaseWork,
        "case.work",
        true,
        [Any, Any, No, No, Any, Own],
    ),
    row(
        Action::CaseAssign,
        "case.assign",
        false,
        [Any, Any, No, No, Any, No],
    ),
    row(
        Action::CaseConfigure,
        "case.configure",
        false,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::CaseSlaSweep,
        "case.sla-sweep",
        true,
        [No, No, No, No, Any, No],
    ),
    row(
        Action::CaseSlaRead,
        "case.sla-read",
        true,
        [No, Any, No, Any, Any, No],
    ),
    row(
        Action::CaseConfigRead,
        "case.config-read",
        true,
        [Any, Any, No, Any, Any, Any],
    ),
];

impl Action {
    fn row(self) -> &'static MatrixRow {
        MATRIX
            .iter()
            .find(|r| r.action == self)
            .expect("every action has a matrix row")
    }

    pub fn as_str(self) -> &'static str {
        self.row().name
    }

    pub fn parse(name: &str) -> Option<Self> {
        MATRIX.iter().find(|r| r.name == name).map(|r| r.action)
    }

    /// Whether an API key may hold this action as a scope.
    pub fn grantable_to_service(self) -> bool {
        self.row().service_scope
    }

    /// How `role` holds this action.
    pub fn grant(self, role: Role) -> Grant {
        match MATRIX_ROLES.iter().position(|r| *r == role) {
            Some(column) => self.row().grants[column],
            None => No,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Staff {
        subject: String,
        roles: Vec<Role>,
    },
    Citizen {
        subject: String,
        /// The contact the subject is linked to; `None` until linked.
        contact_id: Option<String>,
    },
    Service {
        key_id: String,
        owner: String,
        scopes: Vec<Action>,
    },
}

impl Principal {
    /// The actor id the audit trail records.
    pub fn actor_id(&self) -> String {
        match self {
            Self::Staff { subject, .. } => format!("staff:{subject}"),
            Self::Citizen { subject, .. } => format!("citizen:{subject}"),
            Self::Service { key_id, .. } => format!("key:{key_id}"),
        }
    }

    /// The role recorded when no particular grant applies (e.g. a denial).
    pub fn primary_role(&self) -> &'static str {
        match self {
            Self::Staff { roles, .. } => roles.first().map_or("none", |r| r.as_str()),
            Self::Citizen { .. } => Role::Citizen.as_str(),
            Self::Service { .. } => Role::Service.as_str(),
        }
    }

    /// The contact a citizen is linked to.
    pub fn own_contact(&self) -> Option<&str> {
        match self {
            Self::Citizen { contact_id, .. } => contact_id.as_deref(),
            _ => None,
        }
    }
}

/// What an action is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// No one person's record (creating, searching, catalogues).
    General,
    /// The personal information of one contact.
    Contact(&'a str),
}

/// The answer to `may`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, acting in this role.
    Allowed(Role),
    /// The caller has no role or scope that grants the action.
    Forbidden,
    /// The action is only granted on the caller's own record and this is not
    /// it: answered as "not found" so the caller learns nothing of it.
    NotOwnRecord,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Self::Allowed(_))
    }
}

/// May `caller` do `action` on `target`?
pub fn may(caller: &Principal, action: Action, target: Target<'_>) -> Decision {
    match caller {
        Principal::Staff { roles, .. } => roles
            .iter()
            .find(|role| action.grant(**role) == Any)
            .map_or(Decision::Forbidden, |role| Decision::Allowed(*role)),
        Principal::Service { scopes, .. } => {
            if scopes.contains(&action) && action.grantable_to_service() {
                Decision::Allowed(Role::Service)
            } else {
                Decision::Forbidden
            }
        }
        Principal::Citizen { contact_id, .. } => match (action.grant(Role::Citizen), target) {
            (Any, _) => Decision::Allowed(Role::Citizen),
            (No, _) => Decision::Forbidden,
            (Own, Target::Contact(id)) if contact_id.as_deref() == Some(id) => {
                Decision::Allowed(Role::Citizen)
            }
            (Own, Target::Contact(_)) => Decision::NotOwnRecord,
            // Own-record actions need a record; with none named, the caller
            // means their own (the component substitutes it) or nothing.
            (Own, Target::General) => match contact_id {
                Some(_) => Decision::Allowed(Role::Citizen),
                None => Decision::NotOwnRecord,
            },
        },
    }
}

/// The matrix as the Markdown table in `docs/security.md`.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| action | service scope |");
    for role in MATRIX_ROLES {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(MATRIX_ROLES.len()));
    out.push('\n');
    for row in MATRIX {
        out.push_str(&format!(
            "| `{}` | {} |",
            row.name,
            if row.service_scope { "yes" } else { "no" }
        ));
        for grant in row.grants {
            out.push_str(match grant {
                No => " – |",
                Any => " any |",
                Own => " own |",
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(roles: &[Role]) -> Principal {
        Principal::Staff {
            subject: "s".into(),
            roles: roles.to_vec(),
        }
    }

    fn citizen(contact: Option<&str>) -> Principal {
        Principal::Citizen {
            subject: "c".into(),
            contact_id: contact.map(str::to_string),
        }
    }

    #[test]
    fn every_action_has_one_row_and_a_unique_name() {
        let mut names: Vec<_> = MATRIX.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MATRIX.len());
        for row in MATRIX {
            assert_eq!(Action::parse(row.name), Some(row.action));
            assert_eq!(row.action.as_str(), row.name);
        }
    }

    #[test]
    fn staff_roles_grant_what_the_matrix_says() {
        let comms = staff(&[Role::CommunicationsOfficer]);
        assert_eq!(
            may(&comms, Action::ContactRead, Target::Contact("x")),
            Decision::Allowed(Role::CommunicationsOfficer)
        );
        assert_eq!(
            may(&comms, Action::ContactReadIdentifiers, Target::Contact("x")),
            Decision::Forbidden
        );
        let auditor = staff(&[Role::Auditor]);
        assert_eq!(
            may(&auditor, Action::ContactRead, Target::Contact("x")),
            Decision::Forbidden,
            "auditors read the trail, not the records"
        );
        // The first role that grants is the one recorded.
        let both = staff(&[Role::Auditor, Role::CaseWorker]);
        assert_eq!(
            may(&both, Action::ContactMerge, Target::General),
            Decision::Allowed(Role::CaseWorker)
        );
        assert_eq!(
            may(&staff(&[]), Action::ContactRead, Target::General),
            Decision::Forbidden
        );
    }

    #[test]
    fn citizens_reach_only_their_own_record() {
        let me = citizen(Some("con_1"));
        assert_eq!(
            may(&me, Action::ContactRead, Target::Contact("con_1")),
            Decision::Allowed(Role::Citizen)
        );
        assert_eq!(
            may(&me, Action::ContactRead, Target::Contact("con_2")),
            Decision::NotOwnRecord
        );
        assert_eq!(
            may(&me, Action::ContactSearch, Target::General),
            Decision::Forbidden
        );
        assert_eq!(
            may(&citizen(None), Action::ContactRead, Target::General),
            Decision::NotOwnRecord
        );
        assert_eq!(
            may(&me, Action::AuditRead, Target::General),
            Decision::Forbidden
        );
        // Their inbox's read marks are theirs alone to change; no staff
        // role or service key changes them.
        assert_eq!(
            may(&me, Action::InboxUpdate, Target::Contact("con_1")),
            Decision::Allowed(Role::Citizen)
        );
        assert_eq!(
            may(&me, Action::InboxUpdate, Target::Contact("con_2")),
            Decision::NotOwnRecord
        );
        for role in Role::STAFF {
            assert_eq!(
                may(
                    &staff(&[role]),
                    Action::InboxUpdate,
                    Target::Contact("con_1")
                ),
                Decision::Forbidden
            );
        }
        assert!(!Action::InboxUpdate.grantable_to_service());
    }

    #[test]
    fn services_hold_only_grantable_scopes() {
        let key = Principal::Service {
            key_id: "k".into(),
            owner: "portal".into(),
            // A stored scope that is not grantable (e.g. written by hand).
            scopes: vec![Action::ContactRead, Action::AuditRead],
        };
        assert_eq!(
            may(&key, Action::ContactRead, Target::Contact("x")),
            Decision::Allowed(Role::Service)
        );
        assert_eq!(
            may(&key, Action::AuditRead, Target::General),
            Decision::Forbidden
        );
        assert_eq!(
            may(&key, Action::ContactCreate, Target::General),
            Decision::Forbidden
        );
    }

    #[test]
    fn docs_security_md_holds_the_matrix() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/security.md"
        ))
        .expect("docs/security.md");
        assert!(
            doc.contains(&matrix_markdown()),
            "docs/security.md must contain the matrix exactly as generated:\n{}",
            matrix_markdown()
        );
    }
}
