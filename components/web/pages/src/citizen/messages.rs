//! My messages: the portal inbox (`GET /api/notifications/inbox`), newest
//! first, each read or unread, with a button that marks it the other way.

use askama::Template;
use serde_json::Value;

use crate::api::date_time;
use crate::patterns::{Chrome, Errors};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    pub id: String,
    pub subject: String,
    pub sent: String,
    pub read: bool,
    /// The text's paragraphs (split at blank lines), each as its lines: the
    /// text drawn as text, never the message's HTML.
    pub paragraphs: Vec<Vec<String>>,
    pub reference: Option<String>,
}

#[derive(Template)]
#[template(path = "my_messages.html")]
pub struct MyMessagesPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub messages: Vec<InboxMessage>,
    pub unread: usize,
}

impl MyMessagesPage {
    pub fn new(chrome: Chrome, csrf: String, messages: Vec<InboxMessage>) -> Self {
        Self {
            chrome,
            errors: Errors::default(),
            csrf,
            unread: messages.iter().filter(|m| !m.read).count(),
            messages,
        }
    }
}

fn paragraphs(body: &str) -> Vec<Vec<String>> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// The inbox's `messages`, in the API's order (newest first).
pub fn inbox(inbox: &Value) -> Vec<InboxMessage> {
    inbox["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| InboxMessage {
            id: m["id"].as_str().unwrap_or_default().to_string(),
            subject: m["subject"]
                .as_str()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or("Message from us")
                .to_string(),
            sent: date_time(m["sent_at"].as_str().unwrap_or_default()),
            read: m["read_at"].is_string(),
            paragraphs: paragraphs(m["body"].as_str().unwrap_or_default()),
            reference: m["reference"].as_str().map(str::to_string),
        })
        .collect()
}
