from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kiosk_server import ticker
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events import repository as events_repo
from tests.factories import HallKit, act, issue


async def events_of(ctx: AppContext, hall: HallKit, type_: str) -> list[dict[str, object]]:
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = await events_repo.since(uow.session, hall.hall_id, 0, 1000)
    return [r.data for r in rows if r.type == type_]


@pytest.mark.asyncio
async def test_overtime_is_emitted_once(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")  # target 10 minutes
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    clock.advance(minutes=9, seconds=59)
    assert await ticker.overtime(ctx) == 0
    clock.advance(seconds=2)
    assert await ticker.overtime(ctx) == 1
    clock.advance(minutes=5)
    assert await ticker.overtime(ctx) == 0
    sent = await events_of(ctx, hall, "transaction.overtime")
    assert len(sent) == 1 and sent[0]["number"] == "A001" and sent[0]["counter"] == 1
    assert sent[0]["target_minutes"] == 10


@pytest.mark.asyncio
async def test_cancel_waiting_ticket(client: httpx.AsyncClient, hall: HallKit) -> None:
    t = await issue(client, hall, "enrol")
    r = await client.post(f"/api/v1/tickets/by-id/{t['id']}/cancel", headers=hall.auth("staff"))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    again = await client.post(f"/api/v1/tickets/by-id/{t['id']}/cancel", headers=hall.auth("staff"))
    assert again.status_code == 409 and again.json()["error"]["details"]["state"] == "cancelled"
    assert (await act(client, hall, 1, "call-next")).json()["ticket"] is None


@pytest.mark.asyncio
async def test_catalogue_import_yaml_and_prefix_conflict(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    yaml_doc = """services:
  - code: pension_query
    name_zh: 养老待遇查询
    name_en: Pension query
    prefix: P
    instant: true
    target_minutes: 10
    materials: [居民身份证]
"""
    r = await client.put(
        f"/api/v1/halls/{hall.code}/catalog", content=yaml_doc.encode(), headers=hall.auth("admin")
    )
    assert r.status_code == 200, r.text
    codes = [s["code"] for s in (await client.get(f"/api/v1/halls/{hall.code}/services")).json()]
    assert "pension_query" in codes
    clash = yaml_doc.replace("pension_query", "other_item").replace("prefix: P", "prefix: A")
    r = await client.put(
        f"/api/v1/halls/{hall.code}/catalog", content=clash.encode(), headers=hall.auth("admin")
    )
    assert r.status_code == 409 and "prefix A" in r.json()["error"]["message"]
    exported = await client.get(
        f"/api/v1/halls/{hall.code}/catalog?format=yaml", headers=hall.auth("supervisor")
    )
    assert "养老待遇查询" in exported.text
    r = await client.put(
        f"/api/v1/halls/{hall.code}/catalog",
        content=b"services: [{code: x}]",
        headers=hall.auth("admin"),
    )
    assert r.status_code == 400


@pytest.mark.asyncio
async def test_disabling_an_item_with_people_waiting_is_refused(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "payment")
    r = await client.patch(
        f"/api/v1/halls/{hall.code}/services/payment",
        json={"enabled": False},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 409 and "waiting" in r.json()["error"]["message"]
    r = await client.post(
        f"/api/v1/halls/{hall.code}/services",
        json={"code": "new_item", "name_zh": "新事项", "prefix": "C"},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 409 and r.json()["error"]["details"]["field"] == "prefix"


def test_cli_init_user_and_device_token(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HALLQ_DATA_DIR": str(tmp_path / "d"),
        "HALLQ_NEW_PASSWORD": "cli-password-1",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "kiosk_server.cli", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True)

    r = run("init", "--demo", "--admin-password", "cli-password-1")
    assert r.returncode == 0, r.stderr
    tokens = json.loads((tmp_path / "d" / "demo-tokens.json").read_text())
    assert (
        tokens["kiosk"].startswith("hqd_")
        and (tmp_path / "d" / "demo-tokens.json").stat().st_mode & 0o077 == 0
    )
    r = run("user", "create", "zhang", "--role", "staff", "--hall", "demo")
    assert r.returncode == 0 and "zhang" in r.stdout
    r = run("user", "create", "zhang", "--role", "staff", "--hall", "demo")
    assert r.returncode == 2 and "taken" in r.stderr
    r = run(
        "device-token",
        "create",
        "--hall",
        "demo",
        "--kind",
        "rating_pad",
        "--name",
        "pad9",
        "--counter",
        "2",
    )
    assert r.returncode == 0 and r.stdout.strip().startswith("hqd_")
    r = run("device-token", "create", "--hall", "nowhere", "--kind", "kiosk", "--name", "k")
    assert r.returncode == 2 and "nowhere" in r.stderr
