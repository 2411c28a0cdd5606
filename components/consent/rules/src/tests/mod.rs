//! Scenario tests across modules, on a small catalogue and a ledger that
//! applies plans the way the component will (insert the record, append the
//! events).

mod decide;
mod lifecycle;
mod links;
mod parsing;
mod receipts;
mod stored;

use crate::*;

pub(crate) const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
pub(crate) const T0: i64 = 1_793_491_200_000;

pub(crate) fn contact(id: &str) -> ContactId {
    ContactId::parse(id).unwrap()
}

pub(crate) fn pid(id: &str) -> PurposeId {
    PurposeId::parse(id).unwrap()
}

pub(crate) fn rid(id: &str) -> RecordId {
    RecordId::parse(id).unwrap()
}

pub(crate) fn officer() -> Actor {
    Actor::Officer(OfficerId::parse("staff-42").unwrap())
}

pub(crate) fn citizen() -> Actor {
    Actor::Citizen(contact("c1"))
}

pub(crate) fn catalogue() -> Vec<Purpose> {
    use LawfulBasis::*;
    use PurposeCategory::*;
    [
        (
            "newsletters",
            DirectCommunication,
            Consent,
            "Our newsletter",
        ),
        ("status-updates", Service, Consent, "Updates on your case"),
        ("research", Research, Consent, "Research on service quality"),
        (
            "service-delivery",
            Service,
            PrimaryPurpose,
            "Delivering your service",
        ),
        (
            "sharing:ato",
            Service,
            RequiredOrAuthorisedByLaw,
            "Reports the tax law requires",
        ),
        (
            "sharing:health-dept",
            Research,
            Consent,
            "Shared for health research",
        ),
    ]
    .into_iter()
    .map(|(id, category, basis, description)| {
        Purpose::new(pid(id), category, basis, description).unwrap()
    })
    .collect()
}

pub(crate) fn purpose(id: &str) -> Purpose {
    catalogue()
        .into_iter()
        .find(|p| p.id().as_str() == id)
        .unwrap()
}

/// A valid request: c1 gives consent to newsletters by email on the portal.
pub(crate) fn request() -> ConsentRequest {
    serde_json::from_value(serde_json::json!({
        "contact_id": "c1",
        "purpose": "newsletters",
        "data_categories": ["contact-details"],
        "channel": "email",
        "decision": "given",
        "notice_id": "general",
        "notice_version": 1,
        "collection": {"method": "portal-form", "form_version": "consent-form/3"},
        "given_at": T0,
    }))
    .unwrap()
}

/// The records of one contact, changed only through the plans.
#[derive(Default)]
pub(crate) struct Ledger {
    pub records: Vec<ConsentRecord>,
}

impl Ledger {
    pub fn apply_record(&mut self, plan: RecordPlan) {
        if let Some(appended) = plan.superseded {
            self.append(appended);
        }
        self.records.push(plan.record);
    }

    pub fn append(&mut self, appended: Appended) {
        self.records
            .iter_mut()
            .find(|r| r.id == appended.record_id)
            .unwrap()
            .events
            .push(appended.event);
    }

    /// Records `req` as record `id`, decided at `given_at` and stored at
    /// `now`.
    pub fn try_record(
        &mut self,
        id: &str,
        mut req: ConsentRequest,
        given_at: i64,
        now: i64,
    ) -> Result<(), PlanError> {
        req.given_at = given_at;
        let consent = req.parse(&catalogue(), now).unwrap();
        let plan = plan_record(&self.records, consent, rid(id), citizen(), now)?;
        self.apply_record(plan);
        Ok(())
    }

    pub fn give(&mut self, id: &str, at: i64, valid_until: Option<i64>) {
        let mut req = request();
        req.valid_until = valid_until;
        self.try_record(id, req, at, at).unwrap();
    }

    pub fn refuse(&mut self, id: &str, at: i64) {
        let mut req = request();
        req.decision = "refused".into();
        self.try_record(id, req, at, at).unwrap();
    }

    pub fn withdraw(&mut self, at: i64) -> Result<(), PlanError> {
        let appended = plan_withdrawal(
            &self.records,
            &contact("c1"),
            &pid("newsletters"),
            Channel::Email,
            citizen(),
            Via::Portal,
            at,
        )?;
        self.append(appended);
        Ok(())
    }

    pub fn check(&self, at: i64) -> Decision {
        self.check_with(&purpose("newsletters"), Channel::Email, &[], at)
    }

    pub fn check_with(
        &self,
        purpose: &Purpose,
        channel: Channel,
        suppressions: &[Suppression],
        at: i64,
    ) -> Decision {
        decide(
            &contact("c1"),
            purpose,
            channel,
            &self.records,
            suppressions,
            at,
        )
    }

    pub fn get(&self, id: &str) -> &ConsentRecord {
        self.records.iter().find(|r| r.id.as_str() == id).unwrap()
    }
}

pub(crate) fn permitted(id: &str) -> Decision {
    Decision {
        permitted: true,
        consent_id: Some(rid(id)),
        reason: Reason::ConsentGiven,
    }
}

pub(crate) fn denied(reason: Reason, id: Option<&str>) -> Decision {
    Decision {
        permitted: false,
        consent_id: id.map(rid),
        reason,
    }
}
