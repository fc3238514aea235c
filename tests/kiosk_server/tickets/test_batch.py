"""Group commit of ticket issues (kiosk_server/tickets/batch.py): requests that
arrive together share one transaction, and each still gets its own outcome."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.auth.principal import Principal
from kiosk_server.auth.service import principal_from_token
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import Conflict, NotFound
from kiosk_server.events.models import EventRow
from kiosk_server.tickets.batch import IssueBatcher, issue_batcher
from kiosk_server.tickets.models import Ticket
from kiosk_server.tickets.schemas import IssueRequest, TicketOut
from kiosk_server.tickets.service import IssueCommand
from tests.factories import ID_YOUNG_1990, SHANGHAI, HallKit, act, booked

pytestmark = pytest.mark.asyncio


async def kiosk(ctx: AppContext, hall: HallKit) -> Principal:
    who = await principal_from_token(ctx, hall.tokens["kiosk"])
    assert who is not None
    return who


def command(who: Principal, hall: HallKit, key: str | None = None, **req: Any) -> IssueCommand:
    return IssueCommand(who, hall.code, IssueRequest(**{"service": "enrol", **req}), key)


async def together(b: IssueBatcher, commands: list[IssueCommand]) -> list[Any]:
    """Submit all at once: they queue before the batch starts (asyncio runs the
    tasks in creation order, the drainer after them)."""
    return await asyncio.gather(*(b.issue(c) for c in commands), return_exceptions=True)


async def stored(ctx: AppContext, hall: HallKit) -> tuple[list[Ticket], list[EventRow]]:
    async with unit_of_work(ctx.db, write=False) as uow:
        tickets = (
            (await uow.session.execute(select(Ticket).where(Ticket.hall_id == hall.hall_id)))
            .scalars()
            .all()
        )
        events = (
            (
                await uow.session.execute(
                    select(EventRow)
                    .where(EventRow.hall_id == hall.hall_id, EventRow.type == "ticket.issued")
                    .order_by(EventRow.seq)
                )
            )
            .scalars()
            .all()
        )
    return sorted(tickets, key=lambda t: t.id), list(events)


async def test_requests_that_arrive_together_are_one_transaction(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    before = b.batches
    outs = await together(b, [command(who, hall) for _ in range(12)])
    assert b.batches == before + 1
    assert all(isinstance(o, TicketOut) for o in outs)
    # In arrival order: numbers, people ahead and the estimates all climb.
    assert [o.number for o in outs] == [f"A{n:03d}" for n in range(1, 13)]
    assert [o.ahead for o in outs] == list(range(12))
    waits = [o.estimated_wait_minutes for o in outs]
    assert waits == sorted(waits) and waits[-1] > waits[0]
    tickets, events = await stored(ctx, hall)
    # What each resident was told is on record, as for a ticket issued alone.
    assert [t.ahead_at_issue for t in tickets] == list(range(12))
    assert all(t.estimate_at_issue is not None for t in tickets)
    # One event per ticket, numbered one after another, each with the queue's
    # length as that ticket joined it.
    assert [e.data["number"] for e in events] == [o.number for o in outs]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 12))
    assert [e.data["waiting"] for e in events] == list(range(1, 13))
    # Operators see how well issues group, on /metrics.
    metrics = (await client.get("/metrics")).text
    assert "hallq_issue_batch_size_sum 12.0" in metrics
    assert 'hallq_issue_batch_size_bucket{le="8.0"} 0.0' in metrics
    assert 'hallq_issue_batch_size_bucket{le="16.0"} 1.0' in metrics


async def test_a_refusal_undoes_only_that_request(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    outs = await together(
        b,
        [
            command(who, hall),
            command(who, hall, service="no_such_item"),
            command(who, hall, id_number=ID_YOUNG_1990),
            command(who, hall, id_number=ID_YOUNG_1990),  # the same person again
            command(who, hall, key="tap-1"),
            command(who, hall, key="tap-1"),  # a double tap in the same batch
            command(who, hall),
        ],
    )
    assert isinstance(outs[1], NotFound) and "no_such_item" in outs[1].message
    assert isinstance(outs[3], Conflict) and outs[3].details["number"] == outs[2].number
    assert outs[5].replayed and outs[5].id == outs[4].id
    issued = [o for o in outs if isinstance(o, TicketOut) and not o.replayed]
    # The refused requests took no number: the day's sequence has no gap.
    assert [o.number for o in issued] == ["A001", "A002", "A003", "A004"]
    tickets, events = await stored(ctx, hall)
    assert [t.number for t in tickets] == ["A001", "A002", "A003", "A004"]
    assert len(events) == 4


async def test_a_failure_of_the_whole_batch_is_retried_one_by_one(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    """A hook that breaks for one ticket fails the shared transaction; nothing of
    it was committed, so each request runs again alone and only that one fails."""

    async def breaks_on_green(_uow: UnitOfWork, payload: Any) -> None:
        if payload[2].channel == "green":
            raise RuntimeError("hook failed")

    ctx.hooks.after_issue.append(breaks_on_green)
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    outs = await together(
        b, [command(who, hall), command(who, hall, channel="green"), command(who, hall)]
    )
    assert isinstance(outs[1], RuntimeError)
    assert [o.number for o in (outs[0], outs[2])] == ["A001", "A002"]
    tickets, events = await stored(ctx, hall)
    assert [(t.number, t.channel) for t in tickets] == [("A001", "normal"), ("A002", "normal")]
    assert [e.data["number"] for e in events] == ["A001", "A002"]


async def test_a_caller_gone_before_its_batch_gets_no_ticket(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    first = asyncio.create_task(b.issue(command(who, hall)))
    gone = asyncio.create_task(b.issue(command(who, hall, service="payment")))
    await asyncio.sleep(0)  # both queued; the batch has not started
    gone.cancel()
    out = await first
    with pytest.raises(asyncio.CancelledError):
        await gone
    tickets, _ = await stored(ctx, hall)
    assert [t.number for t in tickets] == [out.number]


@pytest.mark.parametrize("when", ["before it starts", "during its batch"])
async def test_a_cancelled_drainer_leaves_no_caller_waiting(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit, when: str
) -> None:
    """Shutting down cancels the batch task: its callers are cancelled too rather
    than left waiting, and the hall gets a new batch task for the next issue."""
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    callers = [asyncio.create_task(b.issue(command(who, hall))) for _ in range(2)]
    await asyncio.sleep(0)  # queued, drainer created
    drainer = b._drainers[hall.code]
    if when == "during its batch":
        await asyncio.sleep(0)  # the drainer has begun its transaction
    drainer.cancel()
    for c in callers:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(c, 10)  # a guard: the bug this catches is a hang
    assert hall.code not in b._drainers and hall.code not in b._pending
    out = await b.issue(command(who, hall))
    assert out.number == "A001"  # the cancelled batch committed nothing


async def test_an_unknown_hall_fails_every_request_of_its_batch(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    cmd = IssueCommand(who, "nowhere", IssueRequest(service="enrol"))
    outs = await together(b, [cmd, cmd])
    assert all(isinstance(o, NotFound) and "nowhere" in o.message for o in outs)
    # Nothing is left behind for a hall code nobody has, once the batch task
    # has given up waiting for more.
    await b._drainers["nowhere"]
    assert "nowhere" not in b._pending and "nowhere" not in b._drainers


async def test_concurrent_http_issues_with_one_key_print_one_ticket(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    headers = {**hall.auth("kiosk"), "Idempotency-Key": "double-tap"}
    rs = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=headers
            )
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in rs) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in rs}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in rs) == 4


async def test_a_check_in_refused_after_marking_its_booking_leaves_it_booked(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit, clock: FixedClock
) -> None:
    """A check-in writes before its last checks (the booking is marked checked
    in, then the item is looked up): it runs in a savepoint, so its refusal in
    the middle of a batch takes the mark back and the others are issued."""
    tomorrow_9 = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    code = (await booked(client, hall, tomorrow_9, "payment"))["code"]
    # The item is withdrawn after the booking was made.
    r = await client.patch(
        f"/api/v1/halls/{hall.code}/services/payment",
        json={"enabled": False},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 200, r.text
    clock.set(tomorrow_9 + timedelta(minutes=5))
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    outs = await together(
        b,
        [
            command(who, hall),
            IssueCommand(who, hall.code, IssueRequest(appointment_code=code)),
            command(who, hall),
        ],
    )
    assert isinstance(outs[1], NotFound) and "payment" in outs[1].message
    assert [o.number for o in (outs[0], outs[2])] == ["A001", "A002"]
    r = await client.get(f"/api/v1/appointments/{code}")
    assert r.status_code == 200 and r.json()["state"] == "booked", r.text


async def test_callers_just_answered_join_one_batch_when_they_come_back(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    """After a batch of several, the batch task waits (within its window) for as
    many callers as it just answered, so busy kiosks coming back one after
    another share one transaction instead of starting one each."""
    b = IssueBatcher(ctx, max_batch=64, gather_seconds=30.0)  # ends on arrivals, not time
    who = await kiosk(ctx, hall)
    first = await together(b, [command(who, hall) for _ in range(4)])
    assert b.batches == 1 and all(isinstance(o, TicketOut) for o in first)
    again = []
    for _ in range(4):  # one at a time, each given the chance to start a batch
        again.append(asyncio.create_task(b.issue(command(who, hall))))
        await asyncio.sleep(0)
    outs = await asyncio.gather(*again)
    assert b.batches == 2
    assert [o.number for o in outs] == ["A005", "A006", "A007", "A008"]


async def test_a_request_alone_never_waits_for_company(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    b = IssueBatcher(ctx, max_batch=64, gather_seconds=30.0)
    who = await kiosk(ctx, hall)
    out = await b.issue(command(who, hall))
    assert out.number == "A001"
    # Its batch task is already gone: nothing holds the next request back.
    await asyncio.sleep(0)
    assert hall.code not in b._drainers
    nxt = await b.issue(command(who, hall))
    assert nxt.number == "A002" and b.batches == 2


async def test_the_queue_is_read_again_only_after_something_happened_in_the_hall(
    client: httpx.AsyncClient, ctx: AppContext, hall: HallKit
) -> None:
    """Each batch reads the open queue whole to estimate; while nothing but this
    process's issues happened since the last batch (the hall's event seq tells),
    the copy it kept is the queue. A call at a counter changes the queue, and the
    next batch must see it: the ticket called is no longer ahead of anyone."""
    b = issue_batcher(ctx)
    who = await kiosk(ctx, hall)
    await together(b, [command(who, hall) for _ in range(3)])
    reads = b.queue_reads
    nxt = await b.issue(command(who, hall))
    assert b.queue_reads == reads  # the copy, not a read
    assert nxt.ahead == 3
    r = await act(client, hall, 1, "call-next")
    assert r.status_code == 200 and r.json()["ticket"]["number"] == "A001", r.text
    after = await b.issue(command(who, hall))
    assert b.queue_reads == reads + 1  # the call moved the seq: read again
    assert after.ahead == 3  # A002, A003, A004 (A001 is at the counter)
    # The copy agrees with the database: a fresh read gives the same answer.
    b._queues.clear()
    check = await b.issue(command(who, hall))
    assert check.ahead == 4 and check.estimated_wait_minutes is not None


async def test_an_empty_idempotency_key_is_no_key(client: httpx.AsyncClient, hall: HallKit) -> None:
    """An empty header is treated as none: two such requests are two tickets (it
    was stored as the key "", so the second clashed with the first)."""
    headers = {**hall.auth("kiosk"), "Idempotency-Key": ""}
    rs = [
        await client.post(
            f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=headers
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in rs] == [201, 201], [r.text for r in rs]
    assert rs[0].json()["number"] != rs[1].json()["number"]
