"""Plugs printing into the app: issue hook, routes, spooler start/stop, status duty."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.printing import service
from kiosk_server.printing.router import router, ws_router
from kiosk_server.printing.runtime import PrintRuntime, runtime


def install(app: FastAPI, ctx: AppContext) -> None:
    rt = PrintRuntime(ctx)
    ctx.extras["printing"] = rt
    app.include_router(router)
    app.include_router(ws_router)

    async def after_issue(uow: UnitOfWork, payload: Any) -> None:
        if rt.mode == "off":
            return
        hall, svc, ticket, out = payload
        view = service.build_view(hall, svc, ticket, out)
        # Inserted with the commit (one statement for a batch of issues); its id
        # is known once committed.
        job = service.new_job(ctx, uow, ticket, view, rt.target, "issue")

        async def _print() -> None:
            # Runs after commit and before the issue response is sent: the kiosk
            # learns within print_wait_seconds whether the paper came out.
            outcome = await rt.run(
                ctx, job.id, wait=ctx.settings.print_wait_seconds, hall_id=ticket.hall_id
            )
            out.printed = outcome.printed
            # Residents read this on the kiosk: the Chinese half of "中文 / English";
            # the job keeps the whole reason for staff.
            out.print_error = outcome.reason.split(" / ", 1)[0] if outcome.reason else None

        uow.after_commit(_print)

    ctx.hooks.after_issue.append(after_issue)

    async def on_start(c: AppContext) -> None:
        await runtime(c).start(c)

    async def on_stop(c: AppContext) -> None:
        await runtime(c).stop(c)

    async def poll_printer(c: AppContext) -> None:
        rt = runtime(c)
        if rt.mode == "local":
            await rt.poll_status(c)
        elif rt.mode == "agent":
            await rt.sweep_agents(c)

    ctx.extras.setdefault("on_start", []).append(on_start)
    ctx.extras.setdefault("on_stop", []).append(on_stop)
    ctx.extras.setdefault("duties", []).append(poll_printer)
