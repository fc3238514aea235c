"""Setting up a database: migrations, the demo hall, catalogues from files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.principal import DeviceKind, Role
from kiosk_server.auth.service import create_device, create_user
from kiosk_server.core.hours import DEFAULT_HOURS
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.halls.schemas import PolicyIn, ServiceIn

DEFAULT_CATALOG = Path(__file__).resolve().parent / "halls" / "default_catalog.yaml"
DEMO_HALL = "demo"
DEMO_NAME = "长江镇医保服务站"
DEMO_HOTLINE = "0512-12393"


def demo_notice(hotline: str | None) -> str:
    """The hall screen's standing notice for a new hall, quoting the hall's own hotline."""
    parts = ["过号请重新取号", "老年人、残疾人优先办理（绿色通道）"]
    if hotline:
        parts.insert(0, f"医保服务热线 {hotline}")
    return " · ".join(parts)


def load_catalog_file(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    items = data["services"] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list of services")
    return items


async def add_catalog(
    session: AsyncSession, hall: Hall, items: list[dict[str, Any]], *, village_only: bool = False
) -> list[Service]:
    out = []
    for i, raw in enumerate(items):
        raw = dict(raw)
        is_village = bool(raw.pop("village", False))
        if village_only and not is_village:
            continue
        item = ServiceIn(**raw)
        svc = Service(hall_id=hall.id, sort_order=i + 1, **item.model_dump())
        session.add(svc)
        out.append(svc)
    await session.flush()
    return out


async def create_hall(
    session: AsyncSession,
    code: str,
    name: str,
    *,
    kind: str = "township",
    counters: int = 4,
    hotline: str | None = DEMO_HOTLINE,
    catalog: list[dict[str, Any]] | None = None,
    always_open: bool = False,
) -> Hall:
    hours: dict[str, list[str]] = (
        {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        if always_open
        else dict(DEFAULT_HOURS)
    )
    hall = Hall(
        code=code,
        name=name,
        kind=kind,
        timezone="Asia/Shanghai",
        opening_hours=hours,
        hotline=hotline,
        elderly_age=60,
        peak_start="08:30",
        peak_end="10:30",
        policy=PolicyIn().model_dump(),
        notice=demo_notice(hotline),
        has_kiosk=kind == "township",
        # An always-open demo or benchmark hall is open on holidays too.
        official_calendar=not always_open,
    )
    session.add(hall)
    await session.flush()
    items = catalog if catalog is not None else load_catalog_file(DEFAULT_CATALOG)
    await add_catalog(session, hall, items, village_only=kind == "village" and catalog is None)
    for n in range(1, counters + 1):
        session.add(Counter(hall_id=hall.id, number=n, name="综合柜员", state="open"))
    await session.flush()
    return hall


async def create_demo(
    session: AsyncSession, admin_password: str, *, always_open: bool = False
) -> dict[str, str]:
    """The demo hall with its admin, a supervisor, four staff and device tokens."""
    try:
        await halls_repo.get_hall(session, DEMO_HALL)
        raise ValueError("the demo hall exists already")
    except Exception as exc:  # NotFound is what we hope for
        if "exists already" in str(exc):
            raise
    hall = await create_hall(session, DEMO_HALL, DEMO_NAME, always_open=always_open)
    await create_user(
        session, "admin", admin_password, Role.ADMIN, display_name="管理员", all_halls=True
    )
    await create_user(
        session,
        "supervisor",
        admin_password,
        Role.SUPERVISOR,
        display_name="站长",
        hall_ids=[hall.id],
    )
    staff_names = ["王芳", "李娜", "张伟", "刘洋"]
    for i, name in enumerate(staff_names, start=1):
        await create_user(
            session, f"staff{i}", admin_password, Role.STAFF, display_name=name, hall_ids=[hall.id]
        )
    tokens: dict[str, str] = {}
    for kind, label in (
        (DeviceKind.KIOSK, "kiosk"),
        (DeviceKind.DISPLAY, "display"),
        (DeviceKind.PRINTER, "printer"),
        (DeviceKind.LED_BRIDGE, "led_bridge"),
    ):
        token, _ = await create_device(session, hall.id, kind, f"演示{label}")
        tokens[label] = token
    counters = await halls_repo.list_counters(session, hall.id)
    for c in counters:
        token, _ = await create_device(
            session, hall.id, DeviceKind.RATING_PAD, f"评价器{c.number}", counter_id=c.id
        )
        tokens[f"rating_pad_{c.number}"] = token
    return tokens
