"""Load benchmark of the scale-out set-up: many patients at once through the widget API,
driven by locust (bench/locustfile.py), against compose.yaml's topology run on this
machine without Docker, as tests/test_scale_out.py does: a throw-away PostgreSQL
(initdb into a temp folder), redis-server for the shared rate-limit counters,
`triagebot db upgrade` once, N `triagebot serve` processes (compose.yaml's command and
environment) and deploy/nginx.conf in front. Alerts go to a local webhook receiver.

Reports requests/s, p50/p95/p99 per request and overall, errors by kind, alert delay
(read from the database after the outbox has drained), peak RSS of each app process, the
CPU each part used (and what other processes on the machine used meanwhile: the apps' own
request times are split by it), and how many database connections were opened.
Everything it starts is stopped on exit, also on Ctrl+C.

Run with `make bench`, or `python -m bench.load [--users 200 --duration 60 --spawn-rate 50
--processes 2]`. Needs Debian's postgresql, redis-server and nginx (`make system-deps`) and
the `bench` extra (`pip install -e '.[bench]'`: locust, psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

from bench.compose_local import (
    BIN,
    NGINX,
    REDIS,
    ROOT,
    app_environment,
    command,
    nginx_conf,
    redis_answers,
    start,
    wait,
)
from bench.rest_channel import free_port

# Far above what the load sends: all of it comes from 127.0.0.1, one "client" to the limits.
# They stay on (and counted in Redis), as in production.
NO_LIMIT = "1000000/minute"


# ------------------------------------------------------------------------------ the set-up


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def pg_bin() -> str:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        sys.exit("PostgreSQL not found: `make system-deps` installs Debian's postgresql")
    return bins[-1]


def start_postgres(stack: ExitStack) -> tuple[str, Path]:
    """A throw-away PostgreSQL (stock settings: fsync on) with an empty database; returns
    its URL and data folder."""
    bins = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="triage-load-pg-"))
    stack.callback(shutil.rmtree, base, ignore_errors=True)
    os.chmod(base, 0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", free_port()
    initdb = [f"{bins}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base}"
    ctl = [f"{bins}/pg_ctl", "-D", str(data)]
    stack.callback(
        subprocess.run, _as_postgres([*ctl, "-m", "fast", "-w", "stop"]), capture_output=True
    )
    subprocess.run(
        _as_postgres([*ctl, "-o", options, "-l", f"{base}/log", "-w", "start"]),
        check=True,
        capture_output=True,
    )

    async def create() -> None:
        import asyncpg

        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        try:
            await connection.execute("CREATE DATABASE triage")
        finally:
            await connection.close()

    asyncio.run(create())
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/triage", data


def start_redis(stack: ExitStack, folder: Path) -> tuple[int, subprocess.Popen]:
    port = free_port()
    process = start(
        stack,
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        folder / "redis.log",
    )

    wait(lambda: redis_answers(port), "redis-server")
    return port, process


class Receiver:
    """The alert webhook: answers 204 after `delay` seconds and counts what it got."""

    def __init__(self, stack: ExitStack, delay: float) -> None:
        self.posts = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                time.sleep(delay)
                with lock:
                    outer.posts += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        port = free_port()
        ThreadingHTTPServer.request_queue_size = 128
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        stack.callback(self.server.server_close)
        stack.callback(self.server.shutdown)
        self.url = f"http://127.0.0.1:{port}/alerts"


# ---------------------------------------------------------------------- measuring processes


class Sampler:
    """Every `interval` s: the RSS and CPU time of each process of each named group (a
    group is a root pid and its children), kept as peaks and totals."""

    def __init__(self, groups: dict[str, int], interval: float = 0.5) -> None:
        self.groups = groups
        self.interval = interval
        self.peak_rss: dict[str, int] = dict.fromkeys(groups, 0)
        self.first_rss: dict[str, int] = {}
        self._cpu: dict[str, dict[int, float]] = {name: {} for name in groups}
        self._cpu_at_start: dict[str, float] = {}
        # (time, cores busy on the machine outside the groups) for each interval
        self.others: list[tuple[float, float]] = []
        self._last: tuple[float, float, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self, pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            if pid == os.getpid():  # this script (webhook receiver, sampler), not its children
                return [root]
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def sample(self) -> None:
        for name, pid in self.groups.items():
            rss = 0
            processes = self._processes(pid)
            for process in processes:
                try:
                    with process.oneshot():
                        # A group's processes share memory (PostgreSQL's shared buffers):
                        # each one's proportional share (PSS), not its RSS, is summed.
                        memory = process.memory_full_info() if len(processes) > 1 else None
                        rss += memory.pss if memory else process.memory_info().rss
                        times = process.cpu_times()
                        used = times.user + times.system
                        if process.pid == pid and pid != os.getpid():
                            # and its children that have ended (PostgreSQL's short-lived
                            # backends: one per new connection)
                            used += times.children_user + times.children_system
                        self._cpu[name][process.pid] = used
                except psutil.NoSuchProcess:
                    continue
            self.peak_rss[name] = max(self.peak_rss[name], rss)
            self.first_rss.setdefault(name, rss)
        t = psutil.cpu_times()
        # interrupt time (loopback networking) is left out: no process is charged for it
        now, busy = time.time(), t.user + t.nice + t.system
        ours = sum(self.cpu_seconds().values())
        if self._last is not None:
            then, busy_then, ours_then = self._last
            if now > then:
                others = ((busy - busy_then) - (ours - ours_then)) / (now - then)
                self.others.append((now, max(0.0, others)))
        self._last = (now, busy, ours)

    def cpu_seconds(self) -> dict[str, float]:
        return {name: sum(times.values()) for name, times in self._cpu.items()}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Sampler:
        self.sample()
        self._cpu_at_start = self.cpu_seconds()
        self._started = time.monotonic()
        psutil.cpu_percent(None)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        self.wall = time.monotonic() - self._started
        self.machine_cpu_percent = psutil.cpu_percent(None)
        end = self.cpu_seconds()
        self.cores_used = {
            name: (end[name] - self._cpu_at_start.get(name, 0.0)) / self.wall for name in end
        }


# ---------------------------------------------------------------------------- the results


def percentile(response_times: dict[str, int], count: int, q: float) -> float | None:
    """locust's own percentile of its response-time histogram (ms, rounded as it stores)."""
    if not count:
        return None
    above, done = int(count * q), 0
    for key in sorted(response_times, key=float, reverse=True):
        done += response_times[key]
        if count - done <= above:
            return float(key)
    return 0.0


def read_locust(path: Path) -> dict:
    """The final statistics the locustfile saved: per request (method and route) and overall."""
    data = json.loads(path.read_text())
    seconds = data["seconds"] or 1.0

    def summary(entry: dict) -> dict:
        n, times = entry["num_requests"], entry["response_times"]
        return {
            "count": n,
            "failures": entry["num_failures"],
            "per_s": round(n / seconds, 1),
            # (locust keeps times rounded to 2 digits: a p99 of 700 may mean 695)
            **{f"p{q}_ms": percentile(times, n, q / 100) for q in (50, 95, 99)},
            "max_ms": round(entry["max_response_time"] or 0),
        }

    entries = sorted(data["entries"], key=lambda e: (e["name"], e["method"]))
    requests = {f"{e['method']} {e['name']}": summary(e) for e in entries}
    requests["overall"] = summary(data["total"])
    failures = [
        {"request": f"{e['method']} {e['name']}", "error": e["error"], "count": e["occurrences"]}
        for e in sorted(data["errors"], key=lambda e: -e["occurrences"])
    ]
    return {"requests": requests, "failures": failures, "seconds": round(seconds, 1)}


async def read_alerts(database_url: str, drain_seconds: float) -> dict:
    """Wait until the outbox has delivered every alert (or `drain_seconds` pass), then the
    delays from the database: raised (created_at) -> delivered (delivered_at), and, since
    an escalated or updated alert is delivered again, also its last change -> delivered."""
    from sqlalchemy import func, select, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.store.models import Alert, AlertDelivery, AlertEvent, Conversation, Message

    engine = create_async_engine(database_url)
    try:
        started = time.monotonic()
        async with engine.connect() as db:
            while True:
                waiting = await db.scalar(
                    select(func.count()).where(Alert.delivery_status != "delivered")
                )
                await db.rollback()
                if not waiting or time.monotonic() - started > drain_seconds:
                    break
                await asyncio.sleep(0.5)
            drained = time.monotonic() - started
            last_change = (
                select(AlertEvent.alert_id, func.max(AlertEvent.at).label("at"))
                .where(AlertEvent.kind != "repeated")
                .group_by(AlertEvent.alert_id)
                .subquery()
            )
            rows = (
                await db.execute(
                    select(Alert.created_at, Alert.delivered_at, Alert.severity, last_change.c.at)
                    .join(last_change, last_change.c.alert_id == Alert.id)
                    .where(Alert.delivery_status == "delivered")
                )
            ).all()
            alerts = await db.scalar(select(func.count()).select_from(Alert))
            conversations = await db.scalar(select(func.count()).select_from(Conversation))
            messages = await db.scalar(select(func.count()).select_from(Message))
            # one claim time per delivery round of an outbox worker (both processes run one)
            rounds = await db.scalar(select(func.count(func.distinct(AlertDelivery.attempted_at))))
            # connections opened to the database (ended ones + open ones)
            sessions = (
                await db.execute(
                    text(
                        "SELECT sessions, numbackends FROM pg_stat_database "
                        "WHERE datname = current_database()"
                    )
                )
            ).one()
            by_kind = select(AlertEvent.kind, func.count()).group_by(AlertEvent.kind)
            events = dict((await db.execute(by_kind)).all())
    finally:
        await engine.dispose()
    raised = sorted((d - c).total_seconds() for c, d, _, _ in rows)
    changed = sorted((d - at).total_seconds() for _, d, _, at in rows)
    return {
        "alerts": alerts,
        "delivered": len(rows),
        "undelivered": alerts - len(rows),
        "drain_wait_s": round(drained, 1),
        "by_severity": dict(Counter(severity for _, _, severity, _ in rows)),
        "events": events,
        "delivery_rounds": rounds,
        "raised_to_delivered_s": _spread(raised),
        "last_change_to_delivered_s": _spread(changed),
        "conversations": conversations,
        "messages": messages,
        "database_sessions": sessions.sessions + sessions.numbackends,
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(len(values) * q))], 3)

    return {
        "p50": round(statistics.median(values), 3),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(values[-1], 3),
    }


QUIET_CORES = 0.2  # other processes' CPU below which a moment counts as quiet


def app_times(logs: list[Path], others: list[tuple[float, float]]) -> dict:
    """The apps' own time per request (their access lines' `ms`), split by what the rest of
    the machine was doing meanwhile: quiet (other processes < QUIET_CORES on average over the
    request) or busy. This machine is shared; the quiet part is what the set-up does alone."""
    import bisect

    times = [t for t, _ in others]
    quiet: list[float] = []
    busy: list[float] = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if '"event": "request"' not in line:
                continue
            entry = json.loads(line)
            if not str(entry.get("route", "")).startswith("/api/conversations"):
                continue
            end = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
            start = end - entry["ms"] / 1000
            lo = bisect.bisect_left(times, start)
            hi = min(len(others), bisect.bisect_right(times, end) + 1)
            during = [cores for _, cores in others[lo:hi]]
            load = sum(during) / len(during) if during else 0.0
            (quiet if load < QUIET_CORES else busy).append(entry["ms"])
    quiet_share = sum(1 for _, c in others if c < QUIET_CORES) / max(1, len(others))
    return {
        "quiet_share_of_run": round(quiet_share, 2),
        "quiet": {"count": len(quiet), **(_spread(sorted(quiet)) or {})},
        "busy": {"count": len(busy), **(_spread(sorted(busy)) or {})},
    }


def log_problems(logs: list[Path]) -> dict[str, int]:
    """Warning and error lines of the apps' JSON logs, counted by their event."""
    seen: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if line.strip():
                    seen[f"(not JSON) {line[:80]}"] += 1
                continue
            if entry.get("level") in ("warning", "error", "critical"):
                seen[f"{entry['level']}: {str(entry.get('event'))[:80]}"] += 1
    return dict(seen.most_common(10))


def machine() -> dict:
    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    described = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    commit = described.stdout.strip() if described.returncode == 0 else "not a git checkout"
    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": version([f"{pg_bin()}/postgres", "--version"]).split(" (Debian")[0],
        "redis": " ".join(version([REDIS, "--version"]).split()[:3]),
        "nginx": version([NGINX, "-v"]).removeprefix("nginx version: "),
        "locust": " ".join(version([str(BIN / "locust"), "--version"]).split()[:2]),
        "commit": commit,
    }


# ----------------------------------------------------------------------------------- main


def run(args: argparse.Namespace, stack: ExitStack) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="triage-load-"))
    if not args.keep:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
    print(f"setting up in {folder} ...", file=sys.stderr)
    database_url, pg_data = start_postgres(stack)
    redis_port, redis = start_redis(stack, folder)
    receiver = Receiver(stack, args.receiver_ms / 1000)
    env = app_environment(database_url, redis_port, receiver.url)
    for rule in ("CONVERSATIONS", "MESSAGES", "MESSAGES_PER_CONVERSATION", "TRIAGE"):
        env[f"TRIAGE_RATE_LIMIT_{rule}"] = NO_LIMIT

    migrated = subprocess.run(command("migrate"), env=env, capture_output=True, text=True)
    if migrated.returncode:
        raise RuntimeError(f"triagebot db upgrade failed:\n{migrated.stderr}")

    ports = [free_port() for _ in range(args.processes)]
    apps = [
        start(stack, command("app1", port), folder / f"app{n}.log", env=env)
        for n, port in enumerate(ports, 1)
    ]
    for n, port in enumerate(ports, 1):
        try:
            wait(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz").is_success, "app")
        except RuntimeError:
            tail = (folder / f"app{n}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"app{n} did not start; its log ends:\n{tail}") from None

    proxy_port = free_port()
    (folder / "nginx.conf").write_text(nginx_conf(ports, proxy_port, folder))
    nginx = start(
        stack,
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr",
         "-g", "daemon off;"],
        folder / "nginx.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{proxy_port}"
    wait(lambda: httpx.get(f"{url}/readyz").is_success, "nginx")

    postmaster = int((pg_data / "postmaster.pid").read_text().split()[0])
    prefix = folder / "locust"
    locust_command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
        "--host", url, "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0",
    ]  # fmt: skip
    print(
        f"{args.users} patients, {args.duration} s, {args.processes} app processes behind "
        f"nginx at {url} ...",
        file=sys.stderr,
    )
    think = {
        **os.environ,
        "TRIAGE_BENCH_THINK": args.think,
        "TRIAGE_BENCH_RESULTS": str(folder / "locust.json"),
    }
    locust = start(stack, locust_command, folder / "locust.log", cwd=ROOT, env=think)
    groups = {f"app{n}": p.pid for n, p in enumerate(apps, 1)}
    groups |= {"postgres": postmaster, "nginx": nginx.pid, "redis": redis.pid}
    groups["locust"] = locust.pid
    groups["this script"] = os.getpid()  # the webhook receiver and this sampler
    with Sampler(groups) as sampler:
        if locust.wait(timeout=args.duration + 120):
            raise RuntimeError(f"locust failed:\n{(folder / 'locust.log').read_text()[-3000:]}")
    results = read_locust(folder / "locust.json")
    locust_log = (folder / "locust.log").read_text(errors="replace")
    results["locust_cpu_warning"] = "CPU usage above 90%" in locust_log
    results["alerts"] = asyncio.run(read_alerts(database_url, args.drain))
    results["alerts"]["webhook_posts"] = receiver.posts
    results["alerts"]["receiver_ms"] = args.receiver_ms
    app_logs = [folder / f"app{n}.log" for n in range(1, args.processes + 1)]
    results["app_log_problems"] = log_problems(app_logs)
    results["app_ms_by_machine_load"] = app_times(app_logs, sampler.others)
    results["rss_mib"] = {
        name: {
            "start": round(sampler.first_rss.get(name, 0) / 2**20),
            "peak": round(sampler.peak_rss[name] / 2**20),
        }
        for name in groups
    }
    results["cores_used"] = {name: round(v, 2) for name, v in sampler.cores_used.items()}
    app_cpu = sum(sampler.cores_used[f"app{n}"] for n in range(1, args.processes + 1))
    total = results["requests"]["overall"]
    results["app_cpu_ms_per_request"] = round(app_cpu * 1000 / max(total["per_s"], 0.1), 1)
    results["machine_cpu_percent"] = sampler.machine_cpu_percent
    # Whatever else ran on the machine meanwhile (its busy cores not used by the set-up).
    busy = sampler.machine_cpu_percent / 100 * psutil.cpu_count()
    results["cores_used"]["other processes"] = round(
        max(0.0, busy - sum(sampler.cores_used.values())), 2
    )
    results["load"] = {
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration_s": args.duration,
        "processes": args.processes,
        "think_time_s": args.think,
    }
    return results


def report(results: dict) -> str:
    m, load, a = results["machine"], results["load"], results["alerts"]
    lines = [
        f"Load benchmark, {m['date']} — {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, "
        f"commit {m['commit']}",
        f"{load['users']} patients (think time {load['think_time_s']} s, spawned "
        f"{load['spawn_rate']}/s) for {load['duration_s']} s through nginx -> "
        f"{load['processes']} app processes -> {m['postgresql']}; {m['locust']}",
        "",
        f"locust's statistics cover {results['seconds']} s (first to last request)",
        f"{'request':<48}{'count':>8}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
        f"{'max':>7}  (ms)",
    ]
    for name, r in results["requests"].items():
        lines.append(
            f"{name:<48}{r['count']:>8}{r['failures']:>6}{r['per_s']:>8}"
            + "".join(f"{_ms(r[k]):>7}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        )
    lines.append("")
    if results["failures"]:
        lines.append("errors:")
        lines += [f"  {f['count']:>6} {f['request']}: {f['error']}" for f in results["failures"]]
    else:
        lines.append("errors: none")
    if results["app_log_problems"]:
        lines.append("app log warnings/errors:")
        lines += [f"  {n:>6} {what}" for what, n in results["app_log_problems"].items()]
    if results["locust_cpu_warning"]:
        lines.append("locust warned: its CPU was above 90% (the load generator may be the limit)")
    raised, changed = a["raised_to_delivered_s"], a["last_change_to_delivered_s"]
    lines += [
        "",
        f"alerts: {a['alerts']} ({a['by_severity']}), events {a['events']}; delivered "
        f"{a['delivered']}, undelivered {a['undelivered']} (waited {a['drain_wait_s']} s after "
        f"the load); webhook POSTs {a['webhook_posts']} in {a['delivery_rounds']} rounds (receiver "
        f"{a['receiver_ms']} ms each)",
        f"alert delay raised -> delivered (s): {raised}",
        *([f"alert delay last change -> delivered (s): {changed}"] if changed != raised else []),
        f"stored: {a['conversations']} conversations, {a['messages']} messages; "
        f"{a['database_sessions']} connections were opened to the database",
        "",
        "memory MiB, start -> peak (RSS; PSS summed for several processes): "
        + ", ".join(f"{n} {v['start']} -> {v['peak']}" for n, v in results["rss_mib"].items()),
        f"CPU cores used (machine {results['machine_cpu_percent']}% busy): "
        + ", ".join(f"{n} {v}" for n, v in results["cores_used"].items()),
        f"app CPU per request: {results['app_cpu_ms_per_request']} ms",
        _split(results["app_ms_by_machine_load"]),
    ]
    return "\n".join(lines)


def _split(split: dict) -> str:
    def part(name: str) -> str:
        p = split[name]
        if not p["count"]:
            return f"{name}: none"
        spread = " ".join(f"{q} {p[q]:.0f}" for q in ("p50", "p95", "p99"))
        return f"{name}: {p['count']} requests, {spread}"

    return (
        f"apps' own time per widget request (ms), by what other processes on the machine did "
        f"(quiet: < {QUIET_CORES} cores, {split['quiet_share_of_run']:.0%} of the run) — "
        f"{part('quiet')}; {part('busy')}"
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="patients at once (200)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument("--spawn-rate", type=float, default=50, help="new patients/s (50)")
    parser.add_argument("--processes", type=int, default=2, help="app processes (2)")
    parser.add_argument(
        "--think", default="1-3", help="seconds between a patient's requests, MIN-MAX (1-3)"
    )
    parser.add_argument(
        "--receiver-ms", type=float, default=50, help="the webhook receiver's time per POST (50)"
    )
    parser.add_argument(
        "--drain", type=float, default=120, help="longest wait for undelivered alerts (120 s)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the logs' temp folder")
    args = parser.parse_args()

    def terminated(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    with ExitStack() as stack:
        try:
            results = {"machine": machine(), **run(args, stack)}
        except KeyboardInterrupt:
            print("interrupted: stopping everything", file=sys.stderr)
            raise SystemExit(130) from None
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
