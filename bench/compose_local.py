"""compose.yaml's scale-out set-up on this machine, without Docker: its commands and app
environment pointed at local PostgreSQL and Redis, and deploy/nginx.conf with local
addresses and paths. Shared by tests/test_scale_out.py (which checks the set-up) and
bench/load.py (which loads it); each changes only what it needs on top. Starting,
waiting for and stopping local servers serve tools/rasa_check.py too."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait(check, what: str, timeout: float = 60) -> None:
    """Until `check()` is true (connection errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


def start(stack: ExitStack, command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """A server in its own session (a Ctrl+C reaches only us; we stop it, in order), its
    output in `log`; stopped when `stack` closes."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=out, start_new_session=True, **kwargs
        )
    stack.callback(stop, process)
    return process


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def running(process: subprocess.Popen, what: str) -> bool:
    """True while `process` runs; an error once it has exited (for `wait`'s checks)."""
    if process.poll() is not None:
        raise RuntimeError(f"{what} exited with {process.returncode}")
    return True


def redis_answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith(b"+PONG")


def app_environment(database_url: str, redis_port: int, webhook: str = "") -> dict[str, str]:
    """The app services' environment from compose.yaml, pointed at this machine."""
    env = {**os.environ, **{k: str(v) for k, v in SERVICES["app1"]["environment"].items()}}
    env.pop("TRIAGE_DATABASE_URL", None)
    env["DATABASE_URL"] = database_url
    env["TRIAGE_RATE_LIMIT_STORAGE"] = re.sub(
        r"//[^/]+/", f"//127.0.0.1:{redis_port}/", env["TRIAGE_RATE_LIMIT_STORAGE"]
    )
    env["TRIAGE_TRUSTED_PROXIES"] = '["127.0.0.1"]'  # nginx runs on this machine
    env["ALERT_WEBHOOK_URL"] = webhook
    return env


def command(service: str, port: int | None = None) -> list[str]:
    """A service's command from compose.yaml; an app on 127.0.0.1:`port`."""
    found = [str(BIN / w) if w == "triagebot" else w for w in SERVICES[service]["command"]]
    if port is not None:
        found[found.index("--port") + 1] = str(port)
        found[found.index("--host") + 1] = "127.0.0.1"
    return found


def nginx_conf(ports: list[int], proxy_port: int, folder: Path) -> str:
    """deploy/nginx.conf with this machine's addresses and paths (limits unchanged)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=0;\n" for p in ports)
    conf, found = re.subn(r"(?:[ \t]*server app\d+:8000 [^\n]*\n)+", servers, conf)
    assert found == 1, "deploy/nginx.conf's upstream block changed"
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{proxy_port};")
    conf = conf.replace("pid /tmp/nginx.pid;", f"pid {folder}/nginx.pid;")
    temp = "".join(
        f"    {kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {\n", "http {\n" + temp, 1)
    if os.geteuid() == 0:  # workers would run as nobody, who cannot enter our temp folders
        conf = "user root;\n" + conf
    return conf
