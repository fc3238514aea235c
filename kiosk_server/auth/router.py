from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import delete, select

from kiosk_server.audit.service import record
from kiosk_server.auth import service
from kiosk_server.auth.models import Device, User, UserHall
from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.auth.schemas import (
    DeviceCreated,
    DeviceIn,
    DeviceOut,
    DeviceStatusIn,
    LoginIn,
    MeOut,
    PasswordChange,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from kiosk_server.auth.security import hash_password, verify_password
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.deps import Ctx, DbId, Who
from kiosk_server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.models import Hall
from kiosk_server.halls.refusals import refusal
from kiosk_server.halls.service import county_only

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenOut, summary="Log in with username and password")
async def login(ctx: Ctx, body: LoginIn, request: Request) -> TokenOut:
    client = request.client.host if request.client else "?"
    async with unit_of_work(ctx.db, write=False) as uow:
        token, user = await service.login(ctx, uow, body.username, body.password, client)
    return TokenOut(
        access_token=token,
        role=Role(user.role),
        expires_in=ctx.settings.token_minutes * 60,
        must_change_password=user.must_change_password,
        display_name=user.display_name or user.username,
    )


async def _hall_codes(uow: UnitOfWork, ids: frozenset[int] | None) -> list[str] | None:
    if ids is None:
        return None
    halls = await halls_repo.list_halls(uow.session)
    return [h.code for h in halls if h.id in ids]


@router.get("/auth/me", response_model=MeOut, summary="Who this token belongs to")
async def me(ctx: Ctx, who: Who) -> MeOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        display = None
        must = False
        if who.kind == "user":
            user = await uow.session.get(User, who.id)
            assert user is not None
            display, must = user.display_name or user.username, user.must_change_password
        counter_number = None
        if who.device_counter_id is not None:
            counter_number = (
                await halls_repo.get_counter(uow.session, who.device_counter_id)
            ).number
        return MeOut(
            kind=who.kind,
            id=who.id,
            name=who.name,
            display_name=display,
            role=who.role,
            halls=await _hall_codes(uow, who.hall_ids),
            device_kind=who.device_kind,
            counter_id=who.device_counter_id,
            counter_number=counter_number,
            must_change_password=must,
        )


@router.post("/auth/password", status_code=204, summary="Change one's own password")
async def change_password(ctx: Ctx, who: Who, body: PasswordChange) -> None:
    if who.kind != "user":
        raise refusal(Forbidden, "device_no_password", "devices have no password", "设备没有密码")
    async with unit_of_work(ctx.db) as uow:
        user = await uow.session.get(User, who.id)
        assert user is not None
        if not verify_password(user.password_hash, body.old_password):
            # 403, not 401: the token is fine, and a console treats 401 as "log in again".
            raise refusal(
                Forbidden,
                "password_wrong",
                "the current password is wrong",
                "当前密码不正确",
                field="old_password",
            )
        service.check_password(body.new_password, "new_password")
        if body.old_password == body.new_password:
            raise refusal(
                ValidationFailed,
                "password_same",
                "the new password must differ from the old one",
                "新密码不能与旧密码相同",
                field="new_password",
            )
        user.password_hash = hash_password(body.new_password)
        user.must_change_password = False
        halls = await _account_hall_ids(uow, user)
        _record_per_hall(ctx, uow, who, "user.password_change", halls, user.username, {})


async def _user_out(uow: UnitOfWork, user: User) -> UserOut:
    rows = await uow.session.execute(
        select(Hall.code)
        .join(UserHall, UserHall.hall_id == Hall.id)
        .where(UserHall.user_id == user.id)
    )
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        active=user.active,
        must_change_password=user.must_change_password,
        all_halls=user.all_halls,
        halls=sorted(r[0] for r in rows),
    )


async def _account_hall_ids(uow: UnitOfWork, user: User) -> set[int]:
    """The halls whose log an account change belongs in: those it works in."""
    if user.all_halls:
        return {h.id for h in await halls_repo.list_halls(uow.session)}
    rows = await uow.session.execute(select(UserHall.hall_id).where(UserHall.user_id == user.id))
    return {int(r[0]) for r in rows}


def _record_per_hall(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    action: str,
    hall_ids: set[int],
    target: str,
    detail: dict[str, Any],
) -> None:
    # An audit row belongs to one hall, and each hall's supervisor reads only
    # their hall's log: one row per hall concerned. No hall: one county row.
    rows: list[int | None] = [*sorted(hall_ids)] or [None]
    for hall_id in rows:
        record(ctx, uow, who, action, hall_id=hall_id, target=target, detail=detail)


async def _hall_ids(uow: UnitOfWork, who: Principal, codes: list[str]) -> list[int]:
    ids = []
    for code in codes:
        hall = await halls_repo.get_hall(uow.session, code)
        who.require_hall(hall.id)
        ids.append(hall.id)
    return ids


def _admin_may_manage(who: Principal, target_role: Role, all_halls: bool) -> None:
    who.require_role(Role.ADMIN)
    if all_halls and who.hall_ids is not None:
        raise county_only("give an account every hall", "设置适用于全部大厅的账号")


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="Staff accounts of the halls one administers (admin)",
)
async def list_users(ctx: Ctx, who: Who) -> list[UserOut]:
    who.require_role(Role.ADMIN)
    async with unit_of_work(ctx.db, write=False) as uow:
        users = (await uow.session.execute(select(User).order_by(User.id))).scalars().all()
        out = []
        for u in users:
            uo = await _user_out(uow, u)
            if who.hall_ids is None or (
                not u.all_halls
                and uo.halls
                and all(
                    h.id in who.hall_ids
                    for h in await halls_repo.list_halls(uow.session)
                    if h.code in uo.halls
                )
            ):
                out.append(uo)
        return out


@router.post(
    "/users", response_model=UserOut, status_code=201, summary="Create a staff account (admin)"
)
async def create_user(ctx: Ctx, who: Who, body: UserIn) -> UserOut:
    _admin_may_manage(who, body.role, body.all_halls)
    async with unit_of_work(ctx.db) as uow:
        if not body.halls and not body.all_halls:
            raise _halls_required()
        ids = await _hall_ids(uow, who, body.halls)
        user = await service.create_user(
            uow.session,
            body.username,
            body.password,
            body.role,
            display_name=body.display_name,
            hall_ids=ids,
            all_halls=body.all_halls,
            must_change_password=True,
        )
        _record_per_hall(
            ctx,
            uow,
            who,
            "user.create",
            await _account_hall_ids(uow, user),
            user.username,
            {"role": body.role.value, "halls": body.halls},
        )
        return await _user_out(uow, user)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Change role, halls, deactivate, reset password (admin)",
)
async def patch_user(ctx: Ctx, who: Who, user_id: DbId, body: UserPatch) -> UserOut:
    who.require_role(Role.ADMIN)
    async with unit_of_work(ctx.db) as uow:
        user = await uow.session.get(User, user_id)
        if user is None:
            raise refusal(
                NotFound,
                "no_user",
                f"there is no user with id {user_id}",
                f"没有编号为 {user_id} 的账号",
                user_id=user_id,
            )
        current = await _user_out(uow, user)
        await _hall_ids(uow, who, current.halls)  # an admin manages only accounts of their halls
        if user.all_halls and who.hall_ids is not None:
            raise county_only("change a county-level account", "更改县级账号")
        if user.id == who.id and body.active is False:
            raise refusal(
                Conflict,
                "own_deactivate",
                "you cannot deactivate your own account; ask another admin",
                "不能停用自己的账号，请由另一位管理员操作",
                field="active",
            )
        if user.id == who.id and body.role and body.role is not Role.ADMIN:
            raise refusal(
                Conflict,
                "own_demote",
                "you cannot demote your own account; ask another admin",
                "不能降低自己账号的角色，请由另一位管理员操作",
                field="role",
                role=body.role.value,
            )
        if body.halls is not None or body.all_halls is not None:
            all_after = user.all_halls if body.all_halls is None else body.all_halls
            if not all_after and not (current.halls if body.halls is None else body.halls):
                raise _halls_required()
        if body.reset_password is not None:
            service.check_password(body.reset_password, "reset_password")
        halls_before = await _account_hall_ids(uow, user)
        if body.display_name is not None:
            user.display_name = body.display_name
        if body.role is not None:
            user.role = body.role.value
        if body.all_halls is not None:
            _admin_may_manage(who, Role(user.role), body.all_halls)
            user.all_halls = body.all_halls
        if body.halls is not None:
            ids = await _hall_ids(uow, who, body.halls)
            await uow.session.execute(delete(UserHall).where(UserHall.user_id == user.id))
            for hid in ids:
                uow.session.add(UserHall(user_id=user.id, hall_id=hid))
        if body.active is not None:
            user.active = body.active
        if body.reset_password is not None:
            user.password_hash = hash_password(body.reset_password)
            user.must_change_password = True
        await uow.session.flush()
        detail = body.model_dump(exclude_unset=True, exclude={"reset_password"})
        if body.reset_password is not None:
            detail["password_reset"] = True
        # The halls it left see it leave, the halls it joined see it arrive.
        halls = halls_before | await _account_hall_ids(uow, user)
        _record_per_hall(ctx, uow, who, "user.update", halls, user.username, detail)
        return await _user_out(uow, user)


def _halls_required() -> ValidationFailed:
    return refusal(
        ValidationFailed,
        "halls_required",
        "give the halls this account works in",
        "请选择此账号所属的大厅",
        field="halls",
    )


def _device_out(
    ctx: AppContext, d: Device, hall_code: str, counter_number: int | None
) -> DeviceOut:
    seen = ctx.extras.get("device_seen", {}).get(d.id) or d.last_seen_at
    return DeviceOut(
        id=d.id,
        hall=hall_code,
        kind=DeviceKind(d.kind),
        name=d.name,
        counter=counter_number,
        created_at=d.created_at,
        last_seen_at=seen,
        revoked=d.revoked_at is not None,
        status=d.status or {},
    )


@router.get(
    "/halls/{hall}/devices",
    response_model=list[DeviceOut],
    summary="Devices and their status (supervisor; a kiosk sees its hall's printers)",
)
async def list_devices(ctx: Ctx, who: Who, hall: str) -> list[DeviceOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        stmt = select(Device).where(Device.hall_id == h.id).order_by(Device.id)
        if who.kind == "device":
            # A kiosk reads its hall's printer status, and learns no other device's name.
            who.require_device(DeviceKind.KIOSK, hall_id=h.id)
            stmt = stmt.where(Device.kind == DeviceKind.PRINTER.value)
        else:
            who.require_role(Role.SUPERVISOR, h.id)
        counters = {c.id: c.number for c in await halls_repo.list_counters(uow.session, h.id)}
        rows = (await uow.session.execute(stmt)).scalars()
        return [
            _device_out(ctx, d, h.code, counters.get(d.counter_id) if d.counter_id else None)
            for d in rows
        ]


@router.post(
    "/halls/{hall}/devices",
    response_model=DeviceCreated,
    status_code=201,
    summary="Create a device token (admin); the token is shown once",
)
async def create_device(ctx: Ctx, who: Who, hall: str, body: DeviceIn) -> DeviceCreated:
    async with unit_of_work(ctx.db) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        who.require_role(Role.ADMIN, h.id)
        counter_id = None
        if body.counter is not None:
            c = await halls_repo.counter_by_number(uow.session, h.id, body.counter)
            if c is None:
                raise refusal(
                    NotFound,
                    "no_counter",
                    f"there is no counter {body.counter} in this hall",
                    f"本大厅没有 {body.counter} 号窗口",
                    field="counter",
                    number=body.counter,
                )
            counter_id = c.id
        elif body.kind in (DeviceKind.RATING_PAD, DeviceKind.KEYPAD):
            raise refusal(
                ValidationFailed,
                "device_counter",
                "a rating pad or keypad sits at a counter: give its number",
                "评价器或呼叫器位于窗口：请选择窗口号",
                field="counter",
                device_kind=body.kind.value,
            )
        token, dev = await service.create_device(
            uow.session, h.id, body.kind, body.name, counter_id
        )
        record(
            ctx, uow, who, "device.create", hall_id=h.id, target=f"{body.kind.value}:{body.name}"
        )
        base = ctx.settings.public_base_url.rstrip("/")
        page = {
            DeviceKind.KIOSK: f"/kiosk/{h.code}",
            DeviceKind.DISPLAY: f"/display/{h.code}",
            DeviceKind.RATING_PAD: f"/rate/{body.counter}?hall={h.code}",
        }.get(body.kind, f"/pair/{h.code}")
        sep = "&" if "?" in page else "?"
        out = _device_out(ctx, dev, h.code, body.counter)
        return DeviceCreated(
            **out.model_dump(), token=token, pair_url=f"{base}{page}{sep}device_token={token}"
        )


@router.delete("/devices/{device_id}", status_code=204, summary="Revoke a device token (admin)")
async def revoke_device(ctx: Ctx, who: Who, device_id: DbId) -> None:
    async with unit_of_work(ctx.db) as uow:
        dev = await uow.session.get(Device, device_id)
        if dev is None:
            raise refusal(
                NotFound,
                "no_device",
                f"there is no device with id {device_id}",
                f"没有编号为 {device_id} 的设备",
                device_id=device_id,
            )
        who.require_role(Role.ADMIN, dev.hall_id)
        if dev.revoked_at is None:
            dev.revoked_at = ctx.clock.now()
        record(ctx, uow, who, "device.revoke", hall_id=dev.hall_id, target=f"{dev.kind}:{dev.name}")


@router.post(
    "/devices/me/status",
    response_model=DeviceOut,
    summary="A device reports its status (device token)",
)
async def report_status(ctx: Ctx, who: Who, body: DeviceStatusIn) -> DeviceOut:
    if who.kind != "device":
        raise refusal(
            Forbidden,
            "device_only",
            "only a device reports device status",
            "只有设备才能上报设备状态",
        )
    async with unit_of_work(ctx.db) as uow:
        dev = await uow.session.get(Device, who.id)
        assert dev is not None
        hall = await halls_repo.get_hall_by_id(uow.session, dev.hall_id)
        now = ctx.clock.now()
        changed = (dev.status or {}).get("state") != body.state
        dev.status = {"state": body.state, "detail": body.detail, "at": now.isoformat()}
        dev.last_seen_at = now
        if changed:
            await emit(
                ctx,
                uow,
                hall.id,
                hall.code,
                "device.status",
                {
                    "device_id": dev.id,
                    "kind": dev.kind,
                    "name": dev.name,
                    "state": body.state,
                    "detail": body.detail,
                },
            )
        return _device_out(ctx, dev, hall.code, None)
