//! The delivery status a service is told at its callback URL, in Notify's
//! shape. Sent with the service's own bearer token and retried with
//! [`RetryPolicy::CALLBACK`](crate::RetryPolicy::CALLBACK).

use crm_domain::rfc3339_utc;
use crm_templates::TemplateType;

use crate::status::NotificationStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub id: String,
    /// The caller's own `reference`, if it gave one.
    pub reference: Option<String>,
    /// The recipient's address or number.
    pub to: String,
    pub status: NotificationStatus,
    pub created_at_ms: i64,
    /// When the status last changed.
    pub completed_at_ms: Option<i64>,
    pub sent_at_ms: Option<i64>,
    pub notification_type: TemplateType,
    pub template_id: String,
    pub template_version: u32,
}

impl StatusCallback {
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "reference": self.reference,
            "to": self.to,
            "status": self.status.as_str(),
            "created_at": rfc3339_utc(self.created_at_ms),
            "completed_at": self.completed_at_ms.map(rfc3339_utc),
            "sent_at": self.sent_at_ms.map(rfc3339_utc),
            "notification_type": self.notification_type.as_str(),
            "template_id": self.template_id,
            "template_version": self.template_version,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn has_notify_fields() {
        let callback = StatusCallback {
            id: "740e5834-3a29-46b4-9a6f-16142fde533a".into(),
            reference: None,
            to: "07700900001".into(),
            status: NotificationStatus::Delivered,
            created_at_ms: 1_767_225_600_000,
            completed_at_ms: Some(1_767_225_660_500),
            sent_at_ms: None,
            notification_type: TemplateType::Sms,
            template_id: "f33517ff-2a88-4f6e-b855-c550268ce08a".into(),
            template_version: 3,
        };
        let body: serde_json::Value = serde_json::from_str(&callback.to_json()).unwrap();
        assert_eq!(
            body,
            json!({
                "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
                "reference": null,
                "to": "07700900001",
                "status": "delivered",
                "created_at": "2026-01-01T00:00:00.000Z",
                "completed_at": "2026-01-01T00:01:00.500Z",
                "sent_at": null,
                "notification_type": "sms",
                "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
                "template_version": 3
            })
        );
    }
}
