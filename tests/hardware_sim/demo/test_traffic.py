"""The traffic driver against the real server on a real port."""

from __future__ import annotations

import random
from datetime import date

import httpx
import pytest

from hardware_sim.cli import main as sim_main
from hardware_sim.scenario import load_scenario
from hardware_sim.traffic import (
    SimClock,
    Traffic,
    TrafficConfig,
    elderly_id_number,
    lognormal_minutes,
)
from hardware_sim.traffic import (
    main as traffic_main,
)
from kiosk_server.context import AppContext
from kiosk_server.core.idnumber import age_on, parse_id_number
from tests.conftest import LiveServer
from tests.factories import PASSWORD, login_all, make_hall

pytestmark = pytest.mark.asyncio


async def test_elderly_id_numbers_are_valid_and_elderly() -> None:
    rng = random.Random(1)
    today = date(2026, 11, 25)
    for _ in range(200):
        parsed = parse_id_number(elderly_id_number(rng, today), today)  # raises if invalid
        assert age_on(parsed.birth_date, today) >= 60


async def test_lognormal_service_time_has_the_scenario_mean() -> None:
    rng = random.Random(2)
    draws = [lognormal_minutes(rng, 6.0, 2.5) for _ in range(20000)]
    assert min(draws) > 0
    assert abs(sum(draws) / len(draws) - 6.0) < 0.15


async def test_sim_clock_runs_fast_and_wraps_to_opening() -> None:
    now = [0.0]
    clock = SimClock(60.0, 16 * 60 + 50, 8 * 60 + 30, 17 * 60, real=lambda: now[0])
    assert clock.minute() == 16 * 60 + 50
    now[0] = 60.0  # one real minute = one scenario hour
    assert clock.minute() == 8 * 60 + 30 + 50  # closed at 17:00, next day from 08:30
    assert clock.real_seconds(30) == 30.0


async def test_traffic_issues_calls_finishes_and_rates(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx, always_open=True)
        await login_all(client, kit)
        cfg = TrafficConfig(
            server=live.url,
            hall=kit.code,
            kiosk_token=kit.tokens["kiosk"],
            staff={n: (f"{kit.code}-staff{n}", PASSWORD) for n in (1, 2)},
            scenario=load_scenario("township"),
            speed=900.0,  # 15 scenario minutes a second
            start_minute=9 * 60 + 30,
            seed=7,
            rate_share=1.0,
        )
        traffic = Traffic(cfg)
        try:
            await traffic.run(duration=3.0)
        finally:
            await traffic.aclose()
        c = traffic.stats.counts
        assert c["issued"] >= 3 and c["called"] >= 2 and c["finished"] >= 1, c
        assert c["rated"] >= 1 and c["errors"] == 0, c
        # Green channel tickets appear (declared or from an elderly ID number).
        r = await client.get(
            f"/api/v1/halls/{kit.code}/queue",
            headers={"Authorization": f"Bearer {kit.tokens['staff']}"},
        )
        assert r.status_code == 200
        # What the server recorded matches what the driver counted.
        from sqlalchemy import text

        from kiosk_server.db.uow import unit_of_work

        async with unit_of_work(ctx.db, write=False) as uow:
            rows = (await uow.session.execute(text("SELECT state, channel FROM tickets"))).all()
            ratings = (await uow.session.execute(text("SELECT COUNT(*) FROM ratings"))).scalar()
        # (a request cut off by the end of the run may have been committed uncounted)
        assert c["issued"] <= len(rows) <= c["issued"] + 1
        assert c["finished"] <= sum(1 for s, _ in rows if s == "done") <= c["finished"] + 2
        assert ratings is not None and c["rated"] <= ratings <= c["rated"] + 2
        assert any(ch == "green" for _, ch in rows)


async def test_cli_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert traffic_main(["--server", "http://x", "--scenario", "nope"]) == 2
    assert traffic_main(["--server", "http://x"]) == 2  # no kiosk token
    assert traffic_main(["--server", "http://x", "--token", "t", "--speed", "0"]) == 2
    assert sim_main(["frobnicate"]) == 2
    assert "unknown simulator" in capsys.readouterr().err
