"""FastAPI glue: the app context, the caller's identity, and the unit of work."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from annotated_types import Interval
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from kiosk_server.auth.principal import Principal
from kiosk_server.auth.service import principal_from_token
from kiosk_server.context import AppContext
from kiosk_server.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="a staff access token or a device token")


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def principal_of(conn: HTTPConnection) -> Principal | None:
    """The caller of this request, resolved once and kept on the request state."""
    if hasattr(conn.state, "principal"):
        cached: Principal | None = conn.state.principal
        return cached
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    who = None
    if scheme.lower() == "bearer" and token.strip():
        who = await principal_from_token(conn.app.state.ctx, token.strip())
    conn.state.principal = who
    return who


async def optional_principal(
    request: Request, _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal | None:
    return await principal_of(request)


async def require_principal(
    who: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if who is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>'")
    return who


Who = Annotated[Principal, Depends(require_principal)]
MaybeWho = Annotated[Principal | None, Depends(optional_principal)]

# Calendar days in query strings: bounded, so that a day at the edge of the
# calendar (0001-01-01, 9999-12-31) is a 422 saying what to send, not an overflow
# turning it into UTC or adding the day after it.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


Day = Annotated[date, Interval(ge=FIRST_DAY, le=LAST_DAY)]


# Database ids in paths: bounded so that a huge number is a 422, not a driver overflow.
DbId = Annotated[int, Path(ge=1, le=2_147_483_647)]
