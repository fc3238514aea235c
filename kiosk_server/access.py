"""The access matrix: one table saying who may call each route, enforced at the
edge before the payload is even read (so a wrong role gets 403, not 422).

Services still check hall membership and finer rules; this layer makes sure no
route is reachable by a kind of caller it was never meant for. A route that
is missing here is refused (fail closed), and the access test walks the app's
own route list so a new route without a rule fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.deps import principal_of
from kiosk_server.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Access:
    public: bool = False
    role: Role | None = None  # minimum user role; None: no user may call it
    devices: frozenset[DeviceKind] = field(default_factory=frozenset)

    def describe(self) -> str:
        if self.public:
            return "public"
        parts = [f"{self.role.value}+"] if self.role else []
        parts += [f"device:{d.value}" for d in sorted(self.devices)]
        return " or ".join(parts)


def _a(role: Role | None = None, *devices: DeviceKind, public: bool = False) -> Access:
    return Access(public=public, role=role, devices=frozenset(devices))


PUBLIC = _a(public=True)
STAFF = _a(Role.STAFF)
SUPERVISOR = _a(Role.SUPERVISOR)
ADMIN = _a(Role.ADMIN)
ALL_DEVICES = tuple(DeviceKind)
ANYONE_LOGGED_IN = _a(Role.STAFF, *ALL_DEVICES)

# "METHOD path" -> who may call it.
RULES: dict[str, Access] = {
    # operations
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    # accounts and devices
    "POST /api/v1/auth/token": PUBLIC,
    "GET /api/v1/auth/me": ANYONE_LOGGED_IN,
    "POST /api/v1/auth/password": STAFF,
    "GET /api/v1/users": ADMIN,
    "POST /api/v1/users": ADMIN,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    # A kiosk reads its printer's status; no other device needs the hall's device list.
    "GET /api/v1/halls/{hall}/devices": _a(Role.SUPERVISOR, DeviceKind.KIOSK),
    "POST /api/v1/halls/{hall}/devices": ADMIN,
    "DELETE /api/v1/devices/{device_id}": ADMIN,
    "POST /api/v1/devices/me/status": _a(None, *ALL_DEVICES),
    # halls and catalogue
    "GET /api/v1/halls": PUBLIC,
    "POST /api/v1/halls": ADMIN,
    "GET /api/v1/halls/{hall}": PUBLIC,
    "PATCH /api/v1/halls/{hall}": ADMIN,
    "GET /api/v1/halls/{hall}/services": PUBLIC,
    "GET /api/v1/halls/{hall}/services/all": SUPERVISOR,
    "POST /api/v1/halls/{hall}/services": ADMIN,
    "PATCH /api/v1/halls/{hall}/services/{code}": ADMIN,
    "GET /api/v1/halls/{hall}/catalog": SUPERVISOR,
    "PUT /api/v1/halls/{hall}/catalog": ADMIN,
    "GET /api/v1/halls/{hall}/counters": STAFF,
    "POST /api/v1/halls/{hall}/counters": ADMIN,
    "PATCH /api/v1/counters/{counter_id}": ADMIN,
    "GET /api/v1/halls/{hall}/display": PUBLIC,
    "GET /api/v1/halls/{hall}/queue": STAFF,
    # notices on the hall screen
    "GET /api/v1/halls/{hall}/notices": SUPERVISOR,
    "POST /api/v1/halls/{hall}/notices": ADMIN,
    "PATCH /api/v1/notices/{notice_id}": ADMIN,
    "DELETE /api/v1/notices/{notice_id}": ADMIN,
    "POST /api/v1/admin/qr": ADMIN,
    # tickets
    "POST /api/v1/halls/{hall}/tickets": _a(Role.STAFF, DeviceKind.KIOSK),
    "GET /api/v1/tickets/{token}": PUBLIC,  # the unguessable token is the capability
    "GET /api/v1/tickets/by-id/{ticket_id}": STAFF,
    "POST /api/v1/tickets/by-id/{ticket_id}/cancel": STAFF,
    # by id: rating pad (or a supervisor entering a paper form); by token: the phone
    "POST /api/v1/tickets/{ticket}/rating": PUBLIC,
    # printing
    "POST /api/v1/tickets/{ticket_id}/reprint": STAFF,
    "GET /api/v1/tickets/{ticket_id}/print-jobs": STAFF,
    "GET /api/v1/halls/{hall}/print-jobs": SUPERVISOR,
    "GET /api/v1/halls/{hall}/printer": _a(Role.STAFF, DeviceKind.KIOSK, DeviceKind.PRINTER),
    # appointments: residents book and cancel from a phone without an account;
    # the booking code is the capability
    "GET /api/v1/halls/{hall}/appointment-offer": PUBLIC,
    "GET /api/v1/halls/{hall}/slots": PUBLIC,
    "POST /api/v1/halls/{hall}/appointments": PUBLIC,
    "POST /api/v1/halls/{hall}/appointments/find": PUBLIC,
    "GET /api/v1/appointments/{code}": PUBLIC,
    "DELETE /api/v1/appointments/{code}": PUBLIC,
    "GET /api/v1/appointments/{code}/qr.svg": PUBLIC,
    "GET /api/v1/halls/{hall}/appointments": STAFF,
    "GET /api/v1/halls/{hall}/appointments/stats": SUPERVISOR,
    "POST /api/v1/halls/{hall}/appointments/{code}/check-in": _a(Role.STAFF, DeviceKind.KIOSK),
    "POST /api/v1/halls/{hall}/appointments/close": ADMIN,
    "GET /api/v1/halls/{hall}/appointment-config": SUPERVISOR,
    "PUT /api/v1/halls/{hall}/appointment-config": ADMIN,
    "GET /api/v1/appointments/{code}/phone": SUPERVISOR,
    # county and town level
    "GET /api/v1/rollup": SUPERVISOR,
    "POST /api/v1/sites": ADMIN,
    # counters (staff pages and hardware keypads act through the same routes)
    **{
        f"{'GET' if action is None else 'POST'} /api/v1/counters/{{counter_id}}{'' if action is None else '/' + action}": _a(
            Role.STAFF, DeviceKind.KEYPAD
        )
        for action in (
            None,
            "call-next",
            "call",
            "recall",
            "start",
            "finish",
            "no-show",
            "hold",
            "transfer",
            "pause",
            "resume",
            "sign-out",
        )
    },
}

# WebSockets authenticate in their handlers (browsers cannot set headers on a
# WebSocket, so the token comes as ?token=). This table says whom each socket
# admits; the access test opens every socket of the app as every kind of caller
# and holds the handlers to it. A refusal is close code 4401/4403 after the
# handshake, or HTTP 401/403 at the handshake for /ws/printer.
WS_RULES: dict[str, Access] = {
    # Display-safe events; a token, if given, must be valid and of this hall.
    "/ws/halls/{hall}/display": PUBLIC,
    "/ws/staff": _a(
        Role.STAFF,
        DeviceKind.LED_BRIDGE,
        DeviceKind.KEYPAD,
        DeviceKind.RATING_PAD,
        DeviceKind.KIOSK,
        DeviceKind.PRINTER,
    ),
    "/ws/printer": _a(None, DeviceKind.PRINTER),
}

# Routes without a rule are refused (fail closed); the access test lists them.
FAIL_CLOSED = True

# Pages are public HTML shells; the API calls they make are checked.
PAGE_PREFIXES = (
    "/kiosk",
    "/counter",
    "/display",
    "/rate",
    "/t/",
    "/book",
    "/supervisor",
    "/admin",
    "/cases",
    "/pair",
    "/rollup",
)


# What a user whose password was set by an admin may do before changing it.
PASSWORD_CHANGE_ROUTES = frozenset({"GET /api/v1/auth/me", "POST /api/v1/auth/password"})


def route_key(route: APIRoute, method: str) -> str:
    return f"{method} {route.path_format}"


def rule_for(route: APIRoute, method: str) -> Access | None:
    rule = RULES.get(route_key(route, method))
    if rule is None and not route.include_in_schema and route.path_format.startswith(PAGE_PREFIXES):
        return PUBLIC
    return rule


def check(rule: Access | None, who: Principal | None, key: str) -> None:
    if rule is None and not FAIL_CLOSED:
        return
    if rule is None:
        raise Forbidden(
            f"{key} has no access rule; refused until one is written in kiosk_server/access.py"
        )
    if rule.public:
        return
    if who is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    if who.must_change_password and key not in PASSWORD_CHANGE_ROUTES:
        raise Forbidden(
            "set a new password first (请先修改密码): POST /api/v1/auth/password",
            details={"reason": "must_change_password"},
        )
    if who.kind == "device":
        if who.device_kind not in rule.devices:
            raise Forbidden(
                f"a {who.device_kind} device may not call this; it needs {rule.describe()}"
            )
        return
    if rule.role is None or not who.has_role(rule.role):
        raise Forbidden(f"this needs {rule.describe()}")


async def enforce(conn: HTTPConnection) -> None:
    route = conn.scope.get("route")
    if conn.scope["type"] != "http" or not isinstance(route, APIRoute):
        return  # WebSockets authenticate in their handlers
    method = conn.scope["method"]
    rule = rule_for(route, method)
    who = None if rule is not None and rule.public else await principal_of(conn)
    check(rule, who, route_key(route, method))


def iter_routes(routes: list[Any]) -> Iterator[BaseRoute]:
    """Every route of the app, looking inside included routers.

    Routers carry their own prefix (``APIRouter(prefix=...)``); an include-time
    prefix would make the enforced path differ from the documented one, so it
    is refused here and by the access test.
    """
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            if prefix:
                raise ValueError(
                    f"include_router(prefix={prefix!r}): put the prefix on the APIRouter instead"
                )
            yield from iter_routes(list(original.routes))
        else:
            yield route
