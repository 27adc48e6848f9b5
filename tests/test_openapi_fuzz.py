"""Schemathesis over every route of the OpenAPI schema, against a real server process (a
coordinator's API token sent, so the coordinator routes are reached too): no server
error, every status code, content type and response body as the schema says, no
schema-violating request accepted. Bounded (15 examples an operation, a fixed seed) to fit
CI; a longer run is `schemathesis run URL/openapi.json` by hand.

Not checked: that every schema-valid request is accepted — the schema cannot say that a
message must be in a script the service reads, or what rasa-sdk's tracker must hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))


def test_the_api_does_what_its_schema_says(service):
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{service.url}/openapi.json",
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {service.token}",
            "--exclude-checks",
            "positive_data_acceptance",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
