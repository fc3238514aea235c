"""Plugs notices into the app: routes, the hall-screen snapshot provider, the date duty."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.context import AppContext
from kiosk_server.notices import service
from kiosk_server.notices.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    app.include_router(router)
    ctx.extras["display_notices"] = service.for_display

    async def date_duty(c: AppContext) -> None:
        await service.announce_date_changes(c)

    ctx.extras.setdefault("duties", []).append(date_duty)
