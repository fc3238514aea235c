"""Serial devices (LED counter screens, caller keypads, rating pads, scanners).

Pure protocol codec and translators plus a reconnecting pyserial link; nothing
here imports FastAPI or the database, so bridges and simulators share it.
See docs/serial-protocol.md.
"""
