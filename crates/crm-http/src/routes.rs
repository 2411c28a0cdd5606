//! Every component's routes, as data: the component dispatches on the
//! operation id it gets back, and a test holds `openapi.yaml` to the same
//! tables, so a route cannot be served without being documented.

/// One operation: a method on a path template such as `/api/contacts/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
    /// Reached without an authenticated caller: it checks its own
    /// credential (a signed link, a Notify API key); `openapi.yaml` says so
    /// with `security: []` or its own scheme.
    pub public: bool,
}

const fn route(method: &'static str, path: &'static str, operation_id: &'static str) -> Route {
    Route {
        method,
        path,
        operation_id,
        public: false,
    }
}

/// A route that authenticates its caller its own way (a signed link, a
/// Notify API key).
pub const fn public_route(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
) -> Route {
    Route {
        public: true,
        ..route(method, path, operation_id)
    }
}

pub const CONTACT_INTAKE: &[Route] = &[
    route("POST", "/api/contacts", "createContact"),
    route("GET", "/api/contacts", "searchContacts"),
    // Fixed segments before `{id}`, which would otherwise take them.
    route("POST", "/api/contacts/match", "matchContacts"),
    route("POST", "/api/contacts/import", "importContacts"),
    route("GET", "/api/contacts/export", "exportContacts"),
    route("GET", "/api/contacts/me", "getOwnContact"),
    route("GET", "/api/contacts/{id}", "getContact"),
    route("PATCH", "/api/contacts/{id}", "correctContact"),
    route("GET", "/api/contacts/{id}/history", "getContactHistory"),
    route("POST", "/api/contacts/{id}/merge", "mergeContact"),
];

/// Literal paths come before `/api/consents/{id}`, which would match them.
pub const CONSENT: &[Route] = &[
    route("POST", "/api/consents", "recordConsent"),
    route("GET", "/api/consents", "listConsents"),
    route("GET", "/api/consents/decision", "checkConsent"),
    route("POST", "/api/consents/withdrawals", "withdrawConsent"),
    route("GET", "/api/consents/purposes", "listPurposes"),
    route("POST", "/api/consents/purposes", "createPurpose"),
    route("PUT", "/api/consents/purposes/{id}", "revisePurpose"),
    route("GET", "/api/consents/suppressions", "listSuppressions"),
    route("POST", "/api/consents/suppressions", "addSuppression"),
    route(
        "POST",
        "/api/consents/suppressions/{id}/lift",
        "liftSuppression",
    ),
    route(
        "POST",
        "/api/consents/unsubscribe-links",
        "createUnsubscribeLink",
    ),
    public_route("GET", "/api/consents/unsubscribe", "confirmUnsubscribe"),
    public_route("POST", "/api/consents/unsubscribe", "unsubscribe"),
    route("GET", "/api/consents/{id}", "getConsent"),
    route("GET", "/api/consents/{id}/receipt", "getConsentReceipt"),
    route("GET", "/api/privacy-notices", "listPrivacyNotices"),
    route("POST", "/api/privacy-notices", "publishPrivacyNotice"),
    route(
        "GET",
        "/api/privacy-notices/{id}/versions/{version}",
        "getPrivacyNotice",
    ),
];

/// Fixed paths come before `/api/interactions/{id}`: the first match wins.
pub const INTERACTION_LOG: &[Route] = &[
    route("POST", "/api/interactions", "appendInteraction"),
    route("GET", "/api/interactions", "listInteractions"),
    route("GET", "/api/interactions/stats", "interactionStats"),
    route("GET", "/api/interactions/verify", "verifyInteractionChain"),
    route("POST", "/api/interactions/legal-holds", "placeLegalHold"),
    route("GET", "/api/interactions/legal-holds", "listLegalHolds"),
    route("GET", "/api/interactions/legal-holds/{id}", "getLegalHold"),
    route(
        "POST",
        "/api/interactions/legal-holds/{id}/lift",
        "liftLegalHold",
    ),
    route("GET", "/api/interactions/{id}", "getInteraction"),
    route(
        "POST",
        "/api/interactions/{id}/amendments",
        "amendInteraction",
    ),
    route(
        "POST",
        "/api/interactions/{id}/dispose",
        "disposeInteraction",
    ),
];

pub const NOTIFICATION: &[Route] = &[
    route("POST", "/api/notifications", "sendNotification"),
    route("GET", "/api/notifications", "listNotifications"),
    // Before `{id}`: the first template that matches wins.
    route("GET", "/api/notifications/inbox", "listInbox"),
    route(
        "POST",
        "/api/notifications/inbox/{id}/read",
        "markInboxMessageRead",
    ),
    route(
        "POST",
        "/api/notifications/inbox/{id}/unread",
        "markInboxMessageUnread",
    ),
    route(
        "POST",
        "/api/notifications/dispatch",
        "dispatchNotifications",
    ),
    public_route(
        "POST",
        "/api/notifications/receipts/{id}",
        "receiveDeliveryReceipt",
    ),
    public_route(
        "POST",
        "/api/notifications/inbound/{id}",
        "receiveTextMessage",
    ),
    public_route(
        "GET",
        "/api/notifications/documents/{id}",
        "getNotifyDocument",
    ),
    public_route(
        "POST",
        "/api/notifications/documents/{id}",
        "confirmNotifyDocument",
    ),
    route("POST", "/api/notifications/services", "createNotifyService"),
    route(
        "POST",
        "/api/notifications/services/{id}/keys",
        "createNotifyApiKey",
    ),
    route(
        "GET",
        "/api/notifications/services/{id}/keys",
        "listNotifyApiKeys",
    ),
    route(
        "POST",
        "/api/notifications/services/{id}/keys/{key_id}/revoke",
        "revokeNotifyApiKey",
    ),
    route(
        "POST",
        "/api/notifications/services/{id}/email-reply-to",
        "addNotifyEmailReplyTo",
    ),
    route(
        "GET",
        "/api/notifications/services/{id}/email-reply-to",
        "listNotifyEmailReplyTo",
    ),
    route(
        "POST",
        "/api/notifications/services/{id}/sms-senders",
        "addNotifySmsSender",
    ),
    route(
        "GET",
        "/api/notifications/services/{id}/sms-senders",
        "listNotifySmsSenders",
    ),
    route(
        "POST",
        "/api/notifications/services/{id}/letter-contacts",
        "addNotifyLetterContact",
    ),
    route(
        "GET",
        "/api/notifications/services/{id}/letter-contacts",
        "listNotifyLetterContacts",
    ),
    route("GET", "/api/notifications/{id}", "getNotification"),
    route("POST", "/api/templates", "createTemplate"),
    route("GET", "/api/templates", "listTemplates"),
    route("GET", "/api/templates/{id}", "getTemplate"),
    route("POST", "/api/templates/{id}/versions", "reviseTemplate"),
    route(
        "GET",
        "/api/templates/{id}/versions/{version}",
        "getTemplateVersion",
    ),
    route("POST", "/api/templates/{id}/preview", "previewTemplate"),
    route("PUT", "/api/templates/{id}/services", "setTemplateServices"),
    public_route("POST", "/v2/notifications/email", "v2SendEmail"),
    public_route("POST", "/v2/notifications/sms", "v2SendSms"),
    public_route("POST", "/v2/notifications/letter", "v2SendLetter"),
    public_route("GET", "/v2/notifications", "v2ListNotifications"),
    public_route("GET", "/v2/notifications/{id}", "v2GetNotification"),
    public_route("GET", "/v2/notifications/{id}/pdf", "v2GetLetterPdf"),
    public_route("GET", "/v2/received-text-messages", "v2ListReceivedTexts"),
    public_route("GET", "/v2/templates", "v2ListTemplates"),
    public_route("GET", "/v2/template/{id}", "v2GetTemplate"),
    public_route(
        "GET",
        "/v2/template/{id}/version/{version}",
        "v2GetTemplateVersion",
    ),
    public_route("POST", "/v2/template/{id}/preview", "v2PreviewTemplate"),
];

pub const AUDIT: &[Route] = &[
    route("GET", "/api/audit/entries", "listAuditEntries"),
    route("GET", "/api/audit/me", "listOwnAccess"),
    route("GET", "/api/audit/verify", "verifyAuditChain"),
    route("POST", "/api/audit/checkpoints", "createAuditCheckpoint"),
    route("GET", "/api/audit/checkpoints", "listAuditCheckpoints"),
];

/// Case management: literal paths come before `{id}`, which would match
/// them too.
pub const CASES: &[Route] = &[
    route("GET", "/api/cases", "listCases"),
    route("POST", "/api/cases", "openCase"),
    route("GET", "/api/cases/mine", "listMyCases"),
    route("POST", "/api/cases/assignments", "assignCases"),
    route("POST", "/api/cases/sla/sweep", "sweepSlaClocks"),
    route("GET", "/api/cases/sla/summary", "summariseSlaClocks"),
    route("GET", "/api/cases/types", "listCaseTypes"),
    route("GET", "/api/cases/types/{key}", "getCaseType"),
    route("PUT", "/api/cases/types/{key}", "putCaseType"),
    route("GET", "/api/cases/workflow", "getCaseWorkflow"),
    route("PUT", "/api/cases/statuses/{key}", "putCaseStatus"),
    route("POST", "/api/cases/transitions", "addCaseTransition"),
    route("DELETE", "/api/cases/transitions", "removeCaseTransition"),
    route("GET", "/api/cases/sla-policies", "listSlaPolicies"),
    route(
        "PUT",
        "/api/cases/sla-policies/{case_type}/{priority}",
        "putSlaPolicy",
    ),
    route("GET", "/api/cases/calendars", "listCalendars"),
    route("GET", "/api/cases/calendars/{id}", "getCalendar"),
    route("PUT", "/api/cases/calendars/{id}", "putCalendar"),
    route("GET", "/api/cases/{id}", "getCase"),
    route("PATCH", "/api/cases/{id}", "updateCase"),
    route("POST", "/api/cases/{id}/transitions", "transitionCase"),
    route("GET", "/api/cases/{id}/activities", "listCaseActivities"),
    route("POST", "/api/cases/{id}/activities", "addCaseActivity"),
    route(
        "PATCH",
        "/api/cases/{id}/activities/{activity_id}",
        "updateCaseActivity",
    ),
    route("POST", "/api/cases/{id}/participants", "addCaseParticipant"),
    route("POST", "/api/cases/{id}/assignment", "assignCase"),
    route("GET", "/api/queues", "listQueues"),
    route("GET", "/api/queues/{id}", "getQueue"),
    route("PUT", "/api/queues/{id}", "putQueue"),
    route("POST", "/api/queues/{id}/take-next", "takeNextCase"),
];

/// Every component's table, by component id.
pub const ALL: &[(&str, &[Route])] = &[
    ("contact-intake", CONTACT_INTAKE),
    ("consent", CONSENT),
    ("interaction-log", INTERACTION_LOG),
    ("notification", NOTIFICATION),
    ("audit", AUDIT),
    ("cases", CASES),
];

/// What a request matched in a table.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched {
    Operation {
        operation_id: &'static str,
        /// `{name}` segments of the template, in order.
        params: Vec<(&'static str, String)>,
        public: bool,
    },
    /// The path exists but not for this method; `allow` lists the methods.
    MethodNotAllowed {
        allow: Vec<&'static str>,
    },
    NotFound,
}

pub fn match_route(table: &[Route], method: &str, path: &str) -> Matched {
    let mut allow = Vec::new();
    for route in table {
        if let Some(params) = match_template(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Matched::Operation {
                    operation_id: route.operation_id,
                    params,
                    public: route.public,
                };
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Matched::NotFound
    } else {
        Matched::MethodNotAllowed { allow }
    }
}

fn match_template(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut want = template.split('/');
    let mut got = path.split('/');
    let mut params = Vec::new();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !g.is_empty() => params.push((name, g.to_string())),
                Some(_) => return None,
                None if w == g => {}
                None => return None,
            },
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn templates_match_with_parameters() {
        assert_eq!(
            match_route(CONTACT_INTAKE, "GET", "/api/contacts/c-1"),
            Matched::Operation {
                operation_id: "getContact",
                params: vec![("id", "c-1".into())],
                public: false,
            }
        );
        assert_eq!(
            match_route(CONTACT_INTAKE, "DELETE", "/api/contacts/c-1"),
            Matched::MethodNotAllowed {
                allow: vec!["GET", "PATCH"]
            }
        );
        assert_eq!(
            match_route(CONTACT_INTAKE, "POST", "/api/contacts/match"),
            Matched::Operation {
                operation_id: "matchContacts",
                params: vec![],
                public: false,
            }
        );
        assert_eq!(
            match_route(CONTACT_INTAKE, "GET", "/api/contacts/c-1/x"),
            Matched::NotFound
        );
        assert_eq!(
            match_route(CONTACT_INTAKE, "DELETE", "/api/contacts/"),
            Matched::MethodNotAllowed {
                allow: vec!["POST", "GET"]
            }
        );
    }

    /// Every served operation is documented in openapi.yaml and every
    /// documented operation is served, with the same operation id.
    #[test]
    fn openapi_documents_exactly_the_route_tables() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
                .unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_mapping().unwrap() {
            let path = path.as_str().unwrap();
            if path.starts_with("/.well-known/") {
                continue; // served by the host, not a component
            }
            for (method, operation) in item.as_mapping().unwrap() {
                let method = method.as_str().unwrap().to_ascii_uppercase();
                // Path items also hold `parameters`, `summary`, `servers`...
                if !matches!(
                    method.as_str(),
                    "GET" | "PUT" | "POST" | "DELETE" | "OPTIONS" | "HEAD" | "PATCH" | "TRACE"
                ) {
                    continue;
                }
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                documented.insert((method, path.to_string(), id.to_string()));
            }
        }
        let served: BTreeSet<_> = ALL
            .iter()
            .flat_map(|(_, table)| table.iter())
            .map(|r| {
                (
                    r.method.to_string(),
                    r.path.to_string(),
                    r.operation_id.to_string(),
                )
            })
            .collect();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "served but not in openapi.yaml: {undocumented:?}"
        );
        assert!(
            unserved.is_empty(),
            "in openapi.yaml but not served: {unserved:?}"
        );
    }
}
