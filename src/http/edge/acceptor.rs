//! The acceptor and the table of open connections. The acceptor never dies: an error from
//! `accept` (out of descriptors, an aborted handshake) costs a short pause, not the listener.
//! Each connection gets a thread of its own with a small stack; past `max_connections` a new
//! one gets a quick 503 and is closed. Stopping shuts the reading side of every idle
//! connection, so that it ends at once; a busy one finishes its request and then closes.

use crate::http::edge::EdgeError;
use crate::http::edge::wire::{self, Persistence};
use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A connection thread's stack: it parses and copies bytes; handlers run on the workers.
const CONNECTION_STACK_BYTES: usize = 256 * 1024;
/// The pause after `accept` fails for want of descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// The open connections of a server, and whether it is stopping.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    stopping: AtomicBool,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    streams: HashMap<u64, (Arc<TcpStream>, Arc<AtomicBool>)>,
}

impl Connections {
    /// An empty table that admits at most `max` connections at once.
    pub fn new(max: usize) -> Connections {
        Connections {
            max,
            stopping: AtomicBool::new(false),
            open: Mutex::new(Open::default()),
        }
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the server is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Flags the stop and ends the reading side of every idle connection (a busy one sees
    /// the flag after its answer and closes).
    pub fn stop(&self) {
        let open = self.open();
        self.stopping.store(true, Ordering::SeqCst);
        for (stream, busy) in open.streams.values() {
            if !busy.load(Ordering::SeqCst) {
                // Wakes a thread blocked waiting for a request: it sees the end and closes.
                let _ = stream.shutdown(Shutdown::Read);
            }
        }
    }

    /// Enters a new connection, or answers 503 when the table is full.
    fn admit(&self, stream: TcpStream) -> Option<(u64, Arc<TcpStream>, Arc<AtomicBool>)> {
        let mut open = self.open();
        if self.stopping() {
            return None;
        }
        if open.streams.len() >= self.max {
            drop(open);
            refuse_busy(&stream);
            return None;
        }
        let id = open.next_id;
        open.next_id += 1;
        let stream = Arc::new(stream);
        let busy = Arc::new(AtomicBool::new(false));
        open.streams
            .insert(id, (Arc::clone(&stream), Arc::clone(&busy)));
        Some((id, stream, busy))
    }

    fn release(&self, id: u64) {
        self.open().streams.remove(&id);
    }
}

/// Accepts connections until the server stops, serving each with `serve` on its own thread;
/// `serve` keeps the flag it is given set while a request is under way.
pub(crate) fn accept_loop<F>(listener: &TcpListener, connections: &Arc<Connections>, serve: &F)
where
    F: Fn(&TcpStream, SocketAddr, &AtomicBool) + Clone + Send + 'static,
{
    loop {
        let accepted = listener.accept();
        if connections.stopping() {
            return;
        }
        match accepted {
            Ok((stream, peer)) => spawn_connection(stream, peer, connections, serve),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // EMFILE, ENFILE, ENOBUFS, ENOMEM: wait for descriptors or memory to come back;
            // the connection waits in the backlog meanwhile.
            Err(_) => std::thread::sleep(ACCEPT_BACKOFF),
        }
    }
}

fn spawn_connection<F>(
    stream: TcpStream,
    peer: SocketAddr,
    connections: &Arc<Connections>,
    serve: &F,
) where
    F: Fn(&TcpStream, SocketAddr, &AtomicBool) + Clone + Send + 'static,
{
    // Small answers go out at once rather than waiting for more to send.
    let _ = stream.set_nodelay(true);
    let Some((id, stream, busy)) = connections.admit(stream) else {
        return;
    };
    let serve = serve.clone();
    let entry = Entry {
        table: Arc::clone(connections),
        id,
    };
    let own = Arc::clone(&stream);
    let spawned = std::thread::Builder::new()
        .name("oauthd-conn".into())
        .stack_size(CONNECTION_STACK_BYTES)
        .spawn(move || {
            // Released when the thread ends, however it ends.
            let _entry = entry;
            serve(&own, peer, &busy);
        });
    // Without a thread, the closure and its entry are dropped: the table is already free.
    if spawned.is_err() {
        refuse_busy(&stream);
    }
}

/// A connection's place in the table, given back when dropped.
struct Entry {
    table: Arc<Connections>,
    id: u64,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.table.release(self.id);
    }
}

/// A quick 503 that never waits on the client: whatever does not fit the socket's buffer
/// at once is dropped with the connection.
fn refuse_busy(stream: &TcpStream) {
    let bytes = wire::encode(
        &EdgeError::Unavailable.response(),
        false,
        Persistence::Close,
    );
    let _ = stream.set_nonblocking(true);
    let mut writer = stream;
    let _ = writer.write_all(&bytes);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Connections the kernel may queue before the acceptor takes them: std's `bind` asks for
/// 128, which a burst of browsers or a proxy's pool overflows. Linux lets a listening
/// socket's backlog be changed by calling `listen` again.
pub(crate) fn widen_backlog(listener: &TcpListener, max_connections: usize) {
    let backlog = i32::try_from(max_connections).unwrap_or(i32::MAX).max(128);
    // A narrower queue only slows a burst down; nothing to do if the kernel says no.
    let _ = rustix::net::listen(listener, backlog);
}

/// Raises this process's soft limit on open descriptors to its hard limit, so that
/// `max_connections` is not cut short by a low default; returns the limit now in force
/// (`None`: unlimited).
pub fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        // Keep the old limit if the kernel refuses; the acceptor copes with EMFILE anyway.
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current
}
