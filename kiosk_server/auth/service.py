"""Logging in, resolving tokens to principals, managing accounts and devices."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

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
from kiosk_server.clock import Clock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed
from kiosk_server.events.redis_bus import split_channel
from kiosk_server.halls.refusals import refusal

log = logging.getLogger(__name__)

MIN_PASSWORD = 8


class RateLimiter:
    """Sliding-window limiter per key, in process memory (a limit, not data).

    With a shared window (Redis), ``hit`` counts across every process of the
    deployment; ``check`` and any Redis trouble use this process's own count.
    """

    def __init__(self, per_minute: int, shared: SharedWindow | None = None) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = {}
        self.shared = shared

    def check(self, key: str, what: str) -> None:
        now = time.monotonic()
        q = self.hits.setdefault(key, deque())
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            raise _too_many(what)
        q.append(now)
        if len(self.hits) > 10_000:
            self.hits = {k: v for k, v in self.hits.items() if v and now - v[-1] < 60}

    async def hit(self, key: str, what: str) -> None:
        """Count one attempt for ``key``; 429 once over the limit this minute."""
        if self.shared is not None:
            count = await self.shared.count(key)
            if count is not None:
                if count > self.per_minute:
                    raise _too_many(what)
                return
        self.check(key, what)


def _too_many(what: str) -> TooManyRequests:
    return TooManyRequests(f"too many {what}; wait a minute and try again")


class SharedWindow:
    """Fixed one-minute windows counted in Redis (INCR + EXPIRE per key), so every
    worker of ``hallq serve --workers N`` sees the same count.

    Never the reason a request fails: when Redis does not answer within a short
    timeout, ``count`` returns None (the caller falls back to its own process's
    limiter) and Redis is left alone for ``RETRY_SECONDS``, so a dead Redis does
    not add a timeout to every login.
    """

    TIMEOUT_SECONDS = 0.25
    RETRY_SECONDS = 5.0

    def __init__(self, url: str, name: str, clock: Clock) -> None:
        self.url, channel = split_channel(url)
        # The bus's channel names the deployment: several may share one Redis.
        self.prefix = f"{channel}:ratelimit:{name}"
        self.clock = clock
        self._client: aioredis.Redis | None = None
        self._quiet_until = 0.0

    async def count(self, key: str) -> int | None:
        if time.monotonic() < self._quiet_until:
            return None
        # The window comes from the app's clock (wall time; a fixed clock in tests).
        window = int(self.clock.now().timestamp() // 60)
        name = f"{self.prefix}:{key}:{window}"
        try:
            async with asyncio.timeout(self.TIMEOUT_SECONDS * 2):
                pipe = self._redis().pipeline(transaction=True)
                pipe.incr(name)
                pipe.expire(name, 120)  # the window ends in 60 s; keep no key for long
                count, _ = await pipe.execute()
            return int(count)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("rate limit counts in this process only; redis: %s", exc)
            self._quiet_until = time.monotonic() + self.RETRY_SECONDS
            return None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(
                self.url,
                socket_connect_timeout=self.TIMEOUT_SECONDS,
                socket_timeout=self.TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def limiter(ctx: AppContext, name: str, per_minute: int) -> RateLimiter:
    key = f"limiter:{name}"
    lim = ctx.extras.get(key)
    if lim is None:
        shared = None
        if ctx.settings.event_bus_url.startswith(("redis://", "rediss://")):
            shared = SharedWindow(ctx.settings.event_bus_url, name, ctx.clock)
            ctx.extras.setdefault("on_stop", []).append(_closer(shared))
        lim = ctx.extras[key] = RateLimiter(per_minute, shared)
    assert isinstance(lim, RateLimiter)
    return lim


def _closer(shared: SharedWindow) -> Callable[[AppContext], Awaitable[None]]:
    async def close(_: AppContext) -> None:
        await shared.close()

    return close


async def user_halls(session: AsyncSession, user: User) -> frozenset[int] | None:
    if user.all_halls:
        return None
    rows = await session.execute(select(UserHall.hall_id).where(UserHall.user_id == user.id))
    return frozenset(int(r[0]) for r in rows)


async def login(
    ctx: AppContext, uow: UnitOfWork, username: str, password: str, client: str
) -> tuple[str, User]:
    await limiter(ctx, "login", ctx.settings.login_attempts_per_minute).hit(
        f"{client}:{username.lower()}", "login attempts"
    )
    s = uow.session
    user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise _login_failed()
    if not verify_password(user.password_hash, password):
        raise _login_failed()
    if not user.active:
        raise refusal(
            Unauthorized,
            "account_inactive",
            "this account has been deactivated; ask the hall administrator",
            "此账号已停用，请联系大厅管理员",
        )
    token = make_access_token(
        ctx.settings.secret_key, user.id, user.role, ctx.clock.now(), ctx.settings.token_minutes
    )
    return token, user


def _login_failed() -> Unauthorized:
    # The same refusal for an unknown name and a wrong password: no account probing.
    return refusal(Unauthorized, "login_failed", "wrong username or password", "用户名或密码错误")


# Who a token belongs to, kept briefly: every request resolves its caller, and
# a kiosk or a counter asks many times a minute. Any committed change to an
# account, its halls or a device empties this process's cache at once (session
# events below, so no code path can forget to); another process learns of it
# within PRINCIPAL_TTL seconds.
PRINCIPAL_TTL = 5.0
PRINCIPAL_CACHE_MAX = 4096
_AUTH_TABLES = frozenset({"users", "user_halls", "devices"})
_generation = itertools.count()
_current = [next(_generation)]


def forget_principals() -> None:
    """Every cached caller is stale from now on."""
    _current[0] = next(_generation)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context: Any) -> None:
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, (User, UserHall, Device)):
            session.info["auth_changed"] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)  # UPDATE / DELETE name one table
    if (state.is_update or state.is_delete) and getattr(table, "name", None) in _AUTH_TABLES:
        state.session.info["auth_changed"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("auth_changed", False):
        forget_principals()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("auth_changed", None)


def _principals(ctx: AppContext) -> dict[str, tuple[float, int, Principal]]:
    cache: dict[str, tuple[float, int, Principal]] = ctx.extras.setdefault("principals", {})
    return cache


def _remember(ctx: AppContext, key: str, generation: int, who: Principal) -> None:
    cache = _principals(ctx)
    if len(cache) >= PRINCIPAL_CACHE_MAX:
        cache.clear()
    cache[key] = (time.monotonic() + PRINCIPAL_TTL, generation, who)


def _recall(ctx: AppContext, key: str) -> Principal | None:
    hit = _principals(ctx).get(key)
    if hit is None or hit[0] < time.monotonic() or hit[1] != _current[0]:
        return None
    return hit[2]


async def principal_from_token(ctx: AppContext, token: str) -> Principal:
    if token.startswith(DEVICE_TOKEN_PREFIX):
        key = "device:" + token_digest(token)
        who = _recall(ctx, key)
        if who is None:
            # The generation before the read: a change committed meanwhile
            # leaves this entry stale at once.
            generation = _current[0]
            who = await _device_principal(ctx, token)
            _remember(ctx, key, generation, who)
        ctx.extras.setdefault("device_seen", {})[who.id] = ctx.clock.now()
        return who
    # The signature and expiry are checked on every request; only the account's
    # row (active, role, halls) is cached.
    claims = read_access_token(ctx.settings.secret_key, token, ctx.clock.now())
    if claims is None:
        raise Unauthorized("the login has expired or the token is invalid; log in again")
    key = f"user:{int(claims['sub'])}"
    who = _recall(ctx, key)
    if who is None:
        generation = _current[0]
        who = await _user_principal(ctx, int(claims["sub"]))
        _remember(ctx, key, generation, who)
    return who


async def _device_principal(ctx: AppContext, token: str) -> Principal:
    async with unit_of_work(ctx.db, write=False) as uow:
        dev = (
            await uow.session.execute(
                select(Device).where(Device.token_hash == token_digest(token))
            )
        ).scalar_one_or_none()
        if dev is None or dev.revoked_at is not None:
            raise Unauthorized("this device token is unknown or revoked; pair the device again")
        return Principal(
            kind="device",
            id=dev.id,
            name=dev.name,
            hall_ids=frozenset({dev.hall_id}),
            device_kind=DeviceKind(dev.kind),
            device_counter_id=dev.counter_id,
        )


async def _user_principal(ctx: AppContext, user_id: int) -> Principal:
    async with unit_of_work(ctx.db, write=False) as uow:
        user = await uow.session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("this account no longer exists or was deactivated")
        return Principal(
            kind="user",
            id=user.id,
            name=user.username,
            role=Role(user.role),
            hall_ids=await user_halls(uow.session, user),
            must_change_password=user.must_change_password,
        )


def check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise refusal(
            ValidationFailed,
            "password_short",
            f"a password needs at least {MIN_PASSWORD} characters",
            f"密码至少需要 {MIN_PASSWORD} 个字符",
            field=field,
            min_length=MIN_PASSWORD,
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
        raise refusal(
            Conflict,
            "username_taken",
            f"the username {username!r} is taken",
            f"用户名 {username} 已被使用",
            field="username",
            username=username,
        )
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
