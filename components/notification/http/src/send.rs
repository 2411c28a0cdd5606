//! Accepting a message, the same for both APIs: rate limit, idempotent
//! replay, template and recipient, rendering, key-type rules, the consent
//! check, then one transaction that counts it against the daily limit and
//! enqueues it (with its idempotency key, so a retried send never makes a
//! second message).
//!
//! Raw-address sends (Notify style, no contact id) have no contact whose
//! consent could be recorded. They are checked as a recipient with no
//! records: the consent leaf is asked about the pseudo-contact
//! `recipient:<first 32 hex of SHA-256("<channel>:<address>")>`, so they
//! pass only for purposes that do not rest on consent (service messages
//! such as status updates), never for consent-based ones (newsletters,
//! surveys), and an address-keyed suppression recorded under that id
//! applies to them.

use crm_component_support::audit::Outcome;
use crm_component_support::now_ms;
use crm_domain::{Email, PhoneE164};
use crm_http::Problem;
use crm_templates::{
    AddressError, Personalisation, PostalAddress, RenderError, Rendered, TemplateType,
    Value as PValue,
};
use notification_rules::{
    InvalidPhone, KeyType, NotificationStatus, NotifyPhoneNumber, Postage, PrecompiledPdf,
    Recipient as SimRecipient, ScheduleError, check_reference, check_schedule,
    is_simulated_recipient, sms_sender_text, test_key_outcome,
};
use notification_store::documents::{self, StoredDocument};
use notification_store::letters;
use notification_store::senders::{self, SenderKind};
use notification_store::templates::Scope;
use notification_store::{Message, StoreError, StoredTemplate, messages};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use spin_sdk::sqlite::Connection;

use crate::actor::Actor;
use crate::crm::contacts::directory::{self, Reach};
use crate::{config, in_transaction, limits, store_problem, templates, wit_channel};

/// Who is sending, and under which rules.
pub struct Sender {
    pub actor: Actor,
    /// The idempotency and rate-limit scope: `service:<id>` for a Notify
    /// service, `crm` for the CRM's own authenticated callers. Within it,
    /// idempotency keys are scoped further by the caller: the CRM route
    /// prefixes the actor id, `/v2` the key type.
    pub sender: String,
    pub service_id: Option<String>,
    pub api_key_id: Option<String>,
    /// `Live` for the CRM's own callers.
    pub key_type: KeyType,
    pub created_by_name: Option<String>,
    /// Who a team key may send to.
    pub guest_list: Vec<String>,
}

/// Who a message is for.
pub enum Recipient {
    /// A contact: the address comes from the contact record.
    Contact(String),
    Email(String),
    /// A number as the CRM's own callers write it (`crm_domain::PhoneE164`).
    Phone(String),
    /// A number as a Notify client sent it, read as Notify reads it
    /// (`NotifyPhoneNumber`: a national number is a UK one).
    NotifyPhone(String),
    /// A letter whose address is in the personalisation
    /// (`address_line_1`…).
    Address,
}

pub struct SendRequest {
    /// The new message's id (named in the caller's audit entry).
    pub id: String,
    /// One template, or several of different types (CRM API): the one for
    /// the contact's preferred channel is used.
    pub template_ids: Vec<String>,
    pub recipient: Recipient,
    pub personalisation: Json,
    pub reference: Option<String>,
    pub scheduled_for: Option<String>,
    pub idempotency_key: Option<String>,
    /// SHA-256 of what was asked, so a key reused for another request is
    /// refused rather than answered with the wrong message.
    pub request_hash: String,
    /// The channel a Notify endpoint sends on.
    pub channel: Option<TemplateType>,
    /// An email's one-click unsubscribe link (Notify's), kept and shown.
    pub one_click_unsubscribe_url: Option<String>,
    /// The sender's email reply-to address or text message sender to use
    /// (`email_reply_to_id`, `sms_sender_id`); else the service's default.
    pub reply_to_id: Option<String>,
    /// Files the message links to (`/v2` emails), kept with it.
    pub documents: Vec<StoredDocument>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("Template not found")]
    TemplateNotFound,
    #[error("{template} template is not suitable for {wanted} notification")]
    WrongType {
        template: TemplateType,
        wanted: TemplateType,
    },
    #[error("no contact {0}")]
    ContactNotFound(String),
    #[error("the contact has no {0} address")]
    NoAddress(TemplateType),
    /// The contact's postal address, with the addressee's name, is not one
    /// a letter can be sent to.
    #[error("{}", contact_address_detail(*lines, error))]
    ContactAddress { lines: usize, error: AddressError },
    #[error("{field} {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Render(RenderError),
    #[error(transparent)]
    InvalidPhone(InvalidPhone),
    // Notify's words, apostrophe (U+2019) and all: clients match on them.
    #[error("Can\u{2019}t send to this recipient using a team-only API key")]
    TeamRecipient,
    #[error("Cannot send letters with a team api key")]
    TeamLetter,
    #[error("not permitted to contact this recipient for `{purpose}` by {channel}: {reason}")]
    ConsentRefused {
        purpose: String,
        channel: TemplateType,
        reason: String,
    },
    #[error("rate limit exceeded")]
    RateLimited {
        per_minute: u32,
        key_type: KeyType,
        retry_after_secs: u64,
    },
    #[error("Exceeded send limits ({channel}: {limit}) for today")]
    DailyLimit {
        channel: TemplateType,
        limit: u64,
        retry_after_secs: u64,
    },
    #[error("Idempotency-Key was already used for a different request")]
    IdempotencyConflict,
    // Notify's words.
    #[error("{field} {id} does not exist in database for service id {service_id}")]
    UnknownSender {
        field: &'static str,
        id: String,
        service_id: String,
    },
    #[error("{}", .0.detail)]
    Internal(Problem),
}

impl From<Problem> for SendError {
    fn from(problem: Problem) -> Self {
        Self::Internal(problem)
    }
}

impl From<StoreError> for SendError {
    fn from(error: StoreError) -> Self {
        Self::Internal(store_problem(error))
    }
}

fn contact_address_detail(lines: usize, error: &AddressError) -> String {
    let problem = match error {
        AddressError::TooManyLines => format!(
            "with the addressee's name it has {lines} lines, and a letter's address may have at most {}",
            PostalAddress::MAX_LINES
        ),
        error => error.to_string(),
    };
    format!("the contact's postal address cannot be used for a letter: {problem}")
}

fn invalid(field: &str, reason: impl Into<String>) -> SendError {
    SendError::Invalid {
        field: field.to_string(),
        reason: reason.into(),
    }
}

pub struct Sent {
    pub message: Message,
    /// The answer to an earlier request with the same idempotency key.
    pub replayed: bool,
}

/// How long a sending request or a dispatch holds a message it is handing
/// over, before another dispatch may try it: the provider timeout and a
/// margin.
pub fn claim_ms() -> Result<i64, Problem> {
    Ok(config::provider_timeout_ms()? as i64 + 60_000)
}

/// Accepts a message. It is enqueued `created`, held by this request for
/// its immediate attempt unless it is scheduled.
pub fn send(
    db: &Connection,
    sender: &Sender,
    req: SendRequest,
    now: i64,
) -> Result<Sent, SendError> {
    if let Some(reference) = &req.reference {
        check_reference(reference).map_err(|e| invalid("reference", e.0))?;
    }
    limits::take_token(sender, now)?;
    if let Some(earlier) = earlier(
        db,
        sender,
        req.idempotency_key.as_deref(),
        &req.request_hash,
    )? {
        return Ok(earlier);
    }
    let scheduled_for = req
        .scheduled_for
        .as_deref()
        .map(|raw| check_schedule(raw, now))
        .transpose()
        .map_err(|e: ScheduleError| invalid("scheduled_for", e.reason()))?;
    let reach = match &req.recipient {
        Recipient::Contact(id) => Some(
            directory::lookup(&sender.actor.context(), id)
                .map_err(Problem::unavailable)?
                .ok_or_else(|| SendError::ContactNotFound(id.clone()))?,
        ),
        _ => None,
    };
    // A Notify service sends only its own templates; the CRM's callers any.
    let scope = sender
        .service_id
        .as_deref()
        .map_or(Scope::All, Scope::Service);
    let template = choose_template(db, scope, &req.template_ids, reach.as_ref(), req.channel)?;
    let channel = template.kind;
    let reply_to = reply_to(db, sender, &template, req.reply_to_id.as_deref())?;
    let mut personalisation = Personalisation::from_json(&req.personalisation)
        .map_err(|e| invalid(&e.field(), e.reason()))?;
    let (contact_id, address) = address(
        &req.recipient,
        reach.as_ref(),
        channel,
        &mut personalisation,
    )?;
    if sender.key_type == KeyType::Team {
        check_team_recipient(sender, channel, address.as_deref())?;
    }
    let parsed = templates::parsed(&template)?;
    let (subject, body, html, notify_body, recipient) =
        match parsed.render(&personalisation).map_err(SendError::Render)? {
            Rendered::Sms(sms) => (None, sms.body, None, None, address.unwrap_or_default()),
            Rendered::Email(m) | Rendered::Portal(m) => (
                Some(m.subject),
                m.text,
                Some(m.html),
                Some(m.filled),
                address.unwrap_or_default(),
            ),
            Rendered::Letter(letter) => (
                Some(letter.content.subject),
                letter.content.text,
                Some(letter.content.html),
                Some(letter.content.filled),
                serde_json::to_string(letter.address.lines()).expect("strings serialise"),
            ),
        };
    let consent_id = check_consent(sender, contact_id.as_deref(), &template, &recipient)?;
    // As the sender wrote it, for Notify's answers.
    let sent_to = match &req.recipient {
        Recipient::Email(raw) | Recipient::Phone(raw) | Recipient::NotifyPhone(raw) => {
            Some(raw.clone())
        }
        Recipient::Contact(_) | Recipient::Address => None,
    };
    let postage = (channel == TemplateType::Letter).then(|| {
        template
            .postage
            .clone()
            .unwrap_or_else(|| Postage::Second.as_str().to_string())
    });
    let message = Message {
        id: req.id,
        channel,
        template_id: template.id.clone(),
        template_version: template.version,
        purpose: template.purpose.clone(),
        contact_id,
        recipient,
        subject,
        body,
        html,
        reference: req.reference,
        status: NotificationStatus::Created,
        consent_id,
        sender: sender.sender.clone(),
        sender_role: sender.actor.role.clone(),
        service_id: sender.service_id.clone(),
        api_key_id: sender.api_key_id.clone(),
        key_type: Some(sender.key_type.as_str().to_string()),
        created_by_name: sender.created_by_name.clone(),
        idempotency_key: req.idempotency_key,
        request_hash: Some(req.request_hash),
        scheduled_for,
        next_attempt_at: Some(scheduled_for.unwrap_or(now + claim_ms()?)),
        attempts: 0,
        provider: None,
        provider_reference: None,
        failure_reason: None,
        created_at: now,
        sent_at: None,
        completed_at: None,
        updated_at: now,
        interaction_id: None,
        sent_to,
        one_click_unsubscribe_url: req.one_click_unsubscribe_url,
        postage,
        reply_to,
        notify_body,
    };
    let kept = req.documents;
    enqueue(db, sender, message, now, || {
        for document in &kept {
            documents::save(db, document)?;
        }
        Ok(())
    })
}

/// The answer to an earlier request with the same idempotency key, if
/// there was one.
fn earlier(
    db: &Connection,
    sender: &Sender,
    idempotency_key: Option<&str>,
    request_hash: &str,
) -> Result<Option<Sent>, SendError> {
    match idempotency_key {
        Some(key) => messages::by_idempotency_key(db, &sender.sender, key)?
            .map(|existing| replay(existing, request_hash))
            .transpose(),
        None => Ok(None),
    }
}

/// Enqueues `message` in one transaction that counts it against the daily
/// limit and does `also` (what must be kept with it, or not at all).
fn enqueue(
    db: &Connection,
    sender: &Sender,
    message: Message,
    now: i64,
    also: impl FnOnce() -> Result<(), SendError>,
) -> Result<Sent, SendError> {
    let enqueued = in_transaction(db, || {
        limits::count_daily(db, sender, message.channel, now)?;
        message.insert(db)?;
        also()
    });
    match enqueued {
        Ok(()) => Ok(Sent {
            message,
            replayed: false,
        }),
        // Another request with the same key may have won the race (the
        // key's unique index refused this insert): answer with its message.
        Err(SendError::Internal(p)) if message.idempotency_key.is_some() => {
            let key = message.idempotency_key.as_deref().unwrap_or_default();
            match messages::by_idempotency_key(db, &sender.sender, key)? {
                Some(existing) => replay(
                    existing,
                    message.request_hash.as_deref().unwrap_or_default(),
                ),
                None => Err(SendError::Internal(p)),
            }
        }
        Err(e) => Err(e),
    }
}

/// The template a precompiled letter names: it has none of its own, and
/// Notify names a hidden one of its service's. This id is no template's,
/// so reading it is a 404.
pub const PRECOMPILED_TEMPLATE_ID: &str = "0f8b1e2a-6c2d-4e0b-9a57-5d4c7a2f1e01";

/// A precompiled letter's purpose. It has no template to name one, and its
/// address is inside the PDF, which the CRM does not read, so there is no
/// recipient to ask consent about: it goes as a service message (README).
const PRECOMPILED_PURPOSE: &str = "service-delivery";

/// What Notify's hidden precompiled template calls a letter.
const PRECOMPILED_SUBJECT: &str = "Pre-compiled PDF";

/// A precompiled letter to accept.
pub struct PrecompiledRequest {
    pub id: String,
    pub pdf: PrecompiledPdf,
    pub reference: String,
    pub postage: Postage,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
}

/// Accepts a precompiled letter as [`send`] accepts a templated one (rate
/// and daily limits, idempotent replay, no team keys), its PDF kept in the
/// transaction that enqueues it. Its address is Notify's placeholder until
/// a provider reads it from the PDF.
pub fn send_precompiled(
    db: &Connection,
    sender: &Sender,
    req: PrecompiledRequest,
    now: i64,
) -> Result<Sent, SendError> {
    check_reference(&req.reference).map_err(|e| invalid("reference", e.0))?;
    if sender.key_type == KeyType::Team {
        return Err(SendError::TeamLetter);
    }
    limits::take_token(sender, now)?;
    if let Some(earlier) = earlier(
        db,
        sender,
        req.idempotency_key.as_deref(),
        &req.request_hash,
    )? {
        return Ok(earlier);
    }
    let message = Message {
        id: req.id,
        channel: TemplateType::Letter,
        template_id: PRECOMPILED_TEMPLATE_ID.to_string(),
        template_version: 1,
        purpose: PRECOMPILED_PURPOSE.to_string(),
        contact_id: None,
        recipient: serde_json::to_string(&["Provided as PDF"]).expect("strings serialise"),
        subject: Some(PRECOMPILED_SUBJECT.to_string()),
        body: String::new(),
        html: None,
        reference: Some(req.reference),
        status: NotificationStatus::Created,
        consent_id: None,
        sender: sender.sender.clone(),
        sender_role: sender.actor.role.clone(),
        service_id: sender.service_id.clone(),
        api_key_id: sender.api_key_id.clone(),
        key_type: Some(sender.key_type.as_str().to_string()),
        created_by_name: sender.created_by_name.clone(),
        idempotency_key: req.idempotency_key,
        request_hash: Some(req.request_hash),
        scheduled_for: None,
        next_attempt_at: Some(now + claim_ms()?),
        attempts: 0,
        provider: None,
        provider_reference: None,
        failure_reason: None,
        created_at: now,
        sent_at: None,
        completed_at: None,
        updated_at: now,
        interaction_id: None,
        sent_to: None,
        one_click_unsubscribe_url: None,
        postage: Some(req.postage.as_str().to_string()),
        reply_to: None,
        notify_body: None,
    };
    let id = message.id.clone();
    enqueue(db, sender, message, now, || {
        letters::save_pdf(db, &id, req.pdf.as_bytes())?;
        Ok(())
    })
}

fn replay(existing: Message, request_hash: &str) -> Result<Sent, SendError> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Sent {
            message: existing,
            replayed: true,
        })
    } else {
        Err(SendError::IdempotencyConflict)
    }
}

fn channel_of(channel: crm_component_support::wit::Channel) -> Option<TemplateType> {
    use crm_component_support::wit::Channel;
    match channel {
        Channel::Email => Some(TemplateType::Email),
        Channel::Sms => Some(TemplateType::Sms),
        Channel::Letter => Some(TemplateType::Letter),
        Channel::Portal => Some(TemplateType::Portal),
        _ => None,
    }
}

fn reachable(reach: &Reach, channel: TemplateType) -> bool {
    match channel {
        TemplateType::Email => !reach.emails.is_empty(),
        TemplateType::Sms => !reach.phones.is_empty(),
        TemplateType::Letter => !reach.postal_address.is_empty(),
        TemplateType::Portal => true,
    }
}

/// The template to send: the only one named, or among several the one for
/// the contact's preferred channel, else the first the contact can be
/// reached by.
fn choose_template(
    db: &Connection,
    scope: Scope<'_>,
    ids: &[String],
    reach: Option<&Reach>,
    channel: Option<TemplateType>,
) -> Result<StoredTemplate, SendError> {
    let mut found = Vec::new();
    for id in ids {
        found.push(
            notification_store::templates::load(db, scope, id, None)?
                .ok_or(SendError::TemplateNotFound)?,
        );
    }
    let preferred = reach.and_then(|r| r.preferred_channel).and_then(channel_of);
    let index = match reach {
        Some(reach) if found.len() > 1 => found
            .iter()
            .position(|t| Some(t.kind) == preferred)
            .or_else(|| found.iter().position(|t| reachable(reach, t.kind)))
            .unwrap_or(0),
        _ => 0,
    };
    if index >= found.len() {
        return Err(SendError::TemplateNotFound);
    }
    let template = found.swap_remove(index);
    match channel {
        Some(wanted) if wanted != template.kind => Err(SendError::WrongType {
            template: template.kind,
            wanted,
        }),
        _ => Ok(template),
    }
}

/// What a Notify service's message goes with (Notify's `reply_to_text`):
/// the email reply-to address or text message sender named, which must be
/// one of the service's, else the service's default of that kind; a
/// letter's contact block is its template's, else the service's default.
/// The CRM's own messages go with none.
fn reply_to(
    db: &Connection,
    sender: &Sender,
    template: &StoredTemplate,
    named: Option<&str>,
) -> Result<Option<String>, SendError> {
    let Some(service_id) = sender.service_id.as_deref() else {
        return Ok(None);
    };
    let (kind, field) = match template.kind {
        TemplateType::Email => (SenderKind::EmailReplyTo, "email_reply_to_id"),
        TemplateType::Sms => (SenderKind::SmsSender, "sms_sender_id"),
        TemplateType::Letter if template.letter_contact_block.is_some() => {
            return Ok(template.letter_contact_block.clone());
        }
        TemplateType::Letter => (SenderKind::LetterContact, "letter_contact_id"),
        TemplateType::Portal => return Ok(None),
    };
    let chosen = match named {
        Some(id) => Some(senders::find(db, service_id, kind, id)?.ok_or_else(|| {
            SendError::UnknownSender {
                field,
                id: id.to_string(),
                service_id: service_id.to_string(),
            }
        })?),
        None => senders::default_of(db, service_id, kind)?,
    };
    Ok(chosen.map(|chosen| match kind {
        SenderKind::SmsSender => sms_sender_text(&chosen.value),
        _ => chosen.value,
    }))
}

/// The contact (if any) and the address to send to; for a letter to a
/// contact, the addressee and their postal address go into the
/// personalisation.
fn address(
    recipient: &Recipient,
    reach: Option<&Reach>,
    channel: TemplateType,
    personalisation: &mut Personalisation,
) -> Result<(Option<String>, Option<String>), SendError> {
    match (recipient, reach) {
        (Recipient::Contact(_), Some(reach)) => {
            let address = match channel {
                TemplateType::Email => reach.emails.first().cloned(),
                TemplateType::Sms => reach.phones.first().cloned(),
                TemplateType::Portal => Some(reach.contact_id.clone()),
                TemplateType::Letter if reach.postal_address.is_empty() => None,
                TemplateType::Letter => {
                    let lines = letter_address(reach)?;
                    // Every address key is set, so that none the caller
                    // sent is mixed into the address on record.
                    for n in 1..=PostalAddress::MAX_LINES {
                        let line = lines.get(n - 1).cloned().unwrap_or_default();
                        personalisation.insert(&format!("address_line_{n}"), PValue::Text(line));
                    }
                    personalisation.insert("postcode", PValue::Text(String::new()));
                    Some(String::new())
                }
            };
            let address = address.ok_or(SendError::NoAddress(channel))?;
            Ok((Some(reach.contact_id.clone()), Some(address)))
        }
        (Recipient::Email(raw), _) if channel == TemplateType::Email => Email::parse(raw)
            .map(|e| (None, Some(e.as_str().to_string())))
            .map_err(|e| invalid("email_address", e.0)),
        (Recipient::Phone(raw), _) if channel == TemplateType::Sms => Ok((None, Some(phone(raw)?))),
        (Recipient::NotifyPhone(raw), _) if channel == TemplateType::Sms => {
            NotifyPhoneNumber::parse(raw)
                .map(|number| (None, Some(number.as_str().to_string())))
                .map_err(SendError::InvalidPhone)
        }
        (Recipient::Address, _) if channel == TemplateType::Letter => Ok((None, None)),
        (_, _) if channel == TemplateType::Portal => Err(invalid(
            "contact_id",
            "is required: portal messages go to a contact's inbox",
        )),
        _ => Err(invalid(
            "recipient",
            format!("a {channel} template needs {}", recipient_field(channel)),
        )),
    }
}

/// A letter's address for a contact: the addressee (their display name),
/// as on any letter, then the postal address lines on record, whitespace
/// collapsed as in a personalised address. Checked here, so that an address
/// the record cannot make is refused naming the contact's address, not a
/// personalisation field the caller never sent.
fn letter_address(reach: &Reach) -> Result<Vec<String>, SendError> {
    let lines: Vec<String> = std::iter::once(&reach.display_name)
        .chain(&reach.postal_address)
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    let count = lines.len();
    PostalAddress::from_lines(lines)
        .map(|address| address.lines().to_vec())
        .map_err(|error| SendError::ContactAddress {
            lines: count,
            error,
        })
}

fn recipient_field(channel: TemplateType) -> &'static str {
    match channel {
        TemplateType::Email => "email_address",
        TemplateType::Sms => "phone_number",
        TemplateType::Letter => "personalisation address_line_1…",
        TemplateType::Portal => "contact_id",
    }
}

/// A phone number as stored: E.164, except Notify's simulator numbers,
/// which are UK numbers kept as given so that test keys recognise them.
fn phone(raw: &str) -> Result<String, SendError> {
    let simulated = is_simulated_recipient(SimRecipient::Phone(raw))
        || test_key_outcome(SimRecipient::Phone(raw)) != NotificationStatus::Delivered;
    if simulated {
        return Ok(raw.trim().to_string());
    }
    PhoneE164::parse(raw)
        .map(|p| p.as_str().to_string())
        .map_err(|e| invalid("phone_number", e.0))
}

fn check_team_recipient(
    sender: &Sender,
    channel: TemplateType,
    address: Option<&str>,
) -> Result<(), SendError> {
    if channel == TemplateType::Letter {
        return Err(SendError::TeamLetter);
    }
    let address = address.unwrap_or_default().to_lowercase();
    if sender.guest_list.contains(&address) {
        Ok(())
    } else {
        Err(SendError::TeamRecipient)
    }
}

/// The pseudo-contact a raw address is checked as (see the module notes).
pub fn pseudo_contact(channel: TemplateType, address: &str) -> String {
    let digest = Sha256::digest(format!("{channel}:{}", address.trim().to_lowercase()));
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("recipient:{hex}")
}

/// Asks the consent leaf; a refusal is audited and answered with the
/// reason.
fn check_consent(
    sender: &Sender,
    contact_id: Option<&str>,
    template: &StoredTemplate,
    recipient: &str,
) -> Result<Option<String>, SendError> {
    let subject =
        contact_id.map_or_else(|| pseudo_contact(template.kind, recipient), str::to_string);
    // Asked as of now, not as of the request's start: a withdrawal recorded
    // since then (dated after that start) must refuse the send.
    let decision = crate::crm::consent::decisions::check(
        &subject,
        &template.purpose,
        wit_channel(template.kind),
        now_ms(),
    )
    .map_err(|e| Problem::unavailable(format!("the consent check failed: {e}")))?;
    if decision.permitted {
        return Ok(decision.consent_id);
    }
    sender.actor.record(
        "notification.send",
        &format!("template/{}", template.id),
        contact_id,
        Outcome::Denied,
        Some(&format!("consent-refused:{}", decision.reason)),
    )?;
    Err(SendError::ConsentRefused {
        purpose: template.purpose.clone(),
        channel: template.kind,
        reason: decision.reason,
    })
}

/// Re-asks consent for a queued message at dispatch time: the reason it
/// may no longer be sent, if any. Asked as of the moment of asking: a
/// dispatch run's start can be seconds old, and the check ignores
/// withdrawals dated after the time it is given.
pub fn consent_withdrawn(message: &Message) -> Result<Option<String>, Problem> {
    let subject = message
        .contact_id
        .clone()
        .unwrap_or_else(|| pseudo_contact(message.channel, &message.recipient));
    let decision = crate::crm::consent::decisions::check(
        &subject,
        &message.purpose,
        wit_channel(message.channel),
        now_ms(),
    )
    .map_err(|e| Problem::unavailable(format!("the consent check failed: {e}")))?;
    Ok((!decision.permitted).then_some(decision.reason))
}
