//! An application removed while it is being used: every request issuing tokens or codes for it
//! answers as for an unknown client — never a 500 — and nothing of it stays stored.

use crate::support::{
    ADMIN_PASSWORD, Client, Reply, TestServer, Tutorial, consent_fields, form_encode, get_as,
    integrity_ok, post_as, rows, signed_in,
};
use oauthd::pages::CSRF_FIELD;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Threads sending requests at once while the app goes.
const THREADS: usize = 4;
/// Successful requests before the app is removed.
const SUCCESSES_FIRST: usize = 4;
/// Requests per thread, at most.
const MAX_REQUESTS: usize = 200;
/// How long one race may take, at most.
const RACE_LIMIT: Duration = Duration::from_secs(20);

/// [`race`] with the app removed through another connection, as `oauthd app remove` does.
fn race_removal(
    s: &TestServer,
    client: &Client,
    success: u16,
    request: impl Fn() -> Reply + Sync,
) -> Vec<(u16, String)> {
    let id = app_row(s, client).id;
    race(s, client, success, request, || {
        assert!(s.store().delete_app(id).unwrap(), "removed");
    })
}

fn app_row(s: &TestServer, client: &Client) -> oauthd::model::Application {
    s.store()
        .find_app_by_client_id(&client.id)
        .unwrap()
        .unwrap()
}

/// Sends `request` from [`THREADS`] threads, calls `remove` once [`SUCCESSES_FIRST`] have
/// answered `success`, and stops each thread after its first answer that is not `success`.
/// Returns every answer's status and body; checks that nothing of the app stayed stored.
fn race(
    s: &TestServer,
    client: &Client,
    success: u16,
    request: impl Fn() -> Reply + Sync,
    remove: impl FnOnce(),
) -> Vec<(u16, String)> {
    let id = app_row(s, client).id;
    let succeeded = AtomicUsize::new(0);
    let answers = Mutex::new(Vec::new());
    let deadline = Instant::now() + RACE_LIMIT;
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..MAX_REQUESTS {
                    let reply = request();
                    let ok = reply.status == success;
                    answers.lock().unwrap().push((reply.status, reply.body));
                    // The first refusal ends the thread: more would run into the limiter
                    // of failed client authentications (429), which is not this test's point.
                    if !ok || Instant::now() > deadline {
                        break;
                    }
                    succeeded.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        while succeeded.load(Ordering::SeqCst) < SUCCESSES_FIRST && Instant::now() < deadline {
            std::thread::yield_now();
        }
        remove();
    });
    for table in ["grants", "authorization_codes"] {
        let left = rows(s, &format!("{table} WHERE application_id = {id}"));
        assert_eq!(left, 0, "{table} of the removed app");
    }
    assert!(integrity_ok(s));
    let answers = answers.into_inner().unwrap();
    assert!(answers.len() > SUCCESSES_FIRST, "{answers:?}");
    answers
}

/// Every answer is the success or the unknown-client error `status` with `needle` in its body.
fn assert_only(answers: &[(u16, String)], success: u16, status: u16, needle: &str) {
    for (got, body) in answers {
        let expected = *got == success || (*got == status && body.contains(needle));
        assert!(expected, "{got} {body}");
    }
    assert!(
        answers.iter().any(|(got, _)| *got == status),
        "the removal was seen"
    );
}

#[test]
fn client_credentials_while_the_app_is_removed_is_invalid_client_never_a_500() {
    let t = Tutorial::new();
    for _ in 0..3 {
        let client = t
            .server
            .add_client("confidential", "client-credentials", &[]);
        let answers = race_removal(&t.server, &client, 200, || {
            let form = "grant_type=client_credentials";
            t.server.post_form("/o/token/", form, Some(client.basic()))
        });
        assert_only(&answers, 200, 401, "invalid_client");
    }
}

#[test]
fn deleting_on_the_page_while_tokens_are_issued_is_invalid_client_never_a_500() {
    let t = Tutorial::new();
    let client = t
        .server
        .add_client("confidential", "client-credentials", &["--owner", "admin"]);
    let owner = signed_in(&t.server);
    let delete = format!(
        "/o/applications/{}/delete/",
        app_row(&t.server, &client).public_id
    );
    let form = format!("{CSRF_FIELD}={}", owner.csrf);
    let request = || {
        let form = "grant_type=client_credentials";
        t.server.post_form("/o/token/", form, Some(client.basic()))
    };
    let answers = race(&t.server, &client, 200, request, || {
        let deleted = post_as(&t.server, &owner, &delete, &form);
        assert_eq!(deleted.status, 303, "{}", deleted.body);
    });
    assert_only(&answers, 200, 401, "invalid_client");
    let again = post_as(&t.server, &owner, &delete, &form);
    assert_eq!(again.status, 404, "deleted once: {}", again.body);
}

#[test]
fn the_password_grant_while_the_app_is_removed_is_invalid_client_never_a_500() {
    let t = Tutorial::new();
    let client = t.server.add_client("confidential", "password", &[]);
    let form = format!(
        "grant_type=password&username=admin&password={}",
        form_encode(ADMIN_PASSWORD)
    );
    let answers = race_removal(&t.server, &client, 200, || {
        t.server.post_form("/o/token/", &form, Some(client.basic()))
    });
    assert_only(&answers, 200, 401, "invalid_client");
}

#[test]
fn codes_made_and_exchanged_while_the_app_is_removed_never_give_a_500() {
    let t = Tutorial::new();
    let callback = "http://127.0.0.1/cb";
    let client = t.server.add_client(
        "confidential",
        "authorization-code",
        &["--redirect-uri", callback],
    );
    let browser = signed_in(&t.server);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=read",
        client.id,
        form_encode(callback)
    );
    let consent = get_as(
        &t.server,
        &browser.cookie,
        &format!("/o/authorize/?{query}"),
    );
    assert_eq!(consent.status, 200, "{}", consent.body);
    let mut fields = consent_fields(&consent);
    fields.push(("allow".into(), "x".into()));
    let allow = serde_urlencoded::to_string(&fields).unwrap();
    let answers = race_removal(&t.server, &client, 303, || {
        let reply = post_as(&t.server, &browser, "/o/authorize/", &allow);
        let Some(code) = reply
            .header("Location")
            .and_then(|l| l.split("code=").nth(1))
        else {
            return reply;
        };
        let code = code.split('&').next().unwrap();
        let form = format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            form_encode(callback)
        );
        let exchanged = t.server.post_form("/o/token/", &form, Some(client.basic()));
        match exchanged.status {
            200 => reply,
            _ => exchanged,
        }
    });
    for (status, body) in &answers {
        let expected = match status {
            303 => true,
            400 => body.contains("unknown or disabled") || body.contains("invalid_grant"),
            401 => body.contains("invalid_client"),
            _ => false,
        };
        assert!(expected, "{status} {body}");
    }
}
