//! A real browser (Debian's headless Chromium, driven over the DevTools protocol) follows DOT's
//! "Part 1" flow: an authorization link, the login page, the consent page, Allow, and a code
//! at the client's redirect URI, which the test exchanges. Screenshots of the login, consent
//! and error pages go to target/screenshots/ for a reviewer.

use crate::support::{TestServer, Tutorial, form_encode};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Debian's Chromium (.ci/run installs it).
const CHROMIUM: &str = "/usr/bin/chromium";

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
        .path(Some(PathBuf::from(CHROMIUM)))
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
    let authorize = format!(
        "{}/o/authorize/?response_type=code&client_id={}&redirect_uri={}&scope=read+write&state=part1",
        s.base,
        client.id,
        form_encode(&redirect_uri)
    );

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
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(&redirect_uri)
    );
    let tokens = s.post_form("/o/token/", &form, Some(client.basic()));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
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
