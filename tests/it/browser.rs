//! A real browser (Debian's headless Chromium, driven over the DevTools protocol) follows DOT's
//! "Part 1" flow: an authorization link, the login page, the consent page, Allow, and a code
//! at the client's redirect URI, which the test exchanges. Screenshots of the login, consent
//! and error pages go to target/screenshots/ for a reviewer.

use crate::support::{Client, Reply, TestServer, Tutorial, form_encode};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Debian's Chromium (.ci/run installs it).
/// The browser: `$CHROME` when set, else the first of Chromium's usual names on `PATH`.
fn chromium() -> PathBuf {
    if let Some(chrome) = std::env::var_os("CHROME").filter(|c| !c.is_empty()) {
        return PathBuf::from(chrome);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .expect("Chromium on PATH (Debian's chromium package), or its path in $CHROME")
}

pub fn launch() -> Browser {
    // The flags keep a sandboxed CI machine's Chromium from reaching for the network.
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((900, 900)))
        .args(args)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(options).expect("Chromium starts (is the chromium package installed?)")
}

pub fn screenshot(tab: &Tab, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// A stand-in for the client's redirect endpoint: answers one request and hands over its path.
pub fn callback_listener() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind callback");
    let port = listener.local_addr().expect("address").port();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let page = "<!doctype html><title>Client</title><p>The client got its code.</p>";
            let _ = (&stream).write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len())
                    .as_bytes(),
            );
            if path.starts_with("/cb") {
                let _ = sender.send(path);
            }
        }
    });
    (port, receiver)
}

/// The code the browser brought to the client's redirect URI, after checking its state.
pub fn code_at_client(codes: &mpsc::Receiver<String>, state: &str) -> String {
    let path = codes
        .recv_timeout(Duration::from_secs(20))
        .expect("the browser reached the client");
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(path.split_once('?').map_or("", |(_, q)| q)).expect("query");
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("state").as_deref(), Some(state));
    get("code").expect("a code")
}

/// The URL of a code request by `client` for `scope`, answered at `redirect_uri`.
pub fn code_request(
    s: &TestServer,
    client: &Client,
    redirect_uri: &str,
    scope: &str,
    state: &str,
) -> String {
    format!(
        "{}/o/authorize/?response_type=code&client_id={}&redirect_uri={}&scope={}&state={state}",
        s.base,
        client.id,
        form_encode(redirect_uri),
        form_encode(scope)
    )
}

/// The client exchanges `code` at the token endpoint, which must answer 200.
pub fn exchange(s: &TestServer, client: &Client, code: &str, redirect_uri: &str) -> Reply {
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(redirect_uri)
    );
    let tokens = s.post_form("/o/token/", &form, Some(client.basic()));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    tokens
}

pub fn type_into(tab: &Tab, selector: &str, text: &str) {
    tab.wait_for_element(selector)
        .expect(selector)
        .click()
        .expect("focus");
    tab.type_str(text).expect("type");
}

#[test]
fn part_1_in_a_real_browser_login_allow_and_exchange() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    let client = s.add_client(
        "confidential",
        "authorization-code",
        &["--redirect-uri", "http://127.0.0.1/cb"],
    );
    let (port, codes) = callback_listener();
    let redirect_uri = format!("http://127.0.0.1:{port}/cb");
    let authorize = code_request(s, &client, &redirect_uri, "read write", "part1");

    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    tab.navigate_to(&authorize)
        .expect("navigate")
        .wait_until_navigated()
        .expect("loaded");
    assert!(
        tab.get_url().contains("/accounts/login/?next="),
        "{}",
        tab.get_url()
    );
    screenshot(&tab, "login");
    let card = tab
        .evaluate(
            "document.querySelector('main .card').getBoundingClientRect().width",
            false,
        )
        .expect("evaluate")
        .value
        .and_then(|v| v.as_f64())
        .expect("the login card's width");
    assert!(
        (300.0..=400.0).contains(&card),
        "a narrow login card on a 900 px window: {card} px"
    );
    type_into(&tab, "#username", "admin");
    type_into(&tab, "#password", crate::support::ADMIN_PASSWORD);
    tab.wait_for_element("button[type=submit]")
        .expect("log in button")
        .click()
        .expect("log in");
    tab.wait_for_element("button[name=allow]")
        .expect("the consent page");
    let consent = tab.get_content().expect("content");
    assert!(
        consent.contains("Authorize authorization-code?"),
        "{consent}"
    );
    assert!(consent.contains("Read scope") && consent.contains("Write scope"));
    screenshot(&tab, "consent");
    tab.find_element("button[name=allow]")
        .expect("allow")
        .click()
        .expect("allow");

    let code = code_at_client(&codes, "part1");
    let tokens = exchange(s, &client, &code, &redirect_uri);
    assert_eq!(tokens.json()["scope"], "read write");

    tab.navigate_to(&format!(
        "{}/o/authorize/?response_type=code&client_id=unknown",
        s.base
    ))
    .expect("navigate")
    .wait_until_navigated()
    .expect("loaded");
    let error = tab.get_content().expect("content");
    assert!(
        error.contains("Authorization error") && error.contains("unknown or disabled"),
        "{error}"
    );
    screenshot(&tab, "error");
}

/// Opens `url` and waits for it to load.
pub fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .expect("navigate")
        .wait_until_navigated()
        .expect("loaded");
}

/// The text of the page's `main` once `selector` is on the page.
pub fn main_text_once(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .and_then(|_| tab.find_element("main"))
        .and_then(|main| main.get_inner_text())
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
}

/// The query of a path the callback listener received.
fn query_of(path: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(path.split_once('?').map_or("", |(_, q)| q)).expect("query")
}

#[test]
fn oidc_sign_in_and_sign_out_in_a_real_browser() {
    use crate::oidc_rp::{self, PASSWORD, USERNAME};
    use openidconnect::core::CoreIdToken;
    use openidconnect::{ClientId, CsrfToken, LogoutRequest, PostLogoutRedirectUrl};

    let (s, carol) = oidc_rp::world();
    let (port, arrivals) = callback_listener();
    let redirect_uri = format!("http://127.0.0.1:{port}/cb");
    let post_logout = format!("http://127.0.0.1:{port}/cb/signed-out");
    let client = s.add_app(&[
        "--name",
        "Carol's notes",
        "--client-type",
        "confidential",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--post-logout-redirect-uri",
        &post_logout,
    ]);
    let rp = oidc_rp::relying_party(&s, &client, &redirect_uri);
    let request = oidc_rp::request(&rp, &["profile", "email"]);

    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, request.url.as_str());
    assert!(tab.get_url().contains("/accounts/login/?next="));
    type_into(&tab, "#username", USERNAME);
    type_into(&tab, "#password", PASSWORD);
    tab.wait_for_element("main button[type=submit]")
        .expect("log in button")
        .click()
        .expect("log in");
    let consent = main_text_once(&tab, "button[name=allow]");
    for words in [
        "Authorize Carol's notes?",
        "openid: Sign you in to it with your account here",
        "profile: See your username and your name",
        "email: See your email address",
    ] {
        assert!(consent.contains(words), "{words:?} in {consent}");
    }
    screenshot(&tab, "oidc-consent");
    tab.find_element("button[name=allow]")
        .expect("allow")
        .click()
        .expect("allow");

    // At the relying party: state, iss, then the library exchanges and verifies.
    let arrived = arrivals
        .recv_timeout(Duration::from_secs(20))
        .expect("the browser reached the relying party");
    let query = query_of(&arrived);
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("state").as_deref(),
        Some(request.state.secret().as_str())
    );
    assert_eq!(get("iss"), Some(s.base.clone()), "RFC 9207 §2");
    let token = oidc_rp::exchange(&rp, get("code").expect("a code"), request.verifier);
    let claims = oidc_rp::verified(&rp, &token, &request.nonce);
    oidc_rp::assert_carol(&claims, &carol);
    let id_token: &CoreIdToken = openidconnect::TokenResponse::id_token(&token).unwrap();

    // RP-initiated logout, the URL built by the library from the metadata's end_session_endpoint.
    let document = s.request("GET", "/.well-known/openid-configuration", &[], b"");
    let end_session = document.json()["end_session_endpoint"]
        .as_str()
        .expect("end_session_endpoint")
        .to_owned();
    let logout_url = LogoutRequest::from(openidconnect::EndSessionUrl::new(end_session).unwrap())
        .set_id_token_hint(id_token)
        .set_client_id(ClientId::new(client.id.clone()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(post_logout.clone()).unwrap())
        .set_state(CsrfToken::new("bye ü".into()))
        .http_get_url();
    let sessions = format!("sessions WHERE user_id = {}", carol.id);
    assert_eq!(crate::support::rows(&s, &sessions), 1);
    open(&tab, logout_url.as_str());
    let confirmation = main_text_once(&tab, "button[name=confirm]");
    assert!(confirmation.contains("Sign out?"), "{confirmation}");
    assert!(confirmation.contains("Carol's notes"), "{confirmation}");
    let header = tab
        .find_element("header")
        .and_then(|h| h.get_inner_text())
        .expect("header");
    assert!(header.contains(USERNAME), "{header}");
    screenshot(&tab, "oidc-logout");
    let button = tab.find_element("button[name=confirm]").expect("Sign out");
    assert_eq!(button.get_inner_text().expect("text").trim(), "Sign out");
    button.click().expect("sign out");

    let arrived = arrivals
        .recv_timeout(Duration::from_secs(20))
        .expect("the browser came back to the relying party");
    assert!(arrived.starts_with("/cb/signed-out?"), "{arrived}");
    let state = query_of(&arrived)
        .into_iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v);
    assert_eq!(state.as_deref(), Some("bye ü"));
    assert_eq!(crate::support::rows(&s, &sessions), 0, "signed out");
}
