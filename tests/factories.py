"""Builders for test data, going through the same code paths as the product."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from kiosk_server.auth.principal import DeviceKind, Role
from kiosk_server.auth.service import create_device, create_user
from kiosk_server.bootstrap import create_hall
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo
from kiosk_server.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct-horse-1"
# A Wednesday morning in the hall's time zone, inside opening hours.
WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)

# Valid ID numbers (check digits computed) for fixed birth dates.
ID_ELDERLY_1949 = "11010519491231002X"  # born 1949-12-31
ID_YOUNG_1990 = "110105199003071239"  # born 1990-03-07


def make_id(birth: str, seq: str = "123") -> str:
    """A valid 18-character ID number for birth date YYYYMMDD."""
    from kiosk_server.core.idnumber import check_digit

    first17 = "320506" + birth + seq
    return first17 + check_digit(first17)


@dataclass
class HallKit:
    """A hall with its people and devices, ready to drive through the API."""

    code: str
    hall_id: int
    counter_ids: dict[int, int]  # number -> id
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def make_hall(
    ctx: AppContext,
    code: str = "demo",
    *,
    counters: int = 4,
    kind: str = "township",
    policy: dict[str, Any] | None = None,
    always_open: bool = False,
) -> HallKit:
    async with unit_of_work(ctx.db) as uow:
        hall = await create_hall(
            uow.session,
            code,
            f"{code}医保服务站",
            kind=kind,
            counters=counters,
            always_open=always_open,
        )
        if policy:
            hall.policy = {**hall.policy, **policy}
        ids = {c.number: c.id for c in await halls_repo.list_counters(uow.session, hall.id)}
        kit = HallKit(code=code, hall_id=hall.id, counter_ids=ids)
        kiosk, _ = await create_device(uow.session, hall.id, DeviceKind.KIOSK, f"{code}-kiosk")
        display, _ = await create_device(
            uow.session, hall.id, DeviceKind.DISPLAY, f"{code}-display"
        )
        first = min(ids)
        pad, _ = await create_device(
            uow.session, hall.id, DeviceKind.RATING_PAD, f"{code}-pad", counter_id=ids[first]
        )
        kit.tokens.update(kiosk=kiosk, display=display, pad=pad)
        # A rating pad in front of every other counter too ("pad2", "pad3", ...).
        for n in sorted(ids)[1:]:
            other, _ = await create_device(
                uow.session, hall.id, DeviceKind.RATING_PAD, f"{code}-pad{n}", counter_id=ids[n]
            )
            kit.tokens[f"pad{n}"] = other
        for role in (Role.STAFF, Role.SUPERVISOR, Role.ADMIN):
            await create_user(
                uow.session,
                f"{code}-{role.value}",
                PASSWORD,
                role,
                hall_ids=[hall.id],
                display_name=f"{role.value}员",
            )
        for n in ids:
            await create_user(
                uow.session, f"{code}-staff{n}", PASSWORD, Role.STAFF, hall_ids=[hall.id]
            )
    return kit


async def login(
    client: httpx.AsyncClient, kit: HallKit, username: str, key: str | None = None
) -> str:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    kit.tokens[key or username] = token
    return token


async def login_all(client: httpx.AsyncClient, kit: HallKit) -> None:
    for role in ("staff", "supervisor", "admin"):
        await login(client, kit, f"{kit.code}-{role}", role)
    for n in kit.counter_ids:
        await login(client, kit, f"{kit.code}-staff{n}", f"staff{n}")


async def booked(
    client: httpx.AsyncClient, kit: HallKit, slot_start: datetime, service: str = "enrol"
) -> dict[str, Any]:
    """A booking made from a phone (no login), for ``slot_start``."""
    r = await client.post(
        f"/api/v1/halls/{kit.code}/appointments",
        json={
            "service": service,
            "slot_start": slot_start.isoformat(),
            "name": "张三丰",
            "phone": "13812341234",
        },
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def issue(
    client: httpx.AsyncClient, kit: HallKit, service: str = "enrol", **body: Any
) -> dict[str, Any]:
    headers = kit.auth("kiosk")
    if "idempotency_key" in body:
        headers["Idempotency-Key"] = body.pop("idempotency_key")
    r = await client.post(
        f"/api/v1/halls/{kit.code}/tickets", json={"service": service, **body}, headers=headers
    )
    assert r.status_code in (200, 201), r.text
    data: dict[str, Any] = r.json()
    return data


async def act(
    client: httpx.AsyncClient,
    kit: HallKit,
    at: int,
    action: str,
    who: str | None = None,
    **body: Any,
) -> httpx.Response:
    """Press a counter button: ``at`` is the counter number, ``body`` the JSON payload."""
    who = who or f"staff{at}"
    return await client.post(
        f"/api/v1/counters/{kit.counter_ids[at]}/{action}", json=body or None, headers=kit.auth(who)
    )


async def serve(
    client: httpx.AsyncClient,
    kit: HallKit,
    at: int,
    *,
    outcome: str = "completed",
    clock: Any = None,
    minutes: float = 0,
) -> dict[str, Any]:
    """Call the next ticket at counter ``at``, start and finish it (``minutes`` of service)."""
    r = await act(client, kit, at, "call-next")
    assert r.status_code == 200 and r.json()["ticket"], r.text
    assert (await act(client, kit, at, "start")).status_code == 200
    if clock is not None and minutes:
        clock.advance(minutes=minutes)
    r = await act(client, kit, at, "finish", outcome=outcome)
    assert r.status_code == 200, r.text
    ticket: dict[str, Any] = r.json()["ticket"]
    return ticket


async def rate_ticket(
    client: httpx.AsyncClient, kit: HallKit, ticket_id: int, score: int
) -> httpx.Response:
    """Rate through the rating pad of the counter that served it, as a resident does."""
    r = await client.get(f"/api/v1/tickets/by-id/{ticket_id}", headers=kit.auth("supervisor"))
    counter = r.json().get("counter") if r.status_code == 200 else None
    pad = "pad" if counter in (None, min(kit.counter_ids)) else f"pad{counter}"
    return await client.post(
        f"/api/v1/tickets/{ticket_id}/rating", json={"score": score}, headers=kit.auth(pad)
    )


async def add_history_day(
    ctx: AppContext,
    kit: HallKit,
    day: date,
    per_hour: dict[int, int],
    *,
    service: str = "enrol",
    minutes: float = 6.0,
    green_every: int = 0,
) -> int:
    """Write a past day's finished tickets straight into the database.

    Weeks of history through the API would take minutes; the planner only reads
    issue times, channels, states and service times, so rows are enough.
    ``per_hour`` is local hour -> tickets issued, evenly spread over the hour;
    each is served for ``minutes``, called on issue; every ``green_every``-th
    ticket is green channel. Returns the number of tickets written.
    """
    from kiosk_server.tickets.models import Ticket

    written = 0
    async with unit_of_work(ctx.db) as uow:
        svc = next(
            s
            for s in await halls_repo.list_services(uow.session, kit.hall_id, enabled_only=False)
            if s.code == service
        )
        seq = 0
        for hour, n in sorted(per_hour.items()):
            for i in range(n):
                seq += 1
                issued = datetime.combine(day, time(hour), tzinfo=SHANGHAI) + timedelta(
                    minutes=60.0 * i / n
                )
                issued = issued.astimezone(UTC)
                green = bool(green_every) and seq % green_every == 0
                uow.session.add(
                    Ticket(
                        hall_id=kit.hall_id,
                        service_day=day,
                        prefix=svc.prefix,
                        seq_number=seq,
                        number=f"{svc.prefix}{seq:03d}",
                        service_id=svc.id,
                        channel="green" if green else "normal",
                        state="done",
                        issued_at=issued,
                        order_at=issued,
                        called_at=issued,
                        first_called_at=issued,
                        started_at=issued,
                        finished_at=issued + timedelta(minutes=minutes),
                        counter_id=kit.counter_ids[min(kit.counter_ids)],
                        outcome="completed",
                        public_token=secrets.token_urlsafe(16),
                    )
                )
                written += 1
    return written


def printing_to(settings: Settings, printer_url: str, **more: Any) -> Settings:
    """``settings`` with the server printing itself to ``printer_url`` (the emulator);
    a generous print wait: the emulator answers in milliseconds, a loaded CI box may not."""
    return settings.model_copy(
        update={"printer_url": printer_url, "print_wait_seconds": 5.0, **more}
    )
