from __future__ import annotations

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
from kiosk_server.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.models import Hall

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
        raise Forbidden("devices have no password")
    async with unit_of_work(ctx.db) as uow:
        user = await uow.session.get(User, who.id)
        assert user is not None
        if not verify_password(user.password_hash, body.old_password):
            raise Unauthorized("the current password is wrong")
        if body.old_password == body.new_password:
            raise ValidationFailed(
                "the new password must differ from the old one", details={"field": "new_password"}
            )
        user.password_hash = hash_password(body.new_password)
        user.must_change_password = False
        record(ctx, uow, who, "user.password_change", target=user.username)


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
        raise Forbidden("only a county-level admin can create accounts for every hall")


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
            raise ValidationFailed(
                "give the halls this account works in", details={"field": "halls"}
            )
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
        record(
            ctx,
            uow,
            who,
            "user.create",
            target=user.username,
            detail={"role": body.role.value, "halls": body.halls},
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
            raise NotFound(f"there is no user with id {user_id}")
        current = await _user_out(uow, user)
        await _hall_ids(uow, who, current.halls)  # an admin manages only accounts of their halls
        if user.all_halls and who.hall_ids is not None:
            raise Forbidden("a county-level account can only be changed by a county-level admin")
        if user.id == who.id and (
            body.active is False or (body.role and body.role is not Role.ADMIN)
        ):
            raise Conflict("you cannot deactivate or demote your own account")
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
        record(ctx, uow, who, "user.update", target=user.username, detail=detail)
        return await _user_out(uow, user)


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
    summary="Devices and their status (supervisor)",
)
async def list_devices(ctx: Ctx, who: Who, hall: str) -> list[DeviceOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        if who.kind == "device":
            who.require_hall(h.id)  # a kiosk reads its hall's printer status
        else:
            who.require_role(Role.SUPERVISOR, h.id)
        counters = {c.id: c.number for c in await halls_repo.list_counters(uow.session, h.id)}
        rows = (
            await uow.session.execute(
                select(Device).where(Device.hall_id == h.id).order_by(Device.id)
            )
        ).scalars()
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
                raise NotFound(
                    f"there is no counter {body.counter} in this hall", details={"field": "counter"}
                )
            counter_id = c.id
        elif body.kind in (DeviceKind.RATING_PAD, DeviceKind.KEYPAD):
            raise ValidationFailed(
                "a rating pad or keypad sits at a counter: give its number",
                details={"field": "counter"},
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
            raise NotFound(f"there is no device with id {device_id}")
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
        raise Forbidden("only a device reports device status")
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
