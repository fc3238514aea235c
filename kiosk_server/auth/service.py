"""Logging in, resolving tokens to principals, managing accounts and devices."""

from __future__ import annotations

import time
from collections import deque

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.models import Device, User, UserHall
from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.auth.security import (
    DEVICE_TOKEN_PREFIX,
    DUMMY_HASH,
    hash_password,
    make_access_token,
    new_device_token,
    read_access_token,
    token_digest,
    verify_password,
)
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed

MIN_PASSWORD = 8


class RateLimiter:
    """Sliding-window limiter per key, in process memory (a limit, not data)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = {}

    def check(self, key: str, what: str) -> None:
        now = time.monotonic()
        q = self.hits.setdefault(key, deque())
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            raise TooManyRequests(f"too many {what}; wait a minute and try again")
        q.append(now)
        if len(self.hits) > 10_000:
            self.hits = {k: v for k, v in self.hits.items() if v and now - v[-1] < 60}


def limiter(ctx: AppContext, name: str, per_minute: int) -> RateLimiter:
    key = f"limiter:{name}"
    lim = ctx.extras.get(key)
    if lim is None:
        lim = ctx.extras[key] = RateLimiter(per_minute)
    assert isinstance(lim, RateLimiter)
    return lim


async def user_halls(session: AsyncSession, user: User) -> frozenset[int] | None:
    if user.all_halls:
        return None
    rows = await session.execute(select(UserHall.hall_id).where(UserHall.user_id == user.id))
    return frozenset(int(r[0]) for r in rows)


async def login(
    ctx: AppContext, uow: UnitOfWork, username: str, password: str, client: str
) -> tuple[str, User]:
    limiter(ctx, "login", ctx.settings.login_attempts_per_minute).check(
        f"{client}:{username.lower()}", "login attempts"
    )
    s = uow.session
    user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise Unauthorized("wrong username or password (用户名或密码错误)")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password (用户名或密码错误)")
    if not user.active:
        raise Unauthorized("this account has been deactivated; ask the hall administrator")
    token = make_access_token(
        ctx.settings.secret_key, user.id, user.role, ctx.clock.now(), ctx.settings.token_minutes
    )
    return token, user


async def principal_from_token(ctx: AppContext, token: str) -> Principal:
    async with unit_of_work(ctx.db, write=False) as uow:
        s = uow.session
        if token.startswith(DEVICE_TOKEN_PREFIX):
            dev = (
                await s.execute(select(Device).where(Device.token_hash == token_digest(token)))
            ).scalar_one_or_none()
            if dev is None or dev.revoked_at is not None:
                raise Unauthorized("this device token is unknown or revoked; pair the device again")
            ctx.extras.setdefault("device_seen", {})[dev.id] = ctx.clock.now()
            return Principal(
                kind="device",
                id=dev.id,
                name=dev.name,
                hall_ids=frozenset({dev.hall_id}),
                device_kind=DeviceKind(dev.kind),
                device_counter_id=dev.counter_id,
            )
        claims = read_access_token(ctx.settings.secret_key, token, ctx.clock.now())
        if claims is None:
            raise Unauthorized("the login has expired or the token is invalid; log in again")
        user = await s.get(User, int(claims["sub"]))
        if user is None or not user.active:
            raise Unauthorized("this account no longer exists or was deactivated")
        return Principal(
            kind="user",
            id=user.id,
            name=user.username,
            role=Role(user.role),
            hall_ids=await user_halls(s, user),
            must_change_password=user.must_change_password,
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"a password needs at least {MIN_PASSWORD} characters", details={"field": "password"}
        )


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    hall_ids: list[int] | None = None,
    all_halls: bool = False,
    must_change_password: bool = False,
) -> User:
    check_password(password)
    exists = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    if exists is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        all_halls=all_halls,
        must_change_password=must_change_password,
    )
    session.add(user)
    await session.flush()
    for hid in hall_ids or []:
        session.add(UserHall(user_id=user.id, hall_id=hid))
    await session.flush()
    return user


async def create_device(
    session: AsyncSession, hall_id: int, kind: DeviceKind, name: str, counter_id: int | None = None
) -> tuple[str, Device]:
    token = new_device_token()
    dev = Device(
        hall_id=hall_id,
        kind=kind.value,
        name=name,
        token_hash=token_digest(token),
        counter_id=counter_id,
    )
    session.add(dev)
    await session.flush()
    return token, dev
