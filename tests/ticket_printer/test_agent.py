"""Print agent <-> live server <-> printer emulator, all over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image

from hardware_sim.printer import PrinterEmulator
from hardware_sim.printer.decoder import DecodedTicket
from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import create_device
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.printing.runtime import runtime
from kiosk_server.settings import Settings
from tests.conftest import LiveServer
from tests.factories import HallKit, login_all, make_hall
from ticket_printer.agent import AgentRejected, PrintAgent, main

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"printer_url": "agent://", "print_wait_seconds": 5.0})


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[tuple[PrinterEmulator, str]]:
    with PrinterEmulator(tmp_path / "printer-out") as e:
        host, port = e.start_tcp()
        yield e, f"tcp://{host}:{port}"


@dataclass
class Setup:
    live: LiveServer
    http: httpx.AsyncClient
    kit: HallKit
    token: str
    emu: PrinterEmulator
    printer_url: str
    ctx: AppContext

    async def issue(self, service: str = "enrol") -> dict[str, Any]:
        r = await self.http.post(
            f"/api/v1/halls/{self.kit.code}/tickets",
            json={"service": service},
            headers=self.kit.auth("kiosk"),
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def jobs(self, ticket_id: int) -> list[dict[str, Any]]:
        r = await self.http.get(
            f"/api/v1/tickets/{ticket_id}/print-jobs", headers=self.kit.auth("staff")
        )
        out: list[dict[str, Any]] = r.json()
        return out

    async def job_state(self, ticket_id: int, want: str, within: float = 10.0) -> dict[str, Any]:
        """The ticket's last job once it reaches ``want`` (polling with a deadline)."""
        deadline = time.monotonic() + within
        while True:
            job = (await self.jobs(ticket_id))[-1]
            if job["state"] == want or time.monotonic() > deadline:
                return job
            await asyncio.sleep(0.02)

    def agent(self, **kw: Any) -> PrintAgent:
        return PrintAgent(self.live.url, self.token, self.printer_url, status_seconds=0.2, **kw)


@pytest_asyncio.fixture
async def setup(
    live: LiveServer, ctx: AppContext, emu: tuple[PrinterEmulator, str]
) -> AsyncIterator[Setup]:
    kit = await make_hall(ctx)
    async with unit_of_work(ctx.db) as uow:
        token, _ = await create_device(
            uow.session, kit.hall_id, DeviceKind.PRINTER, "kiosk-1 printer"
        )
    async with httpx.AsyncClient(base_url=live.url, timeout=20) as http:
        await login_all(http, kit)
        yield Setup(live, http, kit, token, emu[0], emu[1], ctx)


def plain_columns(ticket: DecodedTicket) -> list[int]:
    """Columns taken by each normal-size text line (GB18030 bytes = half-width columns)."""
    return [
        len(line.text.rstrip().encode("gb18030"))
        for line in ticket.text_lines
        if line.style.width == 1
    ]


@contextlib.asynccontextmanager
async def running(agent: PrintAgent) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.ready.wait(), 10)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_jobs_queued_while_the_agent_is_away_print_when_it_comes_back(setup: Setup) -> None:
    first = await setup.issue("enrol")
    assert first["printed"] is None and first["print_error"] == "打印代理未连接，连接后补打"
    assert (await setup.jobs(first["id"]))[0]["state"] == "queued"
    r = await setup.http.get("/api/v1/halls/demo/printer", headers=setup.kit.auth("kiosk"))
    assert r.json()["mode"] == "agent" and r.json()["state"] == "offline"
    assert r.json()["agents_connected"] == 0

    agent = setup.agent()
    async with running(agent):
        (t,) = await asyncio.to_thread(setup.emu.wait_for_tickets, 1)
        assert first["number"] in t.text and "城乡居民参保登记" in t.text
        assert max(plain_columns(t.ticket)) > 32  # the server's 80 mm bytes
        assert t.ticket.qr_payloads == [first["status_url"]]
        job = await setup.job_state(first["id"], "printed")
        assert job["state"] == "printed" and job["attempts"] == 1

        # While connected the kiosk hears back within the issue request.
        second = await setup.issue("payment")
        assert second["printed"] is True and second["print_error"] is None
        r = await setup.http.get("/api/v1/halls/demo/printer", headers=setup.kit.auth("kiosk"))
        assert r.json()["state"] == "ok" and r.json()["agents_connected"] == 1

    # Agent gone: two more tickets wait for it, in order.
    late = [await setup.issue("enrol"), await setup.issue("record_query")]
    assert all(t["printed"] is None for t in late)
    again = setup.agent()
    async with running(again):
        tickets = await asyncio.to_thread(setup.emu.wait_for_tickets, 4)
        assert late[0]["number"] in tickets[2].text and late[1]["number"] in tickets[3].text
        for t in late:
            assert (await setup.job_state(t["id"], "printed"))["state"] == "printed"
    assert len(setup.emu.tickets) == 4


async def test_agent_reconnects_by_itself_after_the_line_drops(setup: Setup) -> None:
    agent = setup.agent()
    async with running(agent):
        rt = runtime(setup.ctx)
        (conn,) = rt.connected(setup.kit.hall_id)
        agent.ready.clear()
        await conn.ws.close(code=1012)  # type: ignore[attr-defined]
        await asyncio.wait_for(agent.ready.wait(), 10)
        assert agent.sessions == 2
        t = await setup.issue()
        assert t["printed"] is True
        await asyncio.to_thread(setup.emu.wait_for_tickets, 1)


async def test_paper_out_at_the_agent_then_reprint(setup: Setup) -> None:
    setup.emu.set_state("paper_out")
    async with running(setup.agent()):
        t = await setup.issue()
        assert t["printed"] is False and "缺纸" in t["print_error"]
        r = await setup.http.get("/api/v1/halls/demo/printer", headers=setup.kit.auth("kiosk"))
        assert r.json()["state"] == "paper_out" and r.json()["can_print"] is False
        r = await setup.http.get("/api/v1/halls/demo/devices", headers=setup.kit.auth("supervisor"))
        (printer,) = [d for d in r.json() if d["kind"] == "printer"]
        assert printer["status"]["state"] == "paper_out"

        setup.emu.set_state("ok")
        r = await setup.http.post(
            f"/api/v1/tickets/{t['id']}/reprint", headers=setup.kit.auth("staff1")
        )
        assert r.status_code == 201 and r.json()["state"] == "printed"
        (printed,) = await asyncio.to_thread(setup.emu.wait_for_tickets, 1)
        assert t["number"] in printed.text


async def test_a_repeated_job_is_acknowledged_without_printing_twice(setup: Setup) -> None:
    t = await setup.issue()
    agent = setup.agent(paper_mm=58)  # renders the view itself, for 58 mm paper
    async with running(agent):
        await setup.job_state(t["id"], "printed")
    (job,) = await setup.jobs(t["id"])
    (printed,) = setup.emu.tickets
    # Laid out for 58 mm (32 columns), not the server's 80 mm (48 columns).
    assert max(plain_columns(printed.ticket)) <= 32

    # The server resends a job whose ack it never got: no second ticket.
    msg = {"type": "job", "job_id": job["id"], "data": "", "view": None}
    ack = await agent.handle_job(msg)
    assert ack["ok"] is True and ack["job_id"] == job["id"]
    assert len(setup.emu.tickets) == 1 and agent.printed == 1


async def test_jobs_too_old_for_the_returning_agent_expire(setup: Setup, clock: FixedClock) -> None:
    t = await setup.issue()
    clock.advance(minutes=setup.ctx.settings.print_agent_max_age_minutes + 1)
    async with running(setup.agent()):
        job = await setup.job_state(t["id"], "failed")
    assert job["code"] == "expired"
    assert setup.emu.tickets == []


async def test_the_server_refuses_a_wrong_token(setup: Setup) -> None:
    bad = PrintAgent(setup.live.url, "hqd_not-a-real-token", setup.printer_url)
    with pytest.raises(AgentRejected, match="unknown or revoked"):
        await asyncio.wait_for(bad.run(), 10)
    kiosk = PrintAgent(setup.live.url, setup.kit.tokens["kiosk"], setup.printer_url)
    with pytest.raises(AgentRejected, match="not a printer device token"):
        await asyncio.wait_for(kiosk.run(), 10)
    argv = ["--server", setup.live.url, "--token", "hqd_nope", "--printer", setup.printer_url]
    assert await asyncio.to_thread(main, argv) == 2


async def test_cli_process_prints_and_stops_on_sigterm(setup: Setup) -> None:
    env = {**os.environ, "HALLQ_AGENT_TOKEN": setup.token, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ticket_printer.agent",
            "--server",
            setup.live.url,
            "--printer",
            setup.printer_url,
        ],  # fmt: skip
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not runtime(setup.ctx).connected(setup.kit.hall_id):
            assert proc.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        t = await setup.issue()
        assert t["printed"] is True
        (printed,) = await asyncio.to_thread(setup.emu.wait_for_tickets, 1)
        assert t["number"] in printed.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=10)
    assert proc.returncode == 0, err
    assert "printing on tcp://" in err


async def test_a_job_another_server_process_queued_reaches_the_agent(setup: Setup) -> None:
    """Scale-out: the process holding the agent sweeps jobs it did not create itself."""
    from kiosk_server.printing import service
    from kiosk_server.tickets import repository as tickets_repo

    rt = runtime(setup.ctx)
    async with running(setup.agent()):
        t = await setup.issue()
        await asyncio.to_thread(setup.emu.wait_for_tickets, 1)
        # A job row written by "another process": queued, never dispatched here.
        async with unit_of_work(setup.ctx.db) as uow:
            ticket = await tickets_repo.by_id(uow.session, t["id"])
            assert ticket is not None
            (first,) = await setup.jobs(t["id"])
            view = {**(await _job_view(setup, first["id"]))}
            service.new_job(setup.ctx, uow, ticket, view, "agent", "other-process", reprint=True)
        assert await rt.sweep_agents(setup.ctx) == 1
        assert await rt.sweep_agents(setup.ctx) == 0  # sent once, not again
        await asyncio.to_thread(setup.emu.wait_for_tickets, 2)
        job = await setup.job_state(t["id"], "printed")
        assert job["reprint"] is True


async def test_agent_draws_bitmaps_for_a_printer_without_a_chinese_font(setup: Setup) -> None:
    t = await setup.issue()
    # As `hallq printer-agent --text-mode image --qr-mode image`: no --paper, so the
    # server's paper width (80 mm, 576 dots) is kept.
    agent = setup.agent(text_mode="image", qr_mode="image")
    async with running(agent):
        job = await setup.job_state(t["id"], "printed")
    assert job["state"] == "printed"
    (printed,) = setup.emu.tickets
    assert printed.ticket.lines == [] and printed.ticket.qr_payloads == []
    assert {img.image.width for img in printed.ticket.images} == {576}
    assert printed.png_path is not None
    with Image.open(printed.png_path) as png:
        assert [r.text for r in zxingcpp.read_barcodes(png)] == [t["status_url"]]

    # A job for a 58 mm server is drawn 384 dots wide.
    view = await _job_view(setup, job["id"])
    ack = await agent.handle_job({"type": "job", "job_id": 10_001, "paper_mm": 58, "view": view})
    assert ack["ok"] is True, ack
    second = setup.emu.tickets[1]
    assert {img.image.width for img in second.ticket.images} == {384}
    assert [r.text for r in zxingcpp.read_barcodes(second.image)] == [t["status_url"]]


async def _job_view(setup: Setup, job_id: int) -> dict[str, Any]:
    from kiosk_server.printing import repository as repo

    async with unit_of_work(setup.ctx.db, write=False) as uow:
        job = await repo.job(uow.session, job_id)
        assert job is not None
        return dict(job.view)
