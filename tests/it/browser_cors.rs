//! A browser app in a real Chromium (docs/security.md rule 58): a page served from a
//! registered loopback origin runs the public code flow with PKCE, then `fetch`es the token
//! endpoint and `/api/hello` (which needs a preflight for its Authorization header); the same
//! page from an unregistered origin gets the fetch's TypeError; the register form takes
//! origins and refuses a path. Screenshots go to target/screenshots/browser-app-*.png.

use crate::browser::{launch, open, screenshot, type_into};
use crate::browser_pages::{click, text_of};
use crate::support::{ALICE_PASSWORD, TestServer, Tutorial, rows};
use headless_chrome::Tab;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The browser app: at `/` it sends the browser to the authorization endpoint; at `/cb` it
/// exchanges the code for a token with `fetch` and calls
/// `/api/hello` with it, writing each outcome, or the fetch's error, into `#log`.
fn app_page(server: &str, client_id: &str) -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>Browser app</title>
<h1>Browser app</h1><pre id="log"></pre>
<script>
const server = "{server}", clientId = "{client_id}";
const redirectUri = location.origin + "/cb";
const log = (line) => document.getElementById("log").textContent += line + "\n";
async function run() {{
  if (location.pathname === "/") {{
    location.href = server + "/o/authorize/?" + new URLSearchParams({{
      response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: "read",
      state: "spa", code_challenge: "{CHALLENGE}", code_challenge_method: "S256" }});
    return;
  }}
  const code = new URLSearchParams(location.search).get("code");
  try {{
    const reply = await fetch(server + "/o/token/", {{ method: "POST", body: new URLSearchParams({{
      grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: clientId,
      code_verifier: "{VERIFIER}" }}) }});
    const tokens = await reply.json();
    log("token: " + reply.status + " " + (tokens.access_token ? "an access token" : tokens.error));
    const hello = await fetch(server + "/api/hello",
      {{ headers: {{ Authorization: "Bearer " + tokens.access_token }} }});
    log("hello: " + hello.status + " " + await hello.text());
  }} catch (e) {{
    log("error: " + e.name + ": " + e.message);
  }}
  const done = document.createElement("p");
  done.id = "done";
  done.textContent = "Done.";
  document.body.append(done);
}}
run();
</script>"#
    )
}

/// Serves `page` for every path on 127.0.0.1 (a port of its own: its own origin); returns the
/// port.
fn serve_page(page: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the app's server");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            // Read the head to its end so that the browser sees a clean close.
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = (&stream).write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

/// The app's log once it is done.
fn app_log(tab: &Tab) -> String {
    tab.wait_for_element("#done").expect("the app finished");
    tab.find_element("#log")
        .and_then(|log| log.get_inner_text())
        .expect("the app's log")
}

#[test]
fn a_page_from_a_registered_origin_gets_tokens_and_calls_the_api_and_another_is_blocked() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    // The app's origin exists once its server listens; the app is registered for it then.
    let spa = s.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", "http://127.0.0.1/cb"],
    );
    let page = app_page(&s.base, &spa.id);
    let port = serve_page(page.clone());
    let origin = format!("http://127.0.0.1:{port}");
    let (code, _, err) = s.cli(&["app", "update", &spa.id, "--allowed-origin", &origin], "");
    assert_eq!(code, 0, "{err}");
    let stranger = serve_page(page);

    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &format!("{origin}/"));
    type_into(&tab, "#username", "alice");
    type_into(&tab, "#password", ALICE_PASSWORD);
    tab.wait_for_element("main button[type=submit]")
        .expect("log in button")
        .click()
        .expect("log in");
    tab.wait_for_element("button[name=allow]")
        .expect("the consent page")
        .click()
        .expect("allow");
    let log = app_log(&tab);
    screenshot(&tab, "browser-app-registered");
    assert_eq!(
        log.trim(),
        "token: 200 an access token\nhello: 200 Hello, OAuth2!",
        "at {}",
        tab.get_url()
    );
    assert!(tab.get_url().starts_with(&format!("{origin}/cb?code=")));
    assert_eq!(rows(s, "access_tokens"), 1, "the page's token is stored");
    assert_eq!(
        rows(s, "authorization_codes WHERE used IS NOT NULL"),
        1,
        "its code is used up"
    );

    // The same page on another port is another origin, which nobody registered: it gets a
    // real code (loopback redirect URIs match any port), and its form POST to the token
    // endpoint is a simple request, served; but the browser hides the answer, so the page
    // never learns the token and never calls the API.
    open(&tab, &format!("http://127.0.0.1:{stranger}/"));
    tab.wait_for_element("button[name=allow]")
        .expect("the consent page")
        .click()
        .expect("allow");
    let log = app_log(&tab);
    screenshot(&tab, "browser-app-unregistered");
    assert!(
        tab.get_url()
            .starts_with(&format!("http://127.0.0.1:{stranger}/cb?code=")),
        "a real code: {}",
        tab.get_url()
    );
    assert_eq!(
        log.trim(),
        "error: TypeError: Failed to fetch",
        "the browser hides the answer, so no API call follows"
    );
    assert_eq!(
        rows(s, "authorization_codes WHERE used IS NOT NULL"),
        2,
        "the real code reached the token endpoint"
    );
    assert_eq!(
        rows(s, "access_tokens"),
        2,
        "a simple request is served; only its answer is hidden"
    );

    // Alice registers a browser app of her own on the form: an origin with a path is refused
    // beside the field, then one per line is saved and shown.
    let apps = rows(s, "applications");
    open(&tab, &format!("{}/o/applications/register/", s.base));
    type_into(&tab, "#name", "My SPA");
    click(&tab, "input[value=public]");
    click(&tab, "input[value=authorization-code]");
    type_into(&tab, "#redirect_uris", "http://127.0.0.1/cb");
    type_into(&tab, "#allowed_origins", "https://spa.example/app");
    click(&tab, "main button[type=submit]");
    let error = text_of(&tab, "#allowed_origins-error");
    assert!(error.contains("is not an origin"), "{error}");
    tab.evaluate(
        "document.getElementById('allowed_origins').scrollIntoView({block: 'center'})",
        false,
    )
    .expect("scroll to the field");
    screenshot(&tab, "browser-app-origin-error");
    assert_eq!(rows(s, "applications"), apps, "nothing stored");
    tab.evaluate(
        "document.getElementById('allowed_origins').value = \
         'https://SPA.example:443\\nhttp://localhost:5173'",
        false,
    )
    .expect("set the field");
    click(&tab, "main button[type=submit]");
    let shown = text_of(&tab, "#allowed_origins");
    assert_eq!(shown, "http://localhost:5173\nhttps://spa.example");
    screenshot(&tab, "browser-app-registered-origins");
    assert_eq!(
        rows(s, "app_origins"),
        3,
        "one for the first app, two for hers"
    );
}
