//! Headless Chromium against the real binary: the team's login → dashboard,
//! a client's whole onboarding on a phone-sized window, then the team
//! verifying the access and seeing the KPI, and the traffic-control view
//! showing a breached SOP run that links to the client's runs.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`). Without chromedriver each test prints why and
//! passes, unless `BATON_BROWSER_TESTS=1` or `CI=true` says the browser tests
//! must run: then a missing chromedriver is a failure.
//!
//! Each test has its own data folder, `baton serve`, chromedriver and ports,
//! so they run in parallel in one process.
//!
//! Run: `BATON_BROWSER_TESTS=1 cargo test -p baton --test browser -- --nocapture`

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common;
use common::{free_port, TempDir};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const AGENCY_NAME: &str = "Lighthouse Browser Agency";

/// How long a page may take to show what a step waits for.
const PAGE_WAIT: Duration = Duration::from_secs(15);

/// A 1×1 transparent PNG (67 bytes).
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && v != "0" && v != "false" && v != "no"
    })
}

/// `baton` on `data_dir` with no inherited `BATON_*` configuration.
fn baton(data_dir: &Path) -> Command {
    common::baton_command(data_dir, None)
}

/// Whether this machine can run the browser tests. Without chromedriver:
/// a failure when `BATON_BROWSER_TESTS` or `CI` is set, else `false` with
/// the reason printed (the test then passes without running).
fn browser_available() -> bool {
    let required = flag("BATON_BROWSER_TESTS") || flag("CI");
    if !Path::new(CHROMEDRIVER).exists() {
        if required {
            panic!(
                "{CHROMEDRIVER} is missing but the browser test is required \
                 (BATON_BROWSER_TESTS or CI is set): apt-get install chromium chromium-driver"
            );
        }
        eprintln!(
            "skipped: {CHROMEDRIVER} not found (apt-get install chromium chromium-driver, \
             or set BATON_BROWSER_TESTS=1 to make this a failure)"
        );
        return false;
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMEDRIVER} is installed but {CHROMIUM} is not: apt-get install chromium"
    );
    true
}

/// Polls `url` until it answers 2xx, or panics naming `what` with its log.
async fn wait_ready(url: &str, what: &str, proc: &mut Proc, log: &Path) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = proc.0.try_wait() {
            panic!(
                "{what} exited early with {status}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what} not ready within 60 s:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        // A child process starting: polled until the deadline above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The browser window of a session.
#[derive(Clone, Copy, Debug)]
struct Window {
    width: u32,
    height: u32,
    /// Chrome's mobile emulation (phone viewport, device pixel ratio 3,
    /// touch), on top of the window size.
    phone: bool,
}

const DESKTOP: Window = Window {
    width: 1280,
    height: 900,
    phone: false,
};

const PHONE: Window = Window {
    width: 390,
    height: 844,
    phone: true,
};

/// One test's world: a fresh agency in its own data folder, `baton serve`
/// and chromedriver on their own ports, and the Chromium sessions opened.
struct Harness {
    /// `http://127.0.0.1:{port}`, also the public URL of the links.
    base: String,
    /// The agency's owner, from `baton agency create --json`.
    email: String,
    password: String,
    /// The agency's API token.
    api_token: String,
    serve_log: PathBuf,
    driver_url: String,
    driver_log: PathBuf,
    /// Every session opened, ended when the test's steps are over.
    sessions: Mutex<Vec<Client>>,
    /// Held to be killed on drop.
    _driver: Proc,
    _server: Proc,
    /// Last, so that it is removed after both processes are gone.
    dir: TempDir,
}

impl Harness {
    /// Creates the agency, then starts `baton serve` (with `env` added to
    /// its configuration) and chromedriver.
    async fn start(tag: &str, env: &[(&str, &str)]) -> Harness {
        let dir = TempDir::new(tag);
        let out = baton(dir.path())
            .args([
                "agency",
                "create",
                "--name",
                AGENCY_NAME,
                "--admin-email",
                "owner@lighthouse.test",
                "--json",
            ])
            .output()
            .expect("run baton agency create");
        assert!(
            out.status.success(),
            "agency create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let created: Value = serde_json::from_slice(&out.stdout).unwrap();
        let field = |k: &str| {
            created[k]
                .as_str()
                .unwrap_or_else(|| panic!("agency create --json has no {k:?}: {created}"))
                .to_string()
        };
        let (email, password, api_token) = (
            field("admin_email"),
            field("admin_password"),
            field("api_token"),
        );

        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let serve_log = dir.path().join("serve.log");
        let mut server = Proc(
            baton(dir.path())
                .arg("serve")
                .envs(env.iter().copied())
                .env("BATON_LISTEN", format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&serve_log).unwrap())
                .spawn()
                .expect("spawn baton serve"),
        );
        wait_ready(
            &format!("{base}/healthz"),
            "baton serve",
            &mut server,
            &serve_log,
        )
        .await;

        let driver_port = free_port();
        let driver_log = dir.path().join("chromedriver.log");
        let mut driver = Proc(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={driver_port}"))
                .arg(format!("--log-path={}", driver_log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn chromedriver"),
        );
        let driver_url = format!("http://127.0.0.1:{driver_port}");
        wait_ready(
            &format!("{driver_url}/status"),
            "chromedriver",
            &mut driver,
            &driver_log,
        )
        .await;

        Harness {
            base,
            email,
            password,
            api_token,
            serve_log,
            driver_url,
            driver_log,
            sessions: Mutex::new(Vec::new()),
            _driver: driver,
            _server: server,
            dir,
        }
    }

    /// A new Chromium session with its own profile, `name` naming it.
    async fn session(&self, name: &str, window: Window) -> Client {
        let profile = self.dir.path().join(format!("chromium-{name}"));
        std::fs::create_dir_all(&profile).unwrap();
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--window-size={},{}", window.width, window.height),
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if window.phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": window.width,
                    "height": window.height,
                    "pixelRatio": 3.0,
                },
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.driver_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start a Chromium session ({name}, {window:?}): {e}\nchromedriver log:\n{}",
                    std::fs::read_to_string(&self.driver_log).unwrap_or_default()
                )
            });
        self.sessions.lock().unwrap().push(c.clone());
        c
    }

    /// An API call with the agency's token: (status, JSON body or null).
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.api_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json)
    }

    /// An API call that must answer `want`; its JSON body.
    async fn api_ok(&self, method: Method, path: &str, body: Option<Value>, want: u16) -> Value {
        let (status, json) = self.api(method.clone(), path, body).await;
        assert_eq!(status, want, "{method} {path} answered {status}: {json}");
        json
    }
}

/// Starts a harness tagged `tag` and runs `steps` with it in a task, so that
/// pass or fail every session is ended and Chromium quits before the test
/// reports. On a failure the server's log is printed too.
async fn browser_test<F, Fut>(tag: &str, steps: F)
where
    F: FnOnce(Arc<Harness>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    browser_test_with(tag, &[], steps).await
}

/// [`browser_test`] with more configuration for `baton serve`.
async fn browser_test_with<F, Fut>(tag: &str, env: &[(&str, &str)], steps: F)
where
    F: FnOnce(Arc<Harness>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !browser_available() {
        return;
    }
    let h = Arc::new(Harness::start(tag, env).await);
    let result = tokio::spawn(steps(h.clone())).await;
    let sessions = std::mem::take(&mut *h.sessions.lock().unwrap());
    for c in sessions {
        let _ = c.close().await;
    }
    if let Err(e) = result {
        eprintln!(
            "baton serve log ({tag}):\n{}",
            std::fs::read_to_string(&h.serve_log).unwrap_or_default()
        );
        // `h` drops while unwinding, so its folder (logs, profiles) stays.
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("browser steps did not finish: {e}"),
        }
    }
    drop(h);
}

/// Where screenshots go: kept after the run (the test's own folder is not).
fn screenshot_dir() -> PathBuf {
    let d = std::env::temp_dir().join("baton-browser-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Saves a screenshot and the page source, for a failure message.
async fn evidence(c: &Client, name: &str) -> String {
    let dir = screenshot_dir();
    let mut said = String::new();
    if let Ok(png) = c.screenshot().await {
        let p = dir.join(format!("{name}.png"));
        if std::fs::write(&p, png).is_ok() {
            said.push_str(&format!("screenshot: {}\n", p.display()));
        }
    }
    if let Ok(url) = c.current_url().await {
        said.push_str(&format!("url: {url}\n"));
    }
    if let Ok(body) = c.find(Locator::Css("body")).await {
        let text = body.text().await.unwrap_or_default();
        let cut: String = text.chars().take(1500).collect();
        said.push_str(&format!("visible text (first 1500 chars):\n{cut}\n"));
    }
    if let Ok(src) = c.source().await {
        let cut: String = src.chars().take(1500).collect();
        said.push_str(&format!("page source (first 1500 chars):\n{cut}\n"));
    }
    said
}

/// Panics with the message and the page's evidence saved under `$name`.
macro_rules! fail {
    ($c:expr, $name:expr, $($msg:tt)+) => {{
        let said = format!($($msg)+);
        panic!("{said}\n{}", evidence($c, $name).await)
    }};
}

/// `fail!` unless the condition holds.
macro_rules! check {
    ($c:expr, $name:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            fail!($c, $name, $($msg)+)
        }
    };
}

/// The element `css`, waiting for it to appear.
async fn find(c: &Client, css: &str, name: &str) -> Element {
    match c
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(e) => e,
        Err(e) => fail!(c, name, "no {css} on the page ({e})"),
    }
}

/// Clicks the element `css` once it is there.
async fn click(c: &Client, css: &str, name: &str) {
    let e = find(c, css, name).await;
    if let Err(err) = e.click().await {
        fail!(c, name, "cannot click {css}: {err}");
    }
}

/// Waits until the text of `css` contains `needle` (any text for ""); that
/// text. Fails at once when an error page (`#error-title`) shows instead,
/// with the likely cause when it is the portal's refusal of a form post.
async fn wait_text(c: &Client, css: &str, needle: &str, name: &str) -> String {
    let deadline = Instant::now() + PAGE_WAIT;
    let mut last = None;
    loop {
        // Errors (a page in the middle of loading) just mean "not yet".
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(needle) {
                    return t;
                }
                last = Some(t);
            }
        }
        if let Ok(t) = c.find(Locator::Css("#error-title")).await {
            let title = t.text().await.unwrap_or_default();
            let hint = if title.contains("could not be accepted") {
                "\nThat is the portal's 403 from `check_origin` (crates/baton-server/src/web/portal.rs): \
                 the browser's `Origin` header was refused. Chromium sends `Origin: null` on a form \
                 post from a page whose Referrer-Policy is `no-referrer`."
            } else {
                ""
            };
            fail!(
                c,
                name,
                "an error page {title:?} instead of {css} with {needle:?}{hint}"
            );
        }
        if Instant::now() >= deadline {
            fail!(
                c,
                name,
                "{css} never showed {needle:?} within {PAGE_WAIT:?}; its last text: {last:?}"
            );
        }
        // The browser renders on its own time: polled until PAGE_WAIT.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `script` in the page; its return value.
async fn js(c: &Client, script: &str, name: &str) -> Value {
    match c.execute(script, vec![]).await {
        Ok(v) => v,
        Err(e) => fail!(c, name, "script {script:?} failed: {e}"),
    }
}

/// Fails unless the page fits its window's width (no horizontal scroll).
async fn check_no_horizontal_scroll(c: &Client, name: &str) {
    let v = js(
        c,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
        name,
    )
    .await;
    let (scroll, inner) = (v[0].as_i64().unwrap_or(-1), v[1].as_i64().unwrap_or(-1));
    check!(
        c,
        name,
        scroll > 0 && inner > 0 && scroll <= inner,
        "the page scrolls sideways: scrollWidth {scroll} > innerWidth {inner}"
    );
}

/// Saves a screenshot of the page as `name.png` in the screenshots folder.
async fn keep_screenshot(c: &Client, name: &str) -> PathBuf {
    let png = match c.screenshot().await {
        Ok(p) => p,
        Err(e) => fail!(c, name, "no screenshot: {e}"),
    };
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    let kept = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&kept, &png).unwrap();
    kept
}

async fn login_to_dashboard(c: &Client, base: &str, email: &str, password: &str) {
    // Say plainly when the page is not served at all.
    let status = reqwest::get(format!("{base}/login"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(
        status, 200,
        "GET /login answered {status}, not the login page"
    );
    c.goto(&format!("{base}/login")).await.expect("open /login");
    let form = match c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=login-form]"))
        .await
    {
        Ok(f) => f,
        Err(e) => panic!(
            "no [data-testid=login-form] on /login ({e})\n{}",
            evidence(c, "login-missing").await
        ),
    };
    let email_input = form
        .find(Locator::Css("input[name=email]"))
        .await
        .expect("input[name=email] in the login form");
    email_input.send_keys(email).await.unwrap();
    let password_input = form
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("input[name=password] in the login form");
    password_input.send_keys(password).await.unwrap();
    // Submit as a person would: the form's submit button.
    match form
        .find(Locator::Css(
            "button[type=submit], input[type=submit], button:not([type])",
        ))
        .await
    {
        Ok(button) => button.click().await.expect("click the login button"),
        Err(_) => {
            eprintln!("note: the login form has no submit button; submitting it directly");
            c.form(Locator::Css("[data-testid=login-form]"))
                .await
                .unwrap()
                .submit_direct()
                .await
                .unwrap();
        }
    }
    let dashboard = match c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("[data-testid=dashboard]"))
        .await
    {
        Ok(d) => d,
        Err(e) => panic!(
            "no [data-testid=dashboard] after logging in ({e})\n{}",
            evidence(c, "dashboard-missing").await
        ),
    };
    let dash_text = dashboard.text().await.unwrap_or_default();
    if !dash_text.contains(AGENCY_NAME) {
        panic!(
            "the dashboard does not show the agency name {AGENCY_NAME:?}; its text:\n{dash_text}\n{}",
            evidence(c, "dashboard-without-name").await
        );
    }
    let url = c.current_url().await.unwrap();
    assert_ne!(
        url.path(),
        "/login",
        "still on the login page after logging in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn login_then_dashboard_in_headless_chromium() {
    browser_test("browser-login", |h| async move {
        let c = h.session("desktop", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        let png = c.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(h.dir.path().join("dashboard.png"), &png).unwrap();
        let kept = screenshot_dir().join("dashboard.png");
        std::fs::write(&kept, &png).unwrap();
        eprintln!("dashboard screenshot: {}", kept.display());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn client_onboards_on_a_phone_then_the_team_verifies() {
    browser_test("browser-phone", |h| async move {
        // 1. The team sets the client up through the API.
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Harbor Fitness"})),
                201,
            )
            .await;
        let id = client["id"].as_str().expect("client id").to_string();
        h.api_ok(
            Method::POST,
            &format!("/api/v1/clients/{id}/events"),
            Some(json!({"type": "contract_signed"})),
            201,
        )
        .await;
        let link = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/clients/{id}/onboarding-links"),
                Some(json!({"requests": [
                    {"platform": "meta_page"},
                    {"platform": "ga4", "permission": "analyst"},
                ]})),
                201,
            )
            .await;
        let url = link["url"].as_str().expect("link url").to_string();
        let token = url
            .strip_prefix(&format!("{}/o/", h.base))
            .unwrap_or_else(|| panic!("the link {url:?} is not under {}/o/", h.base))
            .to_string();
        let rids: Vec<String> = link["requests"]
            .as_array()
            .expect("link requests")
            .iter()
            .map(|r| r["id"].as_str().expect("request id").to_string())
            .collect();
        assert_eq!(rids.len(), 2, "two requests on the link: {link}");

        // 2. The client opens the link on a phone: the welcome page.
        let c = h.session("phone", PHONE).await;
        c.goto(&url).await.expect("open the onboarding link");
        let title = find(&c, "#welcome-title", "phone-welcome").await;
        let title = title.text().await.unwrap_or_default();
        check!(
            &c,
            "phone-welcome",
            title.contains(AGENCY_NAME) && title.contains("Harbor Fitness"),
            "the welcome heading does not name {AGENCY_NAME:?} and the client: {title:?}"
        );
        wait_text(&c, "header.band", AGENCY_NAME, "phone-welcome").await;
        let viewport = js(
            &c,
            "return [window.innerWidth, window.devicePixelRatio];",
            "phone-welcome",
        )
        .await;
        eprintln!("phone viewport: innerWidth, devicePixelRatio = {viewport}");
        check!(
            &c,
            "phone-welcome",
            viewport[0].as_i64() == Some(i64::from(PHONE.width)),
            "the phone window is {} CSS pixels wide, not {}",
            viewport[0],
            PHONE.width
        );
        check_no_horizontal_scroll(&c, "phone-welcome").await;
        click(
            &c,
            "form[action$=\"/open\"] button[type=submit]",
            "phone-welcome",
        )
        .await;

        // 3. The steps page: both requests marked granted.
        wait_text(&c, ".progress", "", "phone-steps").await;
        let here = c.current_url().await.unwrap();
        check!(
            &c,
            "phone-steps",
            here.path() == format!("/o/{token}/steps"),
            "Continue led to {here}, not the steps page"
        );
        wait_text(&c, ".progress", "0 of 2 done", "phone-steps").await;
        for rid in &rids {
            click(
                &c,
                &format!(
                    "#req-{rid} form[action$=\"/requests/{rid}/granted\"] button[type=submit]"
                ),
                "phone-grant",
            )
            .await;
            wait_text(
                &c,
                &format!("#req-{rid} .status.s-granted"),
                "",
                "phone-grant",
            )
            .await;
            wait_text(&c, ".notice", "Thank you", "phone-grant").await;
        }
        wait_text(&c, ".progress", "2 of 2 done", "phone-grant").await;

        // 4. A brand-kit file.
        let png_path = h.dir.path().join("harbor-logo.png");
        std::fs::write(&png_path, TINY_PNG).unwrap();
        let input = find(&c, "#file", "phone-upload").await;
        if let Err(e) = input.send_keys(&png_path.display().to_string()).await {
            fail!(&c, "phone-upload", "cannot choose the file: {e}");
        }
        click(
            &c,
            "form[action$=\"/files\"] button[type=submit]",
            "phone-upload",
        )
        .await;
        wait_text(&c, ".notice", "Your file was uploaded", "phone-upload").await;
        let files = wait_text(&c, "#files ul", "harbor-logo.png", "phone-upload").await;
        check!(
            &c,
            "phone-upload",
            files.contains("67 bytes"),
            "the uploaded file's size is not shown as 67 bytes: {files:?}"
        );

        // 5. The questionnaire, with markup that must stay text.
        let answer = "Dana Reyes <b>Dana</b> dana@harborfitness.test";
        let approver = find(&c, "#questions input[name=q_approver]", "phone-answers").await;
        approver.clear().await.ok();
        if let Err(e) = approver.send_keys(answer).await {
            fail!(&c, "phone-answers", "cannot type the answer: {e}");
        }
        click(
            &c,
            "form[action$=\"/answers\"] button[type=submit]",
            "phone-answers",
        )
        .await;
        wait_text(&c, ".notice", "Your answers were saved", "phone-answers").await;
        let shown = js(
            &c,
            "const i = document.querySelector('#questions [name=q_approver]'); \
             return [i ? i.value : null, document.querySelectorAll('#questions b').length];",
            "phone-answers",
        )
        .await;
        check!(
            &c,
            "phone-answers",
            shown[0].as_str() == Some(answer) && shown[1].as_i64() == Some(0),
            "the saved answer is not shown literally: [value, <b> elements] = {shown}"
        );
        check_no_horizontal_scroll(&c, "phone-steps-done").await;

        // 6. The phone page as the client sees it.
        let kept = keep_screenshot(&c, "portal-phone").await;
        eprintln!("phone screenshot: {}", kept.display());

        // 7. The team checks the access and sees the KPI.
        let t = h.session("team", DESKTOP).await;
        login_to_dashboard(&t, &h.base, &h.email, &h.password).await;
        t.goto(&format!("{}/clients/{id}", h.base))
            .await
            .expect("open the client page");
        find(&t, "#access", "team-client").await;
        let intake = wait_text(&t, "#intake", "harbor-logo.png", "team-client").await;
        check!(
            &t,
            "team-client",
            intake.contains("<b>Dana</b>"),
            "the intake answer is not shown literally on the client page: {intake:?}"
        );
        for rid in &rids {
            let summary = format!("#req-{rid} details.disclosure > summary");
            click(&t, &summary, "team-verify").await;
            let note = find(&t, &format!("#verify-{rid}"), "team-verify").await;
            if let Err(e) = note
                .send_keys("Checked in the platform: our agency account has the access.")
                .await
            {
                fail!(&t, "team-verify", "cannot type the note: {e}");
            }
            click(
                &t,
                &format!("form[action=\"/clients/{id}/access/{rid}/verify\"] button[type=submit]"),
                "team-verify",
            )
            .await;
            wait_text(&t, &format!("#req-{rid}"), "Verified by", "team-verify").await;
        }
        let kpi = wait_text(
            &t,
            "[data-testid=access-kpi]",
            "Time to verified access",
            "team-kpi",
        )
        .await;
        check!(
            &t,
            "team-kpi",
            kpi.trim_start().starts_with("Time to verified access"),
            "the KPI line does not begin with \"Time to verified access\": {kpi:?}"
        );
        let kpis = h
            .api_ok(
                Method::GET,
                &format!("/api/v1/clients/{id}/kpis"),
                None,
                200,
            )
            .await;
        assert!(
            kpis["time_to_verified_access_seconds"].is_i64(),
            "no time_to_verified_access_seconds after both verifications: {kpis}"
        );
        assert_eq!(kpis["access_verified"], json!(2), "kpis: {kpis}");
        let kept = keep_screenshot(&t, "team-client-verified").await;
        eprintln!("team screenshot: {}", kept.display());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn traffic_control_view_shows_breached_runs() {
    browser_test("browser-traffic", |h| async move {
        // 1. A client and a run of access setup started 100 hours ago: its
        //    72-hour limit has passed, so it starts breached.
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Beacon Bakery"})),
                201,
            )
            .await;
        let id = client["id"].as_str().expect("client id").to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let started_at = baton_core::clock::rfc3339(now - 100 * 3_600_000);
        let run = h
            .api_ok(
                Method::POST,
                "/api/v1/sop-runs",
                Some(json!({"sop": "access_setup", "client": id, "started_at": started_at})),
                201,
            )
            .await;
        let run_id = run["id"].as_str().expect("run id").to_string();
        assert_eq!(run["status"], json!("breached"), "back-dated run: {run}");

        // 2. The team opens traffic control: the run is there, breached,
        //    with its client's name.
        let c = h.session("traffic", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        c.goto(&format!("{}/traffic", h.base))
            .await
            .expect("open /traffic");
        find(&c, "[data-testid=traffic]", "traffic").await;
        let line_css = format!("[data-testid=traffic-late] #line-{run_id}");
        let line = wait_text(&c, &line_css, "Beacon Bakery", "traffic").await;
        check!(
            &c,
            "traffic",
            line.contains("Access and permissions setup") && line.contains("overdue"),
            "the late line does not name the SOP and how overdue it is: {line:?}"
        );
        let badge = find(&c, &format!("{line_css} .badge-danger"), "traffic").await;
        let badge = badge.text().await.unwrap_or_default();
        check!(
            &c,
            "traffic",
            badge.trim() == "Breached",
            "the run's badge reads {badge:?}, not \"Breached\""
        );
        let status = js(
            &c,
            &format!("return document.getElementById('line-{run_id}').dataset.status;"),
            "traffic",
        )
        .await;
        check!(
            &c,
            "traffic",
            status == json!("breached"),
            "the line's data-status is {status}"
        );
        let kept = keep_screenshot(&c, "traffic-control").await;
        eprintln!("traffic screenshot: {}", kept.display());

        // 3. Its link opens the client's runs page at the run.
        click(&c, &format!("{line_css} a.client-name"), "traffic-link").await;
        find(&c, "[data-testid=client-runs]", "client-runs").await;
        let here = c.current_url().await.unwrap();
        check!(
            &c,
            "client-runs",
            here.path() == format!("/clients/{id}/runs")
                && here.fragment() == Some(format!("run-{run_id}").as_str()),
            "the traffic line led to {here}, not the client's runs page at the run"
        );
        let card = wait_text(&c, &format!("#run-{run_id}"), "Breached", "client-runs").await;
        check!(
            &c,
            "client-runs",
            card.contains("Access and permissions setup") && card.contains("Complete"),
            "the run's card on the client's runs page: {card:?}"
        );
        let title = find(&c, "h1", "client-runs").await;
        let title = title.text().await.unwrap_or_default();
        check!(
            &c,
            "client-runs",
            title.contains("Beacon Bakery"),
            "the runs page is not the client's: {title:?}"
        );
        let kept = keep_screenshot(&c, "client-runs").await;
        eprintln!("client runs screenshot: {}", kept.display());
    })
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn client_approves_content_on_a_phone() {
    browser_test("browser-approval", |h| async move {
        // 1. The team prepares an item whose approver is the client, with a
        //    draft in review, and makes the client's approval link.
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Harbor Fitness"})),
                201,
            )
            .await;
        let cid = client["id"].as_str().expect("client id").to_string();
        let item = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/clients/{cid}/content"),
                Some(json!({"title": "Spring launch reel", "channel": "instagram", "format": "reel"})),
                201,
            )
            .await;
        let id = item["id"].as_str().expect("content id").to_string();
        h.api_ok(
            Method::PUT,
            &format!("/api/v1/content/{id}/participants"),
            Some(json!({"approvers": ["client"]})),
            200,
        )
        .await;
        h.api_ok(
            Method::POST,
            &format!("/api/v1/content/{id}/versions"),
            Some(json!({"url": "https://cdn.example.com/reel-v1.mp4"})),
            201,
        )
        .await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/submit"), None, 200)
            .await;
        let link = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/content/{id}/approval-link"),
                None,
                201,
            )
            .await;
        let url = link["url"].as_str().expect("approval url").to_string();

        // 2. The client opens it on a phone, reads the draft, approves.
        let c = h.session("approval-phone", PHONE).await;
        c.goto(&url).await.expect("open the approval link");
        let title = find(&c, "#approval-title", "approval").await;
        let title = title.text().await.unwrap_or_default();
        check!(
            &c,
            "approval",
            title.contains("Spring launch reel"),
            "the page is not the item's: {title:?}"
        );
        wait_text(&c, "header.band", AGENCY_NAME, "approval").await;
        check_no_horizontal_scroll(&c, "approval").await;
        find(&c, "#name", "approval")
            .await
            .send_keys("Dana Ruiz")
            .await
            .expect("type the name");
        click(&c, "input[name=decision][value=approve]", "approval").await;
        click(&c, "form[action$=\"/decision\"] button[type=submit]", "approval").await;
        wait_text(&c, "p.notice", "approval is recorded", "approval-done").await;
        let kept = keep_screenshot(&c, "client-approval").await;
        eprintln!("approval screenshot: {}", kept.display());

        // 3. The item is approved, the client named in its discussion.
        let (_, got) = h.api(Method::GET, &format!("/api/v1/content/{id}"), None).await;
        assert_eq!(got["status"], json!("approved"), "{got}");
        let who = got["discussion"][0]["author"].as_str().unwrap_or_default().to_string();
        assert!(who.contains("Dana Ruiz"), "{got}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn no_page_scrolls_sideways_on_a_390_px_phone() {
    browser_test("browser-narrow", |h| async move {
        // 1. Data that makes pages wide: a long client name with an access
        //    link (the access table), a content item whose version name is
        //    one long word, a run, and an invited member.
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Harbor Fitness International Holdings Group"})),
                201,
            )
            .await;
        let id = client["id"].as_str().expect("client id").to_string();
        h.api_ok(
            Method::POST,
            &format!("/api/v1/clients/{id}/events"),
            Some(json!({"type": "contract_signed"})),
            201,
        )
        .await;
        h.api_ok(
            Method::POST,
            &format!("/api/v1/clients/{id}/onboarding-links"),
            Some(json!({"contact_email": "dana.reyes-ortiz@harborfitness-international.example", "requests": [
                {"platform": "meta_page", "asset": "Harbor Fitness International Holdings Group Official"},
                {"platform": "ga4", "permission": "analyst"},
            ]})),
            201,
        )
        .await;
        let item = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/clients/{id}/content"),
                Some(json!({
                    "title": "Spring launch reel for the national rollout",
                    "channel": "instagram",
                    "format": "reel",
                    "campaign": "springlaunchnationalrolloutphasetwo2026",
                })),
                201,
            )
            .await;
        let cid = item["id"].as_str().expect("content id").to_string();
        let version = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/content/{cid}/versions"),
                Some(json!({"url": "https://cdn.example.com/harbor-fitness-international-holdings-group/spring-launch-national-rollout-phase-two-2026/reel-v1-final-final.mp4"})),
                201,
            )
            .await;
        // 60 characters without a hyphen or space to break at: ~500 px of
        // monospace on the item's page.
        let name = version["name"].as_str().unwrap_or_default().to_string();
        assert!(
            name.ends_with("gr_springlaunchnationalrolloutphasetwo2026_instagram_reel_v1"),
            "the version name: {version}"
        );
        h.api_ok(
            Method::POST,
            "/api/v1/sop-runs",
            Some(json!({"sop": "access_setup", "client": id})),
            201,
        )
        .await;
        let invited = h
            .api_ok(
                Method::POST,
                "/api/v1/members",
                Some(json!({"email": "jo.newhire@lighthouse.test", "name": "Jo Newhire", "roles": ["designer"]})),
                201,
            )
            .await;
        let invite = invited["invite_url"]
            .as_str()
            .expect("invite_url")
            .to_string();

        // 2. Every main page on a phone, logged in.
        let c = h.session("narrow", PHONE).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        let pages = [
            "/".to_string(),
            format!("/clients/{id}"),
            format!("/content/{cid}"),
            "/settings/templates".to_string(),
            "/account".to_string(),
            "/clients/new".to_string(),
            format!("/clients/{id}/content"),
            format!("/clients/{id}/runs"),
            format!("/clients/{id}/handoff"),
            format!("/clients/{id}/handoff/edit"),
            format!("/clients/{id}/decides"),
            "/content".to_string(),
            "/content/calendar".to_string(),
            "/content/calendar?week=2026-W48".to_string(),
            "/content/metrics".to_string(),
            "/kpis".to_string(),
            "/kpis/definitions".to_string(),
            "/scorecard".to_string(),
            "/cadences".to_string(),
            "/access".to_string(),
            "/access/held".to_string(),
            "/my-work".to_string(),
            "/traffic".to_string(),
            "/team".to_string(),
            "/roles".to_string(),
            "/sops".to_string(),
            "/sops/access_setup".to_string(),
            "/settings".to_string(),
            "/settings/onboarding".to_string(),
            "/settings/platforms".to_string(),
            "/settings/calendar".to_string(),
            // An error page.
            "/clients/cli_nope".to_string(),
        ];
        // What sticks out past the right edge, for the failure message.
        let measure = "var w = 390, out = []; \
            document.querySelectorAll('body *').forEach(function (e) { \
              var r = e.getBoundingClientRect(); \
              if (r.width > 0 && r.right > w + 0.5) { \
                var c = typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : ''; \
                out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + c + ' → ' + Math.round(r.right)); } }); \
            return [document.documentElement.scrollWidth, out.slice(0, 6)];";
        let mut wide = Vec::new();
        // The new member opens the invite on their own phone, not logged in.
        let guest = h.session("narrow-invite", PHONE).await;
        let logged_out = ["/login", invite.as_str()];
        for path in pages.iter().map(String::as_str).chain(logged_out) {
            let is_invite = path == invite.as_str();
            let (session, url) = if is_invite {
                (guest.clone(), invite.clone())
            } else if logged_out.contains(&path) {
                (guest.clone(), format!("{}{path}", h.base))
            } else {
                (c.clone(), format!("{}{path}", h.base))
            };
            session
                .goto(&url)
                .await
                .unwrap_or_else(|e| panic!("open {path}: {e}"));
            find(&session, "main h1", &format!("narrow{}", path.replace('/', "_"))).await;
            let v = js(&session, measure, "narrow").await;
            let scroll = v[0].as_i64().unwrap_or(-1);
            let shown = if is_invite { "/invite/{token}" } else { path };
            if is_invite || path == "/account" {
                // The username for password managers is there, and takes no room.
                let field = js(
                    &session,
                    "var i = document.querySelector('input[autocomplete=username]'); \
                     return i ? [i.value, i.getBoundingClientRect().width] : null;",
                    "narrow",
                )
                .await;
                check!(
                    &session,
                    "narrow",
                    field[0].as_str().is_some_and(|v| v.contains('@'))
                        && field[1].as_f64().is_some_and(|w| w <= 1.0),
                    "{shown}: the hidden username field is missing or takes room: {field}"
                );
            }
            eprintln!("{shown}: scrollWidth {scroll}");
            if !(0..=i64::from(PHONE.width)).contains(&scroll) {
                keep_screenshot(&session, &format!("narrow{}", shown.replace(['/', '{', '}', '?', '='], "_"))).await;
                wide.push(format!("{shown}: scrollWidth {scroll}, sticking out: {}", v[1]));
            }
        }
        check!(
            &c,
            "narrow",
            wide.is_empty(),
            "pages scroll sideways at {} px:\n{}",
            PHONE.width,
            wide.join("\n")
        );
    })
    .await;
}

/// The number of items the API lists at `path` (a page of up to 200).
async fn count_items(h: &Harness, path: &str) -> usize {
    let (status, body) = h.api(Method::GET, path, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body["items"].as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn reload_back_and_double_submits_create_nothing_twice() {
    browser_test("browser-once", |h| async move {
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Globex"})),
                201,
            )
            .await;
        let id = client["id"].as_str().expect("client id").to_string();
        let c = h.session("once", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;

        // 1. Create a link on the client's page: its URL is shown once.
        c.goto(&format!("{}/clients/{id}", h.base)).await.unwrap();
        click(&c, "input[name=platform][value=meta_page]", "link-form").await;
        click(
            &c,
            "form[action$=\"/links\"] button[type=submit]",
            "link-form",
        )
        .await;
        wait_text(&c, "body", "Copy this link now", "link-created").await;
        let answer = c.current_url().await.unwrap();
        check!(
            &c,
            "link-created",
            answer.path() == format!("/clients/{id}")
                && answer.query().is_some_and(|q| q.contains("flash=")),
            "the answer is not a GET of the client page: {answer}"
        );
        let links = format!("/api/v1/clients/{id}/onboarding-links");
        let requests = format!("/api/v1/clients/{id}/access-requests");
        assert_eq!(count_items(&h, &links).await, 1);
        // 2. Reload and Back: nothing is posted again.
        c.refresh().await.unwrap();
        find(&c, "h1", "reloaded").await;
        let reloaded = js(&c, "return document.body.innerText;", "reloaded").await;
        check!(
            &c,
            "reloaded",
            !reloaded
                .as_str()
                .unwrap_or("")
                .contains("Copy this link now"),
            "the reload shows the one-time URL again"
        );
        c.back().await.unwrap();
        find(&c, "h1", "back").await;
        assert_eq!(
            count_items(&h, &links).await,
            1,
            "one link after reload and Back"
        );
        assert_eq!(count_items(&h, &requests).await, 1, "one request");

        // 3. Two simultaneous submits of one "New client" form: one client.
        c.goto(&format!("{}/clients/new", h.base)).await.unwrap();
        find(
            &c,
            "form[action=\"/clients\"] input[name=name]",
            "new-client",
        )
        .await
        .send_keys("Twice Clicked Co")
        .await
        .unwrap();
        let statuses = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const form = document.querySelector('form[action=\"/clients\"]');
                 const body = () => new URLSearchParams(new FormData(form));
                 Promise.all([1, 2].map(() => fetch(form.action, {method: 'POST', body: body()})))
                   .then(rs => done(rs.map(r => r.status + ' ' + r.url)));",
                vec![],
            )
            .await
            .expect("two submits at once");
        eprintln!("two submits answered: {statuses}");
        let (_, all) = h.api(Method::GET, "/api/v1/clients?limit=50", None).await;
        let twice = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] == "Twice Clicked Co")
            .count();
        assert_eq!(
            twice, 1,
            "two submits of one form made {twice} clients: {statuses}"
        );
        let urls: Vec<&str> = statuses
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(
            urls.iter()
                .all(|u| u.starts_with("200 ") && u.contains("/clients/cli_"))
                && urls[0] == urls[1],
            "both submits land on the one new client's page: {urls:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn contract_ended_from_won_asks_first_and_is_corrected_with_everything_back() {
    browser_test("browser-reopen", |h| async move {
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Beacon Bakery"})),
                201,
            )
            .await;
        let id = client["id"].as_str().expect("client id").to_string();
        h.api_ok(
            Method::POST,
            &format!("/api/v1/clients/{id}/onboarding-links"),
            Some(json!({"requests": [{"platform": "meta_page"}, {"platform": "instagram"}]})),
            201,
        )
        .await;
        let c = h.session("reopen", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        c.goto(&format!("{}/clients/{id}", h.base)).await.unwrap();
        find(&c, "select[name=type]", "event-form")
            .await
            .select_by_value("contract_ended")
            .await
            .unwrap();
        click(
            &c,
            "form[action$=\"/events\"] button[type=submit]",
            "event-form",
        )
        .await;
        // 1. It asks first, saying what will happen; nothing moved yet.
        let page = wait_text(&c, "[data-testid=move-confirm]", "withdraw", "confirm").await;
        check!(
            &c,
            "confirm",
            page.contains("skip Onboarding and Active")
                && page.contains("withdraw 2 access requests"),
            "the confirmation does not say what happens: {page:?}"
        );
        let (_, now) = h
            .api(Method::GET, &format!("/api/v1/clients/{id}"), None)
            .await;
        assert_eq!(
            now["lifecycle"], "won",
            "nothing moves before the confirmation"
        );
        click(
            &c,
            "[data-testid=move-confirm] button[type=submit]",
            "confirm",
        )
        .await;
        wait_text(&c, ".badge-stage", "Offboarding", "moved").await;
        let (_, reqs) = h
            .api(
                Method::GET,
                &format!("/api/v1/clients/{id}/access-requests"),
                None,
            )
            .await;
        assert!(
            reqs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["withdrawn"] == true),
            "{reqs}"
        );
        // 2. The admin corrects it, with a reason: back to Won, requests back.
        find(
            &c,
            "[data-testid=correct-move] textarea[name=note]",
            "correct",
        )
        .await
        .send_keys("Ended the wrong client's contract")
        .await
        .unwrap();
        click(
            &c,
            "[data-testid=correct-move] button[type=submit]",
            "correct",
        )
        .await;
        wait_text(&c, ".badge-stage", "Won", "corrected").await;
        wait_text(&c, "body", "Last move corrected", "corrected").await;
        let (_, reqs) = h
            .api(
                Method::GET,
                &format!("/api/v1/clients/{id}/access-requests"),
                None,
            )
            .await;
        assert!(
            reqs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "requested"),
            "the withdrawn requests come back: {reqs}"
        );
        let kept = keep_screenshot(&c, "move-corrected").await;
        eprintln!("corrected screenshot: {}", kept.display());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn runs_close_with_the_content_approval_stays_narrow_and_the_client_sees_only_its_part() {
    browser_test("browser-content", |h| async move {
        let client = h
            .api_ok(Method::POST, "/api/v1/clients", Some(json!({"name": "Harbor Fitness"})), 201)
            .await;
        let cid = client["id"].as_str().expect("client id").to_string();
        // A reviewer who joins through the invite.
        let invited = h
            .api_ok(
                Method::POST,
                "/api/v1/members",
                Some(json!({"email": "jo.newhire@lighthouse.test", "name": "Jo Newhire", "roles": ["designer"]})),
                201,
            )
            .await;
        let jo = invited["id"].as_str().unwrap().to_string();
        let invite = invited["invite_url"].as_str().expect("invite_url").to_string();
        let owner = h.api_ok(Method::GET, "/api/v1/me", None, 200).await;
        let owner = owner["id"].as_str().unwrap().to_string();
        let item = h
            .api_ok(
                Method::POST,
                &format!("/api/v1/clients/{cid}/content"),
                Some(json!({"title": "Spring launch reel", "channel": "instagram", "format": "reel",
                    "caption": "Spring is here. Your first month is on us.",
                    "brief": {"audience": "Runners", "angle": "Mornings", "offer": "First month free",
                              "constraints": "No before/after", "examples": "https://example.com/ref"}})),
                201,
            )
            .await;
        let id = item["id"].as_str().expect("content id").to_string();
        h.api_ok(
            Method::PUT,
            &format!("/api/v1/content/{id}/participants"),
            Some(json!({"reviewers": [jo], "approvers": [owner, "client"]})),
            200,
        )
        .await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/versions"), Some(json!({"url": "https://cdn.example.com/reel-v1.mp4"})), 201).await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/submit"), None, 200).await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/comments"), Some(json!({"body": "INTERNAL: the hook drags"})), 201).await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/comments"), Some(json!({"body": "We shortened the intro for you", "for_client": true})), 201).await;

        // 1. The reviewer cannot make himself an approver.
        let jo_c = h.session("reviewer", DESKTOP).await;
        jo_c.goto(&invite).await.unwrap();
        find(&jo_c, "#invite-password", "invite").await.send_keys("a long enough password").await.unwrap();
        find(&jo_c, "#invite-password2", "invite").await.send_keys("a long enough password").await.unwrap();
        click(&jo_c, "form button[type=submit]", "invite").await;
        find(&jo_c, "[data-testid=dashboard]", "invite-done").await;
        jo_c.goto(&format!("{}/content/{id}", h.base)).await.unwrap();
        let rule = wait_text(&jo_c, "[data-testid=participants-rule]", "", "reviewer").await;
        check!(&jo_c, "reviewer", rule.contains("Only the account lead, traffic control or an admin"), "the rule: {rule:?}");
        let forged = jo_c
            .execute_async(
                &format!(
                    "const done = arguments[arguments.length - 1];
                     const csrf = document.querySelector('input[name=csrf]').value;
                     const body = new URLSearchParams({{csrf, reviewers: '', approvers: '{jo}'}});
                     fetch('/content/{id}/participants', {{method: 'POST', body}}).then(r => done(r.status));"
                ),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(forged, json!(403), "a forged change is refused");
        let got = h.api_ok(Method::GET, &format!("/api/v1/content/{id}"), None, 200).await;
        assert!(!got["approvers"].as_array().unwrap().contains(&json!(jo)), "{got}");
        let approve_buttons = js(&jo_c, "return document.querySelectorAll('input[name=decision][value=approve]').length;", "reviewer").await;
        assert_eq!(approve_buttons, json!(0), "the reviewer has no Approve button");

        // 2. The client's approval page: caption and the comment for them,
        //    never the internal one or the file-naming headline.
        let link = h.api_ok(Method::POST, &format!("/api/v1/content/{id}/approval-link"), None, 201).await;
        let url = link["url"].as_str().unwrap().to_string();
        let phone = h.session("client-approval", PHONE).await;
        phone.goto(&url).await.unwrap();
        let caption = wait_text(&phone, "[data-testid=caption]", "first month", "client-page").await;
        assert!(caption.contains("Spring is here."));
        let text = js(&phone, "return document.body.innerText;", "client-page").await;
        let text = text.as_str().unwrap_or_default().to_string();
        check!(&phone, "client-page", text.contains("We shortened the intro for you"), "the comment for the client is missing");
        check!(&phone, "client-page", !text.contains("INTERNAL"), "an internal comment reached the client");
        check!(&phone, "client-page", !text.contains("_reel_v1"), "the naming headline reached the client");
        check_no_horizontal_scroll(&phone, "client-page").await;
        find(&phone, "#name", "client-page").await.send_keys("Dana Ruiz").await.unwrap();
        click(&phone, "input[name=decision][value=approve]", "client-page").await;
        click(&phone, "form[action$=\"/decision\"] button[type=submit]", "client-page").await;
        wait_text(&phone, "p.notice", "approval is recorded", "client-approved").await;
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/decisions"), Some(json!({"decision": "approve"})), 200).await;

        // 3. QA and schedule: no run about the item is left open.
        let qa = h.api_ok(Method::GET, &format!("/api/v1/content/{id}/qa"), None, 200).await;
        let all: serde_json::Map<String, Value> = qa["items"].as_array().unwrap().iter()
            .map(|i| (i["key"].as_str().unwrap().to_string(), json!(true))).collect();
        h.api_ok(Method::PUT, &format!("/api/v1/content/{id}/qa"), Some(json!({"items": all})), 200).await;
        let when = baton_core::clock::rfc3339(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 7 * 86_400_000,
        );
        h.api_ok(Method::POST, &format!("/api/v1/content/{id}/schedule"), Some(json!({"publish_at": when})), 200).await;
        // The SOP triggers run from the outbox within a second or two.
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let (_, runs) = h.api(Method::GET, &format!("/api/v1/sop-runs?client={cid}&limit=50"), None).await;
            let items = runs["items"].as_array().cloned().unwrap_or_default();
            let has_qa = items.iter().any(|r| r["sop_key"] == "publishing_qa");
            let open: Vec<&Value> = items.iter().filter(|r| r["done_at"].is_null() && r["cancelled_at"].is_null()).collect();
            if has_qa && open.is_empty() {
                assert!(items.iter().all(|r| r["subject"]["id"] == json!(id)), "{runs}");
                break;
            }
            assert!(Instant::now() < deadline, "runs still open after scheduling: {open:?}");
            // The server's outbox runs in its own process: polled until the deadline.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let c = h.session("team", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        c.goto(&format!("{}/clients/{cid}/runs", h.base)).await.unwrap();
        let head = wait_text(&c, "[data-testid=client-runs]", "0 open", "runs").await;
        check!(&c, "runs", head.contains("Spring launch reel"), "the runs name their item");
        let kept = keep_screenshot(&c, "content-runs-closed").await;
        eprintln!("runs screenshot: {}", kept.display());
    })
    .await;
}

/// Issue 14's check: on a 390 px phone, "Report incident" in the top bar,
/// four fields and one button report an incident in well under a minute of
/// clicks; the incident page shows the running 24/7 triage clock.
#[tokio::test]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn an_incident_is_reported_from_a_phone_in_a_few_taps() {
    browser_test("browser-incident", |h| async move {
        let c = h.session("incident-phone", PHONE).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        let started = std::time::Instant::now();
        click(&c, "[data-testid=report-incident]", "incident-topbar").await;
        find(&c, "[data-testid=report-form]", "incident-form").await;
        check_no_horizontal_scroll(&c, "incident-form").await;
        find(&c, "#incident-title", "incident-title")
            .await
            .send_keys("Wrong link in the live story")
            .await
            .unwrap();
        click(&c, "input[name=severity][value=sev2]", "incident-severity").await;
        find(&c, "#incident-source", "incident-source")
            .await
            .select_by_value("publishing_error")
            .await
            .unwrap();
        click(
            &c,
            "[data-testid=report-form] button[type=submit]",
            "incident-submit",
        )
        .await;
        let clock = wait_text(
            &c,
            "[data-testid=triage-clock]",
            "Triage due",
            "incident-page",
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "reporting took {:?}",
            started.elapsed()
        );
        assert!(clock.contains("Triage due"), "{clock}");
        let status = find(&c, "[data-testid=incident-status]", "incident-status")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(status.trim(), "Reported");
        check_no_horizontal_scroll(&c, "incident-page").await;
        let list = h.api_ok(Method::GET, "/api/v1/incidents", None, 200).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["severity"], "sev2");
        assert_eq!(items[0]["source"], "publishing_error");
        assert_eq!(items[0]["status"], "reported");
    })
    .await;
}

/// The weekly performance review from the web app: ship this week's
/// scorecard with three insights and three actions, see the week's
/// `weekly_performance` run of the active client complete, and find the
/// actions on the owner's My work, where "Mark done" takes one off.
#[tokio::test]
async fn a_week_ships_from_the_scorecard_and_its_actions_reach_my_work() {
    browser_test("browser-scorecard", |h| async move {
        let client = h
            .api_ok(
                Method::POST,
                "/api/v1/clients",
                Some(json!({"name": "Harbor Fitness"})),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for e in ["contract_signed", "onboarding_completed"] {
            h.api_ok(
                Method::POST,
                &format!("/api/v1/clients/{client}/events"),
                Some(json!({"type": e})),
                201,
            )
            .await;
        }
        let me = h.api_ok(Method::GET, "/api/v1/me", None, 200).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let c = h.session("scorecard", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;
        // The dashboard's trend charts are inline SVG.
        find(&c, "[data-testid=kpi-trends] svg.trend-chart", "dashboard-trends").await;
        c.goto(&format!("{}/scorecard", h.base)).await.unwrap();
        find(&c, "[data-testid=ship-form]", "ship-form").await;
        for i in 1..=3 {
            find(&c, &format!("#insight-{i}"), "insight")
                .await
                .send_keys(&format!("Insight number {i}"))
                .await
                .unwrap();
            find(&c, &format!("#action-{i}-text"), "action")
                .await
                .send_keys(&format!("Action number {i}"))
                .await
                .unwrap();
            find(&c, &format!("#action-{i}-owner"), "owner")
                .await
                .select_by_value(&me)
                .await
                .unwrap();
        }
        // Due in a week (a date input's typing depends on the locale).
        js(
            &c,
            "var d = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10); \
             for (var i = 1; i <= 3; i++) { document.getElementById('action-' + i + '-due').value = d; } \
             return d;",
            "due-dates",
        )
        .await;
        click(
            &c,
            "[data-testid=ship-form] button[type=submit]",
            "ship-submit",
        )
        .await;
        let shipped = wait_text(
            &c,
            "[data-testid=scorecard-shipped]",
            "Three insights",
            "shipped",
        )
        .await;
        assert!(shipped.contains("Insight number 2"), "{shipped}");
        assert!(shipped.contains("1 weekly performance run done"), "{shipped}");
        let runs = h
            .api_ok(Method::GET, "/api/v1/sop-runs?limit=200", None, 200)
            .await;
        let weekly: Vec<&Value> = runs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["sop_key"] == "weekly_performance" && r["client_id"] == client.as_str())
            .collect();
        assert_eq!(weekly.len(), 1, "{runs}");
        assert_eq!(weekly[0]["status"], "done", "{}", weekly[0]);

        c.goto(&format!("{}/my-work", h.base)).await.unwrap();
        find(&c, "[data-testid=scorecard-actions]", "my-work-actions").await;
        let n = c
            .find_all(Locator::Css("[data-testid=scorecard-action]"))
            .await
            .unwrap()
            .len();
        assert_eq!(n, 3);
        click(
            &c,
            "[data-testid=scorecard-action] button[type=submit]",
            "mark-done",
        )
        .await;
        wait_text(&c, ".notice", "Action marked done", "action-done").await;
        let n = c
            .find_all(Locator::Css("[data-testid=scorecard-action]"))
            .await
            .unwrap()
            .len();
        assert_eq!(n, 2);
        let open = h
            .api_ok(Method::GET, "/api/v1/actions?open=true", None, 200)
            .await;
        assert_eq!(open["items"].as_array().unwrap().len(), 2);
    })
    .await;
}

/// A local webhook receiver for the browser: answers every POST with the
/// status it is set to and counts the requests (plain HTTP/1.1 over tokio,
/// one request per connection).
struct TinyReceiver {
    url: String,
    status: Arc<std::sync::atomic::AtomicU16>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl TinyReceiver {
    async fn start(status: u16) -> TinyReceiver {
        use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(AtomicU16::new(status));
        let hits = Arc::new(AtomicUsize::new(0));
        let (a, n) = (answer.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (a, n) = (a.clone(), n.clone());
                tokio::spawn(async move {
                    // The head, then as many body bytes as it announces.
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let body_start = loop {
                        let Ok(k) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if k == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..body_start]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < body_start + length {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    n.fetch_add(1, Ordering::SeqCst);
                    let status = a.load(Ordering::SeqCst);
                    let body = format!("receiver says {status}");
                    let reply = format!(
                        "HTTP/1.1 {status} Status\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        TinyReceiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            status: answer,
            hits,
        }
    }

    fn answer(&self, status: u16) {
        self.status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Reloads the page until `css` is on it (the server's delivery loop works
/// on its own time); fails with the page's evidence after [`PAGE_WAIT`].
async fn reload_until(c: &Client, css: &str, name: &str) -> Element {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            return e;
        }
        if Instant::now() >= deadline {
            fail!(
                c,
                name,
                "{css} never appeared within {PAGE_WAIT:?} of reloads"
            );
        }
        // Deliveries happen in the server's background loop: polled until
        // PAGE_WAIT.
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Err(e) = c.refresh().await {
            fail!(c, name, "cannot reload: {e}");
        }
    }
}

/// Settings → Integrations: an admin adds a webhook to a receiver that
/// answers 500, an event happens, and the webhook's delivery log shows the
/// failed attempt; with the receiver fixed, Retry sends it again and the
/// log shows it succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(baton_browser),
    ignore = "chromedriver not found: apt-get install chromium chromium-driver (BATON_BROWSER_TESTS=1 makes it required)"
)]
async fn a_failed_webhook_delivery_is_retried_from_its_log() {
    // Local receivers allowed; one attempt per delivery, so a failure is
    // final at once and the Retry button is the way to send it again.
    let env = [
        ("BATON_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("BATON_WEBHOOK_RETRY_SCHEDULE", "0s"),
    ];
    browser_test_with("browser-webhooks", &env, |h| async move {
        let rx = TinyReceiver::start(500).await;
        let c = h.session("webhooks", DESKTOP).await;
        login_to_dashboard(&c, &h.base, &h.email, &h.password).await;

        // 1. Add the webhook: its secret is shown once.
        c.goto(&format!("{}/settings/integrations", h.base))
            .await
            .unwrap();
        find(
            &c,
            "[data-testid=webhook-form] input[name=url]",
            "webhook-form",
        )
        .await
        .send_keys(&rx.url)
        .await
        .unwrap();
        find(
            &c,
            "[data-testid=webhook-form] input[name=events]",
            "webhook-form",
        )
        .await
        .send_keys("client.*")
        .await
        .unwrap();
        click(
            &c,
            "[data-testid=webhook-form] button[type=submit]",
            "webhook-form",
        )
        .await;
        let shown = wait_text(
            &c,
            "[data-testid=new-webhook-secret]",
            "shown only once",
            "webhook-added",
        )
        .await;
        check!(
            &c,
            "webhook-added",
            shown.contains(&rx.url),
            "the new webhook is not named: {shown:?}"
        );
        let secret = js(
            &c,
            "return document.querySelector('[data-webhook-secret]').value;",
            "webhook-added",
        )
        .await;
        check!(
            &c,
            "webhook-added",
            secret.as_str().is_some_and(|s| s.starts_with("whsec_")),
            "no whsec_ secret shown: {secret}"
        );
        let kept = keep_screenshot(&c, "settings-integrations").await;
        eprintln!("integrations screenshot: {}", kept.display());
        click(
            &c,
            "[data-testid=new-webhook-secret] a[href^=\"/settings/integrations/whk_\"]",
            "open-webhook",
        )
        .await;
        find(&c, "[data-testid=settings-integration]", "webhook-page").await;

        // 2. An event: the receiver answers 500, the log shows it.
        h.api_ok(
            Method::POST,
            "/api/v1/clients",
            Some(json!({"name": "Globex"})),
            201,
        )
        .await;
        let failed = reload_until(
            &c,
            "[data-testid=delivery-log] tr[data-result=failed]",
            "log-failed",
        )
        .await;
        let row = failed.text().await.unwrap_or_default();
        check!(
            &c,
            "log-failed",
            row.contains("client.created")
                && row.contains("500")
                && row.contains("HTTP 500")
                && row.contains(" ms"),
            "the failed attempt's row: {row:?}"
        );
        assert_eq!(rx.hits(), 1, "one attempt");

        // 3. The receiver fixed, Retry: the log shows the attempt succeeded.
        rx.answer(200);
        click(
            &c,
            "[data-testid=delivery-log] tr[data-result=failed] [data-testid=retry]",
            "retry",
        )
        .await;
        wait_text(&c, ".notice", "Delivery queued again", "retried").await;
        let ok = reload_until(
            &c,
            "[data-testid=delivery-log] tr[data-result=succeeded][data-attempt=\"2\"]",
            "log-succeeded",
        )
        .await;
        let status = ok
            .find(Locator::Css("[data-status]"))
            .await
            .expect("a status cell")
            .text()
            .await
            .unwrap_or_default();
        check!(
            &c,
            "log-succeeded",
            status.trim() == "200",
            "the retried attempt's status: {status:?}"
        );
        let retry_left = c
            .find_all(Locator::Css("[data-testid=retry]"))
            .await
            .unwrap()
            .len();
        check!(
            &c,
            "log-succeeded",
            retry_left == 0,
            "a Retry button is left after success"
        );
        assert_eq!(rx.hits(), 2, "the retry was sent once");
        let kept = keep_screenshot(&c, "webhook-deliveries").await;
        eprintln!("delivery log screenshot: {}", kept.display());
    })
    .await;
}
