"""Wires appointments into the app: routes, the check-in resolver, the ticket
link, the no-show duty and the phone booking page."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kiosk_server.appointments import service
from kiosk_server.appointments.router import router
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork


def install(app: FastAPI, ctx: AppContext) -> None:
    from display_client.pages import add_page

    app.include_router(router)
    # POST /halls/{hall}/tickets with appointment_code checks in through this.
    ctx.extras["appointment_resolver"] = service.resolve

    async def after_issue(uow: UnitOfWork, payload: Any) -> None:
        _hall, _svc, ticket, _out = payload
        await service.link_ticket(uow, ticket)

    ctx.hooks.after_issue.append(after_issue)

    async def no_shows(c: AppContext) -> None:
        await service.mark_no_shows(c)

    ctx.extras.setdefault("duties", []).append(no_shows)
    # Bookings, check-ins and no-shows in the supervisor's figures and reports.
    ctx.extras.setdefault("stats_extensions", []).append(service.figures)
    add_page(app, "/book/{hall}", "book.html")
