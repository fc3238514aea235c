"""Plugs follow-ups and proxy cases into the app: routes and the rating/finish hooks."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kiosk_server import access
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.followups import service
from kiosk_server.followups.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    # This package's rows of the access matrix (the table's own entries win).
    access.RULES.setdefault("GET /api/v1/halls/{hall}/followups", access.SUPERVISOR)
    access.RULES.setdefault("PATCH /api/v1/followups/{followup_id}", access.SUPERVISOR)
    access.RULES.setdefault("GET /api/v1/halls/{hall}/cases", access.STAFF)
    access.RULES.setdefault("PATCH /api/v1/cases/{case_id}", access.STAFF)
    app.include_router(router)

    async def after_rating(uow: UnitOfWork, payload: Any) -> None:
        hall, ticket, rating, event_data = payload
        await service.open_followup(ctx, uow, hall, ticket, rating, event_data)

    async def after_finish(uow: UnitOfWork, payload: Any) -> None:
        hall, svc, ticket, who = payload
        await service.open_case(ctx, uow, hall, svc, ticket, who)

    ctx.hooks.after_rating.append(after_rating)
    ctx.hooks.after_finish.append(after_finish)
