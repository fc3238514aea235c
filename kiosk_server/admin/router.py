"""Small endpoints only the admin console needs."""

from __future__ import annotations

import base64
import io

import qrcode
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.auth.principal import Role
from kiosk_server.deps import Who

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class QrIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000, description="e.g. a device's pair_url")


class QrOut(BaseModel):
    data_url: str = Field(description="data:image/png;base64,...")


def qr_png(text: str) -> bytes:
    # Medium error correction: the code is read off a screen by a tablet camera.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=3)
    code.add_data(text)
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image().save(buf)
    return buf.getvalue()


@router.post(
    "/qr",
    response_model=QrOut,
    summary="A QR code image for a pairing link (admin); made here so no token leaves the hall",
)
async def qr(who: Who, body: QrIn) -> QrOut:
    who.require_role(Role.ADMIN)
    png = qr_png(body.text)
    return QrOut(data_url="data:image/png;base64," + base64.b64encode(png).decode("ascii"))
