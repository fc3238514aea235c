"""``hallq sim traffic``: drive a running hallq server the way a hall's day would.

Residents arrive at the kiosk (a Poisson process per item, at the scenario's
hourly rates; the elderly share either declares the green channel or gives an
ID number with an elderly birth date), and each counter acts like its staff
member: call-next, the walk-up, occasionally recalls and a no-show, start,
finish after a lognormal service time, and most residents rate the service.
Everything goes through the server's HTTP API — the kiosk with a kiosk device
token, each counter with its staff account — so the server cannot tell the
traffic from a real hall.

``--speed 60`` runs scenario time 60× faster than real time; the scenario day
starts at ``--start`` (default: the scenario's opening time) and starts over
after closing, so a demo hall never goes quiet.

    hallq sim traffic --server http://127.0.0.1:8000 --hall demo \\
        --tokens data/demo/demo-tokens.json --staff-password hallq-demo \\
        --scenario township --speed 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from hardware_sim.scenario import Item, Scenario, ScenarioError, load_scenario
from hardware_sim.serial.status import write_status
from kiosk_server.core.idnumber import check_digit

log = logging.getLogger("hallq.sim.traffic")

# Rated by most residents, mostly well (the standard asks for >= 95% satisfied).
RATE_SHARE = 0.8
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (0.78, 0.16, 0.04, 0.015, 0.005)
OUTCOMES = ("completed", "incomplete_papers", "informed", "proxy")
OUTCOME_WEIGHTS = (0.85, 0.07, 0.05, 0.03)

# A rater: (counter number, finished ticket JSON) -> True if the rating was stored.
Rater = Callable[[int, Mapping[str, Any]], Awaitable[bool]]


def elderly_id_number(rng: random.Random, today: date, min_age: int = 60) -> str:
    """A valid 18-character ID number (check digit right) of someone aged
    ``min_age``..``min_age``+25 today; the region code is 苏州市 (320506)."""
    age = rng.randint(min_age + 1, min_age + 25)
    birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"320506{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + check_digit(first17)


def lognormal_minutes(rng: random.Random, mean: float, sd: float) -> float:
    """A service time with the given mean and sd, lognormal (long right tail, never < 0)."""
    if sd <= 0:
        return mean
    sigma2 = math.log(1 + (sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    return rng.lognormvariate(mu, math.sqrt(sigma2))


@dataclass
class SimClock:
    """Scenario minutes since midnight, running ``speed``× real time from ``start``,
    wrapping from closing back to opening."""

    speed: float
    start_minute: float
    open_minute: int
    close_minute: int
    real: Callable[[], float] = time.monotonic
    _t0: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._t0 = self.real()

    def elapsed(self) -> float:
        """Scenario minutes since the start (never wraps)."""
        return (self.real() - self._t0) * self.speed / 60.0

    def minute(self) -> float:
        day = self.close_minute - self.open_minute
        offset = (self.start_minute - self.open_minute + self.elapsed()) % day
        return self.open_minute + offset

    def real_seconds(self, scenario_minutes: float) -> float:
        return scenario_minutes * 60.0 / self.speed


@dataclass
class TrafficConfig:
    server: str
    hall: str
    kiosk_token: str
    staff: Mapping[int, tuple[str, str]]  # counter number -> (username, password)
    scenario: Scenario
    speed: float = 60.0
    start_minute: float | None = None
    seed: int | None = None
    status_dir: Path | None = None
    rate_share: float = RATE_SHARE


@dataclass
class TrafficStats:
    counts: Counter[str] = field(default_factory=Counter)
    last: dict[str, str] = field(default_factory=dict)
    by_counter: dict[int, str] = field(default_factory=dict)

    def note(self, what: str, number: str | None = None) -> None:
        self.counts[what] += 1
        if number:
            self.last[what] = number


class Traffic:
    def __init__(
        self,
        cfg: TrafficConfig,
        *,
        client: httpx.AsyncClient | None = None,
        rater: Rater | None = None,
    ) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        sc = cfg.scenario
        self.clock = SimClock(
            cfg.speed,
            sc.open_minute if cfg.start_minute is None else cfg.start_minute,
            sc.open_minute,
            sc.close_minute,
        )
        self.base = cfg.server.rstrip("/")
        self.client = client or httpx.AsyncClient(timeout=10.0, trust_env=False)
        self._own_client = client is None
        self.rater = rater
        self.stats = TrafficStats()
        self.items: list[Item] = []
        self.counter_ids: dict[int, int] = {}
        self.staff_tokens: dict[int, str] = {}
        self.tz = ZoneInfo("Asia/Shanghai")

    # ------------------------------------------------------------ set-up

    async def _request(
        self, method: str, path: str, *, token: str | None = None, body: Any = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.request(method, self.base + path, json=body, headers=headers, **kw)

    async def prepare(self) -> None:
        """Log the staff in, learn the counters and the items this hall offers."""
        hall = self.cfg.hall
        resp = await self._request("GET", f"/api/v1/halls/{hall}/services")
        resp.raise_for_status()
        offered = {s["code"] for s in resp.json()}
        self.items = [it for it in self.cfg.scenario.items if it.code in offered]
        missing = [it.code for it in self.cfg.scenario.items if it.code not in offered]
        if missing:
            log.warning("the hall does not offer %s; those residents stay home", ", ".join(missing))
        if not self.items:
            raise ScenarioError(f"hall {hall} offers none of the scenario's items")
        for counter, (user, password) in self.cfg.staff.items():
            r = await self._request(
                "POST", "/api/v1/auth/token", body={"username": user, "password": password}
            )
            if r.status_code != 200:
                raise PermissionError(f"{user} cannot log in: {r.text}")
            self.staff_tokens[counter] = r.json()["access_token"]
        if not self.staff_tokens:
            return
        any_token = next(iter(self.staff_tokens.values()))
        r = await self._request("GET", f"/api/v1/halls/{hall}/counters", token=any_token)
        r.raise_for_status()
        ids = {c["number"]: c["id"] for c in r.json()}
        for counter in list(self.staff_tokens):
            if counter not in ids:
                log.warning("hall %s has no counter %s; its staff stays home", hall, counter)
                del self.staff_tokens[counter]
            else:
                self.counter_ids[counter] = ids[counter]

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    # ------------------------------------------------------------ waiting

    async def _sim_sleep(self, minutes: float) -> None:
        await asyncio.sleep(max(0.0, self.clock.real_seconds(minutes)))

    # ------------------------------------------------------------ residents

    def _rate_now(self) -> tuple[float, list[float]]:
        hour = int(self.clock.minute() // 60)
        rates = [it.rate_at(hour) for it in self.items]
        return sum(rates), rates

    async def residents(self) -> None:
        while True:
            total, rates = self._rate_now()
            if total <= 0:
                # Nobody comes this hour: look again a scenario-minute later.
                await self._sim_sleep(1.0)
                continue
            gap = self.rng.expovariate(total / 60.0)  # minutes to the next arrival
            # The rate is piecewise constant per hour; a long gap is re-drawn at the
            # hour change, which is exact for a Poisson process (memoryless).
            to_hour = 60.0 - self.clock.minute() % 60
            if gap > to_hour:
                await self._sim_sleep(to_hour + 0.01)
                continue
            await self._sim_sleep(gap)
            item = self.rng.choices(self.items, weights=rates)[0]
            await self.arrive(item)

    async def arrive(self, item: Item) -> dict[str, Any] | None:
        hour = int(self.clock.minute() // 60)
        body: dict[str, Any] = {"service": item.code}
        if self.rng.random() < self.cfg.scenario.elderly_share(hour):
            if self.rng.random() < 0.5:
                body["channel"] = "green"  # declared at the kiosk
            else:
                today = datetime.now(self.tz).date()
                body["id_number"] = elderly_id_number(
                    self.rng, today, self.cfg.scenario.elderly_age
                )
        key = uuid.uuid4().hex  # a retried tap must not print twice
        for _attempt in range(5):
            try:
                r = await self._request(
                    "POST",
                    f"/api/v1/halls/{self.cfg.hall}/tickets",
                    token=self.cfg.kiosk_token,
                    body=body,
                    headers={"Idempotency-Key": key},
                )
            except httpx.HTTPError as e:
                self.stats.note("errors")
                log.warning("kiosk: %s", e)
                await asyncio.sleep(1.0)
                continue
            if r.status_code == 429:
                await asyncio.sleep(float(r.headers.get("Retry-After", "2")))
                continue
            if r.status_code in (200, 201):
                ticket: dict[str, Any] = r.json()
                self.stats.note("issued", ticket.get("number"))
                return ticket
            self.stats.note("refused")
            log.info("kiosk refused %s: %s %s", item.code, r.status_code, r.text[:200])
            return None
        return None

    # ------------------------------------------------------------ counters

    async def _act(
        self, counter: int, action: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """One button press; the ActionResult, or None if refused or unreachable."""
        try:
            r = await self._request(
                "POST",
                f"/api/v1/counters/{self.counter_ids[counter]}/{action}",
                token=self.staff_tokens[counter],
                body=body,
            )
        except httpx.HTTPError as e:
            self.stats.note("errors")
            log.warning("counter %s %s: %s", counter, action, e)
            return None
        if r.status_code == 401:
            # Token expired (a long demo): log in again and retry once.
            user, password = self.cfg.staff[counter]
            lr = await self._request(
                "POST", "/api/v1/auth/token", body={"username": user, "password": password}
            )
            if lr.status_code == 200:
                self.staff_tokens[counter] = lr.json()["access_token"]
                return await self._act(counter, action, body)
        if r.status_code != 200:
            log.info("counter %s %s refused: %s %s", counter, action, r.status_code, r.text[:200])
            return None
        result: dict[str, Any] = r.json()
        return result

    def _open(self, counter: int) -> bool:
        for spec in self.cfg.scenario.counters:
            if spec.number == counter:
                return spec.open_at(self.clock.minute())
        return True  # a hall counter the scenario does not list: open all day

    async def _clear(self, counter: int) -> None:
        """Whatever a previous run left at this counter: finish it, resume the counter."""
        try:
            r = await self._request(
                "GET",
                f"/api/v1/counters/{self.counter_ids[counter]}",
                token=self.staff_tokens[counter],
            )
        except httpx.HTTPError:
            return
        if r.status_code != 200:
            return
        state = r.json()
        if state.get("state") == "paused":
            await self._act(counter, "resume")
        ticket = state.get("ticket")
        if ticket:
            if ticket.get("state") == "called":
                await self._act(counter, "start")
            await self._act(counter, "finish", {"outcome": "completed"})

    async def staff(self, counter: int) -> None:
        sc = self.cfg.scenario
        await self._clear(counter)
        while True:
            if not self._open(counter):
                await self._sim_sleep(1.0)
                continue
            result = await self._act(counter, "call-next")
            ticket = result.get("ticket") if result else None
            if not ticket:
                # Queue empty (or server away): glance at the screen again shortly.
                await asyncio.sleep(min(1.0, max(0.1, self.clock.real_seconds(0.5))))
                continue
            number = str(ticket.get("number"))
            self.stats.note("called", number)
            self.stats.by_counter[counter] = number
            if self.rng.random() < sc.no_show_rate:
                for _ in range(sc.recalls_before_no_show):
                    await self._sim_sleep(sc.recall_minutes)
                    if await self._act(counter, "recall"):
                        self.stats.note("recalled", number)
                await self._sim_sleep(sc.recall_minutes)
                if await self._act(counter, "no-show"):
                    self.stats.note("no_show", number)
                continue
            await self._sim_sleep(sc.walk_up_minutes)
            if not await self._act(counter, "start"):
                continue
            self.stats.note("started", number)
            item = next((it for it in sc.items if it.code == ticket.get("service")), None)
            mean, sd = (item.service_minutes.mean, item.service_minutes.sd) if item else (5.0, 2.0)
            await self._sim_sleep(lognormal_minutes(self.rng, mean, sd))
            outcome = self.rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
            done = await self._act(counter, "finish", {"outcome": outcome})
            if not done:
                continue
            self.stats.note("finished", number)
            finished = done.get("ticket") or ticket
            if self.rng.random() < self.cfg.rate_share:
                # The resident rates before leaving the counter: the next call would
                # switch the counter's rating pad to the next resident.
                await self._rate(counter, finished)
            await self._sim_sleep(0.3)

    async def _rate(self, counter: int, ticket: Mapping[str, Any]) -> None:
        try:
            ok = await (self.rater or self.rate_by_phone)(counter, ticket)
        except Exception:
            log.exception("rating failed")
            ok = False
        if ok:
            self.stats.note("rated", str(ticket.get("number")))

    def pick_score(self) -> int:
        return self.rng.choices(SCORES, weights=SCORE_WEIGHTS)[0]

    async def rate_by_phone(self, counter: int, ticket: Mapping[str, Any]) -> bool:
        """Rate through the ticket's status link, as a resident's phone does."""
        url = str(ticket.get("status_url") or "")
        token = url.rstrip("/").rsplit("/", 1)[-1]
        if not token:
            return False
        with contextlib.suppress(httpx.HTTPError):
            r = await self._request(
                "POST", f"/api/v1/tickets/{token}/rating", body={"score": self.pick_score()}
            )
            return r.status_code == 201
        return False

    # ------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        minute = self.clock.minute()
        return {
            "name": "traffic",
            "kind": "traffic",
            "scenario": self.cfg.scenario.name,
            "speed": self.cfg.speed,
            "sim_time": f"{int(minute // 60):02d}:{int(minute % 60):02d}",
            "counts": dict(self.stats.counts),
            "last": dict(self.stats.last),
            "counters": {str(k): v for k, v in sorted(self.stats.by_counter.items())},
        }

    async def publish_status(self, every: float = 1.0) -> None:
        while self.cfg.status_dir is not None:
            write_status(self.cfg.status_dir, "traffic", self.status())
            await asyncio.sleep(every)

    def summary(self) -> str:
        c = self.stats.counts
        return (
            f"取号 {c['issued']}  叫号 {c['called']}  办理 {c['started']}  办结 {c['finished']}  "
            f"过号 {c['no_show']}  评价 {c['rated']}  错误 {c['errors']}"
        )

    # ------------------------------------------------------------ run

    async def run(self, duration: float | None = None) -> None:
        """Prepare, then run residents and staff until cancelled or ``duration`` s."""
        await self.prepare()
        tasks = [asyncio.ensure_future(self.residents())]
        tasks += [asyncio.ensure_future(self.staff(c)) for c in sorted(self.staff_tokens)]
        tasks.append(asyncio.ensure_future(self.publish_status()))
        try:
            if duration is None:
                await asyncio.gather(*tasks)
            else:
                done, _ = await asyncio.wait(tasks, timeout=duration)
                for t in done:
                    t.result()  # a crashed loop is a bug: show it
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.cfg.status_dir is not None:
                write_status(self.cfg.status_dir, "traffic", self.status())


# ---------------------------------------------------------------- CLI


def _minute(text: str) -> int:
    h, sep, m = text.partition(":")
    if not sep or not (h.isdigit() and m.isdigit()) or int(h) > 23 or int(m) > 59:
        raise argparse.ArgumentTypeError(f"expected HH:MM, got {text!r}")
    return int(h) * 60 + int(m)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="hallq sim traffic",
        description="Residents and counter staff for a running hallq server, through its API.",
    )
    ap.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8000")
    ap.add_argument("--hall", default="demo", help="hall code (default demo)")
    ap.add_argument("--token", help="kiosk device token (or `kiosk` in --tokens)")
    ap.add_argument("--tokens", type=Path, help="JSON file of device tokens (demo-tokens.json)")
    ap.add_argument(
        "--staff",
        help="counter=username list, e.g. 1=staff1,2=staff2 (default: staffN for the "
        "scenario's counters)",
    )
    ap.add_argument(
        "--staff-password", help="password of the staff accounts (or HALLQ_STAFF_PASSWORD)"
    )
    ap.add_argument("--scenario", default="township", help="scenario file or bundled name")
    ap.add_argument("--speed", type=float, default=60.0, help="scenario time / real time")
    ap.add_argument("--start", type=_minute, help="scenario time to start at, HH:MM")
    ap.add_argument("--duration", type=float, help="stop after this many real seconds")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--status-dir", type=Path, help="write traffic.status.json here (sim status)")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def parse_staff(text: str | None, counters: Sequence[int]) -> dict[int, str]:
    if not text:
        return {c: f"staff{c}" for c in counters}
    out: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        number, sep, user = part.partition("=")
        if not sep or not number.isdigit() or not user:
            raise ValueError(f"{part!r}: expected COUNTER=USERNAME")
        out[int(number)] = user
    return out


def main(argv: Sequence[str] | None = None) -> int:
    import os

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.speed <= 0:
        print("--speed must be positive", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as e:
        print(f"--scenario: {e}", file=sys.stderr)
        return 2
    tokens: dict[str, str] = {}
    if args.tokens:
        try:
            tokens = json.loads(args.tokens.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"--tokens: {e}", file=sys.stderr)
            return 2
    kiosk = args.token or tokens.get("kiosk")
    if not kiosk:
        print("a kiosk device token is needed: --token or `kiosk` in --tokens", file=sys.stderr)
        return 2
    password = args.staff_password or os.environ.get("HALLQ_STAFF_PASSWORD")
    try:
        users = parse_staff(args.staff, [c.number for c in scenario.counters])
    except ValueError as e:
        print(f"--staff: {e}", file=sys.stderr)
        return 2
    if users and not password:
        print("--staff-password (or HALLQ_STAFF_PASSWORD) is needed", file=sys.stderr)
        return 2
    cfg = TrafficConfig(
        server=args.server,
        hall=args.hall,
        kiosk_token=kiosk,
        staff={c: (u, password or "") for c, u in users.items()},
        scenario=scenario,
        speed=args.speed,
        start_minute=args.start,
        seed=args.seed,
        status_dir=args.status_dir,
    )

    async def go() -> Traffic:
        traffic = Traffic(cfg)
        try:
            await traffic.run(args.duration)
        finally:
            await traffic.aclose()
        return traffic

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    print(f"traffic: {scenario.name} at {args.speed:g}× → {args.server} hall {args.hall}")
    try:
        traffic = asyncio.run(go())
    except KeyboardInterrupt:
        return 0
    except (PermissionError, ScenarioError, httpx.HTTPError) as e:
        print(f"traffic: {e}", file=sys.stderr)
        return 1
    print(traffic.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
