//! Debian's `oidc-agent`, a command-line client nobody here wrote, runs the device grant
//! (RFC 8628) against oauthd: `oidc-gen --flow=device --only-at` asks for the codes, prints
//! the user code and polls, while this test plays the user on `/o/device/`; the access token
//! it prints works.

use crate::device_support;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Fails, with what to do, when oidc-agent is not installed.
fn oidc_agent_is_ready() {
    let found = Command::new("oidc-gen").arg("--version").output();
    assert!(
        found.is_ok_and(|out| out.status.success()),
        "`oidc-gen` is missing: install Debian's oidc-agent-cli package \
         (apt-get install oidc-agent-cli)"
    );
}

/// An oidc-agent in the foreground on a socket in its own directory, stopped when dropped.
struct Agent {
    child: Child,
    dir: tempfile::TempDir,
}

impl Agent {
    fn start() -> Agent {
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new("oidc-agent")
            .args(["--console", "--no-autoload", "--socket-path"])
            .arg(dir.path().join("sock"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run oidc-agent");
        // It says nothing when it is ready: its socket appearing is the sign.
        let socket = dir.path().join("sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "oidc-agent made no socket");
            std::thread::sleep(Duration::from_millis(10));
        }
        Agent { child, dir }
    }

    /// `oidc-gen` with this agent's socket, and a home of its own.
    fn oidc_gen(&self) -> Command {
        let mut command = Command::new("oidc-gen");
        command
            .env("HOME", self.dir.path())
            .env("OIDC_SOCK", self.dir.path().join("sock"));
        command
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn oidc_agent_gets_an_access_token_with_the_device_flow() {
    oidc_agent_is_ready();
    // A one-second interval: oidc-gen waits it out on the wall clock between polls.
    let (s, _) = device_support::world("device_flow_interval = 1");
    let client = s.add_client("confidential", "device-code", &[]);
    let agent = Agent::start();
    let mut oidc_gen = agent
        .oidc_gen()
        .arg(format!("--iss={}", s.base))
        .arg(format!("--client-id={}", client.id))
        .arg(format!(
            "--client-secret={}",
            client.secret.as_deref().unwrap()
        ))
        .args([
            "--flow=device",
            "--only-at",
            "--scope=openid read",
            "--prompt=none",
            "--no-url-call",
            "--confirm-default",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run oidc-gen");
    // A hung oidc-gen is killed, so that the test fails instead of hanging.
    let pid = oidc_gen.id();
    let done = crate::oidc_rp::kill_if_hung(pid);
    let mut stderr = BufReader::new(oidc_gen.stderr.take().unwrap());
    let mut said = String::new();
    let user_code = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("oidc-gen showed no user code: {said}");
        }
        said += &line;
        if let Some(code) = line.trim().strip_prefix("And enter the code: ") {
            break code.to_owned();
        }
    };
    assert!(said.contains(&format!("{}/o/device/", s.base)), "{said}");
    // The rest (a QR code) is read away, so that oidc-gen never blocks on a full pipe.
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let (user_agent, page) = device_support::signed_in_at(&s, &format!("{}/o/device/", s.base));
    let consent = device_support::submit(&user_agent, &page, &user_code);
    assert_eq!(
        device_support::decide(&user_agent, &consent, true).status,
        200
    );

    let mut printed = String::new();
    oidc_gen
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    let status = oidc_gen.wait().unwrap();
    let _ = done.send(());
    let rest = rest.join().unwrap();
    assert!(
        status.success(),
        "oidc-gen failed ({status}): {printed} {rest}"
    );
    // It says `accepted` once the user has, then prints the token on the last line.
    let token = printed.lines().last().unwrap_or_default().trim();
    assert_eq!(
        s.with_bearer("GET", "/api/hello", token, "").status,
        200,
        "{printed}"
    );
    let (state, _, _, used) = device_support::stored(&s);
    assert_eq!((state.as_str(), used.is_some()), ("approved", true));
}
