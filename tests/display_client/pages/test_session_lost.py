"""A counter page whose account is deactivated mid-shift goes back to its login
when its live stream is refused (4401), instead of retrying for ever."""

from __future__ import annotations

import pytest

from tests.browser_conftest import PageFactory
from tests.display_client.pages.conftest import Site
from tests.display_client.pages.test_journey import open_counter

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def test_a_refused_stream_sends_the_counter_page_back_to_login(
    page_factory: PageFactory, site: Site
) -> None:
    page = await open_counter(page_factory, site, "demo-staff2", 2)
    users = (await site.api.get("/api/v1/users", headers=site.kit.auth("admin"))).json()
    staff2 = next(u for u in users if u["username"] == "demo-staff2")
    r = await site.api.patch(
        f"/api/v1/users/{staff2['id']}", json={"active": False}, headers=site.kit.auth("admin")
    )
    assert r.status_code == 200, r.text
    # The network drops the socket; the page reconnects and is refused.
    await page.evaluate("window.hallq.state.stream.ws.close()")
    await page.wait_for_selector("#login:not(.hidden)", timeout=8000)
    assert await page.evaluate("window.hallq.state.stream.closed") is True
