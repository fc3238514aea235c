"""Schemathesis against the OpenAPI schema of the running server: no 5xx and no
response that breaks the schema, stateless and stateful, bounded in time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import free_port

pytestmark = pytest.mark.slow
HALLQ = [sys.executable, "-m", "kiosk_server.cli"]
PASSWORD = "fuzz-password-1"
EXAMPLES = int(os.environ.get("HALLQ_FUZZ_EXAMPLES", "15"))


@dataclass
class Server:
    url: str
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    env = {
        **os.environ,
        "HALLQ_DATA_DIR": str(data),
        "HALLQ_PRINTER_URL": "none://",
        "HALLQ_ISSUE_PER_MINUTE_PER_DEVICE": "1000000",
        "HALLQ_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
    }
    subprocess.run(
        [*HALLQ, "init", "--demo", "--always-open", "--admin-password", PASSWORD],
        env=env,
        check=True,
        capture_output=True,
    )
    tokens = json.loads((data / "demo-tokens.json").read_text())
    port = free_port()
    with open(data / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [*HALLQ, "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        admin = httpx.post(
            f"{url}/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        yield Server(
            url,
            {
                "admin": {"Authorization": f"Bearer {admin}"},
                "kiosk": {"Authorization": f"Bearer {tokens['kiosk']}"},
            },
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log_text = (data / "server.log").read_text(errors="replace")
        assert "Traceback" not in log_text, log_text[-3000:]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def load(server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_stateless_fuzz_finds_no_server_error(server: Server) -> None:
    schema = load(server)
    ran = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = server.headers[
            "kiosk"
            if operation.path.endswith("/tickets") and operation.method.upper() == "POST"
            else "admin"
        ]

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            nonlocal ran
            ran += 1
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)  # noqa: B023 (run at once)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    print(f"\nschemathesis stateless: {ran} cases, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)


def test_stateful_fuzz_finds_no_server_error(server: Server) -> None:
    schema = load(server)
    machine = schema.as_state_machine()  # type: ignore[attr-defined]

    class Run(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": server.headers["admin"], "timeout": 10}

        def validate_response(
            self, response: object, case: schemathesis.Case, **kwargs: object
        ) -> None:
            case.validate_response(response, checks=CHECKS)  # type: ignore[arg-type]

    Run.run(
        settings=settings(
            max_examples=max(5, EXAMPLES // 2),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            stateful_step_count=6,
        )
    )
