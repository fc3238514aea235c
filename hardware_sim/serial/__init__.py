"""Serial hardware emulators on real pseudo-terminals: counter LED screens,
caller keypads, rating pads (framed, docs/serial-protocol.md) and QR/ID
scanners (lines). Drivers open the pty path exactly as they open /dev/ttyUSB0.
"""
