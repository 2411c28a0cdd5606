//! Templates by type and what rendering one produces.

use std::fmt;

use crm_domain::Channel;
use thiserror::Error;

use crate::address::{AddressError, PostalAddress};
use crate::field::{Field, SyntaxError};
use crate::fill::{fill, filled, missing, plain};
use crate::markdown::Document;
use crate::personalisation::Personalisation;
use crate::sms::{SMS_CHARACTER_LIMIT, SmsLength, sms_length};

/// Notify's limit on an email, in bytes of its plain-text body; portal
/// messages share it.
pub const EMAIL_BYTE_LIMIT: usize = 2_000_000;

/// The channels a template can be written for (the [`Channel`]s Notify
/// sends on, and the portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateType {
    Email,
    Sms,
    Letter,
    /// A message shown in the CRM's own portal (not a Notify type).
    Portal,
}

impl TemplateType {
    pub const ALL: [TemplateType; 4] = [Self::Email, Self::Sms, Self::Letter, Self::Portal];

    /// Notify's spelling (`template_type`, `notification_type`): the channel's.
    pub fn as_str(self) -> &'static str {
        Channel::from(self).as_str()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Channel::parse(raw).ok()?.try_into().ok()
    }

    fn has_subject(self) -> bool {
        self != Self::Sms
    }
}

impl From<TemplateType> for Channel {
    fn from(template_type: TemplateType) -> Self {
        match template_type {
            TemplateType::Email => Self::Email,
            TemplateType::Sms => Self::Sms,
            TemplateType::Letter => Self::Letter,
            TemplateType::Portal => Self::Portal,
        }
    }
}

/// A channel no template is written for is handed back.
impl TryFrom<Channel> for TemplateType {
    type Error = Channel;

    fn try_from(channel: Channel) -> Result<Self, Channel> {
        match channel {
            Channel::Email => Ok(Self::Email),
            Channel::Sms => Ok(Self::Sms),
            Channel::Letter => Ok(Self::Letter),
            Channel::Portal => Ok(Self::Portal),
            other => Err(other),
        }
    }
}

impl fmt::Display for TemplateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Subject,
    Body,
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Subject => "subject",
            Self::Body => "body",
        })
    }
}

/// A syntax error in one field of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{field}: {error}")]
pub struct FieldSyntaxError {
    pub field: FieldName,
    pub error: SyntaxError,
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("{0} templates need a subject")]
    SubjectRequired(TemplateType),
    #[error("sms templates have no subject")]
    SubjectNotAllowed,
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Syntax(Vec<FieldSyntaxError>),
}

/// Why a template could not be rendered with some personalisation. The
/// texts are Notify's (its API answers them as a 400 BadRequestError).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    #[error("Missing personalisation: {}", .names.join(", "))]
    MissingPersonalisation { names: Vec<String> },
    #[error("Your message is empty.")]
    Empty,
    #[error("Your message is too long. {}", too_long_detail(*template_type, *limit, *actual))]
    TooLong {
        template_type: TemplateType,
        limit: usize,
        actual: usize,
    },
    #[error(transparent)]
    Address(#[from] AddressError),
}

fn too_long_detail(template_type: TemplateType, limit: usize, actual: usize) -> String {
    match template_type {
        TemplateType::Sms => format!(
            "Text messages cannot be longer than {limit} characters. Your message is {actual} characters long."
        ),
        _ => format!(
            "{} cannot be longer than {limit} bytes. Your message is {actual} bytes.",
            if template_type == TemplateType::Portal {
                "Portal messages"
            } else {
                "Emails"
            }
        ),
    }
}

/// A template of one type, its subject and body parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    template_type: TemplateType,
    subject: Option<Field>,
    body: Field,
}

/// A message with a subject and a formatted body: email, portal message,
/// or the content of a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichMessage {
    /// One line, whitespace collapsed.
    pub subject: String,
    /// The body as plain text (an email's text part).
    pub text: String,
    /// The body as HTML in which only the template has markup.
    pub html: String,
    /// The body as Notify's API shows it: the template's text with the
    /// values filled in, Markdown and Windows line ends as written, trimmed.
    pub filled: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub body: String,
    pub length: SmsLength,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterMessage {
    pub address: PostalAddress,
    pub content: RichMessage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    Email(RichMessage),
    Sms(SmsMessage),
    Letter(LetterMessage),
    Portal(RichMessage),
}

impl Template {
    /// Parses a template; a subject is required for every type but `sms`,
    /// which must not have one.
    pub fn new(
        template_type: TemplateType,
        subject: Option<&str>,
        body: &str,
    ) -> Result<Self, TemplateError> {
        match (template_type.has_subject(), subject) {
            (true, None) => return Err(TemplateError::SubjectRequired(template_type)),
            (false, Some(_)) => return Err(TemplateError::SubjectNotAllowed),
            _ => {}
        }
        let mut errors = Vec::new();
        let mut parse = |field, text| {
            Field::parse(text)
                .map_err(|found| {
                    errors.extend(
                        found
                            .into_iter()
                            .map(|error| FieldSyntaxError { field, error }),
                    );
                })
                .ok()
        };
        let subject = subject.map(|text| parse(FieldName::Subject, text));
        let body = parse(FieldName::Body, body);
        match (subject.flatten(), body) {
            (subject, Some(body)) if errors.is_empty() => Ok(Self {
                template_type,
                subject,
                body,
            }),
            _ => Err(TemplateError::Syntax(errors)),
        }
    }

    pub fn template_type(&self) -> TemplateType {
        self.template_type
    }

    fn fields(&self) -> impl Iterator<Item = &Field> {
        self.subject.iter().chain([&self.body])
    }

    /// The placeholder names (conditional flags included), each once as
    /// first written, subject first.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut keys = Vec::<&str>::new();
        let mut names = Vec::new();
        for placeholder in self.fields().flat_map(Field::placeholders) {
            if !keys.contains(&placeholder.key.as_str()) {
                keys.push(&placeholder.key);
                names.push(placeholder.name.as_str());
            }
        }
        names
    }

    /// Renders the template. Every missing placeholder is reported at once;
    /// a letter also needs a valid address (`address_line_1` …).
    pub fn render(&self, personalisation: &Personalisation) -> Result<Rendered, RenderError> {
        let names = missing(self.fields(), personalisation);
        if !names.is_empty() {
            return Err(RenderError::MissingPersonalisation { names });
        }
        let subject = self.subject.as_ref().map(|subject| {
            // A subject is one line, however values are spelt.
            plain(&fill(subject, personalisation))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let body = fill(&self.body, personalisation);
        if self.template_type == TemplateType::Sms {
            let body = sms_text(&plain(&body));
            if body.is_empty() {
                return Err(RenderError::Empty);
            }
            let length = sms_length(&body);
            if length.characters > SMS_CHARACTER_LIMIT {
                return Err(RenderError::TooLong {
                    template_type: TemplateType::Sms,
                    limit: SMS_CHARACTER_LIMIT,
                    actual: length.characters,
                });
            }
            return Ok(Rendered::Sms(SmsMessage { body, length }));
        }
        let address = (self.template_type == TemplateType::Letter)
            .then(|| PostalAddress::from_personalisation(personalisation))
            .transpose()?;
        let document = Document::from_pieces(&body);
        let content = RichMessage {
            subject: subject.unwrap_or_default(),
            text: document.to_text(),
            html: document.to_html(),
            filled: filled(&body).trim().to_string(),
        };
        if content.text.is_empty() {
            return Err(RenderError::Empty);
        }
        if let Some(address) = address {
            return Ok(Rendered::Letter(LetterMessage { address, content }));
        }
        if content.text.len() > EMAIL_BYTE_LIMIT {
            return Err(RenderError::TooLong {
                template_type: self.template_type,
                limit: EMAIL_BYTE_LIMIT,
                actual: content.text.len(),
            });
        }
        Ok(if self.template_type == TemplateType::Portal {
            Rendered::Portal(content)
        } else {
            Rendered::Email(content)
        })
    }
}

/// A text message as sent: trimmed, Windows line ends made plain, and no
/// more than one blank line in a row (as Notify tidies them).
fn sms_text(raw: &str) -> String {
    let unix = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unix.len());
    let mut newlines = 0;
    for c in unix.trim().chars() {
        newlines = if c == '\n' { newlines + 1 } else { 0 };
        if newlines <= 2 {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Destination;
    use crate::field::SyntaxProblem;
    use crate::personalisation::Value;
    use crate::sms::SmsEncoding;

    fn template(t: TemplateType, subject: Option<&str>, body: &str) -> Template {
        Template::new(t, subject, body).unwrap()
    }

    fn address() -> Personalisation {
        Personalisation::new()
            .with("address_line_1", "Ms A Person")
            .with("address_line_2", "1 Example Street")
            .with("address_line_3", "SYDNEY NSW 2000")
    }

    #[test]
    fn subjects_are_required_except_for_sms() {
        assert_eq!(
            Template::new(TemplateType::Email, None, "x"),
            Err(TemplateError::SubjectRequired(TemplateType::Email))
        );
        assert_eq!(
            Template::new(TemplateType::Sms, Some("s"), "x"),
            Err(TemplateError::SubjectNotAllowed)
        );
        for t in [TemplateType::Letter, TemplateType::Portal] {
            assert_eq!(
                Template::new(t, None, "x"),
                Err(TemplateError::SubjectRequired(t))
            );
        }
    }

    #[test]
    fn syntax_errors_of_both_fields_are_reported_with_positions() {
        let Err(TemplateError::Syntax(errors)) =
            Template::new(TemplateType::Email, Some("Re ((ref"), "ok\n((a ((b))")
        else {
            panic!("expected syntax errors");
        };
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.field, e.error.problem, e.error.at.line, e.error.at.column))
            .collect();
        assert_eq!(
            found,
            [
                (FieldName::Subject, SyntaxProblem::Unclosed, 1, 4),
                (FieldName::Body, SyntaxProblem::Nested, 2, 5),
            ]
        );
        assert_eq!(
            Template::new(TemplateType::Sms, None, "((a ((b))")
                .unwrap_err()
                .to_string(),
            "body: `((` inside another placeholder at line 1, column 5"
        );
    }

    #[test]
    fn placeholders_once_each_subject_first() {
        let t = template(
            TemplateType::Email,
            Some("((Ref))"),
            "((name)) ((ref)) ((vip??hi)) ((First Name))",
        );
        assert_eq!(t.placeholders(), ["Ref", "name", "vip", "First Name"]);
    }

    #[test]
    fn all_missing_placeholders_reported_at_once() {
        let t = template(TemplateType::Email, Some("((ref))"), "((name)) ((flag??x))");
        let err = t
            .render(&Personalisation::new().with("NAME", "Ann"))
            .unwrap_err();
        assert_eq!(
            err,
            RenderError::MissingPersonalisation {
                names: vec!["ref".into(), "flag".into()]
            }
        );
        assert_eq!(err.to_string(), "Missing personalisation: ref, flag");
    }

    #[test]
    fn email_renders_subject_text_and_html() {
        let t = template(
            TemplateType::Email,
            Some("Your ((thing))"),
            "# Hello ((name))\n\nYou need:((docs))",
        );
        let p = Personalisation::new()
            .with("thing", "licence\n renewal")
            .with("name", "<Ann>")
            .with("docs", Value::List(vec!["passport".into(), "bill".into()]));
        let Rendered::Email(message) = t.render(&p).unwrap() else {
            panic!("expected an email");
        };
        assert_eq!(message.subject, "Your licence renewal");
        assert_eq!(
            message.text,
            "Hello <Ann>\n\nYou need:\n\n• passport\n• bill"
        );
        assert_eq!(
            message.html,
            "<h2>Hello &lt;Ann&gt;</h2>\n<p>You need:</p>\n<ul><li>passport</li><li>bill</li></ul>"
        );
        assert_eq!(
            message.filled,
            "# Hello <Ann>\n\nYou need:\n\n* passport\n* bill"
        );
    }

    #[test]
    fn windows_line_ends_are_kept_where_notify_keeps_them() {
        let body = "Hello ((name))\r\n\r\nFunctional test help make our world a better place";
        let p = Personalisation::new().with("name", "Foo");
        let Rendered::Email(email) = template(TemplateType::Email, Some("s"), body)
            .render(&p)
            .unwrap()
        else {
            panic!("expected an email");
        };
        assert_eq!(
            email.filled,
            "Hello Foo\r\n\r\nFunctional test help make our world a better place"
        );
        assert_eq!(
            email.text,
            "Hello Foo\n\nFunctional test help make our world a better place"
        );
        let Rendered::Sms(sms) = template(TemplateType::Sms, None, body).render(&p).unwrap() else {
            panic!("expected an sms");
        };
        assert_eq!(
            sms.body,
            "Hello Foo\n\nFunctional test help make our world a better place"
        );
    }

    #[test]
    fn portal_renders_like_email() {
        let t = template(TemplateType::Portal, Some("s"), "Hi ((v))");
        let p = Personalisation::new().with("v", "[x](https://evil.example)");
        let Rendered::Portal(message) = t.render(&p).unwrap() else {
            panic!("expected a portal message");
        };
        assert_eq!(
            message.html,
            "<p>Hi &#91;x&#93;&#40;https&#58;//evil.example&#41;</p>"
        );
    }

    #[test]
    fn sms_is_plain_and_counted() {
        let t = template(
            TemplateType::Sms,
            None,
            "  Hi ((name)),\r\n\r\n\r\n\r\nbring ((docs)). ",
        );
        let p = Personalisation::new().with("name", "[Ann](x)").with(
            "docs",
            Value::List(vec!["a".into(), "b".into(), "c".into()]),
        );
        let Rendered::Sms(sms) = t.render(&p).unwrap() else {
            panic!("expected an sms");
        };
        assert_eq!(sms.body, "Hi [Ann](x),\n\nbring a, b and c.");
        assert_eq!(sms.length.encoding, SmsEncoding::Gsm7);
        assert_eq!(sms.length.characters, 31);
        assert_eq!(sms.length.fragments, 1);
    }

    #[test]
    fn sms_over_918_characters_is_too_long() {
        let t = template(TemplateType::Sms, None, "((v))");
        let render = |n| t.render(&Personalisation::new().with("v", "a".repeat(n).as_str()));
        assert!(render(918).is_ok());
        let err = render(919).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Your message is too long. Text messages cannot be longer than 918 characters. Your message is 919 characters long."
        );
    }

    #[test]
    fn email_over_two_megabytes_is_too_long() {
        let t = template(TemplateType::Email, Some("s"), "((v))");
        let render = |n| t.render(&Personalisation::new().with("v", "a".repeat(n).as_str()));
        assert!(render(EMAIL_BYTE_LIMIT).is_ok());
        assert_eq!(
            render(EMAIL_BYTE_LIMIT + 1).unwrap_err(),
            RenderError::TooLong {
                template_type: TemplateType::Email,
                limit: EMAIL_BYTE_LIMIT,
                actual: EMAIL_BYTE_LIMIT + 1
            }
        );
    }

    #[test]
    fn empty_messages_are_refused() {
        let p = Personalisation::new().with("v", "  \n ");
        for t in [
            template(TemplateType::Sms, None, "((v))"),
            template(TemplateType::Email, Some("s"), "((v))"),
            template(TemplateType::Portal, Some("s"), "\n((v))\n"),
        ] {
            assert_eq!(t.render(&p), Err(RenderError::Empty));
        }
    }

    #[test]
    fn letter_needs_an_address() {
        let t = template(
            TemplateType::Letter,
            Some("About ((ref))"),
            "Dear ((address_line_1))",
        );
        let err = t
            .render(
                &Personalisation::new()
                    .with("ref", "1")
                    .with("address_line_1", "Ann"),
            )
            .unwrap_err();
        assert_eq!(err, RenderError::Address(AddressError::TooFewLines));
        assert_eq!(err.to_string(), "Address must be at least 3 lines");
        let Rendered::Letter(letter) = t.render(&address().with("ref", "A1")).unwrap() else {
            panic!("expected a letter");
        };
        assert_eq!(letter.content.subject, "About A1");
        assert_eq!(letter.content.text, "Dear Ms A Person");
        assert_eq!(
            letter.address.destination(),
            &Destination::AustralianPostcode("2000".into())
        );
    }

    #[test]
    fn missing_personalisation_comes_before_address_problems() {
        let t = template(TemplateType::Letter, Some("s"), "((x))");
        assert!(matches!(
            t.render(&Personalisation::new()),
            Err(RenderError::MissingPersonalisation { .. })
        ));
    }

    #[test]
    fn template_types_use_notify_spelling() {
        for t in TemplateType::ALL {
            assert_eq!(TemplateType::parse(t.as_str()), Some(t));
        }
        assert_eq!(TemplateType::Sms.to_string(), "sms");
        assert_eq!(TemplateType::parse("text"), None);
    }

    #[test]
    fn template_types_are_the_channels_notify_and_the_portal_send_on() {
        for channel in Channel::ALL {
            match TemplateType::try_from(*channel) {
                Ok(t) => assert_eq!(Channel::from(t), *channel),
                Err(refused) => assert_eq!(refused, *channel),
            }
        }
        assert_eq!(TemplateType::parse("phone"), None);
        assert_eq!(TemplateType::parse(" sms"), None);
    }
}
