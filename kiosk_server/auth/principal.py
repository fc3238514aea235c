"""Who is calling: a user with a role, or a paired device scoped to one hall."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk_server.errors import Forbidden


class Role(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_RANK = {Role.STAFF: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    PRINTER = "printer"
    RATING_PAD = "rating_pad"
    LED_BRIDGE = "led_bridge"
    KEYPAD = "keypad"


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "device"
    id: int
    name: str
    role: Role | None = None
    hall_ids: frozenset[int] | None = None  # None: every hall
    device_kind: DeviceKind | None = None
    device_counter_id: int | None = None
    # A password set or reset by an admin: only /auth/me and /auth/password until changed.
    must_change_password: bool = False

    @property
    def actor(self) -> str:
        return self.name if self.kind == "user" else f"device:{self.id}:{self.name}"

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None

    @property
    def device_id(self) -> int | None:
        return self.id if self.kind == "device" else None

    def has_role(self, minimum: Role) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    def can_see_hall(self, hall_id: int) -> bool:
        return self.hall_ids is None or hall_id in self.hall_ids

    def require_hall(self, hall_id: int) -> None:
        if not self.can_see_hall(hall_id):
            raise Forbidden("this account or device does not belong to that hall")

    def require_role(self, minimum: Role, hall_id: int | None = None) -> None:
        if self.kind != "user" or not self.has_role(minimum):
            raise Forbidden(f"this needs a {minimum.value} account or higher")
        if hall_id is not None:
            self.require_hall(hall_id)

    def require_device(self, *kinds: DeviceKind, hall_id: int | None = None) -> None:
        if self.kind != "device" or self.device_kind not in kinds:
            raise Forbidden(
                "this needs a device token of kind " + " or ".join(k.value for k in kinds)
            )
        if hall_id is not None:
            self.require_hall(hall_id)
