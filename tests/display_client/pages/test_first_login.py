"""A counter account an admin created logs in on the counter page: it is asked
for its own password first, and the counter works once it has chosen one."""

from __future__ import annotations

import pytest

from tests.browser_conftest import PageFactory
from tests.display_client.pages.conftest import Site

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_counter_page_asks_a_new_account_for_its_own_password(
    page_factory: PageFactory, site: Site
) -> None:
    r = await site.api.post(
        "/api/v1/users",
        json={"username": "zhao", "password": "start-pw-123", "role": "staff", "halls": ["demo"]},
        headers=site.kit.auth("admin"),
    )
    assert r.status_code == 201 and r.json()["must_change_password"] is True

    page = await page_factory(width=1366, height=768)
    await page.goto(site.url("/counter"))
    await page.fill("#username", "zhao")
    await page.fill("#password", "start-pw-123")
    await page.click("#login-form button[type=submit]")
    dialog = page.locator("#password-dialog")
    await dialog.wait_for()
    assert "新密码" in (await dialog.text_content() or "")
    # Two different entries are caught on the page, before the server.
    await dialog.locator("[name=new_password]").fill("zhaos-own-pw")
    await dialog.locator("[name=repeat]").fill("zhaos-own-px")
    await dialog.locator("button[type=submit]").click()
    await page.wait_for_function(
        "document.querySelector('#password-dialog .pw-error').textContent.includes('不一致')"
    )
    # The server's rule (not the old password again) comes back in its words.
    await dialog.locator("[name=new_password]").fill("start-pw-123")
    await dialog.locator("[name=repeat]").fill("start-pw-123")
    await dialog.locator("button[type=submit]").click()
    await page.wait_for_function(
        "document.querySelector('#password-dialog .pw-error').textContent.includes('differ')"
    )
    await dialog.locator("[name=new_password]").fill("zhaos-own-pw")
    await dialog.locator("[name=repeat]").fill("zhaos-own-pw")
    await dialog.locator("button[type=submit]").click()
    await page.wait_for_selector("#password-dialog", state="detached")

    # Now the counter page carries on: pick counter 2, call the (empty) queue.
    await page.click("#counters [data-counter='2']")
    await page.wait_for_selector("#desk:not(.hidden)")
    r = await site.api.post(
        "/api/v1/auth/token", json={"username": "zhao", "password": "zhaos-own-pw"}
    )
    assert r.status_code == 200 and r.json()["must_change_password"] is False
