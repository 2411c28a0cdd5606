//! The citizen portal (and sign-in, which staff share): start, my details,
//! my cases with a reply box; the citizen's own records in the modules
//! below (consents, messages, who looked, asking for a correction).

pub mod access_log;
pub mod consents;
pub mod correction;
pub mod messages;

use crm_auth::policy::Role;
use serde_json::json;
use web_pages::citizen::PORTAL_NAV;
use web_pages::{
    DevelopmentSignIn, Errors, Field, MyCasesPage, MyDetailsPage, Radios, SignInPage, StartPage,
    api, posted, render,
};

use crate::api::{ApiError, encode};
use crate::oidc;
use crate::session::Audience;
use crate::sign_in::{self, Method, development};
use crate::visit::{Handled, Outcome, Visit, html, redirect};

/// The longest reply a citizen may send (the case activity body's bound).
const REPLY_MAX_CHARS: usize = 5000;

pub fn start(visit: &mut Visit) -> Handled {
    let signed_in = match visit.session.as_ref().and_then(|s| s.user.as_ref()) {
        Some(user) if user.audience == Audience::Staff => return Ok(redirect("/staff/")),
        Some(_) => true,
        None => false,
    };
    let page = StartPage {
        chrome: visit.chrome("/"),
        errors: Errors::default(),
        heading: "Your record with the agency",
        lede: "See what we hold about you and where it came from, and ask us to correct it; \
               follow and reply to your cases; give and withdraw your consents; read our \
               messages to you; and see who looked at your record, and why.",
        start_href: "/sign-in".to_string(),
        links: PORTAL_NAV,
        signed_in,
    };
    Ok(html(200, &render(&page)))
}

pub fn sign_in_form(visit: &mut Visit) -> Handled {
    Ok(sign_in_page(visit, 200, "", "", &Errors::default()))
}

fn sign_in_page(
    visit: &mut Visit,
    status: u16,
    role: &str,
    subject: &str,
    errors: &Errors,
) -> spin_sdk::http::Response {
    let method = sign_in::method();
    let development = match method {
        Method::Development => Some(DevelopmentSignIn {
            role: Radios::new(
                "role",
                "Sign in as",
                development::ROLES,
                Some(role).filter(|r| !r.is_empty()),
                errors,
            ),
            subject: Field::text("subject", "User id (the token's subject)")
                .hint("A citizen's must be linked to their contact record (crm-cli citizen link)")
                .autocomplete("username")
                .filled(subject, errors),
        }),
        Method::OpenIdConnect | Method::Unavailable => None,
    };
    let provider_href = matches!(method, Method::OpenIdConnect).then_some(oidc::START_PATH);
    let page = SignInPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/sign-in"),
        errors: errors.clone(),
        development,
        provider_href,
    };
    html(status, &render(&page))
}

pub fn sign_in(visit: &mut Visit) -> Handled {
    let form = visit.form()?;
    let Method::Development = sign_in::method() else {
        return Err(Outcome::NotFound);
    };
    let (role_raw, subject_raw) = (posted(&form, "role"), posted(&form, "subject"));
    let mut errors = Errors::default();
    let role = Role::parse(role_raw).filter(|r| *r != Role::Service);
    if role.is_none() {
        errors.add("role", "Select who to sign in as");
    }
    let subject = development::Subject::parse(subject_raw).map_err(|e| errors.add("subject", e));
    let (Some(role), Ok(subject), true) = (role, subject, errors.is_empty()) else {
        return Ok(sign_in_page(visit, 400, role_raw, subject_raw, &errors));
    };
    let session_end = visit.now_ms() + crate::session::ABSOLUTE_MS;
    let user = development::sign_in(role, &subject, visit.now_ms() / 1000, session_end / 1000);
    let home = match user.audience {
        Audience::Citizen => "/my-details",
        Audience::Staff => "/staff/",
    };
    visit.sign_in(user)?;
    Ok(redirect(home))
}

/// Ends the session here, then at the identity provider if the user signed
/// in there.
pub fn sign_out(visit: &mut Visit) -> Handled {
    visit.form()?;
    let next = oidc::end_session_url(visit);
    visit.sign_out()?;
    Ok(redirect(next.as_deref().unwrap_or("/")))
}

pub fn my_details(visit: &mut Visit) -> Handled {
    let record = visit.api(Audience::Citizen)?.get("/api/contacts/me")?;
    let page = MyDetailsPage {
        chrome: visit.chrome("/my-details"),
        errors: Errors::default(),
        rows: api::contact_rows(&record),
    };
    Ok(html(200, &render(&page)))
}

pub fn my_cases(visit: &mut Visit) -> Handled {
    cases_page(visit, 200, None, &Errors::default())
}

fn cases_page(
    visit: &mut Visit,
    status: u16,
    reply_to: Option<(&str, &str)>,
    errors: &Errors,
) -> Handled {
    let mine = visit.api(Audience::Citizen)?.get("/api/cases/mine")?;
    let page = MyCasesPage {
        csrf: visit.csrf(),
        chrome: visit.chrome("/my-cases"),
        errors: errors.clone(),
        cases: api::citizen_cases(&mine, reply_to, errors),
    };
    Ok(html(status, &render(&page)))
}

/// `POST /my-cases/{id}/messages`: the citizen's reply, as a citizen message
/// on the case.
pub fn reply(visit: &mut Visit, case: &str) -> Handled {
    let form = visit.form()?;
    let text = posted(&form, "reply").to_string();
    let mut errors = Errors::default();
    if text.trim().is_empty() {
        errors.add(api::reply_field_id(case), "Enter your reply");
    } else if text.chars().count() > REPLY_MAX_CHARS {
        errors.add(
            api::reply_field_id(case),
            format!("Reply must be {REPLY_MAX_CHARS} characters or fewer"),
        );
    }
    if errors.is_empty() {
        let sent = visit.api(Audience::Citizen)?.post(
            &format!("/api/cases/{}/activities", encode(case)),
            &json!({"kind": "citizen-message", "subject": "Message from the portal", "body": text}),
        );
        match sent {
            Ok(_) => {
                visit.flash("Your reply was sent");
                return Ok(redirect("/my-cases"));
            }
            Err(ApiError::Problem {
                status: 400,
                errors: fields,
                ..
            }) => {
                for (_, reason) in fields {
                    errors.add(api::reply_field_id(case), format!("Reply {reason}"));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    cases_page(visit, 400, Some((case, &text)), &errors)
}
