//! OpenID Connect sign-in against a real provider (`tests/oidc`,
//! oidc-provider): an app whose API trusts only that provider (so the
//! development sign-in is off), and whose web component is its client. In
//! the browser, citizens and staff sign in on the provider's own login page
//! and use the pages with the access tokens it issues; sign-out ends the
//! session here and at the provider; a tampered answer and an idle session
//! are refused. Over plain HTTP, each refusal of the callback.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crm_tests::app::App;
use crm_tests::auth::{api_key, cli_ok, token};
use crm_tests::oidc::{OidcProvider, free_port};
use crm_tests::{Host, on_lasting_thread};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::browser::{Browser, Js};
use crate::person_by;

const CLIENT_ID: &str = "crm-web";
const CLIENT_SECRET: &str = "web-client-secret-for-the-tests-only";

/// The provider's users: login, subject, name, roles.
const USERS: &[(&str, &str, &str, &[&str])] = &[
    ("ada-js", "oidc-citizen-js", "Ada Lovelace", &["citizen"]),
    ("ada-no-js", "oidc-citizen-no-js", "Ada Byron", &["citizen"]),
    (
        "grace-js",
        "oidc-staff-js",
        "Grace Hopper",
        &["case-worker"],
    ),
    (
        "grace-no-js",
        "oidc-staff-no-js",
        "Grace Brewster",
        &["case-worker"],
    ),
    ("idle", "oidc-citizen-idle", "Ida Idle", &["citizen"]),
    ("visitor", "oidc-citizen-http", "Vic Visitor", &["citizen"]),
    ("nobody", "oidc-no-role", "Nora Nobody", &[]),
];

fn password(login: &str) -> String {
    format!("password of {login}")
}

fn subject(login: &str) -> &'static str {
    USERS
        .iter()
        .find(|u| u.0 == login)
        .map(|u| u.1)
        .expect("a test user")
}

/// The provider and the app trusting it, shared by this module's tests.
struct Oidc {
    app: App,
    provider: OidcProvider,
}

fn oidc() -> &'static Oidc {
    static OIDC: OnceLock<Oidc> = OnceLock::new();
    OIDC.get_or_init(|| {
        // Each must know the other's address before either starts.
        let (provider_port, host_port) = (free_port(), free_port());
        let base = format!("http://127.0.0.1:{host_port}");
        let users: Vec<Value> = USERS
            .iter()
            .map(|(login, sub, name, roles)| {
                json!({"login": login, "password": password(login), "sub": sub,
                       "name": name, "roles": roles})
            })
            .collect();
        let config = json!({
            "port": provider_port,
            "audience": crm_tests::auth::AUDIENCE,
            "roles_claim": "roles",
            "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                       "redirect_uris": [format!("{base}/sign-in/callback")],
                       "post_logout_redirect_uris": [format!("{base}/")]},
            "users": users,
        });
        let provider = on_lasting_thread(move || OidcProvider::start(&config));
        let issuer = provider.issuer.clone();
        let variables = [
            format!("auth_issuer={issuer}"),
            format!("auth_jwks_url={issuer}/jwks"),
            format!("auth_jwks_origin={issuer}"),
            format!("web_oidc_origin={issuer}"),
            format!("web_oidc_client_id={CLIENT_ID}"),
            format!("web_oidc_client_secret={CLIENT_SECRET}"),
            format!("web_oidc_redirect_url={base}/sign-in/callback"),
        ];
        let listen = format!("127.0.0.1:{host_port}");
        let mut args = vec!["--listen", listen.as_str()];
        for variable in &variables {
            args.extend(["--variable", variable.as_str()]);
        }
        let app = App::shared(&args);
        Oidc { app, provider }
    })
}

fn host() -> &'static Host {
    &oidc().app.host
}

/// A contact taken in with a service key (no development token is trusted
/// here), reached at `<mailbox>@example.org`; answers its id.
fn take_in(mailbox: &str, given: &str, family: &str, phone_tail: u32) -> String {
    let key = api_key(&oidc().app.db_path(), "oidc-tests", &["contact.create"]);
    let intake = host().as_caller(&key).purpose("service-delivery");
    person_by(
        &intake,
        given,
        family,
        &format!("{mailbox}@example.org"),
        phone_tail,
    )
}

/// [`take_in`], linked to `login`'s subject at the provider.
fn linked_person(login: &str, given: &str, family: &str, phone_tail: u32) -> String {
    let contact = take_in(login, given, family, phone_tail);
    let db = oidc().app.db_path();
    cli_ok(&[
        "citizen",
        "link",
        "--db",
        db.to_str().expect("utf-8 path"),
        "--issuer",
        &oidc().provider.issuer,
        "--subject",
        subject(login),
        "--contact",
        &contact,
    ]);
    contact
}

/// From the portal's start page through the provider's login page as
/// `login`, back to the page the sign-in lands on.
async fn sign_in(browser: &mut Browser, login: &str) {
    browser.goto(&host().url("/")).await;
    browser.check_page("start").await;
    browser.click_through("a.govuk-button--start").await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.check_page("sign-in").await;
    assert!(!browser.text("main").await.contains("Development sign-in"));
    provider_login(browser, login).await;
}

/// Clicks on to the provider and signs in on its login page.
async fn provider_login(browser: &Browser, login: &str) {
    browser.click_through("#sign-in-with-provider").await;
    let at = browser.client.current_url().await.expect("the url");
    assert_eq!(
        at.origin().ascii_serialization(),
        oidc().provider.issuer,
        "not at the provider: {at}"
    );
    browser.type_into("#login", login).await;
    browser.type_into("#password", &password(login)).await;
    browser.click_through("#sign-in").await;
}

/// The session cookie the browser holds for the app.
async fn session_cookie(browser: &Browser) -> String {
    let cookie = browser
        .client
        .get_named_cookie("crm-session")
        .await
        .expect("a session cookie");
    format!("crm-session={}", cookie.value())
}

async fn citizen_flow(js: Js) {
    let login = match js {
        Js::On => "ada-js",
        Js::Off => "ada-no-js",
    };
    let family = match js {
        Js::On => "Lovelace",
        Js::Off => "Byron",
    };
    linked_person(login, "Ada", family, if js == Js::On { 301 } else { 302 });

    let mut browser = Browser::start("oidc-citizen", js).await;
    sign_in(&mut browser, login).await;
    // The provider's access token is the API's: my details, as linked.
    assert_eq!(
        browser.path().await,
        "/my-details",
        "{}",
        browser.text("main").await
    );
    browser.check_page("my-details").await;
    let details = browser.text("main").await;
    assert!(details.contains(&format!("Ada {family}")), "{details}");
    assert!(
        details.contains(&format!("{login}@example.org")),
        "{details}"
    );
    assert_eq!(
        browser.text("#signed-in-as").await,
        format!("Signed in as citizen ({})", subject(login))
    );

    // Sign-out ends the session here, then at the provider, which asks.
    let cookie = session_cookie(&browser).await;
    browser.click_through("#sign-out").await;
    let at = browser.client.current_url().await.expect("the url");
    assert_eq!(at.path(), "/session/end", "{at}");
    browser.click_through("#confirm-sign-out").await;
    assert_eq!(browser.path().await, "/");
    browser.check_page("signed-out").await;
    // The old cookie no longer opens anything.
    let old = call(
        "GET",
        &host().url("/my-details"),
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(old.status, 303, "{}", old.body);
    assert_eq!(old.header("location"), Some("/sign-in"));
    // Nor is the provider's session left: signing in asks for the password.
    browser.goto(&host().url("/sign-in")).await;
    provider_login(&browser, login).await;
    assert_eq!(browser.path().await, "/my-details");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_signs_in_at_the_provider_sees_their_details_and_signs_out_with_javascript() {
    citizen_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_signs_in_at_the_provider_sees_their_details_and_signs_out_without_javascript() {
    citizen_flow(Js::Off).await;
}

async fn staff_flow(js: Js) {
    let login = match js {
        Js::On => "grace-js",
        Js::Off => "grace-no-js",
    };
    let family = match js {
        Js::On => "Quillfeather",
        Js::Off => "Marrowdale",
    };
    let contact = take_in(
        &format!("oswin-{}", family.to_lowercase()),
        "Oswin",
        family,
        if js == Js::On { 303 } else { 304 },
    );

    let mut browser = Browser::start("oidc-staff", js).await;
    sign_in(&mut browser, login).await;
    // Staff land in the console, which asks their purpose first.
    assert_eq!(browser.path().await, "/staff/purpose");
    browser.check_page("purpose").await;
    assert!(browser.text("#signed-in-as").await.contains("case-worker"));
    browser.click("#purpose-case-management").await;
    browser.click_through("#submit").await;
    assert_eq!(browser.path().await, "/staff/search");
    browser.type_into("#name", family).await;
    browser.click_through("#submit").await;
    browser.check_page("search-results").await;
    let found = browser.text("main").await;
    assert!(found.contains("1 person found"), "{found}");
    browser
        .click_through(&format!("a[href='/staff/contacts/{contact}']"))
        .await;
    browser.check_page("contact-record").await;
    assert_eq!(browser.text("h1").await, format!("Oswin {family}"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_sign_in_at_the_provider_and_search_with_javascript() {
    staff_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_sign_in_at_the_provider_and_search_without_javascript() {
    staff_flow(Js::Off).await;
}

async fn tampered_state_flow(js: Js) {
    let mut browser = Browser::start("oidc-tampered", js).await;
    browser.goto(&host().url("/sign-in")).await;
    browser.click_through("#sign-in-with-provider").await;
    // Back from "the provider" with a state this browser never sent.
    browser
        .goto(&host().url("/sign-in/callback?code=forged&state=tampered"))
        .await;
    browser.check_page("sign-in-refused").await;
    assert_eq!(browser.text("h1").await, "Sign-in could not be completed");
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#signed-in-as"))
            .await
            .is_err()
    );
    browser.click_through("#sign-in-again").await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_state_is_refused_with_a_page_with_javascript() {
    tampered_state_flow(Js::On).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_state_is_refused_with_a_page_without_javascript() {
    tampered_state_flow(Js::Off).await;
}

/// Moves the stored session's last request `minutes` into the past, as if
/// its user had been away that long.
fn idle_for(cookie: &str, minutes: i64) {
    let id = cookie.split_once('=').expect("name=value").1;
    let key = format!(
        "web-session/{}",
        Sha256::digest(id.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let db = rusqlite::Connection::open(oidc().app.state_dir().join("sqlite_key_value.db"))
        .expect("the key-value file");
    db.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    let stored: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE key = ?1",
            [&key],
            |row| row.get(0),
        )
        .expect("the stored session");
    let mut session: Value = serde_json::from_slice(&stored).expect("a session");
    let seen = session["seen_ms"].as_i64().expect("seen_ms");
    session["seen_ms"] = json!(seen - minutes * 60 * 1000);
    db.execute(
        "UPDATE spin_key_value SET value = ?1 WHERE key = ?2",
        rusqlite::params![serde_json::to_vec(&session).unwrap(), key],
    )
    .expect("ageing the session");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_left_idle_for_30_minutes_ends() {
    linked_person("idle", "Ida", "Idleworth", 305);
    let mut browser = Browser::start("oidc-idle", Js::On).await;
    sign_in(&mut browser, "idle").await;
    assert_eq!(browser.path().await, "/my-details");
    let cookie = session_cookie(&browser).await;
    // 29 minutes away: still signed in, and the visit starts the clock again.
    idle_for(&cookie, 29);
    browser.goto(&host().url("/my-details")).await;
    assert_eq!(browser.path().await, "/my-details");
    idle_for(&cookie, 29);
    browser.goto(&host().url("/my-details")).await;
    assert_eq!(browser.path().await, "/my-details");
    // 31 minutes: the session has ended.
    idle_for(&cookie, 31);
    browser.goto(&host().url("/my-details")).await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.check_page("idle-signed-out").await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#signed-in-as"))
            .await
            .is_err()
    );
    browser.close().await;
}

// What the callback answers over plain HTTP.

/// A reply read whole, redirects not followed.
fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let result = match body {
        Some(body) => agent.run(request.body(body.as_bytes().to_vec()).expect("a request")),
        None => agent.run(request.body(()).expect("a request")),
    };
    let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    Reply {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
    }
}

/// A browser's worth of HTTP: cookies kept per origin (by name only, which
/// is enough for the app and the provider), redirects followed by hand.
#[derive(Default)]
struct Visitor {
    jar: BTreeMap<(String, String), String>,
}

impl Visitor {
    fn send(&mut self, method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let origin = origin(url);
        let cookies = self
            .jar
            .iter()
            .filter(|((o, _), _)| *o == origin)
            .map(|((_, name), value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = Vec::new();
        if !cookies.is_empty() {
            headers.push(("cookie", cookies.as_str()));
        }
        let body = form.map(form_body);
        if body.is_some() {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        let reply = call(method, url, &headers, body.as_deref());
        for (name, value) in reply.cookies() {
            let key = (origin.clone(), name.to_string());
            if value.is_empty() {
                self.jar.remove(&key);
            } else {
                self.jar.insert(key, value.to_string());
            }
        }
        reply
    }

    fn get(&mut self, url: &str) -> Reply {
        self.send("GET", url, None)
    }

    /// Follows redirects from `reply` until one leads to the app's callback,
    /// and answers that URL without visiting it.
    fn follow_to_callback(&mut self, mut reply: Reply) -> String {
        loop {
            assert_eq!(reply.status / 100, 3, "{}", reply.body);
            let location = reply.header("location").expect("a location").to_string();
            let url = if location.starts_with('/') {
                format!("{}{location}", oidc().provider.issuer)
            } else {
                location
            };
            if url.starts_with(&host().url("/sign-in/callback")) {
                return url;
            }
            reply = self.get(&url);
        }
    }

    /// Starts a sign-in at the app and signs in at the provider as `login`
    /// (unless the provider's session is still this visitor's): the
    /// callback URL the provider sends the browser back to.
    fn sign_in_at_provider(&mut self, login: &str) -> String {
        let start = self.get(&host().url("/sign-in/oidc"));
        assert_eq!(start.status, 303, "{}", start.body);
        let to_provider = start.header("location").expect("a location").to_string();
        let mut reply = self.get(&to_provider);
        if let Some(page) = reply
            .header("location")
            .filter(|l| l.starts_with("/interaction/"))
        {
            let interaction = format!("{}{page}", oidc().provider.issuer);
            assert_eq!(self.get(&interaction).status, 200);
            reply = self.send(
                "POST",
                &format!("{interaction}/login"),
                Some(&[("login", login), ("password", &password(login))][..]),
            );
        }
        self.follow_to_callback(reply)
    }
}

fn origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    url[..end].to_string()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a URL");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    parsed.to_string()
}

/// The `state` a sign-in's start sends to the provider.
fn state_of(start: &Reply) -> String {
    url::Url::parse(start.header("location").expect("a location"))
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state")
}

/// A refusal page, which starts no session.
fn assert_refused(reply: &Reply, status: u16, heading: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.body.contains(heading), "{}", reply.body);
    assert!(reply.header("set-cookie").is_none(), "{:?}", reply.headers);
}

#[test]
fn the_sign_in_page_offers_only_the_provider() {
    let page = host().get("/sign-in");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Continue to sign in"), "{}", page.body);
    assert!(!page.body.contains("Development sign-in"), "{}", page.body);
    // Sign-out redirects on to the provider, so pages let forms go there.
    let csp = page.header("content-security-policy").expect("a policy");
    assert!(
        csp.contains(&format!("form-action 'self' {};", oidc().provider.issuer)),
        "{csp}"
    );
    assert!(!page.body.contains("csrf_token"), "{}", page.body);
    // The development sign-in is refused even with the session's own CSRF
    // token (from the sign-out form of a user signed in at the provider),
    // and the API takes no development token.
    let mut visitor = Visitor::default();
    let callback = visitor.sign_in_at_provider("visitor");
    assert_eq!(visitor.get(&callback).status, 303);
    let signed_in = visitor.get(&host().url("/sign-in"));
    let csrf = signed_in
        .body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-out form's token")
        .to_string();
    let posted = visitor.send(
        "POST",
        &host().url("/sign-in"),
        Some(
            &[
                ("csrf_token", csrf.as_str()),
                ("role", "administrator"),
                ("subject", "mallory"),
            ][..],
        ),
    );
    assert_eq!(posted.status, 404, "{}", posted.body);
    assert!(posted.header("set-cookie").is_none());
    let dev = host()
        .as_caller(&token("mallory", &["administrator"]))
        .get("/api/audit/entries");
    assert_eq!(dev.status, 401, "{}", dev.body);
}

#[test]
fn a_code_works_once_and_only_with_the_state_it_was_sent_with() {
    linked_person("visitor", "Vic", "Visitorson", 306);
    let mut visitor = Visitor::default();
    // A tampered state signs no one in, and spends the sign-in it was for.
    let callback = visitor.sign_in_at_provider("visitor");
    let tampered = visitor.get(&with_param(&callback, "state", "tampered"));
    assert_refused(&tampered, 400, "Sign-in could not be completed");
    assert_refused(
        &visitor.get(&callback),
        400,
        "Sign-in could not be completed",
    );

    // The real answer signs in, once, with the provider's access token.
    let callback = visitor.sign_in_at_provider("visitor");
    let signed_in = visitor.get(&callback);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), Some("/my-details"));
    let details = visitor.get(&host().url("/my-details"));
    assert_eq!(details.status, 200, "{}", details.body);
    assert!(details.body.contains("Vic Visitorson"), "{}", details.body);
    // Replayed, it finds no sign-in under way.
    assert_refused(
        &visitor.get(&callback),
        400,
        "Sign-in could not be completed",
    );
    // Replayed with the state of a new sign-in, the provider refuses the code.
    let state = state_of(&visitor.get(&host().url("/sign-in/oidc")));
    assert_refused(
        &visitor.get(&with_param(&callback, "state", &state)),
        400,
        "Sign-in could not be completed",
    );
}

#[test]
fn the_provider_saying_no_or_naming_another_issuer_signs_no_one_in() {
    let mut visitor = Visitor::default();
    let start = visitor.get(&host().url("/sign-in/oidc"));
    let callback = host().url(&format!(
        "/sign-in/callback?error=access_denied&state={}",
        encode(&state_of(&start))
    ));
    assert_refused(&visitor.get(&callback), 400, "You were not signed in");
    let start = visitor.get(&host().url("/sign-in/oidc"));
    let callback = host().url(&format!(
        "/sign-in/callback?code=any&state={}&iss={}",
        encode(&state_of(&start)),
        encode("https://mix-up.example")
    ));
    assert_refused(
        &visitor.get(&callback),
        400,
        "Sign-in could not be completed",
    );
}

#[test]
fn an_account_with_no_role_here_is_not_signed_in() {
    let mut visitor = Visitor::default();
    let callback = visitor.sign_in_at_provider("nobody");
    assert_refused(
        &visitor.get(&callback),
        403,
        "Your account cannot use this service",
    );
}
