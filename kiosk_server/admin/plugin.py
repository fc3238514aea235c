"""Plugs the admin console in: the /admin page and its helper endpoints."""

from __future__ import annotations

from fastapi import FastAPI

from display_client.pages import add_page
from kiosk_server.admin.router import router
from kiosk_server.context import AppContext


def install(app: FastAPI, ctx: AppContext) -> None:
    app.include_router(router)
    add_page(app, "/admin", "admin.html")
    add_page(app, "/admin/{hall}", "admin.html")
