from __future__ import annotations

from typing import Any

from kiosk_server.audit.models import AuditEntry
from kiosk_server.auth.principal import Principal
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork


def record(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal | None,
    action: str,
    *,
    hall_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit row in the same transaction as the action it describes."""
    uow.session.add(
        AuditEntry(
            at=ctx.clock.now(),
            user_id=who.user_id if who else None,
            actor=who.actor if who else "system",
            hall_id=hall_id,
            action=action,
            target=target,
            detail=detail or {},
        )
    )
