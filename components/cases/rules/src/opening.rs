//! What a citizen may ask for when they open a case in the portal: a case
//! about themselves (the component files it under their own contact), of a
//! kind the agency lets citizens open, leaving what staff decide (its
//! urgency, queue, officer, parent, confidentiality and who else takes
//! part) to staff.

/// Which of an opening request's optional fields it names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpeningRequest {
    pub priority: bool,
    pub contact_id: bool,
    pub queue_id: bool,
    pub assignee: bool,
    pub parent_id: bool,
    pub confidentiality: bool,
    pub participants: bool,
}

/// Why a citizen may not open a case so: (field, reason) for each refused
/// field; empty when they may. `type_citizen_openable` is the case type's
/// `citizen_openable`.
pub fn citizen_opening_refusals(
    request: &OpeningRequest,
    type_citizen_openable: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut refusals = Vec::new();
    if !type_citizen_openable {
        refusals.push(("case_type", "is not a kind of case you can open yourself"));
    }
    if request.contact_id {
        refusals.push(("contact_id", "is your own; leave it out"));
    }
    let staff_decide = [
        (request.priority, "priority"),
        (request.queue_id, "queue_id"),
        (request.assignee, "assignee"),
        (request.parent_id, "parent_id"),
        (request.confidentiality, "confidentiality"),
        (request.participants, "participants"),
    ];
    for (named, field) in staff_decide {
        if named {
            refusals.push((field, "is for staff to set"));
        }
    }
    refusals
}
