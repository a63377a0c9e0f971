#!/usr/bin/env python3
"""Probes oauthd's HTTP edge: connection bursts, slow and idle clients, a body claimed far too
large, and malformed requests. Every scenario is bounded in time; none fails on what it finds.

usage: edge_probe.py --addr HOST:PORT [--pid PID] [--token T] [--workers N] [--only a,b] [--smoke]
  --pid      the server's process: /proc figures (threads, fds, RSS) and whether it survived
  --token    a bearer token with scope read: slow_clients also asks GET /api/hello
  --workers  the server's worker threads: slow_clients stalls 2 * N + 2 request bodies
  --only     a comma-separated subset of the scenarios (default: all, in the order below)
  --smoke    shorter holds and budgets (CI); the connection counts and deadlines stay

Prints one line per scenario, `EDGE_RESULT {json}`, the scenario's name under "scenario".
Latencies are of answered requests only; failures are counted beside them.
"""
import argparse
import errno
import json
import math
import os
import resource
import selectors
import socket
import threading
import time

BIGCLAIM = 10**18  # the Content-Length bigclaim claims
TRICKLE_PERIOD_S = 0.5  # a trickling client sends one byte this often
FRESH_TIMEOUT_S = 2  # a fresh request during slow_clients fails after this long
WEIRD_TIMEOUT_S = 3


# ---------------------------------------------------------------------------------------------
# Answers: HTTP/1.1 responses parsed from the bytes a connection received


def parse(buf, eof):
    """The answers at the front of buf: (status lines of the complete ones, the status line of
    an incomplete one or None). At eof, an answer delimited by the connection ends there."""
    complete = []
    while buf:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            line_end = buf.find(b"\r\n")
            return complete, buf[:line_end].decode("latin-1") if line_end >= 0 else None
        lines = buf[:head_end].decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        end = body_end(buf, head_end + 4, lines[0], fields, eof)
        if end is None:
            return complete, lines[0]
        complete.append(lines[0])
        buf = buf[end:]
    return complete, None


def body_end(buf, start, status, fields, eof):
    """Where the answer whose body starts at `start` ends in buf, or None if it has not yet."""
    code = status.split(" ")[1:2]
    if code and (code[0].startswith("1") or code[0] in ("204", "304")):
        return start
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return chunked_end(buf, start)
    length = fields.get("content-length", "")
    if length.isdigit():
        end = start + int(length)
        return end if len(buf) >= end else None
    return len(buf) if eof else None


def chunked_end(buf, pos):
    """Where the chunked body starting at pos ends (after its trailers), or None."""
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(buf[pos:eol].split(b";")[0], 16)
        except ValueError:
            return None
        pos = eol + 2
        if size == 0:
            break
        pos += size + 2
        if len(buf) < pos:
            return None
    while True:  # trailer lines, then an empty one
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        if eol == pos:
            return pos + 2
        pos = eol + 2


def collect(sock, deadline, want=1, head_only=False):
    """Reads from a blocking socket until `want` complete answers (with head_only, any status
    line), the peer closes, or the monotonic deadline: (complete status lines, an incomplete
    answer's status line or None, how it ended: done, closed, reset or timeout)."""
    buf = b""
    while True:
        complete, partial = parse(buf, eof=False)
        if len(complete) >= want or (head_only and (complete or partial)):
            return complete, partial, "done"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return complete, partial, "timeout"
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return complete, partial, "timeout"
        except OSError:
            return complete, partial, "reset"
        if not data:
            complete, partial = parse(buf, eof=True)
            return complete, partial, "closed"
        buf += data


def fetch(addr, payload, timeout, head_only=False):
    """Sends payload on a new connection and waits for one answer: (its status line or None,
    milliseconds taken, how it ended: done, closed, reset, timeout or refused)."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        with socket.create_connection(addr, timeout=timeout) as sock:
            sock.sendall(payload)
            complete, partial, end = collect(sock, deadline, head_only=head_only)
    except TimeoutError:
        complete, partial, end = [], None, "timeout"
    except ConnectionRefusedError:
        complete, partial, end = [], None, "refused"
    except OSError:
        complete, partial, end = [], None, "reset"
    status = complete[0] if complete else partial if head_only else None
    return status, (time.monotonic() - start) * 1000, end


# ---------------------------------------------------------------------------------------------
# Many connections at once, driven by one selector


class _Conn:
    """A Burst connection: its index, the request bytes not yet sent (None: it sends none),
    and the answer's bytes so far."""

    def __init__(self, index, payload):
        self.index, self.unsent, self.received = index, payload, b""


class Burst:
    """`count` connections opened all at once. Each sends `payload` once connected and is done
    at its first complete answer; without a payload, it is done once connected. `done_at[i]`:
    seconds from the start, or None; `errors`: the connections that failed, by how."""

    def __init__(self, addr, count, payload, deadline_s):
        self.socks, self.done_at, self.errors = [], [None] * count, {}
        self.start = time.monotonic()
        selector = selectors.DefaultSelector()
        for i in range(count):
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError:  # out of file descriptors
                self.socks.append(None)
                self._fail("socket")
                continue
            self.socks.append(sock)
            sock.setblocking(False)
            if sock.connect_ex(addr) not in (0, errno.EINPROGRESS):
                self._fail("connect")
                continue
            selector.register(sock, selectors.EVENT_WRITE, _Conn(i, payload))
        while selector.get_map():
            remaining = self.start + deadline_s - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                self._step(selector, key.fileobj, key.data)
        selector.close()

    def _step(self, selector, sock, conn):
        """One readiness event: connected or able to send more, or an answer's bytes."""
        try:
            if conn.unsent is None or conn.unsent:  # waiting to connect, or to send
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self._fail("connect", selector, sock)
                elif not conn.unsent:
                    self._done(selector, sock, conn)
                else:
                    conn.unsent = conn.unsent[sock.send(conn.unsent):]
                    if not conn.unsent:
                        selector.modify(sock, selectors.EVENT_READ, conn)
                return
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self._fail("reset", selector, sock)
            return
        if not data:
            self._fail("closed", selector, sock)
            return
        conn.received += data
        if parse(conn.received, eof=False)[0]:
            self._done(selector, sock, conn)

    def _done(self, selector, sock, conn):
        self.done_at[conn.index] = time.monotonic() - self.start
        selector.unregister(sock)

    def _fail(self, how, selector=None, sock=None):
        self.errors[how] = self.errors.get(how, 0) + 1
        if selector is not None:
            selector.unregister(sock)

    def within(self, seconds):
        """How many were done within `seconds` of the start."""
        return sum(1 for t in self.done_at if t is not None and t <= seconds)

    def done(self):
        """The sockets that are done (answered, or connected without a payload)."""
        return [s for s, t in zip(self.socks, self.done_at) if t is not None]

    def close(self):
        for sock in self.socks:
            if sock is not None:
                sock.close()


# ---------------------------------------------------------------------------------------------
# Helpers


def request(args, method, path, *headers):
    """A request head with Host and the given header lines."""
    return raw(f"{method} {path} HTTP/1.1".encode(), f"Host: {args.host}".encode(),
               *(h.encode() for h in headers))


def health(args):
    """GET /health: a constant answer, no database."""
    return request(args, "GET", "/health")


def percentile(values, share):
    """The nearest-rank percentile of values (0 < share <= 1), or None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(len(ordered) * share) - 1)], 2)


def latency_summary(results):
    """count, failures and p50/p99 (ms, answered ones) of fetch() results."""
    answered = [ms for status, ms, _ in results if status is not None]
    return {"count": len(results), "failures": len(results) - len(answered),
            "p50_ms": percentile(answered, 0.5), "p99_ms": percentile(answered, 0.99)}


def proc_figures(pid):
    """The server's Threads, VmRSS, VmHWM (kB), open fds and the distinct sockets they are (a
    duplicated fd is the same socket) from /proc, or None without a pid or once it is gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    if "VmRSS" not in fields:  # a zombie has no memory
        return None
    sockets = {fd_target(pid, fd) for fd in fds} - {None}
    return {"threads": int(fields["Threads"]), "vmrss": int(fields["VmRSS"].split()[0]),
            "vmhwm": int(fields["VmHWM"].split()[0]), "fds": len(fds),
            "sockets": sum(1 for target in sockets if target.startswith("socket:"))}


def fd_target(pid, fd):
    """What the server's fd is ("socket:[inode]", a path...), or None if it closed since."""
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def peer_states(socks):
    """How many of the held connections the server has answered, closed, or left open."""
    states = {"open": 0, "answered": 0, "closed": 0}
    for sock in socks:
        sock.setblocking(False)  # a socket with a timeout would wait for it
        try:
            data = sock.recv(1, socket.MSG_PEEK)
            states["answered" if data else "closed"] += 1
        except BlockingIOError:
            states["open"] += 1
        except OSError:
            states["closed"] += 1
    return states


def span(args, seconds):
    """A hold or budget of `seconds`, halved in smoke mode."""
    return seconds / 2 if args.smoke else seconds


# ---------------------------------------------------------------------------------------------
# The scenarios: each takes the parsed arguments and returns its figures


def burst128(args):
    """128 keep-alive connections opened at once, one GET /health on each."""
    burst = Burst(args.addr, 128, health(args), deadline_s=5)
    burst.close()
    return {"connections": 128, "answered_1s": burst.within(1), "answered_5s": burst.within(5),
            "errors": burst.errors}


def browser48(args):
    """8 clients with 6 connections each (a browser's per-host limit), opened at once, one
    GET /health on each; a client is served once all its 6 are answered."""
    burst = Burst(args.addr, 48, health(args), deadline_s=5)
    burst.close()
    clients = [burst.done_at[c * 6:c * 6 + 6] for c in range(8)]
    return {"connections": 48, "answered_1s": burst.within(1), "answered_5s": burst.within(5),
            "clients_served_1s": sum(all(t is not None and t <= 1 for t in c) for c in clients),
            "errors": burst.errors}


def slow_clients(args):
    """While 2 * workers + 2 connections hold a POST whose 5000-byte body never comes and 200
    more send their head one byte every 0.5 s, fresh requests on new connections (4 at a time,
    ~3 s): do they still get answered?"""
    stalled = []
    for _ in range(2 * args.workers + 2):
        try:
            sock = socket.create_connection(args.addr, timeout=FRESH_TIMEOUT_S)
            sock.sendall(request(args, "POST", "/o/token/",
                                 "Content-Type: application/x-www-form-urlencoded", "Content-Length: 5000"))
            stalled.append(sock)
        except OSError:
            pass
    time.sleep(0.2)  # let the workers take them
    trickling = Burst(args.addr, 200, None, deadline_s=FRESH_TIMEOUT_S)
    stop = threading.Event()
    head = f"GET /health HTTP/1.1\r\nHost: {args.host}\r\nX-Trickle: {'a' * 64}".encode()
    trickler = threading.Thread(target=trickle, args=(trickling.done(), head, stop))
    trickler.start()

    paths = [("health", health(args))]
    if args.token:
        paths.append(("api_hello", request(args, "GET", "/api/hello", f"Authorization: Bearer {args.token}")))
    results = {name: [] for name, _ in paths}
    window_end = time.monotonic() + span(args, 3)

    def lane(offset):
        n = offset
        while time.monotonic() < window_end:
            name, payload = paths[n % len(paths)]
            results[name].append(fetch(args.addr, payload, FRESH_TIMEOUT_S))
            n += 1

    lanes = [threading.Thread(target=lane, args=(i,)) for i in range(4)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    stop.set()
    trickler.join()
    held = peer_states(stalled + trickling.done())
    for sock in stalled:
        sock.close()
    trickling.close()
    return {"stalled_bodies": len(stalled), "trickling": trickling.within(FRESH_TIMEOUT_S),
            "trickle_errors": trickling.errors, "held_at_end": held,
            **{name: latency_summary(r) for name, r in results.items()}}


def trickle(socks, head, stop):
    """Sends the next byte of head (longer than any hold) on every socket each
    TRICKLE_PERIOD_S until stop is set; a socket the server closed is left alone."""
    live = {sock: 0 for sock in socks}
    while live and not stop.wait(TRICKLE_PERIOD_S):
        for sock, sent in list(live.items()):
            try:
                sock.send(head[sent:sent + 1])
                live[sock] = sent + 1
            except OSError:
                del live[sock]


def idle1000(args):
    """1,000 connections that send nothing, held ~2 s: what they cost the server (threads,
    fds, memory) while held and ~2 s after closing, and whether GET /health still answers."""
    before = proc_figures(args.pid)
    burst = Burst(args.addr, 1000, None, deadline_s=3)
    time.sleep(span(args, 2))
    held = proc_figures(args.pid)
    status, ms, end = fetch(args.addr, health(args), FRESH_TIMEOUT_S)
    states = peer_states(burst.done())
    burst.close()
    time.sleep(span(args, 2))
    return {"opened": burst.within(3), "errors": burst.errors, "held_at_end": states,
            "health_while_held": {"status": status or end, "ms": round(ms, 2)},
            "server_before": before, "server_held": held, "server_after": proc_figures(args.pid)}


def bigclaim(args):
    """300 POST /o/token/ claiming a 10^18-byte body and sending none, each on a new
    connection (closed once an answer's status line arrives, or after 1 s): how many got an
    answer, then whether GET /health still does."""
    payload = request(args, "POST", "/o/token/",
                      "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {BIGCLAIM}")
    budget_end = time.monotonic() + span(args, 15)
    statuses, unanswered, first_unanswered, attempted = {}, {}, None, 0
    for i in range(300):
        if time.monotonic() > budget_end:
            break
        attempted += 1
        status, _, end = fetch(args.addr, payload, 1, head_only=True)
        if status is None:
            unanswered[end] = unanswered.get(end, 0) + 1
            first_unanswered = first_unanswered or i + 1
        else:
            code = status.split(" ")[1] if " " in status else status
            statuses[code] = statuses.get(code, 0) + 1
    status, ms, end = fetch(args.addr, health(args), FRESH_TIMEOUT_S)
    return {"attempted": attempted, "answered": sum(statuses.values()), "statuses": statuses,
            "unanswered": unanswered, "first_unanswered": first_unanswered,
            "health_after": {"status": status or end, "ms": round(ms, 2)},
            "server_after": proc_figures(args.pid)}


def weird(args):
    """Malformed requests, each on its own connection, all at once: the status lines answered
    within 3 s (" | " between several), or how the connection ended without one."""
    cases = weird_requests(args)
    answers = {}

    def one(name, payload, want):
        status, end, count = None, "reset", 0
        try:
            with socket.create_connection(args.addr, timeout=WEIRD_TIMEOUT_S) as sock:
                deadline = time.monotonic() + WEIRD_TIMEOUT_S
                sock.sendall(payload)
                complete, partial, end = collect(sock, deadline, want)
                count = len(complete)
                status = " | ".join(complete + ([partial + " (incomplete)"] if partial else []))
        except TimeoutError:
            end = "timeout"
        except OSError:
            pass
        answer = status or {"timeout": "no answer", "closed": "closed"}.get(end, end)
        answers[name] = {"answer": answer, "responses": count}

    threads = [threading.Thread(target=one, args=(name, payload, want))
               for name, (payload, want) in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"cases": {name: answers[name] for name in cases}}


def weird_requests(args):
    """name: (request bytes, how many answers to wait for)."""
    host = f"Host: {args.host}".encode()
    smuggling_body = b"0\r\n\r\n" + health(args)  # the end of a chunked body, then a request
    client_hello = bytes.fromhex("16030100a5010000a10303") + bytes(32)
    high_bytes = bytes(range(0x80, 0x100))
    return {
        "high_bytes_header": (raw(b"GET /health HTTP/1.1", host, b"X-Bytes: " + high_bytes), 1),
        "non_ascii_request_line": (raw("GET /h\u00e9alth HTTP/1.1".encode(), host), 1),
        "http2_version": (raw(b"GET /health HTTP/2.0", host), 1),
        "lf_only": (b"GET /health HTTP/1.1\n" + host + b"\n\n", 1),
        "tls_client_hello": (client_hello, 1),
        "header_64k": (raw(b"GET /health HTTP/1.1", host, b"X-Big: " + b"a" * 65536), 1),
        "te_xchunked_smuggle": (raw(b"POST /health HTTP/1.1", host, b"Transfer-Encoding: xchunked",
                                    f"Content-Length: {len(smuggling_body)}".encode()) + smuggling_body, 2),
        "nul_in_header": (raw(b"GET /health HTTP/1.1", host, b"X-Nul: a\x00b"), 1),
    }


def raw(*lines):
    """A request head from its lines (bytes), CRLF-terminated."""
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n"


SCENARIOS = {f.__name__: f for f in (burst128, browser48, slow_clients, idle1000, weird, bigclaim)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", required=True, help="HOST:PORT of the server")
    parser.add_argument("--pid", type=int, help="the server's process id")
    parser.add_argument("--token", help="a bearer token with scope read")
    parser.add_argument("--workers", type=int, default=2, help="the server's worker threads")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--smoke", action="store_true", help="shorter holds and budgets")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    args.host, args.addr = args.addr, (host, int(port))
    names = args.only.split(",")
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    # idle1000 and slow_clients hold more sockets than a default soft limit allows.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for name in names:
        figures = SCENARIOS[name](args)
        if args.pid is not None:
            figures["server_alive"] = proc_figures(args.pid) is not None
        print("EDGE_RESULT " + json.dumps({"scenario": name, **figures}), flush=True)


if __name__ == "__main__":
    main()
