"""Plugs the multi-site roll-up and site set-up into the app."""

from __future__ import annotations

from fastapi import FastAPI

from kiosk_server.context import AppContext
from kiosk_server.sites.router import router


def install(app: FastAPI, ctx: AppContext) -> None:
    app.include_router(router)
