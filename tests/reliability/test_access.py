"""One table-driven walk over every route and WebSocket of the app (taken from
the app's own route list) with no token, an expired token, device tokens and
each role, checking 401/403/allowed; plus tokens of one hall in another."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
import websockets
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import WebSocketRoute

from kiosk_server import access
from kiosk_server.app import create_app
from kiosk_server.auth.principal import ROLE_RANK, DeviceKind, Role
from kiosk_server.auth.security import make_access_token
from kiosk_server.auth.service import create_device
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.settings import Settings
from tests.conftest import LiveServer
from tests.factories import HallKit, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

USERS = {"staff": Role.STAFF, "supervisor": Role.SUPERVISOR, "admin": Role.ADMIN}
# One identity per device kind; "pad" is the factories' rating pad.
DEVICES = {
    "kiosk": DeviceKind.KIOSK,
    "display": DeviceKind.DISPLAY,
    "pad": DeviceKind.RATING_PAD,
    "printer": DeviceKind.PRINTER,
    "led_bridge": DeviceKind.LED_BRIDGE,
    "keypad": DeviceKind.KEYPAD,
}
# Callers with no valid identity: each must be a 401 wherever a login is needed.
NOBODY = ["none", "garbage", "expired", "revoked"]
IDENTITIES = [*NOBODY, *DEVICES, *USERS]


async def test_the_walk_covers_every_device_kind() -> None:
    assert set(DEVICES.values()) == set(DeviceKind), "add the new device kind to DEVICES"


async def equip(client: httpx.AsyncClient, kit: HallKit, ctx: AppContext) -> None:
    """Tokens for the identities the factories do not make: the other device
    kinds, an expired login, a revoked device, and something that is no token."""
    async with unit_of_work(ctx.db) as uow:
        for name, kind in DEVICES.items():
            if name not in kit.tokens:
                counter = kit.counter_ids[1] if kind is DeviceKind.KEYPAD else None
                kit.tokens[name], _ = await create_device(
                    uow.session, kit.hall_id, kind, f"{kit.code}-{name}", counter_id=counter
                )
        kit.tokens["revoked"], gone = await create_device(
            uow.session, kit.hall_id, DeviceKind.KIOSK, f"{kit.code}-revoked"
        )
    r = await client.delete(f"/api/v1/devices/{gone.id}", headers=kit.auth("admin"))
    assert r.status_code == 204, r.text
    me = (await client.get("/api/v1/auth/me", headers=kit.auth("staff"))).json()
    kit.tokens["expired"] = make_access_token(
        ctx.settings.secret_key, me["id"], "staff", ctx.clock.now() - timedelta(hours=48), 60
    )
    kit.tokens["garbage"] = "not-a-token"


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
    await equip(client, hall, ctx)
    async with unit_of_work(ctx.db) as uow:
        _, spare = await create_device(uow.session, hall.hall_id, DeviceKind.DISPLAY, "spare")
    me = (await client.get("/api/v1/auth/me", headers=hall.auth("staff"))).json()
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
    routes = 0
    problems: list[str] = []
    for route, method in api_routes(app):
        rule = access.rule_for(route, method)
        if rule is None:
            continue
        routes += 1
        key = access.route_key(route, method)
        url = await fill(route.path_format, hall, values)
        for identity in IDENTITIES:
            headers = {} if identity == "none" else hall.auth(identity)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = await client.request(method, url, json=body, headers=headers)
            checked += 1
            if r.status_code >= 500:
                bad = True
            elif identity in NOBODY and rule.public:
                # A public route that also accepts a login says so when the token
                # is bad or expired (so staff know to log in again); never 403.
                bad = r.status_code == 403 or (identity == "none" and r.status_code == 401)
            elif allowed(rule, identity):
                bad = r.status_code == 401 or (
                    r.status_code == 403 and (key, identity) not in NARROWER
                )
            else:
                expected = 401 if identity in NOBODY else 403
                bad = r.status_code != expected
            if bad:
                problems.append(f"{key} as {identity}: {r.status_code} {r.text[:120]}")
    print(f"\naccess: {routes} routes x {len(IDENTITIES)} identities = {checked} requests checked")
    assert not problems, "\n".join(problems)


async def test_tokens_of_one_hall_are_refused_in_another(
    client: httpx.AsyncClient, hall: HallKit, app: FastAPI, ctx: AppContext
) -> None:
    await equip(client, hall, ctx)
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
        for identity in (*DEVICES, *USERS):
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


def ws_routes(app: FastAPI) -> list[str]:
    return sorted(r.path for r in access.iter_routes(app.routes) if isinstance(r, WebSocketRoute))


async def test_every_websocket_has_a_rule(app: FastAPI) -> None:
    paths = ws_routes(app)
    assert {"/ws/staff", "/ws/halls/{hall}/display", "/ws/printer"} <= set(paths)
    missing = [p for p in paths if p not in access.WS_RULES]
    assert not missing, "WebSockets without a rule in access.WS_RULES:\n" + "\n".join(missing)
    stale = set(access.WS_RULES) - set(paths)
    assert not stale, f"access.WS_RULES names sockets the app does not have: {stale}"


# A refusal, by the HTTP status it stands for: a close code after the handshake
# or an HTTP status at the handshake (/ws/printer refuses before accepting).
REFUSED = {401: {"close:4401", "http:401"}, 403: {"close:4403", "http:403"}}


async def attempt(url: str) -> str:
    """'open' (the first message arrived), 'close:CODE' or 'http:STATUS'."""
    try:
        async with websockets.connect(url, open_timeout=5) as ws:
            try:
                async with asyncio.timeout(5):
                    await ws.recv()
            except websockets.exceptions.ConnectionClosed as exc:
                return f"close:{exc.rcvd.code if exc.rcvd else 'none'}"
            return "open"
    except websockets.exceptions.InvalidStatus as exc:
        return f"http:{exc.response.status_code}"


@pytest_asyncio.fixture
async def agent_live(settings: Settings, clock: FixedClock) -> AsyncIterator[LiveServer]:
    # agent:// so that /ws/printer admits a printer token instead of answering 409.
    app = create_app(settings.model_copy(update={"printer_url": "agent://"}), clock=clock)
    srv = LiveServer(app)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def ws_url(live: LiveServer, path: str, code: str, token: str | None, **query: str) -> str:
    params = {**({"token": token} if token is not None else {}), **query}
    qs = ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""
    return f"{live.ws_url}{path.replace('{hall}', code)}{qs}"


async def test_websockets_by_identity(agent_live: LiveServer) -> None:
    live = agent_live
    ctx: AppContext = live.app.state.ctx
    problems: list[str] = []
    checked = 0
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        await equip(client, kit, ctx)
        paths = ws_routes(live.app)
        for path in paths:
            rule = access.WS_RULES[path]
            for identity in IDENTITIES:
                token = None if identity == "none" else kit.tokens[identity]
                got = await attempt(ws_url(live, path, kit.code, token))
                checked += 1
                if identity == "none" and rule.public:
                    want = {"open"}
                elif identity in NOBODY:
                    want = REFUSED[401]
                elif allowed(rule, identity):
                    want = {"open"}
                else:
                    want = REFUSED[403]
                if got not in want:
                    problems.append(f"{path} as {identity}: {got}, expected {sorted(want)}")
    print(f"\nwebsockets: {len(paths)} sockets x {len(IDENTITIES)} identities = {checked} checked")
    assert not problems, "\n".join(problems)


async def test_websocket_tokens_of_one_hall_are_refused_in_another(
    agent_live: LiveServer,
) -> None:
    live = agent_live
    ctx: AppContext = live.app.state.ctx
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        await equip(client, kit, ctx)
        other = await make_hall(ctx, "other", counters=2)
        # The control: the same staff token opens its own hall's stream.
        own = await attempt(ws_url(live, "/ws/staff", kit.code, kit.tokens["staff"], hall="demo"))
        assert own == "open"
        for identity in (*DEVICES, *USERS):
            token = kit.tokens[identity]
            for path, query in (
                ("/ws/halls/{hall}/display", {}),
                ("/ws/staff", {"hall": other.code}),
            ):
                got = await attempt(ws_url(live, path, other.code, token, **query))
                if got not in REFUSED[403]:
                    problems.append(f"{path} {query} as demo {identity} in other hall: {got}")
        # An unknown hall is refused too (whatever the code), never opened.
        got = await attempt(ws_url(live, "/ws/halls/{hall}/display", "nowhere", None))
        assert got != "open" and not got.startswith("http:5"), got
    assert not problems, "\n".join(problems)
