"""Installs the supervisor's figures, dashboard and reports API and pages."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.context import AppContext
from kiosk_server.stats.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    from display_client.pages import add_page

    app.include_router(router)
    add_page(app, "/supervisor/{hall}", "supervisor.html")
    add_page(app, "/supervisor/{hall}/cases", "cases.html")
