//! The staff console over plain HTTP, as a browser without JavaScript
//! drives it: a session cookie, each form posted with the CSRF token of
//! the page it came from, redirects seen rather than followed.

use std::time::Duration;

use crm_tests::Host;

use crate::host;

/// One answer of the web component.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The error summary's messages, in order.
    pub fn errors(&self) -> Vec<String> {
        let Some(summary) = self.body.split("govuk-error-summary__list").nth(1) else {
            return Vec::new();
        };
        let summary = summary.split("</ul>").next().unwrap_or_default();
        summary
            .split("<li><a href=\"#")
            .skip(1)
            .map(|item| {
                let text = item.split("\">").nth(1).unwrap_or_default();
                unescape(text.split("</a>").next().unwrap_or_default())
            })
            .collect()
    }

    /// The ids the error summary links to, in order.
    pub fn error_fields(&self) -> Vec<String> {
        self.body
            .split("<li><a href=\"#")
            .skip(1)
            .map(|item| item.split('"').next().unwrap_or_default().to_string())
            .collect()
    }

    /// The value attribute of the input named `name`.
    pub fn input(&self, name: &str) -> Option<String> {
        let tag = self.body.split(&format!("name=\"{name}\"")).nth(1)?;
        let value = tag.split('>').next()?.split("value=\"").nth(1)?;
        Some(unescape(value.split('"').next()?))
    }

    /// The text of the textarea named `name`.
    pub fn textarea(&self, name: &str) -> Option<String> {
        let after = self.body.split(&format!("name=\"{name}\"")).nth(1)?;
        let text = after.split_once('>')?.1.split("</textarea>").next()?;
        Some(unescape(text))
    }

    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// Asserts a redirect (303) and answers where to.
    pub fn redirected(&self) -> String {
        assert_eq!(self.status, 303, "{}", self.body);
        self.location.clone().expect("a location")
    }
}

fn unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// A signed-in staff member's browser.
pub struct StaffBrowser {
    /// The app's base URL.
    base: String,
    agent: ureq::Agent,
    cookie: Option<String>,
    /// The CSRF token of the last page that had a form.
    csrf: String,
}

impl StaffBrowser {
    /// Signs `subject` in as `role` with the development sign-in, and
    /// states `purpose` when given.
    pub fn sign_in(role: &str, subject: &str, purpose: Option<&str>) -> Self {
        Self::sign_in_at(host(), role, subject, purpose)
    }

    /// As [`sign_in`](Self::sign_in), on the app `host` serves.
    pub fn sign_in_at(host: &Host, role: &str, subject: &str, purpose: Option<&str>) -> Self {
        let mut browser = Self {
            base: host.url(""),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
            cookie: None,
            csrf: String::new(),
        };
        browser.get("/sign-in");
        let signed_in = browser.post("/sign-in", &[("role", role), ("subject", subject)]);
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        if let Some(purpose) = purpose {
            browser.get("/staff/purpose");
            let stated = browser.post(
                "/staff/purpose",
                &[("purpose", purpose), ("next", "/staff/search")],
            );
            assert_eq!(stated.status, 303, "{}", stated.body);
        }
        browser
    }

    pub fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None)
    }

    /// Posts `fields` with the CSRF token of the last page shown.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        all.extend_from_slice(fields);
        let body = form_body(&all);
        self.send("POST", path, Some(body))
    }

    /// Posts `fields` as they are: no CSRF token unless they carry one.
    pub fn post_bare(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_body(fields);
        self.send("POST", path, Some(body))
    }

    fn send(&mut self, method: &str, path: &str, body: Option<String>) -> Page {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie.as_str());
        }
        let result = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .expect("a request"),
            ),
            None => self.agent.run(request.body(()).expect("a request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if let Some(cookie) = header("set-cookie") {
            let pair = cookie.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let location = header("location");
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let page = Page {
            status,
            location,
            body,
        };
        if let Some(token) = page.input("csrf_token") {
            self.csrf = token;
        }
        page
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}
