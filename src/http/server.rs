//! The server: an acceptor, a thread per connection that owns all socket I/O (the edge), and
//! N workers, each with its own database connection, that take complete requests from one
//! queue and give back answers. A panic costs one 500, not a worker; shutdown lets requests
//! in flight finish.

use crate::clock::Clock;
use crate::http::App;
use crate::http::access_log::Entry;
use crate::http::cors;
use crate::http::device_pacing::DevicePacing;
use crate::http::edge::acceptor::{Connections, accept_loop, widen_backlog};
use crate::http::edge::conn::{Service, Socket, serve};
use crate::http::edge::head::Head;
use crate::http::edge::{EdgeError, Limits};
use crate::http::limiter::LoginLimiter;
use crate::http::request::{Req, RequestError, prefers_html};
use crate::http::request_rate::RequestRate;
use crate::http::response::{Resp, internal};
use crate::http::routes::{route, route_pattern};
use crate::http::secret_handoff::SecretHandoff;
use crate::http::sweeper::{self, SweepStop};
use crate::http::telemetry::Telemetry;
use crate::oidc::keys::{KeyError, SigningKeys, key_file_path};
use crate::settings::Settings;
use crate::store::{Store, StoreError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    /// Where the server reads the time: [`Clock::system`], or a manual clock in tests.
    pub clock: Clock,
}

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The address could not be bound.
    Bind(String),
    /// The database could not be opened or migrated.
    Store(StoreError),
    /// The database opened but cannot be served: it cannot be written, or it is damaged.
    Unservable(PathBuf, StoreError),
    /// The id_token signing key could not be made, or its private half is missing, exposed
    /// or wrong in the key file; the message names the file and what to do.
    SigningKeys(KeyError),
    /// The thread that sweeps expired records could not be started (the system refused a new
    /// thread): nothing to do with the address.
    Sweeper(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot listen {e}"),
            StartError::Store(e) => write!(f, "{e}"),
            StartError::Unservable(path, e) => write!(f, "cannot serve {}: {e}", path.display()),
            StartError::SigningKeys(e) => write!(f, "{e}"),
            StartError::Sweeper(e) => write!(
                f,
                "cannot start the thread that sweeps expired records: {e}"
            ),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server. Dropping it without [`RunningServer::shutdown`] leaves it running.
pub struct RunningServer {
    addr: SocketAddr,
    issuer: String,
    stopper: Stopper,
    acceptor: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
    sweeper: Option<JoinHandle<()>>,
    signing_keys: Arc<SigningKeys>,
}

/// A complete request on its way to a worker, with where its answer goes.
struct Job {
    req: Req,
    reply: SyncSender<Resp>,
}

/// What every connection of a server shares.
struct Shared {
    connections: Arc<Connections>,
    limits: Limits,
    settings: Arc<Settings>,
    telemetry: Arc<Telemetry>,
}

impl RunningServer {
    /// Opens the database once per worker (creating and migrating it if needed), sets up the
    /// id_token signing keys (the first key at first start; the key file next to the database
    /// must serve the current key, see [`SigningKeys::open`]), binds, and starts the workers,
    /// the sweeper (with a connection of its own) and the acceptor.
    pub fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        let settings = Arc::new(config.settings);
        let threads = config.threads.max(1);
        let stores = open_stores(&config.db_path, &settings, threads)?;
        let sweep_store =
            Store::open(&config.db_path, settings.durability).map_err(StartError::Store)?;
        let signing_keys = Arc::new(open_signing_keys(
            &stores,
            &config.db_path,
            &settings,
            config.clock.now(),
        )?);
        let on_addr = |e: std::io::Error| StartError::Bind(format!("on {}: {e}", config.addr));
        let listener = TcpListener::bind(&config.addr).map_err(on_addr)?;
        widen_backlog(&listener, settings.max_connections);
        let addr = listener.local_addr().map_err(on_addr)?;
        let sweep_stop = Arc::new(SweepStop::default());
        let sweeper = sweeper::start(
            sweep_store,
            Arc::clone(&settings),
            config.clock.clone(),
            Arc::clone(&sweep_stop),
        )
        .map_err(StartError::Sweeper)?;
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let telemetry = Arc::new(Telemetry::start(&settings));
        let limiter = Arc::new(LoginLimiter::reporting_to(Arc::clone(&telemetry)));
        let request_rate = Arc::new(RequestRate::reporting_to(Arc::clone(&telemetry)));
        let secret_handoff = Arc::new(SecretHandoff::default());
        let device_pacing = Arc::new(DevicePacing::default());
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let workers = stores
            .into_iter()
            .map(|store| {
                let app = App {
                    settings: Arc::clone(&settings),
                    store,
                    limiter: Arc::clone(&limiter),
                    request_rate: Arc::clone(&request_rate),
                    device_pacing: Arc::clone(&device_pacing),
                    issuer: issuer.clone(),
                    clock: config.clock.clone(),
                    signing_keys: Arc::clone(&signing_keys),
                    telemetry: Arc::clone(&telemetry),
                    secret_handoff: Arc::clone(&secret_handoff),
                };
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || work(&app, &queue))
            })
            .collect();
        let shared = Arc::new(Shared {
            connections: Arc::new(Connections::new(settings.max_connections)),
            limits: Limits::from_settings(&settings),
            telemetry,
            settings,
        });
        let listener = Arc::new(listener);
        let stopper = Stopper {
            connections: Arc::clone(&shared.connections),
            listener: Arc::clone(&listener),
            wake: wake_address(addr),
            sweep_stop,
        };
        let acceptor = std::thread::Builder::new()
            .name("oauthd-accept".into())
            .spawn(move || {
                let connections = Arc::clone(&shared.connections);
                let on_connection =
                    move |stream: &TcpStream, peer: SocketAddr, busy: &AtomicBool| {
                        let _open = shared.telemetry.connection();
                        let mut conn = Conn::new(&shared, &jobs, peer.ip(), busy);
                        serve(&mut Socket::new(stream), &shared.limits, &mut conn);
                    };
                accept_loop(&listener, &connections, &on_connection);
            })
            .map_err(on_addr)?;
        Ok(RunningServer {
            addr,
            issuer,
            stopper,
            acceptor,
            workers,
            sweeper,
            signing_keys,
        })
    }

    /// The bound address (learn the port after binding port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenID issuer every relying party sees.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The id_token signing keys the workers share, for an embedding program that signs or
    /// checks tokens of its own with them.
    pub fn signing_keys(&self) -> Arc<SigningKeys> {
        Arc::clone(&self.signing_keys)
    }

    /// A handle that can ask the server to stop from another thread (a signal handler).
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Stops accepting, lets each connection finish its request in flight, and waits for
    /// the workers; each worker's database connection closes as it exits.
    pub fn shutdown(self) {
        self.stopper.stop();
        self.wait();
    }

    /// Waits until the acceptor, the workers and the sweeper have exited (after a
    /// [`Stopper::stop`]). Workers exit once the last connection has closed.
    pub fn wait(self) {
        // None panics out of its loop (requests run under catch_unwind).
        let _ = self.acceptor.join();
        for worker in self.workers.into_iter().chain(self.sweeper) {
            let _ = worker.join();
        }
    }
}

/// One connection per worker, once the first has shown that the file can be served: that it
/// can be written (else every issuance would fail while `/health` says ok) and passes
/// `PRAGMA quick_check`. A file too damaged to open is reported the same way.
fn open_stores(
    db_path: &std::path::Path,
    settings: &Settings,
    threads: usize,
) -> Result<Vec<Store>, StartError> {
    let unservable = |e| StartError::Unservable(db_path.to_owned(), damaged(e));
    let open = || Store::open(db_path, settings.durability);
    let first = open().map_err(unservable)?;
    first.check_writable().map_err(unservable)?;
    first.quick_check().map_err(unservable)?;
    let mut stores = vec![first];
    for _ in 1..threads {
        stores.push(open().map_err(StartError::Store)?);
    }
    Ok(stores)
}

/// SQLite's "corrupt" and "not a database" as [`StoreError::Damaged`]; other errors as they are.
fn damaged(e: StoreError) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    let corrupt = matches!(
        &e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(failure.code, DatabaseCorrupt | NotADatabase)
    );
    match corrupt {
        true => StoreError::Damaged(e.to_string()),
        false => e,
    }
}

/// The signing keys, made at first start; a key file that cannot serve stops start-up here.
fn open_signing_keys(
    stores: &[Store],
    db_path: &std::path::Path,
    settings: &Settings,
    now: i64,
) -> Result<SigningKeys, StartError> {
    let store = stores
        .first()
        .ok_or(StartError::SigningKeys(KeyError::NoCurrentKey))?;
    let file = key_file_path(db_path, settings);
    SigningKeys::open(store, file, settings.id_token_expire_seconds, now)
        .map_err(StartError::SigningKeys)
}

/// Asks a running server to stop; cheap to clone into a signal handler.
#[derive(Clone)]
pub struct Stopper {
    connections: Arc<Connections>,
    listener: Arc<TcpListener>,
    wake: SocketAddr,
    sweep_stop: Arc<SweepStop>,
}

impl Stopper {
    /// Flags the stop, wakes the sweeper, ends the reading side of every connection, and
    /// wakes the acceptor: shutting the listener's reading side ends a blocked `accept` on
    /// Linux; a connection of its own does elsewhere (it can fail when descriptors have run
    /// out, hence both).
    pub fn stop(&self) {
        self.sweep_stop.stop();
        self.connections.stop();
        let _ = rustix::net::shutdown(&*self.listener, rustix::net::Shutdown::Read);
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
    }
}

/// Where to connect to wake an acceptor bound to `addr` (a wildcard means loopback).
fn wake_address(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// A worker: takes requests from the queue until every connection and the acceptor are gone.
fn work(app: &App, queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Job { req, reply }) = job else {
            return;
        };
        let resp = catch_unwind(AssertUnwindSafe(|| {
            cors::answer(app, &req, || {
                route(app, &req).unwrap_or_else(|e| e.into_response(app, &req))
            })
        }))
        .unwrap_or_else(|_| internal(&format!("handler panicked on {} {}", req.method, req.path)));
        // The connection may have gone; nothing else to do.
        let _ = reply.send(resp);
    }
}

/// One connection's side of the server: it turns heads into [`Req`]s, queues them for the
/// workers, waits for the answers and logs them.
struct Conn<'a> {
    shared: &'a Shared,
    jobs: &'a Sender<Job>,
    peer: IpAddr,
    /// The client of the request under way: the peer, or whom a trusted proxy forwarded.
    client: IpAddr,
    /// Set while a request is under way: a stop then lets it finish.
    busy: &'a AtomicBool,
}

impl<'a> Conn<'a> {
    fn new(
        shared: &'a Shared,
        jobs: &'a Sender<Job>,
        peer: IpAddr,
        busy: &'a AtomicBool,
    ) -> Conn<'a> {
        Conn {
            shared,
            jobs,
            peer,
            client: peer,
            busy,
        }
    }
}

impl Service for Conn<'_> {
    fn answer(&mut self, head: &Head, body: Result<Vec<u8>, RequestError>) -> Resp {
        let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
        let proxies = &self.shared.settings.trusted_proxies;
        self.client = proxies.client(self.peer, head.forwarded_for.as_deref());
        let req = Req {
            method: head.method.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            content_type: head.content_type.clone(),
            authorization: head.authorization.clone(),
            cookie: head.cookie.clone(),
            prefers_html: prefers_html(head.accept.as_deref()),
            origin: head.origin.clone(),
            preflight: head.method == "OPTIONS"
                && head.origin.is_some()
                && head.access_control_request_method.is_some(),
            body,
            remote: Some(self.client),
            forwarded_https: proxies.forwarded_https(self.peer, head.forwarded_proto.as_deref()),
        };
        // A channel of its own per request: should a worker ever drop one unanswered, the
        // connection hears of it at once instead of waiting for an answer that cannot come.
        let (reply, answer) = sync_channel(1);
        let unavailable = || EdgeError::Unavailable.response();
        if self.jobs.send(Job { req, reply }).is_err() {
            return unavailable();
        }
        answer.recv().unwrap_or_else(|_| unavailable())
    }

    fn answered(&mut self, head: Option<&Head>, status: u16, bytes: usize, started: Instant) {
        let target = head.map_or("-", |h| h.target.as_str());
        let entry = Entry {
            // A request refused before it had a head is logged under the peer.
            client: head.map_or(self.peer, |_| self.client),
            method: head.map_or("-", |h| h.method.as_str()),
            target,
            status,
            bytes,
            duration: started.elapsed(),
        };
        let path = target.split('?').next().unwrap_or_default();
        self.shared.telemetry.answered(&entry, &route_pattern(path));
    }

    fn stopping(&self) -> bool {
        self.shared.connections.stopping()
    }

    fn busy(&mut self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }
}
