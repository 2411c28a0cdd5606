//! Provider adapters, behind one trait: how a message is handed over.
//!
//! - [`Webhook`]: a generic JSON webhook (`POST` of the rendered message,
//!   signed with HMAC-SHA256 in `x-crm-signature`, with the message id as
//!   `Idempotency-Key` so a provider can drop a repeated hand-over).
//! - [`NotifyRelay`]: an upstream GOV.UK Notify; each channel has an
//!   upstream template with `((subject))` and `((body))` placeholders that
//!   carry what the CRM rendered, and our message id is sent as
//!   `reference` so its callbacks find the message.
//! - [`Inbox`]: portal messages, stored in the contact's inbox (the message
//!   row itself): delivered at once.
//! - [`Simulator`]: test keys and Notify's smoke-test recipients: nothing is
//!   sent; the outcome is Notify's simulated one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crm_templates::TemplateType;
use notification_rules::{
    ApiKey, NotificationStatus, Recipient, SIGNATURE_HEADER, create_notify_jwt,
    is_simulated_recipient, sign_body, test_key_outcome,
};
use serde_json::json;

use crate::config::{self, NotifyRelayConfig, ProviderKind, WebhookConfig};
use crate::http_out::HttpCall;
use notification_store::Message;

/// What handing a message over takes.
pub enum Handover {
    /// An HTTP call whose 2xx answer means the provider took it.
    Http(HttpCall),
    /// Nothing to send: the message goes through these statuses now.
    Settled(Vec<NotificationStatus>),
}

pub trait Provider {
    fn name(&self) -> &'static str;

    /// `letter_pdf` is a precompiled letter's PDF: the letter itself.
    fn hand_over(
        &self,
        message: &Message,
        letter_pdf: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<Handover, String>;

    /// The provider's id for a message it took, from its answer (a JSON
    /// object with `id`); any 2xx is acceptance, whatever its body.
    fn reference(&self, body: &[u8]) -> Option<String> {
        let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
        answer.get("id")?.as_str().map(str::to_string)
    }
}

/// The status a message takes when a provider has it: letters are
/// `accepted` for printing, the rest `sending`.
pub fn handed_over_status(channel: TemplateType) -> NotificationStatus {
    if channel == TemplateType::Letter {
        NotificationStatus::Accepted
    } else {
        NotificationStatus::Sending
    }
}

pub struct Webhook(WebhookConfig);

impl Provider for Webhook {
    fn name(&self) -> &'static str {
        ProviderKind::Webhook.as_str()
    }

    fn hand_over(
        &self,
        message: &Message,
        letter_pdf: Option<&[u8]>,
        _now_ms: i64,
    ) -> Result<Handover, String> {
        let to = if message.channel == TemplateType::Letter {
            json!(message.address_lines())
        } else {
            json!(message.recipient)
        };
        let mut body = json!({
            "id": message.id,
            "channel": message.channel.as_str(),
            "to": to,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
            "reference": message.reference,
            "reply_to": message.reply_to,
            "template": {"id": message.template_id, "version": message.template_version},
        });
        if let Some(pdf) = letter_pdf {
            body["pdf"] = json!(STANDARD.encode(pdf));
        }
        let body = body.to_string().into_bytes();
        let mut headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("idempotency-key".to_string(), message.id.clone()),
        ];
        if !self.0.secret.is_empty() {
            headers.push((
                SIGNATURE_HEADER.to_string(),
                sign_body(self.0.secret.as_bytes(), &body),
            ));
        }
        Ok(Handover::Http(HttpCall {
            url: self.0.url.clone(),
            headers,
            body,
        }))
    }
}

pub struct NotifyRelay {
    config: NotifyRelayConfig,
    key: ApiKey,
}

impl Provider for NotifyRelay {
    fn name(&self) -> &'static str {
        ProviderKind::NotifyRelay.as_str()
    }

    fn hand_over(
        &self,
        message: &Message,
        letter_pdf: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<Handover, String> {
        let token = create_notify_jwt(self.key.secret(), self.key.service_id(), now_ms / 1000);
        let base = self.config.base_url.trim_end_matches('/');
        let call = |body: serde_json::Value| {
            Handover::Http(HttpCall {
                url: format!("{base}/v2/notifications/{}", message.channel),
                headers: vec![
                    ("content-type".to_string(), "application/json".to_string()),
                    ("authorization".to_string(), format!("Bearer {token}")),
                ],
                body: body.to_string().into_bytes(),
            })
        };
        // Upstream as what it is: a precompiled letter.
        if let Some(pdf) = letter_pdf {
            return Ok(call(json!({
                "reference": message.id,
                "content": STANDARD.encode(pdf),
                "postage": message.postage,
            })));
        }
        let template_id = self
            .config
            .templates
            .iter()
            .find(|(channel, _)| *channel == message.channel)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                format!(
                    "`notification_notify_templates` has no {} template",
                    message.channel
                )
            })?;
        let mut personalisation = json!({
            "subject": message.subject.clone().unwrap_or_default(),
            "body": message.body,
        });
        let mut body = json!({
            "template_id": template_id,
            "reference": message.id,
        });
        match message.channel {
            TemplateType::Email => body["email_address"] = json!(message.recipient),
            TemplateType::Sms => body["phone_number"] = json!(message.recipient),
            TemplateType::Letter => {
                for (i, line) in message.address_lines().iter().enumerate() {
                    personalisation[format!("address_line_{}", i + 1)] = json!(line);
                }
            }
            TemplateType::Portal => return Err("portal messages are not relayed".into()),
        }
        body["personalisation"] = personalisation;
        Ok(call(body))
    }
}

pub struct Inbox;

impl Provider for Inbox {
    fn name(&self) -> &'static str {
        ProviderKind::Inbox.as_str()
    }

    fn hand_over(
        &self,
        _message: &Message,
        _letter_pdf: Option<&[u8]>,
        _now_ms: i64,
    ) -> Result<Handover, String> {
        Ok(Handover::Settled(vec![
            NotificationStatus::Sending,
            NotificationStatus::Delivered,
        ]))
    }
}

pub struct Simulator;

impl Provider for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    fn hand_over(
        &self,
        message: &Message,
        _letter_pdf: Option<&[u8]>,
        _now_ms: i64,
    ) -> Result<Handover, String> {
        let end = match message.channel {
            TemplateType::Email => test_key_outcome(Recipient::Email(&message.recipient)),
            TemplateType::Sms => test_key_outcome(Recipient::Phone(&message.recipient)),
            TemplateType::Letter => NotificationStatus::Received,
            TemplateType::Portal => NotificationStatus::Delivered,
        };
        Ok(Handover::Settled(vec![
            handed_over_status(message.channel),
            end,
        ]))
    }
}

/// Whether nothing is really sent for this message.
fn simulated(message: &Message) -> bool {
    message.is_test()
        || match message.channel {
            TemplateType::Email => is_simulated_recipient(Recipient::Email(&message.recipient)),
            TemplateType::Sms => is_simulated_recipient(Recipient::Phone(&message.recipient)),
            _ => false,
        }
}

/// The adapter for a message, by its key type, channel and the
/// `notification_providers` variable.
pub fn for_message(message: &Message) -> Result<Box<dyn Provider>, String> {
    if simulated(message) {
        return Ok(Box::new(Simulator));
    }
    match config::provider_for(message.channel).map_err(|p| p.detail)? {
        ProviderKind::Inbox => Ok(Box::new(Inbox)),
        ProviderKind::Webhook => Ok(Box::new(Webhook(config::webhook().map_err(|p| p.detail)?))),
        ProviderKind::NotifyRelay => {
            let config = config::notify_relay().map_err(|p| p.detail)?;
            let key = ApiKey::parse(&config.api_key)
                .map_err(|e| format!("`notification_notify_api_key`: {e}"))?;
            Ok(Box::new(NotifyRelay { config, key }))
        }
    }
}
