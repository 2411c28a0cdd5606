//! One request to the web component: its session (loaded from the cookie,
//! touched, saved when the answer is ready), its form (CSRF-checked), the
//! page chrome, and how a handler's failure becomes a page.

use spin_sdk::http::{Request, Response};
use web_pages::{Chrome, MessagePage, NavItem, PurposeBanner, SignedIn};

use crate::api::{Api, ApiError};
use crate::assets;
use crate::session::{Audience, CookiePolicy, Session, SessionError, Sessions, User, random_token};

/// Why a handler did not draw its page.
#[derive(Debug)]
pub enum Outcome {
    NotFound,
    /// Not signed in (or signed in as the other audience): to the sign-in page.
    SignIn,
    /// Something must be done first (stating a purpose): there.
    Redirect(String),
    /// The form's CSRF token is missing or not this session's.
    CsrfRefused,
    Forbidden(String),
    Unavailable(String),
    Session(SessionError),
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Self {
        match e {
            // The token ended (the session outlived it): sign in again.
            ApiError::Problem { status: 401, .. } => Self::SignIn,
            ApiError::Problem {
                status: 403,
                detail,
                ..
            } => Self::Forbidden(detail),
            ApiError::Problem { status: 404, .. } => Self::NotFound,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<SessionError> for Outcome {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

pub type Handled = Result<Response, Outcome>;

/// The portal's or the console's header and navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Portal,
    Console,
}

impl Section {
    fn of(path: &str) -> Self {
        if path == "/staff" || path.starts_with("/staff/") {
            Self::Console
        } else {
            Self::Portal
        }
    }
}

pub struct Visit<'r> {
    pub req: &'r Request,
    policy: CookiePolicy,
    sessions: Sessions,
    id: Option<String>,
    pub session: Option<Session>,
    now_ms: i64,
    set_cookie: Option<String>,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl<'r> Visit<'r> {
    pub fn begin(req: &'r Request) -> Result<Self, SessionError> {
        let policy = CookiePolicy::of(req);
        let sessions = Sessions::open()?;
        let now_ms = now_ms();
        let id = crate::session::cookie_id(req, policy);
        let session = match &id {
            Some(id) => sessions.load(id, now_ms)?,
            None => None,
        };
        Ok(Self {
            req,
            policy,
            sessions,
            id: session.as_ref().and(id),
            session,
            now_ms,
            set_cookie: None,
        })
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The session, begun now if the visitor has none (a form needs its
    /// CSRF token before anyone signs in).
    pub fn session_mut(&mut self) -> &mut Session {
        if self.session.is_none() {
            let id = random_token();
            self.set_cookie = Some(self.policy.set_cookie(Some(&id)));
            self.id = Some(id);
        }
        self.session
            .get_or_insert_with(|| Session::new(self.now_ms))
    }

    pub fn csrf(&mut self) -> String {
        self.session_mut().csrf.clone()
    }

    /// The signed-in user, if they belong to `audience`.
    pub fn user(&self, audience: Audience) -> Result<&User, Outcome> {
        self.session
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .filter(|u| u.audience == audience)
            .ok_or(Outcome::SignIn)
    }

    /// The API as the signed-in `audience` member, with their purpose.
    pub fn api(&self, audience: Audience) -> Result<Api<'_>, Outcome> {
        let user = self.user(audience)?;
        let purpose = self.session.as_ref().and_then(|s| s.purpose.as_deref());
        Ok(Api::new(&user.token, purpose))
    }

    /// The posted form's fields, once its CSRF token is this session's.
    pub fn form(&self) -> Result<Vec<(String, String)>, Outcome> {
        let fields: Vec<(String, String)> = form_urlencoded::parse(self.req.body())
            .into_owned()
            .collect();
        let given = fields
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map_or("", |(_, v)| v.as_str());
        match &self.session {
            Some(session) if session.csrf_matches(given) => Ok(fields),
            _ => Err(Outcome::CsrfRefused),
        }
    }

    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.req.query().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Starts a signed-in session under a new id (the one the sign-in form
    /// came with is dropped, so no one who planted it can follow the user in).
    pub fn sign_in(&mut self, user: User) -> Result<(), Outcome> {
        if let Some(old) = self.id.take() {
            self.sessions.delete(&old)?;
        }
        let mut session = Session::new(self.now_ms);
        session.user = Some(user);
        let id = random_token();
        self.set_cookie = Some(self.policy.set_cookie(Some(&id)));
        self.id = Some(id);
        self.session = Some(session);
        Ok(())
    }

    pub fn sign_out(&mut self) -> Result<(), Outcome> {
        if let Some(old) = self.id.take() {
            self.sessions.delete(&old)?;
        }
        self.session = None;
        self.set_cookie = Some(self.policy.set_cookie(None));
        Ok(())
    }

    /// A message for the next page drawn.
    pub fn flash(&mut self, message: impl Into<String>) {
        self.session_mut().flash = Some(message.into());
    }

    /// The header, navigation, user and purpose around a page of `section`;
    /// `current` is the navigation item it is.
    pub fn chrome(&mut self, current: &str) -> Chrome {
        let section = Section::of(self.req.path());
        let session = self.session.as_mut();
        let banner = session.and_then(|s| s.flash.take());
        let user = self.session.as_ref().and_then(|s| {
            s.user.as_ref().map(|u| SignedIn {
                label: u.label.clone(),
                csrf: s.csrf.clone(),
            })
        });
        let signed_in = user.is_some();
        let nav: &[(&'static str, &'static str)] = match (section, signed_in) {
            (_, false) => &[],
            (Section::Portal, true) => web_pages::citizen::PORTAL_NAV,
            (Section::Console, true) => crate::console::NAV,
        };
        // The console offers only the pages the staff member's roles use.
        let offered = match (section, self.session.as_ref().and_then(|s| s.user.as_ref())) {
            (Section::Console, Some(user)) => Some(crate::console::offered(&user.token)),
            _ => None,
        };
        let purpose = match section {
            Section::Console => self.session.as_ref().and_then(|s| s.purpose.clone()),
            Section::Portal => None,
        };
        Chrome {
            service_name: match section {
                Section::Portal => "Your agency record",
                Section::Console => "CRM staff console",
            },
            home: match section {
                Section::Portal => "/",
                Section::Console => "/staff/",
            },
            css: assets::href("app.css"),
            js: assets::href("app.mjs"),
            nav: nav
                .iter()
                .filter(|(href, _)| offered.as_ref().is_none_or(|offers| offers(href)))
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            user,
            purpose: purpose.map(|purpose| PurposeBanner {
                purpose,
                change_href: format!("/staff/purpose?next={}", crate::api::encode(current)),
            }),
            banner,
        }
    }

    /// Saves the session and answers `outcome`, drawing a failure as a page.
    pub fn finish(mut self, outcome: Handled) -> Response {
        let mut response = match outcome {
            Ok(response) => response,
            Err(failure) => self.failure_page(failure),
        };
        if let (Some(id), Some(session)) = (&self.id, &self.session)
            && let Err(e) = self.sessions.save(id, session)
        {
            return unavailable(&e.to_string());
        }
        if let Some(cookie) = self.set_cookie.take() {
            response.set_header("set-cookie", cookie);
        }
        response
    }

    fn failure_page(&mut self, failure: Outcome) -> Response {
        let (status, heading, body) = match failure {
            Outcome::SignIn => return redirect("/sign-in"),
            Outcome::Redirect(location) => return redirect(&location),
            Outcome::NotFound => (
                404,
                "Page not found",
                "If you typed the web address, check it is correct.".to_string(),
            ),
            Outcome::CsrfRefused => (
                403,
                "Your form could not be sent",
                "It may have been open too long. Go back, reload the page and try again."
                    .to_string(),
            ),
            Outcome::Forbidden(detail) => (403, "You cannot do this", detail),
            Outcome::Unavailable(detail) => {
                eprintln!("web: {detail}");
                (
                    502,
                    "Sorry, there is a problem with the service",
                    "Try again later.".to_string(),
                )
            }
            Outcome::Session(e) => {
                eprintln!("web: {e}");
                (
                    503,
                    "Sorry, there is a problem with the service",
                    "Try again later.".to_string(),
                )
            }
        };
        let page = MessagePage {
            chrome: self.chrome(""),
            errors: Default::default(),
            heading: heading.to_string(),
            body,
        };
        html(status, &web_pages::render(&page))
    }
}

pub fn html(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(body.as_bytes().to_vec())
        .build()
}

/// 303 See Other: the answer to every successful POST, and to a page that
/// needs something first.
pub fn redirect(location: &str) -> Response {
    Response::builder()
        .status(303)
        .header("location", location)
        .header("cache-control", "no-store")
        .build()
}

/// When not even the session store answers.
pub fn unavailable(detail: &str) -> Response {
    eprintln!("web: {detail}");
    Response::builder()
        .status(503)
        .header("content-type", "text/plain; charset=utf-8")
        .body("Sorry, the service is unavailable. Try again later.")
        .build()
}
