//! The pure rules of case management (issue 17): what a case is called,
//! which status changes are allowed to whom, which activity is a case's
//! first response, and what a citizen may ask for when opening one. No storage, no clock: the store assigns reference
//! numbers and times, `cases-sla` counts the service levels.

mod activity;
mod opening;
mod reference;
mod workflow;

pub use activity::{Activity, ActivityKind, Direction, counts_as_first_response};
pub use opening::{OpeningRequest, citizen_opening_refusals};
pub use reference::{CaseReference, ReferenceError};
pub use workflow::{
    CaseFacts, CaseTypeKey, ClosurePolicy, Confidentiality, Effect, Priority, Status,
    StatusCategory, StatusKey, Transition, TransitionError, Workflow,
};

#[cfg(test)]
mod tests;
