//! Cases: the queue, filtered in the GOV.UK filter layout and paged, with
//! each case's SLA tag and take-next; and a case in detail, with its SLA
//! clocks, the statuses the officer may move it to, its activities and
//! participants, and forms to add to them.

use askama::Template;
use serde_json::Value;

use crate::api::date_time;
use crate::patterns::{
    Checkboxes, Chrome, Errors, Field, Link, Radios, Select, SummaryRow, posted,
};

pub const PRIORITIES: &[(&str, &str)] = &[
    ("urgent", "Urgent"),
    ("high", "High"),
    ("normal", "Normal"),
    ("low", "Low"),
];

/// The SLA states a queue is filtered by (the API's `sla_state`).
pub const SLA_STATES: &[(&str, &str)] = &[
    ("breached", "Breached"),
    ("warning", "Warning"),
    ("in-progress", "On track"),
    ("paused", "Paused"),
];

/// An SLA state as a tag: its words and colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTag {
    pub label: String,
    pub class: &'static str,
}

impl SlaTag {
    /// `state` (a clock's or a case's) with the time it falls `due`.
    pub fn new(state: Option<&str>, due: Option<&str>) -> Self {
        let due = due.map(date_time);
        let (label, class) = match state {
            Some("breached") => ("Breached".to_string(), "govuk-tag--red"),
            Some("warning") => ("Warning".to_string(), "govuk-tag--orange"),
            Some("paused") => ("Paused".to_string(), "govuk-tag--grey"),
            Some("succeeded") => ("Met".to_string(), "govuk-tag--green"),
            Some("cancelled") => ("Stopped".to_string(), "govuk-tag--grey"),
            Some(_) => match &due {
                Some(due) => (format!("Due {due}"), "govuk-tag--blue"),
                None => ("On track".to_string(), "govuk-tag--blue"),
            },
            None => ("No SLA".to_string(), "govuk-tag--grey"),
        };
        Self { label, class }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLine {
    pub href: String,
    pub reference: String,
    pub subject: String,
    pub priority: String,
    pub status: String,
    pub assignee: String,
    pub sla: SlaTag,
}

/// The statuses of the workflow (`GET /api/cases/workflow`) as
/// (key, label), in order.
pub fn statuses(workflow: &Value) -> Vec<(String, String)> {
    items(&workflow["statuses"])
        .map(|s| (text(&s["key"]), text(&s["label"])))
        .collect()
}

fn label_of(labels: &[(String, String)], key: &str) -> String {
    labels
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| key.replace('-', " "), |(_, l)| l.clone())
}

/// `GET /api/cases`'s `cases`, with their status labels and SLA tags.
pub fn queue_lines(page: &Value, labels: &[(String, String)]) -> Vec<QueueLine> {
    items(&page["cases"])
        .map(|c| QueueLine {
            href: format!("/staff/cases/{}", text(&c["id"])),
            reference: text(&c["reference"]),
            subject: text(&c["subject"]),
            priority: text(&c["priority"]),
            status: label_of(labels, c["status"].as_str().unwrap_or_default()),
            assignee: c["assignee"].as_str().unwrap_or("Nobody").to_string(),
            sla: SlaTag::new(c["sla_state"].as_str(), c["due_at"].as_str()),
        })
        .collect()
}

/// The queue's filters as chosen (each as the query string has it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilters {
    pub queue_id: String,
    pub statuses: Vec<String>,
    pub priorities: Vec<String>,
    pub sla_states: Vec<String>,
    pub assignee: String,
}

impl QueueFilters {
    pub fn from_query(pairs: &[(String, String)]) -> Self {
        let all = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect()
        };
        let one = |name: &str| all(name).into_iter().next().unwrap_or_default();
        Self {
            queue_id: one("queue_id"),
            statuses: all("status"),
            priorities: all("priority"),
            sla_states: all("sla_state"),
            assignee: one("assignee").trim().to_string(),
        }
    }

    /// The API's query for these filters: open cases when no status is
    /// chosen, soonest due first.
    pub fn api_query(&self) -> Vec<(&'static str, String)> {
        let mut query = vec![("order", "due".to_string())];
        if self.statuses.is_empty() {
            query.push(("category", "open".to_string()));
        } else {
            query.push(("status", self.statuses.join(",")));
        }
        for (name, values) in [
            ("priority", &self.priorities),
            ("sla_state", &self.sla_states),
        ] {
            if !values.is_empty() {
                query.push((name, values.join(",")));
            }
        }
        for (name, value) in [("queue_id", &self.queue_id), ("assignee", &self.assignee)] {
            if !value.is_empty() {
                query.push((name, value.clone()));
            }
        }
        query
    }

    /// The filters as the page's query string (for its pagination links).
    pub fn page_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if !self.queue_id.is_empty() {
            query.push(("queue_id", self.queue_id.clone()));
        }
        for (name, values) in [
            ("status", &self.statuses),
            ("priority", &self.priorities),
            ("sla_state", &self.sla_states),
        ] {
            query.extend(values.iter().map(|v| (name, v.clone())));
        }
        if !self.assignee.is_empty() {
            query.push(("assignee", self.assignee.clone()));
        }
        query
    }

    /// Whether any filter is chosen.
    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub queue: Select,
    pub statuses: Checkboxes,
    pub priorities: Checkboxes,
    pub sla_states: Checkboxes,
    pub assignee: Field,
    pub filtered: bool,
    pub cases: Vec<QueueLine>,
    /// The queue take-next takes from: the one chosen, if the officer may
    /// take cases.
    pub take_next: Option<String>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}

/// `GET /api/queues`'s `queues` as select options, all queues first.
pub fn queue_options(queues: &Value) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "All queues".to_string())];
    options.extend(items(&queues["queues"]).map(|q| (text(&q["id"]), text(&q["name"]))));
    options
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLine {
    pub when: String,
    pub kind: String,
    pub subject: String,
    pub body: Option<String>,
    pub by: String,
    pub status: String,
    pub visible_to_citizen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantLine {
    pub kind: String,
    pub party: String,
    pub href: Option<String>,
    pub role: String,
}

/// Moving the case to another status.
#[derive(Debug, Clone)]
pub struct TransitionForm {
    pub to: Radios,
    pub resolution_summary: Field,
}

#[derive(Debug, Clone)]
pub struct ActivityForm {
    pub kind: Select,
    pub subject: Field,
    pub body: Field,
    pub direction: Radios,
    pub citizen_visible: Checkboxes,
}

#[derive(Debug, Clone)]
pub struct ParticipantForm {
    pub kind: Radios,
    pub party_id: Field,
    pub role: Select,
}

#[derive(Template)]
#[template(path = "staff_case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub href: String,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub status_category: String,
    /// The version the forms act on (`If-Match`).
    pub etag: String,
    pub rows: Vec<SummaryRow>,
    pub contact: Option<Link>,
    pub clocks: Vec<(String, SlaTag)>,
    pub transition: Option<TransitionForm>,
    pub activity: Option<ActivityForm>,
    pub participant: Option<ParticipantForm>,
    pub participants: Vec<ParticipantLine>,
    pub activities: Vec<ActivityLine>,
}

/// What the forms of a case page were sent with, to draw them again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseForms {
    pub to: String,
    pub resolution_summary: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub direction: String,
    pub citizen_visible: bool,
    pub party_kind: String,
    pub party_id: String,
    pub role: String,
}

impl CaseForms {
    pub fn from_form(form: &[(String, String)]) -> Self {
        let value = |name: &str| posted(form, name).to_string();
        Self {
            to: value("to"),
            resolution_summary: value("resolution_summary"),
            kind: value("kind"),
            subject: value("subject"),
            body: value("body"),
            direction: value("direction"),
            citizen_visible: value("citizen_visible") == "yes",
            party_kind: value("party_kind"),
            party_id: value("party_id"),
            role: value("role"),
        }
    }
}

/// What the officer may do to a case, by their roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseAccess {
    pub work: bool,
}

/// The activity kinds staff record (the system records assignments and
/// notifications, citizens their messages).
const STAFF_KINDS: &[(&str, &str)] = &[
    ("note", "Note"),
    ("call", "Phone call"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("meeting", "Meeting"),
    ("task", "Task"),
];

const ACTIVITY_DIRECTIONS: &[(&str, &str)] = &[
    ("internal", "Internal"),
    ("outbound", "To the citizen"),
    ("inbound", "From the citizen"),
];

impl CasePage {
    /// The case (`GET /api/cases/{id}`) and its type (`GET
    /// /api/cases/types/{key}`), with the status labels, the forms drawn
    /// with `forms` as sent and `errors`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        chrome: Chrome,
        csrf: String,
        case: &Value,
        etag: String,
        case_type: &Value,
        labels: &[(String, String)],
        access: CaseAccess,
        forms: &CaseForms,
        errors: Errors,
    ) -> Self {
        let id = text(&case["id"]);
        let status_key = text(&case["status"]);
        let or_none = |value: &Value| value.as_str().map_or("None".to_string(), str::to_string);
        let mut rows = vec![
            row("Type", text(&case_type["title"])),
            row("Priority", text(&case["priority"])),
            row("Channel", or_none(&case["channel"])),
            row("Queue", or_none(&case["queue_id"])),
            row(
                "Assigned to",
                case["assignee"].as_str().unwrap_or("Nobody").to_string(),
            ),
            row(
                "Opened",
                date_time(case["opened_at"].as_str().unwrap_or_default()),
            ),
            row("Confidentiality", text(&case["confidentiality"])),
        ];
        if let Some(details) = case["details"].as_str().filter(|d| !d.is_empty()) {
            rows.push(row("Details", details.to_string()));
        }
        if let Some(summary) = case["resolution_summary"].as_str() {
            rows.push(row("Resolution", summary.to_string()));
        }
        let targets: Vec<(String, String)> = items(&case["allowed_transitions"])
            .map(|t| (text(&t["to"]), text(&t["label"])))
            .collect();
        let target_options: Vec<(&str, &str)> = targets
            .iter()
            .map(|(k, l)| (k.as_str(), l.as_str()))
            .collect();
        let kinds: Vec<(&str, &str)> = STAFF_KINDS
            .iter()
            .filter(|(k, _)| items(&case_type["activity_kinds"]).any(|a| a.as_str() == Some(*k)))
            .copied()
            .collect();
        let roles: Vec<String> = items(&case_type["participant_roles"]).map(text).collect();
        let role_options: Vec<(&str, &str)> =
            roles.iter().map(|r| (r.as_str(), r.as_str())).collect();
        let field =
            |name: &str, label: &str, value: &str| Field::text(name, label).filled(value, &errors);
        Self {
            href: format!("/staff/cases/{id}"),
            reference: text(&case["reference"]),
            subject: text(&case["subject"]),
            status: label_of(labels, &status_key),
            status_category: text(&case["status_category"]),
            etag,
            rows,
            contact: case["contact_id"].as_str().map(|c| Link {
                href: format!("/staff/contacts/{c}"),
                label: c.to_string(),
                current: false,
            }),
            clocks: items(&case["clocks"])
                .map(|c| {
                    (
                        text(&c["target"]).replace('-', " "),
                        SlaTag::new(c["state"].as_str(), c["due_at"].as_str()),
                    )
                })
                .collect(),
            transition: (access.work && !targets.is_empty()).then(|| TransitionForm {
                to: Radios::new(
                    "to",
                    "Move the case to",
                    &target_options,
                    Some(forms.to.as_str()),
                    &errors,
                ),
                resolution_summary: field(
                    "resolution_summary",
                    "How it was resolved (optional)",
                    &forms.resolution_summary,
                )
                .hint("Told to the citizen when the case is resolved"),
            }),
            activity: (access.work && !kinds.is_empty()).then(|| ActivityForm {
                kind: Select::new("kind", "Kind", &kinds, &forms.kind, &errors),
                subject: field("subject", "Subject", &forms.subject),
                body: field("body", "Details (optional)", &forms.body),
                direction: Radios::new(
                    "direction",
                    "Direction",
                    ACTIVITY_DIRECTIONS,
                    Some(if forms.direction.is_empty() {
                        "internal"
                    } else {
                        forms.direction.as_str()
                    }),
                    &errors,
                ),
                citizen_visible: Checkboxes::new(
                    "citizen_visible",
                    "Who may see it",
                    &[("yes", "The citizen may see it")],
                    &[if forms.citizen_visible { "yes" } else { "" }.to_string()],
                ),
            }),
            participant: (access.work && !roles.is_empty()).then(|| ParticipantForm {
                kind: Radios::new(
                    "party_kind",
                    "Who is it?",
                    &[("contact", "A contact"), ("staff", "A staff member")],
                    Some(forms.party_kind.as_str()),
                    &errors,
                ),
                party_id: field("party_id", "Their id", &forms.party_id)
                    .hint("A contact's id, or a staff id such as staff:alice"),
                role: Select::new("role", "Role", &role_options, &forms.role, &errors),
            }),
            participants: items(&case["participants"])
                .map(|p| {
                    let party = text(&p["party_id"]);
                    let is_contact = p["kind"] == "contact";
                    ParticipantLine {
                        kind: if is_contact { "Contact" } else { "Staff" }.to_string(),
                        href: is_contact.then(|| format!("/staff/contacts/{party}")),
                        party,
                        role: text(&p["role"]),
                    }
                })
                .collect(),
            activities: items(&case["activities"])
                .map(|a| ActivityLine {
                    when: date_time(
                        a["completed_at"]
                            .as_str()
                            .or(a["created_at"].as_str())
                            .unwrap_or_default(),
                    ),
                    kind: text(&a["kind"]).replace('-', " "),
                    subject: text(&a["subject"]),
                    body: a["body"].as_str().map(str::to_string),
                    by: text(&a["actor"]),
                    status: text(&a["status"]),
                    visible_to_citizen: a["citizen_visible"] == true,
                })
                .collect(),
            chrome,
            errors,
            csrf,
        }
    }
}

/// The forms of a case page, each posted on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    Transition,
    Activity,
    Participant,
}

/// The box an API refusal of `field` in `action`'s form is about; a field
/// the form has no box for goes to the form's first box, by its API name.
pub fn refusal(action: CaseAction, field: &str, reason: &str) -> (String, String) {
    let (id, label) = match (action, field) {
        (CaseAction::Transition, "resolution_summary" | "resolution_code") => {
            ("resolution_summary", "Resolution")
        }
        (CaseAction::Transition, other) => ("to", if other == "to" { "Status" } else { other }),
        (CaseAction::Activity, "subject") => ("subject", "Subject"),
        (CaseAction::Activity, "body") => ("body", "Details"),
        (CaseAction::Activity, "direction") => ("direction", "Direction"),
        (CaseAction::Activity, other) => ("kind", if other == "kind" { "Kind" } else { other }),
        (CaseAction::Participant, "party_id") => ("party_id", "Their id"),
        (CaseAction::Participant, "role") => ("role", "Role"),
        (CaseAction::Participant, other) => (
            "party_kind",
            if other == "kind" { "Who it is" } else { other },
        ),
    };
    (id.to_string(), format!("{label} {reason}"))
}

fn row(key: &str, value: String) -> SummaryRow {
    SummaryRow {
        key: key.to_string(),
        lines: vec![value],
        source: None,
    }
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}
