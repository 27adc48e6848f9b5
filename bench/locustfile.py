"""Locust patients for the load benchmark (bench/load.py): each does what a patient does in
the widget: opens a conversation (POST /api/conversations: id + token), types a few
messages with short pauses between them (ordinary complaints, red flags, questions, typed
yes/no answers, a tap on a quick-reply button when the bot offers some), and now and then
reads the conversation back (GET .../messages?after=SEQ, as the widget's poll does).

A FastHttpUser (geventhttpclient): the load generator shares the machine with the service,
and it needs a fraction of HttpUser's (requests') CPU per request.
Requests are named by route template, so locust's statistics group them. With
TRIAGE_BENCH_RESULTS set, the final statistics (after the last request ended; --csv files
are written each second) are saved there as JSON for bench/load.py.
Run by `python -m bench.load`; alone: `locust -f bench/locustfile.py --host URL`.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, events, task

CONVERSATIONS = "/api/conversations"
MESSAGES = "/api/conversations/{id}/messages"

# What patients type, conversation by conversation. "<button>" taps one of the quick replies
# of the bot's last answer (its payload is sent, as the widget does), or says "no" when the
# bot offered none. Most visits are ordinary; about four in ten raise an alert (red flags,
# a red-flag button, a handoff).
SCRIPTS: list[tuple[int, list[str]]] = [
    (6, ["just a bit tired today", "no", "thanks"]),
    (4, ["headache since yesterday, otherwise fine", "<button>", "ok thank you"]),
    (4, ["when is my next infusion due?", "thanks"]),
    (3, ["hi", "I've got a few hives on my arm", "no", "thanks"]),
    (2, ["I feel really weird, something is off with my body", "<button>", "bye"]),
    (3, ["my eyes look kind of yellow", "yes", "ok"]),
    (3, ["I'm at my infusion and I'm covered in itchy bumps", "yes", "thanks"]),
    (1, ["I want to talk to a person", "thanks"]),
]
WEIGHTS = [weight for weight, _ in SCRIPTS]
# Seconds between a reply and the patient's next request, "MIN-MAX" (bench/load.py --think).
THINK = [float(s) for s in os.environ.get("TRIAGE_BENCH_THINK", "1-3").split("-")]


class Patient(FastHttpUser):
    """One patient at a time in the widget; a finished conversation starts a new one."""

    wait_time = between(*THINK)  # reading the reply and typing the next message

    def on_start(self) -> None:
        self.conversation: str | None = None

    def _start(self) -> bool:
        self.conversation = None
        with self.client.post(
            CONVERSATIONS, json={"lang": "en"}, name=CONVERSATIONS, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}")
                return False
            body = response.json()
        self.conversation = body["id"]
        self.auth = {"Authorization": f"Bearer {body['token']}"}
        self.seq = max((m["seq"] for m in body["messages"]), default=0)
        self.buttons: list[dict] = []
        self.script = list(random.choices([s for _, s in SCRIPTS], WEIGHTS)[0])
        return True

    @task(5)
    def say(self) -> None:
        if self.conversation is None and not self._start():
            return
        text = self.script.pop(0)
        if text == "<button>":
            text = random.choice(self.buttons)["payload"] if self.buttons else "no"
        with self.client.post(
            MESSAGES.format(id=self.conversation),
            json={"text": text},
            headers=self.auth,
            name=MESSAGES,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                self.conversation = None  # the patient starts again
                return
            messages = response.json()["messages"]
        self._seen(messages)
        if not self.script:
            self.conversation = None  # done: the next task opens a new conversation

    @task(1)
    def read(self) -> None:
        """The widget's poll for care-team replies (GET ...?after=SEQ)."""
        if self.conversation is None:
            return
        with self.client.get(
            f"{MESSAGES.format(id=self.conversation)}?after={self.seq}",
            headers=self.auth,
            name=MESSAGES,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            self._seen(response.json()["messages"])

    def _seen(self, messages: list[dict]) -> None:
        if messages:
            self.seq = max(self.seq, *(m["seq"] for m in messages))
            self.buttons = [b for m in messages for b in m.get("buttons") or ()]


RUN: dict = {}


@events.init.add_listener
def _keep_environment(environment, **_) -> None:
    RUN["environment"] = environment


@events.quit.add_listener
def _save_results(**_) -> None:
    path = os.environ.get("TRIAGE_BENCH_RESULTS")
    environment = RUN.get("environment")
    if not path or environment is None or environment.runner is None:
        return
    stats = environment.runner.stats  # serialize(): its stats stay as they are
    results = {
        "entries": [e.serialize() for e in stats.entries.values() if e.num_requests],
        "total": stats.total.serialize(),
        "errors": list(stats.serialize_errors().values()),
        "seconds": (stats.total.last_request_timestamp or 0) - stats.total.start_time,
    }
    with open(path, "w") as out:
        json.dump(results, out)
