"""Hall configuration, catalogue and counters; the hall-screen snapshot and queue view."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk_server.audit.service import record
from kiosk_server.auth.models import User
from kiosk_server.auth.principal import Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.states import TicketState
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kiosk_server.events.repository import current_seq
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.halls.refusals import people, refusal
from kiosk_server.halls.schemas import (
    CatalogDoc,
    CounterBrief,
    CounterIn,
    CounterPatch,
    DisplayCall,
    DisplayCounter,
    DisplayNotice,
    DisplaySnapshot,
    DisplayWaiting,
    HallCreate,
    HallOut,
    HallSettingsIn,
    PolicyIn,
    QueueItem,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)
from kiosk_server.tickets import repository as tickets_repo
from kiosk_server.tickets.queue import load_queue
from kiosk_server.tickets.service import minutes


def hall_out(ctx: AppContext, hall: Hall) -> HallOut:
    cfg = HallConfig.of(hall)
    local = cfg.local(ctx.clock.now())
    return HallOut(
        code=hall.code,
        name=hall.name,
        kind=hall.kind,
        timezone=hall.timezone,
        opening_hours=hall.opening_hours or {},
        hotline=hall.hotline,
        elderly_age=hall.elderly_age,
        peak_start=hall.peak_start,
        peak_end=hall.peak_end,
        policy=PolicyIn(**(hall.policy or {})),
        notice=hall.notice,
        has_kiosk=hall.has_kiosk,
        official_calendar=cfg.hours.official_calendar,
        day_kind=cfg.hours.day_kind(local.date()).value,
        open_now=cfg.hours.is_open(local),
        opens_at=cfg.hours.next_opening(local),
        local_time=local,
    )


def service_out(s: Service, waiting: int = 0) -> ServiceOut:
    return ServiceOut(
        code=s.code,
        name_zh=s.name_zh,
        name_en=s.name_en,
        prefix=s.prefix,
        instant=s.instant,
        target_minutes=s.target_minutes,
        handling=s.handling,
        materials=[str(m) for m in s.materials or []],
        guide=s.guide,
        enabled=s.enabled,
        sort_order=s.sort_order,
        waiting=waiting,
    )


def call_text(number: str, counter: int | None) -> str:
    return f"请 {number} 号 到 {counter} 号窗口 办理" if counter is not None else f"请 {number} 号"


async def services_public(ctx: AppContext, uow: UnitOfWork, code: str) -> list[ServiceOut]:
    hall = await repo.get_hall(uow.session, code)
    queue = await load_queue(ctx, uow.session, hall, ctx.clock.now())
    counts = queue.waiting_by_service()
    return [
        service_out(s, counts.get(s.id, (0, 0))[0])
        for s in await repo.list_services(uow.session, hall.id)
    ]


async def display(ctx: AppContext, uow: UnitOfWork, code: str) -> DisplaySnapshot:
    s = uow.session
    hall = await repo.get_hall(s, code)
    seq = await current_seq(s, hall.id)
    now = ctx.clock.now()
    queue = await load_queue(ctx, s, hall, now)
    cfg = queue.config
    counters: list[DisplayCounter] = []
    for c in queue.counters:
        t = queue.at_counter.get(c.id)
        current: dict[str, object] | None = None
        if t is not None:
            svc = queue.services[t.service_id]
            current = {
                "number": t.number,
                "state": t.state,
                "service": svc.code,
                "service_name": svc.name_zh,
                "channel": t.channel,
            }
        counters.append(
            DisplayCounter(number=c.number, name=c.name, state=c.state, current=current)
        )
    numbers = {c.id: c.number for c in queue.counters}
    calls = []
    for called in await tickets_repo.recent_calls(s, hall.id, cfg.service_day(now), 8):
        if called.called_at is None:
            continue
        num = numbers.get(called.counter_id) if called.counter_id else None
        calls.append(
            DisplayCall(
                number=called.number,
                counter=num,
                service_name=queue.services[called.service_id].name_zh,
                channel=called.channel,
                at=called.called_at,
                text=call_text(called.number, num),
            )
        )
    notice: str | None = hall.notice
    notices: list[DisplayNotice] = []
    provider = ctx.extras.get("display_notices")
    if provider is not None:  # the notices plugin: dated scrolling and policy notices
        notice, notices = await provider(ctx, uow, hall, cfg.service_day(now))
    counts = queue.waiting_by_service()
    waiting = [
        DisplayWaiting(
            service=svc.code,
            name=svc.name_zh,
            name_en=svc.name_en,
            prefix=svc.prefix,
            waiting=counts.get(svc.id, (0, 0))[0],
            green=counts.get(svc.id, (0, 0))[1],
        )
        for svc in queue.services.values()
        if svc.enabled
    ]
    return DisplaySnapshot(
        seq=seq,
        hall=hall.code,
        hall_name=hall.name,
        hotline=hall.hotline,
        notice=notice,
        notices=notices,
        local_time=cfg.local(now),
        open_now=cfg.hours.is_open(cfg.local(now)),
        opens_at=cfg.hours.next_opening(cfg.local(now)),
        day_kind=cfg.hours.day_kind(cfg.service_day(now)).value,
        counters=counters,
        calls=calls,
        waiting=waiting,
        waiting_total=len(queue.ordered),
    )


async def queue_list(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str
) -> list[QueueItem]:
    hall = await repo.get_hall(uow.session, code)
    who.require_role(Role.STAFF, hall.id)
    now = ctx.clock.now()
    q = await load_queue(ctx, uow.session, hall, now)
    out = []
    for i, e in enumerate(q.ordered):
        t = q.tickets[e.ticket_id]
        svc = q.services[t.service_id]
        out.append(
            QueueItem(
                position=i + 1,
                ticket_id=t.id,
                number=t.number,
                service=svc.code,
                service_name=svc.name_zh,
                channel=t.channel,
                issued_at=t.issued_at,
                waited_minutes=int((now - t.order_at).total_seconds() // 60),
                ahead=q.ahead_of(i),
                estimated_wait_minutes=minutes(q.estimates[i]),
                counter=e.counter,
            )
        )
    return out


async def counters_list(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str
) -> list[CounterBrief]:
    s = uow.session
    hall = await repo.get_hall(s, code)
    who.require_role(Role.STAFF, hall.id)
    out = []
    for c in await repo.list_counters(s, hall.id):
        t = await tickets_repo.at_counter(s, c.id)
        staff = None
        if c.staff_user_id is not None:
            u = await s.get(User, c.staff_user_id)
            staff = (u.display_name or u.username) if u else None
        out.append(
            CounterBrief(
                id=c.id,
                number=c.number,
                name=c.name,
                state=c.state,
                services=list(c.services) if c.services is not None else None,
                current=t.number if t else None,
                staff=staff,
            )
        )
    return out


# ---- administration -------------------------------------------------------


def county_only(english: str, chinese: str) -> Forbidden:
    # A permission, not a clash with the data: 403, like every other role check.
    return refusal(
        Forbidden,
        "county_only",
        f"only a county-level admin (all halls) can {english}",
        f"只有县级管理员（全部大厅）才能{chinese}",
    )


def hall_exists(code: str) -> Conflict:
    return refusal(
        Conflict,
        "hall_exists",
        f"a hall with code {code!r} exists",
        f"编码为 {code} 的大厅已存在",
        field="code",
        hall=code,
    )


def _apply_settings(hall: Hall, body: HallSettingsIn) -> list[str]:
    changed = []
    data = body.model_dump(exclude_unset=True)
    if "timezone" in data and data["timezone"] is not None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise refusal(
                ValidationFailed,
                "timezone",
                f"unknown time zone {data['timezone']!r} (e.g. Asia/Shanghai)",
                f"未知的时区 {data['timezone']}（例如 Asia/Shanghai）",
                field="timezone",
                timezone=data["timezone"],
            ) from None
    for key, value in data.items():
        if key == "policy" and value is not None:
            value = PolicyIn(**value).model_dump()
        if (
            key
            in (
                "name",
                "kind",
                "timezone",
                "elderly_age",
                "policy",
                "opening_hours",
                "has_kiosk",
                "official_calendar",
            )
            and value is None
        ):
            continue
        setattr(hall, key, value)
        changed.append(key)
    peak = (hall.peak_start, hall.peak_end)
    if (peak[0] is None) != (peak[1] is None) or (peak[0] and peak[1] and peak[0] >= peak[1]):
        raise refusal(
            ValidationFailed,
            "peak",
            "the elderly-peak window needs both a start and a later end (e.g. 08:30-10:30)",
            "老年人高峰时段须同时填写开始和更晚的结束时间（如 08:30-10:30）",
            field="peak_start",
        )
    return changed


async def create_hall(
    ctx: AppContext, uow: UnitOfWork, who: Principal, body: HallCreate
) -> HallOut:
    who.require_role(Role.ADMIN)
    if who.hall_ids is not None:
        raise county_only("create halls", "新建大厅")
    s = uow.session
    try:
        await repo.get_hall(s, body.code)
    except NotFound:
        pass
    else:
        raise hall_exists(body.code)
    hall = Hall(code=body.code, name=body.name, policy=PolicyIn().model_dump(), opening_hours={})
    _apply_settings(hall, body)
    s.add(hall)
    await s.flush()
    record(ctx, uow, who, "hall.create", hall_id=hall.id, target=hall.code)
    return hall_out(ctx, hall)


async def update_hall(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str, body: HallSettingsIn
) -> HallOut:
    hall = await repo.get_hall(uow.session, code)
    who.require_role(Role.ADMIN, hall.id)
    changed = _apply_settings(hall, body)
    await uow.session.flush()
    record(
        ctx,
        uow,
        who,
        "hall.update",
        hall_id=hall.id,
        target=hall.code,
        detail={"changed": changed, "values": body.model_dump(exclude_unset=True, mode="json")},
    )
    notice = hall.notice
    provider = ctx.extras.get("display_notices")
    if provider is not None:  # screens show the standing notice joined with dated ones
        notice, _ = await provider(ctx, uow, hall, HallConfig.of(hall).service_day(ctx.clock.now()))
    await emit(
        ctx,
        uow,
        hall.id,
        hall.code,
        "hall.updated",
        {"changed": changed, "notice": notice, "name": hall.name},
    )
    return hall_out(ctx, hall)


async def _prefix_free(
    uow: UnitOfWork, hall_id: int, prefix: str, except_code: str | None = None
) -> None:
    other = await repo.service_with_prefix(uow.session, hall_id, prefix)
    if other is not None and other.code != except_code:
        raise refusal(
            Conflict,
            "prefix_taken",
            f"prefix {prefix} is already used by {other.name_zh} ({other.code}); "
            "each item needs its own letter so numbers stay unique",
            f"字母 {prefix} 已被 {other.name_zh}（{other.code}）使用；"
            "每个事项须有自己的字母，号码才不会重复",
            field="prefix",
            prefix=prefix,
            service=other.code,
            service_name=other.name_zh,
        )


async def _waiting_for(uow: UnitOfWork, ctx: AppContext, hall: Hall, service: Service) -> int:
    day = HallConfig.of(hall).service_day(ctx.clock.now())
    open_rows = await tickets_repo.open_tickets(uow.session, hall.id, day)
    return sum(1 for t in open_rows if t.service_id == service.id)


async def _refuse_while_held(
    uow: UnitOfWork,
    ctx: AppContext,
    hall: Hall,
    svc: Service,
    reason: str,
    field: str,
    what_en: str,
    what_zh: str,
) -> None:
    """A change that would break today's tickets for ``svc`` is refused while
    anyone holds one (waiting or at a counter)."""
    n = await _waiting_for(uow, ctx, hall, svc)
    if n:
        raise refusal(
            Conflict,
            reason,
            f"{people(n, 'holds a ticket', 'hold tickets')} for {svc.name_zh} today "
            f"(waiting or at a counter); {what_en}",
            f"今天还有 {n} 人取了“{svc.name_zh}”的号尚未办结，{what_zh}",
            field=field,
            service=svc.code,
            service_name=svc.name_zh,
            waiting=n,
        )


async def create_service(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str, body: ServiceIn
) -> ServiceOut:
    s = uow.session
    hall = await repo.get_hall(s, code)
    who.require_role(Role.ADMIN, hall.id)
    if await repo.get_service(s, hall.id, body.code) is not None:
        raise refusal(
            Conflict,
            "code_taken",
            f"an item with code {body.code!r} exists",
            f"编码 {body.code} 已被另一个事项使用",
            field="code",
            service=body.code,
        )
    await _prefix_free(uow, hall.id, body.prefix)
    svc = Service(
        hall_id=hall.id, sort_order=await repo.max_sort_order(s, hall.id) + 1, **body.model_dump()
    )
    s.add(svc)
    await s.flush()
    record(
        ctx, uow, who, "service.create", hall_id=hall.id, target=body.code, detail=body.model_dump()
    )
    await emit(
        ctx, uow, hall.id, hall.code, "catalog.updated", {"service": body.code, "change": "created"}
    )
    return service_out(svc)


async def patch_service(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    code: str,
    service_code: str,
    body: ServicePatch,
) -> ServiceOut:
    s = uow.session
    hall = await repo.get_hall(s, code)
    who.require_role(Role.ADMIN, hall.id)
    svc = await repo.get_service(s, hall.id, service_code)
    if svc is None:
        raise NotFound(f"this hall has no service item {service_code!r}")
    data = body.model_dump(exclude_unset=True)
    if "prefix" in data and data["prefix"] != svc.prefix:
        await _prefix_free(uow, hall.id, data["prefix"], except_code=svc.code)
        await _refuse_while_held(
            uow, ctx, hall, svc, "waiting_prefix", "prefix",
            "change its prefix after the hall closes", "请在闭厅后再更改号码字母",
        )  # fmt: skip
    if data.get("enabled") is False and svc.enabled:
        await _refuse_while_held(
            uow, ctx, hall, svc, "waiting_disable", "enabled",
            "serve or transfer them before disabling it", "请先办理完或转移后再停用",
        )  # fmt: skip
    for key, value in data.items():
        if value is None and key not in ("guide",):
            continue
        setattr(svc, key, value)
    await s.flush()
    record(
        ctx,
        uow,
        who,
        "service.update",
        hall_id=hall.id,
        target=svc.code,
        detail=body.model_dump(exclude_unset=True),
    )
    await emit(
        ctx, uow, hall.id, hall.code, "catalog.updated", {"service": svc.code, "change": "updated"}
    )
    return service_out(svc)


async def export_catalog(uow: UnitOfWork, who: Principal, code: str) -> CatalogDoc:
    hall = await repo.get_hall(uow.session, code)
    who.require_role(Role.SUPERVISOR, hall.id)
    return CatalogDoc(
        services=[
            ServiceIn(**service_out(sv).model_dump(exclude={"waiting", "sort_order"}))
            for sv in await repo.list_services(uow.session, hall.id, enabled_only=False)
        ]
    )


async def import_catalog(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str, doc: CatalogDoc
) -> list[ServiceOut]:
    """Create or update every item of ``doc`` (items not in it are left as they are)."""
    s = uow.session
    hall = await repo.get_hall(s, code)
    who.require_role(Role.ADMIN, hall.id)
    seen_codes: set[str] = set()
    seen_prefix: dict[str, str] = {}
    for item in doc.services:
        if item.code in seen_codes:
            raise refusal(
                ValidationFailed,
                "import_code_twice",
                f"item {item.code!r} appears twice in the catalogue",
                f"事项 {item.code} 在目录文件中出现了两次",
                field="services",
                service=item.code,
            )
        if item.prefix in seen_prefix:
            raise refusal(
                ValidationFailed,
                "import_prefix_twice",
                f"items {seen_prefix[item.prefix]!r} and {item.code!r} share prefix {item.prefix}",
                f"事项 {seen_prefix[item.prefix]} 和 {item.code} 使用了同一个字母 {item.prefix}",
                field="services",
                prefix=item.prefix,
                service=item.code,
                other=seen_prefix[item.prefix],
            )
        seen_codes.add(item.code)
        seen_prefix[item.prefix] = item.code
    existing = {sv.code: sv for sv in await repo.list_services(s, hall.id, enabled_only=False)}
    for sv in existing.values():
        if sv.code not in seen_codes and sv.prefix in seen_prefix:
            raise refusal(
                Conflict,
                "import_prefix_kept",
                f"prefix {sv.prefix} is used by {sv.code!r}, which the file does not change",
                f"字母 {sv.prefix} 已被文件未列出的事项 {sv.name_zh}（{sv.code}）使用",
                field="services",
                prefix=sv.prefix,
                service=sv.code,
                service_name=sv.name_zh,
            )
    # The running day: an item people hold tickets for keeps its letter and stays
    # enabled. Checked for every item before anything changes (all or nothing).
    for item in doc.services:
        cur = existing.get(item.code)
        if cur is None or (cur.prefix == item.prefix and (item.enabled or not cur.enabled)):
            continue
        n = await _waiting_for(uow, ctx, hall, cur)
        if n:
            reletter = cur.prefix != item.prefix
            what = "change its prefix" if reletter else "disable it"
            raise refusal(
                Conflict,
                "import_waiting_prefix" if reletter else "import_waiting_disable",
                f"{people(n, 'holds a ticket', 'hold tickets')} for {cur.name_zh} ({cur.code}) "
                f"today; the file would {what}, so nothing was imported",
                f"今天还有 {n} 人取了“{cur.name_zh}”（{cur.code}）的号尚未办结，"
                f"文件会{'更改它的字母' if reletter else '停用它'}，因此没有导入任何内容",
                field="services",
                service=cur.code,
                service_name=cur.name_zh,
                waiting=n,
            )
    order = await repo.max_sort_order(s, hall.id)
    # Free the prefixes first so that swapping two letters does not trip the unique index.
    for item in doc.services:
        if item.code in existing and existing[item.code].prefix != item.prefix:
            existing[item.code].prefix = item.prefix.lower()
    await s.flush()
    out = []
    for item in doc.services:
        svc = existing.get(item.code)
        if svc is None:
            order += 1
            svc = Service(hall_id=hall.id, sort_order=order, **item.model_dump())
            s.add(svc)
        else:
            for k, v in item.model_dump().items():
                setattr(svc, k, v)
        out.append(svc)
    await s.flush()
    record(ctx, uow, who, "catalog.import", hall_id=hall.id, detail={"items": sorted(seen_codes)})
    await emit(ctx, uow, hall.id, hall.code, "catalog.updated", {"change": "imported"})
    return [service_out(x) for x in out]


async def _check_services(uow: UnitOfWork, hall_id: int, codes: list[str] | None) -> None:
    if codes is None:
        return
    known = {sv.code for sv in await repo.list_services(uow.session, hall_id, enabled_only=False)}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise refusal(
            ValidationFailed,
            "unknown_services",
            f"unknown service items: {', '.join(unknown)}",
            f"没有这些事项：{'、'.join(unknown)}",
            field="services",
            services="、".join(unknown),
        )
    if not codes:
        raise refusal(
            ValidationFailed,
            "counter_services",
            "a counter must take at least one item",
            "窗口至少要受理一个事项",
            field="services",
        )


async def create_counter(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str, body: CounterIn
) -> CounterBrief:
    s = uow.session
    hall = await repo.get_hall(s, code)
    who.require_role(Role.ADMIN, hall.id)
    if await repo.counter_by_number(s, hall.id, body.number) is not None:
        raise refusal(
            Conflict,
            "counter_exists",
            f"counter {body.number} exists",
            f"{body.number} 号窗口已存在",
            field="number",
            number=body.number,
        )
    await _check_services(uow, hall.id, body.services)
    c = Counter(
        hall_id=hall.id, number=body.number, name=body.name, services=body.services, state="open"
    )
    s.add(c)
    await s.flush()
    record(ctx, uow, who, "counter.create", hall_id=hall.id, target=f"counter {c.number}")
    await emit(
        ctx, uow, hall.id, hall.code, "counter.updated", {"counter": c.number, "state": c.state}
    )
    return CounterBrief(
        id=c.id, number=c.number, name=c.name, state=c.state, services=c.services, current=None
    )


async def patch_counter(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int, body: CounterPatch
) -> CounterBrief:
    s = uow.session
    c = await repo.get_counter(s, counter_id)
    who.require_role(Role.ADMIN, c.hall_id)
    hall = await repo.get_hall_by_id(s, c.hall_id)
    current = await tickets_repo.at_counter(s, c.id)
    if body.name is not None:
        c.name = body.name
    if body.all_services:
        c.services = None
    elif body.services is not None:
        await _check_services(uow, hall.id, body.services)
        c.services = body.services
    if body.state is not None and body.state != c.state:
        if body.state == "closed" and current is not None:
            raise refusal(
                Conflict,
                "counter_busy",
                f"counter {c.number} is serving {current.number}; finish it before closing",
                f"{c.number} 号窗口正在办理 {current.number}，请办结后再关闭",
                field="state",
                number=c.number,
                ticket=current.number,
            )
        c.state = body.state
        if body.state == "closed":
            c.staff_user_id = None
    await s.flush()
    record(
        ctx,
        uow,
        who,
        "counter.update",
        hall_id=hall.id,
        target=f"counter {c.number}",
        detail=body.model_dump(exclude_unset=True),
    )
    await emit(
        ctx, uow, hall.id, hall.code, "counter.updated", {"counter": c.number, "state": c.state}
    )
    return CounterBrief(
        id=c.id,
        number=c.number,
        name=c.name,
        state=c.state,
        services=list(c.services) if c.services is not None else None,
        current=current.number if current else None,
    )


def open_states() -> list[str]:
    return [
        s.value
        for s in (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING, TicketState.HELD)
    ]
