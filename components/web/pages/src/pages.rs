//! One view model per page, each drawn by its template in `templates/`
//! (inside `layout.html`: header, skip link, error summary, banners).

use askama::Template;

use crate::patterns::{Chrome, Errors, Field, Radios, SummaryRow};

/// Draws a page; the templates were checked at compile time, so only a
/// formatter failing could stop one, and none of ours does.
pub fn render(page: &impl Template) -> String {
    page.render().expect("templates render")
}

/// The portal's start page: what it offers, with a way to sign in when
/// signed out.
#[derive(Template)]
#[template(path = "start.html")]
pub struct StartPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub heading: &'static str,
    pub lede: &'static str,
    pub start_href: String,
    /// The pages it offers, as (href, label).
    pub links: &'static [(&'static str, &'static str)],
    pub signed_in: bool,
}

/// The development sign-in form.
#[derive(Debug, Clone)]
pub struct DevelopmentSignIn {
    pub role: Radios,
    pub subject: Field,
}

/// Sign-in: the development form while the development key is trusted, a
/// button on to the identity provider where one is configured, else a page
/// saying sign-in is not available.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub development: Option<DevelopmentSignIn>,
    /// Where the OpenID Connect sign-in starts.
    pub provider_href: Option<&'static str>,
}

/// A sign-in at the identity provider that came back refused or broken:
/// what happened, and a way to start again.
#[derive(Template)]
#[template(path = "sign_in_failed.html")]
pub struct SignInFailedPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub heading: &'static str,
    pub body: &'static str,
    pub again_href: &'static str,
}

/// APP 12: what the agency holds about the citizen, with provenance.
#[derive(Template)]
#[template(path = "my_details.html")]
pub struct MyDetailsPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub rows: Vec<SummaryRow>,
}

#[derive(Debug, Clone)]
pub struct CitizenCase {
    pub id: String,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub opened: String,
    /// What the case is about, as its lines (a correction request's detail).
    pub details: Vec<String>,
    pub messages: Vec<CaseMessage>,
    /// The reply box, with what was typed when a reply was refused.
    pub reply: Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMessage {
    pub from: String,
    pub when: String,
    pub subject: String,
    pub body: Option<String>,
}

#[derive(Template)]
#[template(path = "my_cases.html")]
pub struct MyCasesPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub cases: Vec<CitizenCase>,
}

/// Staff state why they open records before they open any.
#[derive(Template)]
#[template(path = "purpose.html")]
pub struct PurposePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub csrf: String,
    pub next: String,
    pub purpose: Radios,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub name: Field,
    pub email: Field,
    pub phone: Field,
    /// `None` until a search was made.
    pub results: Option<Vec<PersonLine>>,
    /// Whether the staff member may add a contact.
    pub can_add: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionLine {
    pub when: String,
    pub channel: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionLine {
    pub version: i64,
    pub change: String,
    pub when: String,
    pub by: String,
    pub reason: String,
}

/// A contact record's versions (`GET /api/contacts/{id}/history`).
#[derive(Template)]
#[template(path = "versions.html")]
pub struct VersionsPage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub name: String,
    pub record_href: String,
    pub versions: Vec<VersionLine>,
}

/// A page that only says something: not found, not allowed, unavailable.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub errors: Errors,
    pub heading: String,
    pub body: String,
}
