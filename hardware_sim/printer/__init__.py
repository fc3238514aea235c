"""ESC/POS receipt printer emulator (``hallq sim printer``)."""

from hardware_sim.printer.decoder import (
    DecodedTicket,
    EscPosDecoder,
    PaperFeed,
    PrintedImage,
    PrintedQr,
    PrintedText,
    StatusRequest,
    TicketDone,
    decode,
)
from hardware_sim.printer.emulator import STATES, EmulatedTicket, EmulatorState, PrinterEmulator

__all__ = [
    "STATES",
    "DecodedTicket",
    "EmulatedTicket",
    "EmulatorState",
    "EscPosDecoder",
    "PaperFeed",
    "PrintedImage",
    "PrintedQr",
    "PrintedText",
    "PrinterEmulator",
    "StatusRequest",
    "TicketDone",
    "decode",
]
