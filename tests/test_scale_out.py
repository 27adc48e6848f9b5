"""compose.yaml's scale-out set-up, run here without Docker: its migrate and serve
commands with its environment, two app processes on one PostgreSQL, Redis for the shared
rate-limit counters, and deploy/nginx.conf in front (Debian's nginx and redis-server).
Only what must differ outside Docker is changed: addresses, ports, file paths, and the
slow-client timeouts (10 s -> 1 s, so the test does not wait)."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from bench.compose_local import (
    NGINX,
    REDIS,
    ROOT,
    SERVICES,
    app_environment,
    command,
    nginx_conf,
    redis_answers,
    start,
    wait,
)
from tests.conftest import _create_database, free_port

ALIASES = {"DATABASE_URL", "ALERT_WEBHOOK_URL"}  # settings read without the TRIAGE_ prefix


def test_compose_runs_the_commands_the_readme_gives():
    readme = (ROOT / "README.md").read_text()
    for name in ("migrate", "app1", "app2"):
        line = " ".join(SERVICES[name]["command"])
        assert f"`{line}`" in readme, f"{name}: {line!r} is not in the README"
    assert SERVICES["app1"] == SERVICES["app2"]
    assert "docker compose up --build -d" in readme
    assert "docker compose up --build -d" in (ROOT / "compose.yaml").read_text()


def test_compose_sets_only_settings_the_service_has():
    fields = {f"TRIAGE_{name.upper()}" for name in Settings.model_fields} | ALIASES
    for name in ("migrate", "app1"):
        unknown = set(SERVICES[name]["environment"]) - fields
        assert not unknown, f"{name} sets variables the service does not read: {unknown}"


@dataclass
class Deployment:
    url: str
    logs: list[Path]


@pytest.fixture(scope="module")
def deployment(postgres_server: str, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("scale-out")
    with ExitStack() as stack:  # the servers stop in reverse order of start
        yield from _deploy(postgres_server, folder, stack)


def _environment(database_url: str, redis_port: int) -> dict[str, str]:
    env = app_environment(database_url, redis_port)
    env["TRIAGE_RATE_LIMIT_CONVERSATIONS"] = "3/minute"  # small, to see it shared
    return env


def _nginx_conf(ports: list[int], proxy_port: int, folder: Path) -> str:
    conf = nginx_conf(ports, proxy_port, folder)
    return re.sub(r"(client_(?:header|body)_timeout) 10s;", r"\1 1s;", conf)


def _deploy(server: str, folder: Path, stack: ExitStack) -> Iterator[Deployment]:
    import asyncio

    database_url = asyncio.run(_create_database(server))
    redis_port = free_port()
    redis = [REDIS, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
    start(stack, redis, folder / "redis.log")
    wait(lambda: redis_answers(redis_port), "redis-server")
    env = _environment(database_url, redis_port)

    migrated = subprocess.run(command("migrate"), env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr

    ports, logs = [free_port(), free_port()], []
    for number, port in enumerate(ports, 1):
        logs.append(folder / f"app{number}.log")
        start(stack, command(f"app{number}", port), logs[-1], env=env)
    for port in ports:
        wait(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz").is_success, "the app")

    proxy_port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(_nginx_conf(ports, proxy_port, folder))
    nginx = [NGINX, "-p", str(folder), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    start(stack, nginx, folder / "nginx.log")
    url = f"http://127.0.0.1:{proxy_port}"
    wait(lambda: httpx.get(f"{url}/readyz").is_success, "nginx")
    yield Deployment(url, logs)


def test_a_conversation_is_served_by_both_processes(deployment: Deployment):
    with httpx.Client(base_url=deployment.url, timeout=10) as http:
        created = http.post("/api/conversations", json={}).raise_for_status().json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        path = f"/api/conversations/{created['id']}/messages"
        turns = [
            http.post(path, json={"text": text}, headers=auth)
            for text in ("my eyes look kind of yellow", "yes", "no", "thanks")
        ]
        assert [t.status_code for t in turns] == [200] * 4
        first_reply = " ".join(m["text"] for m in turns[0].json()["messages"])
        assert "care team" in first_reply  # an urgent turn: the team was alerted
        stored = http.get(path, headers=auth).raise_for_status().json()
    patient_lines = [m for m in stored["messages"] if m["role"] == "patient"]
    assert len(patient_lines) == 4  # nothing lost between the two processes
    served = [
        log.read_text().count(f'"conversation_id": "{created["id"]}"') for log in deployment.logs
    ]
    assert all(count >= 1 for count in served), served  # nginx used both


def test_rate_limits_are_shared_and_a_forged_address_does_not_reset_them(
    deployment: Deployment,
):
    with httpx.Client(base_url=deployment.url, timeout=10) as http:
        codes = [
            http.post(
                "/api/conversations", json={}, headers={"X-Forwarded-For": f"10.9.{n}.{n}"}
            ).status_code
            for n in range(6)
        ]
    # 3 per minute between both processes (counted apart, each would allow 3 of the 6);
    # the first test of this module may have made one already.
    assert codes == sorted(codes) and 1 <= codes.count(201) <= 3 and codes[-1] == 429, codes


def test_a_client_that_sends_its_headers_slowly_is_cut_off(deployment: Deployment):
    host, port = deployment.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        connection.settimeout(8)
        started = time.monotonic()
        while connection.recv(1024):  # nginx may answer 408 before it closes
            pass
        assert time.monotonic() - started < 5


def test_request_ids_from_the_proxy_reach_the_app_logs(deployment: Deployment):
    marker = uuid.uuid4().hex
    response = httpx.get(f"{deployment.url}/widget.js", headers={"X-Request-ID": marker})
    issued = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", issued) and issued != marker  # nginx's own id
    time.sleep(0.3)
    assert any(issued in log.read_text() for log in deployment.logs)
