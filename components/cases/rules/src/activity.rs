//! Case activities, and which one is a case's first response.

crm_domain::vocabulary! {
    /// What an activity on a case is.
    ActivityKind {
        Note => "note",
        Call => "call",
        Email => "email",
        Letter => "letter",
        Meeting => "meeting",
        Task => "task",
        CitizenMessage => "citizen-message",
        /// A message sent through the notification component.
        Notification => "notification",
        /// A change of assignee or queue, recorded on the case's timeline.
        Assignment => "assignment",
    }
}

crm_domain::vocabulary! {
    /// Which way an activity went.
    Direction { Inbound => "inbound", Outbound => "outbound", Internal => "internal" }
}

/// What the first-response rule needs to know of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    pub kind: ActivityKind,
    pub direction: Direction,
    /// Written by staff (not by the citizen, nor by the system).
    pub by_staff: bool,
    /// Shown to the citizen.
    pub citizen_visible: bool,
}

/// A case's first response is its first activity that reached the citizen
/// from staff: staff-authored, citizen-visible and outbound (a call, an
/// email, a letter, a meeting, a message or a notification). Internal
/// notes, tasks and assignment do not count, however visible; neither does
/// anything the citizen sent.
pub fn counts_as_first_response(activity: &Activity) -> bool {
    use ActivityKind::*;
    activity.by_staff
        && activity.citizen_visible
        && activity.direction == Direction::Outbound
        && !matches!(activity.kind, Note | Task | Assignment)
}
