"""The admin console's everyday edits in a real browser against a real server: each
saved change is read back from the API and shows where it matters, without a restart."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.browser_conftest import PageFactory
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, make_hall, make_id

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

Site = tuple[HallKit, httpx.AsyncClient]


async def open_admin(page: Any, live: LiveServer, tab: str, user: str = "demo-admin") -> None:
    await page.goto(f"{live.url}/admin?hall=demo#{tab}")
    await page.fill("#login-form [name=username]", user)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"body[data-loaded={tab}]")


async def tab(page: Any, name: str) -> None:
    await page.evaluate("document.body.dataset.loaded = ''")
    await page.click(f".tabs [data-tab={name}]")
    await page.wait_for_selector(f"body[data-loaded={name}]")


async def table_codes(page: Any) -> list[str]:
    codes: list[str] = await page.eval_on_selector_all(
        "#svc-table tbody tr[data-code]", "rows => rows.map(r => r.dataset.code)"
    )
    return codes


async def test_reordering_the_catalogue_reorders_the_kiosk(
    live: LiveServer, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    before = [s["code"] for s in (await client.get("/api/v1/halls/demo/services")).json()]
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "catalog")
    assert await table_codes(page) == before
    # The third item up one, then the first down one.
    await page.click(f"#svc-table tr[data-code={before[2]}] button[title=上移]")
    want = [before[0], before[2], before[1], *before[3:]]
    await page.wait_for_function(
        "want => [...document.querySelectorAll('#svc-table tbody tr[data-code]')]"
        ".map(r => r.dataset.code).join() === want.join()",
        arg=want,
    )
    await page.click(f"#svc-table tr[data-code={want[0]}] button[title=下移]")
    want = [want[1], want[0], *want[2:]]
    await page.wait_for_function(
        "want => [...document.querySelectorAll('#svc-table tbody tr[data-code]')]"
        ".map(r => r.dataset.code).join() === want.join()",
        arg=want,
    )
    assert not await page.is_visible("[data-error=catalog]")
    after = (await client.get("/api/v1/halls/demo/services")).json()
    assert [s["code"] for s in after] == want
    assert [s["sort_order"] for s in after] == sorted(s["sort_order"] for s in after)
    # A kiosk opened now (the server was not restarted) offers them in that order.
    kiosk = await page_factory(width=1080, height=1920)
    await kiosk.goto(f"{live.url}/kiosk/demo?device_token={kit.tokens['kiosk']}")
    await kiosk.wait_for_selector(".k-service")
    shown = await kiosk.eval_on_selector_all(
        ".k-service", "buttons => buttons.map(b => b.dataset.service)"
    )
    assert shown == want
    # And the order survives reloading the console.
    await tab(page, "hall")
    await tab(page, "catalog")
    assert await table_codes(page) == want


async def test_renaming_a_counter_reaches_the_hall_screen(
    live: LiveServer, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "counters")
    row = page.locator("#ctr-table tr[data-number='2']")
    name = row.locator("input[aria-label=名称]")
    await name.fill("")
    await row.get_by_role("button", name="改名").click()
    assert await page.text_content("[data-error=counters]") == "请填写名称"
    await name.fill("帮办代办窗口")
    await row.get_by_role("button", name="改名").click()
    await page.wait_for_selector("#flash:not(.hidden)")
    counters = (await client.get("/api/v1/halls/demo/counters", headers=kit.auth("staff"))).json()
    assert {c["number"]: c["name"] for c in counters}[2] == "帮办代办窗口"
    snap = (await client.get("/api/v1/halls/demo/display")).json()
    assert {c["number"]: c["name"] for c in snap["counters"]}[2] == "帮办代办窗口"
    await tab(page, "hall")
    await tab(page, "counters")
    assert await name.input_value() == "帮办代办窗口"


async def test_changing_a_persons_role_and_halls(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    await make_hall(ctx, "east")
    async with unit_of_work(ctx.db) as uow:  # an admin of every hall sees the halls editor
        await create_user(uow.session, "county", PASSWORD, Role.ADMIN, all_halls=True)
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "staff", user="county")
    row = page.locator("#user-table tr[data-username=demo-staff]")
    await row.locator("select[aria-label=角色]").select_option("supervisor")
    await page.wait_for_selector("#flash:not(.hidden)")

    async def demo_staff() -> dict[str, Any]:
        r = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {county}"})
        return next(u for u in r.json() if u["username"] == "demo-staff")

    r = await client.post("/api/v1/auth/token", json={"username": "county", "password": PASSWORD})
    county = r.json()["access_token"]
    assert (await demo_staff())["role"] == "supervisor"
    # The new role applies to the next request already: a supervisor reads the audit log.
    r = await client.post(
        "/api/v1/auth/token", json={"username": "demo-staff", "password": PASSWORD}
    )
    staff = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/v1/halls/demo/audit", headers=staff)).status_code == 200
    assert (await client.get("/api/v1/halls/east/queue", headers=staff)).status_code == 403

    await row.get_by_role("button", name="所属大厅").click()
    editor = page.locator("#user-table tr.editor")

    def box(code: str) -> Any:
        return editor.locator(f".services-pick input[value={code}]")

    await box("demo").uncheck()
    await editor.get_by_role("button", name="保存").click()
    assert await page.text_content("[data-error=staff]") == "请选择此账号所属的大厅"
    await box("demo").check()
    await box("east").check()
    await editor.get_by_role("button", name="保存").click()
    await page.wait_for_selector("#user-table tr.editor", state="detached")
    assert sorted((await demo_staff())["halls"]) == ["demo", "east"]
    assert (await client.get("/api/v1/halls/east/queue", headers=staff)).status_code == 200
    await page.wait_for_selector("#user-table tr[data-username=demo-staff] td:has-text('east')")
    assert (
        await page.locator("#user-table tr[data-username=demo-staff] select").input_value()
        == "supervisor"
    )


async def test_elderly_age_peak_window_and_longest_wait_are_saved_and_read_back(
    live: LiveServer, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=1000)
    await open_admin(page, live, "hall")
    f = "#hall-form"
    # Half a window is refused in the page, nothing saved.
    await page.fill(f"{f} [name=peak_start]", "08:30")
    await page.fill(f"{f} [name=peak_end]", "")
    await page.click(f"{f} button[type=submit]")
    assert await page.text_content(f"{f} [data-error]") == (
        "老年人高峰时段须同时填写开始和更晚的结束时间（如 08:30-10:30）"
    )
    await page.fill(f"{f} [name=elderly_age]", "65")
    await page.fill(f"{f} [name=peak_end]", "10:30")
    await page.fill(f"{f} [name=max_wait_minutes]", "45")
    await page.click(f"{f} button[type=submit]")
    await page.wait_for_selector("#flash:not(.hidden)")
    h = (await client.get("/api/v1/halls/demo")).json()
    assert h["elderly_age"] == 65
    assert (h["peak_start"], h["peak_end"]) == ("08:30", "10:30")
    assert h["policy"]["max_wait_minutes"] == 45
    # Read back by a fresh page.
    await page.reload()
    await page.wait_for_selector("body[data-loaded=hall]")
    assert await page.input_value(f"{f} [name=elderly_age]") == "65"
    assert await page.input_value(f"{f} [name=peak_start]") == "08:30"
    assert await page.input_value(f"{f} [name=peak_end]") == "10:30"
    assert await page.input_value(f"{f} [name=max_wait_minutes]") == "45"
    # In effect at once: a 62-year-old is no longer put in the green channel.
    r = await client.post(
        "/api/v1/halls/demo/tickets",
        json={"service": "enrol", "id_number": make_id("19640601")},
        headers=kit.auth("kiosk"),
    )
    assert r.status_code in (200, 201), r.text
    assert r.json()["channel"] == "normal"
    r = await client.post(
        "/api/v1/halls/demo/tickets",
        json={"service": "enrol", "id_number": make_id("19600601")},
        headers=kit.auth("kiosk"),
    )
    assert r.json()["channel"] == "green"
