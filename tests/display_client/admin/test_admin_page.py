"""The admin console in a real browser against a real server: each acceptance
flow of issue 11, and a screenshot of every section (docs/screenshots/admin-*.png)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hardware_sim.printer.decoder import decode
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.printing.models import PrintJob
from kiosk_server.printing.service import view_from_json
from tests.browser_conftest import PageFactory, save_screenshot
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, act, issue
from ticket_printer.layout import Layout, render_ticket

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def shot(page: Any, name: str) -> None:
    await page.evaluate("window.scrollTo(0, 0)")
    await save_screenshot(page, f"admin-{name}")


Site = tuple[HallKit, httpx.AsyncClient]


async def open_admin(page: Any, live: LiveServer, tab: str = "hall") -> None:
    await page.goto(f"{live.url}/admin#{tab}")
    await page.fill("#login-form [name=username]", "demo-admin")
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"body[data-loaded={tab}]")


async def tab(page: Any, name: str) -> None:
    await page.evaluate("document.body.dataset.loaded = ''")
    await page.click(f".tabs [data-tab={name}]")
    await page.wait_for_selector(f"body[data-loaded={name}]")


async def test_hall_settings_with_extended_day_and_language_switch(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=1000)
    await open_admin(page, live)
    assert await page.input_value("#hall-form [name=day_wed]") == "08:30-12:00, 13:30-17:00"
    # A wrong span is caught in the page, with the field named.
    await page.fill("#hall-form [name=day_sat]", "9:00-12")
    await page.click("#hall-form button[type=submit]")
    msg = await page.text_content("#hall-form [data-error]")
    assert "9:00-12" in msg and "周六" in msg
    await page.fill("#hall-form [name=day_sat]", "")
    await page.click("#add-special")
    await page.fill("#special-hours tr:last-child [name=special_day]", "2026-11-28")
    await page.fill("#special-hours tr:last-child [name=special_spans]", "09:00-12:00")
    await page.fill("#hall-form [name=green_burst]", "3")
    await page.fill("#hall-form [name=hotline]", "0512-12393")
    assert await page.is_checked("#hall-form [name=official_calendar]")  # a real hall's default
    await page.uncheck("#hall-form [name=official_calendar]")
    await page.click("#hall-form button[type=submit]")
    await page.wait_for_selector("#flash:not(.hidden)")
    h = (await client.get(f"/api/v1/halls/{kit.code}")).json()
    assert h["official_calendar"] is False
    assert h["opening_hours"]["2026-11-28"] == ["09:00-12:00"]
    assert h["policy"]["green_burst"] == 3 and h["hotline"] == "0512-12393"
    await page.wait_for_selector("#flash.hidden", state="attached", timeout=5000)
    await shot(page, "hall")
    await page.fill("#hall-form [name=name]", "长江镇医保服务站（未保存）")
    await page.click("#lang")
    assert await page.text_content(".tabs [data-tab=catalog]") == "Catalogue"
    # Relabelled, not reloaded: an unsaved edit stays.
    assert await page.input_value("#hall-form [name=name]") == "长江镇医保服务站（未保存）"
    assert await page.text_content("#weekly-hours tr:first-child td") == "Monday"


async def test_new_item_with_materials_reaches_kiosk_and_printed_ticket(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "catalog")
    await page.click("#svc-new")
    f = "#svc-form"
    await page.fill(f"{f} [name=code]", "pension")
    await page.fill(f"{f} [name=prefix]", "a")
    await page.fill(f"{f} [name=name_zh]", "养老待遇资格认证")
    await page.fill(f"{f} [name=materials]", "居民身份证原件\n近期一寸照片")
    await page.fill(f"{f} [name=guide]", "本人到窗口现场认证，约5分钟。")
    # Refused in the page: the letter A belongs to enrolment.
    await page.click(f"{f} button[type=submit]")
    msg = await page.text_content(f"{f} [data-error]")
    assert (
        msg == "字母 A 已被 城乡居民参保登记（enrol）使用；每个事项须有自己的字母，号码才不会重复"
    )
    await page.fill(f"{f} [name=prefix]", "P")
    await page.click(f"{f} button[type=submit]")
    await page.wait_for_selector("#svc-table tr[data-code=pension]")
    await shot(page, "catalog")

    kiosk = await page_factory(width=1080, height=1920)
    await kiosk.goto(f"{live.url}/kiosk/demo?device_token={kit.tokens['kiosk']}")
    await kiosk.click(".k-service[data-service=pension]")
    await kiosk.wait_for_selector("#m-list li")
    assert await kiosk.locator("#m-list li").all_text_contents() == [
        "居民身份证原件",
        "近期一寸照片",
    ]
    assert await kiosk.text_content("#m-guide") == "本人到窗口现场认证，约5分钟。"

    t = await issue(client, kit, "pension")
    assert t["number"] == "P001" and t["materials"] == ["居民身份证原件", "近期一寸照片"]
    async with unit_of_work(ctx.db, write=False) as uow:
        job = (
            await uow.session.execute(select(PrintJob).where(PrintJob.ticket_id == t["id"]))
        ).scalar_one()
    [paper] = decode(render_ticket(view_from_json(job.view), Layout()), Layout().dots)
    assert "P001" in paper.text and "养老待遇资格认证" in paper.text
    assert "居民身份证原件" in paper.text and "近期一寸照片" in paper.text


def chinese_part(message: str) -> str:
    """The server's message is English with the Chinese in parentheses at the end."""
    assert message.endswith(")"), message
    return message[message.rindex(" (") + 2 : -1]


class Requests:
    """The console's writes to the API and their statuses: which check refused."""

    def __init__(self, page: Any) -> None:
        self.seen: list[tuple[str, str, int]] = []
        page.on("response", self._on)

    def _on(self, response: Any) -> None:
        if response.request.method in ("POST", "PATCH"):
            self.seen.append((response.request.method, response.url, response.status))

    def take(self) -> list[tuple[str, str, int]]:
        out, self.seen = self.seen, []
        return out


async def banner_text(page: Any, scope: str) -> str:
    banner = page.locator(scope)
    await banner.wait_for(state="visible")
    return await banner.text_content() or ""


async def test_disabling_an_item_people_wait_for_reads_the_same_from_page_or_server(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=900)
    sent = Requests(page)
    await open_admin(page, live, "catalog")
    sent.take()
    # Taken after the page loaded: only the server knows, and refuses.
    await issue(client, kit, "payment")
    box = "#svc-table tr[data-code=payment] input[type=checkbox]"
    await page.click(box)
    zh = "今天还有 1 人取了“参保缴费”的号尚未办结，请先办理完或转移后再停用"
    assert await banner_text(page, "[data-error=catalog]") == zh
    [(method, url, status)] = sent.take()
    assert method == "PATCH" and url.endswith("/services/payment") and status == 409
    r = await client.patch(
        "/api/v1/halls/demo/services/payment", json={"enabled": False}, headers=kit.auth("admin")
    )
    assert chinese_part(r.json()["error"]["message"]) == zh
    await page.wait_for_function(f"document.querySelector('{box}').checked === true")
    # Reloaded after the refusal, the page now knows and refuses by itself: same words.
    await page.evaluate("document.querySelector('[data-error=catalog]').textContent = ''")
    await page.click(box)
    await page.wait_for_function(
        "document.querySelector('[data-error=catalog]').textContent.length > 0"
    )
    assert await banner_text(page, "[data-error=catalog]") == zh
    assert sent.take() == []
    await page.wait_for_function(f"document.querySelector('{box}').checked === true")

    # In English: the same rule reads the same, page-side and server-side ("1 person").
    await page.evaluate("document.body.dataset.loaded = ''")
    await page.click("#lang")
    await page.wait_for_selector("body[data-loaded=catalog]")
    await page.click(box)
    en = (
        "1 person holds a ticket for 参保缴费 today (waiting or at a counter); "
        "serve or transfer them before disabling it"
    )
    await page.wait_for_function(
        "document.querySelector('[data-error=catalog]').textContent.startsWith('1 person')"
    )
    assert await banner_text(page, "[data-error=catalog]") == en
    assert sent.take() == []
    await issue(client, kit, "record_query")
    await page.click("#svc-table tr[data-code=record_query] input[type=checkbox]")
    await page.wait_for_function(
        "document.querySelector('[data-error=catalog]').textContent.includes('参保信息查询')"
    )
    assert await banner_text(page, "[data-error=catalog]") == en.replace("参保缴费", "参保信息查询")
    assert [s for _, _, s in sent.take()] == [409]
    public = (await client.get("/api/v1/halls/demo/services")).json()
    assert {"payment", "record_query"} <= {s["code"] for s in public}


async def test_a_reused_prefix_reads_the_same_from_page_or_server(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=900)
    sent = Requests(page)
    await open_admin(page, live, "catalog")
    sent.take()
    # Another admin adds an item with P after this page loaded its catalogue.
    r = await client.post(
        "/api/v1/halls/demo/services",
        json={"code": "pension", "name_zh": "养老待遇资格认证", "prefix": "P"},
        headers=kit.auth("admin"),
    )
    assert r.status_code == 201
    f = "#svc-form"

    async def try_new_item(code: str, letter: str = "P") -> str:
        await page.click("#svc-new")
        await page.fill(f"{f} [name=code]", code)
        await page.fill(f"{f} [name=prefix]", letter)
        await page.fill(f"{f} [name=name_zh]", "新事项")
        await page.evaluate(f"document.querySelector('{f} [data-error]').textContent = ''")
        await page.click(f"{f} button[type=submit]")
        await page.wait_for_function(
            f"document.querySelector('{f} [data-error]').textContent.length > 0"
        )
        return await banner_text(page, f"{f} [data-error]")

    zh = "字母 P 已被 养老待遇资格认证（pension）使用；每个事项须有自己的字母，号码才不会重复"
    assert await try_new_item("one") == zh  # caught by the server
    [(method, _, status)] = sent.take()
    assert method == "POST" and status == 409
    r = await client.post(
        "/api/v1/halls/demo/services",
        json={"code": "one", "name_zh": "新事项", "prefix": "P"},
        headers=kit.auth("admin"),
    )
    assert chinese_part(r.json()["error"]["message"]) == zh
    await page.click(f"{f} [data-close]")
    await tab(page, "hall")
    await tab(page, "catalog")
    sent.take()
    assert await try_new_item("two") == zh  # caught in the page
    assert sent.take() == []
    await page.click(f"{f} [data-close]")

    await page.evaluate("document.body.dataset.loaded = ''")
    await page.click("#lang")
    await page.wait_for_selector("body[data-loaded=catalog]")
    en = (
        "prefix P is already used by 养老待遇资格认证 (pension); "
        "each item needs its own letter so numbers stay unique"
    )
    assert await try_new_item("three") == en  # in the page
    assert sent.take() == []
    await page.click(f"{f} [data-close]")
    r = await client.post(
        "/api/v1/halls/demo/services",
        json={"code": "p2", "name_zh": "另一事项", "prefix": "R"},
        headers=kit.auth("admin"),
    )
    assert r.status_code == 201
    assert await try_new_item("four", "R") == (  # by the server
        "prefix R is already used by 另一事项 (p2); "
        "each item needs its own letter so numbers stay unique"
    )
    assert [s for _, _, s in sent.take()] == [409]


async def test_notice_change_updates_the_hall_screen_without_reload(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    screen = await page_factory(width=1920, height=1080)
    await screen.goto(f"{live.url}/display/demo?device_token={kit.tokens['display']}")
    await screen.wait_for_function("document.getElementById('notice').textContent.length > 0")
    await screen.evaluate("window.__sameDocument = true")
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "notices")
    # End before start: refused in the page with the server's message.
    await page.fill("#notice-form [name=text]", "12月起城乡居民医保集中缴费")
    await page.fill("#notice-form [name=end_date]", "2026-11-24")
    await page.click("#notice-submit")
    assert await page.text_content("#notice-form [data-error]") == "结束日期不能早于开始日期"
    await page.fill("#notice-form [name=end_date]", "2026-12-31")
    await page.click("#notice-submit")
    await page.wait_for_selector("#ntc-table tr[data-notice]")
    await screen.wait_for_function(
        "document.getElementById('notice').textContent.includes('12月起城乡居民医保集中缴费')"
    )
    assert await screen.evaluate("window.__sameDocument") is True  # no reload
    await page.select_option("#notice-form [name=kind]", "policy")
    await page.fill("#notice-form [name=title]", "门诊慢特病认定")
    await page.fill("#notice-form [name=text]", "每月15日集中评审，请提前提交材料")
    await page.click("#notice-submit")
    await page.wait_for_selector("#ntc-table tr[data-notice] >> nth=1")
    await page.wait_for_selector("#flash.hidden", state="attached", timeout=5000)
    await shot(page, "notices")
    snap = (await client.get("/api/v1/halls/demo/display")).json()
    assert [n["kind"] for n in snap["notices"]] == ["scroll", "policy"]


async def test_pair_a_rating_pad_through_its_device_link(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=1000)
    await open_admin(page, live, "devices")
    await page.select_option("#device-new [name=kind]", "rating_pad")
    await page.fill("#device-new [name=name]", "2号窗评价器")
    await page.click("#device-new button[type=submit]")
    assert "评价器或呼叫器位于窗口" in (await page.text_content("[data-error=devices]") or "")
    await page.select_option("#device-new [name=counter]", "2")
    await page.click("#device-new button[type=submit]")
    await page.wait_for_selector("#pair-box:not(.hidden)")
    assert (await page.get_attribute("#pair-qr", "src") or "").startswith("data:image/png")
    link = await page.input_value("#pair-url")
    assert "/rate/2?hall=demo&device_token=hqd_" in link
    await shot(page, "devices")

    pad = await page_factory(width=1280, height=800)
    await pad.goto(link.replace("http://hall.test", live.url))
    await pad.wait_for_function("document.getElementById('counter').textContent.includes('2')")
    assert "device_token" not in pad.url  # kept in the pad's storage, not in the address
    stored = await pad.evaluate("localStorage.getItem('hallq.device.rating_pad')")
    assert stored == link.split("device_token=")[1]
    await pad.reload()
    await pad.wait_for_function("document.getElementById('counter').textContent.includes('2')")
    # The console lists it as seen; revoking it cuts it off.
    await tab(page, "hall")
    await tab(page, "devices")
    row = page.locator("#dev-table tr", has_text="2号窗评价器")
    assert "从未上线" not in (await row.text_content() or "")
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await row.locator("button.danger").click()
    await page.wait_for_selector("#dev-table tr.inactive")
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {stored}"})
    assert r.status_code == 401


async def test_deactivated_staff_cannot_log_in_and_still_shows_on_tickets(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    t = await issue(client, kit, "enrol")
    for action in ("call-next", "start"):
        assert (await act(client, kit, 2, action)).status_code == 200
    assert (await act(client, kit, 2, "finish", outcome="completed")).status_code == 200
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "staff")
    # A new account must change its password at first login.
    await page.fill("#user-new [name=username]", "wang")
    await page.fill("#user-new [name=display_name]", "王小明")
    await page.fill("#user-new [name=password]", "short")
    await page.click("#user-new button[type=submit]")
    assert await page.text_content("[data-error=staff]") == "密码至少需要 8 个字符"
    await page.fill("#user-new [name=password]", "first-pass-1")
    await page.click("#user-new button[type=submit]")
    await page.wait_for_selector("#user-table tr[data-username=wang]")
    row = page.locator("#user-table tr[data-username=demo-staff2]")
    await row.locator("button.danger").click()
    await page.wait_for_selector("#user-table tr.inactive[data-username=demo-staff2]")
    await page.wait_for_selector("#flash.hidden", state="attached", timeout=5000)
    await shot(page, "staff")
    r = await client.post(
        "/api/v1/auth/token", json={"username": "demo-staff2", "password": PASSWORD}
    )
    assert r.status_code == 401
    r = await client.get(f"/api/v1/tickets/by-id/{t['id']}", headers=kit.auth("supervisor"))
    assert r.json()["served_by"] == "demo-staff2"

    # wang logs in on the console: asked for a new password, then (not an admin) refused.
    other = await page_factory(width=1000, height=800)
    await other.goto(f"{live.url}/admin")
    await other.fill("#login-form [name=username]", "wang")
    await other.fill("#login-form [name=password]", "first-pass-1")
    await other.click("#login-form button[type=submit]")
    await other.wait_for_selector("#password-view:not(.hidden)")
    await other.fill("#password-form [name=old_password]", "first-pass-1")
    await other.fill("#password-form [name=new_password]", "wangs-own-pw")
    await other.fill("#password-form [name=again]", "wangs-own-pw")
    await other.click("#password-form button[type=submit]")
    await other.wait_for_selector("#denied-view:not(.hidden)")


async def test_counters_add_choose_items_and_close(
    live: LiveServer, ctx: AppContext, site: Site, page_factory: PageFactory
) -> None:
    kit, client = site
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live, "counters")
    await page.fill("#counter-new [name=number]", "3")
    await page.click("#counter-new button[type=submit]")
    assert await page.text_content("[data-error=counters]") == "3 号窗口已存在"
    await page.fill("#counter-new [name=number]", "5")
    await page.fill("#counter-new [name=name]", "帮办代办")
    await page.click("#counter-new button[type=submit]")
    await page.wait_for_selector("#ctr-table tr[data-number='5']")
    row = page.locator("#ctr-table tr[data-number='5']")
    await row.get_by_role("button", name="选择事项").click()
    editor = page.locator("#ctr-table tr.editor")
    await editor.locator("input[name=all]").uncheck()
    for box in await editor.locator(".services-pick input").all():
        await box.uncheck()
    await editor.locator(".services-pick label", has_text="零星").locator("input").check()
    await editor.get_by_role("button", name="保存").click()
    await page.wait_for_selector(
        "#ctr-table tr[data-number='5'] td.services:not(:has-text('全部'))"
    )
    await page.locator("#ctr-table tr[data-number='4'] button.danger").click()
    await page.wait_for_selector("#ctr-table tr[data-number='4'] button.green")
    counters = (await client.get("/api/v1/halls/demo/counters", headers=kit.auth("staff"))).json()
    by = {c["number"]: c for c in counters}
    assert by[5]["services"] == ["reimbursement"] and by[4]["state"] == "closed"
    await page.wait_for_selector("#flash.hidden", state="attached", timeout=5000)
    await shot(page, "counters")
