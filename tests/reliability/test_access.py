"""One table-driven walk over every route and WebSocket of the app (taken from
the app's own route list) with no token, an expired token, device tokens and
each role, checking 401/403/allowed; plus tokens of one hall in another."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
import websockets
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import WebSocketRoute

from kiosk_server import access
from kiosk_server.auth.principal import ROLE_RANK, DeviceKind, Role
from kiosk_server.auth.security import make_access_token
from kiosk_server.auth.service import create_device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.conftest import LiveServer
from tests.factories import HallKit, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

USERS = {"staff": Role.STAFF, "supervisor": Role.SUPERVISOR, "admin": Role.ADMIN}
DEVICES = {"kiosk": DeviceKind.KIOSK, "display": DeviceKind.DISPLAY, "pad": DeviceKind.RATING_PAD}
IDENTITIES = ["none", "expired", *DEVICES, *USERS]

# Where a service narrows the edge rule further for a caller the edge lets through.
NARROWER: set[tuple[str, str]] = {
    ("POST /api/v1/tickets/{ticket}/rating", "staff"),  # rating by id: pad or supervisor only
    ("POST /api/v1/halls", "admin"),  # a hall-level admin cannot create halls (county admin can)
}


def api_routes(app: FastAPI) -> list[tuple[APIRoute, str]]:
    out = []
    for route in access.iter_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                out.append((route, method))
    return out


def allowed(rule: access.Access, identity: str) -> bool:
    if rule.public:
        return True
    if identity in DEVICES:
        return DEVICES[identity] in rule.devices
    if identity in USERS:
        return rule.role is not None and ROLE_RANK[USERS[identity]] >= ROLE_RANK[rule.role]
    return False


async def fill(path: str, kit: HallKit, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        return values.get(m.group(1), "1")

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", sub, path)


async def test_every_route_has_a_rule(app: FastAPI) -> None:
    missing = [
        access.route_key(route, method)
        for route, method in api_routes(app)
        if access.rule_for(route, method) is None
    ]
    assert not missing, "routes without an access rule in kiosk_server/access.py:\n" + "\n".join(
        missing
    )


async def test_routes_by_identity(
    client: httpx.AsyncClient, hall: HallKit, app: FastAPI, ctx: AppContext
) -> None:
    t = await issue(client, hall, "enrol")
    async with unit_of_work(ctx.db) as uow:
        _, spare = await create_device(uow.session, hall.hall_id, DeviceKind.DISPLAY, "spare")
    me = (await client.get("/api/v1/auth/me", headers=hall.auth("staff"))).json()
    expired = make_access_token(
        ctx.settings.secret_key, me["id"], "staff", ctx.clock.now() - timedelta(hours=48), 60
    )
    hall.tokens["expired"] = expired
    values = {
        "hall": hall.code,
        "counter_id": str(hall.counter_ids[1]),
        "ticket_id": str(t["id"]),
        "token": t["status_url"].rsplit("/", 1)[1],
        "ticket": str(t["id"]),
        "device_id": str(spare.id),
        "user_id": str(me["id"]),
        "code": "enrol",
    }
    checked = 0
    problems: list[str] = []
    for route, method in api_routes(app):
        rule = access.rule_for(route, method)
        if rule is None:
            continue
        key = access.route_key(route, method)
        url = await fill(route.path_format, hall, values)
        for identity in IDENTITIES:
            headers = {} if identity == "none" else hall.auth(identity)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = await client.request(method, url, json=body, headers=headers)
            checked += 1
            if allowed(rule, identity):
                bad = r.status_code == 401 or (
                    r.status_code == 403 and (key, identity) not in NARROWER
                )
                if identity in ("none", "expired") and not rule.public:
                    bad = True
                # A public route that also accepts a login says so when the
                # login has expired (so staff know to log in again).
                if identity == "expired" and rule.public and r.status_code == 401:
                    bad = False
                if r.status_code >= 500:
                    bad = True
            else:
                expected = 401 if identity in ("none", "expired") else 403
                bad = r.status_code != expected
            if bad:
                problems.append(f"{key} as {identity}: {r.status_code} {r.text[:120]}")
    print(f"\naccess: {checked} route x identity requests checked")
    assert not problems, "\n".join(problems)


async def test_tokens_of_one_hall_are_refused_in_another(
    client: httpx.AsyncClient, hall: HallKit, app: FastAPI, ctx: AppContext
) -> None:
    other = await make_hall(ctx, "other", counters=2)
    await login_all(client, other)
    t = await issue(client, other, "enrol")
    values = {
        "hall": other.code,
        "counter_id": str(other.counter_ids[1]),
        "ticket_id": str(t["id"]),
        "code": "enrol",
        "ticket": str(t["id"]),
    }
    problems = []
    checked = 0
    for route, method in api_routes(app):
        rule = access.rule_for(route, method)
        params = set(re.findall(r"\{([^}:]+)", route.path_format))
        if rule is None or rule.public or not params or not params <= set(values):
            continue
        url = await fill(route.path_format, other, values)
        for identity in ("kiosk", "staff", "supervisor", "admin"):
            if not allowed(rule, identity):
                continue
            r = await client.request(
                method,
                url,
                json={} if method in ("POST", "PUT", "PATCH") else None,
                headers=hall.auth(identity),
            )
            checked += 1
            # A malformed body may be refused first (422); it must never succeed or 5xx.
            if r.status_code not in (403, 422) and not (
                r.status_code == 404 and "hall" not in params
            ):
                problems.append(
                    f"{access.route_key(route, method)} as demo {identity} on other hall: {r.status_code}"
                )
    print(f"\ncross-hall: {checked} requests checked")
    assert checked > 10 and not problems, "\n".join(problems)


async def test_websockets_check_tokens(live: LiveServer, ctx: AppContext, app: FastAPI) -> None:
    ws_paths = {r.path for r in access.iter_routes(app.routes) if isinstance(r, WebSocketRoute)}
    assert {"/ws/staff", "/ws/halls/{hall}/display"} <= ws_paths
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        for query, ok in [
            ("", False),
            ("?token=garbage", False),
            (f"?token={kit.tokens['display']}", False),
            (f"?token={kit.tokens['staff']}", True),
            (f"?token={kit.tokens['pad']}", True),
        ]:
            try:
                async with websockets.connect(f"{live.ws_url}/ws/staff{query}") as ws:
                    await ws.recv()
                    opened = True
            except websockets.exceptions.InvalidStatus:
                opened = False
            assert opened is ok, query
        async with websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display") as ws:
            assert '"hello"' in str(await ws.recv())
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(f"{live.ws_url}/ws/halls/nowhere/display"):
                pass
        for path in ws_paths - {"/ws/staff", "/ws/halls/{hall}/display"}:
            # Other sockets (printer agent, ...) refuse a connection without a token.
            url = path.replace("{hall}", kit.code)
            with pytest.raises(websockets.exceptions.InvalidStatus):
                async with websockets.connect(f"{live.ws_url}{url}"):
                    pass
