//! The worker pool: N threads share one tiny_http listener, each with its own database
//! connection; a panic costs one 500, not a worker; shutdown lets in-flight requests finish.

use crate::http::App;
use crate::http::limiter::LoginLimiter;
use crate::http::request::{MAX_BODY_BYTES, Req};
use crate::http::response::{COMMON_HEADERS, Resp, internal};
use crate::http::routes::route;
use crate::settings::Settings;
use crate::store::{Store, StoreError};
use std::io::Write;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind, e.g. `127.0.0.1:0` for any free port.
    pub addr: String,
    /// Worker threads, each with its own database connection.
    pub threads: usize,
    /// The SQLite file.
    pub db_path: PathBuf,
    /// Validated settings.
    pub settings: Settings,
}

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The address could not be bound.
    Bind(String),
    /// The database could not be opened or migrated.
    Store(StoreError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot listen: {e}"),
            StartError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server. Dropping it without [`RunningServer::shutdown`] leaves the workers running.
pub struct RunningServer {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Opens the database once per worker (creating and migrating it if needed), binds, and
    /// starts the workers.
    pub fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        let settings = Arc::new(config.settings);
        let threads = config.threads.max(1);
        let stores = (0..threads)
            .map(|_| Store::open(&config.db_path, settings.durability))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StartError::Store)?;
        let http = Arc::new(
            tiny_http::Server::http(&config.addr).map_err(|e| StartError::Bind(e.to_string()))?,
        );
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| StartError::Bind("not an IP listener".into()))?;
        let stopping = Arc::new(AtomicBool::new(false));
        let limiter = Arc::new(LoginLimiter::default());
        let workers = stores
            .into_iter()
            .map(|store| {
                let app = App {
                    settings: Arc::clone(&settings),
                    store,
                    limiter: Arc::clone(&limiter),
                };
                let http = Arc::clone(&http);
                let stopping = Arc::clone(&stopping);
                std::thread::spawn(move || work(&app, &http, &stopping))
            })
            .collect();
        Ok(RunningServer {
            http,
            addr,
            stopping,
            workers,
        })
    }

    /// The bound address (learn the port after binding port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that can ask the server to stop from another thread (a signal handler).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            http: Arc::clone(&self.http),
            stopping: Arc::clone(&self.stopping),
            workers: self.workers.len(),
        }
    }

    /// Stops accepting, lets each worker finish its request, and waits for them; each worker's
    /// database connection closes as it exits.
    pub fn shutdown(self) {
        self.stopper().stop();
        self.wait();
    }

    /// Waits until the workers have exited (after a [`Stopper::stop`]).
    pub fn wait(self) {
        for worker in self.workers {
            // A worker never panics out of its loop (requests run under catch_unwind).
            let _ = worker.join();
        }
    }
}

/// Asks a running server to stop; cheap to clone into a signal handler.
#[derive(Clone)]
pub struct Stopper {
    http: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    workers: usize,
}

impl Stopper {
    /// Flags the stop and wakes every worker blocked in `recv` (each needs its own unblock).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for _ in 0..self.workers {
            self.http.unblock();
        }
    }
}

fn work(app: &App, http: &tiny_http::Server, stopping: &AtomicBool) {
    while !stopping.load(Ordering::SeqCst) {
        let Ok(mut request) = http.recv() else {
            continue;
        };
        let req = Req::read(&mut request);
        let resp = catch_unwind(AssertUnwindSafe(|| {
            route(app, &req).unwrap_or_else(|e| e.into_response(app, &req))
        }))
        .unwrap_or_else(|_| internal(&format!("handler panicked on {} {}", req.method, req.path)));
        if request.body_length().is_some_and(|n| n > MAX_BODY_BYTES) {
            refuse_unread_body(request, resp);
        } else {
            // A client that went away cannot be answered; nothing else to do.
            let _ = request.respond(to_tiny(resp));
        }
    }
}

/// Claimed body sizes up to this are drained the way tiny_http does it; see [`refuse_unread_body`].
const DRAINABLE_CLAIM: usize = 16 * 1024 * 1024;

/// Answers a request whose declared body was refused unread. tiny_http 0.12 drains an unread
/// body when the request is dropped, into a buffer of the *claimed* length
/// (`EqualReader::drop`): a claim beyond what the OS will map aborts the process, and any
/// claim holds the dropping thread until the client sends it or hangs up. So:
/// - up to [`DRAINABLE_CLAIM`], the answer is sent and the request dropped on a thread of its
///   own, which waits for the client instead of a worker;
/// - beyond it, the answer goes out through `upgrade` (body delimited by the connection) and
///   the unread stream is deliberately leaked: its socket and tiny_http's thread for that
///   connection stay until the process ends — a cost, but never the process itself.
///
/// A real fix needs tiny_http to drain with a fixed buffer; until then README tells
/// deployments exposed to the internet to cap bodies at a reverse proxy.
fn refuse_unread_body(request: tiny_http::Request, resp: Resp) {
    if request.body_length().is_some_and(|n| n <= DRAINABLE_CLAIM) {
        // If the OS refuses a thread, the request is dropped here instead: this worker then
        // waits for the client, which is slow but safe (the claim is small).
        let _ = std::thread::Builder::new()
            .name("oauthd-drain".into())
            .spawn(move || request.respond(to_tiny(resp)));
    } else {
        let body = resp.body.clone();
        let mut stream = request.upgrade(
            "close",
            to_tiny(Resp {
                body: Vec::new(),
                ..resp
            }),
        );
        // The client may already be gone; nothing else to do.
        let _ = stream.write_all(&body).and_then(|()| stream.flush());
        std::mem::forget(stream);
    }
}

fn to_tiny(resp: Resp) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut out = tiny_http::Response::from_data(resp.body).with_status_code(resp.status);
    let headers = COMMON_HEADERS
        .iter()
        .copied()
        .chain(resp.headers.iter().map(|(k, v)| (*k, v.as_str())));
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(header);
        }
    }
    out
}
