"""Printing switched off, and a printer nobody answers at: tickets are issued all the same."""

from __future__ import annotations

import socket

import httpx
import pytest

from kiosk_server.settings import Settings
from tests.factories import HallKit, issue

pytestmark = pytest.mark.asyncio


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["none", "refused"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    url = "none://" if request.param == "none" else f"tcp://127.0.0.1:{closed_port()}"
    return settings.model_copy(
        update={"printer_url": url, "print_attempts": 2, "print_timeout_seconds": 1.0}
    )


async def test_issue_succeeds_whatever_the_printer(
    client: httpx.AsyncClient, hall: HallKit, settings: Settings
) -> None:
    t = await issue(client, hall, "enrol")
    assert t["state"] == "waiting" and t["number"] == "A001"
    jobs = (
        await client.get(f"/api/v1/tickets/{t['id']}/print-jobs", headers=hall.auth("staff"))
    ).json()
    state = await client.get("/api/v1/halls/demo/printer", headers=hall.auth("kiosk"))
    reprint = await client.post(f"/api/v1/tickets/{t['id']}/reprint", headers=hall.auth("staff"))
    if settings.printer_url == "none://":
        assert t["printed"] is None and t["print_error"] is None
        assert jobs == []
        assert state.json()["mode"] == "off" and state.json()["can_print"] is False
        assert reprint.status_code == 503
    else:
        # Refused twice (a retryable error), then given up: the kiosk says so.
        assert t["printed"] is False and "无法连接打印机" in t["print_error"]
        assert [(j["state"], j["code"], j["attempts"]) for j in jobs] == [("failed", "offline", 2)]
        assert state.json()["state"] == "offline"
        assert reprint.status_code == 201 and reprint.json()["state"] == "failed"
