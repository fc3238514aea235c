"""Rate limits: ticket issue per kiosk device, login attempts per account.
Over the limit is a 429 in the error shape that tells the person what to do;
other kiosks and other accounts are not affected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import create_device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import PASSWORD, HallKit

pytestmark = pytest.mark.asyncio


LIMITERS = {"issue": "issue_per_minute_per_device", "login": "login_attempts_per_minute"}


def limit(ctx: AppContext, limiter: str, per_minute: int) -> None:
    # The limiter is built on first use from the settings; start a fresh one.
    setattr(ctx.settings, LIMITERS[limiter], per_minute)
    ctx.extras.pop(f"limiter:{limiter}", None)


async def post_ticket(client: httpx.AsyncClient, hall: HallKit, who: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth(who)
    )


def rate_limited(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 429, r.text
    err: dict[str, Any] = r.json()["error"]
    assert err["code"] == "rate_limited"
    assert "try again" in err["message"]
    return err


async def test_a_kiosk_over_its_issue_limit_gets_429_and_another_kiosk_does_not(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    limit(ctx, "issue", 3)
    async with unit_of_work(ctx.db) as uow:
        second, _ = await create_device(uow.session, hall.hall_id, DeviceKind.KIOSK, "kiosk-2")
    hall.tokens["kiosk2"] = second

    codes = [(await post_ticket(client, hall, "kiosk")).status_code for _ in range(3)]
    assert codes == [201, 201, 201]
    err = rate_limited(await post_ticket(client, hall, "kiosk"))
    assert "kiosk" in err["message"]
    rate_limited(await post_ticket(client, hall, "kiosk"))

    # The other kiosk in the same hall has its own allowance.
    r = await post_ticket(client, hall, "kiosk2")
    assert r.status_code == 201 and r.json()["number"] == "A004"
    # Staff issuing at a counter are not held to a kiosk's limit.
    assert (await post_ticket(client, hall, "staff")).status_code == 201

    # The refused requests issued nothing: five tickets wait, A001..A005.
    r = await client.get(f"/api/v1/halls/{hall.code}/queue", headers=hall.auth("staff"))
    assert [t["number"] for t in r.json()] == ["A001", "A002", "A003", "A004", "A005"]


async def test_the_issue_limit_counts_per_device_not_per_hall(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    limit(ctx, "issue", 1)
    async with unit_of_work(ctx.db) as uow:
        for n in range(2, 5):
            token, _ = await create_device(
                uow.session, hall.hall_id, DeviceKind.KIOSK, f"kiosk-{n}"
            )
            hall.tokens[f"kiosk{n}"] = token
    for who in ("kiosk", "kiosk2", "kiosk3", "kiosk4"):
        assert (await post_ticket(client, hall, who)).status_code == 201, who
    for who in ("kiosk", "kiosk2", "kiosk3", "kiosk4"):
        rate_limited(await post_ticket(client, hall, who))


async def test_login_attempts_are_limited_per_account(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    limit(ctx, "login", 3)

    async def attempt(username: str, password: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )

    codes = [(await attempt("demo-admin", "wrong-password")).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    err = rate_limited(await attempt("demo-admin", "wrong-password"))
    assert "login" in err["message"]
    # Once over the limit even the right password waits: guessing gains nothing.
    rate_limited(await attempt("demo-admin", PASSWORD))
    # Another account from the same place still logs in.
    r = await attempt("demo-staff", PASSWORD)
    assert r.status_code == 200 and r.json()["access_token"]
    # Case does not give a fresh allowance.
    rate_limited(await attempt("DEMO-ADMIN", PASSWORD))
