//! The component's Spin variables, read when needed and checked: a bad
//! value is the operator's fault and answers 500 saying which variable.

use crm_host_allowed_hosts::OutboundPattern;
use crm_http::Problem;
use crm_templates::TemplateType;
use notification_rules::{DailyLimits, RateLimit, RetryPolicy, SealingKey};

fn optional(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn bad(name: &str, why: &str) -> Problem {
    Problem::internal(format!("configuration variable `{name}`: {why}"))
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Problem> {
    match optional(name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| bad(name, "must be a number")),
    }
}

/// `channel=value,...` pairs, for the variables that configure per channel.
fn per_channel(name: &str) -> Result<Vec<(TemplateType, String)>, Problem> {
    let Some(text) = optional(name) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (channel, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(name, "must be channel=value pairs separated by commas"))?;
            let channel = TemplateType::parse(channel.trim())
                .ok_or_else(|| bad(name, "channels are email, sms, letter and portal"))?;
            Ok((channel, value.trim().to_string()))
        })
        .collect()
}

/// The key that seals Notify key secrets and callback tokens. Until it is
/// set, nothing that needs one can be created (503).
pub fn sealing_key() -> Result<SealingKey, Problem> {
    let text = optional("notification_sealing_key").ok_or_else(|| {
        Problem::unavailable(
            "`notification_sealing_key` is not set: Notify keys and callback tokens cannot be kept",
        )
    })?;
    SealingKey::from_base64(&text).map_err(|e| bad("notification_sealing_key", &e.to_string()))
}

/// Which provider delivers each channel (`webhook` or `notify`); portal
/// messages always go to the inbox.
pub fn provider_for(channel: TemplateType) -> Result<ProviderKind, Problem> {
    let name = "notification_providers";
    let chosen = per_channel(name)?
        .into_iter()
        .find(|(c, _)| *c == channel)
        .map(|(_, provider)| provider);
    match (channel, chosen.as_deref()) {
        (TemplateType::Portal, _) => Ok(ProviderKind::Inbox),
        (_, None | Some("webhook")) => Ok(ProviderKind::Webhook),
        (_, Some("notify")) => Ok(ProviderKind::NotifyRelay),
        (_, Some(_)) => Err(bad(name, "providers are webhook and notify")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Webhook,
    NotifyRelay,
    Inbox,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::NotifyRelay => "notify",
            Self::Inbox => "inbox",
        }
    }
}

pub struct WebhookConfig {
    pub url: String,
    pub secret: String,
}

pub fn webhook() -> Result<WebhookConfig, Problem> {
    Ok(WebhookConfig {
        url: optional("notification_webhook_url")
            .ok_or_else(|| bad("notification_webhook_url", "is not set"))?,
        secret: optional("notification_webhook_secret").unwrap_or_default(),
    })
}

pub struct NotifyRelayConfig {
    pub base_url: String,
    pub api_key: String,
    /// The upstream template for each channel: it has `((subject))` and
    /// `((body))` placeholders that carry what the CRM rendered.
    pub templates: Vec<(TemplateType, String)>,
}

pub fn notify_relay() -> Result<NotifyRelayConfig, Problem> {
    Ok(NotifyRelayConfig {
        base_url: optional("notification_notify_url")
            .ok_or_else(|| bad("notification_notify_url", "is not set"))?,
        api_key: optional("notification_notify_api_key")
            .ok_or_else(|| bad("notification_notify_api_key", "is not set"))?,
        templates: per_channel("notification_notify_templates")?,
    })
}

/// The shared secret that signs a provider's delivery receipts (`webhook`)
/// or the bearer token upstream Notify posts them with (`notify`).
pub fn receipt_secret(provider: ProviderKind) -> Option<String> {
    match provider {
        ProviderKind::Webhook => optional("notification_webhook_secret"),
        ProviderKind::NotifyRelay => optional("notification_notify_callback_token"),
        ProviderKind::Inbox => None,
    }
}

/// Where services' status callbacks may go: the `allowed_outbound_hosts`
/// pattern `notification_callback_origin` grants (none when unset).
pub fn callback_origin() -> Result<Option<(String, OutboundPattern)>, Problem> {
    let name = "notification_callback_origin";
    optional(name)
        .map(|text| {
            OutboundPattern::parse(&text)
                .map(|pattern| (text, pattern))
                .map_err(|e| bad(name, &e.to_string()))
        })
        .transpose()
}

pub fn provider_timeout_ms() -> Result<u64, Problem> {
    number("notification_provider_timeout_ms", 10_000)
}

/// Delivery retries: Notify's 49 tries five minutes apart unless set.
pub fn delivery_retry() -> Result<RetryPolicy, Problem> {
    let default = RetryPolicy::PROVIDER;
    Ok(RetryPolicy {
        max_attempts: number("notification_retry_attempts", default.max_attempts)?,
        base_delay_ms: number("notification_retry_base_ms", default.base_delay_ms)?,
        max_delay_ms: number("notification_retry_max_ms", default.max_delay_ms)?,
    })
}

/// Status callback retries: Notify's 6 tries five minutes apart unless set.
pub fn callback_retry() -> Result<RetryPolicy, Problem> {
    let default = RetryPolicy::CALLBACK;
    let delay = number("notification_callback_retry_ms", default.base_delay_ms)?;
    Ok(RetryPolicy {
        max_attempts: number("notification_callback_attempts", default.max_attempts)?,
        base_delay_ms: delay,
        max_delay_ms: delay,
    })
}

pub fn rate_limit() -> Result<RateLimit, Problem> {
    let name = "notification_rate_limit_per_minute";
    RateLimit::per_minute(number(name, 3_000)?).map_err(|e| bad(name, &e.to_string()))
}

pub fn daily_limits() -> Result<DailyLimits, Problem> {
    let name = "notification_daily_limits";
    let mut limits = DailyLimits::default();
    for (channel, value) in per_channel(name)? {
        let value: u64 = value
            .parse()
            .map_err(|_| bad(name, "limits must be whole numbers"))?;
        match channel {
            TemplateType::Email => limits.email = value,
            TemplateType::Sms => limits.sms = value,
            TemplateType::Letter => limits.letter = value,
            TemplateType::Portal => limits.portal = value,
        }
    }
    Ok(limits)
}

/// What one dispatch request takes on, and how many deliveries it keeps in
/// flight at once.
pub fn dispatch_batch() -> Result<(usize, usize), Problem> {
    Ok((
        number("notification_dispatch_batch", 1_000)?,
        number::<usize>("notification_dispatch_concurrency", 32)?.max(1),
    ))
}

pub fn sender_identity() -> (String, String) {
    (
        optional("notification_from_email").unwrap_or_else(|| "notifications@crm.gov.au".into()),
        optional("notification_sms_sender").unwrap_or_else(|| "GovCRM".into()),
    )
}

/// The templates a case's status changes are told with
/// (`case_update_templates`: template ids, one per channel, separated by
/// commas; the contact's preferred channel picks). None: the citizen is
/// not told.
pub fn case_update_templates() -> Vec<String> {
    optional("case_update_templates")
        .map(|ids| {
            ids.split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
