"""Installs the supervisor's figures, dashboard and reports API and pages."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server import access
from kiosk_server.context import AppContext
from kiosk_server.stats.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    # This package's rows of the access matrix (the table's own entries win).
    access.RULES.setdefault("GET /api/v1/halls/{hall}/figures", access.SUPERVISOR)
    access.RULES.setdefault("GET /api/v1/halls/{hall}/dashboard", access.SUPERVISOR)
    access.RULES.setdefault("GET /api/v1/halls/{hall}/reports", access.SUPERVISOR)
    access.RULES.setdefault("GET /api/v1/halls/{hall}/plan", access.SUPERVISOR)
    from display_client.pages import add_page

    app.include_router(router)
    add_page(app, "/supervisor/{hall}", "supervisor.html")
    add_page(app, "/supervisor/{hall}/cases", "cases.html")
