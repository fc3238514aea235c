"""Plugs the multi-site roll-up (API and page) and site set-up into the app."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.context import AppContext
from kiosk_server.sites.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    from display_client.pages import add_page

    app.include_router(router)
    add_page(app, "/rollup", "rollup.html")
