"""The hall's device list (names, status, last seen) is for supervisors; of the
devices only a kiosk may read it, and it sees just its hall's printers."""

from __future__ import annotations

import httpx
import pytest

from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import create_device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import HallKit, make_hall

pytestmark = pytest.mark.asyncio


async def add_devices(ctx: AppContext, hall: HallKit) -> None:
    async with unit_of_work(ctx.db) as uow:
        for kind in (DeviceKind.PRINTER, DeviceKind.LED_BRIDGE):
            hall.tokens[kind.value], _ = await create_device(
                uow.session, hall.hall_id, kind, f"{hall.code}-{kind.value}"
            )


async def test_only_supervisors_and_the_kiosk_read_the_device_list(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await add_devices(ctx, hall)
    url = f"/api/v1/halls/{hall.code}/devices"
    names = [d["name"] for d in (await client.get(url, headers=hall.auth("supervisor"))).json()]
    assert {"demo-kiosk", "demo-display", "demo-pad", "demo-printer"} <= set(names)

    r = await client.get(url, headers=hall.auth("kiosk"))
    assert r.status_code == 200, r.text
    # Printers only (the server's own local printer among them), no other names.
    assert {d["kind"] for d in r.json()} == {"printer"}
    assert "demo-printer" in [d["name"] for d in r.json()]
    assert not {"demo-kiosk", "demo-display", "demo-pad", "demo-led_bridge"} & set(
        r.text.split('"')
    )

    for device in ("display", "pad", "led_bridge", "printer"):
        r = await client.get(url, headers=hall.auth(device))
        assert r.status_code == 403, (device, r.text)
        assert "demo-kiosk" not in r.text
    assert (await client.get(url, headers=hall.auth("staff"))).status_code == 403


async def test_a_kiosk_does_not_read_another_halls_devices(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    other = await make_hall(ctx, "other")
    await add_devices(ctx, other)
    r = await client.get(f"/api/v1/halls/{other.code}/devices", headers=hall.auth("kiosk"))
    assert r.status_code == 403
    assert "other-printer" not in r.text
