from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.auth.principal import DeviceKind, Role


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    expires_in: int
    must_change_password: bool
    display_name: str


class MeOut(BaseModel):
    kind: str
    id: int
    name: str
    display_name: str | None = None
    role: Role | None
    halls: list[str] | None
    device_kind: DeviceKind | None = None
    counter_id: int | None = None
    counter_number: int | None = None  # the counter a keypad or rating pad sits at
    must_change_password: bool = False


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(max_length=200)
    # The minimum length is the server's rule (a refusal naming it), not a malformed body.
    new_password: str = Field(max_length=200)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{2,60}$")
    display_name: str = Field(default="", max_length=60)
    password: str = Field(max_length=200)
    role: Role
    halls: list[str] = Field(default_factory=list)
    all_halls: bool = False


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, max_length=60)
    role: Role | None = None
    halls: list[str] | None = None
    all_halls: bool | None = None
    active: bool | None = None
    reset_password: str | None = Field(default=None, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    must_change_password: bool
    all_halls: bool
    halls: list[str]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DeviceKind
    name: str = Field(min_length=1, max_length=60)
    counter: int | None = Field(
        default=None, ge=1, le=999, description="the counter number a rating pad or keypad sits at"
    )


class DeviceOut(BaseModel):
    id: int
    hall: str
    kind: DeviceKind
    name: str
    counter: int | None
    created_at: datetime
    last_seen_at: datetime | None
    revoked: bool
    status: dict[str, Any]


class DeviceCreated(DeviceOut):
    token: str = Field(description="shown once; store it on the device")
    pair_url: str


class DeviceStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str = Field(
        max_length=40, description="ok, paper_near_end, paper_out, cover_open, offline, unknown …"
    )
    detail: str | None = Field(default=None, max_length=200)
