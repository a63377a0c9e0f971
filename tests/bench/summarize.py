#!/usr/bin/env python3
"""Turns what tests/bench/run measured into a printed table and results.json.

usage: summarize.py MODE SCENARIOS.jsonl FIGURES.tsv OUT.json
  SCENARIOS.jsonl  one wrk result per line (report.lua's figures plus the scenario's name)
  FIGURES.tsv      KEY<TAB>JSON-VALUE lines: every other figure, the edge probe's (edge_*) too
The machine's description is gathered here. The targets are issue 5's, shown for reading
only: the benchmark never fails on a figure, only on wrong answers.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

# Issue 5's targets on its 2-core machine: (requests/s at least, p99 ms under).
TARGETS = {
    "validate": (30000, 5),
    "introspect": (25000, None),
    "cc_normal": (6000, None),
    "cc_full": (1000, None),
}
EDGE = ("burst128", "browser48", "slow_clients", "idle1000", "weird", "bigclaim")
WHAT = {
    "ceiling": "GET /health (no database)",
    "discovery": "GET openid-configuration",
    "jwks": "GET jwks.json (keys from DB)",
    "userinfo": "GET /o/userinfo/, bearer",
    "validate": "GET /api/hello, bearer token",
    "introspect": "POST /o/introspect/, Basic",
    "cc_normal": "client_credentials, normal",
    "cc_full": "client_credentials, full",
    "refresh": "refresh_token, rotation",
    "refresh_openid": "refresh + RS256 id_token",
    "password": "password grant (argon2id)",
}


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.machine())
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_model": cpu,
            "mem_total_mib": mem_kb // 1024, "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "")}


def git(*args):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()


def read_figures(path):
    figures = {}
    for line in open(path):
        key, value = line.rstrip("\n").split("\t", 1)
        figures[key] = json.loads(value)
    return figures


def mib(n):
    return f"{n / 1048576:.1f} MiB"


def served(s):
    return f"{s['connections'] - s['connections_starved']}/{s['connections']}"


def print_table(scenarios, figures, ceiling):
    head = f"{'scenario':<14} {'what':<29} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'% ceil':>7} {'requests':>9} {'conns':>6} {'RSS MiB':>8}  target"
    print(head)
    print("-" * len(head))
    for name, s in scenarios.items():
        share = f"{100 * s['rps'] / ceiling:.1f}%" if ceiling else "-"
        target = ""
        if name in TARGETS:
            rps, p99 = TARGETS[name]
            met = s["rps"] >= rps and (p99 is None or s["p99_us"] / 1000 < p99)
            target = f">= {rps}/s" + (f", p99 < {p99} ms" if p99 else "") + (" met" if met else " NOT met")
        print(f"{name:<14} {WHAT.get(name, ''):<29} {s['rps']:>9.0f} {s['p50_us'] / 1000:>7.2f} "
              f"{s['p99_us'] / 1000:>7.2f} {share:>7} {s['requests']:>9} {served(s):>6} "
              f"{s['server_hwm_kb'] / 1024:>8.1f}  {target}")
    print("conns: connections the server was reading, of those wrk opened (sampled halfway).\n"
          "RSS MiB: the server's peak resident set so far, read after the scenario; "
          "cc_full runs on a server of its own.")
    starved = {n: s["connections_starved"] for n, s in scenarios.items() if s["connections_starved"]}
    if starved:
        print(f"WARNING: connections left unserved for the whole run ({starved}): their requests "
              "never completed, wrk counts no error for them and its latencies leave them out, "
              "so the load was less concurrent than it looks.")
    signing = figures.get("signing_derived")
    if signing:
        print(f"id_token signing, derived (refresh_openid vs refresh): "
              f"{signing['extra_ms_per_request']:.2f} ms more per request at full load (1/rate), "
              f"p50 {signing['p50_extra_ms']:+.2f} ms with {signing['connections']} requests in "
              "flight; signed after the transaction commits, on every core at once")
    print()
    f = figures
    start_new, start_old = f["startup_new_db"], f["startup_existing_db"]
    rss = f["peak_rss_kb"]
    filled, cleared, fill = f["db_after_tokens"], f["db_after_cleartokens"], f["fill"]
    lines = [
        ("load average at start / end", f"{f['loadavg_at_start']} / {f['loadavg_at_end']} (1, 5, 15 min)"),
        ("release binary", f"{f['binary_bytes']} bytes ({mib(f['binary_bytes'])})"),
        ("start-up, new database", f"{start_new['median_ms']} ms median of {start_new['runs_ms']}"),
        ("start-up, provisioned database", f"{start_old['median_ms']} ms median of {start_old['runs_ms']}"),
        ("peak RSS (VmHWM), load scenarios", f"{rss['load']} kB ({mib(rss['load'] * 1024)}); target < 30 MB"),
        ("peak RSS, durability full server", f"{rss['full']} kB ({mib(rss['full'] * 1024)})"),
        ("peak RSS, while issuing the tokens", f"{rss['fill']} kB ({mib(rss['fill'] * 1024)})"),
        ("tokens issued (access_tokens rows)", f"{filled['rows']['access_tokens']} in about {fill['seconds']} s "
                                               f"({fill['issued'] / fill['seconds']:.0f}/s, client_credentials, normal)"),
        ("WAL at its largest while issuing", f"{fill['wal_peak_bytes']} bytes ({mib(fill['wal_peak_bytes'])}, sampled every 0.1 s)"),
        ("database after them: file + WAL / live",
         f"{filled['db_bytes']} + {filled['wal_bytes']} / {filled['live_bytes']} bytes "
         f"({mib(filled['db_bytes'])} + {mib(filled['wal_bytes'])} / {mib(filled['live_bytes'])})"),
        ("cleartokens", f"{f['cleartokens_seconds']} s: {f['cleartokens_output']}"),
        ("database after cleartokens: file + WAL / live / vacuumed",
         f"{cleared['db_bytes']} + {cleared['wal_bytes']} / {cleared['live_bytes']} / {cleared['vacuumed_bytes']} bytes "
         f"({mib(cleared['db_bytes'])} + {mib(cleared['wal_bytes'])} / {mib(cleared['live_bytes'])} / {mib(cleared['vacuumed_bytes'])})"),
    ]
    print_lines(lines)


def signing_cost(scenarios):
    """One RS256 signature's cost, derived from refresh and refresh_openid in the same run:
    the same transaction plus the user lookup, the claims and the signature, which happen
    inside the write transaction and so one at a time. The extra time per request at full load
    (the difference of 1/rate) is then about one signature's wall time; the p50 difference is
    that times the requests queued for the write lock. None without both scenarios."""
    plain, openid = scenarios.get("refresh"), scenarios.get("refresh_openid")
    if not plain or not openid or not plain["rps"] or not openid["rps"]:
        return None
    return {"extra_ms_per_request": round(1000 / openid["rps"] - 1000 / plain["rps"], 3),
            "p50_extra_ms": (openid["p50_us"] - plain["p50_us"]) / 1000,
            "connections": openid["connections"]}


def print_lines(lines):
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")


def ms(value):
    return "-" if value is None else f"{value} ms"


def counts(d):
    """{"a": 1, "b": 2} as "a 1, b 2"; "none" when empty."""
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def answered(r):
    return (f"{r['answered_1s']} answered within 1 s, {r['answered_5s']} within 5 s; "
            f"failed: {counts(r['errors'])}")


def latencies(name, r):
    return (f"{name}: {r['count']} requests, {r['failures']} failed, "
            f"p50 {ms(r['p50_ms'])}, p99 {ms(r['p99_ms'])}")


def server(p):
    """The /proc figures the probe read, or why there are none."""
    if p is None:
        return "server gone"
    return (f"{p['threads']} threads, fds {p['fds']} (sockets {p['sockets']}), "
            f"RSS {p['vmrss']} kB (peak {p['vmhwm']} kB)")


def print_edge(f):
    """The edge probe's figures (edge_probe.py; each scenario on a server of its own)."""
    e = {name: f[f"edge_{name}"] for name in EDGE}
    slow, idle, big = e["slow_clients"], e["idle1000"], e["bigclaim"]
    print(f"\nThe HTTP edge (edge_probe.py), each scenario on a server of its own with "
          f"{f['edge_server']['threads']} workers:")
    fresh = [latencies("fresh GET /health", slow["health"])]
    if "api_hello" in slow:
        fresh.append(latencies("GET /api/hello", slow["api_hello"]))
    lines = [
        ("burst128: 128 connections at once", answered(e["burst128"])),
        ("browser48: 8 clients x 6 connections",
         f"{answered(e['browser48'])}; {e['browser48']['clients_served_1s']} of 8 clients "
         "wholly served within 1 s"),
        (f"slow_clients: {slow['stalled_bodies']} bodies stalled, {slow['trickling']} heads trickling",
         "; ".join(fresh) + " (failed: no answer within 2 s); "
         f"the held connections at the end: {counts(slow['held_at_end'])}"),
        (f"idle1000: {idle['opened']} idle connections",
         f"before: {server(idle['server_before'])}; held: {server(idle['server_held'])}; "
         f"after closing: {server(idle['server_after'])}; GET /health while held: "
         f"{idle['health_while_held']['status']} in {idle['health_while_held']['ms']} ms"),
        (f"bigclaim: Content-Length 10^18, {f['edge_server']['bigclaim_nofile']} files",
         f"{big['answered']} of {big['attempted']} answered ({counts(big['statuses'])}); "
         f"first unanswered: {big['first_unanswered'] or '-'} ({counts(big['unanswered'])}); "
         f"GET /health after: {big['health_after']['status']}; {server(big['server_after'])}"),
    ]
    for name, case in e["weird"]["cases"].items():
        several = f" ({case['responses']} answers)" if case["responses"] > 1 else ""
        lines.append((f"weird: {name}", case["answer"] + several))
    print_lines(lines)
    dead = [name for name, r in e.items() if r.get("server_alive") is False]
    if dead:
        print(f"WARNING: the server did not survive {', '.join(dead)}.")


def main():
    mode, scenarios_path, figures_path, out = sys.argv[1:5]
    scenarios = {}
    for line in open(scenarios_path):
        s = json.loads(line)
        scenarios[s.pop("scenario")] = s
    figures = read_figures(figures_path)
    ceiling = scenarios.get("ceiling", {}).get("rps")
    for s in scenarios.values():
        s["share_of_ceiling"] = round(s["rps"] / ceiling, 4) if ceiling else None
    figures["signing_derived"] = signing_cost(scenarios)
    print_table(scenarios, figures, ceiling)
    print_edge(figures)
    results = {
        "mode": mode,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git("rev-parse", "HEAD"),
        "git_worktree_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "machine": machine(),
        "scenarios": scenarios,
        "targets": {k: {"rps_at_least": r, "p99_ms_under": p} for k, (r, p) in TARGETS.items()},
        **figures,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as fh:
        json.dump(results, fh, indent=2)
        fh.write("\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
