//! Headless Chromium driven over WebDriver: Debian's `chromedriver` started
//! on a free loopback port for each browser, a fresh profile with JavaScript
//! on or off, a PNG of every page visited under `target/web-screenshots/`,
//! and axe-core run on each of those pages.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Whether pages may run JavaScript: every flow is tested both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    On,
    Off,
}

impl Js {
    fn slug(self) -> &'static str {
        match self {
            Js::On => "js",
            Js::Off => "no-js",
        }
    }
}

pub struct Browser {
    pub client: Client,
    pub js: Js,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Names the screenshots: `<flow>-<js>-<nn>-<page>.png`.
    flow: String,
    visited: usize,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn tool(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_string())
}

impl Browser {
    pub async fn start(flow: &str, js: Js) -> Self {
        let port = free_port();
        let mut command = Command::new(tool("CHROMEDRIVER", "/usr/bin/chromedriver"));
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        crm_tests::die_with_spawning_thread(&mut command);
        let driver = command
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{url}/status")).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on {url}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("a Chromium profile dir");
        // The flags a closed network and a root user need (the machine notes).
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.push("--lang=en-AU".into());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": tool("CHROMIUM", "/usr/bin/chromium"), "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        // JavaScript off for every page the tab loads from now on, as
        // DevTools does it; unlike the profile's content setting, it can be
        // lifted for a moment to run axe-core on the page as loaded.
        if js == Js::Off {
            script_execution_disabled(&client, true).await;
        }
        Self {
            client,
            js,
            driver,
            _profile: profile,
            flow: flow.to_string(),
            visited: 0,
        }
    }

    /// Checks the page now shown: a screenshot, zero serious or critical
    /// axe-core violations, and that JavaScript ran exactly when it is on
    /// (the app's script marks the body).
    pub async fn check_page(&mut self, name: &str) {
        self.visited += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let file = dir.join(format!(
            "{}-{}-{:02}-{name}.png",
            self.flow,
            self.js.slug(),
            self.visited
        ));
        std::fs::write(&file, png).expect("writing a screenshot");

        let body_class = self.attr("body", "class").await.unwrap_or_default();
        assert_eq!(
            body_class.contains("js-enabled"),
            self.js == Js::On,
            "{name}: JavaScript should be {:?}; body class is {body_class:?}",
            self.js
        );

        if self.js == Js::Off {
            script_execution_disabled(&self.client, false).await;
        }
        self.client
            .execute(&axe_source(), vec![])
            .await
            .expect("injecting axe-core");
        let violations = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, {resultTypes: ["violations"]})
                     .then(r => done(r.violations
                        .filter(v => v.impact === "serious" || v.impact === "critical")
                        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                    nodes: v.nodes.map(n => n.target.join(" "))}))))
                     .catch(e => done([{error: String(e)}]));"#,
                vec![],
            )
            .await
            .expect("running axe-core");
        if self.js == Js::Off {
            script_execution_disabled(&self.client, true).await;
        }
        assert_eq!(
            violations,
            json!([]),
            "{name}: serious or critical accessibility violations (screenshot {})",
            file.display()
        );
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigating");
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the url")
            .path()
            .to_string()
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn attr(&self, css: &str, attr: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .attr(attr)
            .await
            .expect("an attribute")
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        field.clear().await.expect("clearing");
        field.send_keys(text).await.expect("typing");
    }

    /// Clicks what leads to another page (a link, a submit button) and waits
    /// until that page has replaced this one: WebDriver answers a click
    /// before the navigation it starts.
    pub async fn click_through(&self, css: &str) {
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a page");
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "clicking {css} led nowhere");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .expect("clicking");
    }

    /// The class of the element that has focus (where the page put it on load).
    pub async fn focused_class(&self) -> String {
        if self.js == Js::Off {
            script_execution_disabled(&self.client, false).await;
        }
        let active: Value = self
            .client
            .execute("return document.activeElement.className;", vec![])
            .await
            .expect("the focused element");
        if self.js == Js::Off {
            script_execution_disabled(&self.client, true).await;
        }
        active.as_str().unwrap_or_default().to_string()
    }

    pub async fn close(mut self) {
        self.client
            .clone()
            .close()
            .await
            .expect("closing the browser");
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.method, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

async fn script_execution_disabled(client: &Client, disabled: bool) {
    client
        .issue_cmd(DevTools {
            method: "Emulation.setScriptExecutionDisabled",
            params: json!({"value": disabled}),
        })
        .await
        .expect("switching JavaScript");
}

fn screenshot_dir() -> PathBuf {
    crm_tests::workspace().join("target/web-screenshots")
}

fn axe_source() -> String {
    let path = crm_tests::workspace().join("tests/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; install it with `npm ci --prefix tests/axe` (scripts/test does)",
            path.display()
        )
    })
}

/// Presses `keys`, one after another, as a keyboard does.
pub async fn press(browser: &Browser, keys: &[char]) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".to_string());
    for key in keys {
        actions = actions
            .then(KeyAction::Down { value: *key })
            .then(KeyAction::Up { value: *key });
    }
    browser
        .client
        .perform_actions(actions)
        .await
        .expect("pressing keys");
}

/// Whether the focused element matches `css`.
pub async fn focus_is(browser: &Browser, css: &str) -> bool {
    browser
        .client
        .execute(
            "return document.activeElement.matches(arguments[0]);",
            vec![json!(css)],
        )
        .await
        .expect("reading the focus")
        == json!(true)
}

/// Moves the focus with `key` (Tab, or an arrow within a radio group)
/// until it is on `css`.
pub async fn move_focus_to(browser: &Browser, key: Key, css: &str) {
    for _ in 0..100 {
        if focus_is(browser, css).await {
            return;
        }
        press(browser, &[key.into()]).await;
    }
    panic!("the keyboard never reached {css}");
}

/// Presses `key` on what has the focus, and waits for the page it leads to.
pub async fn press_through(browser: &Browser, key: Key) {
    let old = browser
        .client
        .find(Locator::Css("html"))
        .await
        .expect("a page");
    press(browser, &[key.into()]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while old.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "pressing {key:?} led nowhere");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
